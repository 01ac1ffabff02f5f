"""A rate against its baseline: the one rule every layer uses to call a conversion "below".

The dashboard paints a transition red, and the monitor raises its decline flag, with the same
test: more than ``points`` percentage points below the baseline *and* the baseline above the
period's Wilson 95% interval (so noise is never red), and only when both sides have at least
``min_n`` people (``[analysis] min_n``); otherwise the comparison is "too few to judge".
"""

from __future__ import annotations

from dataclasses import dataclass

from leadjourney.analysis.stats import wilson_interval
from leadjourney.analysis.status import OK, MetricStatus, too_few, withheld, young


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
