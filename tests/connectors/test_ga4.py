"""The GA4 connector against a fake Data API on 127.0.0.1: the real client over REST, paging, settling days."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from apiserver import ApiServer, Reply
from fake_ga4 import PROPERTY, FakeGa4, row, service_account_file

from conftest import run_cli
from leadjourney.connectors.ga4 import Ga4Connector
from leadjourney.connectors.http import RetryPolicy
from leadjourney.connectors.pull import pull, settings_for
from leadjourney.errors import PullError
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

pytestmark = pytest.mark.servers  # real HTTP servers on 127.0.0.1: make test-integration

TODAY = date(2024, 3, 20)


def day(d: date, back: int) -> str:
    return (d - timedelta(days=back)).strftime("%Y%m%d")


def traffic(today: date) -> list[dict[str, str]]:
    """Ten days of a property's sessions, with GA4's own spellings of 'nothing' ((direct), (none), (not set))."""
    out = []
    for back in range(10, 0, -1):
        out += [row(day(today, back), "google", "organic", "(organic)", "/pricing", 40 + back, 30, 2),
                row(day(today, back), "(direct)", "(none)", "(not set)", "/", 20 + back, 10, 0),
                row(day(today, back), "linkedin", "paid_social", "q1-abm", "/demo?utm_source=linkedin", 5, 4, 1)]
    return out


def workspace(tmp_path: Path, url: str, extra: str = "") -> Workspace:
    ws = Workspace.init(tmp_path / "acme")
    ws.config_path.write_text(ws.config_path.read_text() + f'\n[connectors.ga4]\nproperty_id = "{PROPERTY}"\n'
                              f'api_endpoint = "{url}"\n{extra}')
    return Workspace.open(ws.root)


def test_pull_through_the_cli_loads_the_report_and_rereads_the_days_still_settling(tmp_path: Path,
                                                                                    api: ApiServer) -> None:
    today = date.today()
    fake = FakeGa4(traffic(today)).serve(api)
    key = service_account_file(tmp_path, fake, f"{api.url}/token")
    ws = workspace(tmp_path, api.url, f'start = "{(today - timedelta(days=30)).isoformat()}"\n')
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(key)}
    first = run_cli("pull", str(ws.root), "ga4", env=env)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "SECRET" not in first.stdout + first.stderr
    assert fake.requests[0]["dateRanges"] == [{"startDate": (today - timedelta(days=30)).isoformat(),
                                               "endDate": today.isoformat()}]
    # yesterday settles (more sessions); a day older than the overlap changes too, but is not re-read
    for r in fake.rows:
        if r["date"] in (day(today, 1), day(today, 9)) and r["sessionSource"] == "google":
            r["sessions"] = str(int(r["sessions"]) + 100)
    second = run_cli("pull", str(ws.root), "ga4", env=env)
    assert second.returncode == 0, second.stderr + second.stdout
    assert fake.requests[-1]["dateRanges"][0]["startDate"] == (today - timedelta(days=4)).isoformat()
    with ws.connect() as con:
        got = con.execute("SELECT day, source, medium, campaign, landing_page, sessions, engaged_sessions, key_events "
                          "FROM web_traffic ORDER BY day, source").fetchall()
    assert len(got) == 30
    first_day = today - timedelta(days=10)
    assert got[0] == (first_day, "(direct)", None, None, "/", 30, 10, 0)  # (none) and (not set) are placeholders
    google = {d: s for d, src, *_, s, _e, _k in [(g[0], g[1], g[5], g[6], g[7]) for g in got] if src == "google"}
    assert google[today - timedelta(days=1)] == 141  # re-read: the settled figure
    assert google[today - timedelta(days=9)] == 49  # older than the overlap: as first pulled
    quality = run_cli("quality", str(ws.root))
    assert f"Web traffic: 30 rows, {first_day} to {today - timedelta(days=1)}" in quality.stdout


def connector(ws: Workspace, sleeps: list[float]) -> Ga4Connector:
    return Ga4Connector(settings_for(ws, "ga4"), policy=RetryPolicy(backoff_seconds=0, timeout_seconds=1),
                        sleep=sleeps.append, today=TODAY)


def test_throttling_failures_timeouts_and_cut_pages_are_retried(tmp_path: Path, api: ApiServer) -> None:
    fake = FakeGa4(traffic(TODAY), require_token=False).serve(api)
    ws = workspace(tmp_path, api.url, 'anonymous = true\nstart = "2024-03-01"\npage_size = 7\n')
    report = r":runReport$"
    api.fail("POST", report, Reply(429, b'{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}',
                                   {"Retry-After": "9"}), times=1)
    api.fail("POST", report, Reply(500, b"{}"), times=1)
    api.fail("POST", report, Reply(200, b"{}", delay=2.0), times=1)
    api.fail("POST", report, Reply(200, b'{"dimensionHeaders": [{"name": "date"}], "rowCount": 30, "rows": ['
                                   + b"{}, " * 80 + b"{}]}", truncate=True), times=1)
    sleeps: list[float] = []
    dry = pull(ws, "ga4", connector=connector(ws, sleeps), dry_run=True)
    assert dry.objects[0].count == 30
    done = pull(ws, "ga4", connector=connector(ws, sleeps))
    assert done.objects[0].stored == 30 and done.tables == {"web_traffic": 30}
    assert 9.0 in sleeps
    offsets = [int(b.get("offset") or 0) for b in fake.requests]
    assert offsets[-5:] == [0, 7, 14, 21, 28]  # five pages of seven
    fake.require_token = True
    with pytest.raises(PullError, match=r"^ga4 traffic page 1: the credentials were refused"):
        pull(ws, "ga4", connector=connector(ws, sleeps))
    other = workspace(tmp_path / "other", api.url, 'anonymous = true\n').config_path
    other.write_text(other.read_text().replace(PROPERTY, "999"))
    with pytest.raises(PullError, match=r"credentials were refused 403: .*sufficient permissions"):
        pull(Workspace.open(other.parent), "ga4", connector=connector(Workspace.open(other.parent), sleeps))


def test_a_crash_mid_pull_resumes_from_the_last_stored_day_less_the_overlap(tmp_path: Path, api: ApiServer) -> None:
    fake = FakeGa4(traffic(TODAY), require_token=False).serve(api)
    options = 'anonymous = true\nstart = "2024-03-01"\npage_size = 4\noverlap_days = 2\n'
    clean, crashed = workspace(tmp_path / "clean", api.url, options), workspace(tmp_path / "crashed", api.url, options)
    sleeps: list[float] = []
    pull(clean, "ga4", connector=connector(clean, sleeps))
    fake.requests.clear()
    calls = [0]

    def third_page_fails(req):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return Reply(503, b"{}") if calls[0] >= 3 else fake.run_report(req)

    api.routes.insert(0, ("POST", re.compile(r":runReport$"), third_page_fails))
    with pytest.raises(PullError, match=r"ga4 traffic page 3: HTTP 503"):
        pull(crashed, "ga4", connector=connector(crashed, sleeps))
    api.routes.pop(0)
    fake.requests.clear()
    resumed = pull(crashed, "ga4", connector=connector(crashed, sleeps))
    # pages 1-2 held eight rows: days 10..8 before TODAY; the last stored day less two days' overlap
    assert fake.requests[0]["dateRanges"][0]["startDate"] == "2024-03-10"
    assert resumed.objects[0].stored == 30 - 8
    for ws in (clean, crashed):
        ingest(Workspace.open(ws.root))
    q = "SELECT * EXCLUDE (origin, source_file, source_row) FROM web_traffic ORDER BY ALL"
    with clean.connect() as a, crashed.connect() as b:
        assert a.execute(q).fetchall() == b.execute(q).fetchall()
        assert a.execute("SELECT count(*) FROM web_traffic").fetchall() == [(30,)]


def test_a_csv_of_the_same_shape_loads_as_web_traffic(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "acme")
    (ws.root / "ga4.csv").write_text("day,source,medium,campaign,landing_page,sessions,engaged_sessions,key_events\n"
                                     "2024-03-01,google,organic,(organic),/pricing,\"1,204\",900,12\n"
                                     "2024-03-02,(direct),(none),(not set),/,55,31,0\n"
                                     "not a day,bing,organic,,/,3,1,0\n")
    ws.config_path.write_text(ws.config_path.read_text() + '\n[[sources]]\nname = "web"\npath = "ga4.csv"\n'
                              'format = "csv"\ntable = "web_traffic"\n')
    report = ingest(Workspace.open(ws.root))
    assert report.sources[0].rows_loaded == {"web_traffic": 2} and report.sources[0].rejected_rows == 1
    with ws.connect() as con:
        assert con.execute("SELECT day, source, medium, sessions FROM web_traffic ORDER BY day").fetchall() == [
            (date(2024, 3, 1), "google", "organic", 1204), (date(2024, 3, 2), "(direct)", None, 55)]
    assert duckdb  # the module is the workspace's engine
