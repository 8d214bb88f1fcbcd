"""The companies of the generated world: names, domains, hierarchy, size, owner, and which CRM holds them.

The world is built once, in memory (about one company per twenty people), so people can be attached to
it while they stream. Roughly 60% of companies live only in HubSpot, 25% only in Salesforce and 15% in
both (same domain, usually the same name); a subsidiary lives wherever its parent does, so every
``hs_parent_company_id``/``ParentId`` points at a record that exists.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

from adapters.sandbox.gen_deals import DealSpec, draw_deals
from adapters.sandbox.gen_team import Member, Team
from adapters.sandbox.gen_text import fold_ascii, pick, postcode, slug
from adapters.sandbox.gen_vocab import Country, Industry, Vocabulary, Weighted

DAY_MS = 86_400_000
_EUROPE = frozenset(
    ["GB", "IE", "DE", "AT", "CH", "LI", "FR", "BE", "LU", "NL", "ES", "PT", "IT", "SE", "NO", "DK", "FI", "PL"]
)
# Countries whose companies sometimes register their real, accented name as an IDN domain.
_IDN_COUNTRIES = frozenset(["DE", "AT", "CH", "FR", "SE", "NO", "DK", "FI", "ES", "PT", "PL", "TR"])
_NOUN_LANGUAGES = frozenset(["de", "fr", "es", "it", "nl", "pt", "sv"])
_SIZE_BANDS = Weighted.of(
    [((1, 10), 25), ((11, 50), 30), ((51, 200), 20), ((201, 1000), 14), ((1001, 5000), 7), ((5001, 100_000), 4)]
)
_PRESENCE = Weighted.of([("hubspot", 60), ("salesforce", 25), ("both", 15)])
_MAIL_PATTERNS = Weighted.of(
    [
        ("first.last", 55),
        ("flast", 12),
        ("f.last", 7),
        ("first", 5),
        ("firstl", 4),
        ("first_last", 6),
        ("firstlast", 6),
        ("last.first", 5),
    ]
)
_WEBSITES = Weighted.of(
    [
        ("https://www.{}", 45),
        ("http://www.{}", 15),
        ("https://{}", 15),
        ("www.{}", 12),
        ("{}", 8),
        ("https://www.{}/", 4),
        ("https://{}/en/", 1),
    ]
)
_FAMILY_FORMS = {
    "de": ("{} & Partner", "{} & Söhne", "{} {}"),
    "fr": ("{} et Fils", "{} & Associés", "{} {}"),
    "it": ("{} e Figli", "{} & C.", "{} {}"),
    "es": ("{} y Asociados", "{} Hermanos", "{} {}"),
    "pt": ("{} & Filhos", "{} e Associados", "{} {}"),
    "en": ("{} & Associates", "{} & Sons", "{} {}", "{} Brothers"),
}


@dataclass(frozen=True, slots=True)
class Company:
    """One company of the world and how each CRM holds it (``hs_seq``/``sf_seq`` 0 = absent from that CRM)."""

    index: int
    name: str  # as HubSpot holds it
    sf_name: str  # as Salesforce holds it: usually the same, sometimes a variant (suffix, case)
    base: str  # the name without its legal form
    alias: str | None  # what people call it: an acronym (IBM) or a short form
    domain: str
    alias_domains: tuple[str, ...]  # other domains the company itself mails from
    listed_domains: tuple[str, ...]  # hs_additional_domains: alias domains plus some of its subsidiaries'
    website: str
    country: Country
    state: str
    city: str
    zip: str
    industry: Industry
    employees: int
    revenue: int | None
    parent: int | None
    owner: Member | None
    sf_owner: Member
    stage: str  # customer, opportunity or lead
    deals: tuple[DealSpec, ...]
    mail_pattern: str
    mail_namespace: int  # the company whose email addresses share this domain (a subsidiary may use its parent's)
    created_ms: int
    presence: str
    hs_seq: int = 0
    sf_seq: int = 0

    @property
    def segment(self) -> str:
        """SMB (<100 people), MidMarket (<1000) or Enterprise."""
        return segment_of(self.employees)

    @property
    def open_deals(self) -> int:
        """How many of its deals are still open."""
        return sum(deal.is_open for deal in self.deals)


def segment_of(employees: int) -> str:
    """The sales segment a company of this size belongs to."""
    if employees < 100:
        return "SMB"
    return "MidMarket" if employees < 1000 else "Enterprise"


class WorldBuilder:
    """Draws the companies of one world from one random stream (same stream → same world)."""

    def __init__(self, rng: random.Random, vocab: Vocabulary, team: Team, start_ms: int) -> None:
        self.rng = rng
        self.vocab = vocab
        self.team = team
        self.start_ms = start_ms
        self._domains: set[str] = set()
        self._names: set[str] = set()
        self._companies: list[Company] = []

    def build(self, count: int) -> list[Company]:
        """``count`` companies, parents right before their subsidiaries, with CRM sequence numbers assigned."""
        while len(self._companies) < count:
            room = count - len(self._companies) - 1
            children = min(room, 1 + int(self.rng.random() * 3)) if self.rng.random() < 0.07 else 0
            self._add_family(children)
        return _assign_sequences(self._companies)

    # -- one family: a root company and its subsidiaries ------------------------------------------
    def _add_family(self, children: int) -> None:
        rng = self.rng
        country = self.vocab.country_picker.pick(rng)
        presence = _PRESENCE.pick(rng)
        base, alias = self._base_name(country)
        employees = _draw_employees(rng, at_least=500 if children else 1)
        root = self._company(
            base=base,
            alias=alias,
            country=country,
            employees=employees,
            parent=None,
            presence=presence,
            domain=self._root_domain(base, alias, country),
        )
        self._companies.append(root)
        borrowed: list[str] = []
        for _ in range(children):
            child = self._subsidiary(root)
            self._companies.append(child)
            if child.domain != root.domain and rng.random() < 0.35:
                borrowed.append(child.domain)
        if borrowed:  # the parent lists some subsidiaries' domains as its own: the classic hierarchy collision
            self._companies[root.index] = dataclasses.replace(
                root, listed_domains=root.listed_domains + tuple(borrowed)
            )

    def _subsidiary(self, parent: Company) -> Company:
        rng = self.rng
        country = parent.country
        while country.code == parent.country.code:
            country = self.vocab.country_picker.pick(rng)
        regions = self.vocab.regions.get(country.code) or (
            self.vocab.regions["EU"] if country.code in _EUROPE else (country.name,)
        )
        region = pick(rng, regions)
        base = f"{parent.base} {region}"
        employees = max(5, min(parent.employees // 3, _draw_employees(rng, at_least=20)))
        domain, namespace = self._child_domain(parent, base, country)
        child = self._company(
            base=base,
            alias=None,
            country=country,
            employees=employees,
            parent=parent.index,
            presence=parent.presence,
            domain=domain,
        )
        return dataclasses.replace(child, mail_namespace=namespace if namespace is not None else child.index)

    def _company(
        self,
        *,
        base: str,
        alias: str | None,
        country: Country,
        employees: int,
        parent: int | None,
        presence: str,
        domain: str,
    ) -> Company:
        rng = self.rng
        index = len(self._companies)
        city = pick(rng, country.cities)
        industry = self.vocab.industries.pick(rng) if parent is None else self._companies[parent].industry
        name = self._legal_name(base, country, force=parent is not None)
        owner = self._owner(country.code, city.region, employees)
        stage = _draw_stage(rng, employees, owner is not None)
        created_ms = self.start_ms - int((30 + rng.random() * 870) * DAY_MS)
        aliases = self._alias_domains(domain, country) if rng.random() < 0.12 else ()
        return Company(
            index=index,
            name=name,
            sf_name=_variant_name(rng, name, base, alias) if presence == "both" and rng.random() < 0.3 else name,
            base=base,
            alias=alias,
            domain=domain,
            alias_domains=aliases,
            listed_domains=aliases,
            website=_WEBSITES.pick(rng).format(_displayed_domain(rng, domain)),
            country=country,
            state=city.region,
            city=city.name,
            zip=postcode(rng, country.zip_format, city.zip_prefix),
            industry=industry,
            employees=employees,
            revenue=None if rng.random() < 0.1 else _revenue(rng, employees),
            parent=parent,
            owner=owner,
            sf_owner=self._sf_owner(owner, country.code, city.region, presence),
            stage=stage,
            deals=draw_deals(rng, stage, segment_of(employees), self.start_ms, created_ms),
            mail_pattern=_mail_pattern(rng, employees),
            mail_namespace=index,
            created_ms=created_ms,
            presence=presence,
        )

    # -- names -----------------------------------------------------------------------------------------
    def _base_name(self, country: Country) -> tuple[str, str | None]:
        """A company name without legal form, and an alias (acronym) when people shorten it."""
        rng, vocab = self.rng, self.vocab
        for _ in range(50):
            culture = country.cultures.pick(rng)
            # Local-language nouns only where the country speaks that language (no "Hoteles" in Ohio).
            language = culture if culture in _NOUN_LANGUAGES and country.language != "en" else "en"
            industry_noun = vocab.industries.pick(rng).noun(rng, language)
            roll = rng.random()
            alias = None
            if roll < 0.32:
                base = f"{pick(rng, vocab.stems)} {industry_noun}"
            elif roll < 0.55:
                brand = (pick(rng, vocab.syllables_head) + pick(rng, vocab.syllables_tail)).capitalize()
                base = brand if rng.random() < 0.5 else f"{brand} {industry_noun}"
            elif roll < 0.76:
                base = self._family_name(culture, industry_noun)
            elif roll < 0.88:
                base = pick(rng, vocab.stems)
            elif roll < 0.95:
                base = f"{pick(rng, vocab.stems)} {pick(rng, ('Group', 'Holdings', 'Partners', 'Collective'))}"
            else:
                base, alias = self._acronym_name()
            if base.lower() not in self._names:
                self._names.add(base.lower())
                return base, alias
        base = f"{base} {country.cities[0].name}"  # a crowded world: qualify by city, as real companies do
        self._names.add(base.lower())
        return base, alias

    def _family_name(self, culture: str, noun: str) -> str:
        rng = self.rng
        pool = self.vocab.names[culture].last
        forms = _FAMILY_FORMS.get(culture, _FAMILY_FORMS["en"])
        form = pick(rng, forms)
        if form == "{} {}":
            return f"{pick(rng, pool)} {noun}"
        if form.count("{}") == 2:
            return form.format(pick(rng, pool), pick(rng, pool))
        if rng.random() < 0.3:
            return f"{pick(rng, pool)} & {pick(rng, pool)}"
        return form.format(pick(rng, pool))

    def _acronym_name(self) -> tuple[str, str]:
        words = self.vocab.acronym_words
        parts = [pick(self.rng, words["lead"]), pick(self.rng, words["middle"]), pick(self.rng, words["tail"])]
        return " ".join(parts), "".join(part[0] for part in parts)

    def _legal_name(self, base: str, country: Country, *, force: bool) -> str:
        rng = self.rng
        if not force and rng.random() < 0.25:
            return base
        suffix = pick(rng, country.suffixes)
        if suffix.endswith(" "):  # a prefix form, e.g. Indonesian "PT "
            return suffix + base
        if country.code == "US" and suffix.startswith("Inc") and rng.random() < 0.3:
            return f"{base}, {suffix}"
        return f"{base} {suffix}"

    # -- domains ---------------------------------------------------------------------------------------
    def _tld(self, country: Country) -> str:
        roll = self.rng.random()
        if country.code == "US":
            return "com" if roll < 0.85 else pick(self.rng, country.tlds[1:])
        if roll < 0.55:
            return country.tlds[0]
        return "com" if roll < 0.9 else pick(self.rng, country.tlds)

    def _claim(self, domain: str) -> bool:
        if domain in self._domains:
            return False
        self._domains.add(domain)
        return True

    def _root_domain(self, base: str, alias: str | None, country: Country) -> str:
        rng = self.rng
        tld = self._tld(country)
        labels = [slug(alias)] if alias else []
        if country.code in _IDN_COUNTRIES and fold_ascii(base) != base and rng.random() < 0.35:
            labels.append(slug(base, sep="-", keep_unicode=True))
        labels += [slug(base), slug(base, sep="-"), slug(base.split(maxsplit=1)[0])]
        labels = [label for label in labels if label]
        for label in labels:
            if self._claim(f"{label}.{tld}"):
                return f"{label}.{tld}"
        label = labels[0]
        for extra in ("group", "hq", "-" + slug(country.cities[0].name), "global"):
            if self._claim(f"{label}{extra}.{tld}"):
                return f"{label}{extra}.{tld}"
        number = 2
        while not self._claim(f"{label}{number}.{tld}"):
            number += 1
        return f"{label}{number}.{tld}"

    def _child_domain(self, parent: Company, base: str, country: Country) -> tuple[str, int | None]:
        """A subsidiary's domain and, when it shares the parent's, the parent as its email namespace."""
        roll = self.rng.random()
        label, _, _ = parent.domain.partition(".")
        if roll < 0.35 and self._claim(f"{label}.{country.tlds[0]}"):
            return f"{label}.{country.tlds[0]}", None
        region = "eu" if country.code in _EUROPE and self.rng.random() < 0.5 else country.code.lower()
        if roll < 0.65 and self._claim(f"{region}.{parent.domain}"):
            return f"{region}.{parent.domain}", None
        if roll < 0.8:
            return parent.domain, parent.mail_namespace
        return self._root_domain(base, None, country), None

    def _alias_domains(self, domain: str, country: Country) -> tuple[str, ...]:
        label = domain.partition(".")[0]
        options = [f"{label}.io", f"{label}hq.com", f"get{label}.com", f"{label}.{country.tlds[0]}", f"{label}.net"]
        wanted = 1 + int(self.rng.random() * 2)
        return tuple(option for option in self.rng.sample(options, wanted) if option != domain and self._claim(option))

    # -- owners ----------------------------------------------------------------------------------------
    def _owner(self, country: str, state: str, employees: int) -> Member | None:
        """An AE whose territory covers the company (segment-matched when possible); some have none."""
        candidates = self.team.covering(country, state, "AE")
        if not candidates or self.rng.random() < 0.1:
            return None
        matched = [rep for rep in candidates if rep.segment == segment_of(employees)] or list(candidates)
        return pick(self.rng, matched)

    def _sf_owner(self, owner: Member | None, country: str, state: str, presence: str) -> Member:
        """Salesforce's owner: the same AE, except where the two CRMs disagree (the owner ping-pong)."""
        candidates = self.team.covering(country, state, "AE")
        if presence == "both" and candidates and self.rng.random() < 0.08:
            return pick(self.rng, candidates)
        return owner or self.team.integration_user


def _assign_sequences(companies: list[Company]) -> list[Company]:
    """Number companies per CRM in list order: the n-th seeded record of a kind gets the store's n-th id."""
    hs = sf = 0
    numbered = []
    for company in companies:
        hs_seq = sf_seq = 0
        if company.presence in ("hubspot", "both"):
            hs += 1
            hs_seq = hs
        if company.presence in ("salesforce", "both"):
            sf += 1
            sf_seq = sf
        numbered.append(dataclasses.replace(company, hs_seq=hs_seq, sf_seq=sf_seq))
    return numbered


def _draw_employees(rng: random.Random, *, at_least: int = 1) -> int:
    """Employee count with a realistic skew: most companies are small, a few are huge (log-uniform in a band)."""
    low, high = _SIZE_BANDS.pick(rng)
    low, high = max(low, at_least), max(high, at_least)
    return int(math.exp(math.log(low) + rng.random() * (math.log(high + 1) - math.log(low))))


def _revenue(rng: random.Random, employees: int) -> int:
    per_head = 60_000 + rng.random() * 290_000
    return int(employees * per_head / 10_000) * 10_000 or 50_000


def _draw_stage(rng: random.Random, employees: int, owned: bool) -> str:
    if not owned:
        return "lead"
    roll = rng.random()
    customer = 0.16 if employees < 100 else 0.3
    if roll < customer:
        return "customer"
    return "opportunity" if roll < customer + 0.14 else "lead"


def _mail_pattern(rng: random.Random, employees: int) -> str:
    pattern = _MAIL_PATTERNS.pick(rng)
    return "first.last" if pattern == "first" and employees > 50 else pattern


def _displayed_domain(rng: random.Random, domain: str) -> str:
    """How a website field shows the domain: IDN domains are often stored in punycode."""
    if not domain.isascii() and rng.random() < 0.4:
        return domain.encode("idna").decode("ascii")
    return domain


def _variant_name(rng: random.Random, name: str, base: str, alias: str | None) -> str:
    """The same company as the other CRM's users typed it (an acronym company by its acronym, mostly)."""
    roll = rng.random()
    if alias and roll < 0.7:
        return name.replace(base, alias)
    if roll < 0.4:
        return base
    if roll < 0.6:
        return name.upper()
    if roll < 0.8:
        return name.replace(".", "")
    return base if base.startswith("The ") else f"The {base}"


def employer_picker(companies: list[Company]) -> Weighted[Company]:
    """Companies weighted by how many people of theirs a CRM typically holds (grows slowly with size)."""
    return Weighted.of([(company, company.employees**0.35) for company in companies])
