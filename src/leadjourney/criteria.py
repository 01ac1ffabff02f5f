"""The ``[[definitions]]`` criteria grammar: ``field op value`` checks a stage's people must meet.

>>> parse_criterion("employee_count >= 50").op
'>='
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leadjourney.casefold import lower_text

# [[definitions]] criteria: field -> the type it compares as (see the template for the grammar)
CRITERIA_FIELDS: dict[str, str] = {
    "employee_count": "number",
    "industry": "text",
    "job_title": "text",
    "country": "text",
    "source": "text",
    "status": "text",
    "persona": "text",
    "touches": "number",  # touchpoints at or before entering the stage
    "human_touches": "number",  # of those, actor = human
    "has_touch": "kind",  # a touchpoint of this kind at or before entering the stage
}
BEHAVIOUR_FIELDS = ("touches", "human_touches", "has_touch")
CRITERIA_OPERATORS: dict[str, tuple[str, ...]] = {
    "number": ("=", "!=", "<", "<=", ">", ">=", "in", "not in"),
    "text": ("=", "!=", "in", "not in", "matches"),
    "kind": ("=", "!=", "in", "not in"),
}
LEAD_STATUSES = ("open", "disqualified", "converted")
_CRITERION = re.compile(
    r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|!=|==|=|<|>|not\s+in\b|in\b|matches\b)\s*(?P<value>.*?)\s*$",
    re.IGNORECASE,
)
_LITERAL = re.compile(r"\s*(?:(?P<num>[-+]?\d+(?:\.\d+)?)|'(?P<sq>[^']*)'|\"(?P<dq>[^\"]*)\")\s*")


@dataclass(frozen=True)
class Criterion:
    """One condition of a ``[[definitions]]`` block: ``field op value``, e.g. ``employee_count >= 50``.

    ``values`` holds the one value, or the list of ``in`` / ``not in``; text is lower-cased
    (compared ignoring case) except the regular expression of ``matches``.
    """

    text: str
    field: str
    op: str
    values: tuple[float | str, ...]

    @property
    def is_behaviour(self) -> bool:
        return self.field in BEHAVIOUR_FIELDS


@dataclass(frozen=True)
class Definition:
    """A ``[[definitions]]`` term of the Definition Alignment Document (see the template)."""

    term: str
    definition: str
    stage: str | None = None  # the configured stage its criteria apply to
    criteria: tuple[Criterion, ...] = ()  # all must hold when a person enters the stage
    sla_minutes: float | None = None  # speed-to-lead SLA: first human touch within this many minutes


def parse_criterion(text: str) -> Criterion:
    """Read one criterion (``field op value``); raises ValueError naming what is wrong.

    >>> parse_criterion("source in ['seo', 'paid_search']").values
    ('seo', 'paid_search')
    """
    m = _CRITERION.match(text)
    if m is None:
        raise ValueError(f"cannot read {text!r}; write field, operator, value like \"employee_count >= 50\"")
    name, op = m["field"], " ".join(m["op"].lower().split()).replace("==", "=")
    kind = CRITERIA_FIELDS.get(name)
    if kind is None:
        raise ValueError(f"unknown field {name!r}; fields: {', '.join(CRITERIA_FIELDS)}")
    if op not in CRITERIA_OPERATORS[kind]:
        raise ValueError(f"{op!r} does not apply to {name}; use {', '.join(CRITERIA_OPERATORS[kind])}")
    values, is_list = _literals(m["value"])
    if is_list != (op in ("in", "not in")):
        raise ValueError(f"{op!r} takes a list like ['seo', 'paid_search']" if is_list is False
                         else f"{op!r} takes one value; use in for a list")
    want = float if kind == "number" else str
    for v in values:
        if not isinstance(v, want):
            shown = f"{v:g}" if isinstance(v, float) else repr(v)
            raise ValueError(f"{name} compares with {'numbers' if want is float else 'quoted text'}, found {shown}")
    if op == "matches":
        try:
            re.compile(str(values[0]))
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
    else:
        values = tuple(lower_text(v) if isinstance(v, str) else v for v in values)  # as the engine lowers data
    return Criterion(text, name, op, values)


def _literals(text: str) -> tuple[tuple[float | str, ...], bool]:
    """The value(s) of a criterion: a number, a quoted text, or a list of them; and whether a list."""
    is_list = text.startswith("[")
    body = text[1:-1] if is_list and text.endswith("]") else text
    out: list[float | str] = []
    pos = 0
    while True:
        m = _LITERAL.match(body, pos)
        if m is None or (is_list and text[-1:] != "]"):
            raise ValueError(f"expected a number, a quoted text or a list of them, found {text!r}")
        out.append(float(m["num"]) if m["num"] is not None else m["sq"] if m["sq"] is not None else m["dq"])
        pos = m.end()
        if pos == len(body):
            break
        if not is_list or body[pos] != ",":
            raise ValueError(f"expected a number, a quoted text or a list of them, found {text!r}")
        pos += 1
    return tuple(out), is_list


