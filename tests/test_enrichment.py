import os
from dataclasses import replace

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.enrich import HttpEnrichmentProvider
from connector.config import parse_config
from connector.config.enrichment import HttpProviderConfig
from connector.db import connect
from connector.enrichment import (
    CachedProvider,
    Enricher,
    FilledField,
    Firmographics,
    FirmographicsFile,
    build_enricher,
)
from connector.enrichment.values import country_code, employee_count
from connector.errors import ConfigError, ServerError
from connector.models import Account, Lead

URL = "https://enrich.example.com/find"
DAY = 86_400.0
ACME_JSON = {
    "name": "Acme Inc",
    "geo": {"countryCode": "US"},
    "metrics": {"employees": 800},
    "category": {"industry": "Internet"},
}
CSV = "domain,company_name,country,employee_count,industry\nacme.com,Acme Inc,United States,1200,Software\n"


def make_lead(**fields) -> Lead:
    return Lead(id="hubspot:contacts:7", crm="hubspot", native_id="7", object="contacts", **fields)


@pytest.fixture
def db(tmp_path):
    database = connect(tmp_path / "enrichment.sqlite")
    yield database
    database.conn.close()


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "firmographics.csv"
    path.write_text(CSV)
    return path


def http_provider(**overrides) -> HttpEnrichmentProvider:
    settings = {"url_template": URL + "?domain={domain}", "backoff_jitter_seconds": 0, "max_attempts": 2}
    settings.update(overrides)
    return HttpEnrichmentProvider(HttpProviderConfig(**settings), sleep=lambda _s: None)


# --- the enrichment order -------------------------------------------------------------------------------


def test_account_fills_first_and_each_filled_field_names_its_source():
    account = Account(id="a1", crm="hubspot", native_id="1", name="Acme", country="US", employees=900)
    result = Enricher().enrich(make_lead(email_domain="acme.com", industry="Software"), account)
    assert (result.lead.company, result.lead.country, result.lead.employees) == ("Acme", "US", 900)
    assert result.lead.industry == "Software"
    assert result.filled == (
        FilledField("company", "Acme", "account"),
        FilledField("country", "US", "account"),
        FilledField("employees", 900, "account"),
    )


def test_values_the_crm_holds_are_never_overwritten(csv_file):
    lead = make_lead(email_domain="acme.com", company="ACME (typed)", country="CA", employees=5, industry="Retail")
    result = Enricher(firmographics_file=FirmographicsFile(csv_file)).enrich(lead)
    assert result.lead == lead
    assert result.filled == ()


@responses.activate
def test_file_fills_what_the_account_lacks_and_the_provider_is_asked_last(csv_file):
    responses.get(URL, json={"category": {"industry": "Internet"}})
    csv_file.write_text("domain,company,employees\nacme.com,Acme Inc,1200\n")
    account = Account(id="a1", crm="hubspot", native_id="1", name="Acme Account", country="US")
    enricher = Enricher(firmographics_file=FirmographicsFile(csv_file), provider=http_provider())
    result = enricher.enrich(make_lead(email_domain="acme.com"), account)
    assert [(f.field, f.source) for f in result.filled] == [
        ("company", "account"),
        ("country", "account"),
        ("employees", "file"),
        ("industry", "provider:http"),
    ]
    assert result.source_of("industry") == "provider:http"
    assert result.lead.industry == "Internet"


@responses.activate
def test_the_provider_is_not_called_when_nothing_is_missing(csv_file):
    responses.get(URL, json=ACME_JSON)
    enricher = Enricher(firmographics_file=FirmographicsFile(csv_file), provider=http_provider())
    result = enricher.enrich(make_lead(email_domain="acme.com"))
    assert {f.source for f in result.filled} == {"file"}
    assert result.lead.country == "US"  # "United States" in the file
    assert len(responses.calls) == 0


@responses.activate
def test_webmail_domains_are_never_looked_up_but_the_account_domain_is():
    responses.get(URL, json=ACME_JSON)
    enricher = Enricher(provider=http_provider())
    assert enricher.enrich(make_lead(email_domain="gmail.com")).filled == ()
    assert len(responses.calls) == 0
    account = Account(id="a1", crm="hubspot", native_id="1", name="", domain="acme.com")
    result = enricher.enrich(make_lead(email_domain="gmail.com"), account)
    assert result.lead.company == "Acme Inc"
    assert responses.calls[0].request.url.endswith("domain=acme.com")


@responses.activate
def test_provider_failure_keeps_what_was_filled_and_says_why(csv_file):
    responses.get(URL, status=503)
    csv_file.write_text("domain,company\nacme.com,Acme Inc\n")
    enricher = Enricher(firmographics_file=FirmographicsFile(csv_file), provider=http_provider())
    result = enricher.enrich(make_lead(email_domain="acme.com"))
    assert result.lead.company == "Acme Inc"
    assert result.provider_error is not None and result.provider_error.startswith("ServerError")
    assert result.lead.employees is None


def test_fields_can_be_narrowed():
    account = Account(id="a1", crm="hubspot", native_id="1", name="Acme", country="US", employees=900)
    result = Enricher(fields=("employees",)).enrich(make_lead(), account)
    assert [f.field for f in result.filled] == ["employees"]


# --- the firmographics file -----------------------------------------------------------------------------


def test_file_is_indexed_by_normalized_domain_and_reloaded_when_it_changes(csv_file):
    local = FirmographicsFile(csv_file)
    assert local.lookup("WWW.Acme.com") == Firmographics("Acme Inc", "US", 1200, "Software")
    assert local.lookup("other.io") is None
    csv_file.write_text(CSV + "other.io,Other,DE,51-200,Retail\n")
    stat = csv_file.stat()
    os.utime(csv_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # coarse mtime clocks
    assert local.lookup("other.io") == Firmographics("Other", "DE", 51, "Retail")
    assert len(local) == 2


def test_a_broken_reload_keeps_serving_the_previous_index(csv_file):
    local = FirmographicsFile(csv_file)
    csv_file.write_text("company,industry\nno domain column,x\n")
    assert local.lookup("acme.com") is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), ("company,industry\nAcme,Software\n", "'domain' column")],
)
def test_unusable_files_are_config_errors(tmp_path, content, message):
    path = tmp_path / "f.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        FirmographicsFile(path)


@pytest.mark.parametrize(
    ("raw", "code"),
    [("US", "US"), ("us", "US"), ("USA", "US"), ("United Kingdom", "GB"), ("DEU", "DE"), ("Narnia", None), ("", None)],
)
def test_country_codes(raw, code):
    assert country_code(raw) == code


@pytest.mark.parametrize(
    ("raw", "count"),
    [(120, 120), ("1,200", 1200), ("51-200", 51), ("10000+", 10000), ("12.0", 12), ("many", None), (None, None)],
)
def test_employee_counts(raw, count):
    assert employee_count(raw) == count


# --- the provider cache ---------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@responses.activate
def test_answers_are_cached_until_their_ttl(db):
    responses.get(URL, json=ACME_JSON)
    clock = Clock()
    cached = CachedProvider(http_provider(), db, ttl_days=30, not_found_ttl_days=7, clock=clock)
    first = cached.lookup("acme.com")
    assert cached.lookup("Acme.com") == first
    assert len(responses.calls) == 1
    clock.now += 31 * DAY
    assert cached.lookup("acme.com") == first
    assert len(responses.calls) == 2


@responses.activate
def test_not_found_is_cached_for_the_shorter_ttl(db):
    responses.get(URL, status=404)
    clock = Clock()
    cached = CachedProvider(http_provider(), db, ttl_days=30, not_found_ttl_days=7, clock=clock)
    assert cached.lookup("tiny.example") is None
    clock.now += 6 * DAY
    assert cached.lookup("tiny.example") is None
    assert len(responses.calls) == 1
    clock.now += 2 * DAY
    cached.lookup("tiny.example")
    assert len(responses.calls) == 2


@responses.activate
def test_errors_are_not_cached(db):
    responses.get(URL, status=500)
    cached = CachedProvider(http_provider(), db, ttl_days=30, not_found_ttl_days=7)
    for _ in range(2):
        with pytest.raises(ServerError):
            cached.lookup("acme.com")
    assert len(responses.calls) == 4  # two lookups, two attempts each


@responses.activate
def test_cache_survives_a_restart_and_expired_rows_can_be_purged(tmp_path):
    responses.get(URL, json=ACME_JSON)
    clock = Clock()
    first_db = connect(tmp_path / "c.sqlite")
    CachedProvider(http_provider(), first_db, ttl_days=1, not_found_ttl_days=1, clock=clock).lookup("acme.com")
    first_db.conn.close()
    second_db = connect(tmp_path / "c.sqlite")
    again = CachedProvider(http_provider(), second_db, ttl_days=1, not_found_ttl_days=1, clock=clock)
    assert again.lookup("acme.com") is not None
    assert len(responses.calls) == 1
    clock.now += 2 * DAY
    assert again.purge_expired() == 1
    second_db.conn.close()


# --- from the config file -------------------------------------------------------------------------------


@responses.activate
def test_build_enricher_from_config(db, csv_file):
    responses.get(URL, json=ACME_JSON)
    text = f"""
enrichment:
  firmographics_file: {csv_file}
  provider:
    name: vendor
    url_template: "{URL}?domain={{domain}}"
    token: ${{ENRICH_TOKEN}}
    cache_ttl_days: 10
"""
    config = parse_config(text, environ={"ENRICH_TOKEN": "tok"}).config.enrichment
    enricher = build_enricher(config, db)
    from_file = enricher.enrich(make_lead(email_domain="acme.com"))
    assert from_file.source_of("company") == "file"
    from_vendor = enricher.enrich(make_lead(email_domain="other.com"))
    assert from_vendor.source_of("company") == "provider:vendor"
    assert responses.calls[0].request.headers["Authorization"] == "Bearer tok"
    enricher.enrich(make_lead(email_domain="other.com"))
    assert len(responses.calls) == 1  # the second ask came from the SQLite cache


@responses.activate
def test_a_blank_token_sends_no_auth_header(db):
    responses.get(URL, json=ACME_JSON)
    config = parse_config(
        f'enrichment:\n  provider: {{url_template: "{URL}?d={{domain}}", token: "${{NOPE:-}}"}}\n', environ={}
    ).config.enrichment
    build_enricher(config, db).enrich(make_lead(email_domain="acme.com"))
    assert "Authorization" not in responses.calls[0].request.headers


def test_disabled_enrichment_fills_nothing(db):
    config = parse_config("enrichment: {enabled: false}\n").config.enrichment
    account = Account(id="a1", crm="hubspot", native_id="1", name="Acme")
    assert build_enricher(config, db).enrich(make_lead(), account).filled == ()


@pytest.mark.parametrize(
    "provider",
    [
        "{url_template: 'https://x.example/find'}",
        "{url_template: 'ftp://x/{domain}'}",
        "{url_template: 'https://x/{domain}?k={key}'}",
        "{url_template: x, tokn: y}",
    ],
)
def test_bad_provider_config_is_rejected(provider):
    with pytest.raises(ConfigError, match=r"enrichment\.provider"):
        parse_config(f"enrichment:\n  provider: {provider}\n")


# --- invariants -----------------------------------------------------------------------------------------

maybe_text = st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=12))
maybe_country = st.one_of(st.none(), st.sampled_from(["US", "DE", ""]))
maybe_count = st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))


@settings(max_examples=200, deadline=None)
@given(
    lead_values=st.fixed_dictionaries(
        {"company": maybe_text, "country": maybe_country, "employees": maybe_count, "industry": maybe_text}
    ),
    account_values=st.fixed_dictionaries(
        {"name": st.text(max_size=8), "country": maybe_country, "employees": maybe_count, "industry": maybe_text}
    ),
)
def test_enrichment_only_fills_gaps_and_records_every_fill(lead_values, account_values):
    lead = make_lead(**lead_values)
    account = Account(id="a", crm="hubspot", native_id="1", **account_values)
    result = Enricher().enrich(lead, account)
    filled = {f.field: f.value for f in result.filled}
    for field, before in lead_values.items():
        after = getattr(result.lead, field)
        if field in filled:
            assert before is None or (isinstance(before, str) and not before.strip())
            assert after == filled[field]
        else:
            assert after == before
    assert replace(result.lead, **lead_values) == lead
