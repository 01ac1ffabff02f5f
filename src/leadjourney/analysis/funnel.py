"""The conversion funnel: how many people reached each stage, and each transition's rate.

Two counting modes, named in every output:

* ``stage_reach``: a person in a stage has passed every earlier required stage, even
  when the CRM skipped its timestamp (those are counted as ``imputed``);
* ``ordered``: a stage counts only when every required stage up to it has a date and
  the dates are in the configured order;
* ``cohort``: only people created at least ``window_days`` before the as-of date, and a
  stage counts when it (or a later one) was reached within ``window_days`` of creation, so
  young leads are not counted as lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.projection import selection_projections, still_converting
from leadjourney.analysis.rates import (
    DEFAULT_MIN_N,
    StageCount,
    Transition,
    everyone_enters_first,
    transition_between,
)
from leadjourney.config import Stage
from leadjourney.engine import fetch_rows, prepared
from leadjourney.errors import OptionError
from leadjourney.tabular import Tabular

MODES = ("stage_reach", "ordered", "cohort")


def check_mode(mode: str) -> str:
    """``mode`` when it is a funnel mode, else an :class:`OptionError` naming the modes."""
    if mode not in MODES:
        raise OptionError(f"mode: expected one of {', '.join(MODES)}, found {mode!r}")
    return mode
WITHOUT_DATA = "no stage entries loaded: left out of the funnel, friction and map until data arrives"
def required_top(per_person: ibis.Table, required: list[int]) -> ibis.IntegerValue:
    """The furthest required stage a person has an entry for (-1 for none): stage-reach counting."""
    tops = [ibis.ifelse(per_person[f"has_{i}"].fill_null(False), i, -1) for i in required]
    return ibis.greatest(*tops) if len(tops) > 1 else tops[0]


def people_with_top(journeys: Journeys) -> ir.Table:
    """The selection's people with ``top`` (:func:`required_top`): what the projection counts from."""
    required = [i for i, s in enumerate(journeys.config.stages) if not s.optional]
    wide = journeys.wide()
    return wide.mutate(top=required_top(wide, required))


@dataclass
class Funnel(Tabular):
    """Leads reaching each stage, with Wilson 95% intervals per transition.

    >>> funnel = Funnel(mode="stage_reach").fit(journeys)   # doctest: +SKIP
    >>> funnel.transitions[1].rate                          # doctest: +SKIP
    0.21
    """

    table_from = "transitions"  # to_arrow() / to_pandas(): one row per item

    mode: str = "stage_reach"
    window_days: int = 90  # cohort mode: conversions within this many days of creation
    min_n: int | None = None  # fewer people at a transition: too few to judge; None: [analysis] min_n
    project: bool = True  # stage_reach: mark transitions whose people are still converting young
    n_people: int = 0
    stages_without_data: tuple[str, ...] = ()  # configured, nothing loaded: left out until data arrives
    stages: list[StageCount] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_mode(self.mode)

    def fit(self, journeys: Journeys) -> Funnel:
        stages = journeys.config.stages
        if self.min_n is None:
            self.min_n = journeys.config.min_n
        self.stages_without_data = journeys.inputs.stages_without_data if journeys.inputs else ()
        if self.mode == "cohort":
            row = self._cohort_counts(journeys)
        else:  # the counts by source that the source breakdown reads too, summed up
            counts = reach_counts(journeys, self.mode)
            row = fetch_rows(counts.aggregate(
                n_people=counts.n.sum(), **{c: counts[c].sum() for c in stage_columns(len(stages))}
            ))[0]
        self.from_counts(stages, row)
        if self.project and self.mode == "stage_reach" and self.n_people:
            self._mark_young(journeys)
        return self

    def _mark_young(self, journeys: Journeys) -> None:
        """Judged transitions whose projected final conversion is ``[analysis] young_points`` above the observed
        rate are young (:func:`~leadjourney.analysis.projection.still_converting`): never flagged or valued as drops."""
        people = people_with_top(journeys)
        counts = [(t.entered, t.converted) for t in self.transitions]
        out = []
        for t, p in zip(self.transitions, selection_projections(journeys, people, counts), strict=True):
            status = still_converting(p, journeys.config.young_points) if t.status.judged else None
            out.append(replace(t, status=status, projected=p) if status else t)
        self.transitions = out

    def from_counts(self, stages: Sequence[Stage], row: Mapping[str, Any]) -> Funnel:
        """The funnel from its counts: ``n_people`` and per stage ``reached_i``, ``imputed_i`` (see
        :func:`reach_counts`; counts of disjoint groups of people add up to their union's)."""
        self.n_people = n_people = int(row["n_people"] or 0)
        self.stages = [
            StageCount(s.name, s.lane, int(row[f"reached_{i}"] or 0), int(row[f"imputed_{i}"] or 0))
            for i, s in enumerate(stages)
        ]
        if self.stages and not stages[0].optional and self.mode in ("stage_reach", "cohort"):
            self.stages = everyone_enters_first(self.stages, n_people)
        self.min_n = min_n = DEFAULT_MIN_N if self.min_n is None else self.min_n
        self.transitions = [transition_between(a, b, min_n) for a, b in itertools.pairwise(self.stages)]
        return self

    def _cohort_counts(self, journeys: Journeys) -> dict[str, Any]:
        """Cohort mode: people old enough for the window, and the stages they reached within it."""
        stages = journeys.config.stages
        required = [i for i, s in enumerate(stages) if not s.optional]
        per_person = journeys.wide()
        per_person = per_person.mutate(top=required_top(per_person, required))
        window = ibis.interval(days=self.window_days)
        per_person = per_person.filter(per_person.created_at + window <= ibis.timestamp(journeys.as_of()))
        aggregates: dict[str, Any] = {}
        for i, stage in enumerate(stages):
            has = per_person[f"has_{i}"].fill_null(False)
            reached = has if stage.optional else self._within_window(per_person, [r for r in required if r >= i])
            aggregates[f"reached_{i}"] = reached.sum()
            aggregates[f"imputed_{i}"] = (reached & ~has).sum()
        aggregates["n_people"] = per_person.count()
        return fetch_rows(per_person.aggregate(**aggregates))[0]

    def _within_window(self, per_person: ibis.Table, later: list[int]) -> ibis.BooleanValue:
        """Reached this stage or a later one, within the window (an undated entry counts as within)."""
        deadline = per_person.created_at + ibis.interval(days=self.window_days)
        ok = ibis.literal(False)
        for j in later:
            at = per_person[f"at_{j}"]
            ok = ok | (per_person[f"has_{j}"].fill_null(False) & (at.isnull() | (at <= deadline)))
        return ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "window_days": self.window_days if self.mode == "cohort" else None,
            "min_n": self.min_n,
            "stages": [asdict(s) for s in self.stages],
            "transitions": [t.to_dict() for t in self.transitions],
            "stages_without_data": [
                {"stage": s, "reason": WITHOUT_DATA} for s in self.stages_without_data],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], n_people: int = 0) -> Funnel:
        """The inverse of :meth:`to_dict`; ``n_people`` is the analysis' (its JSON has it beside the funnel)."""
        window = d.get("window_days")
        return cls(mode=d.get("mode", "stage_reach"), window_days=cls.window_days if window is None else window,
                   min_n=d.get("min_n"), n_people=n_people,
                   stages_without_data=tuple(s["stage"] for s in d.get("stages_without_data") or ()),
                   stages=[StageCount(**s) for s in d.get("stages") or ()],
                   transitions=[Transition.from_dict(t) for t in d.get("transitions") or ()])


def stage_columns(n_stages: int) -> list[str]:
    """The per-stage count columns of :func:`reach_counts`."""
    return [f"{kind}_{i}" for i in range(n_stages) for kind in ("reached", "imputed")]


def reach_counts(journeys: Journeys, mode: str, by: str = "source") -> ir.Table:
    """People (``n``) per ``segment`` (their ``source`` or ``persona``), and per stage how many reached it.

    ``reached_i`` counts the people who reached stage i, ``imputed_i`` those of them without an
    entry for it. Counted the funnel's way in ``stage_reach`` or ``ordered`` mode, before the
    first-stage rule. The people are counted once per run and mode, per source and persona (a small
    table); the funnel and both segmentations add those counts up.
    """
    if mode not in ("stage_reach", "ordered"):
        raise OptionError(f"reach counts are per stage_reach or ordered mode, not {mode!r}")

    def build() -> ir.Table:
        wide, stages = journeys.wide(), journeys.config.stages
        return prepared(journeys.backend, ("reach_counts", wide.op(), tuple(stages), mode),
                        lambda: counts_by(wide, ["source", "persona"], stages, mode))

    both = journeys.cached(("reach_counts", mode), build)
    columns = stage_columns(len(journeys.config.stages))
    return prepared(journeys.backend, ("reach_counts by", both.op(), by, tuple(columns)),
                    lambda: both.group_by(segment=both[by]).aggregate(
                        n=both.n.sum(), **{c: both[c].sum() for c in columns}))


def counts_by(people: ir.Table, keys: Sequence[str], stages: Sequence[Stage], mode: str) -> ir.Table:
    """:func:`reach_counts`' columns for ``people`` (per-person stage columns) grouped by ``keys``."""
    required = [i for i, s in enumerate(stages) if not s.optional]
    per_person = people.mutate(top=required_top(people, required))
    aggregates: dict[str, Any] = {"n": per_person.count()}
    for i, stage in enumerate(stages):
        has = per_person[f"has_{i}"].fill_null(False)
        if stage.optional:
            reached = has
        elif mode == "stage_reach":
            reached = per_person.top >= i
        else:
            reached = ordered_reach(per_person, [r for r in required if r <= i])
        aggregates[f"reached_{i}"] = reached.sum()
        aggregates[f"imputed_{i}"] = (reached & ~has).sum()
    return per_person.group_by(list(keys)).aggregate(**aggregates)


def ordered_reach(per_person: ibis.Table, chain: list[int]) -> ibis.BooleanValue:
    """Every required stage in ``chain`` is dated, in order: ordered-mode counting."""
    ok = ibis.literal(True)
    for k, i in enumerate(chain):
        ok = ok & per_person[f"has_{i}"].fill_null(False) & per_person[f"at_{i}"].notnull()
        if k:
            ok = ok & (per_person[f"at_{i}"] >= per_person[f"at_{chain[k - 1]}"])
    return ok.fill_null(False)
