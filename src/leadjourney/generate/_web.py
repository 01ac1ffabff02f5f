"""Web sessions as GA4's BigQuery export writes them: anonymous visits, the visit that fills the form, logins.

A share (:data:`WEB_SHARE`) of simulated leads has a web visitor (GA4's ``user_pseudo_id``): a few anonymous
visits before the lead is created, the visit whose ``form_submit`` creates it (ending at the creation
instant; the lead's form-fill touchpoint carries the visitor id, as a hidden form field does), and a few
visits after while the lead is touchable. A share of them (:data:`LOGIN_ONLY`) is filled in without the
hidden field: they are identified only by a later visit that logs in (``user_id`` = their e-mail, hashed
by ingest). Anonymous visitors (:data:`ANONYMOUS_PER_LEAD` per lead visitor) never identify. Each visit lands on a page; visits that fill a form
land on a page in proportion to its traffic share times its relative form rate (:data:`LANDING_PAGES`), so
:data:`WEAK_PAGE` converts visits to form fills about a quarter as well as the others. A visitor's first
visit comes from the lead's channel (UTM-tagged for paid channels, a referrer for referral ones).

Here every visit and every random draw of its events is made, compactly (a few bytes a visit and a page);
the events themselves (``session_start``, ``page_view``, some ``scroll``, ``form_submit``, ``login``) are
materialised and written a block at a time by :mod:`leadjourney.generate._web_events`, so memory does not grow
with the export's nested rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadjourney.generate import _params as P

HOST = "https://www.example.com"
WEB_SHARE = 0.75
LOGIN_ONLY = 0.15
ANONYMOUS_PER_LEAD = 0.8  # anonymous visitors per lead visitor
PRIOR_VISITS = 1.2  # mean visits before the form (Poisson)
LATER_VISITS = 0.8
ANONYMOUS_VISITS = 0.4  # mean visits beyond the first of an anonymous visitor
EXTRA_PAGES = 1.2  # mean page views beyond the landing page
SCROLLED = 0.15  # pages with a scroll event
LOOKBACK_DAYS = 30
# (path, traffic share, relative visit -> form rate)
LANDING_PAGES: tuple[tuple[str, float, float], ...] = (
    ("/", 0.24, 1.0),
    ("/pricing", 0.16, 1.0),
    ("/product", 0.16, 1.0),
    ("/lp/demo", 0.14, 1.0),
    ("/blog/roi-guide", 0.14, 1.0),
    ("/lp/webinar-replay", 0.16, 0.25),
)
WEAK_PAGE = "/lp/webinar-replay"
OTHER_PAGES = ("/integrations", "/case-studies", "/about", "/blog", "/security")
PAGES = (*(p for p, _, _ in LANDING_PAGES), *OTHER_PAGES)
# channel -> (source, medium, campaign) when UTM-tagged, or the referrer of an untagged visit ("" none)
TAGGED = {
    "paid_search": ("google", "cpc", "brand-search"),
    "paid_social": ("linkedin", "paid_social", "q2-awareness"),
    "content_syndication": ("techtarget", "syndication", "buyers-guide"),
    "email": ("newsletter", "email", "monthly-newsletter"),
}
REFERRERS = {
    "seo": "https://www.google.com/",
    "organic_social": "https://www.linkedin.com/",
    "referral": "https://www.g2.com/",
    "partner": "https://partner.example.org/",
    "ai_referral": "https://chatgpt.com/",
}


@dataclass(frozen=True)
class Visits:
    """Every visit, in visitor then start order, and every random draw its events need; the events of visits
    ``[j, k)`` are rows ``[event_start[j], event_start[k])`` of the export."""

    visitor: np.ndarray  # per visit: its visitor (lead visitors first, then anonymous ones)
    kind: np.ndarray  # 0 browse, 1 form, 2 login
    begin: np.ndarray  # start second (a form visit's set so its form_submit falls at the lead's creation)
    landing: np.ndarray  # index into LANDING_PAGES
    source: np.ndarray  # channel index of the visit's source
    number: np.ndarray  # ga_session_number
    page_start: np.ndarray  # per visit and one past the last: index of its first page view
    scroll_start: np.ndarray  # likewise, of its first scroll
    event_start: np.ndarray  # likewise, of its first event (row) in the export
    gaps: np.ndarray  # per page view: seconds to the next event
    other: np.ndarray  # per page view: the page when it is not the landing one
    scrolled: np.ndarray  # per page view: it has a scroll event
    scroll_after: np.ndarray  # per scroll: seconds after its page view
    fraction: np.ndarray  # per event: the microseconds of its timestamp
    engagement: np.ndarray  # per event: engagement_time_msec
    visitor_ids: pa.Array  # per visitor: GA4's client id
    device: np.ndarray  # per visitor: index of desktop, mobile, tablet
    lead_email: pa.Array  # per lead visitor: the e-mail a login carries
    first_day: int  # the export's first and last event days (days since the epoch)
    last_day: int

    @property
    def events(self) -> int:
        """Rows of the export."""
        return int(self.event_start[-1])


@dataclass(frozen=True)
class Web:
    """What was simulated: the visits, each lead's visitor id (null: none) for its form fill, the truth."""

    visits: Visits
    form_visitor: pa.Array  # per simulated lead: the visitor id its creation form fill carries, or null
    truth: dict[str, Any]


def _visits(rng: np.random.Generator, owner: np.ndarray, lo: np.ndarray, hi: np.ndarray,
            mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(mean) visits per owner, uniform in [lo, hi) (none where the span is empty): (owner, start)."""
    span = hi - lo
    count = np.where(span > 0, rng.poisson(mean, len(owner)), 0)
    row = np.repeat(np.arange(len(owner)), count)
    return owner[row], lo[row] + np.floor(rng.random(len(row)) * span[row]).astype(np.int64)


def _starts(counts: np.ndarray) -> np.ndarray:
    """Offsets of consecutive runs of ``counts``: one more than runs, from 0 to the total."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _last_second(begin: np.ndarray, kind: np.ndarray, page_start: np.ndarray, gaps: np.ndarray,
                 scrolled: np.ndarray, scroll_after: np.ndarray) -> int:
    """The latest event second of all visits: a page view, a scroll after one, or a visit's closing event."""
    if not len(gaps):
        return 0
    pages = np.diff(page_start)
    offset = np.cumsum(gaps) - gaps
    at = np.repeat(begin - offset[page_start[:-1]], pages) + offset  # each page view's second
    closing = np.flatnonzero(kind > 0)
    last_page = page_start[1:][closing] - 1
    candidates = [at.max()]
    if len(scroll_after):
        candidates.append((at[scrolled] + scroll_after).max())
    if len(closing):
        candidates.append((at[last_page] + gaps[last_page]).max())
    return int(max(candidates))


def simulate_web(rng: np.random.Generator, channel: np.ndarray, created: np.ndarray, touchable_until: np.ndarray,
                 email: pa.Array, start: int, stop: int) -> Web:
    """The web sessions of ``len(channel)`` simulated leads (their channel, creation instant, end of their
    first touch window, e-mail) and of anonymous visitors over [start, stop)."""
    n = len(channel)
    lead = np.flatnonzero(rng.random(n) < WEB_SHARE)
    w = len(lead)
    login_only = rng.random(w) < LOGIN_ONLY
    a = round(ANONYMOUS_PER_LEAD * w)
    v = w + a  # visitors: lead visitors first, then anonymous ones
    names = [c.name for c in P.CHANNELS]
    shares = np.array([c.share for c in P.CHANNELS])
    v_channel = np.concatenate([channel[lead], rng.choice(len(names), a, p=shares / shares.sum())])
    until = np.minimum(touchable_until[lead], stop - 1)
    c = created[lead]

    # visits: (visitor, start instant, kind) kind 0 browse, 1 form, 2 login
    p_v, p_at = _visits(rng, np.arange(w), c - LOOKBACK_DAYS * P.DAY, c - 3600, PRIOR_VISITS)
    l_v, l_at = _visits(rng, np.arange(w), c + 3600, until, LATER_VISITS)
    room = np.flatnonzero(login_only & (until - c > 7200))
    g_at = c[room] + 3600 + np.floor(rng.random(len(room)) * (until[room] - c[room] - 3600)).astype(np.int64)
    first = rng.poisson(ANONYMOUS_VISITS, a) + 1
    n_v = np.repeat(np.arange(w, v), first)
    n_at = rng.integers(start - LOOKBACK_DAYS * P.DAY, stop, len(n_v))
    visitor = np.concatenate([p_v, np.arange(w), l_v, room, n_v])
    kind = np.concatenate([np.zeros(len(p_v)), np.ones(w), np.zeros(len(l_v)), np.full(len(room), 2),
                           np.zeros(len(n_v))]).astype(np.int8)
    begin = np.concatenate([p_at, c, l_at, g_at, n_at])  # a form visit's start is set once its pages are drawn
    del p_v, p_at, l_v, l_at, g_at, n_v, n_at
    order = np.lexsort((begin, visitor))
    visitor, kind, begin = visitor[order].astype(np.int32), kind[order], begin[order]
    del order
    s = len(visitor)

    # landing pages: form visits by share x relative rate, the others by share
    share = np.array([x for _, x, _ in LANDING_PAGES])
    rel = np.array([r for _, _, r in LANDING_PAGES])
    form = kind == 1
    landing = np.where(form, rng.choice(len(share), s, p=share * rel / (share * rel).sum()),
                       rng.choice(len(share), s, p=share / share.sum())).astype(np.int8)
    pages = 1 + rng.poisson(EXTRA_PAGES, s)
    page_start = _starts(pages)
    gaps = rng.integers(5, 150, int(page_start[-1]))  # seconds from each page to the next event
    length = np.add.reduceat(gaps, page_start[:-1]) if s else np.zeros(0, dtype=np.int64)
    begin = np.where(form, begin - length, begin)  # the form is submitted `length` after landing, at creation
    del length

    # the visit's source: a visitor's first visit from its channel, later ones 50% the same, else seo / direct
    first_visit = np.ones(s, dtype=bool)
    first_visit[1:] = visitor[1:] != visitor[:-1]
    u = rng.random(s)
    later = np.where(u < 0.5, v_channel[visitor], np.where(u < 0.8, names.index("seo"), names.index("direct")))
    source = np.where(first_visit, v_channel[visitor], later).astype(np.int8)
    del u, later
    number = (np.arange(s) - np.maximum.accumulate(np.where(first_visit, np.arange(s), 0)) + 1).astype(np.int32)

    # per page view a page_view (the first also session_start), some a scroll; form_submit / login last
    other = rng.integers(0, len(PAGES), len(gaps)).astype(np.int8)
    scrolled = rng.random(len(gaps)) < SCROLLED
    scroll_after = rng.integers(3, 30, int(scrolled.sum())).astype(np.int8)
    scroll_start = _starts(scrolled)[page_start]
    closing = (kind > 0).astype(np.int64)
    event_start = _starts(pages + 1 + np.diff(scroll_start) + closing)
    m = int(event_start[-1])
    fraction = rng.integers(0, 1_000_000, m).astype(np.int32)

    # GA4's client id: a random number and the first visit's second; one per visitor, in visitor order (every
    # visitor has a first visit)
    visitor_ids = pc.binary_join_element_wise(pc.cast(pa.array(rng.integers(10**8, 10**9, v)), pa.string()),
                                              pc.cast(pa.array(begin[first_visit]), pa.string()), ".")
    device = rng.choice(3, v, p=[0.6, 0.35, 0.05]).astype(np.int8)  # per visitor
    engagement = rng.integers(50, 60_000, m).astype(np.int32)
    lead_email = pc.utf8_lower(pc.utf8_trim_whitespace(email.take(pa.array(lead))))
    last = _last_second(begin, kind, page_start, gaps, scrolled, scroll_after.astype(np.int64))
    visits = Visits(visitor, kind, begin, landing, source, number, page_start, scroll_start, event_start,
                    gaps.astype(np.int16), other, scrolled, scroll_after, fraction, engagement, visitor_ids, device,
                    lead_email, int(begin.min()) // P.DAY if m else 0, last // P.DAY if m else -1)

    form_visitor = np.full(n, -1, dtype=np.int64)
    carries = lead[~login_only]
    form_visitor[carries] = np.flatnonzero(~login_only)
    visits_on = np.bincount(landing, minlength=len(share))
    forms_on = np.bincount(landing[form], minlength=len(share))
    truth = {
        "visitors": v, "lead_visitors": w, "anonymous_visitors": a,
        "identified_by_form_fill": int((~login_only).sum()), "identified_by_login": len(room),
        "never_identified": v - int((~login_only).sum()) - len(room),
        "visits": s, "form_visits": int(form.sum()), "events": m, "page_views": int(page_start[-1]),
        "weak_landing_page": WEAK_PAGE,
        "landing_pages": {p: {"traffic_share": x, "relative_form_rate": r, "visits": int(visits_on[i]),
                              "form_visits": int(forms_on[i])} for i, (p, x, r) in enumerate(LANDING_PAGES)},
    }
    ids = visitor_ids.take(pa.array(np.maximum(form_visitor, 0)))
    return Web(visits, pc.if_else(pa.array(form_visitor >= 0), ids, pa.nulls(n, pa.string())), truth)
