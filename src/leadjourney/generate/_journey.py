"""The clean simulation: who each lead is, how far it gets and when (continuous time, censored).

All instants are int64 seconds since the epoch (UTC); :data:`NA` marks "did not
happen before the end of the period". Every random draw is made for every lead,
whatever its path, so the stream (and therefore the result) depends on the seed
and the size only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from leadjourney.generate import _params as P

if TYPE_CHECKING:
    from leadjourney.generate._scenario import Scenario

NA = np.iinfo(np.int64).min
OPEN, DISQUALIFIED, CONVERTED = 0, 1, 2


@dataclass(frozen=True)
class Journeys:
    """One entry per simulated lead (index = lead number - 1)."""

    persona: np.ndarray  # int, index into PERSONAS
    channel: np.ndarray  # int, index into CHANNELS
    at: np.ndarray  # (n, 5) stage entry instants; NA when not reached
    furthest: np.ndarray  # index of the furthest stage reached
    status: np.ndarray  # OPEN / DISQUALIFIED / CONVERTED
    disqualified_at: np.ndarray
    reason: np.ndarray  # index into the furthest stage's DISQUALIFY reasons; -1 if none
    first_human: np.ndarray  # first human touchpoint; NA when none before the end
    went_dark: np.ndarray
    re_engaged: np.ndarray
    re_engage_kind: np.ndarray  # index into RE_ENGAGE_KINDS; -1 if none
    stop: np.ndarray  # last instant the lead can be touched (customer, disqualified or end)
    amount: np.ndarray  # opportunity amount; NaN without an opportunity
    closed_at: np.ndarray  # opportunity close (won or lost); NA if open or none
    open_stage: np.ndarray  # open opportunity: index into OPEN_OPPORTUNITY_STAGES; else -1

    @property
    def created(self) -> np.ndarray:
        return self.at[:, 0]

    @property
    def n(self) -> int:
        return len(self.persona)


def _lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int
) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def creation_times(rng: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """Creation instants over [start, end): fewer on weekends, mostly New York business hours."""
    days = (end - start) // P.DAY
    weekday = (np.arange(days) + (start // P.DAY + 3) % 7) % 7  # 1970-01-01 was a Thursday (3)
    weight = np.where(weekday >= 5, 0.35, 1.0)
    day = rng.choice(days, size=n, p=weight / weight.sum())
    office = rng.random(n) < 0.75
    local = (
        np.where(office, np.clip(rng.normal(11.5, 2.5, n), 0, 23.99), rng.uniform(0, 24, n))
        * P.HOUR
    )
    t = start + day * P.DAY + local.astype(np.int64) + 5 * P.HOUR
    return np.where(t >= end, t - P.DAY, t)


def simulate(rng: np.random.Generator, n: int, start: int, end: int, scenario: Scenario | None = None,
             r_scenario: np.random.Generator | None = None) -> Journeys:
    """Simulate ``n`` clean lead journeys created in [start, end) and observed until ``end``.

    A ``scenario`` changes transition probabilities and first human touches, never the draws
    from ``rng`` (its own draws come from ``r_scenario``).
    """
    persona = rng.choice(len(P.PERSONAS), size=n, p=[p.share for p in P.PERSONAS])
    channel = rng.choice(len(P.CHANNELS), size=n, p=[c.share for c in P.CHANNELS])
    idx = np.arange(n)
    at = np.full((n, 5), NA, dtype=np.int64)
    at[:, 0] = creation_times(rng, n, start, end)

    # stage transitions: success draw, lognormal time, censored at the end
    prob = P.transition_probabilities()[channel, persona]
    if scenario is not None:
        prob = scenario.probabilities(prob, at[:, 0], channel)
    success = rng.random((n, 4)) < prob
    tf = np.array([p.time_factor for p in P.PERSONAS])[persona]
    latent = at[:, 0].copy()
    alive = np.ones(n, dtype=bool)
    for k in range(4):
        days = _lognormal(rng, P.TIME_MEDIAN_DAYS[k] * tf, P.TIME_SIGMA[k], n)
        latent = latent + np.maximum(np.round(days * P.DAY), P.MIN_TRANSITION_SECONDS).astype(
            np.int64
        )
        alive = alive & success[:, k] & (latent < end)
        at[alive, k + 1] = latent[alive]
    reached = at != NA
    furthest = reached.sum(axis=1) - 1

    # speed to lead: MQL -> first human touch
    fast = rng.random(n) < P.WITHIN_5_MIN_SHARE
    slow = _lognormal(rng, P.RESPONSE_MEDIAN_HOURS * P.HOUR, P.RESPONSE_SIGMA, n)
    delay = np.round(np.where(fast, rng.uniform(30, 300, n), slow)).astype(np.int64)
    never = rng.random(n) < P.NEVER_CONTACTED_SHARE
    mql, sql = reached[:, 1], reached[:, 2]
    delay = np.where(sql, np.minimum(delay, (at[:, 2] - at[:, 1]) // 2), delay)
    first_human = np.where(mql, at[:, 1] + delay, NA)
    if scenario is not None and scenario.drift is not None:
        assert r_scenario is not None
        drifted = scenario.drifted(r_scenario.random(n), at[:, 0], sql)
        first_human = np.where(drifted, at[:, 2] + np.maximum(delay, 60), first_human)
    contacted = mql & (sql | ~never) & (first_human < end)
    first_human = np.where(contacted, first_human, NA)

    # disqualification (and lost opportunities) when the next transition fails
    stage = np.minimum(furthest, 3)
    failed = (furthest < 4) & ~success[idx, stage]
    rates = np.array([d[0] for d in P.DISQUALIFY])
    medians = np.array([d[1] for d in P.DISQUALIFY]) * P.DAY
    anchor = np.where(furthest == 1, first_human, at[idx, stage])
    wait = _lognormal(rng, medians[stage] * tf, P.DISQUALIFY_SIGMA, n)
    dq_time = anchor + np.maximum(np.round(wait), P.MIN_TRANSITION_SECONDS).astype(np.int64)
    dq = failed & (rng.random(n) < rates[stage]) & (anchor != NA) & (dq_time < end)
    disqualified_at = np.where(dq, dq_time, NA)
    reason = np.full(n, -1, dtype=np.int64)
    u = rng.random(n)
    for s, (_, _, reasons) in enumerate(P.DISQUALIFY):
        cum = np.cumsum([w for _, w in reasons])
        rows = dq & (stage == s)
        reason[rows] = np.minimum(
            np.searchsorted(cum / cum[-1], u[rows], side="right"), len(reasons) - 1
        )
    status = np.where(furthest == 4, CONVERTED, np.where(dq, DISQUALIFIED, OPEN))
    stop = np.where(furthest == 4, at[:, 4], np.where(dq, disqualified_at, end - 1))

    # opportunities
    medians_amount = np.array([p.amount_median for p in P.PERSONAS])[persona]
    sigmas_amount = np.array([p.amount_sigma for p in P.PERSONAS])[persona]
    raw_amount = medians_amount * np.exp(sigmas_amount * rng.standard_normal(n))
    has_opp = furthest >= 3
    amount = np.where(has_opp, np.maximum(np.round(raw_amount, -2), 500.0), np.nan)
    closed_at = np.where(furthest == 4, at[:, 4], np.where(has_opp & dq, disqualified_at, NA))
    open_pick = rng.integers(0, len(P.OPEN_OPPORTUNITY_STAGES), n)
    open_stage = np.where(has_opp & (closed_at == NA), open_pick, -1)

    went_dark, re_engaged, kind = _dark(rng, at, furthest, status, first_human, end)
    return Journeys(
        persona=persona,
        channel=channel,
        at=at,
        furthest=furthest,
        status=status,
        disqualified_at=disqualified_at,
        reason=reason,
        first_human=first_human,
        went_dark=went_dark,
        re_engaged=re_engaged,
        re_engage_kind=kind,
        stop=stop,
        amount=amount,
        closed_at=closed_at,
        open_stage=open_stage,
    )


def _dark(
    rng: np.random.Generator,
    at: np.ndarray,
    furthest: np.ndarray,
    status: np.ndarray,
    first_human: np.ndarray,
    end: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dark periods: open leads that fall silent (maybe re-engaged), and leads silent before their last stage.

    A lead has at most one silence: no touchpoint in (went_dark, re_engaged) or (went_dark, end),
    at least ``MIN_GAP_DAYS`` long; every other gap in its touchpoints stays under that.
    """
    n = len(furthest)
    idx = np.arange(n)
    gap = P.MIN_GAP_DAYS * P.DAY
    pause = np.maximum(
        np.round(_lognormal(rng, P.DARK_AFTER_MEDIAN_DAYS * P.DAY, P.DARK_AFTER_SIGMA, n)), P.HOUR
    ).astype(np.int64)
    human = first_human != NA
    last = at[idx, furthest]

    # (a) open leads going silent after their last stage entry (and first human touch)
    dark_open_at = np.where(human, np.maximum(last, first_human), last) + pause
    eligible = (status == OPEN) & (dark_open_at + gap <= end)
    dark_open = eligible & (rng.random(n) < P.DARK_RATE)
    extra = np.round(rng.exponential(P.RE_ENGAGE_EXTRA_MEAN_DAYS * P.DAY, n)).astype(np.int64)
    back_open = dark_open_at + gap + extra
    re_open = dark_open & (rng.random(n) < P.RE_ENGAGE_RATE) & (back_open < end)

    # (b) leads silent between their previous and their furthest stage, re-engaged just before it
    prev = at[idx, np.maximum(furthest - 1, 0)]
    before = human & (first_human < last)
    dark_prev_at = np.where(before, np.maximum(prev, first_human), prev) + pause
    lo, hi = P.ADVANCE_AFTER_RE_ENGAGE_DAYS
    back_prev = last - np.round(rng.uniform(lo, hi, n) * P.DAY).astype(np.int64)
    room = (furthest >= 1) & ~dark_open & (back_prev - dark_prev_at >= gap)
    dark_prev = room & (rng.random(n) < P.DARK_BEFORE_ADVANCE_RATE)

    went_dark = np.where(dark_open, dark_open_at, np.where(dark_prev, dark_prev_at, NA))
    re_engaged = np.where(re_open, back_open, np.where(dark_prev, back_prev, NA))
    kind = np.where(re_engaged != NA, rng.integers(0, len(P.RE_ENGAGE_KINDS), n), -1)
    return went_dark, re_engaged, kind
