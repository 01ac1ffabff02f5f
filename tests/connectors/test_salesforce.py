"""The Salesforce connector against a fake org on 127.0.0.1: login, SOQL paging, Bulk API 2.0, faults, mapping."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from apiserver import ApiServer, Reply
from fake_salesforce import CLIENT_ID, CLIENT_SECRET, PERSONAL, FakeOrg, error

from leadjourney.connectors.http import RetryPolicy
from leadjourney.connectors.pull import pull
from leadjourney.connectors.salesforce import SalesforceConnector, connect
from leadjourney.connectors.settings import ConnectorSettings
from leadjourney.errors import PullError
from leadjourney.workspace import Workspace

def _top_conftest() -> Any:
    """tests/conftest.py (its name is shadowed here by tests/connectors/conftest.py), for run_cli."""
    spec = importlib.util.spec_from_file_location("tests_top_conftest", Path(__file__).parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
    if spec.name not in sys.modules:
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


run_cli = _top_conftest().run_cli
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
    path = ws.root / "pulls" / "salesforce" / f"{name}.parquet"
    return sorted(duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall(), key=repr)


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
