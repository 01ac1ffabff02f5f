"""Small statistics on aggregated numbers: Wilson intervals and Kaplan-Meier medians.

They take counts the engine has already aggregated; nothing here loops over leads.
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a proportion; (0, 1) when there are no trials.

    >>> tuple(round(x, 4) for x in wilson_interval(20, 100))
    (0.1334, 0.2888)
    """
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1 + z * z / trials
    center = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def km_median(times: np.ndarray, events: np.ndarray, censored: np.ndarray) -> float | None:
    """Kaplan-Meier median from aggregated rows; None when the curve never reaches one half.

    ``times`` are distinct durations (sorted or not); ``events`` how many converted at each,
    ``censored`` how many were still waiting at each (counted at risk through that time).

    >>> km_median(np.array([1.0, 2.0, 3.0]), np.array([1, 1, 1]), np.array([0, 0, 0]))
    2.0
    >>> km_median(np.array([1.0, 5.0]), np.array([1, 0]), np.array([0, 9])) is None
    True
    """
    order = np.argsort(times, kind="stable")
    t, d, c = times[order], events[order].astype(float), censored[order].astype(float)
    at_risk = (d + c)[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = np.where(at_risk > 0, 1.0 - d / at_risk, 1.0)
    survival = np.cumprod(factors)
    below = np.nonzero(survival <= 0.5 + 1e-12)[0]
    return float(t[below[0]]) if len(below) else None
