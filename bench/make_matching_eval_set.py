"""Generate the labelled lead/account evaluation set under tests/matching/data/ (run once; the CSVs are committed).

    python bench/make_matching_eval_set.py [--seed 7] [--out tests/matching/data]

The set is built to be hard in the ways real CRMs are: subsidiaries with country domains, companies that share a
brand root but are different businesses ("Acme Logistics" / "Acme Analytics" / "Acmeo"), legal forms from 15
countries, accents, typos, acronyms, free-mail and disposable leads, and leads from companies that are not accounts.
Each lead is labelled with the account a careful human would pick (under the default parent policy,
route_to_matching_child) or none, the method that should find it, and a category for per-case reporting.
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

COUNTRIES = {
    # code: (TLD, legal forms, subsidiary word, free-mail domain commonly used there)
    "US": ("com", ["Inc", "Inc.", "Corp", "Corporation", "LLC", "Co."], "USA", "gmail.com"),
    "GB": ("co.uk", ["Ltd", "Limited", "PLC", "Ltd."], "UK", "yahoo.co.uk"),
    "DE": ("de", ["GmbH", "AG", "GmbH & Co. KG", "SE"], "Deutschland", "web.de"),
    "FR": ("fr", ["SA", "SAS", "SARL", "S.A."], "France", "orange.fr"),
    "ES": ("es", ["S.L.", "S.A.", "SL"], "España", "hotmail.es"),
    "IT": ("it", ["S.p.A.", "S.r.l.", "SpA"], "Italia", "libero.it"),
    "NL": ("nl", ["B.V.", "N.V.", "BV"], "Nederland", "ziggo.nl"),
    "JP": ("co.jp", ["K.K.", "Co., Ltd."], "Japan", "yahoo.co.jp"),
    "BR": ("com.br", ["Ltda", "Ltda.", "S.A."], "Brasil", "bol.com.br"),
    "SE": ("se", ["AB"], "Sverige", "telia.com"),
    "DK": ("dk", ["A/S", "ApS"], "Danmark", "hotmail.dk"),
    "PL": ("pl", ["Sp. z o.o.", "S.A."], "Polska", "wp.pl"),
    "AU": ("com.au", ["Pty Ltd", "Pty. Ltd."], "Australia", "bigpond.com"),
    "CH": ("ch", ["AG", "GmbH", "SA"], "Schweiz", "bluewin.ch"),
    "CA": ("ca", ["Inc.", "Ltd."], "Canada", "outlook.com"),
}
COUNTRY_WEIGHTS = {"US": 30, "GB": 10, "DE": 10, "FR": 7, "ES": 4, "IT": 4, "NL": 4, "JP": 4, "BR": 4}
COUNTRY_WEIGHTS |= {"SE": 3, "DK": 2, "PL": 3, "AU": 4, "CH": 3, "CA": 4}
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "gmx.de", "proton.me"]
DISPOSABLE = ["mailinator.com", "10minutemail.com", "guerrillamail.com", "yopmail.com", "trashmail.com"]

STARTS = "Vel Zen Nor Tal Quor Bri Cal Dra Fen Gal Hal Jor Kel Lum Mar Ner Ori Pax Ryn Sol Tor Ulv Vor Wex Xan "
STARTS += "Yor Zel Ast Bel Cor Del Eld Fal Gry Hex Ion Kin Lyr Mon Nyx Obr Pel Qua Rho Sar Tre Umb Ves Wyn"
MIDDLES = ["to", "ra", "li", "ve", "no", "ma", "ri", "sa", "", "", "", "de", "qu", "ba"]
ENDS = ["rix", "tek", "ona", "ium", "ex", "ara", "ion", "ent", "ico", "ado", "era", "is", "ly", "go", "va", "on", "ar"]
WORD_BRANDS = [
    "Northwind",
    "Bluefin",
    "Ironclad",
    "Silverline",
    "Brightpath",
    "Cobalt",
    "Redwood",
    "Summit",
    "Keystone",
    "Lighthouse",
    "Evergreen",
    "Sunbeam",
    "Blackstone",
    "Greenfield",
    "Harbor",
    "Pinnacle",
    "Meridian",
    "Horizon",
    "Cascade",
    "Falcon",
    "Granite",
    "Juniper",
    "Maple",
    "Orchid",
    "Sapphire",
    "Thunderbird",
    "Wildflower",
    "Crescent",
    "Beacon",
    "Compass",
    "Driftwood",
    "Emberly",
    "Foxglove",
    "Glacier",
    "Hawthorne",
    "Inkwell",
    "Lantern",
    "Marigold",
    "Nightingale",
    "Oakridge",
    "Pebblestone",
    "Quillon",
    "Riverbend",
    "Saltmarsh",
    "Timberline",
    "Upland",
    "Willowbrook",
    "Yellowtail",
]
SURNAMES = [
    "Miller",
    "Hoffmann",
    "Dubois",
    "Rossi",
    "García",
    "Nakamura",
    "Kowalski",
    "Novak",
    "Andersson",
    "O'Brien",
    "Müller",
    "Schröder",
    "Lefèvre",
    "Brandão",
    "Jørgensen",
    "Sørensen",
    "Fernández",
    "Martínez",
    "Yamamoto",
    "Tanaka",
    "Wójcik",
    "Lindqvist",
    "Bianchi",
    "Moreau",
    "Fischer",
    "Weber",
    "Schneider",
    "Peterson",
    "Whitaker",
    "Okafor",
    "Haddad",
    "Kapoor",
    "Chen",
    "Nguyen",
    "Larsen",
    "Van",
    "Dijk",
    "De",
    "Vries",
    "Laurent",
    "Costa",
    "Silva",
    "Pereira",
]
SECTORS = [
    "Analytics",
    "Logistics",
    "Software",
    "Labs",
    "Robotics",
    "Capital",
    "Health",
    "Foods",
    "Energy",
    "Pharma",
    "Media",
    "Security",
    "Networks",
    "Biotech",
    "Consulting",
    "Design",
    "Motors",
    "Insurance",
    "Realty",
    "Aerospace",
    "Textiles",
    "Apparel",
    "Payments",
    "Learning",
    "Logic",
    "Dynamics",
    "Studios",
    "Engineering",
    "Retail",
    "Marine",
    "Medical",
    "Ventures",
    "Brewing",
    "Farms",
    "Mining",
    "Chemicals",
    "Optics",
    "Semiconductors",
    "Games",
]
GENERIC_TAILS = ["Group", "Holdings", "International", "Global", "Solutions", "Technologies", "Systems", "Partners"]
LOCAL_PATTERNS = {
    "DE": ["{s} Maschinenbau", "{b} Technik", "{s} & Söhne", "{b} Logistik"],
    "FR": ["Société {b}", "{b} Conseil", "Groupe {s}", "{s} et Fils"],
    "ES": ["Grupo {b}", "{b} Ingeniería", "{s} y Asociados"],
    "IT": ["{s} Costruzioni", "{b} Meccanica", "Fratelli {s}"],
    "JP": ["{b} Shoji", "{b} Seisakusho", "{s} Denki"],
    "BR": ["Construtora {b}", "{b} Alimentos", "{s} Comércio"],
    "PL": ["{b} Łódź", "{s} Budownictwo"],
    "SE": ["{b} Ørsted Energi", "{s} Bygg"],
    "DK": ["{s} Ørsted Energi", "{b} Søfart"],
    "NL": ["{s} Bouw", "{b} Handel"],
}
ACRONYM_WORDS = [
    "Atlantic",
    "Pacific",
    "Continental",
    "Advanced",
    "Applied",
    "Integrated",
    "United",
    "General",
    "Consolidated",
    "National",
    "Federal",
    "Precision",
    "Quantum",
    "Strategic",
    "Digital",
    "Industrial",
    "Standard",
    "Allied",
    "Premier",
    "Universal",
    "Coastal",
    "Northern",
    "Southern",
]
ACRONYM_NOUNS = [
    "Business",
    "Bio",
    "Data",
    "Materials",
    "Machines",
    "Research",
    "Power",
    "Steel",
    "Freight",
    "Water",
    "Cable",
    "Chemical",
    "Micro",
]
ACRONYM_ENDS = [
    "Machines",
    "Systems",
    "Corporation",
    "Industries",
    "Devices",
    "Dynamics",
    "Instruments",
    "Resources",
    "Airlines",
    "Electric",
]


@dataclass
class Account:
    id: str
    name: str
    domain: str
    country: str
    extra_domains: list[str] = field(default_factory=list)
    parent_id: str = ""
    root: str = ""  # the brand root, to build distractors and typos


@dataclass
class Lead:
    id: str
    email: str
    company: str
    country: str
    expected: str  # account id, or "" for none
    method: str  # domain | name | none
    category: str


class World:
    """Accumulates accounts and leads with unique ids, names and domains."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.accounts: list[Account] = []
        self.leads: list[Lead] = []
        self.names: set[str] = set()  # slugs of names without legal form: two accounts never share one
        self.domains: set[str] = set()
        self.brands: set[str] = set()

    def brand(self) -> str:
        """A fresh invented or word brand root, never used before."""
        while True:
            if self.rng.random() < 0.65:
                word = self.rng.choice(STARTS.split()) + self.rng.choice(MIDDLES) + self.rng.choice(ENDS)
            else:
                word = self.rng.choice(WORD_BRANDS) + self.rng.choice(["", "", "", " " + self.rng.choice(SECTORS)])
            if word.split()[0].lower() not in self.brands and len(word) >= 6:
                self.brands.add(word.split()[0].lower())
                return word

    def country(self) -> str:
        codes = list(COUNTRY_WEIGHTS)
        return self.rng.choices(codes, weights=[COUNTRY_WEIGHTS[c] for c in codes])[0]

    def taken(self, name: str) -> bool:
        """True when an account with this name (legal form, case, accents and punctuation aside) exists."""
        return slug(cleaned_brand(name).replace(" and ", " ")) in self.names

    def add_account(self, name: str, country: str, root: str, domain: str | None = None, parent: str = "") -> Account:
        assert not self.taken(name), name
        domain = domain or self.fresh_domain(root, country)
        account = Account(f"acc-{len(self.accounts) + 1:05d}", name, domain, country, parent_id=parent, root=root)
        self.accounts.append(account)
        self.names.add(slug(cleaned_brand(name).replace(" and ", " ")))
        self.domains.add(domain)
        return account

    def fresh_domain(self, root: str, country: str) -> str:
        base = slug(root)
        tld = COUNTRIES[country][0] if self.rng.random() < 0.6 else "com"
        for suffix in ["", "-group", "hq", "-inc", "online", "-global", "corp", "world"]:
            candidate = f"{base}{suffix}.{tld}"
            if candidate not in self.domains:
                return candidate
        raise RuntimeError(f"no free domain for {root}")

    def add_lead(self, email: str, company: str, country: str, expected: str, method: str, category: str) -> None:
        lead_id = f"lead-{len(self.leads) + 1:05d}"
        self.leads.append(Lead(lead_id, email, company, country, expected, method, category))

    def person(self) -> str:
        first = self.rng.choice(["jane", "li", "omar", "sofia", "max", "aiko", "pierre", "ana", "raj", "eva", "tom"])
        last = slug(self.rng.choice(SURNAMES))
        return self.rng.choice([f"{first}.{last}", f"{first[0]}{last}", first, f"{first}_{last}"])


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().replace("ø", "o").replace("ł", "l"))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def legal(world: World, country: str) -> str:
    return world.rng.choice(COUNTRIES[country][1])


def company_name(world: World, country: str) -> tuple[str, str]:
    """(full legal name, brand root) in one of several realistic shapes."""
    rng = world.rng
    shape = rng.random()
    if country in LOCAL_PATTERNS and shape < 0.3:
        root = world.brand()
        surname = rng.choice(SURNAMES)
        base = rng.choice(LOCAL_PATTERNS[country]).format(b=root, s=surname)
        root = base
    elif shape < 0.55:
        root = world.brand()
        base = f"{root} {rng.choice(SECTORS)}" if " " not in root else root
    elif shape < 0.7:
        root = world.brand()
        base = f"{root} {rng.choice(GENERIC_TAILS)}"
    elif shape < 0.8:
        first, second = rng.sample(SURNAMES, 2)
        root = f"{first} {rng.choice(['&', 'and'])} {second}"
        base = root
    else:
        root = world.brand()
        base = root
    return f"{base} {legal(world, country)}", root


# -- the accounts ---------------------------------------------------------------------------------------------------


def build_accounts(world: World, targets: int) -> list[Account]:
    made = []
    while len(made) < targets:
        country = world.country()
        name, root = company_name(world, country)
        if world.taken(name):
            continue
        made.append(world.add_account(name, country, root))
    return made


def add_subsidiaries(world: World, parents: list[Account]) -> list[tuple[Account, Account, bool]]:
    """Children in other countries; some list the parent's domain too. Returns (parent, child, shares_domain)."""
    out = []
    for parent in parents:
        for country in world.rng.sample([c for c in COUNTRIES if c != parent.country], 2):
            base = cleaned_brand(parent.name)
            name = f"{base} {COUNTRIES[country][2]} {legal(world, country)}"
            domain = f"{slug(base)}.{COUNTRIES[country][0]}"
            if domain in world.domains or world.taken(name):
                continue
            child = world.add_account(name, country, parent.root, domain=domain, parent=parent.id)
            shares = world.rng.random() < 0.5
            if shares:
                child.extra_domains.append(parent.domain)
            out.append((parent, child, shares))
    return out


LEGAL_FORMS = sorted({form for country in COUNTRIES.values() for form in country[1]}, key=len, reverse=True)


def cleaned_brand(name: str) -> str:
    """The name without its legal form, as a person would type it (longest form first: "Pty Ltd" before "Ltd")."""
    for form in LEGAL_FORMS:
        if name.endswith(" " + form):
            return name[: -len(form) - 1]
    return name


def add_distractors(world: World, targets: list[Account]) -> dict[str, list[Account]]:
    """Different companies that look like a target: same root + other sector, root + a letter, root inside."""
    out: dict[str, list[Account]] = {}
    for target in targets:
        root = target.root.split()[0]
        if len(root) < 5 or "&" in target.root:
            continue
        options = [
            f"{root} {world.rng.choice(SECTORS)}",
            f"{root}{world.rng.choice(['o', 'ia', 'ly', 'ix', 'um'])}",
            f"{world.rng.choice(['Neo', 'Uni', 'Pro', 'Blue'])}{root.lower()}",
            f"{root} {' '.join(world.rng.sample(SECTORS, 2))}",
        ]
        for base in world.rng.sample(options, world.rng.choice([1, 2, 2, 3])):
            country = world.country()
            name = f"{base} {legal(world, country)}"
            if world.taken(name):
                continue
            out.setdefault(target.id, []).append(world.add_account(name, country, base, domain=None))
    return out


def add_acronym_accounts(world: World, count: int) -> list[tuple[Account, str]]:
    out: list[tuple[Account, str]] = []
    used: set[str] = set()
    while len(out) < count:
        words = [world.rng.choice(ACRONYM_WORDS), world.rng.choice(ACRONYM_NOUNS), world.rng.choice(ACRONYM_ENDS)]
        acronym = "".join(w[0] for w in words)
        if acronym in used or len(set(words)) < 3 or world.taken(" ".join(words)):
            continue
        used.add(acronym)
        country = world.country()
        name = " ".join(words) + " " + legal(world, country)
        account = world.add_account(name, country, " ".join(words), domain=f"{acronym.lower()}corp.com")
        out.append((account, acronym))
    return out


# -- the leads ------------------------------------------------------------------------------------------------------


def typed_variant(world: World, account: Account) -> str:
    """How a person types their employer: legal form dropped or changed, case changed, punctuation varied."""
    rng = world.rng
    base = cleaned_brand(account.name)
    choice = rng.random()
    if choice < 0.3:
        return base
    if choice < 0.45:
        return base.upper() if len(base) < 25 else base.lower()
    if choice < 0.6:
        return f"{base}, {legal(world, account.country)}"
    if choice < 0.7:
        return base.lower()
    if choice < 0.8:
        return base.replace("&", "and") if "&" in base else base.replace(" and ", " & ")
    if choice < 0.9:
        return strip_accents(base)
    return account.name


def strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def typo(world: World, text: str) -> str | None:
    """One realistic typo in the longest word (≥ 7 letters): a dropped, doubled, swapped or wrong letter."""
    words = text.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 7 or not word.isalpha():
        return None
    i = world.rng.randrange(2, len(word) - 1)
    kind = world.rng.choice(["drop", "double", "swap", "wrong"])
    if kind == "drop":
        word = word[:i] + word[i + 1 :]
    elif kind == "double":
        word = word[:i] + word[i] + word[i:]
    elif kind == "swap":
        word = word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    else:
        word = word[:i] + world.rng.choice("aeioustrn".replace(word[i].lower(), "")) + word[i + 1 :]
    words[longest] = word
    return " ".join(words)


def domain_leads(world: World, accounts: list[Account], count: int) -> None:
    for account in world.rng.sample(accounts, count):
        host = account.domain
        category = "domain_exact"
        if world.rng.random() < 0.2:
            host = f"{world.rng.choice(['eu', 'mail', 'us', 'sales', 'corp'])}.{account.domain}"
            category = "domain_subdomain"
        company = typed_variant(world, account) if world.rng.random() < 0.6 else ""
        country = account.country if world.rng.random() < 0.5 else ""
        world.add_lead(f"{world.person()}@{host}", company, country, account.id, "domain", category)


def country_variant_leads(world: World, accounts: list[Account], count: int) -> None:
    """Accounts that list a country domain too: leads there match; leads at an unlisted TLD do not by domain."""
    for account in world.rng.sample(accounts, count):
        label = account.domain.split(".")[0]
        listed = f"{label}.{COUNTRIES['GB'][0]}" if not account.domain.endswith(".co.uk") else f"{label}.de"
        if listed in world.domains:
            continue
        account.extra_domains.append(listed)
        world.domains.add(listed)
        world.add_lead(f"{world.person()}@{listed}", "", "", account.id, "domain", "domain_extra_listed")
        unlisted = f"{label}.fr" if not account.domain.endswith(".fr") else f"{label}.it"
        if unlisted in world.domains:
            continue
        world.add_lead(f"{world.person()}@{unlisted}", "", "", "", "none", "domain_unlisted_tld")


def subsidiary_leads(world: World, links: list[tuple[Account, Account, bool]]) -> None:
    for parent in {p.id: p for p, _, _ in links}.values():
        # no country evidence: the parent itself, even when children list its domain too
        world.add_lead(f"{world.person()}@{parent.domain}", "", "", parent.id, "domain", "subsidiary_parent_domain")
    for parent, child, shares in links:
        world.add_lead(f"{world.person()}@{child.domain}", "", "", child.id, "domain", "subsidiary_own_domain")
        if shares:
            # route_to_matching_child: a lead at the shared domain goes to the child in its country
            email = f"{world.person()}@{parent.domain}"
            world.add_lead(email, "", child.country, child.id, "domain", "subsidiary_shared_domain_country")


def name_leads(world: World, accounts: list[Account], count: int, typo_count: int) -> None:
    for account in world.rng.sample(accounts, count):
        free = world.rng.choice([*FREE_MAIL, COUNTRIES[account.country][3]])
        country = account.country if world.rng.random() < 0.5 else ""
        world.add_lead(
            f"{world.person()}@{free}", typed_variant(world, account), country, account.id, "name", "name_variant"
        )
    made = 0
    for account in world.rng.sample(accounts, len(accounts)):
        if made >= typo_count:
            break
        typed = typo(world, cleaned_brand(account.name))
        if typed is None:
            continue
        made += 1
        free = world.rng.choice(FREE_MAIL)
        world.add_lead(f"{world.person()}@{free}", typed, "", account.id, "name", "name_typo")


def distractor_leads(world: World, distractors: dict[str, list[Account]], count: int) -> None:
    """Leads from the look-alike companies themselves: they must reach the look-alike, never the target."""
    pool = [d for group in distractors.values() for d in group]
    for account in world.rng.sample(pool, min(count, len(pool))):
        email = f"{world.person()}@{world.rng.choice(FREE_MAIL)}"
        world.add_lead(email, cleaned_brand(account.name), "", account.id, "name", "name_lookalike_account")


def acronym_leads(world: World, acronyms: list[tuple[Account, str]]) -> None:
    for account, acronym in acronyms:
        email = f"{world.person()}@{world.rng.choice(FREE_MAIL)}"
        world.add_lead(email, acronym, "", account.id, "name", "name_acronym")


def unknown_company_leads(world: World, targets: list[Account], count: int) -> None:
    """Companies that are not accounts: brand roots of accounts with a new sector, and wholly new companies."""
    made = 0
    while made < count:
        if world.rng.random() < 0.6:
            target = world.rng.choice(targets)
            root = target.root.split()[0]
            name = f"{root} {world.rng.choice(SECTORS)}"
            if len(root) < 5 or world.taken(name) or overlaps_an_account(world, name):
                continue
            category = "none_shares_root"
        else:
            name, _root = company_name(world, world.country())
            name = cleaned_brand(name)
            category = "none_new_company"
            if world.taken(name):
                continue
        corporate = world.rng.random() < 0.6
        domain = f"{slug(name)}.com" if corporate else world.rng.choice(FREE_MAIL)
        if corporate and domain in world.domains:
            continue
        world.add_lead(f"{world.person()}@{domain}", name, "", "", "none", category)
        made += 1


def overlaps_an_account(world: World, name: str) -> bool:
    """True when every word of the name is in an account's name or the reverse ("Acme Optics" / "Acme Labs Optics").

    A careful human would not call such a lead "no account" with confidence either, so the set leaves them out.
    """
    words = set(slug_words(name))
    for account in world.accounts:
        other = set(slug_words(cleaned_brand(account.name)))
        if words <= other or other <= words:
            return True
    return False


def slug_words(text: str) -> list[str]:
    return [slug(w).rstrip("s") for w in text.split() if slug(w)]


def short_brand_leads(world: World, unique_count: int, shared_count: int) -> None:
    """People often type only the brand ("Toyota" for "Toyota Motor Corporation").

    When exactly one account's name starts with that brand, that account is the answer; when two unrelated accounts
    do ("Veltorix Logistics", "Veltorix Analytics"), a careful human would not pick one, so the label is none.
    """
    by_brand: dict[str, list[Account]] = {}
    for account in world.accounts:
        words = cleaned_brand(account.name).split()
        if words and words[0].isalpha() and len(words[0]) >= 5:
            by_brand.setdefault(words[0], []).append(account)
    unique, shared = [], []
    for brand, accounts in sorted(by_brand.items()):
        if world.taken(brand) or any(brand.lower() in slug_words(a.name)[1:] for a in world.accounts):
            continue
        if len(accounts) == 1 and len(cleaned_brand(accounts[0].name).split()) >= 2:
            unique.append((brand, accounts[0]))
        elif len({a.parent_id or a.id for a in accounts}) >= 2 and _distinct_second_words(accounts):
            shared.append(brand)
    for brand, account in world.rng.sample(unique, min(unique_count, len(unique))):
        typed = world.rng.choice([brand, brand.upper(), brand.lower()])
        world.add_lead(
            f"{world.person()}@{world.rng.choice(FREE_MAIL)}", typed, "", account.id, "name", "name_short_brand"
        )
    for brand in world.rng.sample(shared, min(shared_count, len(shared))):
        world.add_lead(
            f"{world.person()}@{world.rng.choice(FREE_MAIL)}", brand, "", "", "none", "none_short_brand_shared"
        )


def _distinct_second_words(accounts: list[Account]) -> bool:
    """Accounts that differ after the brand ("Xanrais Games" / "Xanrais Partners"), not re-spelt duplicates."""
    seconds = [tuple(slug_words(cleaned_brand(a.name))[1:2]) for a in accounts]
    return all(seconds) and len(set(seconds)) == len(seconds)


def free_mail_only_leads(world: World, count: int) -> None:
    for i in range(count):
        company = world.rng.choice(["", "N/A", "-", "none", "Self-employed", "student", "Freelance", "unknown"])
        domain = world.rng.choice(FREE_MAIL + DISPOSABLE) if i % 3 else world.rng.choice(DISPOSABLE)
        world.add_lead(f"{world.person()}@{domain}", company, "", "", "none", "free_mail_no_company")


def free_mail_account_leads(world: World, count: int) -> None:
    """Small businesses whose CRM 'website' is a free-mail domain: leads there must never match by domain."""
    for domain in FREE_MAIL[:count]:
        country = world.country()
        name, root = company_name(world, country)
        if world.taken(name):
            continue
        world.add_account(name, country, root, domain=domain)
        for _ in range(3):
            world.add_lead(f"{world.person()}@{domain}", "", "", "", "none", "free_mail_domain_on_account")


def disposable_name_leads(world: World, accounts: list[Account], count: int) -> None:
    for account in world.rng.sample(accounts, count):
        email = f"{world.person()}@{world.rng.choice(DISPOSABLE)}"
        world.add_lead(email, cleaned_brand(account.name), "", account.id, "name", "name_disposable_email")


# -- output ---------------------------------------------------------------------------------------------------------


def website(world: World, domain: str) -> str:
    """How the domain cell looks in exports: bare, with www, or a full URL."""
    return world.rng.choice([domain, domain, f"www.{domain}", f"https://www.{domain}/", f"http://{domain}"])


def write(world: World, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "accounts.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "domain", "extra_domains", "country", "parent_id"])
        for a in world.accounts:
            writer.writerow([a.id, a.name, website(world, a.domain), ";".join(a.extra_domains), a.country, a.parent_id])
    with (out / "leads.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "email", "company", "country"])
        for lead in world.leads:
            writer.writerow([lead.id, lead.email, lead.company, lead.country])
    with (out / "labels.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["lead_id", "account_id", "method", "category"])
        for lead in world.leads:
            writer.writerow([lead.id, lead.expected, lead.method, lead.category])


def generate(seed: int) -> World:
    world = World(seed)
    targets = build_accounts(world, 520)
    acronyms = add_acronym_accounts(world, 30)
    links = add_subsidiaries(world, world.rng.sample(targets, 40))
    distractors = add_distractors(world, world.rng.sample(targets, 260))
    free_mail_account_leads(world, 3)
    plain = [t for t in targets if not any(c.parent_id == t.id for _, c, _ in links)]
    domain_leads(world, plain, 230)
    country_variant_leads(world, world.rng.sample(plain, 60), 40)
    subsidiary_leads(world, links)
    name_leads(world, plain, 200, 80)
    distractor_leads(world, distractors, 80)
    acronym_leads(world, acronyms)
    disposable_name_leads(world, plain, 20)
    unknown_company_leads(world, targets, 160)
    free_mail_only_leads(world, 40)
    short_brand_leads(world, 40, 20)
    return world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("tests/matching/data"))
    args = parser.parse_args()
    world = generate(args.seed)
    write(world, args.out)
    print(f"{len(world.accounts)} accounts, {len(world.leads)} leads written to {args.out}")


if __name__ == "__main__":
    main()
