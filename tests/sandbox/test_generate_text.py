"""The generator's small text rules: how names become addresses, and how dates, postcodes and bands are written."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.sandbox.gen_email import FreeMail, local_part
from adapters.sandbox.gen_people import employee_band
from adapters.sandbox.gen_text import fill, fold_ascii, iso_date, iso_ms, local_token, postcode, sf_datetime, slug
from adapters.sandbox.gen_vocab import Weighted


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Müller", "Mueller"),
        ("José", "Jose"),
        ("Łukasz", "Lukasz"),
        ("Søren", "Soren"),
        ("Groß", "Gross"),
        ("Zoë", "Zoe"),
    ],
)
def test_names_fold_to_ascii_the_way_people_spell_them_in_addresses(name: str, folded: str) -> None:
    assert fold_ascii(name) == folded


@pytest.mark.parametrize(
    ("pattern", "local"),
    [
        ("first.last", "sean.obrien"),
        ("flast", "sobrien"),
        ("f.last", "s.obrien"),
        ("first", "sean"),
        ("firstl", "seano"),
        ("first_last", "sean_obrien"),
        ("firstlast", "seanobrien"),
        ("last.first", "obrien.sean"),
    ],
)
def test_mail_patterns_make_the_local_parts_companies_use(pattern: str, local: str) -> None:
    assert local_part(pattern, "Seán", "O'Brien") == local


def test_multi_word_names_lose_their_spaces_and_punctuation() -> None:
    assert local_token("van der Berg") == "vanderberg"
    assert local_token("Hans-Peter") == "hanspeter"
    assert slug("Müller Logistik & Söhne", sep="-") == "mueller-logistik-soehne"
    assert slug("Müller Bau", sep="-", keep_unicode=True) == "müller-bau"


def test_free_mail_addresses_never_repeat_at_a_provider_even_for_the_same_name() -> None:
    mail, rng = FreeMail(), random.Random(1)
    addresses = [mail.address(rng, "gmail.com", "Maria", "Garcia") for _ in range(5000)]
    assert len(set(addresses)) == 5000
    assert all(re.fullmatch(r"[a-z._]+\d{3,}@gmail\.com", a) for a in addresses)


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_datetimes_are_written_as_each_crm_writes_them(epoch_ms: int) -> None:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    assert iso_ms(epoch_ms) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"
    assert sf_datetime(epoch_ms).endswith(f"{epoch_ms % 1000:03d}+0000")
    assert iso_date(epoch_ms) == moment.strftime("%Y-%m-%d")


@pytest.mark.parametrize(
    ("fmt", "prefix", "shape"),
    [
        ("#####", "100", r"100\d\d"),
        ("AA# #AA", "", r"[A-Z]{2}\d \d[A-Z]{2}"),
        ("#### AA", "10", r"10\d\d [A-Z]{2}"),
        ("#####-###", "01", r"01\d{3}-\d{3}"),
        ("L-####", "", r"L-\d{4}"),
        ("", "", r""),
    ],
)
def test_postcodes_follow_the_country_format_and_the_city_prefix(fmt: str, prefix: str, shape: str) -> None:
    rng = random.Random(3)
    assert all(re.fullmatch(shape, postcode(rng, fmt, prefix)) for _ in range(50))


def test_phone_templates_get_every_digit_filled() -> None:
    rng = random.Random(5)
    numbers = {fill(rng, "+1 (###) 555-01##") for _ in range(200)}
    assert all(re.fullmatch(r"\+1 \(\d{3}\) 555-01\d\d", n) for n in numbers)
    assert len(numbers) > 150


@pytest.mark.parametrize(
    ("employees", "band"),
    [
        (None, None),
        (1, "1-5"),
        (5, "1-5"),
        (6, "5-25"),
        (50, "25-50"),
        (100, "50-100"),
        (999, "500-1000"),
        (1001, "1000+"),
    ],
)
def test_employee_counts_map_to_hubspots_bands(employees: int | None, band: str | None) -> None:
    assert employee_band(employees) == band


def test_weighted_picks_follow_the_weights() -> None:
    picker = Weighted.of([("a", 1), ("b", 3)])
    rng = random.Random(0)
    share = sum(picker.pick(rng) == "b" for _ in range(20_000)) / 20_000
    assert 0.72 < share < 0.78
