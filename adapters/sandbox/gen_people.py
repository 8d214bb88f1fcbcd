"""People of the generated world, drawn one at a time (constant memory): employees of the world's companies
and free-mail leads, with who owns them in each CRM and the activity that lead scoring reads.

About 72% work at a company (address at its domain, sometimes a subdomain or alias domain); the rest
write from gmail.com, gmx.de, yahoo.co.uk and the like. Like companies, ~60% are only in HubSpot, ~25%
only in Salesforce and ~15% in both with the same address.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from adapters.sandbox.gen_companies import Company, employer_picker
from adapters.sandbox.gen_deals import PRODUCTS
from adapters.sandbox.gen_email import CompanyMail, FreeMail
from adapters.sandbox.gen_team import Member, Team
from adapters.sandbox.gen_text import pick, postcode
from adapters.sandbox.gen_vocab import City, Country, Vocabulary, Weighted

DAY_MS = 86_400_000
HISTORY_MS = 730 * DAY_MS  # people arrive over the two years before the start date
_PRESENCE = Weighted.of([("hubspot", 60), ("salesforce", 25), ("both", 15)])
# Employees mostly live where their company does; overall the mix stays near 60/25/15.
_PRESENCE_AT = {
    "hubspot": Weighted.of([("hubspot", 85), ("salesforce", 10), ("both", 5)]),
    "salesforce": Weighted.of([("hubspot", 15), ("salesforce", 75), ("both", 10)]),
    "both": Weighted.of([("hubspot", 30), ("salesforce", 30), ("both", 40)]),
}
_SENIORITY = Weighted.of([("exec", 8), ("vp", 10), ("director", 15), ("manager", 30), ("staff", 37)])
_INTERESTS = Weighted.of(
    [(("core",), 40), (("analytics",), 15), (("core", "analytics"), 20), (("enterprise-security",), 10), (PRODUCTS, 15)]
)


@dataclass(frozen=True, slots=True)
class Activity:
    """What a person did on the website and with sales: the signals lead scoring weighs."""

    page_views: int
    visits: int
    pricing_views: int
    conversions: int
    first_event: str | None
    recent_event: str | None
    recent_conversion_ms: int | None
    last_visit_ms: int | None
    demo_requested: bool
    last_contacted_ms: int | None


@dataclass(frozen=True, slots=True)
class Person:
    """One human and how the CRMs see them. ``company`` is None for free-mail leads."""

    index: int
    first: str
    last: str
    culture: str
    email: str
    company: Company | None
    country: Country
    city: City
    zip: str
    seniority: str
    title: str
    language: str
    presence: str  # hubspot, salesforce or both
    sf_kind: str | None  # Contact or Lead when in Salesforce
    associated: bool  # HubSpot associated the contact with its company
    created_ms: int
    activity: Activity
    products: tuple[str, ...]
    hs_owner: Member | None
    sf_lead_owner: str  # Salesforce id of the lead's owner: a User or a queue (Group)

    @property
    def in_hubspot(self) -> bool:
        """The person is a HubSpot contact."""
        return self.presence != "salesforce"

    @property
    def in_salesforce(self) -> bool:
        """The person is a Salesforce Contact or Lead."""
        return self.presence != "hubspot"

    @property
    def employees(self) -> int | None:
        """Size of the employer, when known."""
        return self.company.employees if self.company else None


class PeopleGenerator:
    """Draws the ``i``-th person of a world of ``total``; call in order (one random stream)."""

    def __init__(
        self,
        rng: random.Random,
        vocab: Vocabulary,
        team: Team,
        companies: list[Company],
        *,
        start_ms: int,
        total: int,
    ) -> None:
        self.rng = rng
        self.vocab = vocab
        self.team = team
        self.companies = companies
        self.start_ms = start_ms
        self.total = max(1, total)
        self._employers = employer_picker(companies) if companies else None
        self._company_mail = CompanyMail(vocab, len(companies))
        self._free_mail = FreeMail()
        # keyed with the region too: there is a Portland in Maine and one in Oregon
        self._cities = {(c.code, city.name, city.region): city for c in vocab.countries.values() for city in c.cities}

    def person(self, index: int) -> Person:
        """The next person (``index`` counts from 0 and decides the creation date)."""
        rng = self.rng
        if self._employers is not None and rng.random() < 0.72:
            employer = self._employers.pick(rng)
            identity = self._employee_identity(employer)
            company: Company | None = employer
        else:
            company = None
            identity = self._free_mail_identity()
        culture, first, last, email, country = identity
        city = (
            pick(rng, country.cities) if company is None or country is not company.country else self._city_of(company)
        )
        seniority = _SENIORITY.pick(rng)
        presence = (_PRESENCE_AT[company.presence] if company is not None else _PRESENCE).pick(rng)
        created = self._created_ms(index)
        activity = self._activity(created)
        return Person(
            index=index,
            first=first,
            last=last,
            culture=culture,
            email=email,
            company=company,
            country=country,
            city=city,
            zip=company.zip
            if company and country is company.country
            else postcode(rng, country.zip_format, city.zip_prefix),
            seniority=seniority,
            title=self._title(seniority, country),
            language=country.language if rng.random() < 0.9 else "en",
            presence=presence,
            sf_kind=self._sf_kind(company, presence),
            associated=company is not None and company.hs_seq > 0 and rng.random() < 0.92,
            created_ms=created,
            activity=activity,
            products=_INTERESTS.pick(rng),
            hs_owner=self._hubspot_owner(company, country, city, activity),
            sf_lead_owner=self._lead_owner(country, city),
        )

    # -- identity --------------------------------------------------------------------------------------
    def _employee_identity(self, company: Company) -> tuple[str, str, str, str, Country]:
        rng = self.rng
        home = self.companies[company.mail_namespace]  # a subsidiary on its parent's domain shares its mailboxes
        culture, first, last, local = self._company_mail.employee(rng, home.index, home.country, home.mail_pattern)
        domain = company.domain
        roll = rng.random()
        if roll < 0.04:
            domain = f"mail.{company.domain}"
        elif roll < 0.09 and company.alias_domains:
            domain = pick(rng, company.alias_domains)
        elif not domain.isascii() and roll < 0.4:
            domain = domain.encode("idna").decode("ascii")
        country = company.country if rng.random() < 0.95 else self.vocab.country_picker.pick(rng)
        return culture, first, last, f"{local}@{domain}", country

    def _free_mail_identity(self) -> tuple[str, str, str, str, Country]:
        rng = self.rng
        country = self.vocab.country_picker.pick(rng)
        culture = country.cultures.pick(rng)
        pool = self.vocab.names[culture]
        first, last = pick(rng, pool.first), pick(rng, pool.last)
        providers = self.vocab.free_mail.get(country.code) if rng.random() < 0.6 else None
        domain = pick(rng, providers or self.vocab.free_mail["*"])
        return culture, first, last, self._free_mail.address(rng, domain, first, last), country

    def _city_of(self, company: Company) -> City:
        return self._cities[(company.country.code, company.city, company.state)]

    def _title(self, seniority: str, country: Country) -> str:
        """A job title, in the country's language now and then (English is what most CRMs hold)."""
        titles = self.vocab.titles[seniority]
        local = titles.get(country.language[:2])
        return pick(self.rng, local if local and self.rng.random() < 0.3 else titles["en"])

    def _sf_kind(self, company: Company | None, presence: str) -> str | None:
        if presence == "hubspot":
            return None
        if company is not None and company.sf_seq and self.rng.random() < 0.65:
            return "Contact"
        return "Lead"

    # -- time and activity -----------------------------------------------------------------------------
    def _created_ms(self, index: int) -> int:
        """Creation dates rise with the index and bunch up towards the present, as a growing portal's do."""
        share = math.sqrt((index + self.rng.random()) / self.total)
        return self.start_ms - HISTORY_MS + int(share * (HISTORY_MS - 60_000))

    def _activity(self, created: int) -> Activity:
        """Signals that move together, as they do: engaged people view more pages, convert, ask for demos, recently."""
        rng = self.rng
        events = self.vocab.conversion_events
        engagement = rng.expovariate(1.0)  # mean 1, a long tail of very engaged people
        page_views = int(rng.expovariate(1 / (6 * engagement + 0.5)))
        converted = rng.random() > 0.5 / (1 + engagement)
        conversions = 1 + int(rng.expovariate(1 / (0.3 + 0.5 * engagement))) if converted else 0
        demo = converted and rng.random() < min(0.5, 0.06 * (1 + engagement))
        recent = ("Demo request" if demo else pick(rng, events)) if converted else None
        span = max(1, self.start_ms - created)
        recency = 1 - rng.random() ** (1 + engagement)  # near 1 = lately
        last_visit = created + int(recency * span) if page_views else None
        recent_ms = created + int(recency * span * (0.8 + 0.2 * rng.random())) if converted else None
        return Activity(
            page_views=page_views,
            visits=max(1, page_views // 3) if page_views else 0,
            pricing_views=1 + int(rng.random() * 3 * (1 + engagement)) if rng.random() < 0.1 * (1 + engagement) else 0,
            conversions=conversions,
            first_event=(recent if conversions == 1 else pick(rng, events)) if converted else None,
            recent_event=recent,
            recent_conversion_ms=recent_ms,
            last_visit_ms=last_visit,
            demo_requested=demo,
            last_contacted_ms=created + int(rng.random() * span) if rng.random() < 0.4 else None,
        )

    # -- owners ----------------------------------------------------------------------------------------
    def _hubspot_owner(
        self, company: Company | None, country: Country, city: City, activity: Activity
    ) -> Member | None:
        """The company's AE (or a CSM) for people at customers and opportunities; else an SDR, or nobody yet."""
        rng = self.rng
        if company is not None and company.owner is not None and company.stage != "lead":
            csms = self.team.covering(company.country.code, company.state, "CSM")
            if company.stage == "customer" and csms and rng.random() < 0.25:
                return pick(rng, csms)
            if rng.random() < 0.75:
                return company.owner
        if rng.random() < (0.6 if activity.demo_requested else 0.45):
            sdrs = self.team.covering(country.code, city.region, "SDR")
            return pick(rng, sdrs) if sdrs else None
        return None

    def _lead_owner(self, country: Country, city: City) -> str:
        """A Salesforce lead's owner: an SDR, the unassigned queue, the nurture queue or the integration user."""
        roll = self.rng.random()
        if roll < 0.5:
            sdrs = self.team.covering(country.code, city.region, "SDR")
            if sdrs:
                return pick(self.rng, sdrs).user_id
        if roll < 0.85:
            return self.team.queue("fallback").group_id
        if roll < 0.95:
            return self.team.queue("nurture").group_id
        return self.team.integration_user.user_id


def employee_band(employees: int | None) -> str | None:
    """HubSpot's ``numemployees`` options for a company size."""
    if employees is None:
        return None
    for upper, band in ((5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"), (500, "100-500"), (1000, "500-1000")):
        if employees <= upper:
            return band
    return "1000+"
