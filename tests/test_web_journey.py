"""Issue 16, the web half of the journey: web sessions from GA4's BigQuery export (NDJSON and Parquet, nested
event_params) and from a clickstream CSV, stitched to leads, and the web journey analyses.

tests/data/web/ga4_events_20240301.ndjson is a hand-made GA4 export (the export's real columns and nesting:
event_params as key/value records, INT64 values as JSON strings as BigQuery writes them, device, geo,
privacy_info, traffic_source, collected_traffic_source) of three visitors: one identified by a form fill
touch carrying their user_pseudo_id, one by a login whose user_id is a lead's e-mail, one never identified;
one row has an unreadable event_timestamp. The clickstream is shaped like a Snowplow atomic events export.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pytest

from conftest import copy_workspace, fetch, run_cli
from leadjourney.analysis import analyze
from leadjourney.analysis.journeys import Filters, Journeys
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.status import Status
from leadjourney.analysis.web import NOTHING_STITCHED, SELECTION, WebJourney
from leadjourney.errors import BadFileError
from leadjourney.ingest import ingest
from leadjourney.quality.report import run_quality
from leadjourney.workspace import SALT_KEY, Workspace

WEB = Path(__file__).parent / "data" / "web"
GA4 = "ga4_events_20240301.ndjson"
V1, V2, V3 = "1111111111.1709280000", "2222222222.1709290000", "3333333333.1709300000"
CRM = [
    {"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads"},
    {"name": "touches", "path": "touchpoints.csv", "format": "csv", "table": "touchpoints"},
    {"name": "stages", "path": "stage_events.csv", "format": "csv", "table": "stage_events"},
]


def _workspace(root: Path, sources: list[dict[str, Any]], files: dict[str, Path] | None = None) -> Workspace:
    ws = Workspace.init(root)
    for s in sources:
        src = (files or {}).get(s["path"], WEB / s["path"])
        shutil.copy(src, root / s["path"])
    ws.set_sources(sources)
    ws = Workspace.open(root)
    ingest(ws)
    return ws


def _web(ws: Workspace, filters: Filters | None = None) -> WebJourney:
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, filters or Filters())
        try:
            return WebJourney().fit(journeys)
        finally:
            journeys.release()


def _parquet_export(tmp: Path) -> Path:
    """The NDJSON export as Parquet with BigQuery's types (INT64 as integers, the records nested)."""
    out = tmp / "events_20240301.parquet"
    param = "STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, " \
            "double_value DOUBLE))[]"
    import duckdb
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT event_date, TRY_CAST(event_timestamp AS BIGINT) AS event_timestamp, event_name,
        CAST(event_params AS {param}) AS event_params, user_id, user_pseudo_id, traffic_source, device, geo,
        collected_traffic_source
        FROM read_json('{WEB / GA4}', format = 'newline_delimited')) TO '{out}' (FORMAT parquet)""")
    con.close()
    return out


@pytest.fixture(scope="module")
def ga4_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The CRM files and the NDJSON export, ingested once (read only)."""
    return _workspace(tmp_path_factory.mktemp("ga4") / "ws", [*CRM, {"name": "ga4", "path": GA4, "format": "ga4_bigquery"}])


def _web_rows(ws: Workspace) -> list[tuple[Any, ...]]:
    return fetch(ws, "SELECT * EXCLUDE (origin, source_file, source_row) FROM web_sessions "
                     "ORDER BY visitor_id, occurred_at, event")


# ------------------------------------------------------------------------------------------------ GA4 export

def test_a_ga4_ndjson_export_loads_page_views_and_identifying_events_without_personal_data(ga4_ws: Workspace) -> None:
    ws = ga4_ws
    lines = [json.loads(x) for x in (WEB / GA4).read_text().splitlines()]
    kept = [x for x in lines if x["event_name"] in ("page_view", "form_submit", "login")]
    # scroll, user_engagement and session_start are not page views; the row with an unreadable time is quarantined
    assert fetch(ws, "SELECT count(*) FROM web_sessions") == [(len(kept) - 1,)]
    bad = next(i for i, x in enumerate(lines, 1) if not x["event_timestamp"].isdigit())
    assert fetch(ws, "SELECT source_row, column_name, action FROM quarantine WHERE origin = 'ga4'") == [
        (bad, "occurred_at", "row_rejected")]
    first = fetch(ws, f"SELECT occurred_at, session_id, page, source, medium, campaign FROM web_sessions "
                      f"WHERE visitor_id = '{V1}' ORDER BY occurred_at LIMIT 1")[0]
    assert first == (datetime(2024, 3, 1, 10, 0, 1, 123), f"{V1}-1709287200",
                     "https://www.acme-soft.com/pricing?utm_source=linkedin&utm_medium=paid_social"
                     "&utm_campaign=q1_launch", "linkedin", "paid_social", "q1_launch")
    # the referrer's query string and the page's fragment are gone
    assert fetch(ws, f"SELECT page, referrer FROM web_sessions WHERE visitor_id = '{V2}' "
                     f"ORDER BY occurred_at LIMIT 1") == [
        ("https://www.acme-soft.com/blog/lead-scoring", "https://news.ycombinator.com/item")]
    # the login's user id only as the workspace-salted hash of the e-mail, the hash leads have
    salt = ws.meta(SALT_KEY) or ""
    assert fetch(ws, "SELECT email_hash FROM web_sessions WHERE event = 'login'") == [
        (hashlib.sha256((salt + "bob@example.com").encode()).hexdigest(),)]
    with ws.connect(read_only=True) as con:
        dump = json.dumps([con.execute(f"SELECT * FROM {t}").fetchall() for t in ("web_sessions", "quarantine")],
                          default=str).lower()
    for personal in ("jane.doe", "%40", "email=", "bob@example.com", "berlin", "ref=hn", "id=39000000"):
        assert personal not in dump


def test_a_parquet_export_with_nested_params_loads_the_same_rows(ga4_ws: Workspace, tmp_path: Path) -> None:
    from_json = ga4_ws
    parquet = _parquet_export(tmp_path)
    from_parquet = _workspace(tmp_path / "pq", [*CRM, {"name": "ga4", "path": parquet.name, "format": "ga4_bigquery"}],
                              {parquet.name: parquet})
    salt_json, salt_pq = from_json.meta(SALT_KEY) or "", from_parquet.meta(SALT_KEY) or ""
    rows_pq = [tuple(v if v is None or len(str(v)) != 64 else "hash" for v in r) for r in _web_rows(from_parquet)]
    rows_json = [tuple(v if v is None or len(str(v)) != 64 else "hash" for v in r) for r in _web_rows(from_json)]
    assert salt_json != salt_pq and rows_pq == rows_json and len(rows_pq) == 11
    assert fetch(from_parquet, "SELECT count(*) FROM quarantine WHERE origin = 'ga4'") == [(1,)]


def test_a_file_that_is_not_a_ga4_export_is_named(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    (tmp_path / "ws" / "x.ndjson").write_text('{"a": 1}\n')
    ws.set_sources([{"name": "ga4", "path": "x.ndjson", "format": "ga4_bigquery"}])
    with pytest.raises(BadFileError, match=r"x\.ndjson: not a GA4 BigQuery export: missing event_timestamp"):
        ingest(Workspace.open(tmp_path / "ws"))


# ------------------------------------------------------------------------------------------------ stitching

def test_visitors_are_stitched_by_a_form_fill_touch_and_a_login_and_the_rest_stay_anonymous(ga4_ws: Workspace) -> None:
    ws = ga4_ws
    assert fetch(ws, "SELECT visitor_id, person_id, via FROM web_stitches ORDER BY 1") == [
        (V1, "L1", "touchpoint"), (V2, "L2", "email_hash")]
    visits = fetch(ws, "SELECT visitor_id, landing_page, exit_page, pageviews, source, medium, form_fill, person_id "
                       "FROM web_visits ORDER BY visitor_id, started_at")
    assert visits == [
        (V1, "/pricing", "/product", 2, "linkedin", "paid_social", False, "L1"),
        (V1, "/", "/demo", 2, "google.com", "referral", True, "L1"),  # the form_submit event on the site
        (V2, "/blog/lead-scoring", "/pricing", 2, "news.ycombinator.com", "referral", True, "L2"),  # L2's form touch
        (V3, "/careers", "/about", 2, "linkedin.com", "referral", False, None),
        (V3, "/", "/", 1, "(direct)", "(none)", False, None),
    ]
    stitching = run_quality(ws).web_stitching
    assert stitching is not None
    assert (stitching.visitors, stitching.stitched_visitors, stitching.visits, stitching.people) == (3, 2, 5, 2)
    assert stitching.via == {"email_hash": 1, "touchpoint": 1}
    result = run_cli("quality", str(ws.root))
    assert result.returncode == 0 and "stitched to people: 2 visitors = 66.7%" in result.stdout


def test_each_leads_journey_starts_at_its_first_anonymous_visit(ga4_ws: Workspace) -> None:
    ws = ga4_ws
    web = _web(ws)
    first_form = next(m for m in web.before if m.milestone == "first form fill")
    # L1: two visits (4 pages) up to the demo form, the first a day before it, anonymous then; L2: one visit, 2 pages
    assert (first_form.people, first_form.median_visits, first_form.median_pages) == (2, 1.5, 3.0)
    assert first_form.visits == {"0": 0, "1": 1, "2": 1, "3-5": 0, "6-10": 0, "11+": 0}
    sql = next(m for m in web.before if m.milestone == "SQL")
    assert (sql.people, sql.median_visits, sql.median_pages) == (1, 2.0, 4.0)
    assert sql.status.status is Status.TOO_FEW


# ------------------------------------------------------------------------------------------------ clickstream

GOOD, BAD, OK_PAGE = ("/solutions/ops", 200, 60, 30, 10, 3), ("/lp/webinar", 200, 10, 2, 1, 0), ("/", 100, 25, 10, 2, 1)
SOURCES = {"/solutions/ops": ("google", "cpc"), "/lp/webinar": ("linkedin", "paid_social"), "/": ("", "")}
START = datetime(2024, 5, 1, 9, 0, 0)


def _clickstream(root: Path) -> dict[str, Any]:
    """A Snowplow-shaped clickstream and the CRM files of a planted scenario; returns the ground truth.

    Per landing page (path, visits, form fills, of which MQL, of which SQL, of which won): one visitor per visit;
    a form filler views the landing page and /demo 90 s later, then fills the form (a touch carrying the visitor
    id); every 4th visitor who does not fill a form views /pricing 30 s after landing and leaves there.
    """
    clicks, leads, touches, stages, opps = [], [], [], [], []
    truth: dict[str, Any] = {"pricing_exits": 0, "anonymous": 0}
    n = 0
    for page, visits, forms, mql, sql, won in (GOOD, BAD, OK_PAGE):
        source, medium = SOURCES[page]
        for i in range(visits):
            n += 1
            at = START + timedelta(hours=n)
            visitor, session = f"dvid-{n:04d}", f"sess-{n:04d}"
            query = f"?session_token=t{n}" + (f"&utm_source={source}&utm_medium={medium}" if source else "")
            base = {"domain_userid": visitor, "domain_sessionid": session, "user_ipaddress": f"203.0.113.{n % 250}",
                    "event": "page_view", "mkt_source": source, "mkt_medium": medium, "mkt_campaign": "",
                    "page_referrer": "https://www.google.com/search?q=acme" if source == "google" else ""}
            clicks.append({**base, "derived_tstamp": at.isoformat(sep=" "), "page_url": f"https://acme.io{page}{query}"})
            if i < forms:
                lead = f"W{n:04d}"
                clicks.append({**base, "derived_tstamp": (at + timedelta(seconds=90)).isoformat(sep=" "),
                               "page_url": "https://acme.io/demo", "page_referrer": f"https://acme.io{page}"})
                leads.append({"lead_id": lead, "created_at": (at + timedelta(seconds=95)).isoformat()})
                touches.append({"lead_id": lead, "occurred_at": (at + timedelta(seconds=95)).isoformat(),
                                "kind": "form_fill", "visitor_id": visitor})
                if i < mql:
                    stages.append({"lead_id": lead, "stage": "MQL", "entered_at": (at + timedelta(days=1)).isoformat()})
                if i < sql:
                    stages.append({"lead_id": lead, "stage": "SQL", "entered_at": (at + timedelta(days=3)).isoformat()})
                if i < won:
                    opps.append({"opportunity_id": f"O{n}", "lead_id": lead, "stage": "Closed Won",
                                 "created_at": (at + timedelta(days=4)).isoformat(),
                                 "closed_at": (at + timedelta(days=9)).isoformat(), "amount": "1000"})
            else:
                truth["anonymous"] += 1
                if i % 4 == 0:
                    truth["pricing_exits"] += 1
                    clicks.append({**base, "derived_tstamp": (at + timedelta(seconds=30)).isoformat(sep=" "),
                                   "page_url": "https://acme.io/pricing", "page_referrer": f"https://acme.io{page}"})
    for name, rows in (("clickstream.csv", clicks), ("leads.csv", leads), ("touchpoints.csv", touches),
                       ("stage_events.csv", stages), ("opportunities.csv", opps)):
        with (root / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    truth["visits"] = n
    return truth


CLICKSTREAM = {"name": "snowplow", "path": "clickstream.csv", "format": "csv", "table": "web_sessions",
               "columns": {"visitor_id": "domain_userid", "session_id": "domain_sessionid",
                           "occurred_at": "derived_tstamp", "page": "page_url", "referrer": "page_referrer",
                           "source": "mkt_source", "medium": "mkt_medium", "campaign": "mkt_campaign"}}


@pytest.fixture(scope="module")
def clickstream_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any]]:
    root = tmp_path_factory.mktemp("clickstream") / "ws"
    ws = Workspace.init(root)
    truth = _clickstream(root)
    ws.set_sources([
        {"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads"},
        {"name": "touches", "path": "touchpoints.csv", "format": "csv", "table": "touchpoints"},
        {"name": "stages", "path": "stage_events.csv", "format": "csv", "table": "stage_events"},
        {"name": "opps", "path": "opportunities.csv", "format": "csv", "table": "opportunities"},
        CLICKSTREAM,
    ])
    ws = Workspace.open(root)
    ingest(ws)
    return ws, truth


def test_a_clickstream_csv_loads_through_a_column_mapping_without_ips_or_tokens(
        clickstream_ws: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = clickstream_ws
    forms = GOOD[2] + BAD[2] + OK_PAGE[2]
    assert fetch(ws, "SELECT count(*) FROM web_sessions") == [(truth["visits"] + forms + truth["pricing_exits"],)]
    with ws.connect(read_only=True) as con:
        dump = json.dumps(con.execute("SELECT * FROM web_sessions").fetchall(), default=str)
    assert "203.0.113." not in dump and "session_token" not in dump and "q=acme" not in dump
    assert fetch(ws, "SELECT page FROM web_sessions WHERE visitor_id = 'dvid-0001' ORDER BY occurred_at LIMIT 1") == [
        ("https://acme.io/solutions/ops?utm_source=google&utm_medium=cpc",)]


def test_the_web_journey_recovers_the_planted_pages_sources_and_exits(
        clickstream_ws: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = clickstream_ws
    web = _web(ws)
    forms = GOOD[2] + BAD[2] + OK_PAGE[2]
    assert web.status.judged and web.stitched is not None
    assert (web.stitched.entered, web.stitched.converted) == (truth["visits"], forms)
    pages = {p.page: p for p in web.landing_pages}
    for page, visits, fills, mql, _, _ in (GOOD, BAD, OK_PAGE):
        p = pages[page]
        assert (p.visits, p.to_form.converted, p.to_mql.entered, p.to_mql.converted) == (visits, fills, fills, mql)
        assert p.to_form.ci_low is not None and p.to_form.ci_low < fills / visits < p.to_form.ci_high
    assert pages[BAD[0]].worse and not pages[GOOD[0]].worse and not pages[OK_PAGE[0]].worse
    # every form filler saw the landing page and /demo in one visit, 90 s long
    first = web.before[0]
    assert (first.milestone, first.people, first.median_visits, first.median_pages) == ("first form fill", forms, 1, 2)
    assert first.pages["2"] == forms and first.status.judged
    exits = {e.page: e.visits for e in web.exit_pages}
    assert sum(exits.values()) == truth["anonymous"] and exits["/pricing"] == truth["pricing_exits"]
    sources = {(t.source, t.medium): t for t in web.traffic_sources}
    for page, _, fills, _, sql, won in (GOOD, BAD, OK_PAGE):
        source, medium = SOURCES[page]
        key = (source, medium) if source else ("(direct)", "(none)")
        if page == GOOD[0]:
            key = ("google", "cpc")
        t = sources[key]
        assert (t.to_sql.entered, t.to_sql.converted, t.to_won.converted) == (fills, sql, won)
    assert web.duration.visits == truth["visits"]
    assert web.duration.distribution["1-3 min"] == forms  # the 90 s visits
    assert web.duration.distribution["11-60 s"] == truth["pricing_exits"]


@pytest.mark.parametrize("order", ["zz first", "aa first"])
def test_a_persons_first_visit_is_one_visit_whatever_the_order_of_visits_at_one_instant(
        clickstream_ws: tuple[Workspace, dict[str, Any]], tmp_path: Path, order: str) -> None:
    ws = copy_workspace(clickstream_ws[0], tmp_path / "ws")
    with ws.connect() as con:
        person, started = con.execute("SELECT person_id, min(started_at) FROM web_visits WHERE person_id IS NOT NULL "
                                      "GROUP BY ALL ORDER BY ALL LIMIT 1").fetchone()
        tied = [("zz", "alpha", "beta"), ("aa", "gamma", "delta")]  # two visits starting at one instant, earlier
        for visitor, source, medium in (tied if order == "zz first" else tied[::-1]):
            con.execute("INSERT INTO web_visits BY NAME SELECT ? AS visitor_id, 1 AS session_key, ? AS started_at, "
                        "? AS ended_at, 0.0 AS duration_seconds, 1 AS pageviews, '/x' AS landing_page, "
                        "'/x' AS exit_page, ? AS source, ? AS medium, NULL AS campaign, false AS form_fill, "
                        "? AS person_id", [visitor, started - timedelta(days=1), started - timedelta(days=1),
                                           source, medium, person])
    sources = {(t.source, t.medium): t.to_won.entered for t in _web(ws).traffic_sources}
    assert sources[("gamma", "delta")] == 1  # visitor "aa"'s visit: its source with its own medium
    assert sources[("alpha", "beta")] == 0 and ("alpha", "delta") not in sources and ("gamma", "beta") not in sources


def test_analyze_has_a_web_journey_section_only_when_web_data_exists(
        clickstream_ws: tuple[Workspace, dict[str, Any]], tmp_path: Path) -> None:
    ws, _ = clickstream_ws
    analysis = analyze(ws)
    assert "## Web journey" in analysis.to_markdown() and "**converts worse**" in analysis.to_markdown()
    d = json.loads(analysis.to_json())
    assert Analysis.from_dict(d).web == analysis.web
    assert d["web_journey"]["landing_pages"]["rows"][0]["to_form"]["ci_low"] is not None
    selected = analyze(ws, filters=Filters(sources=("unknown",)), check=False).web
    assert selected.status.text() == f"withheld: {SELECTION}"
    plain = _workspace(tmp_path / "plain", CRM)
    without = analyze(plain)
    assert "Web journey" not in without.to_markdown() and "web_journey" not in without.to_dict()
    assert not without.web.status.shown


def test_without_stitching_the_people_parts_are_withheld_with_the_reason(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [{"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads"},
                                      {"name": "stages", "path": "stage_events.csv", "format": "csv",
                                       "table": "stage_events"},
                                      {"name": "ga4", "path": GA4, "format": "ga4_bigquery"}],
                    {"leads.csv": _leads_without_emails(tmp_path)})
    web = _web(ws)
    assert web.stitching.stitched_visitors == 0
    assert web.before_status.text() == f"withheld: {NOTHING_STITCHED}"
    assert web.sources_status.text() == f"withheld: {NOTHING_STITCHED}"
    assert web.landing_pages and all(p.to_mql.status.text() == f"withheld: {NOTHING_STITCHED}"
                                     for p in web.landing_pages)
    assert "Web journey" in analyze(ws).to_markdown()


def _leads_without_emails(tmp: Path) -> Path:
    out = tmp / "leads_no_email.csv"
    out.write_text("lead_id,created_at\nL9,2024-03-01\n", encoding="utf-8")
    return out


def test_visits_before_each_milestone_are_one_query(clickstream_ws: tuple[Workspace, dict[str, Any]],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the visits and pages before the first form fill and each stage: one query for all the milestones and their
    # distributions (was three per milestone, each joining the visits to the people again)
    from leadjourney.analysis import web as web_module

    ws, _ = clickstream_ws
    expected = _web(ws)
    queries: list[object] = []
    real = web_module.fetch_rows
    monkeypatch.setattr(web_module, "fetch_rows", lambda expr: queries.append(expr) or real(expr))
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config)
        try:
            got = WebJourney()
            got.mql_stage = expected.mql_stage
            got._before(journeys.backend.table("web_visits"), journeys.people(),
                        journeys.config.stage_names, ws.config.min_n)
        finally:
            journeys.release()
    assert len(queries) == 1
    assert [m.to_dict() for m in got.before] == [m.to_dict() for m in expected.before]
    assert len(got.before) > 2 and got.before[0].people > 0
