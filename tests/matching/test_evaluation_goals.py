"""The published precision/recall goals, asserted on the committed labelled set (regressions fail CI)."""

from pathlib import Path

import pytest

from connector.matching.csvio import read_accounts, read_leads
from connector.matching.evaluation import evaluate, read_labels
from connector.matching.index import AccountIndex

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def result():
    accounts, account_problems = read_accounts(DATA / "accounts.csv")
    leads, lead_problems = read_leads(DATA / "leads.csv")
    assert not account_problems and not lead_problems
    return evaluate(AccountIndex(accounts), leads, read_labels(DATA / "labels.csv"))


def test_the_set_is_big_and_varied_enough(result):
    assert sum(result.expected.values()) >= 500
    assert result.expected["domain"] >= 200 and result.expected["name"] >= 200 and result.expected["none"] >= 150
    hard_cases = (
        "name_typo",
        "name_acronym",
        "name_lookalike_account",
        "name_short_brand",
        "none_shares_root",
        "none_short_brand_shared",
        "free_mail_no_company",
        "subsidiary_shared_domain_country",
    )
    for category in hard_cases:
        assert result.category_total[category] >= 20


def test_domain_matches_are_precise(result):
    assert result.precision("domain") >= 0.99


def test_name_matches_are_precise_and_find_most_accounts(result):
    assert result.precision("name") >= 0.97
    assert result.recall("name") >= 0.90


def test_free_mail_domains_are_never_matched_by_domain(result):
    assert result.free_mail_domain_matches == 0
    assert result.category_right["free_mail_domain_on_account"] == result.category_total["free_mail_domain_on_account"]


def test_leads_without_an_account_mostly_stay_unmatched(result):
    assert result.none_kept_unmatched >= 0.95
