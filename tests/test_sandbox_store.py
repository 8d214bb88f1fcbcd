from adapters.sandbox.clock import Clock
from adapters.sandbox.store import ObjectStore, prop_sql


def test_create_update_archive_round_trip():
    store = ObjectStore()
    obj = store.create("hubspot.contacts", {"email": "a@b.com"})
    assert store.get("hubspot.contacts", obj.id).properties == {"email": "a@b.com"}
    updated = store.update("hubspot.contacts", obj.id, {"firstname": "Ann", "email": None})
    assert updated.properties == {"firstname": "Ann"}
    assert updated.updated_ms >= obj.updated_ms
    store.archive("hubspot.contacts", obj.id)
    assert store.get("hubspot.contacts", obj.id) is None
    assert store.get("hubspot.contacts", obj.id, include_archived=True).archived


def test_frozen_clock_gives_ties_and_select_filters_by_property():
    clock = Clock()
    clock.freeze(1_700_000_000_000)
    store = ObjectStore(clock=clock)
    for i in range(5):
        store.create("k", {"n": i})
    rows = store.select("k", where=f"{prop_sql('n')} >= ?", params=(3,))
    assert [r.properties["n"] for r in rows] == [3, 4]
    assert {r.updated_ms for r in rows} == {1_700_000_000_000}


def test_property_names_cannot_inject_sql():
    import pytest

    with pytest.raises(ValueError):
        prop_sql("x') OR 1=1 --")
