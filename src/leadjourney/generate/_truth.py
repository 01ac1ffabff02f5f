"""Ground truth: the planted parameters, the clean simulation's realized counts, and the planted dirt."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from leadjourney.generate import _params as P
from leadjourney.generate._ids import Ids
from leadjourney.generate._journey import DISQUALIFIED, NA, OPEN, Journeys
from leadjourney.generate._people import coded
from leadjourney.generate._plant import Plan
from leadjourney.generate._spelling import Spellings
from leadjourney.generate._tables import REASONS, STATUSES, Opportunities, reason_index
from leadjourney.generate._timefmt import utc_timestamps


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _funnel(reached: np.ndarray) -> tuple[dict[str, int], dict[str, float | None]]:
    counts = reached.sum(axis=0)
    stages = {s: int(c) for s, c in zip(P.STAGES, counts, strict=True)}
    rates = {t: _rate(int(counts[k + 1]), int(counts[k])) for k, t in enumerate(P.TRANSITIONS)}
    return stages, rates


def realized(j: Journeys, touches: int) -> dict[str, Any]:
    """Counts of the clean simulation (duplicate-person records and orphans excluded)."""
    reached = j.at != NA
    stages, rates = _funnel(reached)
    by: dict[str, Any] = {}
    for label, groups, names in (
        ("channel", j.channel, [c.name for c in P.CHANNELS]),
        ("persona", j.persona, [p.name for p in P.PERSONAS]),
    ):
        reached_by, rates_by = {}, {}
        for k, name in enumerate(names):
            reached_by[name], rates_by[name] = _funnel(reached[groups == k])
        by[f"reached_by_{label}"] = reached_by
        by[f"conversion_by_{label}"] = rates_by
    mql = reached[:, 1]
    human = j.first_human != NA
    delay = (j.first_human - j.at[:, 1])[human]
    dark = j.went_dark != NA
    back = j.re_engaged != NA
    advanced = back & (j.re_engaged < j.at[np.arange(j.n), j.furthest])
    dq = j.status == DISQUALIFIED
    has_opp = j.furthest >= 3
    return {
        "leads": j.n,
        "reached": stages,
        "conversion": rates,
        **by,
        "status": {s: int((j.status == k).sum()) for k, s in enumerate(STATUSES)},
        "disqualified_by_stage": {
            s: int((dq & (j.furthest == k)).sum()) for k, s in enumerate(P.STAGES[:4])
        },
        "opportunities": {
            "total": int(has_opp.sum()),
            "won": int((j.furthest == 4).sum()),
            "lost": int((has_opp & dq).sum()),
            "open": int((has_opp & (j.status == OPEN)).sum()),
        },
        "speed_to_lead": {
            "mqls": int(mql.sum()),
            "contacted": int(human.sum()),
            "never_contacted": int((mql & ~human).sum()),
            "within_5_min": int((delay <= 300).sum()),
            "median_hours": round(float(np.median(delay)) / P.HOUR, 6) if len(delay) else None,
        },
        "dark": {
            "went_dark": int(dark.sum()),
            "still_dark": int((dark & ~back).sum()),
            "re_engaged": int(back.sum()),
            "re_engaged_then_advanced": int(advanced.sum()),
        },
        "touchpoints": {"simulated_leads": touches, "per_lead": _rate(touches, j.n)},
    }


def _ids(ids: Ids, idx: np.ndarray) -> list[str]:
    return ids.lead_ids.take(pa.array(np.asarray(idx, dtype=np.int64))).to_pylist()


def _pairs(left: list[str], right: list[str]) -> list[list[str]]:
    return [[a, b] for a, b in zip(left, right, strict=True)]


def planted(
    j: Journeys,
    plan: Plan,
    spell: Spellings,
    ids: Ids,
    opps: Opportunities,
    exact_leads: int,
    exact_events: int,
    orphan_touch_rows: int,
) -> dict[str, Any]:
    """Exactly what dirt went into the files, by id."""
    n = j.n
    copies = np.arange(n, n + len(plan.duplicate_of))
    missing = sorted(_pairs(_ids(ids, plan.missing), [P.STAGES[s] for s in plan.missing_stage]))
    rules = [spell.unqualified[t][1] for t in plan.unqualified_title]
    in_funnel = plan.unqualified[j.furthest[plan.unqualified] >= 1]
    return {
        "exact_duplicate_lead_rows": exact_leads,
        "exact_duplicate_event_rows": exact_events,
        "duplicate_people": _pairs(_ids(ids, copies), _ids(ids, plan.duplicate_of)),
        "missing_timestamps": missing,
        "skipped_stages": _ids(ids, plan.skipped),
        "out_of_order": _ids(ids, plan.out_of_order),
        "regressions": _ids(ids, plan.regression),
        "missing_source": _ids(ids, plan.missing_source),
        "unknown_stages": sorted(
            _pairs(
                _ids(ids, plan.unknown_stage),
                [spell.unknown_stages[s] for s in plan.unknown_stage_spelling],
            )
        ),
        "unknown_channels": sorted(
            _pairs(
                _ids(ids, plan.unknown_channel),
                [spell.unknown_channels[s] for s in plan.unknown_channel_spelling],
            )
        ),
        "future_dates": _ids(ids, plan.future),
        "orphan_opportunities": sorted(opps.orphan_ids.to_pylist()),
        "orphan_touchpoints": {
            "count": orphan_touch_rows,
            "lead_ids": _ids(ids, ids.orphan_touch_lead_indices),
        },
        "unqualified_contacts": _pairs(_ids(ids, plan.unqualified), rules),
        "unqualified_in_funnel": _ids(ids, in_funnel),
    }


def truth_leads(j: Journeys, ids: Ids, opps: Opportunities) -> pa.Table:
    """One row per simulated lead: who it is and what really happened, instants in UTC."""
    n = j.n
    has_opp = j.furthest >= 3
    opp_row = np.full(n, -1, dtype=np.int64)
    opp_row[opps.lead] = np.arange(len(opps.lead))
    reason = reason_index(j.furthest, j.status, j.reason)
    columns: dict[str, pa.Array] = {
        "lead_id": ids.lead_ids.slice(0, n),
        "persona": coded([p.name for p in P.PERSONAS], j.persona),
        "channel": coded([c.name for c in P.CHANNELS], j.channel),
        "created_at": utc_timestamps(j.created),
    }
    for k, name in enumerate(P.STAGE_COLUMNS):
        columns[name] = utc_timestamps(j.at[:, k])
    columns.update(
        {
            "furthest_stage": coded(P.STAGES, j.furthest),
            "status": coded(STATUSES, j.status),
            "disqualified": pa.array(j.status == DISQUALIFIED),
            "disqualified_at": utc_timestamps(j.disqualified_at),
            "disqualify_reason": coded(REASONS, reason),
            "first_human_touch_at": utc_timestamps(j.first_human),
            "never_contacted": pa.array((j.at[:, 1] != NA) & (j.first_human == NA)),
            "went_dark_at": utc_timestamps(j.went_dark),
            "re_engaged_at": utc_timestamps(j.re_engaged),
            "re_engaged_by": coded(P.RE_ENGAGE_KINDS, j.re_engage_kind),
            "opportunity_id": opps.opportunity_id.take(pa.array(opp_row, mask=opp_row < 0)),
            "amount": pa.array(j.amount, pa.float64(), mask=~has_opp),
            "is_won": pa.array(j.furthest == 4, mask=~has_opp),
            "opportunity_closed_at": utc_timestamps(j.closed_at),
        }
    )
    return pa.table(columns)
