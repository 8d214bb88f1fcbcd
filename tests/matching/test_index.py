import time

from connector.matching import AccountIndex
from connector.matching.names import name_key

from .builders import account


def test_domains_are_normalized_when_indexed():
    index = AccountIndex([account("a", "Acme", "https://www.eu.Acme.com/about", extra_domains=("http://acme.de",))])
    assert [a.id for a in index.accounts_for_domain("acme.com")] == ["a"]
    assert [a.id for a in index.accounts_for_domain("acme.de")] == ["a"]
    assert index.get("a").domain == "acme.com"


def test_country_names_are_normalized_when_indexed():
    index = AccountIndex([account("a", "Acme", country="Deutschland"), account("b", "Bcme", country="Narnia")])
    assert index.get("a").country == "DE"
    assert index.get("b").country is None


def test_update_replaces_and_remove_forgets():
    index = AccountIndex([account("a", "Acme", "acme.com")])
    index.update(account("a", "Globex", "globex.com"))
    assert index.accounts_for_domain("acme.com") == []
    assert index.name_candidates(name_key("Acme"), 10) == []
    assert index.name_candidates(name_key("Globex"), 10) == ["a"]
    index.remove("a")
    index.remove("a")  # twice is fine
    assert len(index) == 0
    assert index.name_candidates(name_key("Globex"), 10) == []
    assert not index.knows_token("globex")


def test_typo_keys_follow_updates():
    index = AccountIndex([account("a", "Northwind Traders")])
    assert index.name_candidates(name_key("Northwnd"), 10) == ["a"]
    index.remove("a")
    assert index.name_candidates(name_key("Northwnd"), 10) == []


def test_candidates_are_capped_and_never_the_whole_book():
    accounts = [account(f"a{i:05d}", f"Brand{i:05d} Group") for i in range(3_000)]
    index = AccountIndex(accounts)
    assert len(index.name_candidates(name_key("Group"), 40)) == 0  # "group" is on every account: no evidence
    assert index.name_candidates(name_key("Brand01234 Group"), 40)[0] == "a01234"
    assert len(index.name_candidates(name_key("Brand01234 Group"), 40)) <= 40


def test_parent_chain_stops_at_missing_parents_and_cycles():
    index = AccountIndex(
        [
            account("child", "C", parent_id="mid"),
            account("mid", "M", parent_id="top"),
            account("top", "T", parent_id="not-in-cache"),
            account("x", "X", parent_id="y"),
            account("y", "Y", parent_id="x"),
        ]
    )
    assert index.ancestors("child") == ["child", "mid", "top"]
    assert index.root_of("x") in {"x", "y"}


def test_build_is_fast_enough_for_a_large_book():
    accounts = [account(f"a{i}", f"Company{i} Analytics Ltd", f"company{i}.com") for i in range(5_000)]
    start = time.perf_counter()
    AccountIndex.build(accounts)
    assert time.perf_counter() - start < 10  # ~0.5 s on a quiet core; bench/matching_speed.py has the real figure
