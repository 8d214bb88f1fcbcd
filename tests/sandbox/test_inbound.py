"""The inbound lead stream behind the demo and benchmarks: realistic, deterministic, never a duplicate address."""

from datetime import UTC, datetime

from adapters.sandbox.generate import iter_seed
from adapters.sandbox.ids import store_id_factory
from adapters.sandbox.inbound import InboundStream
from adapters.sandbox.seed import load_seed
from adapters.sandbox.store import ObjectStore


def _portal() -> ObjectStore:
    store = ObjectStore()
    store.set_id_factory(None, store_id_factory)
    load_seed(store, iter_seed(contacts=300, seed=5))
    return store


def _email(lead):
    return (lead.properties.get("email") or lead.properties.get("Email")).lower()


def test_two_thousand_form_fills_never_reuse_an_address_the_portal_or_the_stream_has():
    store = _portal()
    existing = {
        str(o.properties.get(f)).lower()
        for kind, f in (("hubspot.contacts", "email"), ("salesforce.Lead", "Email"), ("salesforce.Contact", "Email"))
        for o in store.iter_all(kind)
        if o.properties.get(f)
    }
    stream = InboundStream(store, seed=1)
    emails = [_email(stream.next()) for _ in range(2000)]
    assert len(set(emails)) == len(emails)
    assert not set(emails) & existing


def test_the_stream_is_deterministic_and_lands_in_both_crms():
    store, at = _portal(), datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
    a, b = InboundStream(store, seed=9), InboundStream(store, seed=9)
    leads = [a.next(at) for _ in range(200)]
    assert leads == [b.next(at) for _ in range(200)]
    assert {lead.crm for lead in leads} == {"hubspot", "salesforce"}
