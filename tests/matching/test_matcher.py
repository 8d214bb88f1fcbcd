import pytest

from connector.config.matching import MatchingConfig
from connector.matching import PersonMatch, describe_match, match_account

from .builders import account, index_of, lead

ACME = account("acme", "Acme Corp", "acme.com", country="US", owner_key="ann@us.example")
ACME_DE = account("acme-de", "Acme GmbH", "acme.de", extra_domains=("acme.com",), country="DE", parent_id="acme")
ACME_ANALYTICS = account("acme-analytics", "Acme Analytics Inc", "acmeanalytics.io", country="US")
ACMEO = account("acmeo", "Acmeo SAS", "acmeo.fr", country="FR")
IBM = account("ibm", "International Business Machines Corp", "ibm.com", country="US")
GLOBEX_UK = account("globex-uk", "Globex Ltd", "globex.co.uk", extra_domains=("globex.com",), country="GB")
INITECH = account("initech", "Initech", "initech.com", country="US")


@pytest.fixture
def index():
    return index_of(ACME, ACME_DE, ACME_ANALYTICS, ACMEO, IBM, GLOBEX_UK, INITECH)


# -- method order ---------------------------------------------------------------------------------------------------


def test_existing_person_wins_over_domain_and_keeps_their_owner(index):
    people = {"jane@acme.com": PersonMatch("salesforce:Contact:003A", "initech", "bob@example.org")}
    match = match_account(lead("jane@acme.com", "Acme"), index, people.get)
    assert (match.account_id, match.method, match.confidence) == ("initech", "email", 1.0)
    assert match.owner_key == "bob@example.org"
    assert "continuity" in match.reasons[-1]


def test_existing_person_at_a_subsidiary_rolls_up_under_roll_up_policy(index):
    people = {"jane@gmail.com": PersonMatch("salesforce:Contact:003B", "acme-de", "rep@example.org")}
    config = MatchingConfig(parent_policy="roll_up_to_parent")
    match = match_account(lead("jane@gmail.com"), index, people.get, config)
    assert (match.account_id, match.method, match.owner_key) == ("acme", "email", "rep@example.org")
    assert match_account(lead("jane@gmail.com"), index, people.get).account_id == "acme-de"


def test_the_lead_itself_found_by_email_is_not_continuity(index):
    myself = PersonMatch("hubspot:contacts:lead", "initech")
    match = match_account(lead("jane@acme.com"), index, lambda _email: myself)
    assert (match.account_id, match.method) == ("acme", "domain")


def test_known_person_without_account_falls_through_to_domain(index):
    match = match_account(lead("jane@acme.com"), index, lambda _email: PersonMatch("salesforce:Lead:00Q1", None))
    assert match.method == "domain"
    assert any("has no account" in reason for reason in match.reasons)


def test_domain_beats_a_typed_name_of_another_account(index):
    match = match_account(lead("jane@initech.com", "Acme Analytics"), index)
    assert (match.account_id, match.method) == ("initech", "domain")


# -- domains --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("jane@acme.com", "acme"),
        ("jane@eu.acme.com", "acme"),  # subdomains fold into the registered domain
        ("jane@mail.sales.acme.com", "acme"),
        ("jane@acme.de", "acme-de"),
        ("jane@globex.co.uk", "globex-uk"),
        ("jane@globex.com", "globex-uk"),  # listed as an extra domain
        ("jane@acmeanalytics.io", "acme-analytics"),
    ],
)
def test_domain_matches(index, email, expected):
    match = match_account(lead(email), index)
    assert (match.account_id, match.method) == (expected, "domain")
    assert 0.95 <= match.confidence <= 0.99


@pytest.mark.parametrize("email", ["jane@acme.co.uk", "jane@acme.fr", "jane@globex.de", "jane@acme-corp.com"])
def test_no_guessing_across_tlds(index, email):
    match = match_account(lead(email), index)
    assert match.account_id is None
    assert match.method == "none"


@pytest.mark.parametrize("email", ["jane@gmail.com", "jane@yahoo.co.uk", "x@mailinator.com", "jane@googlemail.com"])
def test_free_mail_never_matches_by_domain_even_when_an_account_lists_it(email):
    domain = email.split("@")[1]
    index = index_of(account("small-biz", "Bob's Plumbing", domain))
    match = match_account(lead(email), index)
    assert match.account_id is None
    assert any("free-mail" in reason for reason in match.reasons)


def test_free_mail_lead_falls_back_to_the_company_name(index):
    match = match_account(lead("jane@gmail.com", "ACME Analytics, Inc."), index)
    assert (match.account_id, match.method) == ("acme-analytics", "name")


def test_config_can_add_and_remove_free_mail_domains():
    index = index_of(account("partner", "Partner Co", "sharedmail.com"), account("gm", "Gmail Fans Club", "gmail.com"))
    config = MatchingConfig(free_mail_add=("sharedmail.com",), free_mail_remove=("gmail.com",))
    assert match_account(lead("a@sharedmail.com"), index, None, config).account_id is None
    assert match_account(lead("a@gmail.com"), index, None, config).account_id == "gm"


def test_accounts_sharing_a_domain_prefer_the_one_named_like_the_typed_company():
    index = index_of(account("a", "Acme Corp", "acme.com"), account("b", "Acme Robotics", "acme.com"))
    assert match_account(lead("jane@acme.com", "Acme Robotics"), index).account_id == "b"
    assert match_account(lead("jane@acme.com", "Acme"), index).account_id == "a"


# -- names ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("company", "expected"),
    [
        ("Acme", "acme"),
        ("ACME CORPORATION", "acme"),
        ("acme inc.", "acme"),
        ("The Acme Company", "acme"),
        ("Acme Analytics", "acme-analytics"),
        ("Acme Analytcs", "acme-analytics"),  # one typo
        ("Acmeo", "acmeo"),
        ("IBM", "ibm"),  # acronym
        ("International Business Machines", "ibm"),
        ("Initech", "initech"),
        ("Globex", "globex-uk"),
    ],
)
def test_name_matches(index, company, expected):
    match = match_account(lead("someone@gmail.com", company), index)
    assert (match.account_id, match.method) == (expected, "name")


@pytest.mark.parametrize("company", ["Acme Logistics", "Acmeco", "Initrode", "Globex Robotics", "Umbrella", "N/A", ""])
def test_lookalike_or_unknown_companies_stay_unmatched(index, company):
    match = match_account(lead("someone@gmail.com", company), index)
    assert match.account_id is None


def test_unmatched_result_shows_the_best_candidates_for_review(index):
    match = match_account(lead("someone@gmail.com", "Acme Logistics"), index, None, MatchingConfig(review_candidates=3))
    assert match.method == "none" and match.confidence == 0.0
    assert 1 <= len(match.candidates) <= 3
    assert {c.account_id for c in match.candidates} <= {"acme", "acme-de", "acme-analytics"}
    assert all(0 < c.score < 0.8 for c in match.candidates)
    assert "below the 0.80 threshold" in match.reasons[-1]


def test_threshold_is_configurable(index):
    typed = lead("someone@gmail.com", "Acme Logistics")
    assert match_account(typed, index, None, MatchingConfig(min_confidence=0.3)).account_id is not None
    assert match_account(typed, index, None, MatchingConfig(min_confidence=0.99)).account_id is None


def test_differently_named_companies_tied_make_the_matcher_abstain():
    index = index_of(account("a", "Haltoon SE"), account("b", "Halion LLC"))
    match = match_account(lead("x@gmail.com", "Halton"), index)
    assert match.account_id is None
    assert [c.account_id for c in match.candidates] == ["a", "b"]


def test_country_breaks_a_near_tie_between_different_companies():
    index = index_of(account("fr", "Halion SA", country="FR"), account("us", "Haltoon Inc", country="US"))
    match = match_account(lead("x@gmail.com", "Halton", country="FR"), index)
    assert match.account_id == "fr"
    assert any("country FR" in reason for reason in match.reasons)


def test_a_typed_brand_finds_the_one_account_whose_name_starts_with_it():
    index = index_of(account("t", "Toyota Motor Corporation"), account("f", "Ford Motor Company"))
    match = match_account(lead("x@gmail.com", "Toyota"), index)
    assert (match.account_id, match.method, match.confidence) == ("t", "name", 0.85)


def test_a_typed_brand_shared_by_two_companies_is_left_for_review():
    index = index_of(account("p", "Xanrais Partners Corp"), account("g", "Xanrais Games N.V."))
    match = match_account(lead("x@gmail.com", "Xanrais"), index)
    assert match.account_id is None
    assert {c.account_id for c in match.candidates} == {"p", "g"}


def test_one_word_does_not_cover_a_repeated_word():
    index = index_of(account("jj", "Johnson & Johnson"), account("jc", "Johnson Controls International plc"))
    assert match_account(lead("x@gmail.com", "Johnson"), index).account_id is None
    assert match_account(lead("x@gmail.com", "Johnson and Johnson"), index).account_id == "jj"


def test_name_matching_can_be_switched_off(index):
    assert match_account(lead("x@gmail.com", "Acme"), index, None, MatchingConfig(name_matching=False)).method == "none"


# -- several qualifying accounts: parent policy and tie-breakers ---------------------------------------------------


def test_route_to_matching_child_uses_the_leads_country(index):
    assert match_account(lead("jane@acme.com", country="DE"), index).account_id == "acme-de"
    assert match_account(lead("jane@acme.com", country="US"), index).account_id == "acme"
    assert match_account(lead("jane@acme.com"), index).account_id == "acme"  # no evidence: the parent


def test_roll_up_to_parent_replaces_children_by_their_top_parent(index):
    config = MatchingConfig(parent_policy="roll_up_to_parent")
    grandchild = account("acme-muc", "Acme München", "acme-muenchen.de", country="DE", parent_id="acme-de")
    index.add(grandchild)
    for email in ["jane@acme.de", "jane@acme-muenchen.de"]:
        match = match_account(lead(email, country="DE"), index, None, config)
        assert match.account_id == "acme"
        assert any("rolled up" in reason for reason in match.reasons)


def test_parent_cycles_in_the_data_do_not_hang():
    index = index_of(account("a", "Loop A", "loop.com", parent_id="b"), account("b", "Loop B", parent_id="a"))
    config = MatchingConfig(parent_policy="roll_up_to_parent")
    assert match_account(lead("x@loop.com"), index, None, config).account_id in {"a", "b"}


def _dupes(**overrides):
    base = {"is_customer": False, "has_open_opportunity": False, "last_activity_ms": 1, "contact_count": 1}
    return [account(f"dup-{k}", "Dupe Ltd", "dupe.com", **{**base, k: v}) for k, v in overrides.items()]


@pytest.mark.parametrize(
    ("overrides", "winner", "breaker"),
    [
        ({"is_customer": True, "has_open_opportunity": True}, "dup-is_customer", "customer"),
        ({"has_open_opportunity": True, "last_activity_ms": 99}, "dup-has_open_opportunity", "open_opportunity"),
        ({"last_activity_ms": 99, "contact_count": 50}, "dup-last_activity_ms", "recent_activity"),
        ({"contact_count": 50, "last_activity_ms": 1}, "dup-contact_count", "most_contacts"),
    ],
)
def test_default_tie_breakers_in_order(overrides, winner, breaker):
    match = match_account(lead("x@dupe.com"), index_of(*_dupes(**overrides)))
    assert match.account_id == winner
    assert any(f"tie-breaker '{breaker}'" in reason for reason in match.reasons)


def test_tie_breaker_order_comes_from_config():
    accounts = _dupes(is_customer=True, contact_count=50)
    config = MatchingConfig(tie_breakers=("most_contacts", "customer"))
    assert match_account(lead("x@dupe.com"), index_of(*accounts), None, config).account_id == "dup-contact_count"


def test_full_ties_fall_back_to_stable_id_order():
    accounts = [account(i, "Same Name", "same.com") for i in ("c", "a", "b")]
    match = match_account(lead("x@same.com"), index_of(*accounts))
    assert match.account_id == "a"
    assert any("stable id order" in reason for reason in match.reasons)


# -- explanations ---------------------------------------------------------------------------------------------------


def test_every_result_explains_itself(index):
    for typed in [lead("jane@acme.com"), lead("x@gmail.com", "IBM"), lead("x@gmail.com", "Nobody Knows Inc")]:
        match = match_account(typed, index)
        assert match.reasons
        text = describe_match(match)
        assert ("matched" in text) == match.matched or text.startswith("unmatched")


def test_owner_of_the_matched_account_is_reported(index):
    assert match_account(lead("jane@acme.com"), index).owner_key == "ann@us.example"
