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

The events (``session_start``, ``page_view``, some ``scroll``, ``form_submit``, ``login``) are written as the
export's nested rows (``event_params`` a repeated key/value record, ``collected_traffic_source``), as
Parquet or newline-delimited JSON (INT64 values quoted, as BigQuery writes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from leadjourney.generate import _params as P
from leadjourney.generate._people import coded

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
class Web:
    """What was simulated: the export's rows, each lead's visitor id (null: none) for its form fill, the truth."""

    events: pa.Table
    form_visitor: pa.Array  # per simulated lead: the visitor id its creation form fill carries, or null
    truth: dict[str, Any]


def _visits(rng: np.random.Generator, owner: np.ndarray, lo: np.ndarray, hi: np.ndarray,
            mean: float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson(mean) visits per owner, uniform in [lo, hi) (none where the span is empty): (owner, start)."""
    span = hi - lo
    count = np.where(span > 0, rng.poisson(mean, len(owner)), 0)
    row = np.repeat(np.arange(len(owner)), count)
    return owner[row], lo[row] + np.floor(rng.random(len(row)) * span[row]).astype(np.int64)


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
                           np.zeros(len(n_v))]).astype(np.int64)
    begin = np.concatenate([p_at, c, l_at, g_at, n_at])  # a form visit's start is set once its pages are drawn
    order = np.lexsort((begin, visitor))
    visitor, kind, begin = visitor[order], kind[order], begin[order]
    s = len(visitor)

    # landing pages: form visits by share x relative rate, the others by share
    share = np.array([x for _, x, _ in LANDING_PAGES])
    rel = np.array([r for _, _, r in LANDING_PAGES])
    form = kind == 1
    landing = np.where(form, rng.choice(len(share), s, p=share * rel / (share * rel).sum()),
                       rng.choice(len(share), s, p=share / share.sum()))
    pages = 1 + rng.poisson(EXTRA_PAGES, s)
    gaps = rng.integers(5, 150, int(pages.sum()))  # seconds from each page to the next event
    e_first = np.cumsum(pages) - pages
    length = np.add.reduceat(gaps, e_first) if s else np.zeros(0, dtype=np.int64)
    begin = np.where(form, begin - length, begin)  # the form is submitted `length` after landing, at creation

    # the visit's source: a visitor's first visit from its channel, later ones 50% the same, else seo / direct
    first_visit = np.ones(s, dtype=bool)
    first_visit[1:] = visitor[1:] != visitor[:-1]
    u = rng.random(s)
    later = np.where(u < 0.5, v_channel[visitor], np.where(u < 0.8, names.index("seo"), names.index("direct")))
    v_chan = np.where(first_visit, v_channel[visitor], later)
    number = np.arange(s) - np.maximum.accumulate(np.where(first_visit, np.arange(s), 0)) + 1  # ga_session_number

    # events: per page a page_view (the first also session_start), 30% of pages a scroll; form_submit / login last
    e_visit = np.repeat(np.arange(s), pages)
    e_page_no = np.arange(len(e_visit)) - e_first[e_visit]
    offset = np.cumsum(gaps) - gaps  # seconds from the first page of all to each page
    e_at = begin[e_visit] + offset - offset[e_first][e_visit]
    other = rng.integers(0, len(PAGES), len(e_visit))
    e_page = np.where(e_page_no == 0, landing[e_visit], other)
    extra_start = np.flatnonzero(e_page_no == 0)
    scroll = np.flatnonzero(rng.random(len(e_visit)) < SCROLLED)
    closing = np.flatnonzero(kind > 0)
    last_page = e_first + pages - 1
    ev_row = np.concatenate([np.arange(len(e_visit)), extra_start, scroll, last_page[closing]])
    ev_name = np.concatenate([np.zeros(len(e_visit), dtype=np.int64), np.full(len(extra_start), 1),
                              np.full(len(scroll), 2), np.where(kind[closing] == 1, 3, 4)])
    ev_at = e_at[ev_row] + np.concatenate([np.zeros(len(e_visit) + len(extra_start), dtype=np.int64),
                                           rng.integers(3, 30, len(scroll)),
                                           gaps[last_page[closing]]])
    ev_sub = np.concatenate([np.ones(len(e_visit)), np.zeros(len(extra_start)), np.full(len(scroll), 2),
                             np.full(len(closing), 3)])  # session_start first within the same second
    # in visit order, then time (a session_start before its page view): one int64 key (visit offsets < 2^22 s)
    order = np.argsort((e_visit[ev_row] << 24) | ((ev_at - begin[e_visit[ev_row]]) << 2) | ev_sub.astype(np.int64),
                       kind="stable")
    ev_row, ev_name, ev_at = ev_row[order], ev_name[order], ev_at[order]
    ev_visit = e_visit[ev_row]
    micros = ev_at * 1_000_000 + rng.integers(0, 1_000_000, len(ev_at))

    # URLs (dictionary-coded: a page, with or without a channel's tags): the landing page's carries its UTM tags
    # (and a click id) when the visit is tagged; the referrer is the external one on landing, else the previous page
    tagged_names = [k for k in names if k in TAGGED]
    tag_of = np.array([tagged_names.index(k) if k in TAGGED else -1 for k in names])
    ev_first = e_page_no[ev_row] == 0
    tag = np.where(ev_first, tag_of[v_chan[ev_visit]], -1)  # the event's tags (-1: none)
    queries = ["", *(f"?utm_source={s_}&utm_medium={m_}&utm_campaign={c_}&gclid=Cj0KCQ"
                     for s_, m_, c_ in (TAGGED[k] for k in tagged_names))]
    urls = [HOST + p + q for p in PAGES for q in queries]  # index: page * len(queries) + tag + 1
    url = e_page[ev_row] * len(queries) + tag + 1
    ref_of = np.array([list(REFERRERS).index(k) if k in REFERRERS else -1 for k in names])
    ext = ref_of[v_chan[ev_visit]]
    referrer = np.where(ev_first, np.where(ext >= 0, len(urls) + ext, -1),
                        e_page[np.maximum(ev_row - 1, 0)] * len(queries))  # the previous page, untagged
    texts = [*urls, *REFERRERS.values()]

    # GA4's client id: a random number and the first visit's second; one per visitor, in visitor order (every
    # visitor has a first visit)
    visitor_ids = pc.binary_join_element_wise(pc.cast(pa.array(rng.integers(10**8, 10**9, v)), pa.string()),
                                              pc.cast(pa.array(begin[first_visit]), pa.string()), ".")
    device = rng.choice(3, v, p=[0.6, 0.35, 0.05])  # per visitor
    session_id = begin.astype(np.int64)  # GA4's ga_session_id: the session's start, in seconds
    tag_fields = [coded([TAGGED[k][i] for k in tagged_names], tag) for i in range(3)]
    login_visit = kind[ev_visit] == 2
    lead_email = pc.utf8_lower(pc.utf8_trim_whitespace(email.take(pa.array(lead))))

    m = len(ev_at)
    keys = ("ga_session_id", "ga_session_number", "page_location", "page_referrer", "engagement_time_msec")
    k = len(keys)
    ints = np.zeros((m, k), dtype=np.int64)
    ints[:, 0], ints[:, 1], ints[:, 4] = session_id[ev_visit], number[ev_visit], rng.integers(50, 60_000, m)
    no_int = np.zeros((m, k), dtype=bool)
    no_int[:, 2:4] = True
    text = np.full((m, k), -1, dtype=np.int32)  # dictionary indices, as coded() makes them
    text[:, 2], text[:, 3] = url, referrer
    text_values = text.ravel()
    no_float = pa.nulls(m * k, pa.float64())  # one all-null column for both: never read, allocated once
    value = pa.StructArray.from_arrays(
        [pa.DictionaryArray.from_arrays(pa.array(text_values, pa.int32(), mask=text_values < 0),
                                        pa.array(texts, pa.string())),
         pa.array(ints.ravel(), pa.int64(), mask=no_int.ravel()), no_float, no_float],
        names=["string_value", "int_value", "float_value", "double_value"])
    del ints, no_int, text, text_values
    key_of = pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(k, dtype=np.int32), m), pa.int32()),
                                            pa.array(keys, pa.string()))
    params = pa.StructArray.from_arrays([key_of, value], names=["key", "value"])
    event_params = pa.ListArray.from_arrays(pa.array(np.arange(0, m * k + 1, k, dtype=np.int32)), params)
    day = ev_at // P.DAY
    first_day = int(day.min()) if m else 0
    dates = pc.strftime(pa.array((np.arange(first_day, int(day.max()) + 1 if m else 0) * P.DAY * 1_000_000),
                                 pa.timestamp("us", tz="UTC")), format="%Y%m%d")
    events = pa.table({
        "event_date": pa.DictionaryArray.from_arrays(pa.array(day - first_day, pa.int32()), dates),
        "event_timestamp": pa.array(micros, pa.int64()),
        "event_name": coded(("page_view", "session_start", "scroll", "form_submit", "login"), ev_name),
        "event_params": event_params,
        # plain strings: the writer's own dictionary of a dictionary array with unused values varied run to run
        "user_id": lead_email.take(pa.array(np.where(login_visit, visitor[ev_visit], 0), pa.int32(),
                                            mask=~login_visit)),
        "user_pseudo_id": pa.DictionaryArray.from_arrays(pa.array(visitor[ev_visit], pa.int32()), visitor_ids),
        "collected_traffic_source": pa.StructArray.from_arrays(
            tag_fields, names=["manual_source", "manual_medium", "manual_campaign_name"]),
        "platform": coded(("WEB",), np.zeros(m, dtype=np.int64)),
        "device": pa.StructArray.from_arrays([coded(("desktop", "mobile", "tablet"),
                                                    device[visitor[ev_visit]])], names=["category"]),
    })

    form_visitor = np.full(n, -1, dtype=np.int64)
    carries = lead[~login_only]
    form_visitor[carries] = np.flatnonzero(~login_only)
    visits_on = np.bincount(landing, minlength=len(share))
    forms_on = np.bincount(landing[form], minlength=len(share))
    truth = {
        "visitors": v, "lead_visitors": w, "anonymous_visitors": a,
        "identified_by_form_fill": int((~login_only).sum()), "identified_by_login": len(room),
        "never_identified": v - int((~login_only).sum()) - len(room),
        "visits": s, "form_visits": int(form.sum()), "events": m, "page_views": int(pages.sum()),
        "weak_landing_page": WEAK_PAGE,
        "landing_pages": {p: {"traffic_share": x, "relative_form_rate": r, "visits": int(visits_on[i]),
                              "form_visits": int(forms_on[i])} for i, (p, x, r) in enumerate(LANDING_PAGES)},
    }
    ids = visitor_ids.take(pa.array(np.maximum(form_visitor, 0)))
    return Web(events, pc.if_else(pa.array(form_visitor >= 0), ids, pa.nulls(n, pa.string())), truth)


def write_ga4(events: pa.Table, path: Path, ndjson: bool) -> None:
    """The export as Parquet, or as BigQuery's newline-delimited JSON (INT64 values as strings)."""
    if not ndjson:
        pq.write_table(events, path, compression="snappy", store_schema=False)  # as BigQuery exports it
        return
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")  # rows in order: the same file every time
        con.register("events", events)
        param = ("list_transform(event_params, lambda p: {'key': p.key, 'value': {'string_value': p.value.string_value, "
                 "'int_value': CAST(p.value.int_value AS VARCHAR)}})")
        con.execute(f"""COPY (SELECT event_date, CAST(event_timestamp AS VARCHAR) AS event_timestamp, event_name,
                        {param} AS event_params, user_id, user_pseudo_id, collected_traffic_source, platform, device
                        FROM events) TO '{str(path).replace("'", "''")}' (FORMAT JSON)""")
    finally:
        con.close()
