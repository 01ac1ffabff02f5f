"""How old a creation cohort must be before its conversion at a transition is judged: one rule.

People created recently are still converting, which pulls their rate down. A cohort (a trend's
week or month, a monitored period) is judged at A -> B only once its leads had at least
``[analysis] maturity_days``, and the days within which ``maturity_quantile`` of everyone reaching B
did so, counted from creation (SQL -> Opportunity typically needs 50+ days). The trend marks younger
cohorts "too young to judge", the monitor waits for them, and the time-to-convert curve behind the
projected final conversion (:mod:`leadjourney.analysis.projection`) is drawn from the cohorts old
enough: the same days everywhere.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir

from leadjourney.engine import fetch_rows

if TYPE_CHECKING:
    from leadjourney.analysis.journeys import Journeys


@dataclass(frozen=True)
class Maturity:
    """Days a cohort needs before a transition is judged, and why (for the reader)."""

    days: int
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"days": self.days, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Maturity:
        return cls(int(d["days"]), str(d["reason"]))


def floor_only(floor: int) -> Maturity:
    return Maturity(floor, f"at least {floor} days")


def transition_maturity(people: ir.Table, targets: Mapping[str, tuple[str, int]], floor: int,
                        quantile: float) -> dict[str, Maturity]:
    """Per transition name: its :class:`Maturity`, from ``people`` (one row per person with ``created_at`` and
    each stage's first entry ``at_i``, as :meth:`Journeys.people` has them). ``targets``: transition name ->
    (target stage name, its index). One aggregate over ``people`` gives every quantile."""
    out = {t: floor_only(floor) for t in targets}
    if quantile <= 0 or not targets:
        return out
    indexes = sorted({i for _, i in targets.values()})
    quantiles = {}
    for i in indexes:
        at = people[f"at_{i}"]
        days = ibis_days(at, people.created_at)
        quantiles[f"q{i}"] = days.quantile(quantile, where=at.notnull() & people.created_at.notnull())
    row = fetch_rows(people.aggregate(**quantiles))[0]
    for t, (stage, i) in targets.items():
        q = row.get(f"q{i}")
        if q is None:
            continue
        took = math.ceil(max(0.0, float(q)))
        seen = f"{quantile:.0%} of those reaching {stage} did so within {took} days of creation"
        out[t] = (Maturity(took, f"{took} days: {seen}") if took >= floor
                  else Maturity(floor, f"at least {floor} days (maturity_days; {seen})"))
    return out


def cohort_maturity(journeys: Journeys) -> dict[str, Maturity]:
    """Every consecutive transition's :class:`Maturity` from everyone in the workspace (a selection's own
    converters would be too few, or all fast when the selection is recent); once per run."""
    config = journeys.config
    names = config.stage_names
    targets = {f"{a}->{b}": (b, i + 1) for i, (a, b) in enumerate(itertools.pairwise(names))}
    return journeys.remembered(  # type: ignore[no-any-return]
        ("maturity", tuple(names), config.maturity_days, config.maturity_quantile),
        lambda: transition_maturity(journeys.everyone(), targets, config.maturity_days, config.maturity_quantile))


def ibis_days(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    """Days from ``earlier`` to ``later`` (fractional)."""
    return (later.epoch_seconds() - earlier.epoch_seconds()) / 86400.0
