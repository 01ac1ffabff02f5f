"""The web tables (``web_stitches``, ``web_visits``) built from Ibis expressions equal, row for row, what the
hand-written DuckDB SQL they replace built (kept here as the reference, with its URL helpers): on a generated
workspace with GA4 events, on the hand-made GA4 export, on a clickstream with the file's session ids, and
on a clickstream without them (cut into visits by the 30-minute gap); the URL expressions equal the SQL
ones over many URL shapes. Perturbing the session gap makes the comparison fail."""

from __future__ import annotations

import csv
import importlib.util
import random
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pytest

from conftest import SharedGenerated, copy_workspace
from leadjourney.ingest import ingest, web_visits
from leadjourney.ingest.sql import lit
from leadjourney.ingest.urls import url_host, url_path, url_utm
from leadjourney.workspace import Workspace
from test_web_journey import CLICKSTREAM, CRM, GA4, WEB, _clickstream

# --- the reference: the SQL of refresh_web before its tables were Ibis expressions (commit 6ad4376) ---------


def path_sql(expr: str) -> str:
    no_query = f"split_part(split_part({expr}, '#', 1), '?', 1)"
    return (f"CASE WHEN {expr} IS NULL THEN NULL "
            f"ELSE coalesce(nullif(regexp_extract({no_query}, '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://)?[^/]*(/.*)?$', 1), "
            f"''), '/') END")


def host_sql(expr: str) -> str:
    return f"nullif(regexp_replace(lower(regexp_extract({expr}, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]*)', 1)), " \
           f"'^www\\.', ''), '')"


def utm_sql(page: str, tag: str) -> str:
    return f"nullif(regexp_extract({page}, '[?&]utm_{tag}=([^&]*)', 1, 'i'), '')"


EVENT_COLUMNS = ", ".join(web_visits.EVENT_COLUMNS)


def reference_stitches() -> str:
    return """
        WITH ids AS (
            SELECT t.visitor_id, l.person_id, t.occurred_at AS seen_at, 'touchpoint' AS via
            FROM touchpoints t JOIN leads l ON l.lead_id = t.lead_id WHERE t.visitor_id IS NOT NULL
            UNION ALL
            SELECT visitor_id, person_id, created_at, 'lead' FROM leads WHERE visitor_id IS NOT NULL
            UNION ALL
            SELECT w.visitor_id, l.person_id, w.occurred_at, 'email_hash'
            FROM web_sessions w JOIN leads l ON l.email_hash = w.email_hash WHERE w.email_hash IS NOT NULL
        )
        SELECT visitor_id, person_id, via, seen_at AS identified_at FROM ids
        WHERE person_id IN (SELECT person_id FROM person_journeys)
        QUALIFY row_number() OVER (PARTITION BY visitor_id ORDER BY seen_at NULLS LAST, person_id, via) = 1"""


def reference_visits(stitches: str, gap_minutes: int = 30) -> str:
    views = f"(event IS NULL OR event = {lit(web_visits.PAGE_VIEW)})"
    forms = ", ".join(lit(e) for e in web_visits.FORM_EVENTS)
    gap = f"INTERVAL {gap_minutes} MINUTE"
    referral = "(r.referrer_host IS NOT NULL AND r.referrer_host IS DISTINCT FROM l.landing_host)"
    return f"""
        WITH events AS (SELECT {EVENT_COLUMNS} FROM web_sessions WHERE session_id IS NULL),
        numbered AS (
            SELECT *, CASE WHEN occurred_at - lag(occurred_at) OVER w <= {gap} THEN 0 ELSE 1 END AS new_visit
            FROM events WINDOW w AS (PARTITION BY visitor_id ORDER BY occurred_at)
        ), keyed AS (
            SELECT * EXCLUDE (new_visit), visitor_id || '#' || sum(new_visit) OVER (
                PARTITION BY visitor_id ORDER BY occurred_at ROWS UNBOUNDED PRECEDING) AS session_key
            FROM numbered
            UNION ALL
            SELECT {EVENT_COLUMNS}, session_id AS session_key FROM web_sessions WHERE session_id IS NOT NULL
        ), visits AS (
            SELECT visitor_id, session_key, min(occurred_at) AS started_at, max(occurred_at) AS ended_at,
                   count(*) FILTER ({views}) AS pageviews,
                   arg_min(page, occurred_at) FILTER ({views} AND page IS NOT NULL) AS first_page,
                   arg_max(page, occurred_at) FILTER ({views} AND page IS NOT NULL) AS last_page,
                   arg_min(referrer, occurred_at) AS first_referrer,
                   arg_min(source, occurred_at) FILTER (source IS NOT NULL) AS tagged_source,
                   arg_min(medium, occurred_at) FILTER (medium IS NOT NULL) AS tagged_medium,
                   arg_min(campaign, occurred_at) FILTER (campaign IS NOT NULL) AS tagged_campaign,
                   bool_or(event IN ({forms})) AS form_on_site
            FROM keyed GROUP BY visitor_id, session_key
        ), placed AS (
            SELECT v.*, s.person_id FROM visits v LEFT JOIN ({stitches}) s ON s.visitor_id = v.visitor_id
        ), forms AS (
            SELECT DISTINCT p.visitor_id, p.session_key FROM placed p
            JOIN (person_touches JOIN person_journeys USING (person_key)) t
              ON t.person_id = p.person_id AND t.kind = 'form_fill'
             AND t.occurred_at BETWEEN p.started_at AND p.ended_at + {gap}
        ), landings AS (
            SELECT first_page, {path_sql("first_page")} AS landing_page, {host_sql("first_page")} AS landing_host,
                   {utm_sql("first_page", "source")} AS utm_source, {utm_sql("first_page", "medium")} AS utm_medium,
                   {utm_sql("first_page", "campaign")} AS utm_campaign
            FROM (SELECT DISTINCT first_page FROM visits)
        ), exits AS (
            SELECT last_page, {path_sql("last_page")} AS exit_page FROM (SELECT DISTINCT last_page FROM visits)
        ), referrers AS (
            SELECT first_referrer, {host_sql("first_referrer")} AS referrer_host
            FROM (SELECT DISTINCT first_referrer FROM visits)
        )
        SELECT p.visitor_id, p.session_key, p.started_at, p.ended_at,
               CAST(epoch(p.ended_at) - epoch(p.started_at) AS DOUBLE) AS duration_seconds, p.pageviews,
               l.landing_page, e.exit_page,
               coalesce(tagged_source, l.utm_source, CASE WHEN {referral} THEN r.referrer_host END, '(direct)') AS source,
               coalesce(tagged_medium, l.utm_medium, CASE WHEN {referral} THEN 'referral' END, '(none)') AS medium,
               coalesce(tagged_campaign, l.utm_campaign) AS campaign,
               coalesce(p.form_on_site, FALSE) OR f.session_key IS NOT NULL AS form_fill,
               p.person_id
        FROM placed p LEFT JOIN forms f ON f.visitor_id = p.visitor_id AND f.session_key = p.session_key
        LEFT JOIN landings l ON l.first_page = p.first_page LEFT JOIN exits e ON e.last_page = p.last_page
        LEFT JOIN referrers r ON r.first_referrer = p.first_referrer"""


# --- the comparison ---------------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    result = con.execute(f"SELECT * FROM ({query}) ORDER BY ALL")
    return [d[0] for d in result.description], [tuple(r) for r in result.fetchall()]


def _differences(ws: Workspace) -> dict[str, list[str]]:
    """Per web table, where the table ingest built differs from the reference SQL's rows (columns, rows)."""
    out: dict[str, list[str]] = {}
    with ws.connect(read_only=True) as con:
        for table, query in ((web_visits.STITCHES, reference_stitches()),
                             (web_visits.VISITS, reference_visits(reference_stitches()))):
            names, built = _rows(con, f"SELECT * FROM {table}")
            ref_names, expected = _rows(con, query)
            found = [f"columns {names} vs {ref_names}"] if names != ref_names else []
            found += [f"{len(built)} rows vs {len(expected)}"] if len(built) != len(expected) else []
            found += [f"row {i}: {a} vs {b}" for i, (a, b) in enumerate(zip(built, expected, strict=False)) if a != b]
            out[table] = found[:5]
    return out


def _counts(ws: Workspace) -> tuple[int, int]:
    with ws.connect(read_only=True) as con:
        found = con.execute(f"SELECT (SELECT count(*) FROM {web_visits.STITCHES}), "
                            f"(SELECT count(*) FROM {web_visits.VISITS})").fetchone()
    assert found is not None
    return int(found[0]), int(found[1])


def _ingested(root: Path, sources: list[dict[str, Any]], files: dict[str, Path]) -> Workspace:
    ws = Workspace.init(root)
    for name, path in files.items():
        (root / name).write_bytes(path.read_bytes())
    ws.set_sources(sources)
    ingest(Workspace.open(root))
    return Workspace.open(root)


ODD_PAGES = ["acme.io/blog/a?utm_SOURCE=News&utm_medium=mail", "https://WWW.Acme.io:8080/x/y#frag",
             "https://acme.io/a\nb?utm_source=x", "http://acme.io", "/relative/path?utm_campaign=spring",
             "https://www.google.com/", "mailto:sales@acme.io", "https://acme.io/a\rb\u2028c", "//cdn.acme.io/x"]


def _gapped_clickstream(root: Path) -> None:
    """The planted clickstream without session ids, plus a visitor's events around the 30-minute gap (29:59,
    exactly 30:00, 30:00.000001 apart; one instant twice, same page), and a visitor landing on pages of odd
    shapes, one visit each (no scheme, a port, a fragment, upper-case tags, line breaks, a bare host)."""
    _clickstream(root)
    path = root / "clickstream.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["domain_sessionid"] = ""
    at = datetime(2024, 6, 1, 12, 0, 0, 250000)
    steps = [timedelta(0), timedelta(minutes=29, seconds=59), timedelta(minutes=30), timedelta(0),
             timedelta(minutes=30, microseconds=1), timedelta(seconds=5), timedelta(hours=2)]
    pages = ["/a", "/b", "/c", "/c", "/d", "/e", "/f"]
    events = [(at := at + step, "dvid-gap", page, "", "page_view" if i % 3 else "")
              for i, (step, page) in enumerate(zip(steps, pages, strict=True))]
    events += [(at + timedelta(hours=i + 1), "dvid-odd", page, ODD_PAGES[(i + 3) % len(ODD_PAGES)], "page_view")
               for i, page in enumerate(ODD_PAGES)]
    for when, visitor, page, referrer, event in events:
        rows.append({**rows[0], "domain_userid": visitor, "domain_sessionid": "", "derived_tstamp": str(when),
                     "page_url": page, "page_referrer": referrer, "mkt_source": "", "mkt_medium": "", "event": event})
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


CRM_CLICKSTREAM = [{"name": t, "path": f"{t}.csv", "format": "csv", "table": t}
                   for t in ("leads", "touchpoints", "stage_events", "opportunities")]


@pytest.fixture(scope="module")
def generated_web(shared_generated: SharedGenerated) -> Workspace:
    ws, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), web=True)
    return ws


@pytest.fixture(scope="module")
def ga4(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    sources = [*CRM, {"name": "ga4", "path": GA4, "format": "ga4_bigquery"}]
    return _ingested(tmp_path_factory.mktemp("ga4") / "ws", sources, {s["path"]: WEB / s["path"] for s in sources})


def _clickstream_ws(root: Path, gapped: bool) -> Workspace:
    root.mkdir(parents=True)
    (_gapped_clickstream if gapped else _clickstream)(root)
    return _ingested(root, [*CRM_CLICKSTREAM, CLICKSTREAM], {})


@pytest.fixture(scope="module")
def gapped(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _clickstream_ws(tmp_path_factory.mktemp("gapped") / "ws", gapped=True)


def test_web_tables_equal_the_sql_on_generated_ga4_data(generated_web: Workspace) -> None:
    stitched, visits = _counts(generated_web)
    assert stitched > 100 and visits > 1000
    assert _differences(generated_web) == {web_visits.STITCHES: [], web_visits.VISITS: []}


def test_web_tables_equal_the_sql_on_the_hand_made_ga4_export(ga4: Workspace) -> None:
    assert _counts(ga4) >= (2, 3)
    assert _differences(ga4) == {web_visits.STITCHES: [], web_visits.VISITS: []}


def test_web_tables_equal_the_sql_on_clickstreams_with_and_without_session_ids(tmp_path: Path,
                                                                              gapped: Workspace) -> None:
    filed = _clickstream_ws(tmp_path / "filed", gapped=False)
    assert _differences(filed) == {web_visits.STITCHES: [], web_visits.VISITS: []}
    assert _differences(gapped) == {web_visits.STITCHES: [], web_visits.VISITS: []}
    with gapped.connect(read_only=True) as con:
        keys = con.execute("SELECT session_key, landing_page, exit_page, pageviews FROM web_visits "
                           "WHERE visitor_id = 'dvid-gap' ORDER BY started_at").fetchall()
        odd = con.execute("SELECT landing_page, exit_page, source, medium, campaign FROM web_visits "
                          "WHERE visitor_id = 'dvid-odd' ORDER BY started_at").fetchall()
    # 0, 29:59 (the same visit), 30:00 (the same: the gap is at most 30 minutes), the same instant again,
    # 30:00.000001 (a new visit), 5 s, 2 h (a new visit)
    assert keys == [("dvid-gap#1", "/a", "/c", 4), ("dvid-gap#2", "/d", "/e", 2), ("dvid-gap#3", "/f", "/f", 1)]
    assert len(odd) == len(ODD_PAGES) and odd[0] == ("/blog/a", "/blog/a", "News", "mail", None)
    assert odd[2] == ("/", "/", "x", "referral", None)  # a line break: no path
    assert odd[4] == ("/relative/path", "/relative/path", "acme.io", "referral", "spring")
    assert odd[7][0] == "/a\rb\u2028c"  # other line ends are characters of the path (RE2's "."; Java's is not)


def test_a_perturbed_session_gap_is_seen(gapped: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison has teeth: the visits cut at another gap differ from the reference's."""
    ws = copy_workspace(gapped, tmp_path / "ws")
    monkeypatch.setattr(web_visits, "SESSION_GAP_MINUTES", 20)
    with ws.connect() as con:
        web_visits.refresh_web(con)
    found = _differences(ws)
    assert found[web_visits.STITCHES] == [] and found[web_visits.VISITS] != []


# --- the URL expressions ----------------------------------------------------------------------------------

SHAPES = [
    None, "", " ", "/", "//", "https://", "https://acme.io", "https://acme.io/", "https://www.acme.io/pricing",
    "HTTPS://WWW.ACME.IO/Pricing?utm_source=X", "http://acme.io:8080/a/b?q=1#top", "https://acme.io?x=1/2",
    "https://acme.io#/route/x", "acme.io/pricing", "www.acme.io/a?b", "/lp/webinar?utm_Medium=cpc&utm_medium=x",
    "?utm_source=only", "#frag", "mailto:sales@acme.io", "android-app://com.acme/http/host/path",
    "https://user:pw@acme.io/a", "https://acme.io/a\nb", "https://acme.io/a\n", "https://ac\nme.io/a",
    "https://acme.io/a\rb", "https://acme.io/a\u2028b", "\nhttps://acme.io/a", "https://www.www.acme.io/x",
    "https://wwwXacme.io/x", "ftp+ssh.v1://h/p", "1http://h/p", "https://acme.io/%40x/?utm_campaign=a%20b&utm_source=",
    "https://acme.io/?utm_source=a&utm_source=b", "https://acme.io/?xutm_source=a", "https://acme.io/?UTM_SOURCE=Q",
    "https://acme.io/?utm_\u017fource=long-s", "https://münchen.de/straße?utm_source=ä", "https://acme.io/a?b#c?d",
    "https://acme.io/a#b?c", "https://[::1]:80/v6", "http:/one-slash/x", "https:///triple/x", "https://a.io//double",
]


def _random_urls(n: int, seed: int = 7) -> Iterator[str]:
    rng = random.Random(seed)
    parts = ["https://", "http://", "www.", "WWW.", "acme.io", ":8080", "/", "//", "?", "#", "&", "=", "utm_source",
             "UTM_MEDIUM", "utm_campaign", "x", "é", "\n", " ", "%40", ":", "@", "a.b"]
    for _ in range(n):
        yield "".join(rng.choice(parts) for _ in range(rng.randint(0, 9)))


def test_url_expressions_equal_the_sql_over_many_shapes() -> None:
    urls = [*SHAPES, *_random_urls(3000)]
    con = duckdb.connect()
    con.execute("CREATE TABLE u (i INTEGER, url VARCHAR)")
    con.executemany("INSERT INTO u VALUES (?, ?)", list(enumerate(urls)))
    backend = ibis.duckdb.from_connection(con)
    u = backend.table("u")
    built = u.select("i", path=url_path(u.url), host=url_host(u.url),
                     **{tag: url_utm(u.url, tag) for tag in ("source", "medium", "campaign")}).order_by("i")
    expected = con.execute(f"SELECT i, {path_sql('url')}, {host_sql('url')}, {utm_sql('url', 'source')}, "
                           f"{utm_sql('url', 'medium')}, {utm_sql('url', 'campaign')} FROM u ORDER BY i").fetchall()
    found = [tuple(r.values()) for r in built.to_pyarrow().to_pylist()]
    assert [(urls[a[0]], a, b) for a, b in zip(found, expected, strict=True) if a != tuple(b)] == []
    paths = {r[1] for r in expected}
    assert {"/", "/pricing", "/a/b", None} <= paths and any("\n" in u for u in urls if u)  # the shapes reached


def _tied_ws(root: Path) -> Workspace:
    """The clickstream with a visit (visitor ``dvid-tie``) whose first three and last two page views are at one
    instant each, written in an order that is not the pages' (/zeta before /alpha, /beta before /omega)."""
    root.mkdir(parents=True)
    _clickstream(root)
    path = root / "clickstream.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    first, last = "2024-07-01 09:00:00", "2024-07-01 09:05:00"
    for when, page, source in ((first, "/zeta", "zz-news"), (first, "/alpha", "aa-news"), (first, "/mid", ""),
                               (last, "/beta", ""), (last, "/omega", ""), ("2024-07-01 09:02:00", "/x", "")):
        rows.append({**rows[0], "domain_userid": "dvid-tie", "domain_sessionid": "sess-tie", "derived_tstamp": when,
                     "page_url": f"https://acme.io{page}", "page_referrer": "", "mkt_source": source,
                     "mkt_medium": "", "mkt_campaign": "", "event": "page_view"})
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return _ingested(root, [*CRM_CLICKSTREAM, CLICKSTREAM], {})


TIED = "SELECT landing_page, exit_page, source, pageviews FROM web_visits WHERE visitor_id = 'dvid-tie'"


def test_events_at_the_same_instant_are_told_by_value_not_by_chance(tmp_path: Path) -> None:
    """A clickstream exported in whole seconds has a visit's first (or last) events at one instant: the landing
    page is the smallest of those pages, the exit page the largest, the tagged source the smallest: the same on
    every run and engine (the order the events come in does not decide; before, any of them could be told)."""
    ws = _tied_ws(tmp_path / "ws")
    told = set()
    for _ in range(3):
        with ws.connect() as con:
            web_visits.refresh_web(con)
            told.add(tuple(con.execute(TIED).fetchall()))
    assert told == {(("/alpha", "/omega", "aa-news", 6),)}


@pytest.mark.spark
@pytest.mark.skipif(importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
                    reason="needs pyspark and a JDK")
def test_spark_tells_events_at_the_same_instant_as_duckdb_does(tmp_path: Path) -> None:
    """The visit with tied first and last instants: Spark's web tables (and the other derived tables) equal
    DuckDB's, which land on the smallest page and exit on the largest."""
    from leadjourney.table_export import DERIVED
    from test_engines import _spark_tables_differences

    ws = _tied_ws(tmp_path / "ws")
    with ws.connect(read_only=True) as con:
        assert con.execute(TIED).fetchall() == [("/alpha", "/omega", "aa-news", 6)]
    assert _spark_tables_differences(ws) == {t: [] for t in DERIVED}
