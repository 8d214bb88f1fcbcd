"""A stream of realistic inbound leads for the demo and benchmarks: form fills landing in either CRM.

Most inbound leads work at a company the portal already knows (by its domain, sometimes with a company name typed
differently), some use free mail and type their employer, some come from companies nobody has seen. Activity
varies from a single page view to a demo request, so qualification has real choices to make. Deterministic for a
seed; reads the portal's companies from the sandbox's store.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from adapters.sandbox.store import ObjectStore

_FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "gmx.de", "web.de", "proton.me")
_TITLES = (
    "VP Sales", "Head of Revenue Operations", "Sales Operations Manager", "CTO", "Director of Marketing",
    "Account Executive", "Founder & CEO", "IT Manager", "Procurement Specialist", "Marketing Coordinator",
    "Chief Revenue Officer", "Software Engineer", "Student",
)  # fmt: skip
_SOURCES = ("ORGANIC_SEARCH", "PAID_SEARCH", "DIRECT_TRAFFIC", "REFERRALS", "SOCIAL_MEDIA", "EMAIL_MARKETING")
_SF_SOURCES = ("Web", "Paid Search", "Webinar", "Partner Referral", "Trade Show", "Content Download")
_CONVERSIONS = ("Demo request", "Pricing page form", "Whitepaper download", "Contact us", "Free trial signup")
_PRODUCTS = ("core", "analytics", "enterprise-security")
_NEW_COMPANY_WORDS = ("Blue", "Harbor", "Summit", "Quantum", "Lumen", "Cedar", "Vertex", "Nimbus", "Atlas", "Orbit")
_NEW_COMPANY_TAILS = ("Labs", "Systems", "Analytics", "Logistics", "Health", "Robotics", "Foods", "Studio")


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    email: str
    company: str
    country: str | None
    signals: dict[str, Any]


@dataclass(frozen=True)
class InboundLead:
    """One lead to create: which CRM it lands in and the properties the form sends."""

    crm: str  # "hubspot" or "salesforce"
    properties: dict[str, Any]


class InboundStream:
    """Draws inbound leads against the companies in ``store``."""

    def __init__(self, store: ObjectStore, *, seed: int = 2026, salesforce_share: float = 0.35) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not crypto
        self.salesforce_share = salesforce_share
        self.companies = _companies(store)
        self.names = json.loads(resources.files("adapters.sandbox").joinpath("data/names.json").read_text("utf-8"))
        self._count = 0
        self._taken = _emails(store)  # a form for a new person never reuses an address the portal already has

    def next(self, now: datetime | None = None) -> InboundLead:
        """The next inbound lead."""
        self._count += 1
        rng = self.rng
        first, last = self._name()
        company = rng.choice(self.companies) if self.companies and rng.random() < 0.8 else None
        if company is not None and rng.random() < 0.78:
            domain, typed = company["domain"], _typed_name(rng, company["name"])
        elif company is not None:
            domain, typed = rng.choice(_FREE_MAIL), _typed_name(rng, company["name"])
        else:
            word, tail = rng.choice(_NEW_COMPANY_WORDS), rng.choice(_NEW_COMPANY_TAILS)
            typed = f"{word} {tail}"
            domain = f"{word}{tail}{self._count}.io".lower()
        email = self._unique(
            f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 99) if rng.random() < 0.2 else ''}", domain
        )
        country = company["country"] if company else rng.choice(["US", "GB", "DE", "FR", "SG", "BR", "AU", "NL"])
        hot = rng.random()
        signals = {
            "page_views": rng.randint(1, 40),
            "demo": hot < 0.35,
            "conversions": rng.randint(1, 4) if hot < 0.75 else 0,
            "pricing": rng.randint(0, 6),
        }
        moment = now or datetime.now(UTC)
        person = _Person(first, last, email, typed, country, signals)
        if rng.random() < self.salesforce_share:
            return InboundLead("salesforce", _salesforce(rng, person, moment))
        return InboundLead("hubspot", _hubspot(rng, person, moment))

    def _unique(self, local: str, domain: str) -> str:
        email, n = f"{local}@{domain}".lower(), 1
        while email in self._taken:
            n += 1
            email = f"{local}{n}@{domain}".lower()
        self._taken.add(email)
        return email

    def _name(self) -> tuple[str, str]:
        culture = self.rng.choice([k for k in self.names if k != "about"])
        names = self.names[culture]
        return self.rng.choice(names["first"]), self.rng.choice(names["last"])


def _companies(store: ObjectStore) -> list[dict[str, Any]]:
    found = []
    for obj in store.iter_all("hubspot.companies"):
        domain = obj.properties.get("domain")
        if domain and obj.properties.get("name"):
            found.append({"name": obj.properties["name"], "domain": domain, "country": obj.properties.get("country")})
    for obj in store.iter_all("salesforce.Account"):
        website = str(obj.properties.get("Website") or "")
        domain = website.rsplit("//", maxsplit=1)[-1].split("/", maxsplit=1)[0].removeprefix("www.")
        if domain and obj.properties.get("Name"):
            found.append(
                {"name": obj.properties["Name"], "domain": domain, "country": obj.properties.get("BillingCountry")}
            )
    return found


def _emails(store: ObjectStore) -> set[str]:
    found = set()
    for kind, field in (("hubspot.contacts", "email"), ("salesforce.Lead", "Email"), ("salesforce.Contact", "Email")):
        for obj in store.iter_all(kind):
            value = obj.properties.get(field)
            if value:
                found.add(str(value).strip().lower())
    return found


def _typed_name(rng: random.Random, name: str) -> str:
    """How a person types their employer: often exact, sometimes without the legal suffix or in lower case."""
    roll = rng.random()
    if roll < 0.6:
        return name
    if roll < 0.85:
        return name.rsplit(" ", 1)[0] if " " in name else name
    return name.lower()


def _ascii(text: str) -> str:
    return "".join(c for c in text if c.isascii() and c.isalnum()) or "x"


def _iso_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _hubspot(rng: random.Random, p: _Person, now: datetime) -> dict[str, Any]:
    props = {
        "email": p.email,
        "firstname": p.first,
        "lastname": p.last,
        "company": p.company,
        "jobtitle": rng.choice(_TITLES),
        "country": p.country or "",
        "hs_analytics_source": rng.choice(_SOURCES),
        "product_interest": rng.choice(_PRODUCTS),
        "hs_analytics_num_page_views": str(p.signals["page_views"]),
        "num_conversion_events": str(p.signals["conversions"]),
        "pricing_page_views": str(p.signals["pricing"]),
        "demo_requested": "true" if p.signals["demo"] else "false",
        "lifecyclestage": "lead",
    }
    if p.signals["conversions"]:
        props["recent_conversion_event_name"] = "Demo request" if p.signals["demo"] else rng.choice(_CONVERSIONS)
        props["recent_conversion_date"] = _iso_ms(now)
    if rng.random() < 0.6:
        props["phone"] = f"+1 415 555 {rng.randint(1000, 9999)}"
    return props


def _salesforce(rng: random.Random, p: _Person, now: datetime) -> dict[str, Any]:
    props = {
        "FirstName": p.first,
        "LastName": p.last,
        "Email": p.email,
        "Company": p.company,
        "Title": rng.choice(_TITLES),
        "Country": p.country or "",
        "LeadSource": rng.choice(_SF_SOURCES),
        "Status": "Open - Not Contacted",
        "Product_Interest__c": rng.choice(_PRODUCTS),
        "Page_Views__c": p.signals["page_views"],
        "Pricing_Page_Views__c": p.signals["pricing"],
        "Demo_Requested__c": bool(p.signals["demo"]),
    }
    if p.signals["conversions"]:
        props["Last_Conversion__c"] = "Demo request" if p.signals["demo"] else rng.choice(_CONVERSIONS)
        props["Last_Conversion_Date__c"] = now.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    if rng.random() < 0.6:
        props["Phone"] = f"+44 20 7946 {rng.randint(1000, 9999)}"
    return props
