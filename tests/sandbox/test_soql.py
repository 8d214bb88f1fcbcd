"""The SOQL parser and compiler: literals, grammar, errors, and values always bound as parameters."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce import format_soql

from adapters.sandbox.soql import (
    And,
    BoolValue,
    Comparison,
    DateConstant,
    DateTimeValue,
    DateValue,
    FieldPath,
    InList,
    Like,
    Not,
    NullValue,
    NumberValue,
    Or,
    SoqlError,
    StringValue,
    parse,
)
from adapters.sandbox.soql_compile import compile_query, format_datetime
from adapters.sandbox.store import ObjectStore

NOW_MS = int(datetime(2026, 11, 22, 15, 30, tzinfo=UTC).timestamp() * 1000)


def _where(soql_condition: str):
    return parse(f"SELECT Id FROM Lead WHERE {soql_condition}").where


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'plain'", StringValue("plain", "plain")),
        (r"'it\'s'", StringValue("it's", "it's")),
        (r"'back\\slash'", StringValue("back\\slash", "back\\\\slash")),
        (r"'a\nb\tc\rd\"e'", StringValue('a\nb\tc\rd"e', 'a\nb\tc\rd"e')),
        (r"'100\%'", StringValue("100%", "100\\%")),
        (r"'\u00e9'", StringValue("é", "é")),
        ("42", NumberValue(42)),
        ("-3.5", NumberValue(-3.5)),
        ("TRUE", BoolValue(True)),
        ("false", BoolValue(False)),
        ("null", NullValue()),
        ("2024-01-01", DateValue(date(2024, 1, 1))),
        ("2024-01-01T00:00:00Z", DateTimeValue(1704067200000)),
        ("2024-01-01T00:00:00.250Z", DateTimeValue(1704067200250)),
        ("2024-01-01T01:00:00+01:00", DateTimeValue(1704067200000)),
        ("2023-12-31T16:00:00-0800", DateTimeValue(1704067200000)),
        ("TODAY", DateConstant("TODAY")),
        ("LAST_N_DAYS:30", DateConstant("LAST_N_DAYS", 30)),
    ],
)
def test_literals(literal, expected):
    assert _where(f"Email = {literal}") == Comparison(FieldPath(("Email",)), "=", expected)


def test_grammar_builds_the_expected_tree():
    query = parse(
        "select Id, Owner.Email from Lead where (Email LIKE '%@x.test' or Company IN ('A', 'B')) "
        "and not IsConverted = true and Title not in ('CEO') order by LastName desc nulls last, Id limit 5 offset 10"
    )
    assert query.sobject == "Lead" and query.limit == 5 and query.offset == 10
    assert query.fields == (FieldPath(("Id",)), FieldPath(("Owner", "Email")))
    email = FieldPath(("Email",))
    assert query.where == And(
        (
            Or(
                (
                    Like(email, StringValue("%@x.test", "%@x.test")),
                    InList(FieldPath(("Company",)), (StringValue("A", "A"), StringValue("B", "B"))),
                )
            ),
            Not(Comparison(FieldPath(("IsConverted",)), "=", BoolValue(True))),
            InList(FieldPath(("Title",)), (StringValue("CEO", "CEO"),), negated=True),
        )
    )
    assert [(o.field.parts, o.descending, o.nulls_last) for o in query.order_by] == [
        (("LastName",), True, True),
        (("Id",), False, None),
    ]


@pytest.mark.parametrize(
    "soql",
    [
        "",
        "SELECT FROM Lead",
        "SELECT Id Lead",
        "SELECT Id FROM Lead WHERE",
        "SELECT Id FROM Lead WHERE Email = ",
        "SELECT Id FROM Lead WHERE Email = 'x",
        r"SELECT Id FROM Lead WHERE Email = 'bad \q escape'",
        "SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3",
        "SELECT Id FROM Lead WHERE (A = 1",
        "SELECT Id FROM Lead LIMIT -1",
        "SELECT Id FROM Lead LIMIT x",
        "SELECT Id FROM Lead ORDER BY",
        "SELECT Id FROM Lead ; DROP TABLE objects",
        "SELECT Id FROM Lead WHERE CreatedDate = 2024-13-01T00:00:00Z",
        "SELECT (SELECT Id FROM Tasks) FROM Lead",
    ],
)
def test_malformed_queries(soql):
    with pytest.raises(SoqlError) as caught:
        parse(soql)
    assert caught.value.error_code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT Nope FROM Lead", "INVALID_FIELD"),
        ("SELECT Owner.Nope FROM Lead", "INVALID_FIELD"),
        ("SELECT Nope.Name FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Lead ORDER BY Nope", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE IsConverted > true", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE NumberOfEmployees LIKE '1%'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE NumberOfEmployees = 'ten'", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE Email = TODAY", "MALFORMED_QUERY"),
    ],
)
def test_schema_errors(soql, code):
    with pytest.raises(SoqlError) as caught:
        compile_query(parse(soql), now_ms=NOW_MS)
    assert caught.value.error_code == code


def test_system_fields_map_to_indexed_columns():
    compiled = compile_query(
        parse("SELECT Id FROM Lead WHERE SystemModstamp > 2024-01-01T00:00:00Z ORDER BY SystemModstamp, Id"),
        now_ms=NOW_MS,
    )
    assert compiled.where_sql == "objects.updated_ms > ?" and compiled.params == (1704067200000,)
    assert compiled.order_sql == "objects.updated_ms ASC, objects.seq ASC"
    store = ObjectStore()
    sql, params = compiled.select_sql(include_deleted=False)
    plan = " ".join(str(row) for row in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "objects_updated" in plan and "TEMP B-TREE" not in plan


@pytest.mark.parametrize(
    ("literal", "low", "high"),
    [
        ("TODAY", "2026-11-22", "2026-11-23"),
        ("YESTERDAY", "2026-11-21", "2026-11-22"),
        ("LAST_N_DAYS:7", "2026-11-15", "2026-11-23"),
        ("NEXT_N_DAYS:2", "2026-11-23", "2026-11-25"),
        ("N_DAYS_AGO:3", "2026-11-19", "2026-11-20"),
        ("THIS_WEEK", "2026-11-22", "2026-11-29"),
        ("LAST_MONTH", "2026-10-01", "2026-11-01"),
        ("THIS_YEAR", "2026-01-01", "2027-01-01"),
    ],
)
def test_relative_date_literals_are_day_ranges(literal, low, high):
    compiled = compile_query(parse(f"SELECT Id FROM Task WHERE ActivityDate = {literal}"), now_ms=NOW_MS)
    assert compiled.params == (low, high)
    on_column = compile_query(parse(f"SELECT Id FROM Task WHERE CreatedDate >= {literal}"), now_ms=NOW_MS)
    assert on_column.params == (int(datetime.fromisoformat(low).replace(tzinfo=UTC).timestamp() * 1000),)


def test_format_datetime_is_salesforce_shaped():
    assert format_datetime(1704067200123) == "2024-01-01T00:00:00.123+0000"


# -- values are bound, never spliced ---------------------------------------------------------------------------
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


_ROUND_TRIP = "SELECT Id FROM Lead WHERE LastName = {} AND Company != 'x'"
_REFERENCE_SQL = compile_query(parse(format_soql(_ROUND_TRIP, "reference")), now_ms=NOW_MS).where_sql


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_any_string_round_trips_through_format_soql_to_a_bound_parameter(value):
    query = parse(format_soql(_ROUND_TRIP, value))
    assert isinstance(query.where, And)
    first = query.where.items[0]
    assert isinstance(first, Comparison) and isinstance(first.value, StringValue)
    assert (first.field, first.op, first.value.value) == (FieldPath(("LastName",)), "=", value)
    compiled = compile_query(query, now_ms=NOW_MS)
    assert compiled.params == (value, "x")
    assert compiled.where_sql == _REFERENCE_SQL  # the SQL text never depends on a value


@settings(max_examples=300, deadline=None)
@given(_TEXT, _TEXT)
def test_like_patterns_from_format_soql_match_literally(prefix, rest):
    compiled = compile_query(
        parse(format_soql("SELECT Id FROM Lead WHERE LastName LIKE '{:like}%'", prefix)), now_ms=NOW_MS
    )
    (pattern,) = compiled.params
    conn = sqlite3.connect(":memory:")
    matches = conn.execute("SELECT ? LIKE ? ESCAPE '\\'", (prefix + rest, pattern)).fetchone()[0]
    assert matches == 1
    if prefix and not any(c.isalpha() for c in prefix):  # no case folding in play: a changed prefix must not match
        marker = "\u2603" if not prefix.startswith("\u2603") else "\u2604"  # never the prefix's own first char
        assert conn.execute("SELECT ? LIKE ? ESCAPE '\\'", (marker + prefix, pattern)).fetchone()[0] == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=5))
def test_in_lists_from_format_soql_bind_every_value(values):
    compiled = compile_query(parse(format_soql("SELECT Id FROM Lead WHERE Email IN {}", values)), now_ms=NOW_MS)
    assert compiled.params == tuple(values)
