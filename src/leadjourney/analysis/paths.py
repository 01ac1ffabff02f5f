"""Real paths through the stages: the variants, the happy path's share, dark and re-engaged paths.

A person's *path* is the configured stages they entered, ordered by entry time (ties by
configured order; an undated entry sits just before the next dated later stage, or
after the last dated earlier one), ending in an *outcome*:

* ``won``: reached the last configured stage;
* ``disqualified``: status disqualified;
* ``closed``: status converted without an entry into the last stage;
* ``dark``: open and silent, exactly as :mod:`leadjourney.analysis.dark_leads` defines it;
* ``open``: still open and engaging.

Re-engagement paths are the paths of people who went dark and came back (the
definition of :class:`~leadjourney.analysis.dark_leads.DarkLeads`), with a
``re-engaged`` step at the instant the silence ended.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.dark_leads import dark_state
from leadjourney.analysis.journeys import Journeys
from leadjourney.engine import fetch_rows
from leadjourney.escape import markdown_text as md
from leadjourney.tabular import Tabular

OUTCOMES = ("won", "disqualified", "closed", "dark", "open")
RE_ENGAGED = "re-engaged"


@dataclass(frozen=True)
class Variant:
    """One distinct path and outcome, and how many people took it."""

    stages: tuple[str, ...]
    outcome: str
    people: int
    share: float  # of all people in the selection
    median_days: float | None  # first dated stage entry to the last

    @property
    def label(self) -> str:
        return f"{' → '.join(self.stages)} ⇒ {self.outcome}"

    def to_dict(self) -> dict[str, Any]:
        return {"stages": list(self.stages), "outcome": self.outcome, "people": self.people,
                "share": self.share, "median_days": self.median_days, "label": self.label}


@dataclass
class Paths(Tabular):
    """The ``top`` most common paths, the happy path's share, dark and re-engagement paths, the Sankey's data
    (drawn by :mod:`leadjourney.journeymap.sankey`).

    >>> paths = Paths(top=5).fit(journeys)   # doctest: +SKIP
    >>> paths.happy_share                     # doctest: +SKIP
    0.008
    """

    table_from = "variants"  # to_arrow() / to_pandas(): one row per item

    top: int = 10
    dark_after_days: int | None = None  # None: the config's [analysis] dark_after_days
    as_of: datetime | None = None
    n_people: int = 0
    n_variants: int = 0
    variants: list[Variant] = field(default_factory=list)  # the top variants, most common first
    happy_path: tuple[str, ...] = ()  # every required stage in order, ending won
    happy_people: int = 0
    happy_share: float | None = None
    outcomes: dict[str, int] = field(default_factory=dict)
    dark_paths: list[Variant] = field(default_factory=list)
    n_re_engaged: int = 0
    re_engagement_paths: list[Variant] = field(default_factory=list)
    all_variants: list[Variant] = field(default_factory=list, repr=False)

    def fit(self, journeys: Journeys) -> Paths:
        config = journeys.config
        days = self.dark_after_days if self.dark_after_days is not None else config.dark_after_days
        self.dark_after_days = days
        self.as_of = self.as_of or journeys.as_of()
        names = config.stage_names
        people = journeys.materialize(self._people(journeys, dark_state(journeys, self.as_of, days)))

        self.all_variants = _variants(people, "path", names)
        self.n_variants = len(self.all_variants)
        self.n_people = sum(v.people for v in self.all_variants)
        self.variants = self.all_variants[: self.top]
        counts: Counter[str] = Counter()
        for v in self.all_variants:
            counts[v.outcome] += v.people
        self.outcomes = {o: counts[o] for o in OUTCOMES}
        self.happy_path = tuple(s.name for s in config.stages if not s.optional)
        order = {n: i for i, n in enumerate(names)}
        self.happy_people = sum(v.people for v in self.all_variants if _is_happy(v, self.happy_path, order))
        self.happy_share = self.happy_people / self.n_people if self.n_people else None
        self.dark_paths = [v for v in self.all_variants if v.outcome == "dark"][: self.top]

        back = people.filter(people.re_path.notnull())
        self.re_engagement_paths = [
            Variant(v.stages, v.outcome, v.people, v.people / self.n_people, v.median_days)
            for v in _variants(back, "re_path", names)
        ]
        self.n_re_engaged = sum(v.people for v in self.re_engagement_paths)
        self.re_engagement_paths = self.re_engagement_paths[: self.top]
        return self

    def _people(self, journeys: Journeys, state: ir.Table) -> ir.Table:
        """person_id, path and re_path (stage indexes in order, re_path with the re-engagement for
        the re-engaged), outcome, days (first to last dated entry): from the per-person tables."""
        n = len(journeys.config.stages)
        # people may carry re_at for the configured silence: this run's is the state's, under its own name
        state = state.select("person_key", "is_open", "dark", re_engaged_at="re_at")
        p = journeys.wide().join(state, "person_key")
        at = [p[f"at_{i}"] for i in range(n)]
        has = [p[f"has_{i}"].fill_null(False) for i in range(n)]
        # an undated entry sorts just before the next dated later stage, else after the last dated earlier one
        keys = [ibis.coalesce(at[i], _least(at[i + 1:]), _greatest(at[:i])) for i in range(n)]
        steps = list(zip(has, keys, strict=True))
        mark = (p.re_engaged_at.notnull(), p.re_engaged_at)

        # dark exactly as DarkLeads counts it (the same per-person state)
        outcome = ibis.cases(
            ((p.top == n - 1).fill_null(False), "won"),
            ((p.status == "disqualified").fill_null(False), "disqualified"),
            (~p.is_open, "closed"),
            (p.dark, "dark"),
            else_="open",
        )
        seconds = _greatest(at).epoch_seconds() - _least(at).epoch_seconds()
        # most people enter their stages in lifecycle order: their path is their stages joined,
        # no per-person sort needed (the engine evaluates the sorting branch for the others only)
        in_order = ibis.literal(True)
        for i in range(n):
            for j in range(i + 1, n):
                in_order = in_order & (~has[i] | ~has[j] | (keys[i] <= keys[j])).fill_null(True)
        joined = ibis.literal(",").join([ibis.ifelse(has[i], str(i), ibis.null("string")) for i in range(n)])
        stages_path = ibis.ifelse(in_order, joined, _ordered_path(steps))
        return p.select(
            "person_id",
            path=ibis.ifelse(stages_path == "", "0", stages_path),  # no entry at all: a lead, in the first stage
            re_path=ibis.ifelse(p.re_engaged_at.notnull(), _ordered_path([*steps, mark]), ibis.null("string")),
            outcome=outcome,
            days=(seconds / 86400.0).cast("float64"),
        )

    def sankey(self) -> dict[str, Any]:
        """Nodes (stages, then outcomes) and links: people flowing between consecutive steps of their
        path, and from their last stage to their outcome (won paths end in the last stage)."""
        flows: Counter[tuple[str, str]] = Counter()
        for v in self.all_variants:
            for a, b in pairwise(v.stages):
                flows[(a, b)] += v.people
            if v.outcome != "won":
                flows[(v.stages[-1], v.outcome)] += v.people
        stage_names = list(dict.fromkeys(s for v in self.all_variants for s in v.stages))
        used = {name for pair in flows for name in pair}
        nodes = [{"name": s, "kind": "stage"} for s in stage_names]
        nodes += [{"name": o, "kind": "outcome"} for o in OUTCOMES if o != "won" and o in used]
        links = [{"source": a, "target": b, "value": n} for (a, b), n in sorted(flows.items(), key=lambda x: -x[1])]
        return {"nodes": nodes, "links": links}

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "dark_after_days": self.dark_after_days,
            "n_people": self.n_people,
            "n_variants": self.n_variants,
            "variants": [v.to_dict() for v in self.variants],
            "happy_path": {"stages": list(self.happy_path), "people": self.happy_people, "share": self.happy_share},
            "outcomes": dict(self.outcomes),
            "dark_paths": [v.to_dict() for v in self.dark_paths],
            "re_engagement": {"people": self.n_re_engaged, "paths": [v.to_dict() for v in self.re_engagement_paths]},
            "sankey": self.sankey(),
        }

    def to_markdown(self) -> str:
        share = "-" if self.happy_share is None else f"{self.happy_share:.1%}"
        lines = [
            "# Paths",
            "",
            f"{self.n_people:,} people took {self.n_variants:,} distinct paths. The happy path "
            f"({md(' → '.join(self.happy_path))}, won) is {share} of them ({self.happy_people:,}).",
            "",
        ]
        for title, rows in (("Most common paths", self.variants), ("Dark-lead paths", self.dark_paths),
                            (f"Re-engagement paths ({self.n_re_engaged:,} people)", self.re_engagement_paths)):
            lines += [f"## {title}", "", "| Path | Outcome | People | Share | Median days |", "|---|---|---:|---:|---:|"]
            for v in rows:
                days = "-" if v.median_days is None else f"{v.median_days:.1f}"
                lines.append(f"| {md(' → '.join(v.stages))} | {md(v.outcome)} | {v.people:,} | {v.share:.1%} | {days} |")
            lines.append("")
        return "\n".join(lines)


def _ordered_path(items: list[tuple[Any, Any]]) -> ir.StringValue:
    """The indexes of the present items (``(present, key)``) in the order of their keys, ties (and NULL keys,
    after the others) by index, joined with commas. Each item's rank is counted pairwise, so the path is
    scalar SQL every engine runs (no array of structs to sort: Postgres cannot unnest one)."""
    ranks = []
    for i, (_, key) in enumerate(items):
        rank: Any = ibis.literal(0)
        for j, (present_j, key_j) in enumerate(items):
            if j == i:
                continue
            earlier = (key_j < key) | (key_j.notnull() & key.isnull())
            if j < i:
                earlier = earlier | (key_j == key) | (key_j.isnull() & key.isnull())
            rank = rank + ibis.ifelse(present_j & earlier.fill_null(False), 1, 0)
        ranks.append(rank)
    slots = [ibis.cases(*((present & (ranks[i] == q), str(i)) for i, (present, _) in enumerate(items)),
                        else_=ibis.null("string"))
             for q in range(len(items))]
    return ibis.literal(",").join(slots)


def _least(values: list[Any]) -> Any:
    """The earliest non-NULL value (NULL when none, or when there are no values)."""
    if not values:
        return ibis.null("timestamp")
    return ibis.least(*values) if len(values) > 1 else values[0]


def _greatest(values: list[Any]) -> Any:
    """The latest non-NULL value (NULL when none, or when there are no values)."""
    if not values:
        return ibis.null("timestamp")
    return ibis.greatest(*values) if len(values) > 1 else values[0]


def _variants(people: ir.Table, column: str, names: list[str]) -> list[Variant]:
    """Every distinct path string x outcome, most common first, with stage names for indexes
    (index ``len(names)`` is the re-engagement)."""
    grouped = people.group_by([column, "outcome"]).aggregate(n=people.count(), median_days=people.days.median())
    rows = fetch_rows(grouped)
    total = sum(int(r["n"]) for r in rows)
    out = [
        Variant(
            stages=tuple(names[int(s)] if int(s) < len(names) else RE_ENGAGED for s in r[column].split(",")),
            outcome=r["outcome"], people=int(r["n"]), share=int(r["n"]) / total,
            median_days=None if r["median_days"] is None else float(r["median_days"]),
        )
        for r in rows
    ]
    return sorted(out, key=lambda v: (-v.people, v.stages, v.outcome))


def _is_happy(v: Variant, required: tuple[str, ...], order: dict[str, int]) -> bool:
    """Won, every required stage present, every stage in configured order."""
    positions = [order[s] for s in v.stages]
    return (v.outcome == "won" and tuple(s for s in v.stages if s in required) == required
            and all(a < b for a, b in pairwise(positions)))
