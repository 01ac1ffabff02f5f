"""The raw exports as Arrow tables: clean journeys written the way CRMs write them, plus the plan's dirt."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadjourney.generate import _params as P
from leadjourney.generate._ids import Ids
from leadjourney.generate._journey import DISQUALIFIED, NA, Journeys
from leadjourney.generate._people import People, coded, numbered, take
from leadjourney.generate._plant import Plan
from leadjourney.generate._spelling import Spellings
from leadjourney.generate._timefmt import format_instants, push_years, zone_codes

STATUSES = ("open", "disqualified", "converted")
REASONS = tuple(sorted({r for _, _, reasons in P.DISQUALIFY for r, _ in reasons}))
_REASON_OF = np.full((len(P.DISQUALIFY), max(len(d[2]) for d in P.DISQUALIFY)), -1, dtype=np.int64)
for _s, (_, _, _reasons) in enumerate(P.DISQUALIFY):
    _REASON_OF[_s, : len(_reasons)] = [REASONS.index(r) for r, _ in _reasons]
UNKNOWN_STAGE = -1


def reason_index(furthest: np.ndarray, status: np.ndarray, drawn: np.ndarray) -> np.ndarray:
    """Index into REASONS of each disqualified lead's reason (drawn per stage); -1 for the others."""
    return np.where(
        status == DISQUALIFIED, _REASON_OF[np.minimum(furthest, 3), np.maximum(drawn, 0)], -1
    )


@dataclass(frozen=True)
class Streams:
    """The random streams the table writers draw from (spellings, zone formats, dirt details)."""

    spelling: np.random.Generator
    zones: np.random.Generator
    dirt: np.random.Generator
    mixed: bool


def _flat(groups: tuple[tuple[str, ...], ...]) -> tuple[list[str], np.ndarray, np.ndarray]:
    words = [w for g in groups for w in g]
    counts = np.array([len(g) for g in groups])
    return words, np.cumsum(counts) - counts, counts


def _spell(
    rng: np.random.Generator,
    group: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    first_share: float = 0.0,
) -> np.ndarray:
    """A spelling index per row from its group; the group's first spelling gets ``first_share`` extra."""
    u = rng.random(len(group))
    first = rng.random(len(group)) < first_share
    return starts[group] + np.where(first, 0, np.floor(u * counts[group]).astype(np.int64))


def override(values: pa.Array, rows: np.ndarray, new: pa.Array) -> pa.Array:
    """``values`` with positions ``rows`` replaced by ``new``."""
    idx = np.arange(len(values))
    idx[rows] = len(values) + np.arange(len(rows))
    return pa.concat_arrays([values, new.cast(values.type)]).take(pa.array(idx))


def with_copies(table: pa.Table, rng: np.random.Generator, k: int) -> tuple[pa.Table, int]:
    """Insert verbatim copies of ``k`` random rows right after their originals."""
    k = min(k, table.num_rows)
    chosen = (
        np.sort(rng.choice(table.num_rows, size=k, replace=False)) if k else np.zeros(0, np.int64)
    )
    idx = np.concatenate([np.arange(table.num_rows), chosen])
    return table.take(pa.array(idx[np.argsort(idx, kind="stable")])), k


def _blank_some(rng: np.random.Generator, text: pa.Array, rows: np.ndarray) -> pa.Array:
    """Blank values at ``rows``: half null, half empty string (exports do both)."""
    blank = rng.random(len(rows)) < 0.5
    return override(text, rows, take(("",), np.where(blank, 0, -1)))


def leads_table(
    j: Journeys, people: People, plan: Plan, spell: Spellings, ids: Ids, rs: Streams
) -> tuple[pa.Table, int]:
    """The leads export (simulated leads, then duplicate-person records); returns it and its copied rows."""
    n, m = j.n, len(plan.duplicate_of)
    src = np.concatenate([np.arange(n), plan.duplicate_of])
    copy = np.arange(n, n + m)

    words, starts, counts = _flat(spell.channels)
    vocab = words + list(spell.unknown_channels)
    source_idx = _spell(rs.spelling, j.channel[src], starts, counts)
    source_idx[plan.unknown_channel] = len(words) + plan.unknown_channel_spelling
    source = take(vocab, source_idx)
    source = _blank_some(rs.dirt, source, plan.missing_source)

    created = np.concatenate([j.created, plan.duplicate_created])
    created_at = format_instants(created, zone_codes(rs.zones, n + m, rs.mixed))
    created_at = override(
        created_at, plan.future, push_years(created_at.take(pa.array(plan.future)))
    )

    variant = np.zeros(n + m, dtype=np.int64)
    variant[copy] = plan.duplicate_variant
    local = people.email_local.take(pa.array(src))
    domain = people.email_domain.take(pa.array(src))
    local = pc.if_else(pa.array(variant & 1 > 0), pc.utf8_capitalize(local), local)
    domain = pc.if_else(pa.array(variant & 2 > 0), pc.utf8_upper(domain), domain)
    pad = take(("", " "), (variant & 4 > 0).astype(np.int64))
    email = pc.binary_join_element_wise(pad, local, pa.scalar("@"), domain, pad, "")

    titles = take([t for t, _ in spell.unqualified], plan.unqualified_title)
    job_title = override(people.job_title.take(pa.array(src)), plan.unqualified, titles)

    stage_words, stage_starts, stage_counts = _flat(spell.stages)
    furthest = np.concatenate([j.furthest, np.zeros(m, dtype=np.int64)])
    current = _spell(rs.spelling, furthest, stage_starts, stage_counts, first_share=0.5)
    status = np.concatenate([j.status, np.zeros(m, dtype=np.int64)])
    reason = reason_index(furthest, status, np.concatenate([j.reason, np.full(m, -1)]))

    table = pa.table(
        {
            "lead_id": ids.lead_ids.slice(0, n + m),
            "email": email,
            "created_at": created_at,
            "source": source,
            "source_detail": people.source_detail.take(pa.array(src)),
            "company": people.company.take(pa.array(src)),
            "industry": people.industry.take(pa.array(src)),
            "employee_count": people.employee_count.take(pa.array(src)),
            "country": people.country.take(pa.array(src)),
            "job_title": job_title,
            "owner": people.owner.take(pa.array(src)),
            "status": take(STATUSES, status),
            "disqualify_reason": take(REASONS, reason),
            "current_stage": take(stage_words, current),
        }
    )
    return with_copies(table, rs.dirt, plan.exact_lead_rows)


def events_table(
    j: Journeys, plan: Plan, spell: Spellings, ids: Ids, rs: Streams
) -> tuple[pa.Table, int]:
    """The stage history export; returns it and its number of copied rows."""
    n, m = j.n, len(plan.duplicate_of)
    lead, stage = np.nonzero(j.at != NA)
    at = j.at[lead, stage]
    shown = at.copy()
    keep = ~(np.isin(lead, plan.skipped) & (stage == 1))
    ooo = np.isin(lead, plan.out_of_order) & (stage == 1)
    shown[ooo] = plan.out_of_order_at[np.searchsorted(plan.out_of_order, lead[ooo])]
    missing = np.isin(lead * 8 + stage, plan.missing * 8 + plan.missing_stage)
    shown[missing] = NA
    future = np.isin(lead, plan.future)

    extra_lead = np.concatenate([plan.regression, plan.unknown_stage, np.arange(n, n + m)])
    extra_stage = np.concatenate(
        [
            np.ones(len(plan.regression), np.int64),
            np.full(len(plan.unknown_stage), UNKNOWN_STAGE),
            np.zeros(m, np.int64),
        ]
    )
    extra_at = np.concatenate([plan.regression_at, plan.unknown_stage_at, plan.duplicate_created])
    lead = np.concatenate([lead[keep], extra_lead])
    stage = np.concatenate([stage[keep], extra_stage])
    sort_at = np.concatenate([at[keep], extra_at])
    shown = np.concatenate([shown[keep], extra_at])
    missing = np.concatenate([missing[keep], np.zeros(len(extra_lead), bool)])
    future = np.concatenate([future[keep], np.zeros(len(extra_lead), bool)])
    unknown_spelling = np.concatenate(
        [
            np.zeros(int(keep.sum()) + len(plan.regression), np.int64),
            plan.unknown_stage_spelling,
            np.zeros(m, np.int64),
        ]
    )

    order = np.lexsort((np.arange(len(lead)), sort_at, lead))
    lead, stage, shown = lead[order], stage[order], shown[order]
    missing, future, unknown_spelling = missing[order], future[order], unknown_spelling[order]

    words, starts, counts = _flat(spell.stages)
    spelling = _spell(rs.spelling, np.maximum(stage, 0), starts, counts, first_share=0.5)
    spelling = np.where(stage == UNKNOWN_STAGE, len(words) + unknown_spelling, spelling)
    entered = format_instants(shown, zone_codes(rs.zones, len(shown), rs.mixed))
    typo = np.flatnonzero(future)
    entered = override(entered, typo, push_years(entered.take(pa.array(typo))))
    entered = _blank_some(rs.dirt, entered, np.flatnonzero(missing))
    table = pa.table(
        {
            "lead_id": ids.lead_ids.take(pa.array(lead)),
            "stage": coded(words + list(spell.unknown_stages), spelling),
            "entered_at": entered,
        }
    )
    return with_copies(table, rs.dirt, plan.exact_event_rows)


@dataclass(frozen=True)
class Opportunities:
    table: pa.Table
    lead: np.ndarray  # lead index per opportunity of a simulated lead
    opportunity_id: pa.Array  # their ids
    orphan_ids: pa.Array


def opportunities_table(
    j: Journeys, plan: Plan, ids: Ids, rs: Streams, start: int, end: int
) -> Opportunities:
    """Opportunities of leads that reached Opportunity, plus orphans whose lead_id is in no leads row."""
    lead = np.flatnonzero(j.furthest >= 3)
    created = j.at[lead, 3]
    closed = j.closed_at[lead]
    won = j.furthest[lead] == 4
    amount = j.amount[lead]
    names = ("Closed Won", "Closed Lost", *P.OPEN_OPPORTUNITY_STAGES)
    stage = np.where(won, 0, np.where(closed != NA, 1, 2 + j.open_stage[lead]))

    k = plan.orphan_opportunities
    rng = rs.dirt
    orphan_lead = ids.orphan_opportunity_leads
    o_created = rng.integers(start, end - 1, k)
    o_persona = rng.integers(0, len(P.PERSONAS), k)
    medians = np.array([p.amount_median for p in P.PERSONAS])[o_persona]
    o_amount = np.maximum(np.round(medians * np.exp(0.5 * rng.standard_normal(k)), -2), 500.0)
    outcome = rng.random(k)
    o_closed = o_created + np.round(rng.uniform(1, 60, k) * P.DAY).astype(np.int64)
    o_open = (outcome >= 0.6) | (o_closed >= end)
    o_won = ~o_open & (outcome < 0.3)
    o_stage = np.where(
        o_open, 2 + rng.integers(0, len(P.OPEN_OPPORTUNITY_STAGES), k), np.where(o_won, 0, 1)
    )

    all_lead = np.concatenate([lead, orphan_lead])
    all_created = np.concatenate([created, o_created])
    # ids: simulated opportunities by creation, then the orphans (so dirt never renumbers the clean ones)
    rank = np.empty(len(all_lead), dtype=np.int64)
    rank[np.argsort(created, kind="stable")] = np.arange(len(lead))
    rank[len(lead) :] = len(lead) + np.arange(k)
    opp_id = numbered("O", rank + 1, max(7, len(str(len(all_lead)))))
    order = np.argsort(all_created, kind="stable")
    closed_all = np.concatenate([closed, np.where(o_open, NA, o_closed)])
    instants = np.concatenate([all_created, closed_all])
    text = format_instants(instants, zone_codes(rs.zones, len(instants), rs.mixed))
    table = pa.table(
        {
            "opportunity_id": opp_id,
            "lead_id": ids.lead_ids.take(pa.array(all_lead)),
            "created_at": text.slice(0, len(all_lead)),
            "closed_at": text.slice(len(all_lead)),
            "amount": pa.array(np.concatenate([amount, o_amount]), pa.float64()),
            "currency": pa.repeat(pa.scalar("USD"), len(all_lead)),
            "is_won": pa.array(np.concatenate([won, o_won])),
            "stage": take(names, np.concatenate([stage, o_stage])),
        }
    ).take(pa.array(order))
    return Opportunities(table, lead, opp_id.slice(0, len(lead)), opp_id.slice(len(lead)))
