"""Precision and recall of lead-to-account matching on the labelled evaluation set.

    python bench/matching_eval.py [--data tests/matching/data] [--config leadrelay.yaml] [--misses 20]

Prints precision and recall by method, accuracy by case category, and the first misses with their reasons.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from connector.config import load_config
from connector.config.matching import MatchingConfig
from connector.logs import configure
from connector.matching.csvio import read_accounts, read_leads
from connector.matching.evaluation import METHODS, evaluate, read_labels
from connector.matching.explain import describe_match
from connector.matching.index import AccountIndex

GOALS = {"domain": (0.99, None), "name": (0.97, 0.90)}


def main() -> None:
    parser = argparse.ArgumentParser(description="Matching precision/recall on the labelled set.")
    parser.add_argument("--data", type=Path, default=Path("tests/matching/data"))
    parser.add_argument("--config", type=Path, default=None, help="a leadrelay YAML config (its matching section)")
    parser.add_argument("--misses", type=int, default=15, help="how many misses to print with their reasons")
    args = parser.parse_args()
    configure(json=False, level="WARNING")
    config = load_config(args.config).config.matching if args.config else MatchingConfig()

    accounts, _ = read_accounts(args.data / "accounts.csv")
    leads, _ = read_leads(args.data / "leads.csv")
    labels = read_labels(args.data / "labels.csv")
    index = AccountIndex(accounts)
    start = time.perf_counter()
    result = evaluate(index, leads, labels, config)
    seconds = time.perf_counter() - start

    print(f"{len(accounts)} accounts, {len(leads)} labelled leads, matched in {seconds:.2f}s\n")
    print(f"{'method':<8} {'matched':>8} {'precision':>10} {'labelled':>9} {'recall':>8}  goal")
    for method in METHODS:
        goal = GOALS.get(method)
        goal_text = f"P>={goal[0]}" + (f" R>={goal[1]}" if goal and goal[1] else "") if goal else ""
        print(
            f"{method:<8} {result.predicted[method]:>8} {result.precision(method):>10.3f} "
            f"{result.expected[method]:>9} {result.recall(method):>8.3f}  {goal_text}"
        )
    print(
        f"{'none':<8} {result.predicted['none']:>8} {'':>10} {result.expected['none']:>9} "
        f"{result.none_kept_unmatched:>8.3f}  (labelled no-account leads left unmatched)"
    )
    print(f"\nfree-mail domains matched by domain: {result.free_mail_domain_matches} (goal 0)\n")
    print(f"{'category':<36} {'leads':>6} {'right':>7}")
    for category in sorted(result.category_total):
        total, right = result.category_total[category], result.category_right[category]
        print(f"{category:<36} {total:>6} {right / total:>7.3f}")
    if args.misses and result.misses:
        print(f"\nfirst {min(args.misses, len(result.misses))} of {len(result.misses)} misses:")
        for miss in result.misses[: args.misses]:
            print(
                f"\n{miss.lead.id} [{miss.label.category}] email={miss.lead.email} company={miss.lead.company!r} "
                f"country={miss.lead.country} expected={miss.label.account_id}"
            )
            print(describe_match(miss.match))


if __name__ == "__main__":
    main()
