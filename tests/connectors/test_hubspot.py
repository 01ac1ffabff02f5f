"""The HubSpot connector against a fake HubSpot on 127.0.0.1 (real paths, bodies, paging and errors)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import duckdb
import pytest
from apiserver import ApiServer, Reply, Request
from fake_hubspot import TOKEN, FakeHubSpot, Record, email_event, ms, rate_limited
from hubspot_org import IMPORTED_AT, acme

from leadjourney.config import normalize_key
from leadjourney.connectors.http import RetryPolicy, session
from leadjourney.connectors.hubspot import HubSpotConnector
from leadjourney.connectors.hubspot.api import HubSpotApi
from leadjourney.connectors.pull import pull
from leadjourney.connectors.raw import email_hash
from leadjourney.errors import ConfigError, PullError
from leadjourney.workspace import SALT_KEY, Workspace

pytestmark = pytest.mark.servers  # real HTTP servers on 127.0.0.1: make test-integration

ENV = {"HUBSPOT_ACCESS_TOKEN": TOKEN}
NEVER_ASKED = ("firstname", "lastname", "phone", "address", "dealname", "hs_call_body", "hs_email_subject", "userAgent",
               "location")


Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli() -> Cli:
    """tests/conftest.py's run_cli."""
    from conftest import run_cli as top

    return cast(Cli, top)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def hubspot_ws(root: Path, url: str, extra: str = "") -> Workspace:
    ws = Workspace.init(root)
    ws.config_path.write_text(ws.config_path.read_text() + f'\n[connectors.hubspot]\nbase_url = "{url}"\n{extra}')
    return Workspace.open(ws.root)


def connector(url: str, page_size: int = 2, token: str = TOKEN, sleeps: Sleeps | None = None,
              timeout: float = 60.0) -> HubSpotConnector:
    policy = RetryPolicy(attempts=3, backoff_seconds=0.5, timeout_seconds=timeout)
    return HubSpotConnector(HubSpotApi(url, token, session(policy, sleep=Sleeps() if sleeps is None else sleeps)), page_size)


def rows(path: Path, drop: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    keep = [c for c in rel.columns if c not in drop]
    return sorted(duckdb.sql(f"SELECT {', '.join(keep)} FROM read_parquet('{path}')").fetchall(),
                  key=lambda r: tuple(str(v) for v in r))


def canonical(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every canonical file's rows, e-mail hashes left out (each workspace salts its own)."""
    return {p.stem: rows(p, ("email_hash",)) for p in sorted((ws.root / "pulls" / "hubspot").glob("*.parquet"))}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


# --- ground truth from the planted account ------------------------------------------------------------

def live_contacts(org: FakeHubSpot) -> dict[str, Record]:
    merged = {m for r in org.objects["contacts"].values() for m in (r.props.get("hs_merged_object_ids") or "").split(";")}
    return {i: r for i, r in org.objects["contacts"].items() if i not in org.hidden and i not in merged}


def expected_stage_events(ws: Workspace, org: FakeHubSpot) -> set[tuple[str, str, datetime]]:
    aliases = ws.config.stage_aliases()
    labels = {s["id"]: s["label"] for p in org.pipelines["contacts"] for s in p["stages"]}
    out = set()
    for cid, rec in live_contacts(org).items():
        for e in rec.history["lifecyclestage"]:
            spelled = labels[e["value"]] if e["value"].isdigit() else e["value"]
            out.add((cid, aliases.get(normalize_key(spelled), spelled), ts(e["timestamp"])))
    return out


def expected_touchpoints(org: FakeHubSpot) -> set[tuple[str, datetime, str]]:
    out = set()
    for kind, obj in (("call", "calls"), ("sales_email", "emails"), ("meeting", "meetings")):
        for rec in org.objects[obj].values():
            if rec.props.get("hs_email_direction") == "INCOMING_EMAIL" or rec.props.get("hs_meeting_outcome") == "CANCELED":
                continue
            when = rec.props.get("hs_meeting_start_time") or rec.props["hs_timestamp"]
            out |= {(c, ts(str(when)), kind) for c in rec.contacts}
    by_email = {str(r.props["email"]).lower(): i for i, r in live_contacts(org).items()}
    kinds = {"SENT": "email_send", "OPEN": "email_open", "CLICK": "email_click"}
    for e in org.email_events:
        who = by_email.get(e["recipient"])
        if who and e["type"] in kinds and not e["filteredEvent"]:
            out.add((who, datetime.fromtimestamp(e["created"] / 1000, UTC).replace(tzinfo=None), kinds[e["type"]]))
    for subs in org.submissions.values():
        for s in subs:
            who = by_email.get(s["values"][0]["value"].strip().lower())
            if who:
                out.add((who, datetime.fromtimestamp(s["submittedAt"] / 1000, UTC).replace(tzinfo=None), "form_fill"))
    return out


# --- end to end through the CLI -----------------------------------------------------------------------

def test_pull_through_the_cli_loads_what_the_account_holds(tmp_path: Path, api: ApiServer, run_cli: Cli) -> None:
    org = acme()
    org.serve(api)
    ws = hubspot_ws(tmp_path / "acme", api.url)
    done = run_cli("pull", str(ws.root), "hubspot", env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    assert TOKEN not in done.stdout + done.stderr
    ws = Workspace.open(ws.root)
    salt = ws.meta(SALT_KEY) or ""
    with ws.connect() as con:
        leads = {r[0]: r[1:] for r in con.execute(
            "SELECT lead_id, source, employee_count, industry, country, current_stage, status, email, email_hash "
            "FROM leads").fetchall()}
        events = set(con.execute("SELECT lead_id, stage, entered_at FROM stage_events "
                                 "WHERE origin = 'hubspot_stage_events'").fetchall())
        touches = {(r[0], r[1], r[2]): r[3] for r in con.execute(
            "SELECT lead_id, occurred_at, kind, actor FROM touchpoints").fetchall()}
        deals = {r[0]: r[1:] for r in con.execute(
            "SELECT opportunity_id, lead_id, amount, is_won, closed_at, stage, currency FROM opportunities").fetchall()}
    planted = live_contacts(org)
    assert set(leads) == set(planted)  # 107 deleted between search and read; names never pulled
    channels = ws.config.channel_aliases()
    for cid, rec in planted.items():
        source, *_, email, hashed = leads[cid]
        assert source == channels[normalize_key(str(rec.props["hs_analytics_source"]))]  # every HubSpot source maps
        assert email is None and hashed == email_hash(str(rec.props["email"]), salt)
    assert [leads[c][1] for c in ("101", "102", "103", "104")] == [25, 1000, 250, None]  # "25-50", "1000+"
    assert leads["103"][2:4] == (None, None)  # "Unknown", "n/a": placeholders
    assert (leads["101"][4], leads["102"][4], leads["103"][4]) == ("Customer", "MQL", "SQL")
    assert (leads["104"][5], leads["101"][5]) == ("disqualified", "open")
    assert events == expected_stage_events(ws, org)
    assert {("101", s) for s in ("Lead", "MQL", "SQL", "Opportunity", "Customer")} <= {(e[0], e[1]) for e in events}
    assert set(touches) == expected_touchpoints(org)
    assert {k: a for (_, _, k), a in touches.items()} == {
        "call": "human", "sales_email": "human", "meeting": "human", "form_fill": "automated",
        "email_send": "automated", "email_open": "automated", "email_click": "automated"}
    with ws.connect() as con:
        assert con.execute("SELECT DISTINCT channel, campaign FROM touchpoints WHERE kind LIKE 'email_%'").fetchall() \
            == [("email", "January newsletter")]
    assert deals == {
        "901": ("101", 12000.5, True, ts("2024-02-20T10:05:00Z"), "Closed Won", "EUR"),
        "902": ("102", 5000.0, None, None, "Appointment Scheduled", "EUR"),  # open: no close date, no outcome
        "903": ("103", None, False, ts("2024-01-30T09:00:00Z"), "Partner Lost", "EUR"),
        "904": (None, 800.0, False, ts("2024-01-18T09:00:00Z"), "Closed Lost", "EUR"),
        # closed without a close date or a won flag: when it entered the stage, won by the stage's probability
        "906": ("108", 2500.0, True, ts("2024-02-10T09:00:00Z"), "Partner Won", "EUR"),
    }
    asked = b" ".join(r.body for r in api.log)
    assert not [w for w in NEVER_ASKED if w.encode() in asked]
    raw = {c for p in (ws.root / "pulls" / "hubspot").glob("*/*.parquet") for c in duckdb.sql(
        f"SELECT * FROM read_parquet('{p}')").columns}
    assert not {c for c in raw if c.split(".")[0] in NEVER_ASKED} and "email" in raw
    stored = b"".join(p.read_bytes() for p in (ws.root / "pulls").rglob("*.parquet"))
    assert b"ben@example.org" not in stored and b"Ben" not in stored


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_the_next_pull_fetches_only_changes_and_follows_a_merge(tmp_path: Path, api: ApiServer, run_cli: Cli) -> None:
    org = acme()
    org.serve(api)
    ws = hubspot_ws(tmp_path / "acme", api.url)
    assert run_cli("pull", str(ws.root), "hubspot", "--no-ingest", env=ENV).returncode == 0
    first = len(api.log)
    again = run_cli("pull", str(ws.root), "hubspot", "--no-ingest", env=ENV)
    assert again.returncode == 0
    searches = [r.json() for r in api.log[first:] if r.path == "/crm/v3/objects/contacts/search"]
    mark = ms("2024-02-20T10:00:00Z") - 5 * 60_000  # the high-water mark less the 5-minute overlap
    assert searches[0]["filterGroups"][0]["filters"][0] == {"propertyName": "lastmodifieddate", "operator": "GTE",
                                                            "value": str(mark)}
    pulled = json.loads((ws.root / "pulls" / "hubspot" / "manifest.json").read_text())["objects"]
    assert pulled["contacts"]["rows"] == 8  # 7 contacts and the deletion of 099: nothing stored twice
    # in HubSpot: 106 merged into 102, which then moves to SQL; a new contact; 104's lead status changes
    ben, dev = org.objects["contacts"]["102"], org.objects["contacts"]["104"]
    ben.props.update(hs_merged_object_ids="106", lifecyclestage="salesqualifiedlead",
                     lastmodifieddate="2024-03-01T09:00:00.000Z")
    ben.history["lifecyclestage"].insert(0, {"value": "salesqualifiedlead", "timestamp": "2024-03-01T09:00:00.000Z"})
    del org.objects["contacts"]["106"]
    org.delete("contacts", "105", "2024-03-04T09:00:00.000Z")  # someone deletes 105 in HubSpot
    dev.props.update(hs_lead_status="IN_PROGRESS", lastmodifieddate="2024-03-02T09:00:00.000Z")
    org.add("contacts", Record("109", {**org.objects["contacts"]["108"].props, "email": "hal@example.com",
                                       "createdate": "2024-03-03T09:00:00.000Z",
                                       "lastmodifieddate": "2024-03-03T09:00:00.000Z"},
                               {"lifecyclestage": [{"value": "lead", "timestamp": "2024-03-03T09:00:00.000Z"}]}))
    third = run_cli("pull", str(ws.root), "hubspot", "--object", "contacts", env=ENV)
    assert third.returncode == 0, third.stdout + third.stderr
    ws = Workspace.open(ws.root)
    with ws.connect() as con:
        leads = dict(con.execute("SELECT lead_id, status FROM leads").fetchall())
        stages = set(con.execute("SELECT stage FROM stage_events WHERE lead_id = '102'").fetchall())
        fills = con.execute("SELECT lead_id, occurred_at FROM touchpoints WHERE kind = 'form_fill' "
                            "AND occurred_at = '2024-01-26 10:00:00'").fetchall()
    assert set(leads) == set(live_contacts(org)) == {"101", "102", "103", "104", "108", "109"}
    assert leads["104"] == "open" and ("SQL",) in stages
    assert fills == [("102", ts("2024-01-26T10:00:00Z"))]  # 106's form fill now belongs to 102, which 106 became


def test_dry_run_counts_what_a_pull_would_fetch(tmp_path: Path, api: ApiServer, run_cli: Cli) -> None:
    org = acme()
    org.serve(api)
    ws = hubspot_ws(tmp_path / "acme", api.url, 'start = "2024-01-09"\n')
    report = pull(ws, "hubspot", dry_run=True, connector=connector(api.url))
    counts = {o.name: o.count for o in report.objects}
    since = ms("2024-01-09T00:00:00Z")
    for obj in ("contacts", "deals", "calls", "emails", "meetings"):
        cursor = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        assert counts[obj] == sum(ms(str(r.props[cursor])) >= since for r in org.objects[obj].values())
    assert counts["form_submissions"] is None and counts["email_events"] is None
    shown = run_cli("pull", str(ws.root), "hubspot", "--dry-run", env=ENV)
    assert shown.returncode == 0 and "Dry run: nothing was fetched or changed." in shown.stdout
    assert re.search(rf"contacts\s+│\s+2024-01-09\s+│\s+{counts['contacts']}\s", shown.stdout), shown.stdout
    assert not (ws.root / "pulls").exists()


# --- faults --------------------------------------------------------------------------------------------

def test_throttling_errors_timeouts_and_a_cut_page_are_retried_to_the_same_result(tmp_path: Path,
                                                                                   api: ApiServer) -> None:
    org = acme()
    org.serve(api)
    clean = hubspot_ws(tmp_path / "clean", api.url)
    pull(clean, "hubspot", connector=connector(api.url))
    api.fail("POST", r"/contacts/search$", rate_limited("3"), times=1)
    api.fail("POST", r"/contacts/batch/read$", rate_limited(None), times=1)  # HubSpot often omits Retry-After
    api.fail("POST", r"/crm/v4/associations/deals/contacts/batch/read$",
             Reply.json({"status": "error", "message": "internal error", "category": "INTERNAL_ERROR"}, 500), times=1)
    api.fail("GET", r"/crm/v3/pipelines/deals$", Reply(200, b"{}", delay=1.0), times=1)
    page = org.search(Request("POST", "/crm/v3/objects/calls/search", {}, {}, json.dumps(
        {"sorts": [{"propertyName": "hs_lastmodifieddate"}], "limit": 2, "properties": []}).encode()))
    api.fail("POST", r"/calls/search$", Reply(200, page.body, page.headers, truncate=True), times=1)
    sleeps = Sleeps()
    ws = hubspot_ws(tmp_path / "acme", api.url)
    pull(ws, "hubspot", connector=connector(api.url, sleeps=sleeps, timeout=0.5))
    assert canonical(ws) == canonical(clean)
    assert sleeps.count(3.0) == 1  # Retry-After honoured
    assert len(sleeps) == 5


def test_refused_credentials_are_one_line_without_the_token(tmp_path: Path, api: ApiServer, run_cli: Cli) -> None:
    acme().serve(api)
    ws = hubspot_ws(tmp_path / "acme", api.url)
    wrong = "pat-na1-99999999-0000-0000-0000-000000000000"
    done = run_cli("pull", str(ws.root), "hubspot", env={"HUBSPOT_ACCESS_TOKEN": wrong})
    assert done.returncode != 0
    assert done.stderr.strip().startswith("error: hubspot deals pipelines: the credentials were refused (401: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert wrong not in done.stdout + done.stderr
    assert [r.headers["Authorization"] for r in api.log] == [f"Bearer {wrong}"]  # not retried
    unset = run_cli("pull", str(ws.root), "hubspot", env={"HUBSPOT_ACCESS_TOKEN": None})
    assert "connectors.hubspot.access_token_env names the environment variable HUBSPOT_ACCESS_TOKEN" in unset.stderr


def test_a_crash_mid_pull_resumes_after_the_last_kept_page(tmp_path: Path, api: ApiServer) -> None:
    org = acme()
    org.serve(api)
    clean = hubspot_ws(tmp_path / "clean", api.url)
    pull(clean, "hubspot", connector=connector(api.url))
    served = {"n": 0}
    search = org._authorized(org.search)

    def third_page_down(req: Request) -> Reply:
        served["n"] += 1
        return Reply.json({"status": "error", "message": "Service unavailable", "category": "SERVICE_UNAVAILABLE"},
                          503) if served["n"] >= 3 else search(req)

    api.routes.insert(0, ("POST", re.compile(r"^/crm/v3/objects/contacts/search$"), third_page_down))
    ws = hubspot_ws(tmp_path / "acme", api.url)
    with pytest.raises(PullError, match=r"^hubspot contacts page 3: HTTP 503 after 3 tries"):
        pull(ws, "hubspot", connector=connector(api.url))
    kept = json.loads((ws.root / "pulls" / "hubspot" / "manifest.json").read_text())["objects"]["contacts"]
    assert (len(kept["parts"]), kept["high_water"]) == (2, "2024-01-20T07:00:00.000Z")
    api.routes.pop(0)
    before = len(api.log)
    pull(ws, "hubspot", connector=connector(api.url))
    resumed = next(r.json() for r in api.log[before:] if r.path == "/crm/v3/objects/contacts/search")
    assert resumed["filterGroups"][0]["filters"][0]["value"] == str(ms("2024-01-20T07:00:00Z") - 5 * 60_000)
    assert canonical(ws) == canonical(clean)
    leads = rows(ws.root / "pulls" / "hubspot" / "leads.parquet")
    assert len(leads) == len({r[0] for r in leads}) == len(live_contacts(org))


# --- the search API's limits -----------------------------------------------------------------------------

def _bulk(org: FakeHubSpot, n: int, when: str | None = None) -> None:
    for i in range(n):
        at = when or f"2024-02-{i + 1:02d}T10:00:00.000Z"
        org.add("contacts", Record(str(500 + i), {"email": f"p{i}@example.com", "createdate": at,
                                                  "lastmodifieddate": at}, {"lifecyclestage": []}))


def test_the_search_window_moves_so_the_result_cap_is_never_reached(api: ApiServer) -> None:
    org = FakeHubSpot(search_cap=4)
    _bulk(org, 9)
    org.serve(api)
    got = [r["id"] for page in connector(api.url).pages(connector(api.url).objects[1], None) for r in page]
    assert got == [str(500 + i) for i in range(9)]
    assert all("after" not in r.json() for r in api.requests("/search$"))


def test_records_modified_at_one_instant_are_paged_with_after_each_once(api: ApiServer) -> None:
    org = acme()
    org.serve(api)
    hub = connector(api.url)
    got = [r["id"] for page in hub.pages(hub.objects[1], "2024-01-20") for r in page]
    assert got == ["104", "105", "106", "108", "101"]  # 105-107 imported at one instant; 107 deleted since
    instant = [r.json() for r in api.requests("/contacts/search$") if r.json()["filterGroups"][0]["filters"][0]
               == {"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(ms(IMPORTED_AT))}]
    assert [b.get("after") for b in instant] == [None, "2"]
    org.search_cap = hub.api.search_cap = 4
    _bulk(org, 5, "2024-02-01T10:00:00.000Z")
    with pytest.raises(PullError, match=r"more than 4 records were modified at 2024-02-01T10:00:00.000Z"):
        list(hub.pages(hub.objects[1], "2024-02-01"))


def test_unknown_options_unset_tokens_and_bad_urls_are_named(tmp_path: Path, api: ApiServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from leadjourney.connectors.pull import connect, settings_for

    ws = hubspot_ws(tmp_path / "a", api.url, 'acess_token_env = "X"\n')
    with pytest.raises(ConfigError, match=r"connectors.hubspot.acess_token_env: unknown option"):
        connect("hubspot", settings_for(ws, "hubspot"))
    ws = hubspot_ws(tmp_path / "b", "api.hubapi.com", 'access_token_env = "HS_TOKEN"\n')
    monkeypatch.delenv("HS_TOKEN", raising=False)
    with pytest.raises(ConfigError, match=r"connectors.hubspot.access_token_env names the environment variable HS_"):
        connect("hubspot", settings_for(ws, "hubspot"))
    monkeypatch.setenv("HS_TOKEN", TOKEN)
    with pytest.raises(ConfigError, match=r"connectors.hubspot.base_url: expected an http\(s\) URL"):
        connect("hubspot", settings_for(ws, "hubspot"))


def test_a_busy_stretch_of_email_events_is_read_in_smaller_windows_oldest_first(api: ApiServer) -> None:
    org = FakeHubSpot()
    org.campaigns["7"] = {"id": 7, "name": "Spring launch"}
    org.email_events = [email_event(f"e{i:02d}", ("SENT", "DELIVERED", "OPEN")[i % 3],
                                    f"2024-03-{i % 28 + 1:02d}T{i % 24:02d}:00:00.000Z", f"p{i}@example.com", 7)
                        for i in range(60)]
    org.serve(api)
    hub = connector(api.url)
    hub.api.events_held = 10
    pages = list(hub.pages(hub.objects[-1], "2024-03-02"))
    got = [r for page in pages for r in page]
    kept = [e for e in org.email_events if e["type"] != "DELIVERED" and e["created"] >= ms("2024-03-02T00:00:00Z")]
    assert sorted(r["id"] for r in got) == sorted(e["id"] for e in kept)  # each once; DELIVERED not kept
    assert [r["created"] for r in got] == sorted(r["created"] for r in got)
    assert max(len(p) for p in pages) <= 10 and len(api.requests("/campaigns/7$")) == 1
    assert {r["campaign"] for r in got} == {"Spring launch"}


def test_a_contact_edited_between_the_search_and_the_batch_read_is_read_again(tmp_path: Path, api: ApiServer) -> None:
    org = acme()
    org.serve(api)
    read = org._authorized(org.batch_read)

    def edit_then_read(req: Request) -> Reply:
        ben = org.objects["contacts"]["102"]
        if ben.props["lastmodifieddate"] != "2024-03-05T09:00:00.000Z":  # a rep moves Ben on meanwhile
            ben.props.update(lifecyclestage="salesqualifiedlead", lastmodifieddate="2024-03-05T09:00:00.000Z")
            ben.history["lifecyclestage"].insert(0, {"value": "salesqualifiedlead",
                                                     "timestamp": "2024-03-05T09:00:00.000Z"})
        return read(req)

    api.routes.insert(0, ("POST", re.compile(r"^/crm/v3/objects/contacts/batch/read$"), edit_then_read))
    ws = hubspot_ws(tmp_path / "acme", api.url)
    manifest = ws.root / "pulls" / "hubspot" / "manifest.json"
    marks: list[str] = []

    def progress(text: str, done: int, total: int) -> None:
        if text.startswith("pulling hubspot contacts:"):
            marks.append(json.loads(manifest.read_text())["objects"]["contacts"]["high_water"])

    first = pull(ws, "hubspot", objects=["contacts"], connector=connector(api.url), progress=progress)
    assert set(first.tables) == {"leads", "stage_events"}  # contacts alone make both (labels read with them)
    # after the first page (102 and 103 as the search saw them) the mark is 103's, not Ben's newer edit:
    # a crash there resumes before 104, not after March
    assert marks[0] == "2024-01-15T16:00:00.000Z"
    assert (first.objects[0].fetched, first.objects[0].high_water) == (9, "2024-03-05T09:00:00.000Z")  # Ben twice, 099 deleted
    assert pull(ws, "hubspot", objects=["contacts"], connector=connector(api.url)).objects[0].stored == 0
    events = rows(ws.root / "pulls" / "hubspot" / "stage_events.parquet")
    assert ("102", "salesqualifiedlead", "2024-03-05T09:00:00.000Z") in events
