import pytest

from connector.matching.names import GENERIC_WORDS, name_key, name_similarity, prior_weight, token_similarity


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Acme Corp", "acme"),
        ("ACME CORPORATION", "acme"),
        ("The Acme Company, Inc.", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Müller & Söhne GmbH & Co. KG", "muller sohne"),
        ("Muller und Sohne", "muller sohne"),
        ("Johnson & Johnson", "johnson johnson"),
        ("Johnson and Johnson", "johnson johnson"),
        ("S.A.P. SE", "sap"),
        ("McDonald's Corporation", "mcdonald"),
        ("Société Générale S.A.", "societe generale"),
        ("Coca-Cola Company", "coca cola"),
        ("Acme Technologies", "acme technologie"),
        ("Acme Technology", "acme technologie"),
        ("Acme Intl", "acme international"),
        ("Acme UK Ltd", "acme uk"),  # "UK" locates a subsidiary; it is not a legal form here
        ("Nordic Ørsted Energi A/S", "nordic orsted energi"),
        ("Amazon.com, Inc.", "amazon"),
        ("salesforce.com, inc.", "salesforce"),
        ("AG", "ag"),  # nothing but a legal form: keep the word rather than lose the name
        ("株式会社サクラ", "株式会社サクラ"),
    ],
)
def test_name_keys(raw, key):
    assert name_key(raw).key == key


@pytest.mark.parametrize("raw", [None, "", "  ", "N/A", "-", "unknown", "test"])
def test_unusable_names_have_no_key(raw):
    assert name_key(raw) is None


def test_acronyms_include_a_dropped_corporation_word():
    assert "ibm" in name_key("International Business Machines Corp").acronyms
    assert "udc" in name_key("United Data Corporation Inc").acronyms
    assert name_key("Acme").acronyms == ()


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("northwind", "northwind", 1.0),
        ("northwind", "northwnd", 0.92),  # dropped letter
        ("analytics", "analytcis", 0.92),  # swapped letters
        ("dynamic", "dynamcis", 0.92),  # swap before a plural "s"
        ("acme", "acmee", 0.0),  # too short to call it a typo
        ("northwind", "southwind", 0.0),  # two typos are allowed only from eleven letters on
        ("internationale", "intrenationalle", 0.84),
    ],
)
def test_token_similarity(a, b, expected):
    assert token_similarity(a, b) == pytest.approx(expected, abs=0.01)


def _sim(a, b, known=frozenset()):
    return name_similarity(name_key(a), name_key(b), lambda t: 3.0 * prior_weight(t), known.__contains__)


def test_generic_words_weigh_little():
    assert {"group", "holding", "international", "solution", "technologie", "global"} <= GENERIC_WORDS
    assert _sim("Acme", "Acme Group") > 0.85
    assert _sim("Acme", "Acme Analytics") < 0.7


def test_lookalike_companies_score_low():
    assert _sim("Acme", "Acmeo") == 0.0
    assert _sim("Acme Logistics", "Acme Analytics") <= 0.5


def test_typo_in_a_known_word_is_not_a_typo():
    assert _sim("Vorraly Aerospace", "Vorbaly Aerospace") > 0.8  # unknown word: read as a typo
    assert _sim("Vorraly Aerospace", "Vorbaly Aerospace", known=frozenset(name_key("Vorraly").tokens)) < 0.8


def test_word_boundaries_do_not_matter():
    assert _sim("NorthWind", "North Wind") == 1.0
    assert _sim("Northwnd", "North Wind") > 0.8
