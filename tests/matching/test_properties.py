"""Invariants of matching, checked on generated account books and leads."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.config.matching import MatchingConfig
from connector.matching import AccountIndex, match_account
from connector.matching.freemail import free_mail_domains

from .builders import account, lead

BRANDS = ["Acme", "Acmeo", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Wonka"]
WORDS = ["Analytics", "Group", "Holdings", "Labs", "Logistics", "Systems", "International", "Foods", ""]
LEGAL = ["Inc", "Ltd", "GmbH", "SA", "LLC", ""]
TLDS = ["com", "de", "co.uk", "io"]
FREE = ["gmail.com", "yahoo.co.uk", "hotmail.com", "mailinator.com", "gmx.de"]
COUNTRIES = ["US", "DE", "GB", "FR", None]


def _name(brand, word, legal):
    return " ".join(p for p in (brand, word, legal) if p)


def _domain(brand, tld):
    return f"{brand.lower()}.{tld}"


def _parent(j):
    return f"acc-{j}"  # may point past the book: a parent outside the cache, as happens mid-sync


names = st.builds(_name, st.sampled_from(BRANDS), st.sampled_from(WORDS), st.sampled_from(LEGAL))
real_domains = st.one_of(
    st.builds(_domain, st.sampled_from(BRANDS), st.sampled_from(TLDS)),
    st.sampled_from(FREE),  # accounts whose website field holds a free-mail domain exist in real CRMs
)
domains = st.one_of(real_domains, st.none())
parents = st.one_of(st.none(), st.integers(0, 11).map(_parent))


@st.composite
def account_books(draw):
    count = draw(st.integers(min_value=1, max_value=12))
    accounts = []
    for i in range(count):
        parent = draw(parents)
        accounts.append(
            account(
                f"acc-{i}",
                draw(names),
                draw(domains),
                extra_domains=tuple(draw(st.lists(real_domains, max_size=2))),
                country=draw(st.sampled_from(COUNTRIES)),
                parent_id=parent if parent != f"acc-{i}" else None,
                is_customer=draw(st.booleans()),
                contact_count=draw(st.integers(0, 3)),
            )
        )
    return accounts


def _lead(local, host, company, country):
    return lead(f"{local}@{host}", company, country)


leads = st.builds(
    _lead,
    st.sampled_from(["jane", "x.y", "sales"]),
    st.one_of(real_domains, st.sampled_from(["eu.acme.com", "unknown.org"])),
    st.one_of(names, st.sampled_from(["IBM", "Acmee", "N/A", ""]), st.none()),
    st.sampled_from(COUNTRIES),
)
configs = st.builds(
    MatchingConfig,
    parent_policy=st.sampled_from(["route_to_matching_child", "roll_up_to_parent"]),
    min_confidence=st.sampled_from([0.5, 0.8, 0.95]),
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(account_books(), leads, configs)
def test_matching_is_deterministic(accounts, typed, config):
    first = match_account(typed, AccountIndex(accounts), None, config)
    again = match_account(typed, AccountIndex(accounts), None, config)
    assert first == again


@FAST
@given(account_books(), leads, configs, st.randoms(use_true_random=False))
def test_result_does_not_depend_on_account_insertion_order(accounts, typed, config, rnd):
    shuffled = list(accounts)
    rnd.shuffle(shuffled)
    assert match_account(typed, AccountIndex(accounts), None, config) == match_account(
        typed, AccountIndex(shuffled), None, config
    )


@FAST
@given(account_books(), leads, configs)
def test_never_matches_by_a_free_mail_domain(accounts, typed, config):
    match = match_account(typed, AccountIndex(accounts), None, config)
    free = free_mail_domains(config.free_mail_add, config.free_mail_remove)
    if match.method == "domain":
        assert typed.email_domain and not free.is_free(typed.email_domain)


@FAST
@given(account_books(), leads, configs)
def test_results_are_well_formed(accounts, typed, config):
    index = AccountIndex(accounts)
    match = match_account(typed, index, None, config)
    assert 0.0 <= match.confidence <= 1.0
    assert match.reasons
    if match.account_id is None:
        assert match.method == "none" and match.confidence == 0.0
    else:
        assert match.account_id in index and match.confidence >= config.min_confidence
    assert len(match.candidates) <= config.review_candidates
    assert [c.score for c in match.candidates] == sorted((c.score for c in match.candidates), reverse=True)


@FAST
@given(account_books(), st.data())
def test_incremental_updates_equal_a_fresh_build(accounts, data):
    index = AccountIndex(accounts)
    removed = data.draw(st.lists(st.sampled_from([a.id for a in accounts]), unique=True))
    for account_id in removed:
        index.remove(account_id)
    for a in accounts:
        if a.id in removed[: len(removed) // 2]:
            index.add(a)  # re-added
    kept = [a for a in accounts if a.id not in removed[len(removed) // 2 :]]
    fresh = AccountIndex(kept)
    typed = data.draw(leads)
    assert match_account(typed, index) == match_account(typed, fresh)
