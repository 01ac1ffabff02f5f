"""Which leads get which planted problem: disjoint sets, drawn after the clean simulation.

Each lead carries at most one kind of dirt, so kinds cannot mask or mimic each
other (a blank MQL timestamp is never on a skipped-stage lead; a future-dated
lead has nothing but its Lead event, so none of its events precedes the typo).
A rate is a share of the simulated leads; when a kind's eligible pool is smaller
than asked, it gets the whole pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadjourney.generate import _params as P
from leadjourney.generate._dirt import Dirt
from leadjourney.generate._journey import NA, Journeys
from leadjourney.generate._spelling import Spellings

UNQUALIFIED_IN_FUNNEL_SHARE = 0.25  # of unqualified contacts, drawn from leads that reached MQL


@dataclass(frozen=True)
class Plan:
    future: np.ndarray  # lead indices, sorted
    skipped: np.ndarray
    regression: np.ndarray
    regression_at: np.ndarray  # the added MQL event's instant
    out_of_order: np.ndarray
    out_of_order_at: np.ndarray  # the moved MQL event's instant
    missing: np.ndarray
    missing_stage: np.ndarray  # stage index whose entered_at is blanked
    unqualified: np.ndarray
    unqualified_title: np.ndarray  # index into Spellings.unqualified
    unknown_stage: np.ndarray
    unknown_stage_spelling: np.ndarray  # index into Spellings.unknown_stages
    unknown_stage_at: np.ndarray
    unknown_channel: np.ndarray
    unknown_channel_spelling: np.ndarray  # index into Spellings.unknown_channels
    missing_source: np.ndarray
    duplicate_of: np.ndarray  # original lead index of each duplicate-person record
    duplicate_created: np.ndarray
    duplicate_variant: (
        np.ndarray
    )  # e-mail variation bits: 1 capitalize, 2 upper-case domain, 4 spaces
    exact_lead_rows: int
    exact_event_rows: int
    orphan_opportunities: int
    orphan_touch_leads: int


class _Picker:
    """Draws disjoint sets of leads from eligibility pools."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self.rng = rng
        self.free = np.ones(n, dtype=bool)
        self.n = n

    def count(self, rate: float) -> int:
        return round(rate * self.n)

    def take(self, eligible: np.ndarray, k: int) -> np.ndarray:
        pool = np.flatnonzero(eligible & self.free)
        chosen = np.sort(self.rng.permutation(pool)[: min(k, len(pool))])
        self.free[chosen] = False
        return chosen


def plan(rng: np.random.Generator, j: Journeys, dirt: Dirt, spell: Spellings, end: int) -> Plan:
    """Choose the leads (and details) of every planted problem."""
    pick = _Picker(rng, j.n)
    s = j.furthest
    created = j.created

    future = pick.take(s == 0, pick.count(dirt.future_dates))
    skipped = pick.take(s >= 2, pick.count(dirt.skipped_stages))

    lo = j.at[:, 2] + P.HOUR
    hi = np.where(s >= 3, j.at[:, 3], end) - 1
    regression = pick.take((s >= 2) & (hi - lo >= P.HOUR), pick.count(dirt.regressions))
    span = (hi - lo)[regression]
    regression_at = lo[regression] + np.floor(rng.random(len(regression)) * span).astype(np.int64)

    out_of_order = pick.take(s >= 1, pick.count(dirt.out_of_order))
    shift = np.round(rng.uniform(1, 30, len(out_of_order)) * P.DAY).astype(np.int64)
    out_of_order_at = created[out_of_order] - shift

    missing = pick.take(s >= 1, pick.count(dirt.missing_timestamps))
    missing_stage = 1 + np.floor(rng.random(len(missing)) * s[missing]).astype(np.int64)

    total = pick.count(dirt.unqualified_contacts)
    in_funnel = pick.take(s >= 1, round(total * UNQUALIFIED_IN_FUNNEL_SHARE))
    unqualified = np.sort(np.concatenate([in_funnel, pick.take(s == 0, total - len(in_funnel))]))
    unqualified_title = rng.integers(0, len(spell.unqualified), len(unqualified))

    everyone = np.ones(j.n, dtype=bool)
    unknown_stage = pick.take(everyone, pick.count(dirt.unknown_stages))
    unknown_stage_spelling = rng.integers(0, len(spell.unknown_stages), len(unknown_stage))
    room = end - 1 - created[unknown_stage]
    unknown_stage_at = created[unknown_stage] + np.floor(
        rng.random(len(unknown_stage)) * room
    ).astype(np.int64)
    unknown_channel = pick.take(everyone, pick.count(dirt.unknown_channels))
    unknown_channel_spelling = rng.integers(0, len(spell.unknown_channels), len(unknown_channel))
    missing_source = pick.take(everyone, pick.count(dirt.missing_source))

    calm = (j.went_dark == NA) & (created < end - 2 * P.HOUR)
    duplicate_of = pick.take(calm, pick.count(dirt.duplicate_people))
    room = end - 1 - created[duplicate_of] - P.HOUR
    duplicate_created = (
        created[duplicate_of]
        + P.HOUR
        + np.floor(rng.random(len(duplicate_of)) * room).astype(np.int64)
    )
    duplicate_variant = rng.integers(1, 8, len(duplicate_of))

    return Plan(
        future=future,
        skipped=skipped,
        regression=regression,
        regression_at=regression_at,
        out_of_order=out_of_order,
        out_of_order_at=out_of_order_at,
        missing=missing,
        missing_stage=missing_stage,
        unqualified=unqualified,
        unqualified_title=unqualified_title,
        unknown_stage=unknown_stage,
        unknown_stage_spelling=unknown_stage_spelling,
        unknown_stage_at=unknown_stage_at,
        unknown_channel=unknown_channel,
        unknown_channel_spelling=unknown_channel_spelling,
        missing_source=missing_source,
        duplicate_of=duplicate_of,
        duplicate_created=duplicate_created,
        duplicate_variant=duplicate_variant,
        exact_lead_rows=pick.count(dirt.exact_duplicate_rows),
        exact_event_rows=pick.count(dirt.exact_duplicate_rows),
        orphan_opportunities=pick.count(dirt.orphan_opportunities),
        orphan_touch_leads=pick.count(dirt.orphan_touchpoints),
    )
