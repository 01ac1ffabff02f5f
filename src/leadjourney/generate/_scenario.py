"""``Scenario``: business changes planted in the simulation for the monitor to find.

A :class:`Decline` lowers one transition's probability for leads created on or after a
date (optionally for one channel only): the conversion decline and source shift the
monitor's rules look for. A :class:`Drift` makes a share of the leads created on or after
a date enter SQL before any human touch, so the default SQL definition
("human_touches >= 1") is not met: definition drift. Only probabilities and instants
change, never the random draws, so everything else about the data stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from leadjourney.generate import _params as P
from leadjourney.generate._journey import NA, Journeys


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Decline:
    """Leads created on or after ``since`` (UTC) pass ``transition`` with ``factor`` times the usual probability."""

    since: date
    transition: str = "MQL->SQL"
    factor: float = 0.5
    channel: str | None = None  # only leads of this channel (a source conversion shift)

    def __post_init__(self) -> None:
        if self.transition not in P.TRANSITIONS:
            raise ValueError(f"Decline.transition must be one of {', '.join(P.TRANSITIONS)}, "
                             f"found {self.transition!r}")
        if not 0.0 <= self.factor <= 2.0:
            raise ValueError(f"Decline.factor must be between 0 and 2, found {self.factor!r}")
        if self.channel is not None and self.channel not in {c.name for c in P.CHANNELS}:
            raise ValueError(f"Decline.channel {self.channel!r} is not a generated channel")

    @property
    def k(self) -> int:
        return P.TRANSITIONS.index(self.transition)

    def hit(self, created: np.ndarray, channel: np.ndarray) -> np.ndarray:
        """Which leads the decline applies to."""
        out = created >= _epoch(self.since)
        if self.channel is not None:
            out &= channel == [c.name for c in P.CHANNELS].index(self.channel)
        return out


@dataclass(frozen=True)
class Drift:
    """Of the leads created on or after ``since`` that reach SQL, ``share`` get their first human touch
    only after entering SQL (they entered SQL without meeting ``human_touches >= 1``)."""

    since: date
    share: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"Drift.share must be between 0 and 1, found {self.share!r}")


@dataclass(frozen=True)
class Scenario:
    """Planted business changes (none by default)."""

    declines: tuple[Decline, ...] = ()
    drift: Drift | None = None

    def probabilities(self, prob: np.ndarray, created: np.ndarray, channel: np.ndarray) -> np.ndarray:
        """``prob`` (n, 4) with every decline applied."""
        prob = prob.copy()
        for d in self.declines:
            hit = d.hit(created, channel)
            prob[hit, d.k] = np.minimum(prob[hit, d.k] * d.factor, P.MAX_PROBABILITY)
        return prob

    def drifted(self, u: np.ndarray, created: np.ndarray, sql: np.ndarray) -> np.ndarray:
        """Which leads enter SQL before their first human touch (``u``: one uniform draw per lead)."""
        if self.drift is None:
            return np.zeros(len(created), dtype=bool)
        return sql & (created >= _epoch(self.drift.since)) & (u < self.drift.share)


def _month(seconds: np.ndarray) -> np.ndarray:
    return seconds.astype("datetime64[s]").astype("datetime64[M]").astype(str)


def _by_month(created: np.ndarray, entered: np.ndarray, passed: np.ndarray) -> dict[str, list[int]]:
    months = _month(created)
    return {str(m): [int((entered & (months == m)).sum()), int((passed & entered & (months == m)).sum())]
            for m in np.unique(months)}


def scenario_truth(s: Scenario, j: Journeys) -> dict[str, Any]:
    """What was planted, with the realized counts by creation month (UTC): ``[entered, converted]`` of each
    decline's transition (its channel's leads only, if any) and ``[reached SQL, without a human touch]``."""
    reached = j.at != NA
    without_human = reached[:, 2] & ((j.first_human == NA) | (j.first_human > j.at[:, 2]))
    out: dict[str, Any] = {"declines": [], "drift": None}
    for d in s.declines:
        scope = np.ones(j.n, dtype=bool) if d.channel is None else d.hit(np.full(j.n, _epoch(d.since)), j.channel)
        entered, passed = reached[:, d.k] & scope, reached[:, d.k + 1]
        out["declines"].append({"since": d.since.isoformat(), "transition": d.transition, "factor": d.factor,
                                "channel": d.channel, "by_month": _by_month(j.created, entered, passed)})
    if s.drift is not None:
        out["drift"] = {"since": s.drift.since.isoformat(), "share": s.drift.share, "stage": "SQL",
                        "by_month": _by_month(j.created, reached[:, 2], without_human)}
    return out
