"""Rule conditions: which fields a rule can test, how a test is evaluated, and why it failed.

A condition maps a field to a test (``in``, ``not_in``, ``equals``, ``min``/``max``, postal ``ranges``,
``exists``); all tests of a rule must hold. Geography and firmographics read the lead first and fall back to
its matched account (a lead form rarely says how many employees a company has; the account usually does).
Strings compare case-insensitively. Multi-valued fields (``products``, ``region``) hold when any value does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from connector.config.routing import Condition, Rule
from connector.routing.model import RoutingInput

Value = str | int | float | bool | tuple[str, ...] | None
_MEMO_LIMIT = 4_096  # failure reasons remembered per condition (a lead's values repeat: countries, tiers...)


def _lead_or_account(name: str) -> Callable[[RoutingInput], Any]:
    def read(inp: RoutingInput) -> Any:
        value = getattr(inp.lead, name)
        if value is None and inp.account is not None:
            value = getattr(inp.account, name, None)
        return value

    return read


def _country(inp: RoutingInput) -> str | None:
    value = inp.lead.country or (inp.account.country if inp.account else None)
    return value.upper() if value else None


def _state(inp: RoutingInput) -> str | None:
    """US-NY style (ISO 3166-2), whatever form the CRM held it in."""
    lead, account = inp.lead, inp.account
    state, country = (
        (lead.state, lead.country) if lead.state else (account.state, account.country) if account else (None, None)
    )
    if not state:
        return None
    state = state.upper()
    return state if "-" in state or not country else f"{country.upper()}-{state}"


FIELDS: dict[str, Callable[[RoutingInput], Any]] = {
    "country": _country,
    "state": _state,
    "postal_code": _lead_or_account("postal_code"),
    "employees": _lead_or_account("employees"),
    "industry": _lead_or_account("industry"),
    "city": lambda i: i.lead.city,
    "title": lambda i: i.lead.title,
    "source": lambda i: i.lead.source,
    "language": lambda i: i.lead.language,
    "products": lambda i: i.lead.products,
    "email_domain": lambda i: i.lead.email_domain,
    "crm": lambda i: i.lead.crm,
    "object": lambda i: i.lead.object,
    "fit": lambda i: i.fit,
    "activity": lambda i: i.activity,
    "grade": lambda i: i.grade,
    "outcome": lambda i: i.outcome,
    "match_method": lambda i: i.match_method,
    "match_confidence": lambda i: i.match_confidence,
}
ACCOUNT_FIELDS = frozenset(
    {"name", "domain", "country", "state", "postal_code", "employees", "industry", "is_customer"}
    | {"has_open_opportunity", "owner_key", "contact_count", "parent_id"}
)
MULTI_VALUED = frozenset({"products", "region"})
NUMERIC = frozenset({"employees", "match_confidence", "account.employees", "account.contact_count"})


def known_field(name: str) -> bool:
    """Whether ``name`` is a field rules may test."""
    if name in FIELDS or name == "region":
        return True
    prefix, _, rest = name.partition(".")
    return bool(rest) and (prefix == "properties" or (prefix == "account" and rest in ACCOUNT_FIELDS))


def field_value(name: str, inp: RoutingInput, regions: Mapping[str, tuple[str, ...]]) -> Value:
    """The value a rule sees for ``name`` (None when unknown)."""
    reader = FIELDS.get(name)
    if reader is not None:
        return reader(inp)
    if name == "region":
        places = {p for p in (_country(inp), _state(inp)) if p}
        return tuple(region for region, codes in regions.items() if places.intersection(codes))
    prefix, _, rest = name.partition(".")
    if prefix == "account":
        return getattr(inp.account, rest, None) if inp.account is not None else None
    return inp.lead.properties.get(rest)


def check_condition(name: str, condition: Condition, regions: set[str]) -> str | None:
    """A problem that makes the condition invalid (unknown field, unknown region, bad range), else None."""
    if not known_field(name):
        known = ", ".join([*FIELDS, "region", "account.<field>", "properties.<name>"])
        return f"unknown field (known: {known})"
    if name == "region":
        unknown = [v for v in (condition.in_ or ()) + (condition.not_in or ()) if v not in regions]
        if unknown:
            return f"unknown region(s) {unknown} (define them under routing.regions)"
    for text in condition.ranges or ():
        if parse_postal_range(text) is None:
            return f"bad postal range {text!r} (expected '10000-14999' or a prefix like '80*')"
    return None


@dataclass(frozen=True)
class PostalRange:
    """An inclusive range of same-length codes ('10000'..'14999') or a prefix ('80')."""

    low: str
    high: str
    prefix: bool

    def holds(self, code: str) -> bool:
        """Whether ``code`` falls in the range."""
        code = code.strip().upper().replace(" ", "")
        if self.prefix:
            return code.startswith(self.low)
        return len(code) >= len(self.low) and self.low <= code[: len(self.low)] <= self.high

    def within(self, other: PostalRange) -> bool:
        """Whether every code in this range is also in ``other``."""
        if other.prefix:
            return self.low.startswith(other.low) and (self.prefix or self.high.startswith(other.low))
        if self.prefix:
            return False
        return len(self.low) == len(other.low) and other.low <= self.low and self.high <= other.high


def parse_postal_range(text: str) -> PostalRange | None:
    """'10000-14999' -> range; '80*' -> prefix; None when malformed (low > high, lengths differ)."""
    text = text.strip().upper().replace(" ", "")
    if text.endswith("*") and text[:-1]:
        return PostalRange(text[:-1], text[:-1], prefix=True)
    low, sep, high = text.partition("-")
    if not sep:
        return PostalRange(low, low, prefix=False) if low else None
    if not low or len(low) != len(high) or low > high:
        return None
    return PostalRange(low, high, prefix=False)


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _as_set(values: tuple[Any, ...] | None) -> frozenset[Any]:
    return frozenset(_norm(v) for v in values or ())


@dataclass(frozen=True)
class CompiledCondition:
    """A condition ready to evaluate fast; ``failure`` says why it did not hold, in plain words."""

    field: str
    condition: Condition
    in_set: frozenset[Any] | None
    not_in_set: frozenset[Any] | None
    ranges: tuple[PostalRange, ...]
    in_shown: str = ""  # "[DE, AT]", rendered once: failure reasons are built for every non-matching rule

    _memo: dict[tuple[type, Any], str | None] = dataclass_field(default_factory=dict, compare=False, repr=False)

    def failure(self, value: Value) -> str | None:
        """None when the condition holds for ``value``, else the reason it does not (memoized per value)."""
        # The type is part of the key: 1, 1.0 and True hash alike but are shown differently in the reason.
        key = (type(value), value)
        try:
            return self._memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable custom property value: evaluate, do not remember
            return self._failure(value)
        found = self._failure(value)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[key] = found
        return found

    def _failure(self, value: Value) -> str | None:
        c = self.condition
        values = self._values(value)
        problem = None
        if c.exists is not None and bool(values) != c.exists:
            problem = f"expected it to be {'set' if c.exists else 'empty'}"
        elif self.in_set is not None and self.in_set.isdisjoint(values):
            problem = f"not one of {self.in_shown}"
        elif self.not_in_set is not None and not self.not_in_set.isdisjoint(values):
            problem = f"which is excluded ({_show(c.not_in)})"
        elif c.equals is not None and _norm(c.equals) not in values:
            problem = f"not {_show(c.equals)}"
        else:
            problem = self._numeric_failure(value) or self._range_failure(value)
        return None if problem is None else f"{self.field} is {_show(value)}, {problem}"

    def _values(self, value: Value) -> frozenset[Any] | tuple[Any, ...]:
        if value is None or value == "":
            return ()
        if isinstance(value, tuple | list | set | frozenset):
            return frozenset(_norm(v) for v in value)
        return (_norm(value),)

    def _numeric_failure(self, value: Value) -> str | None:
        c = self.condition
        if c.min is None and c.max is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "not a number to compare"
        if c.min is not None and value < c.min:
            return f"below {_num(c.min)}"
        if c.max is not None and value > c.max:
            return f"above {_num(c.max)}"
        return None

    def _range_failure(self, value: Value) -> str | None:
        if not self.ranges:
            return None
        if value is None or not any(r.holds(str(value)) for r in self.ranges):
            return f"outside {', '.join(self.condition.ranges or ())}"
        return None


def compile_condition(name: str, condition: Condition) -> CompiledCondition:
    """Pre-compute sets and ranges once per config."""
    ranges = tuple(r for r in (parse_postal_range(t) for t in condition.ranges or ()) if r is not None)
    return CompiledCondition(
        field=name,
        condition=condition,
        in_set=_as_set(condition.in_) if condition.in_ is not None else None,
        not_in_set=_as_set(condition.not_in) if condition.not_in is not None else None,
        ranges=ranges,
        in_shown=_show(condition.in_) if condition.in_ is not None else "",
    )


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its conditions compiled."""

    rule: Rule
    conditions: tuple[CompiledCondition, ...]
    description: str  # the conditions in plain words ("country in [DE, AT] and employees 200..999")

    def mismatch(
        self, inp: RoutingInput, regions: Mapping[str, tuple[str, ...]], seen: dict[str, Value] | None = None
    ) -> str | None:
        """None when every condition holds, else the first reason one does not.

        ``seen`` caches field values across the rules of one step (the same lead is tested against all of them).
        """
        seen = {} if seen is None else seen
        for cond in self.conditions:
            name = cond.field
            if name in seen:
                value = seen[name]
            else:
                value = seen[name] = field_value(name, inp, regions)
            failure = cond.failure(value)
            if failure is not None:
                return failure
        return None


def compile_rule(rule: Rule) -> CompiledRule:
    """Compile every condition of ``rule``."""
    conditions = tuple(compile_condition(k, v) for k, v in rule.when.items())
    return CompiledRule(rule, conditions, describe_conditions(rule.when))


def describe_conditions(when: Mapping[str, Condition]) -> str:
    """Conditions in plain words; 'every lead' when there are none."""
    parts = [_describe(name, c) for name, c in when.items()]
    return " and ".join(parts) if parts else "every lead"


def _describe(name: str, c: Condition) -> str:
    bits = []
    if c.in_ is not None:
        bits.append(f"{name} in {_show(c.in_)}")
    if c.not_in is not None:
        bits.append(f"{name} not in {_show(c.not_in)}")
    if c.equals is not None:
        bits.append(f"{name} = {_show(c.equals)}")
    if c.min is not None or c.max is not None:
        low = _num(c.min) if c.min is not None else ""
        high = _num(c.max) if c.max is not None else ""
        bits.append(f"{name} {low}..{high}")
    if c.ranges:
        bits.append(f"{name} in ranges {', '.join(c.ranges)}")
    if c.exists is not None:
        bits.append(f"{name} {'is set' if c.exists else 'is empty'}")
    return " and ".join(bits)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _show(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "empty" if value is None else str(value)
