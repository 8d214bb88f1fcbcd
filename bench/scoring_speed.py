"""How many leads per second ``score_lead`` and ``qualify`` handle on one core, with the default rules.

    python bench/scoring_speed.py                 # 200,000 synthetic leads, realistic mix
    python bench/scoring_speed.py --leads 50000 --profile busy

Profiles: ``mixed`` (most leads have little activity, as in a real inbound stream; the figure to quote),
``busy`` (every lead has every kind of activity and a matched customer account: the worst case),
``bare`` (no firmographics, no activity). Leads are generated with a fixed seed before the clock starts;
about 4,500 distinct job titles and thousands of distinct head counts keep the scorer's per-value memo
caches honest, and each run starts them cold. Rates are CPU time of this process (``time.process_time``),
so other load on the machine distorts them less than wall-clock time would.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.config.scoring import ScoringConfig
from connector.models import Account, Activity, Lead
from connector.scoring import qualify, score_lead

DAY_MS = 86_400_000
NOW_MS = 1_800_000_000_000
SENIORITY = ["VP", "Head of", "Director of", "Senior", "Junior", "Chief", "Lead", "", "Intern,"]
FUNCTIONS = ["Sales", "Marketing", "Engineering", "Operations", "Finance", "IT", "Growth", "People", "Data", "Product"]
INDUSTRIES = ["Computer Software", "Retail", "Financial Services", "Manufacturing", "Internet", None]
COUNTRIES = ["US", "GB", "DE", "FR", "IN", "BR", "AU", "SE", None]


def make_lead(rng: random.Random, i: int, profile: str) -> tuple[Lead, Account | None]:
    """One synthetic lead (and sometimes its matched account) of ``profile``."""
    busy = profile == "busy"
    bare = profile == "bare"
    activity = Activity(
        page_views=0 if bare else rng.choice([0, 0, 1, 3, 12]) + busy * 5,
        form_submissions=0 if bare else rng.choice([0, 0, 0, 1]) + busy,
        demo_requests=0 if bare else rng.choice([0] * 9 + [1]) + busy,
        pricing_page_views=0 if bare else rng.choice([0] * 5 + [1, 2]) + busy,
        email_replies=0 if bare else rng.choice([0] * 8 + [1]) + busy,
        last_activity_ms=None if bare else NOW_MS - rng.randrange(0, 60 * DAY_MS),
        last_conversion_ms=NOW_MS - rng.randrange(0, 40 * DAY_MS) if busy or rng.random() < 0.3 else None,
        last_conversion_name=rng.choice(["Demo request", "Ebook", None]),
    )
    lead = Lead(
        id=f"hubspot:contacts:{i}",
        crm="hubspot",
        native_id=str(i),
        object="contacts",
        title=None if bare or rng.random() < 0.1 else f"{rng.choice(SENIORITY)} {rng.choice(FUNCTIONS)} {i % 50}",
        country=None if bare else rng.choice(COUNTRIES),
        employees=None if bare else rng.choice([None, 5, 40, 120, 450, 2500, rng.randrange(1, 20000)]),
        industry=None if bare else rng.choice(INDUSTRIES),
        created_ms=NOW_MS - 90 * DAY_MS,
        activity=activity,
    )
    account = None
    if busy or (not bare and rng.random() < 0.4):
        account = Account(id=f"a{i}", crm="hubspot", native_id=str(i), name="Acme", is_customer=busy or i % 7 == 0)
    return lead, account


def run(leads: int, profile: str, repeat: int) -> None:
    """Print leads/second for score_lead and qualify (best of ``repeat`` runs)."""
    rng = random.Random(42)
    population = [make_lead(rng, i, profile) for i in range(leads)]
    for name, fn in (("score_lead", score_lead), ("qualify", qualify)):
        best = float("inf")
        for _ in range(repeat):
            config = ScoringConfig()  # a fresh config object: every run starts with cold memo caches
            start = time.process_time()
            for lead, account in population:
                fn(lead, account, config, NOW_MS)
            best = min(best, time.process_time() - start)
        rate = f"{leads / best:,.0f} leads/s  ({best / leads * 1e6:.1f} µs each)"
        print(f"{name:<10} profile={profile:<5} leads={leads:,}  {rate}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--profile", choices=["mixed", "busy", "bare", "all"], default="all")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is reported")
    args = parser.parse_args()
    profiles = ["mixed", "busy", "bare"] if args.profile == "all" else [args.profile]
    print(f"python {sys.version.split()[0]}, one core")
    for profile in profiles:
        run(args.leads, profile, args.repeat)


if __name__ == "__main__":
    main()
