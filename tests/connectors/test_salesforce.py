"""The Salesforce connector against a fake org on 127.0.0.1: login, SOQL paging, Bulk API 2.0, faults, mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from apiserver import ApiServer, Reply
from fake_salesforce import CLIENT_ID, CLIENT_SECRET, PERSONAL, FakeOrg, error

from conftest import run_cli
from leadjourney.connectors.base import Row
from leadjourney.connectors.http import RetryPolicy
from leadjourney.connectors.pull import pull
from leadjourney.connectors.salesforce import SalesforceConnector, connect
from leadjourney.errors import PullError
from leadjourney.workspace import Workspace

pytestmark = pytest.mark.servers  # real HTTP servers on 127.0.0.1: make test-integration

ENV = {"SF_CLIENT_ID": CLIENT_ID, "SF_CLIENT_SECRET": CLIENT_SECRET}


def ts(day: str, time: str = "09:00:00") -> str:
    return f"2024-{day}T{time}.000+0000"


def lead(n: int, created: str, status: str, modstamp: str, **more: Any) -> dict[str, Any]:
    return {"Id": f"00Qxx00000{n:05d}", "IsDeleted": False, "MasterRecordId": None, "FirstName": "Ana",
            "LastName": f"Person{n}", "Name": f"Ana Person{n}", "Phone": "+1 415 555 0100", "Street": "1 Main St",
            "Email": f"Ana.Person{n}@Example.com", "Company": f"Company {n}", "Title": "VP Marketing",
            "Industry": "Software", "NumberOfEmployees": 250, "Country": "US", "LeadSource": "Web", "Status": status,
            "OwnerId": "005xx000001Sv6A", "Owner.Name": "Kim Rep", "IsConverted": False, "ConvertedContactId": None,
            "ConvertedOpportunityId": None, "ConvertedAccountId": None, "ConvertedDate": None,
            "CreatedDate": ts(created), "SystemModstamp": ts(modstamp), **more}


L1, L2, L3, L4, L5 = (f"00Qxx00000{n:05d}" for n in range(1, 6))
C1, C4, C9 = "003xx0000000001", "003xx0000000004", "003xx0000000009"
O1, O2, O3 = "006xx0000000001", "006xx0000000002", "006xx0000000003"


def history(n: int, lead_id: str, when: str, old: str | None, new: str, field: str = "Status") -> dict[str, Any]:
    return {"Id": f"017xx{n:010d}", "IsDeleted": False, "LeadId": lead_id, "Field": field, "DataType": "Text",
            "OldValue": old, "NewValue": new, "CreatedById": "005xx000001Sv6A", "CreatedDate": when}


def org_records() -> dict[str, list[dict[str, Any]]]:
    """The fake org's records: the ground truth the tests check the workspace against."""
    return {
        "Lead": [
            lead(1, "03-01", "Closed - Converted", "04-10", IsConverted=True, ConvertedContactId=C1,
                 ConvertedOpportunityId=O1, ConvertedDate="2024-03-20"),
            lead(2, "03-02", "Marketing Qualified", "03-05", LeadSource="PPC", Company="[not provided]"),
            lead(3, "03-03", "Open - Not Contacted", "03-03", Email="ana.person2@example.com"),
            lead(4, "03-04", "Closed - Converted", "03-25", IsConverted=True, ConvertedContactId=C4,
                 LeadSource="Trade Show"),
            lead(5, "03-05", "Unqualified", "03-06", **{"Owner.Name": None, "OwnerId": None}),
            lead(6, "03-06", "Open - Not Contacted", "03-06", NumberOfEmployees=None),
            lead(7, "03-07", "Open - Not Contacted", "03-07"),
        ],
        "LeadHistory": [
            history(1, L1, ts("03-02"), "Open - Not Contacted", "Working - Contacted"),
            history(2, L1, ts("03-04"), "Working - Contacted", "Marketing Qualified"),
            history(3, L1, ts("03-08"), "Marketing Qualified", "Sales Accepted Lead"),
            history(4, L1, ts("03-20"), "Sales Accepted Lead", "Closed - Converted"),
            history(5, L1, ts("03-02", "10:00:00"), "Kim Rep", "Lee Rep", field="Owner"),
            history(6, L2, ts("03-05"), "Open - Not Contacted", "Marketing Qualified"),
            history(7, L5, ts("03-06"), "Open - Not Contacted", "Unqualified"),
        ],
        "Contact": [
            {"Id": c, "IsDeleted": False, "MasterRecordId": None, "AccountId": "001xx0000000001", "FirstName": "Ana",
             "LastName": "X", "Name": "Ana X", "Phone": "555", "MailingStreet": "1 Main", "Email": f"{c}@example.com",
             "LeadSource": "Web", "OwnerId": "005xx000001Sv6A", "CreatedDate": ts("03-20"), "SystemModstamp": ts("03-20")}
            for c in (C1, C4, C9)
        ],
        "Opportunity": [
            {"Id": O1, "IsDeleted": False, "AccountId": "001xx0000000001", "Name": "Company 1 - 120 seats",
             "StageName": "Closed Won", "Amount": 48000.0, "CloseDate": "2024-04-20", "IsClosed": True, "IsWon": True,
             "LeadSource": "Web", "CampaignId": None, "OwnerId": "005xx000001Sv6A", "CurrencyIsoCode": "EUR",
             "CreatedDate": ts("03-20"), "SystemModstamp": ts("04-20")},
            {"Id": O2, "IsDeleted": False, "AccountId": "001xx0000000004", "Name": "Company 4 - pilot",
             "StageName": "Closed Lost", "Amount": 12000.0, "CloseDate": "2024-05-01", "IsClosed": True,
             "IsWon": False, "LeadSource": None, "CampaignId": None, "OwnerId": "005xx000001Sv6A",
             "CurrencyIsoCode": "USD", "CreatedDate": ts("04-05"), "SystemModstamp": ts("05-01")},
            {"Id": O3, "IsDeleted": False, "AccountId": "001xx0000000009", "Name": "Walk-in", "StageName": "Qualification",
             "Amount": None, "CloseDate": "2024-09-30", "IsClosed": False, "IsWon": False, "LeadSource": None,
             "CampaignId": None, "OwnerId": "005xx000001Sv6A", "CurrencyIsoCode": "USD",
             "CreatedDate": ts("04-07"), "SystemModstamp": ts("04-07")},
        ],
        "OpportunityHistory": [
            {"Id": f"008xx000000000{i}", "IsDeleted": False, "OpportunityId": o, "StageName": s, "Amount": None,
             "CloseDate": None, "CreatedDate": ts(d), "SystemModstamp": ts(d)}
            for i, (o, s, d) in enumerate([(O1, "Prospecting", "03-20"), (O1, "Proposal/Price Quote", "04-01"),
                                           (O1, "Closed Won", "04-20"), (O2, "Prospecting", "04-05"),
                                           (O2, "Closed Lost", "05-01")])
        ],
        "OpportunityContactRole": [
            {"Id": "00Kxx0000000001", "IsDeleted": False, "OpportunityId": O2, "ContactId": C4, "Role": "Decision Maker",
             "IsPrimary": True, "CreatedDate": ts("04-05"), "SystemModstamp": ts("04-05")},
            {"Id": "00Kxx0000000002", "IsDeleted": False, "OpportunityId": O3, "ContactId": C9, "Role": None,
             "IsPrimary": False, "CreatedDate": ts("04-07"), "SystemModstamp": ts("04-07")},
        ],
        "Task": [
            {"Id": "00Txx0000000001", "IsDeleted": False, "WhoId": L2, "WhatId": None, "Subject": "Call Ana Person2",
             "ActivityDate": "2024-03-06", "Status": "Completed", "OwnerId": "005xx000001Sv6A", "Description": "x",
             "Type": "Call", "TaskSubtype": "Call", "CreatedDate": ts("03-06"), "SystemModstamp": ts("03-06")},
            {"Id": "00Txx0000000002", "IsDeleted": False, "WhoId": C1, "WhatId": O1, "Subject": "Email: pricing",
             "ActivityDate": "2024-04-02", "Status": "Completed", "OwnerId": "005xx000001Sv6A", "Description": None,
             "Type": None, "TaskSubtype": "Email", "CreatedDate": ts("04-02"), "SystemModstamp": ts("04-02")},
            {"Id": "00Txx0000000003", "IsDeleted": False, "WhoId": C9, "WhatId": None, "Subject": "Call",
             "ActivityDate": None, "Status": "Open", "OwnerId": "005xx000001Sv6A", "Description": None,
             "Type": "Call", "TaskSubtype": "Call", "CreatedDate": ts("04-03"), "SystemModstamp": ts("04-03")},
        ],
        "Event": [
            {"Id": "00Uxx0000000001", "IsDeleted": False, "WhoId": L1, "WhatId": None, "Subject": "Demo with Ana",
             "Location": "Zoom", "ActivityDateTime": ts("03-15", "15:00:00"), "ActivityDate": "2024-03-15",
             "Type": "Product Demo", "EventSubtype": "Event", "OwnerId": "005xx000001Sv6A",
             "CreatedDate": ts("03-10"), "SystemModstamp": ts("03-10")},
        ],
        "Campaign": [
            {"Id": "701xx0000000001", "IsDeleted": False, "Name": "Spring Webinar 2024", "Type": "Webinar",
             "Status": "Completed", "StartDate": "2024-03-02", "CreatedDate": ts("02-01"), "SystemModstamp": ts("02-01")},
            {"Id": "701xx0000000002", "IsDeleted": False, "Name": "SaaStr booth", "Type": "Trade Show",
             "Status": "Completed", "StartDate": "2024-03-04", "CreatedDate": ts("02-02"), "SystemModstamp": ts("02-02")},
        ],
        "CampaignMember": [
            {"Id": "00vxx0000000001", "IsDeleted": False, "CampaignId": "701xx0000000001", "LeadId": L1,
             "ContactId": C1, "Status": "Responded", "HasResponded": True, "FirstRespondedDate": "2024-03-02",
             "FirstName": "Ana", "LastName": "Person1", "Email": "ana.person1@example.com",
             "CreatedDate": ts("02-28"), "SystemModstamp": ts("03-20")},
            {"Id": "00vxx0000000002", "IsDeleted": False, "CampaignId": "701xx0000000002", "LeadId": L4,
             "ContactId": None, "Status": "Sent", "HasResponded": False, "FirstRespondedDate": None,
             "FirstName": "Ana", "LastName": "Person4", "Email": "ana.person4@example.com",
             "CreatedDate": ts("03-04"), "SystemModstamp": ts("03-04")},
        ],
    }


def configure(ws: Workspace, url: str, **options: Any) -> None:
    lines = ["[connectors.salesforce]", f'login_url = "{url}"', 'client_id_env = "SF_CLIENT_ID"',
             'client_secret_env = "SF_CLIENT_SECRET"', "page_size = 2", "bulk_poll_seconds = 0"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in options.items()]
    ws.config_path.write_text(ws.config_path.read_text() + "\n" + "\n".join(lines) + "\n")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def workspace(tmp_path: Path, api: ApiServer) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path / "acme")
    configure(ws, api.url)
    yield Workspace.open(ws.root)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connector(ws: Workspace, sleeps: Sleeps | None = None, **policy: Any) -> SalesforceConnector:
    from leadjourney.connectors.pull import settings_for

    return connect(settings_for(ws, "salesforce"), sleep=sleeps if sleeps is not None else Sleeps(),
                   policy=RetryPolicy(**{"backoff_seconds": 0.01, **policy}))


def canonical(ws: Workspace, name: str) -> list[tuple[Any, ...]]:
    """A canonical file's rows (e-mail hashes left out: each workspace has its own salt)."""
    path = ws.root / "pulls" / "salesforce" / f"{name}.parquet"
    con = duckdb.connect()
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
    rest = " EXCLUDE (email_hash)" if "email_hash" in columns else ""
    return sorted(con.execute(f"SELECT *{rest} FROM read_parquet('{path}')").fetchall(), key=repr)


def all_canonical(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    names = ("leads", "lead_stages", "opportunity_stages", "opportunities", "activities", "campaign_touches")
    return {n: canonical(ws, n) for n in names}


def test_pull_end_to_end_loads_what_the_org_holds(workspace: Workspace, api: ApiServer, env: None) -> None:
    org = FakeOrg(api, org_records())
    dry = run_cli("pull", str(workspace.root), "salesforce", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Lead " in dry.stdout and "7" in dry.stdout and not (workspace.root / "pulls").exists()
    done = run_cli("pull", str(workspace.root), "salesforce")
    assert done.returncode == 0, done.stdout + done.stderr
    asked = {(q.split(" FROM ")[1].split()[0], f.strip()) for q in org.soql
             for f in q.split(" FROM ")[0].removeprefix("SELECT ").split(",")}
    assert ("Lead", "Email") in asked and ("Lead", "Owner.Name") in asked and ("Campaign", "Name") in asked
    assert not {(o, f) for o, f in asked if o != "Campaign" and f in PERSONAL}  # no names, phones, addresses
    assert ("Opportunity", "CurrencyIsoCode") not in asked  # a single-currency org has no such field
    with Workspace.open(workspace.root).connect() as con:
        leads = con.execute("SELECT lead_id, source, company, employee_count, owner, status, current_stage, "
                            "email, email_hash IS NOT NULL FROM leads ORDER BY lead_id").fetchall()
        stages = con.execute("SELECT lead_id, stage, stage_raw, strftime(entered_at, '%Y-%m-%d') FROM stage_events "
                             "WHERE origin NOT LIKE 'derived%' ORDER BY ALL").fetchall()
        touches = con.execute("SELECT lead_id, strftime(occurred_at, '%Y-%m-%d'), channel, kind, actor, campaign "
                              "FROM touchpoints ORDER BY ALL").fetchall()
        opps = con.execute("SELECT opportunity_id, lead_id, strftime(created_at, '%Y-%m-%d'), "
                           "strftime(closed_at, '%Y-%m-%d'), amount, is_won, stage FROM opportunities "
                           "ORDER BY opportunity_id").fetchall()
    assert [r[0] for r in leads] == [L1, L2, L3, L4, L5, "00Qxx0000000006", "00Qxx0000000007"]
    by_id = {r[0]: r for r in leads}
    assert by_id[L1][5:7] == ("converted", None) and by_id[L2][5:7] == ("open", "MQL")
    assert by_id[L2][1:3] == ("paid_search", None)  # "[not provided]" is a placeholder
    assert by_id[L5][4] is None and by_id[L5][5] == "disqualified" and by_id[L1][4] == "Kim Rep"
    assert by_id["00Qxx0000000006"][3] is None and by_id[L1][3] == 250
    assert all(r[7] is None and r[8] for r in leads)  # e-mails only as the salted hash
    assert stages == sorted([  # the first stage at creation, written by the pull (stage_raw: its name)
        (L1, "Lead", "Lead", "2024-03-01"), (L1, "MQL", "Marketing Qualified", "2024-03-04"),
        (L1, "SQL", "Sales Accepted Lead", "2024-03-08"),
        (L1, "Opportunity", "Opportunity", "2024-03-20"), (L1, "Customer", "Customer", "2024-04-20"),
        (L2, "Lead", "Lead", "2024-03-02"), (L2, "MQL", "Marketing Qualified", "2024-03-05"), (L3, "Lead", "Lead", "2024-03-03"),
        (L4, "Lead", "Lead", "2024-03-04"), (L4, "Opportunity", "Opportunity", "2024-04-05"),
        (L5, "Lead", "Lead", "2024-03-05"), ("00Qxx0000000006", "Lead", "Lead", "2024-03-06"),
        ("00Qxx0000000007", "Lead", "Lead", "2024-03-07")])
    assert touches == [
        (L1, "2024-03-02", "events", "webinar", "automated", "Spring Webinar 2024"),
        (L1, "2024-03-15", None, "demo", "human", None),
        (L1, "2024-04-02", None, "sales_email", "human", None),
        (L2, "2024-03-06", None, "call", "human", None),
        (L4, "2024-03-04", "events", "trade_show", "automated", "SaaStr booth"),
    ]
    assert opps == [(O1, L1, "2024-03-20", "2024-04-20", 48000.0, True, "Closed Won"),
                    (O2, L4, "2024-04-05", "2024-05-01", 12000.0, False, "Closed Lost"),
                    (O3, None, "2024-04-07", None, None, None, "Qualification")]


def test_stage_raw_keeps_the_orgs_spelling(workspace: Workspace, api: ApiServer, env: None) -> None:
    FakeOrg(api, org_records())
    pull(workspace, "salesforce", connector=connector(workspace))
    rows = canonical(workspace, "lead_stages")
    assert (L1, "Sales Accepted Lead", "2024-03-08T09:00:00.000+0000") in rows  # an SQL alias
    assert not any(r[1] is None for r in rows)  # "Working - Contacted" and "Unqualified" are not stages


def test_faults_are_retried_and_the_rows_equal_a_clean_pull(tmp_path: Path, api: ApiServer, env: None) -> None:
    FakeOrg(api, org_records())
    clean = Workspace.init(tmp_path / "clean")
    configure(clean, api.url)
    clean = Workspace.open(clean.root)
    pull(clean, "salesforce", connector=connector(clean))
    # the same org, pulled again into another workspace through faults: 429, 500, a timeout, a truncated page
    faulty = Workspace.init(tmp_path / "faulty")
    configure(faulty, api.url)
    faulty = Workspace.open(faulty.root)
    sleeps = Sleeps()
    api.fail("GET", r"/queryAll$", error(429, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.",
                                         {"Retry-After": "7"}), times=1)
    api.fail("GET", r"/query/01g", Reply(500, b'[{"message":"An unexpected error occurred","errorCode":"UNKNOWN_EXCEPTION"}]'),
             times=2)
    api.fail("GET", r"/query/01g", Reply(200, b'{"totalSize": 7, "done": false, "records": [{"Id": "00Q' + b" " * 99,
                                         truncate=True), times=1)
    api.fail("GET", r"/sobjects/Task/describe", Reply(200, b"{}", delay=1.5), times=1)
    report = pull(faulty, "salesforce", connector=connector(faulty, sleeps, timeout_seconds=0.5))
    assert 7.0 in sleeps  # the Retry-After asked
    assert all_canonical(faulty) == all_canonical(clean)
    assert all(f[3] == 0 for f in api.faults)  # every scripted fault was met
    status_changes_only = [r for r in org_records()["LeadHistory"] if r["Field"] != "Status"]
    assert sum(o.stored for o in report.objects) == sum(len(v) for v in org_records().values()) - len(status_changes_only)


def test_an_expired_session_logs_in_again_once(workspace: Workspace, api: ApiServer, env: None) -> None:
    org = FakeOrg(api, org_records())
    sf = connector(workspace)
    lead_spec = next(o for o in sf.objects if o.name == "Lead")
    pages = sf.pages(lead_spec, None)
    first = next(pages)
    org.expire_sessions()
    rest = [r for page in pages for r in page]
    assert len(first) + len(rest) == 7 and len(org.tokens) == 3  # one login, the revoked marker, one more login
    org.expire_sessions()
    api.fail("POST", r"/oauth2/token$", Reply.json({"error": "invalid_client", "error_description":
                                                    f"invalid client credentials {CLIENT_SECRET}"}, 400), times=5)
    with pytest.raises(PullError, match=r"^salesforce login at .*: the credentials were refused \(invalid_client") as e:
        list(sf.pages(lead_spec, None))
    assert CLIENT_SECRET not in str(e.value)


def test_a_used_up_api_limit_is_named(workspace: Workspace, api: ApiServer, env: None) -> None:
    FakeOrg(api, org_records())
    api.fail("GET", r"/queryAll$", error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), times=1)
    with pytest.raises(PullError, match=r"^salesforce Lead count: the org's API request limit is used up"):
        pull(workspace, "salesforce", objects=["Lead"], connector=connector(workspace))


def test_a_crash_mid_pull_resumes_after_the_last_kept_page(tmp_path: Path, api: ApiServer, env: None) -> None:
    org = FakeOrg(api, org_records())
    clean = Workspace.init(tmp_path / "clean")
    configure(clean, api.url)
    clean = Workspace.open(clean.root)
    pull(clean, "salesforce", connector=connector(clean))
    ws = Workspace.init(tmp_path / "crash")
    configure(ws, api.url)
    ws = Workspace.open(ws.root)
    sf = connector(ws)
    original = sf.api.query_pages
    served: list[str] = []

    def pages_failing_on_lead_page_3(soql: str, what: str) -> Iterator[list[Row]]:
        for n, page in enumerate(original(soql, what), 1):
            if what == "salesforce Lead" and n == 2:  # page 3 is next: the server fails beyond the retries
                api.fail("GET", r"/query/01g", Reply(503, b"Service Unavailable"), times=10)
            served.append(what)
            yield page

    sf.api.query_pages = pages_failing_on_lead_page_3  # type: ignore[method-assign]
    with pytest.raises(PullError, match=r"^salesforce Lead page 3: HTTP 503 after 5 tries"):
        pull(ws, "salesforce", connector=sf)
    mark = json.loads((ws.root / "pulls/salesforce/manifest.json").read_text())["objects"]["Lead"]
    assert mark["rows"] == 4 and mark["high_water"] == ts("03-06")  # L3, L2, L5, L6 by SystemModstamp
    api.faults.clear()
    org.soql.clear()
    pull(ws, "salesforce", connector=connector(ws))
    lead_query = next(q for q in org.soql if " FROM Lead " in q and "COUNT()" not in q)
    assert "SystemModstamp >= 2024-03-06T08:55:00+00:00" in lead_query  # after the last kept page, less the overlap
    assert all_canonical(ws) == all_canonical(clean)
    assert json.loads((ws.root / "pulls/salesforce/manifest.json").read_text())["objects"]["Lead"]["rows"] == 7


def test_a_large_object_goes_through_a_bulk_job(tmp_path: Path, api: ApiServer, env: None) -> None:
    org = FakeOrg(api, org_records(), currency=True)
    rest = Workspace.init(tmp_path / "rest")
    configure(rest, api.url)
    rest = Workspace.open(rest.root)
    pull(rest, "salesforce", connector=connector(rest))
    bulk = Workspace.init(tmp_path / "bulk")
    configure(bulk, api.url, bulk_threshold=4)
    bulk = Workspace.open(bulk.root)
    api.fail("GET", r"/jobs/query/[^/]+/results$", Reply(200, b'"Id","IsDeleted"\n"00Q', truncate=True), times=1)
    pull(bulk, "salesforce", connector=connector(bulk))
    jobs = [r.json() for r in api.requests(r"/jobs/query/?$") if r.method == "POST"]
    assert {j["query"].split(" FROM ")[1].split()[0] for j in jobs} == {"Lead", "LeadHistory", "OpportunityHistory"}
    assert all(j["operation"] == "queryAll" and "ORDER BY" not in j["query"] for j in jobs)
    assert len(api.requests(r"/results$")) >= 4 + 1  # 7 leads in pages of 2, and the truncated one again
    assert all_canonical(bulk) == all_canonical(rest)
    assert [r[5] for r in canonical(bulk, "opportunities")] == ["EUR", "USD", "USD"]
    assert org.jobs and all(j["polls"] >= 2 for j in org.jobs.values())


def test_a_second_pull_fetches_what_changed_and_drops_a_merged_lead(workspace: Workspace, api: ApiServer,
                                                                    env: None) -> None:
    records = org_records()
    org = FakeOrg(api, records)
    pull(workspace, "salesforce", connector=connector(workspace))
    assert L3 in {r[0] for r in canonical(workspace, "leads")}
    # between the pulls: L3 is merged into L2 (deleted, MasterRecordId set); L2 becomes sales-accepted
    leads = {r["Id"]: r for r in org.records["Lead"]}
    leads[L3].update(IsDeleted=True, MasterRecordId=L2, SystemModstamp=ts("05-02"))
    leads[L2].update(Status="Sales Accepted Lead", SystemModstamp=ts("05-02", "09:00:01"))
    org.records["LeadHistory"].append(history(8, L2, ts("05-02", "09:00:01"), "Marketing Qualified",
                                              "Sales Accepted Lead"))
    again = pull(workspace, "salesforce", connector=connector(workspace))
    stored = {o.name: o.stored for o in again.objects}
    assert stored == {"Lead": 2, "LeadHistory": 1} | {n: 0 for n in stored if n not in ("Lead", "LeadHistory")}
    rows = {r[0]: r for r in canonical(workspace, "leads")}
    assert L3 not in rows and rows[L2][9] == "Sales Accepted Lead" and rows[L2][10] == "SQL"
    assert (L2, "Sales Accepted Lead", ts("05-02", "09:00:01")) in canonical(workspace, "lead_stages")
    assert not any(r[0] == L3 for r in canonical(workspace, "lead_stages"))
    third = pull(workspace, "salesforce", connector=connector(workspace))
    assert sum(o.stored for o in third.objects) == 0  # re-running adds nothing


def test_the_commented_config_block_names_the_options_and_defaults_the_code_uses() -> None:
    import tomllib

    from leadjourney.config import default_config_text
    from leadjourney.connectors import salesforce as sf
    from leadjourney.connectors.settings import COMMON

    text = default_config_text().split("# [connectors.salesforce]\n", 1)[1].split("\n# [connectors.", 1)[0]
    block = "\n".join(line.removeprefix("# ") for line in text.splitlines()
                      if re.match(r"^# (# )?[a-z_]+ = ", line))
    options = tomllib.loads(block.replace("# ", ""))
    assert set(options) <= {*sf.OPTIONS, *COMMON} and set(sf.OPTIONS) <= set(options)
    assert (options["login_url"], options["api_version"], options["bulk_threshold"], options["page_size"]) == (
        sf.LOGIN_URL, sf.API_VERSION, sf.BULK_THRESHOLD, sf.PAGE_SIZE)


def test_lifecycle_views_map_an_orgs_spellings_to_configured_stages() -> None:
    from leadjourney.config import default_config_text, parse_config
    from leadjourney.connectors.pull import lifecycle_views

    con = duckdb.connect()
    lifecycle_views(con, parse_config(default_config_text()))
    assert con.execute("SELECT name FROM stages ORDER BY position").fetchall()[:2] == [("Lead",), ("MQL",)]
    assert con.execute("SELECT stage FROM stage_aliases WHERE key = 'marketingqualified'").fetchall() == [("MQL",)]
    lifecycle_views(duckdb_empty := duckdb.connect(), None)
    assert duckdb_empty.execute("SELECT count(*) FROM stage_aliases").fetchone() == (0,)


def test_the_username_password_flow(tmp_path: Path, api: ApiServer, env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    org = FakeOrg(api, org_records())
    ws = Workspace.init(tmp_path / "acme")
    configure(ws, api.url, username_env="SF_USER", password_env="SF_PASSWORD")
    ws = Workspace.open(ws.root)
    monkeypatch.setenv("SF_USER", "integration@acme.example")
    monkeypatch.setenv("SF_PASSWORD", "hunter2TOKEN")
    dry = pull(ws, "salesforce", objects=["Lead"], dry_run=True, connector=connector(ws))
    assert [(o.name, o.count) for o in dry.objects] == [("Lead", 7)] and len(org.tokens) == 1
    form = api.requests(r"/oauth2/token$")[0].body.decode()
    assert "grant_type=password" in form and "username=integration%40acme.example" in form
