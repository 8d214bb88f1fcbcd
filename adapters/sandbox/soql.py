"""A SOQL subset: lexer and parser to an AST of frozen dataclasses. Pure: no I/O.

Supported: ``SELECT`` of fields, dotted parent fields (``Owner.Email``), ``COUNT()`` and
``FIELDS(ALL|STANDARD|CUSTOM)``; ``FROM`` one sObject; ``WHERE`` with AND/OR/NOT and parentheses (mixing AND and
OR without parentheses is an error, as in Salesforce); ``= != <> < <= > >= IN / NOT IN / LIKE``; string, number,
TRUE/FALSE, NULL, datetime, date and relative date literals (``TODAY``, ``LAST_N_DAYS:7``); ``ORDER BY`` with
ASC/DESC and NULLS FIRST/LAST; ``LIMIT``; ``OFFSET``. Anything else raises :class:`SoqlError` with Salesforce's
error code.

``soql_compile.compile_query`` turns the AST into SQL over the object store, every value bound as a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from connector.errors import RequestError

MAX_OFFSET = 2000  # Salesforce refuses OFFSET above 2,000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SoqlError(RequestError):
    """A query Salesforce would refuse; ``error_code`` is its errorCode (MALFORMED_QUERY, INVALID_FIELD, ...)."""

    def __init__(self, message: str, error_code: str = "MALFORMED_QUERY") -> None:
        super().__init__(message, crm="salesforce", status=400)
        self.error_code = error_code


# -- AST ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldPath:
    """A field reference as written: ``("Email",)`` or ``("Owner", "Email")``."""

    parts: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class FieldsMacro:
    """``FIELDS(ALL)``, ``FIELDS(STANDARD)`` or ``FIELDS(CUSTOM)``."""

    which: str


@dataclass(frozen=True)
class StringValue:
    """A string literal: ``value`` unescaped; ``like`` the same text as a LIKE pattern with ``\\`` as escape."""

    value: str
    like: str


@dataclass(frozen=True)
class NumberValue:
    value: int | float


@dataclass(frozen=True)
class BoolValue:
    value: bool


@dataclass(frozen=True)
class NullValue:
    pass


@dataclass(frozen=True)
class DateTimeValue:
    """A datetime literal, as epoch milliseconds (UTC)."""

    ms: int


@dataclass(frozen=True)
class DateValue:
    value: date


@dataclass(frozen=True)
class DateConstant:
    """A relative date literal such as ``TODAY`` or ``LAST_N_DAYS:30`` (``n`` for the ``:n`` forms)."""

    name: str
    n: int | None = None


Value = StringValue | NumberValue | BoolValue | NullValue | DateTimeValue | DateValue | DateConstant


@dataclass(frozen=True)
class Comparison:
    field: FieldPath
    op: str  # one of = != < <= > >=  (``<>`` is normalised to ``!=``)
    value: Value


@dataclass(frozen=True)
class InList:
    field: FieldPath
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True)
class Like:
    field: FieldPath
    pattern: StringValue


@dataclass(frozen=True)
class Not:
    inner: Condition


@dataclass(frozen=True)
class And:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Condition, ...]


Condition = Comparison | InList | Like | Not | And | Or


@dataclass(frozen=True)
class OrderItem:
    field: FieldPath
    descending: bool = False
    nulls_last: bool | None = None  # None: Salesforce's default (first when ascending, last when descending)


@dataclass(frozen=True)
class Query:
    """A parsed SOQL query."""

    sobject: str
    fields: tuple[FieldPath | FieldsMacro, ...]
    count: bool = False
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None


# -- lexer ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # STRING NUMBER DATETIME DATE IDENT OP LPAREN RPAREN COMMA COLON EOF
    text: str
    pos: int
    value: object = None


_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![\w:])")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?(?![\w.])")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_PUNCT = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", ":": "COLON"}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def tokenize(text: str) -> list[Token]:
    """Split SOQL into tokens; raises SoqlError on an unterminated string or a stray character."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        token = _next_token(text, pos)
        tokens.append(token)
        pos = token.pos + len(token.text)
    tokens.append(Token("EOF", "", len(text)))
    return tokens


def _next_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char == "'":
        return _string_token(text, pos)
    for pattern, kind in ((_DATETIME, "DATETIME"), (_DATE, "DATE"), (_NUMBER, "NUMBER")):
        match = pattern.match(text, pos)
        if match:
            return Token(kind, match.group(0), pos, _literal_value(kind, match))
    match = _IDENT.match(text, pos)
    if match:
        return Token("IDENT", match.group(0), pos)
    for op in _OPS:
        if text.startswith(op, pos):
            return Token("OP", op, pos)
    if char in _PUNCT:
        return Token(_PUNCT[char], char, pos)
    raise SoqlError(f"unexpected character {char!r} at column {pos + 1}")


def _literal_value(kind: str, match: re.Match[str]) -> object:
    try:
        if kind == "NUMBER":
            return float(match.group(0)) if match.group(1) else int(match.group(0))
        if kind == "DATE":
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        return _datetime_ms(match)
    except ValueError as exc:
        raise SoqlError(f"invalid literal {match.group(0)!r}: {exc}") from None


def _datetime_ms(match: re.Match[str]) -> int:
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, zone = match.group(7), match.group(8)
    micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
    stamp = datetime(year, month, day, hour, minute, second, micros, tzinfo=UTC)
    offset_minutes = 0
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        offset_minutes = int(digits[:2]) * 60 + int(digits[2:])
        offset_minutes = -offset_minutes if zone[0] == "-" else offset_minutes
    return (stamp - _EPOCH) // timedelta(milliseconds=1) - offset_minutes * 60_000


def _string_token(text: str, start: int) -> Token:
    """Lex a quoted string, turning SOQL escapes into both a plain value and a LIKE pattern."""
    value: list[str] = []
    like: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "'":
            return Token("STRING", text[start : pos + 1], start, StringValue("".join(value), "".join(like)))
        if char != "\\":
            value.append(char)
            like.append("\\" + char if char == "\\" else char)
            pos += 1
            continue
        plain, pattern, width = _escape(text, pos)
        value.append(plain)
        like.append(pattern)
        pos += width
    raise SoqlError(f"unterminated string starting at column {start + 1}")


def _escape(text: str, pos: int) -> tuple[str, str, int]:
    """One backslash escape at ``pos``: (plain text, LIKE pattern text, characters consumed)."""
    code = text[pos + 1 : pos + 2]
    if code in ("%", "_"):  # only meaningful in LIKE; elsewhere the character itself
        return code, "\\" + code, 2
    if code == "\\":
        return "\\", "\\\\", 2
    if code.lower() in _ESCAPES:
        plain = _ESCAPES[code.lower()]
        return plain, plain, 2
    if code.lower() == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[pos + 2 : pos + 6]):
        plain = chr(int(text[pos + 2 : pos + 6], 16))
        return plain, "\\" + plain if plain in "%_\\" else plain, 6
    raise SoqlError(f"Invalid string literal: illegal escape sequence '\\{code}' at column {pos + 1}")


# -- parser ---------------------------------------------------------------------------------------------
_DATE_CONSTANTS = frozenset(
    {
        "TODAY",
        "YESTERDAY",
        "TOMORROW",
        "LAST_WEEK",
        "THIS_WEEK",
        "NEXT_WEEK",
        "LAST_MONTH",
        "THIS_MONTH",
        "NEXT_MONTH",
        "LAST_YEAR",
        "THIS_YEAR",
        "NEXT_YEAR",
        "LAST_90_DAYS",
        "NEXT_90_DAYS",
    }
)
_DATE_CONSTANTS_N = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO"})
_RESERVED = frozenset({"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "LIMIT", "OFFSET"})


def parse(text: str) -> Query:
    """Parse one SOQL statement; raises SoqlError (MALFORMED_QUERY) on anything outside the subset."""
    return _Parser(text).query()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    # token helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.current.kind == "IDENT" and self.current.text.upper() in words

    def accept_keyword(self, word: str) -> bool:
        if self.at_keyword(word):
            self.advance()
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.accept_keyword(word):
            self.fail(f"expected {word}")

    def expect(self, kind: str) -> Token:
        if self.current.kind != kind:
            self.fail(f"expected {kind.lower()}")
        return self.advance()

    def fail(self, why: str) -> None:
        token = self.current
        shown = token.text or "<EOF>"
        raise SoqlError(f"unexpected token: '{shown}' at column {token.pos + 1} ({why})")

    # grammar
    def query(self) -> Query:
        self.expect_keyword("SELECT")
        count, fields = self.select_list()
        self.expect_keyword("FROM")
        sobject = self.identifier()
        where = self.condition() if self.accept_keyword("WHERE") else None
        order_by = self.order_by() if self.at_keyword("ORDER") else ()
        limit = self.integer() if self.accept_keyword("LIMIT") else None
        offset = self.integer() if self.accept_keyword("OFFSET") else None
        if self.current.kind != "EOF":
            self.fail("expected end of query")
        if offset is not None and offset > MAX_OFFSET:
            raise SoqlError(f"maximum SOQL offset allowed is {MAX_OFFSET}", "NUMBER_OUTSIDE_VALID_RANGE")
        return Query(sobject, tuple(fields), count, where, order_by, limit, offset)

    def select_list(self) -> tuple[bool, list[FieldPath | FieldsMacro]]:
        if self.at_keyword("COUNT") and self.tokens[self.index + 1].kind == "LPAREN":
            self.advance()
            self.expect("LPAREN")
            self.expect("RPAREN")
            return True, []
        fields: list[FieldPath | FieldsMacro] = [self.select_item()]
        while self.current.kind == "COMMA":
            self.advance()
            fields.append(self.select_item())
        return False, fields

    def select_item(self) -> FieldPath | FieldsMacro:
        if self.at_keyword("FIELDS") and self.tokens[self.index + 1].kind == "LPAREN":
            self.advance()
            self.expect("LPAREN")
            which = self.identifier().upper()
            if which not in ("ALL", "STANDARD", "CUSTOM"):
                raise SoqlError(f"FIELDS({which}) is not supported")
            self.expect("RPAREN")
            return FieldsMacro(which)
        if self.current.kind == "LPAREN":
            raise SoqlError("sub-queries are not supported by the sandbox")
        return self.field_path()

    def identifier(self) -> str:
        if self.current.kind != "IDENT" or self.current.text.upper() in _RESERVED:
            self.fail("expected a name")
        return self.advance().text

    def field_path(self) -> FieldPath:
        return FieldPath(tuple(self.identifier().split(".")))

    def integer(self) -> int:
        token = self.expect("NUMBER")
        if not isinstance(token.value, int) or token.value < 0:
            raise SoqlError(f"expected a non-negative integer, got {token.text!r}")
        return token.value

    def condition(self) -> Condition:
        """A chain of terms joined by AND or by OR (not both: Salesforce wants parentheses then)."""
        items = [self.term()]
        joiner: str | None = None
        while self.at_keyword("AND", "OR"):
            word = self.advance().text.upper()
            if joiner is not None and word != joiner:
                raise SoqlError("mixing AND and OR needs parentheses")
            joiner = word
            items.append(self.term())
        if joiner is None:
            return items[0]
        return And(tuple(items)) if joiner == "AND" else Or(tuple(items))

    def term(self) -> Condition:
        if self.accept_keyword("NOT"):
            return Not(self.term())
        if self.current.kind == "LPAREN":
            self.advance()
            inner = self.condition()
            self.expect("RPAREN")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        field = self.field_path()
        if self.accept_keyword("LIKE"):
            token = self.expect("STRING")
            assert isinstance(token.value, StringValue)
            return Like(field, token.value)
        negated = self.accept_keyword("NOT")
        if negated or self.at_keyword("IN"):
            self.expect_keyword("IN")
            return InList(field, self.value_list(), negated)
        if self.current.kind != "OP":
            self.fail("expected an operator")
        op = self.advance().text
        return Comparison(field, "!=" if op == "<>" else op, self.value())

    def value_list(self) -> tuple[Value, ...]:
        self.expect("LPAREN")
        values = [self.value()]
        while self.current.kind == "COMMA":
            self.advance()
            values.append(self.value())
        self.expect("RPAREN")
        return tuple(values)

    def value(self) -> Value:
        token = self.current
        if token.kind == "STRING":
            self.advance()
            assert isinstance(token.value, StringValue)
            return token.value
        if token.kind in ("NUMBER", "DATETIME", "DATE"):
            self.advance()
            return _token_value(token)
        if token.kind == "IDENT":
            return self.keyword_value()
        self.fail("expected a value")
        raise AssertionError("unreachable")

    def keyword_value(self) -> Value:
        word = self.advance().text.upper()
        if word in ("TRUE", "FALSE"):
            return BoolValue(word == "TRUE")
        if word == "NULL":
            return NullValue()
        if word in _DATE_CONSTANTS:
            return DateConstant(word)
        if word in _DATE_CONSTANTS_N:
            self.expect("COLON")
            return DateConstant(word, self.integer())
        self.index -= 1
        self.fail("expected a value")
        raise AssertionError("unreachable")

    def order_by(self) -> tuple[OrderItem, ...]:
        self.expect_keyword("ORDER")
        self.expect_keyword("BY")
        items = [self.order_item()]
        while self.current.kind == "COMMA":
            self.advance()
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        field = self.field_path()
        descending = False
        if self.at_keyword("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        nulls_last: bool | None = None
        if self.accept_keyword("NULLS"):
            if not self.at_keyword("FIRST", "LAST"):
                self.fail("expected FIRST or LAST")
            nulls_last = self.advance().text.upper() == "LAST"
        return OrderItem(field, descending, nulls_last)


def _token_value(token: Token) -> Value:
    if token.kind == "NUMBER":
        assert isinstance(token.value, int | float)
        return NumberValue(token.value)
    if token.kind == "DATE":
        assert isinstance(token.value, date)
        return DateValue(token.value)
    assert isinstance(token.value, int)
    return DateTimeValue(token.value)
