"""GA4's BigQuery export of the simulated visits, materialised and written a block of rows at a time.

The events are written as the export's nested rows (``event_params`` a repeated key/value record,
``collected_traffic_source``), as Parquet or newline-delimited JSON (INT64 values quoted, as BigQuery writes
them). A block is one Parquet row group (:data:`ROW_GROUP` rows, the writer's default, so the file is the same
as one written whole); only one block's rows are held at a time.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from leadjourney.generate import _params as P
from leadjourney.generate._people import coded
from leadjourney.generate._web import HOST, PAGES, REFERRERS, TAGGED, Visits

ROW_GROUP = 1024 * 1024  # Arrow's default maximum row-group length
KEYS = ("ga_session_id", "ga_session_number", "page_location", "page_referrer", "engagement_time_msec")
NAMES = [c.name for c in P.CHANNELS]
TAGGED_NAMES = [k for k in NAMES if k in TAGGED]
TAG_OF = np.array([TAGGED_NAMES.index(k) if k in TAGGED else -1 for k in NAMES])
REF_OF = np.array([list(REFERRERS).index(k) if k in REFERRERS else -1 for k in NAMES])
QUERIES = ["", *(f"?utm_source={s_}&utm_medium={m_}&utm_campaign={c_}&gclid=Cj0KCQ"
                 for s_, m_, c_ in (TAGGED[k] for k in TAGGED_NAMES))]
URLS = [HOST + p + q for p in PAGES for q in QUERIES]  # index: page * len(QUERIES) + tag + 1
TEXTS = [*URLS, *REFERRERS.values()]


def _rows(vis: Visits, a: int, b: int) -> tuple[np.ndarray, ...]:
    """Rows ``[a, b)`` of the export, built from the visits they belong to: each row's visit, event name,
    second, page, whether it is the landing page view, and the page before it."""
    first = int(np.searchsorted(vis.event_start, a, side="right")) - 1 if b > a else 0
    stop = int(np.searchsorted(vis.event_start, b, side="left")) if b > a else 0
    p0, p1 = int(vis.page_start[first]), int(vis.page_start[stop])
    pages = np.diff(vis.page_start[first:stop + 1])
    e_first = vis.page_start[first:stop] - p0
    begin = vis.begin[first:stop]
    kind = vis.kind[first:stop]
    # per page a page_view (the first also session_start), scrolls; form_submit / login after the last page
    e_visit = np.repeat(np.arange(stop - first), pages)
    e_page_no = np.arange(len(e_visit)) - e_first[e_visit]
    gaps = vis.gaps[p0:p1].astype(np.int64)
    offset = np.cumsum(gaps) - gaps  # seconds from the block's first page to each page
    e_at = begin[e_visit] + offset - offset[e_first][e_visit]
    e_page = np.where(e_page_no == 0, vis.landing[first:stop][e_visit], vis.other[p0:p1]).astype(np.int64)
    extra_start = np.flatnonzero(e_page_no == 0)
    scroll = np.flatnonzero(vis.scrolled[p0:p1])
    after = vis.scroll_after[int(vis.scroll_start[first]):int(vis.scroll_start[stop])].astype(np.int64)
    closing = np.flatnonzero(kind > 0)
    last_page = e_first + pages - 1
    ev_row = np.concatenate([np.arange(len(e_visit)), extra_start, scroll, last_page[closing]])
    ev_name = np.concatenate([np.zeros(len(e_visit), dtype=np.int64), np.full(len(extra_start), 1),
                              np.full(len(scroll), 2), np.where(kind[closing] == 1, 3, 4)])
    ev_at = e_at[ev_row] + np.concatenate([np.zeros(len(e_visit) + len(extra_start), dtype=np.int64), after,
                                           gaps[last_page[closing]]])
    ev_sub = np.concatenate([np.ones(len(e_visit), dtype=np.int64), np.zeros(len(extra_start), dtype=np.int64),
                             np.full(len(scroll), 2), np.full(len(closing), 3)])  # session_start first in a second
    # in visit order, then time (a session_start before its page view): one int64 key (visit offsets < 2^22 s)
    order = np.argsort((e_visit[ev_row] << 24) | ((ev_at - begin[e_visit[ev_row]]) << 2) | ev_sub, kind="stable")
    skip = a - int(vis.event_start[first])
    order = order[skip:skip + b - a]
    ev_row, ev_name, ev_at = ev_row[order], ev_name[order], ev_at[order]
    return (e_visit[ev_row] + first, ev_name, ev_at, e_page[ev_row], e_page_no[ev_row] == 0,
            e_page[np.maximum(ev_row - 1, 0)])


def event_table(vis: Visits, a: int, b: int) -> pa.Table:
    """Rows ``[a, b)`` of the export, as its nested Arrow table."""
    ev_visit, ev_name, ev_at, page, landing, previous = _rows(vis, a, b)
    m = len(ev_at)
    micros = ev_at * 1_000_000 + vis.fraction[a:b]
    visitor = vis.visitor[ev_visit]
    source = vis.source[ev_visit]
    # URLs (dictionary-coded: a page, with or without a channel's tags): the landing page's carries its UTM tags
    # (and a click id) when the visit is tagged; the referrer is the external one on landing, else the previous page
    tag = np.where(landing, TAG_OF[source], -1)  # the event's tags (-1: none)
    url = page * len(QUERIES) + tag + 1
    ext = REF_OF[source]
    referrer = np.where(landing, np.where(ext >= 0, len(URLS) + ext, -1), previous * len(QUERIES))
    tag_fields = [coded([TAGGED[k][i] for k in TAGGED_NAMES], tag) for i in range(3)]
    login_visit = vis.kind[ev_visit] == 2

    k = len(KEYS)
    ints = np.zeros((m, k), dtype=np.int64)
    ints[:, 0], ints[:, 1], ints[:, 4] = vis.begin[ev_visit], vis.number[ev_visit], vis.engagement[a:b]
    no_int = np.zeros((m, k), dtype=bool)
    no_int[:, 2:4] = True
    text = np.full((m, k), -1, dtype=np.int32)  # dictionary indices, as coded() makes them
    text[:, 2], text[:, 3] = url, referrer
    text_values = text.ravel()
    no_float = pa.nulls(m * k, pa.float64())  # one all-null column for both: never read, allocated once
    value = pa.StructArray.from_arrays(
        [pa.DictionaryArray.from_arrays(pa.array(text_values, pa.int32(), mask=text_values < 0),
                                        pa.array(TEXTS, pa.string())),
         pa.array(ints.ravel(), pa.int64(), mask=no_int.ravel()), no_float, no_float],
        names=["string_value", "int_value", "float_value", "double_value"])
    del ints, no_int, text, text_values
    key_of = pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(k, dtype=np.int32), m), pa.int32()),
                                            pa.array(KEYS, pa.string()))
    params = pa.StructArray.from_arrays([key_of, value], names=["key", "value"])
    event_params = pa.ListArray.from_arrays(pa.array(np.arange(0, m * k + 1, k, dtype=np.int32)), params)
    days = np.arange(vis.first_day, vis.last_day + 1) * P.DAY * 1_000_000
    dates = pc.strftime(pa.array(days, pa.timestamp("us", tz="UTC")), format="%Y%m%d")
    return pa.table({
        "event_date": pa.DictionaryArray.from_arrays(pa.array(ev_at // P.DAY - vis.first_day, pa.int32()), dates),
        "event_timestamp": pa.array(micros, pa.int64()),
        "event_name": coded(("page_view", "session_start", "scroll", "form_submit", "login"), ev_name),
        "event_params": event_params,
        # plain strings: the writer's own dictionary of a dictionary array with unused values varied run to run
        "user_id": vis.lead_email.take(pa.array(np.where(login_visit, visitor, 0), pa.int32(), mask=~login_visit)),
        "user_pseudo_id": pa.DictionaryArray.from_arrays(pa.array(visitor, pa.int32()), vis.visitor_ids),
        "collected_traffic_source": pa.StructArray.from_arrays(
            tag_fields, names=["manual_source", "manual_medium", "manual_campaign_name"]),
        "platform": coded(("WEB",), np.zeros(m, dtype=np.int64)),
        "device": pa.StructArray.from_arrays([coded(("desktop", "mobile", "tablet"), vis.device[visitor])],
                                             names=["category"]),
    })


def event_blocks(vis: Visits, rows: int | None = None) -> Iterator[pa.Table]:
    """The export in order, ``rows`` (default :data:`ROW_GROUP`) at a time (one empty table when there is none)."""
    rows = rows or ROW_GROUP
    bounds = list(range(0, vis.events, rows)) or [0]
    for a in bounds:
        yield event_table(vis, a, min(a + rows, vis.events))


def write_ga4(vis: Visits, path: Path, ndjson: bool) -> None:
    """The export as Parquet (one row group a block), or as BigQuery's newline-delimited JSON (INT64 values as
    strings, each block's lines appended)."""
    if not ndjson:
        writer: pq.ParquetWriter | None = None
        try:
            for block in event_blocks(vis):
                if writer is None:  # as BigQuery exports it
                    writer = pq.ParquetWriter(path, block.schema, compression="snappy", store_schema=False)
                writer.write_table(block)
        finally:
            if writer is not None:
                writer.close()
        return
    import duckdb

    param = ("list_transform(event_params, lambda p: {'key': p.key, 'value': {'string_value': p.value.string_value, "
             "'int_value': CAST(p.value.int_value AS VARCHAR)}})")
    con = duckdb.connect()
    fd, part = tempfile.mkstemp(suffix=".ndjson", dir=path.parent)
    os.close(fd)
    try:
        con.execute("SET threads = 1")  # rows in order: the same file every time
        with path.open("wb") as out:
            for block in event_blocks(vis):
                con.register("events", block)
                con.execute(f"""COPY (SELECT event_date, CAST(event_timestamp AS VARCHAR) AS event_timestamp,
                                event_name, {param} AS event_params, user_id, user_pseudo_id,
                                collected_traffic_source, platform, device FROM events)
                                TO '{part.replace("'", "''")}' (FORMAT JSON)""")
                con.unregister("events")
                with open(part, "rb") as lines:
                    while chunk := lines.read(1 << 24):
                        out.write(chunk)
    finally:
        con.close()
        Path(part).unlink(missing_ok=True)
