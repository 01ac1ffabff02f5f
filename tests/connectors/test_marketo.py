"""The Marketo connector against a fake instance on 127.0.0.1: bulk jobs, in-body errors, resuming, mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from apiserver import ApiServer, Reply
from fake_marketo import CLIENT_ID, CLIENT_SECRET, FakeMarketo, activity, lead

from conftest import run_cli
from leadjourney.connectors.http import RetryPolicy
from leadjourney.connectors.marketo import MarketoConnector
from leadjourney.connectors.pull import pull, settings_for
from leadjourney.errors import PullError
from leadjourney.workspace import Workspace

pytestmark = pytest.mark.servers  # real HTTP servers on 127.0.0.1: make test-integration

ENV = {"MARKETO_CLIENT_ID": CLIENT_ID, "MARKETO_CLIENT_SECRET": CLIENT_SECRET}
BASE = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 4, 1, tzinfo=UTC)


def stamps(base: datetime) -> Callable[[int, str], str]:
    """Marketo's timestamp ``days`` after ``base`` at a time of day."""
    def t(days: int, clock: str) -> str:
        return (base + timedelta(days=days)).strftime("%Y-%m-%dT") + clock + "Z"

    return t


def org(base: datetime = BASE) -> FakeMarketo:
    """Six leads and their activities from ``base`` on, with the mess a real instance has."""
    t = stamps(base)
    leads = [lead(1, t(2, "09:00:00"), t(9, "12:00:00"), leadSource="Website", industry="N/A"),
             lead(2, t(19, "15:30:00"), t(32, "08:00:00"), leadSource="Paid Search"),
             lead(3, t(35, "11:00:00")), lead(4, t(55, "10:00:00"), country="unknown"),
             lead(5, t(62, "10:00:00")), lead(6, t(69, "10:00:00"))]
    mail = "2024-01 Nurture.Welcome Email"
    acts = [
        activity(1, 1001, t(2, "09:00:00"), 2, "FO - Contact Us", **{
            "Form Fields": '{"FirstName":"Ann","Email":"ann@example.com","Phone":"+1 555 0100"}',
            "Client IP Address": "203.0.113.5", "Webpage ID": 12}),
        activity(2, 1001, t(3, "10:00:00"), 6, mail, **{"Campaign Run ID": 88, "Step ID": 1}),
        activity(3, 1001, t(3, "10:00:05"), 7, mail),
        activity(4, 1001, t(4, "08:00:00"), 10, mail, **{"User Agent": "Mozilla/5.0", "Device": "Desktop"}),
        activity(5, 1001, t(5, "08:00:00"), 11, mail, Link="https://acme.example/pricing"),
        activity(6, 1002, t(19, "15:00:00"), 1, "acme.example/pricing", **{
            "Client IP Address": "198.51.100.7", "Query Parameters": "email=bob@example.com"}),
        activity(7, 1002, t(31, "09:00:00"), 10011, "Default Revenue Model",
                 **{"New Stage": "Marketing Qualified", "Old Stage": "Inquiry"}),
        activity(8, 1003, t(36, "12:00:00"), 104, "2024-02 Webinar",
                 **{"New Status": "Registered", "Old Status": "Invited", "Success": False}),
        activity(9, 1004, t(57, "12:00:00"), 10011, "Default Revenue Model",
                 **{"New Stage": "Disqualified", "Old Stage": "Inquiry"}),
        activity(10, 1005, t(62, "10:00:00"), 2, "FO - Contact Us"),
        activity(11, 1006, t(69, "10:05:00"), 10, "2024-03 Promo.March Offer"),
        activity(12, 1003, t(35, "11:00:00"), 12, "New Lead"),  # a type the connector does not ask for
    ]
    return FakeMarketo(leads=leads, activities=acts)


def change(fake: FakeMarketo, base: datetime = BASE) -> None:
    """Between two pulls: lead 1 edited, lead 5 deleted, lead 6 merged into lead 2, a new click."""
    t = stamps(base)
    fake.leads[0] = {**fake.leads[0], "company": "Acme Renamed", "updatedAt": t(79, "09:00:00")}
    fake.leads = [r for r in fake.leads if r["id"] not in (1005, 1006)]
    fake.activities = [a for a in fake.activities if a["leadId"] != 1005]
    for a in fake.activities:
        if a["leadId"] == 1006:  # Marketo moves the merged lead's history onto the survivor
            a["leadId"] = 1002
    fake.activities += [activity(13, 1002, t(81, "10:00:00"), 32, "Last2, First2", **{"Merge Ids": "[1006]"}),
                        activity(14, 1002, t(82, "10:00:00"), 11, "2024-03 Promo.March Offer")]
    fake.deleted.append({"id": 9001, "marketoGUID": "9001", "leadId": 1005, "activityDate": t(80, "10:00:00"),
                         "activityTypeId": 37, "primaryAttributeValueId": 1005,
                         "primaryAttributeValue": "Last5, First5", "attributes": []})


def workspace(tmp_path: Path, url: str, start: datetime = BASE) -> Workspace:
    ws = Workspace.init(tmp_path / "acme")
    ws.config_path.write_text(ws.config_path.read_text() + f'\n[connectors.marketo]\nbase_url = "{url}"\n'
                              f'start = "{start.date().isoformat()}"\npoll_seconds = 0\n')
    return Workspace.open(ws.root)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


def connector(ws: Workspace, sleeps: list[float] | None = None) -> MarketoConnector:
    waits = [] if sleeps is None else sleeps
    return MarketoConnector(settings_for(ws, "marketo"), policy=RetryPolicy(backoff_seconds=0, timeout_seconds=1),
                            sleep=waits.append, now=NOW)


def canonical(ws: Workspace, name: str, order: str) -> list[tuple[object, ...]]:
    salted = " EXCLUDE (email_hash)" if name == "leads" else ""  # each workspace has its own salt
    return duckdb.sql(f"SELECT *{salted} FROM read_parquet('{ws.root}/pulls/marketo/{name}.parquet') "
                      f"ORDER BY {order}").fetchall()


def test_pull_through_the_cli_loads_what_the_instance_holds_and_follows_edits_deletes_and_merges(
        tmp_path: Path, api: ApiServer) -> None:
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=100)
    fake = org(base).serve(api)
    ws = workspace(tmp_path, api.url, start=base)
    first = run_cli("pull", str(ws.root), "marketo", env=ENV)
    assert first.returncode == 0, first.stderr + first.stdout
    change(fake, base)
    second = run_cli("pull", str(ws.root), "marketo", env=ENV)
    assert second.returncode == 0, second.stderr + second.stdout
    assert "mkto-SECRET" not in first.stdout + first.stderr + second.stdout + second.stderr
    with ws.connect() as con:
        leads = con.execute("SELECT lead_id, created_at, source_raw, company, industry, country, employee_count, "
                            "email, email_hash IS NOT NULL FROM leads ORDER BY lead_id").fetchall()
        touches = con.execute("SELECT lead_id, occurred_at, channel, kind, actor, campaign, asset FROM touchpoints "
                              "ORDER BY occurred_at").fetchall()
        stages = con.execute("SELECT lead_id, stage, stage_raw, entered_at FROM stage_events "
                             "WHERE origin = 'marketo_stage_events'").fetchall()
    assert [r[0] for r in leads] == ["1001", "1002", "1003", "1004"]  # 1005 deleted, 1006 merged away
    day = base.replace(tzinfo=None)
    assert leads[0][1:] == (day + timedelta(days=2, hours=9), "Website", "Acme Renamed", None, "United States", 250, None, True)
    assert leads[3][5] is None  # "unknown" is a placeholder
    by_guid_order = [(t[0], t[3]) for t in touches]
    assert by_guid_order == [("1001", "form_fill"), ("1001", "email_send"), ("1001", "email_delivered"),
                             ("1001", "email_open"), ("1001", "email_click"), ("1002", "page_view"),
                             ("1003", "program_status"), ("1004", "revenue_stage"), ("1002", "email_open"),
                             ("1002", "email_click")]
    assert touches[1][2:] == ("email", "email_send", "automated", "2024-01 Nurture", "Welcome Email")
    assert touches[0][2:] == (None, "form_fill", "automated", None, "FO - Contact Us")
    assert touches[6][5:] == ("2024-02 Webinar", "Registered")
    assert stages == [("1002", "MQL", "Marketing Qualified", day + timedelta(days=31, hours=9))]
    raw = duckdb.sql(f"SELECT * FROM read_parquet('{ws.root}/pulls/marketo/*/*.parquet', union_by_name = true)")
    text = json.dumps(raw.fetchall(), default=str)
    for personal in ("First1", "Last5", "+1 555", "203.0.113.5", "ann@example.com", "bob@example.com", "Example.com"):
        assert personal not in text, personal


def test_in_body_errors_refresh_the_token_once_and_wait_out_rate_limits(tmp_path: Path, api: ApiServer,
                                                                         credentials: None) -> None:
    fake = org().serve(api)
    ws = workspace(tmp_path, api.url)
    api.fail("GET", r"types\.json", Reply.json({"requestId": "1#1", "success": False,
                                                   "errors": [{"code": "606", "message": "Max rate limit '100' exceeded "
                                                               "with in '20' secs"}]}), times=1)
    api.fail("POST", r"create\.json", Reply(429, b'{"error": "throttled"}', {"Retry-After": "3"}), times=1)
    api.fail("GET", r"status\.json", Reply(500, b"Internal Server Error"), times=1)
    api.fail("GET", r"file\.json", Reply(200, b"marketoGUID,leadId\n" + b"1,1001\n" * 50, truncate=True), times=1)
    api.fail("GET", r"deletedleads\.json", Reply(200, b"{}", delay=2.0), times=1)  # a timeout
    sleeps: list[float] = []
    conn = connector(ws, sleeps)
    report = pull(ws, "marketo", connector=conn, objects=["activities"])
    fake.expire_tokens()  # the next call answers 602: one new token, then it goes on
    again = pull(ws, "marketo", connector=conn, objects=["activities"])
    assert report.objects[0].stored == 11 and again.objects[0].stored == 0
    assert 20.0 in sleeps and 3.0 in sleeps  # the rate limit's window and the Retry-After asked for
    assert len(api.requests(r"/identity/oauth/token")) == 2
    api.fail("GET", r"types\.json|status\.json|create\.json", Reply.json(
        {"requestId": "1#2", "success": False, "errors": [{"code": "601", "message": "Access token invalid"}]}), times=9)
    conn.types = None
    with pytest.raises(PullError, match=r"^marketo activity types: the credentials were refused \(601"):
        pull(ws, "marketo", connector=conn, objects=["activities"], full=True)


def test_bad_credentials_end_the_cli_in_one_line_without_the_secret(tmp_path: Path, api: ApiServer) -> None:
    org().serve(api)
    ws = workspace(tmp_path, api.url)
    result = run_cli("pull", str(ws.root), "marketo", env={**ENV, "MARKETO_CLIENT_SECRET": "mkto-SECRET-wrong"})
    assert result.returncode != 0
    assert "marketo sign-in: the credentials were refused (401" in result.stderr + result.stdout
    assert "mkto-SECRET" not in result.stderr + result.stdout
    missing = run_cli("pull", str(ws.root), "marketo", env={**ENV, "MARKETO_CLIENT_ID": None})
    assert "connectors.marketo.client_id_env names the environment variable MARKETO_CLIENT_ID, which is not set" \
        in missing.stderr + missing.stdout


def test_a_crash_mid_pull_resumes_after_the_last_stored_window_without_duplicates(tmp_path: Path, api: ApiServer,
                                                                                   credentials: None) -> None:
    fake = org().serve(api)
    clean = workspace(tmp_path / "clean", api.url)
    crashed = workspace(tmp_path / "crashed", api.url)
    pull(clean, "marketo", connector=connector(clean))
    files = len(api.requests(r"activities/export/.*/file\.json"))
    assert files == 3  # January, February, March hold activities
    api.log.clear()
    fake_files = [0]

    def third_file_fails(req):  # type: ignore[no-untyped-def]
        fake_files[0] += 1
        return Reply(503, b"Service Unavailable") if fake_files[0] >= 3 else fake.file(req)

    api.routes.insert(0, ("GET", re.compile(r"activities/export/[^/]+/file\.json$"), third_file_fails))
    with pytest.raises(PullError, match=r"marketo activities 2024-03-\d\dT.*: file of job .*: HTTP 503 after 5 tries"):
        pull(crashed, "marketo", connector=connector(crashed))
    api.routes.pop(0)
    api.log.clear()
    resumed = pull(crashed, "marketo", connector=connector(crashed))
    first_window = api.requests(r"activities/export/create\.json")[0].json()["filter"]["createdAt"]
    assert first_window["startAt"] == "2024-02-27T11:55:00Z"  # February's last activity less 5 minutes
    assert resumed.objects[1].stored == 2  # March's two activities, nothing twice
    for name, order in (("leads", "lead_id"), ("touchpoints", "lead_id, occurred_at"), ("stage_events", "lead_id")):
        assert canonical(crashed, name, order) == canonical(clean, name, order)
