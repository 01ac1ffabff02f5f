"""The period comparison's rows: each transition now against the matched baseline, computed once per view.

The rule is :func:`leadjourney.analysis.rates.compare`, the monitor's (``points`` = ``[monitor] decline_points``,
``min_n`` = ``[analysis] min_n``); the figures and tables only render the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from leadjourney.analysis.projection import Projection
from leadjourney.analysis.rates import compare
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.status import OK, MetricStatus, Status


@dataclass(frozen=True)
class Delta:
    """One transition now and in the baseline, each with its n (people who entered), and the change."""

    transition: str  # "From→To", as the page names it
    current: float | None  # the observed rate now
    current_n: int
    baseline: float | None
    baseline_n: int
    delta_pp: float | None  # the change in percentage points (from the projection when ``projected``)
    red: bool  # below the baseline beyond noise, both sides judged
    projected: bool  # still converting: compared by its projected final conversion
    status: MetricStatus = OK  # too few people, young (projected) or withheld: said beside the change

    @property
    def note(self) -> str:
        return self.status.text()

    @property
    def too_few(self) -> bool:
        return self.status.status is Status.TOO_FEW


def period_deltas(now: Analysis, base: Analysis | None, *, points: float, min_n: int,
                  projected: Mapping[str, Projection] | None = None) -> list[Delta]:
    """Per transition of ``now``: :func:`~leadjourney.analysis.rates.compare` against ``base``'s rate. ``projected``
    ("From->To": the trend's projection of the selection): a selection still converting is compared by its
    projected final conversion against a matured baseline, when the analysis calls its rate young; otherwise
    observed with observed (a projection against a young baseline's observed rate showed "+13 pp" between two
    equal rates).
    No baseline: no rows."""
    if base is None:
        return []
    before = {(t.from_stage, t.to_stage): t for t in base.funnel.transitions}
    out = []
    for t in now.funnel.transitions:
        b = before.get((t.from_stage, t.to_stage))
        base_rate, base_n = (None, 0) if b is None else (b.rate, b.entered)
        p = (projected or {}).get(f"{t.from_stage}->{t.to_stage}")
        # like with like: a projection only for a rate the analysis calls young, against a baseline it does not
        matched = t.status.status is Status.YOUNG and not (b is not None and b.status.status is Status.YOUNG)
        final = (None if p is None or p.rate is None or p.ci_low is None or p.ci_high is None  # no projection
                 or not matched else (p.rate, p.ci_low, p.ci_high))
        c = compare(t.entered, t.converted, base_rate, base_n, points=points, min_n=min_n, projected=final)
        out.append(Delta(f"{t.from_stage}→{t.to_stage}", t.rate, t.entered, c.base_rate, base_n, c.delta_pp, c.below,
                         final is not None and c.status.status is Status.YOUNG, c.status))
    return out
