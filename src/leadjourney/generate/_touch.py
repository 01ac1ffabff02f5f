"""Touchpoints: a form fill at creation, steady engagement while active, sales touches after MQL.

A lead is touchable in one window, or two around its dark gap: [created, went_dark]
and [re_engaged, stop]. Each window gets at least one automated touch per
``SLOT_DAYS`` slot, so silences of ``MIN_GAP_DAYS`` happen only where planted;
extra automated and human touches are spread uniformly over the windows (human
ones from the first human touch on). At most one touch per lead and second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadjourney.generate import _params as P
from leadjourney.generate._journey import NA, Journeys
from leadjourney.generate._people import coded
from leadjourney.generate._timefmt import ZULU, format_instants, utc_timestamps

KINDS = (
    "email_send",
    "email_open",
    "email_click",
    "page_view",
    "form_fill",
    "content_download",
    "webinar",
    "chat",
    "call",
    "sales_email",
    "meeting",
    "demo",
    "event",
    "email_delivered",
    "email_unsubscribe",
)
K = {k: i for i, k in enumerate(KINDS)}
HUMAN = np.isin(np.arange(len(KINDS)), [K["call"], K["sales_email"], K["meeting"], K["demo"]])
LEAD_CHANNEL, NO_CHANNEL = -1, -2
_CHANNEL_OF_KIND = {
    "email_send": "email",
    "email_open": "email",
    "email_click": "email",
    "webinar": "events",
    "event": "events",
    "chat": "chat",
}
DARK_KINDS = ("email_open", "page_view", "email_click")

CAMPAIGNS = {
    # the e-mail programs (_campaign.py); the steady automated e-mails are one-off sends of no program
    "program": ("Nurture: trial onboarding", "Product update: Q2 release"),
    "webinar": ("Webinar: product tour", "Webinar: automation 101", "Webinar: customer panel"),
    "event": ("Trade show: spring expo", "Roadshow: Chicago", "Roadshow: London"),
    "form": ("Demo request", "Contact us", "Ebook: buyer's guide", "Free trial"),
}
ASSETS = {
    "page_view": ("/", "/pricing", "/product", "/blog/roi-guide", "/case-studies", "/integrations"),
    "content_download": (
        "Buyer's guide (PDF)",
        "Analyst report",
        "ROI calculator",
        "Case study pack",
    ),
    "form_fill": ("Demo request form", "Contact form", "Ebook form", "Trial sign-up"),
    "program_email": (*(f"Onboarding e-mail {k}" for k in range(1, 6)), "Q2 release e-mail 1",
                      "Q2 release e-mail 2"),
}
_CAMPAIGN_OF_KIND = {
    "webinar": "webinar",
    "event": "event",
    "form_fill": "form",
    "content_download": "form",
}


@dataclass(frozen=True)
class Windows:
    """Per lead row: where touches may fall, and what shapes them."""

    lead: np.ndarray  # lead number - 1 (the row's id)
    channel: np.ndarray
    furthest: np.ndarray
    created: np.ndarray
    end1: np.ndarray  # first window [created, end1]
    start2: np.ndarray  # second window [start2, end2], NA when none
    end2: np.ndarray
    sql_at: np.ndarray
    first_human: np.ndarray
    went_dark: np.ndarray
    re_engaged: np.ndarray
    re_engage_kind: np.ndarray


@dataclass(frozen=True)
class Touches:
    """Touchpoints as parallel arrays, stored narrow (19 bytes a touch, not 56: millions of them at 1M leads)."""

    lead: np.ndarray
    at: np.ndarray
    kind: np.ndarray
    channel: np.ndarray  # index into CHANNELS, or NO_CHANNEL
    campaign: np.ndarray  # index into CAMPAIGN_VOCAB, -1 for none
    asset: np.ndarray  # index into ASSET_VOCAB, -1 for none
    priority: np.ndarray  # which touch wins a same-second clash: 0 creation, 1 planted, 2 other

    def __post_init__(self) -> None:
        for name, dtype in _NARROW.items():
            object.__setattr__(self, name, np.asarray(getattr(self, name)).astype(dtype, copy=False))


_NARROW = {"lead": np.int32, "at": np.int64, "kind": np.int8, "channel": np.int8, "campaign": np.int16,
           "asset": np.int16, "priority": np.int8}


def windows(j: Journeys) -> Windows:
    """The touch windows of simulated leads."""
    dark = j.went_dark != NA
    back = j.re_engaged != NA
    return Windows(
        lead=np.arange(j.n),
        channel=j.channel,
        furthest=j.furthest,
        created=j.created,
        end1=np.where(dark, j.went_dark, j.stop),
        start2=np.where(back, j.re_engaged, NA),
        end2=np.where(back, j.stop, NA),
        sql_at=j.at[:, 2],
        first_human=j.first_human,
        went_dark=j.went_dark,
        re_engaged=j.re_engaged,
        re_engage_kind=j.re_engage_kind,
    )


def quiet_windows(lead: np.ndarray, channel: np.ndarray, created: np.ndarray, end: int) -> Windows:
    """Windows of leads that stay at Lead, engaged until ``end`` (duplicate-person records)."""
    n = len(lead)
    na = np.full(n, NA, dtype=np.int64)
    return Windows(
        lead=lead,
        channel=channel,
        furthest=np.zeros(n, dtype=np.int64),
        created=created,
        end1=np.full(n, end - 1, dtype=np.int64),
        start2=na,
        end2=na,
        sql_at=na,
        first_human=na,
        went_dark=na,
        re_engaged=na,
        re_engage_kind=np.full(n, -1, dtype=np.int64),
    )


def _vocab(table: dict[str, tuple[str, ...]]) -> tuple[list[str], dict[str, tuple[int, int]]]:
    words: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    for key, items in table.items():
        spans[key] = (len(words), len(items))
        words += items
    return words, spans


CAMPAIGN_VOCAB, _CAMPAIGN_SPANS = _vocab(CAMPAIGNS)
ASSET_VOCAB, _ASSET_SPANS = _vocab(ASSETS)


def _kind_table(
    spans: dict[str, tuple[int, int]], key_of_kind: dict[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    start = np.zeros(len(KINDS), dtype=np.int64)
    count = np.zeros(len(KINDS), dtype=np.int64)
    for kind, key in key_of_kind.items():
        start[K[kind]], count[K[kind]] = spans[key]
    return start, count


_CAMPAIGN_TABLE = _kind_table(_CAMPAIGN_SPANS, _CAMPAIGN_OF_KIND)
_ASSET_TABLE = _kind_table(_ASSET_SPANS, {k: k for k in ASSETS if k in K})


def _draw(rng: np.random.Generator, pairs: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    weights = np.array([w for _, w in pairs])
    return np.array([K[k] for k, _ in pairs])[
        rng.choice(len(pairs), size=n, p=weights / weights.sum())
    ]


def _in_windows(
    rng: np.random.Generator, w: Windows, rows: np.ndarray, lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform instants in the union of the rows' windows, from ``lo`` on; and which rows had room."""
    s1 = np.maximum(w.created[rows], lo)
    len1 = np.maximum(w.end1[rows] - s1, 0)
    has2 = w.start2[rows] != NA
    s2 = np.maximum(w.start2[rows], lo)
    len2 = np.where(has2, np.maximum(w.end2[rows] - s2, 0), 0)
    u = rng.random(len(rows)) * (len1 + len2)
    t = np.where(u < len1, s1 + u, s2 + (u - len1))
    return np.floor(t).astype(np.int64), (len1 + len2) > 0


def _slots(
    rng: np.random.Generator, rows: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One instant per SLOT_DAYS slot of each window [a, b]; returns (row, instant)."""
    length = b - a
    count = np.where(length > 0, np.ceil(length / (P.SLOT_DAYS * P.DAY)), 0).astype(np.int64)
    row = np.repeat(rows, count)
    j = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    spread = np.repeat(length / np.maximum(count, 1), count)
    at = np.repeat(a, count) + np.floor((j + rng.random(len(row))) * spread).astype(np.int64)
    return row, at


def _part(
    rows: np.ndarray, at: np.ndarray, kind: np.ndarray | int, priority: int
) -> dict[str, np.ndarray]:
    return {
        "row": rows,
        "at": at,
        "kind": np.broadcast_to(kind, rows.shape).astype(np.int64),
        "priority": np.full(len(rows), priority, dtype=np.int64),
    }


def simulate_touches(rng: np.random.Generator, w: Windows) -> Touches:
    """All touchpoints of the lead rows in ``w`` (clashes in the same second resolved by priority)."""
    n = len(w.lead)
    every = np.arange(n)
    parts = [_part(every, w.created, K["form_fill"], 0)]

    row, at = _slots(rng, every, w.created, w.end1)
    parts.append(_part(row, at, _draw(rng, P.AUTOMATED_KINDS, len(row)), 2))
    two = np.flatnonzero(w.start2 != NA)
    row, at = _slots(rng, two, w.start2[two], w.end2[two])
    parts.append(_part(row, at, _draw(rng, P.AUTOMATED_KINDS, len(row)), 2))

    dark = np.flatnonzero(w.went_dark != NA)
    dark_kind = np.array([K[k] for k in DARK_KINDS])[rng.integers(0, len(DARK_KINDS), len(dark))]
    parts.append(_part(dark, w.went_dark[dark], dark_kind, 1))
    back = np.flatnonzero(w.re_engaged != NA)
    back_kind = np.array([K[k] for k in P.RE_ENGAGE_KINDS])[w.re_engage_kind[back]]
    parts.append(_part(back, w.re_engaged[back], back_kind, 1))

    extra = rng.poisson(np.array(P.EXTRA_AUTOMATED)[w.furthest])
    row = np.repeat(every, extra)
    at, ok = _in_windows(rng, w, row, w.created[row])
    parts.append(_part(row[ok], at[ok], _draw(rng, P.AUTOMATED_KINDS, len(row))[ok], 2))

    human = np.flatnonzero(w.first_human != NA)
    parts.append(_part(human, w.first_human[human], _draw(rng, P.HUMAN_KINDS_EARLY, len(human)), 1))
    extra = rng.poisson(np.array(P.EXTRA_HUMAN)[w.furthest[human]])
    row = np.repeat(human, extra)
    at, ok = _in_windows(rng, w, row, w.first_human[row] + 1)
    late = (w.sql_at[row] != NA) & (at >= w.sql_at[row])
    kind = np.where(
        late, _draw(rng, P.HUMAN_KINDS_LATE, len(row)), _draw(rng, P.HUMAN_KINDS_EARLY, len(row))
    )
    parts.append(_part(row[ok], at[ok], kind[ok], 2))

    rows = np.concatenate([p["row"] for p in parts])
    kind = np.concatenate([p["kind"] for p in parts])
    return Touches(
        lead=w.lead[rows],
        at=np.concatenate([p["at"] for p in parts]),
        kind=kind,
        channel=_channels(rng, kind, w.channel[rows]),
        campaign=_pick(rng, kind, _CAMPAIGN_TABLE),
        asset=_pick(rng, kind, _ASSET_TABLE),
        priority=np.concatenate([p["priority"] for p in parts]),
    )


def orphan_touches(rng: np.random.Generator, lead: np.ndarray, start: int, end: int) -> Touches:
    """One to four automated touches each for leads that are not in the leads file."""
    count = rng.integers(1, 5, len(lead))
    rows = np.repeat(np.arange(len(lead)), count)
    kind = _draw(rng, P.AUTOMATED_KINDS, len(rows))
    channel = rng.integers(0, len(P.CHANNELS), len(lead))[rows]
    return Touches(
        lead=lead[rows],
        at=rng.integers(start, end, len(rows)),
        kind=kind,
        channel=_channels(rng, kind, channel),
        campaign=_pick(rng, kind, _CAMPAIGN_TABLE),
        asset=_pick(rng, kind, _ASSET_TABLE),
        priority=np.full(len(rows), 2, dtype=np.int64),
    )


def _channels(rng: np.random.Generator, kind: np.ndarray, lead_channel: np.ndarray) -> np.ndarray:
    names = [c.name for c in P.CHANNELS]
    fixed = np.full(len(KINDS), LEAD_CHANNEL, dtype=np.int64)
    for k, name in _CHANNEL_OF_KIND.items():
        fixed[K[k]] = names.index(name)
    fixed[HUMAN] = NO_CHANNEL
    out = fixed[kind]
    out = np.where(out == LEAD_CHANNEL, lead_channel, out)
    # page views: half on the lead's own channel, a quarter each on seo and direct
    u = rng.random(len(kind))
    other = np.where(u < 0.75, names.index("seo"), names.index("direct"))
    return np.where((kind == K["page_view"]) & (u >= 0.5), other, out)


def _pick(
    rng: np.random.Generator, kind: np.ndarray, table: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    start, count = table
    idx = start[kind] + np.floor(rng.random(len(kind)) * count[kind]).astype(np.int64)
    return np.where(count[kind] > 0, idx, -1)


def combine(parts: list[Touches], base: int) -> Touches:
    """Concatenate, order by lead and time, and keep one touch per lead and second (lowest priority)."""
    t = Touches(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Touches.__dataclass_fields__)
    )
    key = (t.lead.astype(np.int64) << 34) | ((t.at - base) << 2) | t.priority
    order = np.argsort(key, kind="stable")
    lead, at = t.lead[order], t.at[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = (lead[1:] != lead[:-1]) | (at[1:] != at[:-1])
    order = order[keep]
    return Touches(*(getattr(t, f)[order] for f in Touches.__dataclass_fields__))


def touch_table(t: Touches, lead_ids: pa.Array, csv: bool, form_visitor: pa.Array | None = None) -> pa.Table:
    """The touchpoints export: ``occurred_at`` a UTC timestamp (Parquet) or ``...Z`` string (CSV); with
    ``form_visitor`` (per simulated lead), a ``visitor_id`` on each lead's creation form fill (the form's hidden
    web visitor field)."""
    occurred = (
        format_instants(t.at, np.full(len(t.at), ZULU, dtype=np.int8))
        if csv
        else utc_timestamps(t.at)
    )
    names = [c.name for c in P.CHANNELS]
    extra: dict[str, pa.Array] = {}
    if form_visitor is not None:
        creation = (t.kind == K["form_fill"]) & (t.priority == 0) & (t.lead < len(form_visitor))
        ids = form_visitor.take(pa.array(np.where(creation, t.lead, 0)))
        extra["visitor_id"] = pc.if_else(pa.array(creation), ids, pa.nulls(len(t.lead), pa.string()))
    return pa.table(
        {
            "lead_id": lead_ids.take(pa.array(t.lead)),
            "occurred_at": occurred,
            "channel": coded(names, np.where(t.channel >= 0, t.channel, -1)),
            "kind": coded(KINDS, t.kind),
            "actor": coded(("automated", "human"), HUMAN[t.kind]),
            "campaign": coded(CAMPAIGN_VOCAB, t.campaign),
            "asset": coded(ASSET_VOCAB, t.asset),
            **extra,
        }
    )
