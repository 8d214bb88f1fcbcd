"""Matching speed: index build time and matches per second on one core.

    python bench/matching_speed.py [--accounts 50000] [--leads 100000] [--seed 1]

Accounts get realistic shapes (brand + sector + legal form, 15 countries, subsidiaries with their own domains).
Leads are a mix like real inbound traffic: 55% corporate email (two thirds at an account's domain or a subdomain
of it, the rest at unknown companies), 35% free-mail with a typed company (exact, re-cased, legal form changed,
one typo, or a company that is not an account), 10% free-mail with nothing typed. Name matching runs for every
lead whose domain does not decide, so the name figure is the one to watch.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter

from connector.config.matching import MatchingConfig
from connector.logs import configure
from connector.matching import AccountIndex, match_account
from connector.models import Account, Lead
from connector.normalize import email, optional, registered_domain

STARTS = "vel zen nor tal quor bri cal dra fen gal hal jor kel lum mar ner ori pax ryn sol tor ulv vor wex xan yor"
STARTS += " zel ast bel cor del eld fal gry hex ion kin lyr mon nyx obr pel qua rho sar tre umb ves wyn"
MIDDLES = ["to", "ra", "li", "ve", "no", "ma", "ri", "sa", "", "de", "qu", "ba", "ke", "lo"]
ENDS = ["rix", "tek", "ona", "ium", "ex", "ara", "ion", "ent", "ico", "ado", "era", "is", "ly", "go", "va", "on"]
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
    "Payments",
    "Learning",
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
    "Games",
    "Group",
    "Holdings",
    "International",
    "Solutions",
    "Technologies",
    "Systems",
    "Partners",
    "Global",
]
LEGAL = ["Inc", "Inc.", "Corp", "LLC", "Ltd", "Limited", "PLC", "GmbH", "AG", "SA", "SAS", "S.L.", "B.V.", "AB", ""]
TLDS = ["com", "com", "com", "co.uk", "de", "fr", "es", "it", "nl", "co.jp", "com.br", "se", "pl", "com.au", "ch"]
COUNTRIES = ["US", "US", "US", "GB", "DE", "FR", "ES", "IT", "NL", "JP", "BR", "SE", "PL", "AU", "CH"]
FREE = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "gmx.de", "yahoo.co.uk", "proton.me"]


def brand(rng: random.Random) -> str:
    return (rng.choice(STARTS.split()) + rng.choice(MIDDLES) + rng.choice(ENDS)).capitalize()


def make_accounts(count: int, rng: random.Random) -> list[Account]:
    accounts: list[Account] = []
    seen: set[str] = set()
    while len(accounts) < count:
        root = brand(rng) + ("" if rng.random() < 0.3 else " " + rng.choice(SECTORS))
        if root in seen:
            root = f"{root} {rng.choice(SECTORS)}"
            if root in seen:
                continue
        seen.add(root)
        i = len(accounts)
        slot = rng.randrange(len(TLDS))
        parent = accounts[rng.randrange(i)].id if i and rng.random() < 0.08 else None
        accounts.append(
            Account(
                id=f"hubspot:companies:{i}",
                crm="hubspot",
                native_id=str(i),
                name=f"{root} {rng.choice(LEGAL)}".strip(),
                domain=f"{root.lower().replace(' ', '')}{i}.{TLDS[slot]}",
                country=COUNTRIES[slot],
                parent_id=parent,
                is_customer=rng.random() < 0.2,
                contact_count=rng.randrange(50),
            )
        )
    return accounts


def typed_company(account: Account, rng: random.Random) -> str:
    base = account.name.rsplit(" ", 1)[0] if account.name.split()[-1] in LEGAL else account.name
    choice = rng.random()
    if choice < 0.3:
        return base
    if choice < 0.5:
        return base.upper()
    if choice < 0.7:
        return f"{base} {rng.choice(LEGAL)}"
    words = base.split()
    word = words[0]
    if len(word) >= 7:
        i = rng.randrange(2, len(word) - 1)
        words[0] = word[:i] + word[i + 1 :]
    return " ".join(words)


def make_leads(count: int, accounts: list[Account], rng: random.Random) -> list[Lead]:
    leads = []
    for i in range(count):
        account = rng.choice(accounts)
        roll = rng.random()
        company: str | None = None
        if roll < 0.37:
            prefix = rng.choice(["", "", "", "eu.", "mail."])
            address = f"user{i}@{prefix}{account.domain}"
            company = typed_company(account, rng) if rng.random() < 0.5 else None
        elif roll < 0.55:
            address = f"user{i}@{brand(rng).lower()}{i}.com"
            company = f"{brand(rng)} {rng.choice(SECTORS)}"
        elif roll < 0.90:
            address = f"user{i}@{rng.choice(FREE)}"
            company = typed_company(account, rng) if rng.random() < 0.75 else f"{brand(rng)} {rng.choice(SECTORS)}"
        else:
            address = f"user{i}@{rng.choice(FREE)}"
        normalized = email(address)
        leads.append(
            Lead(
                id=f"hubspot:contacts:{i}",
                crm="hubspot",
                native_id=str(i),
                object="contacts",
                email=normalized,
                email_domain=optional(registered_domain, normalized),
                company=company,
                country=account.country if rng.random() < 0.4 else None,
            )
        )
    return leads


def main() -> None:
    parser = argparse.ArgumentParser(description="Matching speed on one core.")
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    configure(json=False, level="WARNING")
    rng = random.Random(args.seed)
    accounts = make_accounts(args.accounts, rng)
    cpu = time.process_time()
    leads = make_leads(args.leads, accounts, rng)  # normalizes each email and its registered domain once
    print(f"making leads, incl. email + domain normalization: {args.leads:,} in {time.process_time() - cpu:.2f} s CPU")
    config = MatchingConfig()

    wall, cpu = time.perf_counter(), time.process_time()
    index = AccountIndex(accounts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"index build: {len(index):,} accounts in {cpu:.2f} s CPU ({wall:.2f} s wall)")

    methods: Counter[str] = Counter()
    name_cpu, name_leads = 0.0, 0
    wall, cpu = time.perf_counter(), time.process_time()
    for lead in leads:
        began = time.process_time()
        match = match_account(lead, index, None, config)
        methods[match.method] += 1
        if match.method in ("name", "none") and lead.company:  # the domain did not decide: names were scored
            name_cpu += time.process_time() - began
            name_leads += 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # CPU time is the one-core figure: on a shared machine wall time also counts other processes' turns.
    print(f"matching: {len(leads):,} leads in {cpu:.2f} s CPU = {len(leads) / cpu:,.0f} matches/s on one core")
    print(f"  (wall {wall:.2f} s = {len(leads) / wall:,.0f} matches/s on this machine right now)")
    print(f"  by method: {dict(sorted(methods.items()))}")
    if name_cpu:
        print(f"  leads that needed fuzzy name matching: {name_leads:,}, {name_leads / name_cpu:,.0f} matches/s")


if __name__ == "__main__":
    main()
