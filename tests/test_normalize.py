import gc
import subprocess
import sys
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from connector import normalize
from connector.errors import InvalidRecordError

# ---------------------------------------------------------------------------------------------------------------------
# email
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@acme.com", "jane@acme.com"),
        ("  Jane.Doe@ACME.COM  ", "jane.doe@acme.com"),
        ("mailto:jane@acme.com", "jane@acme.com"),
        ("MAILTO:jane@acme.com?subject=Hi", "jane@acme.com"),
        ("Jane Doe <jane@acme.com>", "jane@acme.com"),
        ("<jane@acme.com>", "jane@acme.com"),
        ("jane+crm@acme.com", "jane+crm@acme.com"),
        ("jane@acme.com.", "jane@acme.com"),
        ("jane@bücher.de", "jane@xn--bcher-kva.de"),
        ("jane@BÜCHER.de", "jane@xn--bcher-kva.de"),
        ("jane@münchen.de", "jane@xn--mnchen-3ya.de"),
        ("jane@xn--mnchen-3ya.de", "jane@xn--mnchen-3ya.de"),
        ("jane@acme．com", "jane@acme.com"),  # full-width dot, as typed on a Japanese keyboard
        ("ÉLODIE@acme.fr", "élodie@acme.fr"),
        ("jane@eu.sales.acme.co.uk", "jane@eu.sales.acme.co.uk"),  # the address keeps its host; domains fold later
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_email_normalizes(raw, expected):
    assert normalize.email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("jane.acme.com", "no_at_sign"),
        ("jane doe@acme.com", "space_inside"),
        ("jane@acme .com", "space_inside"),
        ("jane\t@acme.com", "space_inside"),
        ("jane@@acme.com", "multiple_at_signs"),
        ("a@b@acme.com", "multiple_at_signs"),
        ("@acme.com", "empty_local_part"),
        ("jane@", "bad_domain"),
        ("jane@acme", "bad_domain"),
        ("jane@-acme.com", "bad_domain"),
        ("jane@acme-.com", "bad_domain"),
        ("jane@acme..com", "bad_domain"),
        ("jane@acme_corp.com", "bad_domain"),
        ("jane@xn--zz.com", "bad_domain"),
        ("jane@" + "a" * 64 + ".com", "bad_domain"),
        (".jane@acme.com", "bad_local_part"),
        ("jane.@acme.com", "bad_local_part"),
        ("ja..ne@acme.com", "bad_local_part"),
        ("ja(ne)@acme.com", "bad_local_part"),
        ('"jane"@acme.com', "bad_local_part"),
        ("jane\x00@acme.com", "bad_local_part"),
        ("j" * 65 + "@acme.com", "too_long"),
        ("jane@" + "a" * 62 + "." + "b" * 62 + "." + "c" * 62 + "." + "d" * 62 + ".com", "too_long"),
        ("n/a", "placeholder"),
        ("N/A", "placeholder"),
        ("none", "placeholder"),
        ("-", "placeholder"),
        ("unknown", "placeholder"),
        ("test@example.com", "reserved_domain"),
        ("jane@shop.invalid", "reserved_domain"),
        ("jane@host.localhost", "reserved_domain"),
        ("jane@10.0.0.1", "ip_address"),
    ],
)
def test_email_rejects_with_reason(raw, reason):
    with pytest.raises(InvalidRecordError) as err:
        normalize.email(raw)
    assert err.value.reason == reason


def test_email_rejection_is_repeatable_from_cache():
    # The second call is served from the cache and must still raise, with the caller's own value in the message.
    for _ in range(2):
        with pytest.raises(InvalidRecordError, match="no_at_sign"):
            normalize.email("not-an-email")


def test_optional_turns_rejections_into_none():
    assert normalize.optional(normalize.email, "nope nope") is None
    assert normalize.optional(normalize.email, "A@B.co") == "a@b.co"


# ---------------------------------------------------------------------------------------------------------------------
# registered_domain
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("acme.com", "acme.com"),
        ("ACME.COM", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("eu.acme.com", "acme.com"),
        ("a.b.c.acme.com", "acme.com"),
        ("acme.co.uk", "acme.co.uk"),
        ("shop.acme.co.uk", "acme.co.uk"),
        ("acme.com.au", "acme.com.au"),
        ("acme.co.jp", "acme.co.jp"),
        ("https://www.acme.com", "acme.com"),
        ("http://acme.com/about/team?x=1#y", "acme.com"),
        ("https://www.eu.acme.co.uk:8080/contact", "acme.co.uk"),
        ("acme.com:443", "acme.com"),
        ("www.acme.com/about", "acme.com"),
        ("//acme.io/", "acme.io"),
        ("https://user:secret@portal.acme.io/", "acme.io"),
        ("jane@acme.com", "acme.com"),
        ("jane@eu.acme.com", "acme.com"),
        ("jane@mail.acme.co.uk", "acme.co.uk"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("https://www.bücher.de/shop", "xn--bcher-kva.de"),
        ("acme.com.", "acme.com"),
        ("  Acme.Com  ", "acme.com"),
        (None, None),
        ("", None),
    ],
)
def test_registered_domain(raw, expected):
    assert normalize.registered_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("localhost", "no_public_suffix"),
        ("com", "no_public_suffix"),
        ("co.uk", "no_public_suffix"),
        ("acme", "no_public_suffix"),
        ("192.168.1.20", "ip_address"),
        ("http://[::1]/", "bad_domain"),
        ("http://acme..com/", "bad_domain"),
        ("not a domain", "bad_domain"),
        ("http:///nohost", "bad_domain"),
        ("n/a", "placeholder"),
    ],
)
def test_registered_domain_rejects(raw, reason):
    with pytest.raises(InvalidRecordError) as err:
        normalize.registered_domain(raw)
    assert err.value.reason == reason


def test_registered_domain_never_touches_the_network():
    # A fresh interpreter with every socket call booby-trapped: the bundled suffix snapshot must be enough.
    script = (
        "import socket\n"
        "def boom(*a, **k): raise SystemExit('network attempted')\n"
        "socket.socket.connect = boom; socket.create_connection = boom; socket.getaddrinfo = boom\n"
        "from connector.normalize import registered_domain\n"
        "assert registered_domain('https://shop.acme.co.uk/') == 'acme.co.uk'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# ---------------------------------------------------------------------------------------------------------------------
# country_code
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("US", "US"),
        ("us", "US"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("united states of america", "US"),
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("United Kingdom", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("DEU", "DE"),
        ("Schweiz", "CH"),
        ("Switzerland", "CH"),
        ("Nederland", "NL"),
        ("Holland", "NL"),
        ("the Netherlands", "NL"),
        ("España", "ES"),
        ("ESPANA", "ES"),
        ("Spain", "ES"),
        ("Brasil", "BR"),
        ("Brazil", "BR"),
        ("Korea", "KR"),
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("North Korea", "KP"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("UAE", "AE"),
        ("United Arab Emirates", "AE"),
        ("Côte d'Ivoire", "CI"),
        ("cote d'ivoire", "CI"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Türkiye", "TR"),
        ("Österreich", "AT"),
        ("  france ", "FR"),
        ("Bolivia, Plurinational State of", "BO"),
        ("Taiwan", "TW"),
        ("Czechia", "CZ"),
        ("Czech Republic", "CZ"),
        ("Kosovo", "XK"),
        ("IN", "IN"),
        (None, None),
        ("", None),
    ],
)
def test_country_code(raw, expected):
    assert normalize.country_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"), [("Narnia", "unknown_country"), ("n/a", "placeholder"), ("-", "placeholder")]
)
def test_country_code_rejects(raw, reason):
    with pytest.raises(InvalidRecordError) as err:
        normalize.country_code(raw)
    assert err.value.reason == reason


# ---------------------------------------------------------------------------------------------------------------------
# employee_count
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (250, 250),
        (0, 0),
        (12.0, 12),
        ("1200", 1200),
        ("1,200", 1200),
        ("1 200", 1200),
        ("1.200", 1200),
        ("1'200", 1200),
        ("12,500,000"[:-4], 12500),
        ("50-100", 50),  # bands give their lower bound
        ("51 - 200", 51),
        ("51–200", 51),
        ("201 to 500", 201),
        ("10k", 10000),
        ("10K", 10000),
        ("1.5k", 1500),
        ("2m", 2_000_000),
        ("500+", 500),
        ("10,000+", 10000),
        ("over 1000", 1000),
        ("<10", 1),
        ("about 300 employees", 300),
        ("~40", 40),
        ("75 staff", 75),
        (None, None),
        ("", None),
    ],
)
def test_employee_count(raw, expected):
    assert normalize.employee_count(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("lots", "not_a_number"),
        ("n/a", "placeholder"),
        (-5, "negative"),
        ("-5", "negative"),
        ("500-50", "bad_range"),
        (10**9, "implausible"),
        (float("nan"), "not_a_number"),
        (True, "not_a_number"),
    ],
)
def test_employee_count_rejects(raw, reason):
    with pytest.raises(InvalidRecordError) as err:
        normalize.employee_count(raw)
    assert err.value.reason == reason


# ---------------------------------------------------------------------------------------------------------------------
# phone_e164
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "hint", "expected"),
    [
        ("+44 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "United Kingdom", "+442079460958"),
        ("(415) 555-0132", "US", "+14155550132"),
        ("415.555.0132", "USA", "+14155550132"),
        ("030 1234567", "Deutschland", "+49301234567"),
        ("+1 415 555 0132 ext. 12", None, "+14155550132"),
        ("415 555 0132", None, None),  # national number without a country: unknowable
        ("415 555 0132", "Narnia", None),
        ("call me", "US", None),
        ("12", "US", None),
        ("n/a", "US", None),
        ("", "US", None),
        (None, "US", None),
    ],
)
def test_phone_e164(raw, hint, expected):
    assert normalize.phone_e164(raw, hint) == expected


# ---------------------------------------------------------------------------------------------------------------------
# text, names, placeholders
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Acme   Corp ", "Acme Corp"),
        ("Acme\tCorp\r\nLtd", "Acme Corp Ltd"),
        ("Acme\u00a0Corp", "Acme Corp"),
        ("Acme\u200bCorp", "AcmeCorp"),
        ("\ufeffAcme", "Acme"),
        ("Acme\u202eproC", "AcmeproC"),  # bidi override stripped
        ("Ac\x00me\x07", "Acme"),
        ("Cafe\u0301", "Café"),  # NFC
        ("   ", None),
        (None, None),
        (42, "42"),
    ],
)
def test_clean_text(raw, expected):
    assert normalize.clean_text(raw) == expected


def test_clean_text_caps_length():
    assert normalize.clean_text("x" * 1000) == "x" * normalize.MAX_TEXT_LENGTH
    assert normalize.clean_text("abc def", max_length=4) == "abc"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jane", "Jane"),
        ("  jane   doe ", "Jane Doe"),
        ("JANE DOE", "Jane Doe"),
        ("ANNE-MARIE O'BRIEN", "Anne-Marie O'Brien"),
        ("ludwig van beethoven", "Ludwig van Beethoven"),
        ("McDonald", "McDonald"),  # mixed case is the person's own spelling: kept
        ("José", "José"),
        ("'Jane'", "Jane"),
        ("N/A", None),
        ("-", None),
        ("", None),
        ("李小龍", "李小龍"),
    ],
)
def test_person_name(raw, expected):
    assert normalize.person_name(raw) == expected


@pytest.mark.parametrize(
    "raw", [None, "", " ", "N/A", "n/a", "NA", "-", "--", "...", "?", "none", "None", "NULL", "unknown", "test", "TBD"]
)
def test_placeholders(raw):
    assert normalize.is_placeholder(raw)


@pytest.mark.parametrize("raw", ["Acme", "Nathan", "Test Kitchen Inc", "0", "IBM", "Nan Ltd"])
def test_not_placeholders(raw):
    assert not normalize.is_placeholder(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Zürich  AG", "zurich ag"), ("ÆRØ", "aero"), ("Straße", "strasse"), ("ŁÓDŹ", "lodz"), ("ACME", "acme")],
)
def test_fold_text(raw, expected):
    assert normalize.fold_text(raw) == expected


# ---------------------------------------------------------------------------------------------------------------------
# invariants and speed
# ---------------------------------------------------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_email_either_normalizes_or_gives_a_reason(text):
    try:
        result = normalize.email(text)
    except InvalidRecordError as exc:
        assert exc.reason
        return
    if result is not None:
        assert result == result.strip().lower() or not result.isascii()
        assert result.count("@") == 1 and len(result) <= normalize.MAX_EMAIL_LENGTH
        assert normalize.email(result) == result  # idempotent


@given(st.text(max_size=300))
def test_cleaners_never_raise_and_are_idempotent(text):
    cleaned = normalize.clean_text(text)
    assert cleaned is None or normalize.clean_text(cleaned) == cleaned
    normalize.person_name(text)
    normalize.phone_e164(text, "US")
    normalize.is_placeholder(text)


@given(st.text(max_size=100))
@example("[/")  # an unmatched bracket before a slash: urlsplit itself raised ValueError ("Invalid IPv6 URL")
@example("http://[acme.com/x")
def test_parsers_only_raise_invalid_record(text):
    for parser in (normalize.registered_domain, normalize.country_code, normalize.employee_count):
        try:
            parser(text)
        except InvalidRecordError as exc:
            assert exc.reason


def test_email_and_domain_are_fast_enough_for_matching():
    emails = [f"user{i}@dept{i % 50}.company{i % 5000}.com" for i in range(20_000)]
    start = time.perf_counter()
    for address in emails:
        normalize.registered_domain(normalize.email(address))
    rate = len(emails) / (time.perf_counter() - start)
    # A floor that only a pathological regression (a network call, a per-call list rebuild) breaks, even on a busy
    # shared CI core; the real figures are in bench/matching_speed.py.
    assert rate > 2_000


# ---------------------------------------------------------------------------------------------------------------------
# memory: the caches hold a working set, so normalizing a whole CRM costs the same memory as its first pages
# ---------------------------------------------------------------------------------------------------------------------


def _normalize_person(i: int) -> None:
    """What a sync does with one contact in a backfill: every value distinct, each person at their own employer."""
    address = normalize.email(f"Person.{i}@Mail.Employer{i}.com")
    normalize.registered_domain(address)
    normalize.phone_e164(f"+1 415 555 {i % 10_000:04d} ext {i}", "US")
    normalize.person_name(f"PERSON NUMBER{i}")
    normalize.optional(normalize.email, f"bad address {i}")


def test_normalizing_many_distinct_values_keeps_memory_flat():
    # Before the caches were bounded to a working set every record left ~15 objects behind (~0.6 KB: ~60 MB per
    # 100k contacts). Counted in interpreter blocks rather than with tracemalloc, which would make this 4x slower.
    for i in range(normalize.DOMAIN_WORKING_SET + 6_000):  # fill the domain cache past its dict's first resize
        normalize.registered_domain(f"www.filler{i}.example.net")
    for i in range(normalize.WORKING_SET + 2_000):  # then every other cache, with people
        _normalize_person(i)
    gc.collect()
    before = sys.getallocatedblocks()
    for i in range(normalize.WORKING_SET + 2_000, normalize.WORKING_SET + 5_000):
        _normalize_person(i)
    gc.collect()
    kept = sys.getallocatedblocks() - before
    assert kept < 1_000, f"normalizing 3,000 more people kept {kept:,} objects"


_CACHED_OUTCOMES = [
    (normalize.email, "  Jane.Doe@BÜCHER.de "),
    (normalize.email, "jane.acme.com"),
    (normalize.registered_domain, "https://www.eu.acme.co.uk:8080/x"),
    (normalize.registered_domain, "http://192.168.0.1/"),
    (normalize.ascii_host, "München.DE"),
    (normalize.ascii_host, "-bad-.com"),
    (normalize.fold_text, "Zürich  Straße AG"),
    (lambda v: normalize.phone_e164(v, "DE"), "030 1234567"),
]


def _outcome(parse, value) -> object:
    try:
        return parse(value)
    except InvalidRecordError as exc:
        return ("rejected", exc.reason, str(exc))


def test_results_are_the_same_after_the_working_set_has_turned_over():
    first = [_outcome(parse, value) for parse, value in _CACHED_OUTCOMES]
    for i in range(normalize.DOMAIN_WORKING_SET + 1):  # evicts every value above from its cache
        normalize.registered_domain(f"host{i}.example-{i}.org")
        if i <= normalize.WORKING_SET:
            normalize.fold_text(f"Filler {i}")
            normalize.optional(normalize.email, f"filler{i}@filler.io")
            normalize.phone_e164(f"+49 30 {i:07d}", "DE")
    assert [_outcome(parse, value) for parse, value in _CACHED_OUTCOMES] == first
