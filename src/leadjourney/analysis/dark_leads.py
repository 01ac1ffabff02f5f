"""Dark leads: open people who stopped engaging, and the ones who came back.

Per the playbook, a *dark lead* goes inactive (no engagement) without converting or
being disqualified. Here: a person whose status is neither ``converted`` nor
``disqualified``, who has not reached the last configured stage, and whose latest
touchpoint (any kind, any actor; their creation time when they have none) is at least
``dark_after_days`` before the as-of date.

*Re-engaged* people had a silence of at least ``dark_after_days`` between two
consecutive touchpoints (over all their merged records) and then engaged again; the
touchpoint ending their first such silence is the one that re-engaged them (when
several share that instant, the alphabetically first kind). They *advanced* when they
first entered a stage after that instant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.readback import build, moment, pair
from leadjourney.analysis.stats import wilson_interval
from leadjourney.analysis.status import OK, MetricStatus, for_count, withheld
from leadjourney.engine import fetch_rows
from leadjourney.tabular import Tabular

CLOSED = ("converted", "disqualified")


@dataclass
class DarkLeads(Tabular):
    """Open people silent for ``dark_after_days``, where they stalled, and who was re-engaged.

    >>> dark = DarkLeads().fit(journeys)   # doctest: +SKIP
    >>> dark.n_dark, dark.by_stage         # doctest: +SKIP
    (812, {'Lead': 301, 'MQL': 402, 'SQL': 77, 'Opportunity': 32, 'Customer': 0})
    """

    dark_after_days: int | None = None  # None: the config's [analysis] dark_after_days
    status: MetricStatus = OK  # withheld when its inputs are missing (no touchpoints loaded)
    as_of: datetime | None = None
    n_open: int = 0
    n_dark: int = 0
    dark_share: float | None = None
    dark_ci: tuple[float, float] | None = None
    median_days_silent: float | None = None  # of the dark: days from their last touchpoint to as_of
    by_stage: dict[str, int] = field(default_factory=dict)  # furthest stage reached by the dark
    n_re_engaged: int = 0  # people (any status) with a silence >= dark_after_days and a touch after it
    re_engaged_by: dict[str, int] = field(default_factory=dict)  # kind of the touch that ended the silence
    re_engaged_by_stage: dict[str, int] = field(default_factory=dict)  # furthest stage entered when they came back
    n_re_engaged_then_advanced: int = 0  # ... who then first entered a stage after re-engaging
    n_still_dark_after_re_engaging: int = 0  # re-engaged once, dark again now

    def fit(self, journeys: Journeys) -> DarkLeads:
        days = self.dark_after_days if self.dark_after_days is not None else journeys.config.dark_after_days
        self.dark_after_days = days
        self.as_of = self.as_of or journeys.as_of()
        assert journeys.inputs is not None
        if not journeys.inputs.touchpoints:  # silence cannot be told from missing data
            self.status = withheld("needs touchpoints; none loaded")
            return self
        state = dark_state(journeys, self.as_of, days)
        self._dark(journeys, state)
        self._re_engagement(journeys, state)
        self.status = for_count(self.n_open, journeys.config.min_n, "open people")
        return self

    def _dark(self, journeys: Journeys, state: ir.Table) -> None:
        names = journeys.config.stage_names
        people = state.filter(state.is_open)
        by_top = fetch_rows(people.group_by(top=people.top.fill_null(0)).aggregate(
            n_open=people.count(),
            n_dark=people.dark.sum(),
            again=(people.dark & people.re_at.notnull()).sum(),
        ))  # a row per furthest stage: the totals are their sums
        self.n_open = sum(int(r["n_open"] or 0) for r in by_top)
        self.n_dark = sum(int(r["n_dark"] or 0) for r in by_top)
        self.n_still_dark_after_re_engaging = sum(int(r["again"] or 0) for r in by_top)
        if self.n_open:
            self.dark_share = self.n_dark / self.n_open
            self.dark_ci = wilson_interval(self.n_dark, self.n_open)
        dark = people.filter(people.dark)
        median = fetch_rows(dark.aggregate(m=dark.silent_days.median()))[0]["m"]
        self.median_days_silent = None if median is None else float(median)
        counts = {int(r["top"]): int(r["n_dark"] or 0) for r in by_top}
        self.by_stage = {name: counts.get(i, 0) for i, name in enumerate(names)}

    def _re_engagement(self, journeys: Journeys, state: ir.Table) -> None:
        back = state.filter(state.re_at.notnull())
        back = back.mutate(advanced=(back.last_entry > back.re_at).fill_null(False))
        rows = back.group_by(kind=back.re_kind, stage=back.re_top.fill_null(0)).aggregate(
            n=back.count(), advanced=back.advanced.sum())
        rows = fetch_rows(rows)  # a row per kind and stage: the totals are their sums
        kinds: dict[str, int] = {}
        stages = dict.fromkeys(journeys.config.stage_names, 0)
        for r in rows:
            kind = r["kind"] if r["kind"] is not None else "unknown"
            kinds[kind] = kinds.get(kind, 0) + int(r["n"])
            name = journeys.config.stage_names[int(r["stage"])]
            stages[name] += int(r["n"])
        self.re_engaged_by = dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
        self.re_engaged_by_stage = stages
        self.n_re_engaged = sum(int(r["n"]) for r in rows)
        self.n_re_engaged_then_advanced = sum(int(r["advanced"] or 0) for r in rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "dark_after_days": self.dark_after_days,
            "n_open": self.n_open,
            "dark": {"count": self.n_dark, "share": self.dark_share,
                     "ci": list(self.dark_ci) if self.dark_ci else None},
            "median_days_silent": self.median_days_silent,
            "by_stage": dict(self.by_stage),
            "re_engaged": {
                "count": self.n_re_engaged,
                "by_kind": dict(self.re_engaged_by),
                "by_stage": dict(self.re_engaged_by_stage),
                "then_advanced": self.n_re_engaged_then_advanced,
                "dark_again": self.n_still_dark_after_re_engaging,
            },
            "status": self.status.status.value,
            "status_reason": self.status.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DarkLeads:
        dark, again = d.get("dark") or {}, d.get("re_engaged") or {}
        return build(cls, d, status=MetricStatus.of(d), as_of=moment(d.get("as_of")),
                     n_dark=dark.get("count", 0), dark_share=dark.get("share"), dark_ci=pair(dark.get("ci")),
                     by_stage=dict(d.get("by_stage") or {}), n_re_engaged=again.get("count", 0),
                     re_engaged_by=dict(again.get("by_kind") or {}),
                     re_engaged_by_stage=dict(again.get("by_stage") or {}),
                     n_re_engaged_then_advanced=again.get("then_advanced", 0),
                     n_still_dark_after_re_engaging=again.get("dark_again", 0))


def dark_state(journeys: Journeys, as_of: datetime, days: int) -> ir.Table:
    """Each selected person's engagement state, computed once per run, as-of date and ``days``.

    A projection of :meth:`Journeys.people` when it carries the engagement columns, else stored once per run.

    Columns: person_key, top (furthest stage index), is_open (neither converted nor
    disqualified, short of the last stage), dark (open and silent for ``days``: no touch, or
    none since creation), silent_days, last_entry (latest stage entry), and the touch that
    ended their first long silence: re_at, re_kind (NULL when never re-engaged), and re_top, the
    furthest stage entered (dated) by then.
    """
    def build() -> ir.Table:
        p = journeys.with_engagement(as_of, days).rename(last_touch="last_touch_at")
        n = len(journeys.config.stages)
        is_open = ~p.status.isin(list(CLOSED)).fill_null(False) & (p.top < n - 1).fill_null(True)
        quiet_since = ibis.coalesce(p.last_touch, p.created_at)
        return p.select(
            "person_key", "top", "re_at", "re_kind",
            re_top=ibis.greatest(*[ibis.ifelse(p[f"at_{i}"] <= p.re_at, ibis.literal(i, "int64"),
                                               ibis.null("int64")) for i in range(n)]) if n > 1
            else ibis.ifelse(p.at_0 <= p.re_at, ibis.literal(0, "int64"), ibis.null("int64")),  # NULLs skipped
            is_open=is_open,
            dark=is_open & (quiet_since <= ibis.timestamp(as_of - timedelta(days=days))).fill_null(False),
            silent_days=((ibis.timestamp(as_of).epoch_seconds() - quiet_since.epoch_seconds()) / 86400.0
                         ).cast("float64"),
            last_entry=ibis.greatest(*[p[f"at_{i}"] for i in range(n)]) if n > 1 else p.at_0,  # NULLs skipped
        )
    if journeys.engagement_in_people(as_of, days):  # columns of one table: no join to store
        return build()
    return journeys.cached(("dark_state", as_of, days), build)
