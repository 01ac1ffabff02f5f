"""A conversion rate, and a rate against its baseline: the one module every layer counts rates with.

* :func:`transition_between`: a transition's entered, converted, rate, Wilson interval and status
  (too few below ``[analysis] min_n``; withheld when nobody entered); :class:`Transition` also carries
  the maturity status (young) and the projection the funnel adds (:mod:`leadjourney.analysis.maturity`,
  :mod:`leadjourney.analysis.projection`).
* :func:`everyone_enters_first`: the first-stage rule (every person is a lead, dated or not).
* :func:`compare`: a rate against its baseline (below).

The dashboard paints a transition red, and the monitor raises its decline flag, with the same
test: more than ``points`` percentage points below the baseline *and* the baseline above the
period's Wilson 95% interval (so noise is never red), and only when both sides have at least
``min_n`` people (``[analysis] min_n``); otherwise the comparison is "too few to judge".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from leadjourney.analysis.projection import Projection
from leadjourney.analysis.readback import build
from leadjourney.analysis.stats import wilson_interval
from leadjourney.analysis.status import OK, MetricStatus, for_count, too_few, withheld, young

DEFAULT_MIN_N = 30  # [analysis] min_n's default, for callers without a config


@dataclass(frozen=True)
class StageCount:
    stage: str
    lane: str
    reached: int
    imputed: int  # counted as reached though the CRM has no entry for the stage


@dataclass(frozen=True)
class Transition:
    from_stage: str
    to_stage: str
    entered: int
    converted: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    status: MetricStatus = OK  # too few people (min_n), young (still converting), or withheld
    projected: Projection | None = None  # the projected final conversion, when the people are still converting

    @property
    def dropped(self) -> int:
        return self.entered - self.converted

    def to_dict(self) -> dict[str, Any]:
        return transition_dict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Transition:
        """The inverse of :meth:`to_dict` (its ``dropped``, and the benchmarks an analysis adds, are derived)."""
        return build(cls, d, **transition_fields(d))


def transition_fields(d: Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`transition_dict` wrote differently from the fields: stages, status, projection."""
    projected = d.get("projected")
    return {"from_stage": d["from"], "to_stage": d["to"], "status": MetricStatus.of(d),
            "projected": None if projected is None else Projection.from_dict(projected)}


def transition_dict(row: Any) -> dict[str, Any]:
    """A transition-like dataclass as JSON: ``from``/``to`` keys and its ``dropped`` count."""
    out = asdict(row)
    out["from"] = out.pop("from_stage")
    out["to"] = out.pop("to_stage")
    out["dropped"] = row.dropped
    if "status" in out:  # flat: "status" and "status_reason"
        status = row.status
        out["status"], out["status_reason"] = status.status.value, status.reason
    if "projected" in out:
        out["projected"] = row.projected.to_dict() if row.projected is not None else None
    return out


def everyone_enters_first(counts: Sequence[StageCount], n_people: int) -> list[StageCount]:
    """The first-stage rule: every person is a lead, so the first stage is reached by all ``n_people``, dated
    or not (those without an entry count as imputed)."""
    first = counts[0]
    return [StageCount(first.stage, first.lane, n_people, first.imputed + n_people - first.reached), *counts[1:]]


def transition_between(a: StageCount, b: StageCount, min_n: int = DEFAULT_MIN_N) -> Transition:
    """Conversion from one stage count to the next, with its Wilson interval and its status: too few to
    judge below ``min_n`` people (``[analysis] min_n``), withheld when nobody entered."""
    entered, converted = a.reached, min(b.reached, a.reached)
    if entered == 0:
        return Transition(a.stage, b.stage, 0, 0, None, None, None, withheld(f"nobody reached {a.stage}"))
    low, high = wilson_interval(converted, entered)
    return Transition(a.stage, b.stage, entered, converted, converted / entered, low, high,
                      for_count(entered, min_n))


def below_baseline(entered: int, converted: int, base: float, points: float) -> tuple[bool, float, float]:
    """Whether the period is more than ``points`` below ``base`` beyond its noise; (below, low, high)."""
    low, high = wilson_interval(converted, entered)
    rate = converted / entered
    return (base - rate) * 100 > points and base > high, low, high


@dataclass(frozen=True)
class Comparison:
    """A rate (``entered``, ``converted``) against a baseline rate: the change and whether it is below."""

    rate: float | None
    base_rate: float | None
    delta_pp: float | None  # (rate - base_rate) in percentage points
    below: bool  # more than ``points`` below the baseline beyond noise, both sides judged
    status: MetricStatus = OK


def compare(entered: int, converted: int, base_rate: float | None, base_entered: int, *, points: float,
            min_n: int, projected: tuple[float, float, float] | None = None) -> Comparison:
    """The one comparison of a rate with its baseline (see the module docstring).

    ``projected`` (rate, low, high): the selection's projected final conversion when its people are still
    converting (:mod:`leadjourney.analysis.projection`). Then the change is measured from the projection, and
    the rate is below only when the projection's whole interval is more than ``points`` below the baseline:
    a young cohort is compared with a matured baseline like with like, never called a collapse.

    >>> compare(2, 0, 0.143, 500, points=5, min_n=30).status.text()
    'too few to judge: 2 people, fewer than min_n = 30'
    >>> compare(400, 40, 0.2, 500, points=5, min_n=30).below
    True
    """
    rate = converted / entered if entered else None
    if rate is None or base_rate is None:
        missing = "nobody entered it in this period" if rate is None else "the baseline has no rate here"
        return Comparison(rate, base_rate, None, False, withheld(missing))
    delta = (rate - base_rate) * 100
    if entered < min_n:
        return Comparison(rate, base_rate, delta, False, too_few(entered, min_n))
    if base_entered < min_n:
        return Comparison(rate, base_rate, delta, False, too_few(base_entered, min_n, "people in the baseline"))
    if projected is not None and projected[0] - rate > 1e-9:
        final, _, high = projected
        return Comparison(final, base_rate, (final - base_rate) * 100, (base_rate - final) * 100 > points
                          and base_rate - high > points / 100,
                          young(f"still converting: projected final {final:.1%} (observed so far {rate:.1%})"))
    below, _, _ = below_baseline(entered, converted, base_rate, points)
    return Comparison(rate, base_rate, delta, below)
