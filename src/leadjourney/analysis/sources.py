"""Lead sources (or personas): how many people each brings, and how each converts at every transition.

``Sources(by="persona")`` segments by the configured persona instead of the lead source;
the rows then name personas where they say ``source``.

Counting is the funnel's (:class:`~leadjourney.analysis.funnel.Funnel`), per source: in
``stage_reach`` mode a person in a stage has passed every earlier required stage and the
first stage is reached by everyone. All counts come from one grouped aggregate in the
engine (:func:`~leadjourney.analysis.funnel.reach_counts`, shared with the funnel); Python
only sees one row per source.

Each source is compared with all other sources together, per transition, by a pooled
two-proportion z-test (the 2x2 chi-square test without continuity correction, which gives
the same p-value), Holm-corrected across the sources tested within the transition. A
source is not tested ("too few") when any expected cell count of its 2x2 table is below 5.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from leadjourney.analysis.funnel import MODES, reach_counts, stage_columns
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.rates import (
    StageCount,
    Transition,
    everyone_enters_first,
    transition_between,
    transition_dict,
)
from leadjourney.analysis.readback import build
from leadjourney.analysis.status import OK, MetricStatus
from leadjourney.engine import fetch_rows
from leadjourney.errors import OptionError
from leadjourney.tabular import Tabular

UNKNOWN = "unknown"  # how a person without a source is shown
TOO_FEW = "too few"
MISSING_NOTE = "source missing (blank or a placeholder): not tested"
TEST = "two-proportion z-test (pooled), {by} vs all other {by}s"
SEGMENTS = ("source", "persona")
CORRECTION = "holm"


@dataclass(frozen=True)
class SourceShare:
    source: str
    people: int
    share: float | None  # of all people in the selection


@dataclass(frozen=True)
class SourceTransition:
    """One source at one transition, tested against all other sources together."""

    source: str
    from_stage: str
    to_stage: str
    entered: int
    converted: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    rest_entered: int  # all other sources at this transition
    rest_converted: int
    rest_rate: float | None
    z: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None  # Holm, across the sources tested at this transition
    significant: bool | None = None  # None when not tested
    direction: str | None = None  # "higher" / "lower" than the other sources; None when equal or untested
    note: str | None = None  # why not tested: "too few", or the source is missing
    status: MetricStatus = OK  # too few people at this transition (min_n): shown, never tested or flagged

    @property
    def dropped(self) -> int:
        return self.entered - self.converted

    @property
    def transition(self) -> str:
        return f"{self.from_stage}->{self.to_stage}"

    def to_dict(self) -> dict[str, Any]:
        return transition_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SourceTransition:
        return build(cls, d, from_stage=d["from"], to_stage=d["to"], status=MetricStatus.of(d))


@dataclass
class Sources(Tabular):
    """People per lead source, and each source's conversion at every transition.

    >>> sources = Sources().fit(journeys)            # doctest: +SKIP
    >>> sources.row("seo", "MQL", "SQL").direction   # doctest: +SKIP
    'higher'
    """

    table_from = "conversion"  # to_arrow() / to_pandas(): one row per item

    mode: str = "stage_reach"
    by: str = "source"  # or "persona"
    alpha: float = 0.05
    min_expected: float = 5.0
    n_people: int = 0
    distribution: list[SourceShare] = field(default_factory=list)
    stages: dict[str, list[StageCount]] = field(default_factory=dict)  # per source
    conversion: list[SourceTransition] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise OptionError(f"sources mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.by not in SEGMENTS:
            raise OptionError(f"segment by must be one of {', '.join(SEGMENTS)}, not {self.by!r}")

    # ------------------------------------------------------------------ counting

    def fit(self, journeys: Journeys) -> Sources:
        stages = journeys.config.stages
        # the funnel's counting per segment (the by-source table is the funnel's own)
        counts = reach_counts(journeys, "stage_reach" if self.mode == "stage_reach" else "ordered", self.by)
        rows = fetch_rows(counts.group_by(source_key=counts.segment.fill_null(UNKNOWN)).aggregate(
            n=counts.n.sum(), **{c: counts[c].sum() for c in stage_columns(len(stages))}
        ))
        # largest sources first, ties by name: a stable order for reports and tests
        rows.sort(key=lambda r: (-int(r["n"]), str(r["source_key"])))

        self.n_people = total = sum(int(r["n"]) for r in rows)
        self.distribution = [
            SourceShare(r["source_key"], int(r["n"]), int(r["n"]) / total if total else None) for r in rows
        ]
        self.stages = {}
        for r in rows:
            counts = [
                StageCount(s.name, s.lane, int(r[f"reached_{i}"] or 0), int(r[f"imputed_{i}"] or 0))
                for i, s in enumerate(stages)
            ]
            if counts and not stages[0].optional and self.mode == "stage_reach":
                counts = everyone_enters_first(counts, int(r["n"]))
            self.stages[r["source_key"]] = counts

        self.conversion = []
        min_n = journeys.config.min_n
        for k in range(len(stages) - 1):
            per_source = {
                src: transition_between(counts[k], counts[k + 1], min_n) for src, counts in self.stages.items()
            }
            # people without a source (blank or a placeholder) are no channel: never tested, nor in the rest
            known = [t for src, t in per_source.items() if not self._missing(src)]
            all_entered = sum(t.entered for t in known)
            all_converted = sum(t.converted for t in known)
            tested = [
                self._untested(src, t, MISSING_NOTE) if self._missing(src)
                else self._test(src, t, all_entered - t.entered, all_converted - t.converted)
                for src, t in per_source.items()
            ]
            self.conversion += self._holm(tested)
        return self

    def _missing(self, segment: str) -> bool:
        """The group of people whose source is missing (personas: everyone has one, "unassigned" included)."""
        return self.by == "source" and segment == UNKNOWN

    # ------------------------------------------------------------------ testing

    @staticmethod
    def _untested(source: str, t: Transition, note: str) -> SourceTransition:
        return SourceTransition(source, t.from_stage, t.to_stage, t.entered, t.converted, t.rate, t.ci_low,
                                t.ci_high, 0, 0, None, note=note, status=t.status)

    def _test(self, source: str, t: Transition, rest_entered: int, rest_converted: int) -> SourceTransition:
        ci_low, ci_high = (t.ci_low, t.ci_high)
        rest_rate = rest_converted / rest_entered if rest_entered else None
        row = SourceTransition(
            source, t.from_stage, t.to_stage, t.entered, t.converted, t.rate, ci_low, ci_high,
            rest_entered, rest_converted, rest_rate, status=t.status,
        )
        if not t.status.judged:  # too few people (min_n), or nobody: shown, never tested
            return _replace(row, note=TOO_FEW)
        z, p = two_proportion_z(t.converted, t.entered, rest_converted, rest_entered, self.min_expected)
        if p is None:
            return _replace(row, note=TOO_FEW)
        direction = None if z == 0 else ("higher" if z > 0 else "lower")
        return _replace(row, z=z, p_value=p, direction=direction)

    def _holm(self, rows: list[SourceTransition]) -> list[SourceTransition]:
        tested = [i for i, r in enumerate(rows) if r.p_value is not None]
        adjusted = holm([rows[i].p_value for i in tested])  # type: ignore[misc]
        out = list(rows)
        for i, p_adj in zip(tested, adjusted, strict=True):
            out[i] = _replace(rows[i], p_adjusted=p_adj, significant=p_adj < self.alpha)
        return out

    # ------------------------------------------------------------------ access

    def row(self, source: str, from_stage: str, to_stage: str) -> SourceTransition:
        for r in self.conversion:
            if (r.source, r.from_stage, r.to_stage) == (source, from_stage, to_stage):
                return r
        raise KeyError(f"no source {source!r} at {from_stage}->{to_stage}")

    def reached(self, source: str) -> dict[str, int]:
        """People of one source who reached each stage."""
        return {s.stage: s.reached for s in self.stages[source]}

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "by": self.by,
            "test": TEST.format(by=self.by),
            "correction": CORRECTION,
            "alpha": self.alpha,
            "min_expected": self.min_expected,
            "unknown_label": UNKNOWN,
            "n_people": self.n_people,
            "distribution": [asdict(s) for s in self.distribution],
            "stages": {src: [asdict(s) for s in counts] for src, counts in self.stages.items()},
            "conversion": [r.to_dict() for r in self.conversion],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Sources:
        """The inverse of :meth:`to_dict` (the test's and correction's names are derived)."""
        return build(cls, d, distribution=[SourceShare(**s) for s in d.get("distribution") or ()],
                     stages={src: [StageCount(**s) for s in counts] for src, counts in (d.get("stages") or {}).items()},
                     conversion=[SourceTransition.from_dict(c) for c in d.get("conversion") or ()])


def _replace(row: SourceTransition, **changes: Any) -> SourceTransition:
    return replace(row, **changes)


def two_proportion_z(k1: int, n1: int, k2: int, n2: int, min_expected: float = 5.0) -> tuple[float, float | None]:
    """Pooled two-proportion z-test of k1/n1 against k2/n2: (z, two-sided p).

    p is None (not tested) when any expected count of the 2x2 table is below ``min_expected``.
    z**2 is the 2x2 chi-square statistic without continuity correction.

    >>> z, p = two_proportion_z(60, 100, 40, 100)
    >>> round(z, 4), round(p, 6)
    (2.8284, 0.004678)
    >>> two_proportion_z(1, 3, 40, 100)[1] is None
    True
    """
    n = n1 + n2
    k = k1 + k2
    if n1 <= 0 or n2 <= 0:
        return 0.0, None
    expected = (n1 * k / n, n1 * (n - k) / n, n2 * k / n, n2 * (n - k) / n)
    if min(expected) < min_expected:
        return 0.0, None
    pooled = k / n
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (k1 / n1 - k2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order.

    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
