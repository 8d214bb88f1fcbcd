"""Normalization on the way in: pure functions that turn what people and CRMs typed into values we can compare.

One style throughout, so callers never guess:

* **Parsers** (``email``, ``registered_domain``, ``country_code``, ``employee_count``) return the normalized value,
  return ``None`` when the input is missing (``None`` or blank), and raise
  ``InvalidRecordError(reason=...)`` when a value is present but cannot be understood. ``reason`` is a short
  snake_case code (``no_at_sign``, ``placeholder``, ``bad_domain``...) fit for counting in metrics.
  ``optional(parser, value)`` turns that into "value or None" for fields that must not fail a whole record.
* ``phone_e164`` returns ``None`` for anything it cannot parse: a phone number is free text and a bad one never
  makes a record unusable.
* **Cleaners** (``clean_text``, ``person_name``, ``fold_text``) never raise; they return ``None`` for empty text.

Everything here is hot: matching calls it ~100k times a second, so lookups are dictionaries built once at import and
the expensive calls (tldextract, IDNA, phonenumbers) are cached by their input. The caches hold a *working set*
(``WORKING_SET`` entries each), not every value ever seen: a sync meets most emails and phones exactly once, so a
cache sized to the record count only costs memory that grows with the CRM (a million contacts must sync in the
same memory as a hundred thousand), while the values that do repeat (employers' domains, countries, company
names) stay hot in a few thousand entries.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

import idna
import phonenumbers
import pycountry
import tldextract

from connector.errors import InvalidRecordError

T = TypeVar("T")

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL_PART = 64
MAX_TEXT_LENGTH = 255  # the common CRM single-line text limit (HubSpot and Salesforce both cap around here)
MAX_NAME_LENGTH = 100
MAX_EMPLOYEES = 5_000_000  # above the world's largest employer: anything bigger is a typo or a unit mix-up
# Entries per lru_cache below. Large enough for what repeats within a few pages of a sync or a batch of leads,
# small enough (about 1 MB per cache) to be full after the first few thousand records: memory then stays flat.
WORKING_SET = 4096
# Registered domains are cached by host, and hosts are the one input that keeps repeating across a whole CRM (every
# colleague at an employer): a larger set keeps a million-contact sync's hit rate up for ~4 MB more, still fixed.
DOMAIN_WORKING_SET = 16_384


def _invalid(what: str, value: object, reason: str) -> InvalidRecordError:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return InvalidRecordError(f"{what} {shown} is not usable ({reason})", reason=reason)


def optional(parser: Callable[[Any], T | None], value: Any) -> T | None:
    """``parser(value)``, or None where the parser would raise InvalidRecordError."""
    try:
        return parser(value)
    except InvalidRecordError:
        return None


# ---------------------------------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------------------------------

# Control characters, and the invisible format characters used to spoof text (zero-width space, BOM, bidi overrides);
# zero-width (non-)joiners are kept because Persian, Indic scripts and emoji need them.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_WHITESPACE = re.compile(r"\s+")
# Letters NFKD does not decompose but people write without the diacritic anyway.
_FOLD_EXTRA = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i", "þ": "th", "ð": "d"})


def clean_text(value: object, max_length: int = MAX_TEXT_LENGTH) -> str | None:
    """NFC text with control/invisible characters removed, whitespace collapsed, capped; None when empty."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    if not (text.isascii() and text.isprintable()):
        text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = _WHITESPACE.sub(" ", text).strip()
    if len(text) > max_length:
        text = text[:max_length].rstrip()
    return text or None


@lru_cache(maxsize=WORKING_SET)
def fold_text(value: str) -> str:
    """Case- and accent-insensitive form of ``value`` for comparisons (``"Zürich  AG"`` -> ``"zurich ag"``)."""
    text = value.casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_FOLD_EXTRA)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _WHITESPACE.sub(" ", text).strip()


_PLACEHOLDERS = frozenset(
    {
        "",
        "n/a",
        "na",
        "n.a.",
        "n.a",
        "n / a",
        "none",
        "null",
        "nil",
        "unknown",
        "not known",
        "not provided",
        "not applicable",
        "not available",
        "unspecified",
        "test",
        "testing",
        "tbd",
        "tba",
        "todo",
        "x",
        "xx",
        "xxx",
        "asdf",
        "abc",
        "no",
        "nope",
        "undefined",
        "#n/a",
        "nan",
        "no company",
        "company",
        "private",
        "self",
        "-none-",
    }
)
_ONLY_PUNCTUATION = re.compile(r"^[\W_]*$")


def is_placeholder(value: object) -> bool:
    """True for values that stand for "nothing": blanks, "N/A", "-", "none", "unknown", "test", "???"..."""
    if value is None:
        return True
    text = fold_text(clean_text(value) or "")
    return text in _PLACEHOLDERS or _ONLY_PUNCTUATION.match(text) is not None


_NAME_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "du", "del", "della", "dos", "das", "le", "la"}
)
_NAME_PART = re.compile(r"[^\s\-']+|[\s\-']")


def person_name(value: object) -> str | None:
    """A cleaned person name (length-capped); SHOUTED or all-lowercase names get title case; None for placeholders."""
    text = clean_text(value, MAX_NAME_LENGTH)
    if text is None or is_placeholder(text):
        return None
    text = text.strip("\"'` ")
    if text and (text.isupper() or text.islower()):
        text = _title_case(text)
    return text or None


def _title_case(text: str) -> str:
    """ "ANNE-MARIE O'BRIEN VAN DER BERG" -> "Anne-Marie O'Brien van der Berg" (particles lower unless first)."""
    out = []
    for index, part in enumerate(_NAME_PART.findall(text.lower())):
        keep_lower = index > 0 and part in _NAME_PARTICLES
        out.append(part if keep_lower else part[:1].upper() + part[1:])
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------------------
# Email and domains
# ---------------------------------------------------------------------------------------------------------------------

_DISPLAY_NAME = re.compile(r"^[^<>]*<([^<>]*)>$")  # "Jane Doe <jane@acme.com>"
_ASCII_HOST = re.compile(
    r"^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*$"
)  # one regex: hot at index build
_BAD_LOCAL_CHARS = re.compile(r"[\s\x00-\x1f\x7f(),:;<>\[\]\\\"]")
# RFC 2606 / 6761 names that never belong to a real employer.
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost", "local", "internal"})
_RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})


def email(value: object) -> str | None:
    """The normalized address (trimmed, lowercase, no ``mailto:``, punycode domain); raises with a reason if bad."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    return _normalize_email(text, value)


def _normalize_email(text: str, original: object) -> str:
    address, reason = _email_cached(text)
    if address is None:
        raise _invalid("email", original, reason)
    return address


@lru_cache(maxsize=WORKING_SET)
def _email_cached(text: str) -> tuple[str | None, str]:
    # Outcomes are cached as (value, reason) rather than exceptions, which would pin their tracebacks in memory.
    try:
        return _parse_email(text), ""
    except InvalidRecordError as exc:
        return None, exc.reason


def _parse_email(text: str) -> str:
    if is_placeholder(text):
        raise _invalid("email", text, "placeholder")
    display = _DISPLAY_NAME.match(text)
    if display:
        text = display.group(1).strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].split("?", 1)[0].strip()
    if len(text) > MAX_EMAIL_LENGTH:
        raise _invalid("email", text, "too_long")
    if any(ch.isspace() for ch in text):
        raise _invalid("email", text, "space_inside")
    if "@" not in text:
        raise _invalid("email", text, "no_at_sign")
    if text.count("@") > 1:
        raise _invalid("email", text, "multiple_at_signs")
    local, _, host = text.partition("@")
    local = _check_local_part(local.lower() if local.isascii() else unicodedata.normalize("NFC", local).lower())
    domain = _check_email_domain(host)
    if is_placeholder(local) and domain in _RESERVED_DOMAINS:
        raise _invalid("email", text, "placeholder")
    address = f"{local}@{domain}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise _invalid("email", text, "too_long")
    return address


def _check_local_part(local: str) -> str:
    if not local:
        raise _invalid("email local part", local, "empty_local_part")
    if len(local) > MAX_LOCAL_PART:
        raise _invalid("email local part", local, "too_long")
    if local.startswith(".") or local.endswith(".") or ".." in local or _BAD_LOCAL_CHARS.search(local):
        raise _invalid("email local part", local, "bad_local_part")
    return local


def _check_email_domain(host: str) -> str:
    domain = ascii_host(host)
    if "." not in domain:
        raise _invalid("email domain", host, "bad_domain")
    tld = domain.rsplit(".", 1)[1]
    if tld.isdigit():
        raise _invalid("email domain", host, "ip_address")
    if tld in _RESERVED_TLDS or domain in _RESERVED_DOMAINS:
        raise _invalid("email domain", host, "reserved_domain")
    return domain


def ascii_host(host: str) -> str:
    """A lowercase ASCII (punycode) host name with valid labels; raises InvalidRecordError(reason="bad_domain")."""
    value, reason = _ascii_host_cached(host)
    if value is None:
        raise _invalid("host", host, reason)
    return value


@lru_cache(maxsize=WORKING_SET)
def _ascii_host_cached(host: str) -> tuple[str | None, str]:
    try:
        return _to_ascii_host(host), ""
    except InvalidRecordError as exc:
        return None, exc.reason


def _to_ascii_host(host: str) -> str:
    text = host.strip().rstrip(".")
    if not text:
        raise _invalid("host", host, "bad_domain")
    if not text.isascii():
        try:
            # UTS 46 maps full-width dots, uppercase and compatibility forms the way browsers do.
            text = idna.encode(text, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise _invalid("host", host, "bad_domain") from exc
    text = text.lower()
    if len(text) > 253:
        raise _invalid("host", host, "too_long")
    if not _ASCII_HOST.match(text):
        raise _invalid("host", host, "bad_domain")
    if "xn--" in text:
        for label in text.split("."):
            if label.startswith("xn--"):
                _check_punycode_label(label, host)
    return text


def _check_punycode_label(label: str, host: str) -> None:
    try:
        idna.decode(label)
    except (idna.IDNAError, UnicodeError) as exc:
        raise _invalid("host", host, "bad_domain") from exc


# Offline on purpose: the bundled Public Suffix List snapshot, no fetch, no cache directory.
# A routing daemon must not stall (or behave differently) because publicsuffix.org is unreachable.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def registered_domain(value: object) -> str | None:
    """The registrable domain of an email, URL or host: ``https://www.eu.acme.co.uk:8080/x`` -> ``acme.co.uk``."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    # Cached by host, not by the whole input: a million addresses at one employer cost one suffix lookup.
    domain, reason = _registered_domain_cached(_host_of(text))
    if domain is None:
        raise _invalid("domain", value, "placeholder" if is_placeholder(text) else reason)
    return domain


@lru_cache(maxsize=DOMAIN_WORKING_SET)
def _registered_domain_cached(host: str) -> tuple[str | None, str]:
    try:
        return _registered_domain(host), ""
    except InvalidRecordError as exc:
        return None, exc.reason


def _registered_domain(raw_host: str) -> str:
    host = ascii_host(raw_host)
    parts = _EXTRACT.extract_str(host)
    if parts.ipv4 or parts.ipv6:
        raise _invalid("domain", raw_host, "ip_address")
    if not parts.suffix or not parts.domain:
        raise _invalid("domain", raw_host, "no_public_suffix")
    return f"{parts.domain}.{parts.suffix}"


def _host_of(text: str) -> str:
    """The host part of an email address, a URL (with or without scheme) or a bare host[:port]."""
    if "://" in text or "/" in text:
        try:
            return urlsplit(text if "://" in text or text.startswith("//") else "//" + text).hostname or ""
        except ValueError:  # an unmatched bracket (urlsplit) or a malformed port (hostname): no host we can trust
            return ""
    if "@" in text:
        text = text.rpartition("@")[2]
    return text.split(":", 1)[0] if text.count(":") == 1 else text


# ---------------------------------------------------------------------------------------------------------------------
# Countries
# ---------------------------------------------------------------------------------------------------------------------

# What people type that pycountry's names and codes do not cover (keys are folded: see _country_key).
_COUNTRY_ALIASES = {
    "usa": "US",
    "us": "US",
    "us of a": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "deutschland": "DE",
    "germany": "DE",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "nederland": "NL",
    "holland": "NL",
    "the netherlands": "NL",
    "espana": "ES",
    "brasil": "BR",
    "korea": "KR",
    "south korea": "KR",
    "republic of korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "uae": "AE",
    "emirates": "AE",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "turkey": "TR",
    "turkiye": "TR",
    "vietnam": "VN",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "taiwan": "TW",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "macedonia": "MK",
    "hong kong": "HK",
    "macau": "MO",
    "osterreich": "AT",
    "italia": "IT",
    "belgique": "BE",
    "belgie": "BE",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "polska": "PL",
    "mexique": "MX",
    "nippon": "JP",
    "prc": "CN",
    "peoples republic of china": "CN",
    "mainland china": "CN",
    "bharat": "IN",
    "eire": "IE",
    "ksa": "SA",
    "saudi": "SA",
    "magyarorszag": "HU",
    "hellas": "GR",
    "ellada": "GR",
    "the philippines": "PH",
    "the bahamas": "BS",
    "the gambia": "GM",
    "vatican": "VA",
    "palestine": "PS",
    "brunei": "BN",
    "cape verde": "CV",
    "swaziland": "SZ",
    "burma": "MM",
    "east timor": "TL",
    "micronesia": "FM",
    "kosovo": "XK",
}
_COUNTRY_KEY_DROP = re.compile(r"[^\w\s]")
# pycountry's own ambiguous two-letter codes that collide with English words are still valid codes: "IN", "TO", "BE"
# typed in a country field mean India, Tonga and Belgium, so they stay.


def _country_key(text: str) -> str:
    folded = fold_text(text)
    # "U.S.A." -> "usa", "Korea, Republic of" -> "korea republic of"; dots vanish so initialisms fold together.
    return _WHITESPACE.sub(" ", _COUNTRY_KEY_DROP.sub(lambda m: "" if m.group() == "." else " ", folded)).strip()


def _build_country_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if name:
                table.setdefault(_country_key(name), code)
        if "," in country.name:  # "Korea, Republic of" -> also "republic of korea"
            head, _, tail = country.name.partition(",")
            table.setdefault(_country_key(f"{tail} {head}"), code)
    table["xk"] = "XK"  # Kosovo: user-assigned code every CRM uses, absent from ISO 3166-1
    for alias, code in _COUNTRY_ALIASES.items():
        table[_country_key(alias)] = code
    return table


_COUNTRIES = _build_country_table()


def country_code(value: object) -> str | None:
    """ISO 3166-1 alpha-2 code for a country name, code or common alias (case and accent insensitive)."""
    if value is None:
        return None
    text = clean_text(value, 100)
    if text is None:
        return None
    code = _COUNTRIES.get(_country_key(text))
    if code is not None:
        return code
    if is_placeholder(text):
        raise _invalid("country", value, "placeholder")
    raise _invalid("country", value, "unknown_country")


# ---------------------------------------------------------------------------------------------------------------------
# Numbers and phones
# ---------------------------------------------------------------------------------------------------------------------

_EMPLOYEE_NOISE = re.compile(r"(employees?|people|staff|persons?|fte|headcount|approx\.?|about|around|ca\.|~|\s)", re.I)
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(\.\d{3})+$")  # "1.200" written the European way
_SCALED = re.compile(r"^(\d+(?:\.\d+)?)([km])$")
_BAND = re.compile(r"^(\d+)(?:-|–|—|to)(\d+)$")
_AT_LEAST = re.compile(r"^(?:>|>=|over|morethan|atleast)?(\d+)\+?$")
_BELOW = re.compile(r"^(?:<|under|lessthan|fewerthan)(\d+)$")


def employee_count(value: object) -> int | None:
    """Headcount as an int. A band ("51-200") or a bound ("500+", "<10") gives its LOWER bound (see below)."""
    # Why the lower bound: the bands CRMs and LinkedIn use (11-50, 51-200, 201-500...) start just above the usual
    # segment thresholds, so the lower bound keeps a band in its segment, and it agrees with "500+" meaning "at least".
    if value is None:
        return None
    if isinstance(value, bool):
        raise _invalid("employee count", value, "not_a_number")
    if isinstance(value, int | float):
        return _plausible_employees(value, value)
    text = clean_text(value, 64)
    if text is None:
        return None
    if is_placeholder(text):
        raise _invalid("employee count", value, "placeholder")
    return _plausible_employees(_parse_employee_text(text.lower(), value), value)


def _parse_employee_text(text: str, original: object) -> float:
    text = _EMPLOYEE_NOISE.sub("", text).replace(",", "").replace("_", "").replace("'", "")
    if _THOUSANDS_DOT.match(text):
        text = text.replace(".", "")
    if (scaled := _SCALED.match(text)) is not None:
        return float(scaled.group(1)) * (1_000 if scaled.group(2) == "k" else 1_000_000)
    if (band := _BAND.match(text)) is not None:
        low, high = int(band.group(1)), int(band.group(2))
        if low > high:
            raise _invalid("employee count", original, "bad_range")
        return low
    if (at_least := _AT_LEAST.match(text)) is not None:
        return int(at_least.group(1))
    if (below := _BELOW.match(text)) is not None:
        return min(1, int(below.group(1)) - 1)  # "<10" is the band 1-9
    try:
        return float(text)
    except ValueError:
        raise _invalid("employee count", original, "not_a_number") from None


def _plausible_employees(number: float, original: object) -> int:
    if not math.isfinite(number):
        raise _invalid("employee count", original, "not_a_number")
    if number < 0:
        raise _invalid("employee count", original, "negative")
    if number > MAX_EMPLOYEES:
        raise _invalid("employee count", original, "implausible")
    return int(number)


def phone_e164(value: object, country_hint: str | None = None) -> str | None:
    """The number in E.164 (``+4930123456``), using ``country_hint`` (code or name) for national numbers; else None."""
    text = clean_text(value, 64)
    if text is None or is_placeholder(text):
        return None
    return _phone_cached(text, country_hint)


@lru_cache(maxsize=WORKING_SET)  # phonenumbers parses at ~15k/s; the same switchboard numbers recur across leads
def _phone_cached(text: str, country_hint: str | None) -> str | None:
    region = optional(country_code, country_hint) if country_hint else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    # "Possible" (right length for the country) rather than "valid": number plans change faster than the
    # library, and a rep can still dial a number the metadata does not know yet.
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
