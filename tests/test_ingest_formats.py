"""Each source format loads its sample file (tests/data) into exactly the expected canonical rows."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import (
    CANONICAL,
    DATA,
    as_json,
    csv_as_parquet,
    dicts,
    fetch,
    keep_emails,
    set_option,
    snapshot,
    text_values,
)
from leadjourney.errors import BadFileError
from leadjourney.ingest import IngestReport, ingest
from leadjourney.workspace import Workspace

T = datetime  # naive UTC timestamps, as stored

CRM_SOURCES = [
    {
        "name": "hubspot",
        "path": str(DATA / "hubspot_contacts.csv"),
        "format": "hubspot_contacts",
        "timezone": "America/New_York",
    },
    {
        "name": "sf_leads",
        "path": str(DATA / "salesforce_leads.csv"),
        "format": "salesforce_leads",
        "timezone": "America/Los_Angeles",
    },
    {
        "name": "sf_history",
        "path": str(DATA / "salesforce_lead_history.csv"),
        "format": "salesforce_lead_history",
        "timezone": "America/Los_Angeles",
    },
    {
        "name": "sf_opps",
        "path": str(DATA / "salesforce_opportunities.csv"),
        "format": "salesforce_opportunities",
        "timezone": "America/Los_Angeles",
    },
]

CANONICAL_SOURCES = [
    {
        "name": f"canon_{t}",
        "path": str(DATA / f"canonical_{t}.csv"),
        "format": "csv",
        "table": t,
        "timezone": "Europe/Berlin",
    }
    for t in CANONICAL
]

MAPPED_SOURCE = {
    "name": "mapped",
    "path": str(DATA / "mapped_leads.csv"),
    "format": "csv",
    "table": "leads",
    "timezone": "Europe/Paris",
    "day_first": True,
    "columns": {
        "lead_id": "Id",
        "created_at": "Created On",
        "source": "Channel",
        "company": "Company",
        "job_title": "Role",
        "employee_count": "Seats",
        "email": "E-mail Address",
        "current_stage": "Lifecycle",
    },
}


def _load(root: Path, sources: list[dict[str, Any]]) -> tuple[Workspace, IngestReport]:
    ws = Workspace.init(root)
    ws.set_sources(sources)
    return ws, ingest(ws)


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, IngestReport]:
    return _load(tmp_path_factory.mktemp("crm") / "ws", CRM_SOURCES)


@pytest.fixture(scope="module")
def canon(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, IngestReport]:
    return _load(tmp_path_factory.mktemp("canon") / "ws", [*CANONICAL_SOURCES, MAPPED_SOURCE])


def _report(report: IngestReport, name: str):
    return next(s for s in report.sources if s.name == name)


def _leads(ws: Workspace, origin: str) -> dict[str, dict[str, Any]]:
    return {r["lead_id"]: r for r in dicts(ws, "SELECT * FROM leads WHERE origin = ?", [origin])}


def _events(ws: Workspace, origin: str) -> set[tuple[Any, ...]]:
    return set(
        fetch(
            ws,
            "SELECT lead_id, stage, stage_raw, entered_at, entered_at_is_date, source_row "
            "FROM stage_events WHERE origin = ?",
            [origin],
        )
    )


# --------------------------------------------------------------------------- HubSpot

HUBSPOT_LEADS = {
    # lead_id: created_at, is_date, source, source_raw, source_detail, employees, status, current_stage, row
    "1001": (
        T(2024, 3, 5, 19, 22),
        False,
        "seo",
        "Organic Search",
        "google",
        250,
        "open",
        "Customer",
        2,
    ),
    "1002": (
        T(2024, 3, 10, 3, 0),
        False,
        "paid_search",
        "Paid Search",
        "google ads",
        1200,
        "open",
        "MQL",
        3,
    ),
    "1003": (
        T(2024, 4, 1, 12, 15),
        False,
        "referral",
        "Referrals",
        "partner-site.example",
        40,
        "open",
        "SQL",
        4,
    ),
    "1004": (
        T(2024, 5, 14, 14, 5),
        False,
        "direct",
        "Direct Traffic",
        None,
        5000,
        "open",
        "Opportunity",
        5,
    ),
    "1005": (
        T(2024, 6, 10, 16, 0),
        False,
        "organic_social",
        "Social Media",
        "linkedin",
        None,
        "open",
        "Lead",
        6,
    ),
    "1006": (
        T(2024, 6, 15, 11, 45),
        False,
        "email",
        "Email Marketing",
        "newsletter-june",
        15,
        "disqualified",
        "Lead",
        7,
    ),
    "1007": (
        T(2024, 7, 1, 16, 0),
        False,
        "paid_social",
        "Paid Social",
        "facebook",
        250,
        "open",
        "Lead",
        8,
    ),
    # 1008 (row 9) has an unparseable Create Date and is rejected
    "1009": (
        T(2024, 7, 2, 13, 0),
        False,
        "events",
        "Offline Sources",
        "trade show booth",
        None,
        "open",
        "MQL",
        10,
    ),
    "1010": (
        T(2024, 1, 2, 13, 0),
        False,
        "other",
        "Other Campaigns",
        "q1-webinar",
        10000,
        "open",
        "Evangelist",
        11,
    ),
    "1011": (
        T(2024, 8, 1, 13, 0),
        False,
        "ai_referral",
        "AI Referrals",
        "chatgpt.com",
        120,
        "open",
        "Lead",
        12,
    ),
    "1012": (T(2024, 8, 10), True, None, None, None, 75, None, "Customer", 13),
}


def test_hubspot_contacts_load_as_leads(crm: tuple[Workspace, IngestReport]) -> None:
    ws, report = crm
    leads = _leads(ws, "hubspot")
    got = {
        k: (
            r["created_at"],
            r["created_at_is_date"],
            r["source"],
            r["source_raw"],
            r["source_detail"],
            r["employee_count"],
            r["status"],
            r["current_stage"],
            r["source_row"],
        )
        for k, r in leads.items()
    }
    assert got == HUBSPOT_LEADS
    assert leads["1011"]["job_title"] == "Head of Growth\nAPAC"  # quoted newline kept
    assert leads["1001"]["company"] == "Acme Test Widgets"
    assert leads["1003"]["country"] == "United Kingdom"
    assert leads["1004"]["owner"] == "Owner Two"
    assert leads["1005"]["owner"] is None
    assert {r["source_file"] for r in leads.values()} == {str(DATA / "hubspot_contacts.csv")}
    src = _report(report, "hubspot")
    assert (src.status, src.rows_read, src.rows_loaded) == (
        "loaded",
        12,
        {"leads": 11, "stage_events": 28},
    )


def test_hubspot_became_dates_become_stage_events(crm: tuple[Workspace, IngestReport]) -> None:
    ws, _ = crm
    mql, sql = "Marketing Qualified Lead", "Sales Qualified Lead"
    expected = {
        ("1001", "Lead", "Lead", T(2024, 3, 5, 19, 22), False, 2),
        ("1001", "MQL", mql, T(2024, 3, 8, 14, 0), False, 2),  # EST
        ("1001", "SQL", sql, T(2024, 3, 15, 15, 30), False, 2),  # EDT from 10 March
        ("1001", "Opportunity", "Opportunity", T(2024, 3, 20, 14, 0), False, 2),
        ("1001", "Customer", "Customer", T(2024, 4, 2, 20, 45), False, 2),
        # 22:00 EST on the evening before the DST change, 03:30 EDT just after it
        ("1002", "Lead", "Lead", T(2024, 3, 10, 3, 0), False, 3),
        ("1002", "MQL", mql, T(2024, 3, 10, 7, 30), False, 3),
        ("1003", "Lead", "Lead", T(2024, 4, 1, 12, 15), False, 4),
        ("1003", "MQL", mql, T(2024, 4, 3), True, 4),  # date-only value
        (
            "1003",
            "SQL",
            sql,
            None,
            None,
            4,
        ),  # in SQL now, "Became a SQL Date" blank: missing timestamp
        # 1004 skipped MQL
        ("1004", "Lead", "Lead", T(2024, 5, 14, 14, 5), False, 5),
        ("1004", "SQL", sql, T(2024, 5, 20, 17, 0), False, 5),
        ("1004", "Opportunity", "Opportunity", T(2024, 6, 1, 13, 30), False, 5),
        ("1005", "Lead", "Lead", T(2024, 6, 10, 16, 0), False, 6),
        ("1006", "Lead", "Lead", T(2024, 6, 15, 11, 45), False, 7),
        ("1007", "Lead", "Lead", T(2024, 7, 1, 16, 0), False, 8),
        ("1009", "Lead", "Lead", T(2024, 7, 2, 13, 0), False, 10),
        ("1009", "MQL", mql, None, None, 10),  # "2024-13-01 10:00" is quarantined, the event kept
        ("1010", "Subscriber", "Subscriber", T(2024, 1, 2, 13, 0), False, 11),
        ("1010", "Lead", "Lead", T(2024, 1, 5, 15, 0), False, 11),
        ("1010", "MQL", mql, T(2024, 1, 10, 15, 0), False, 11),
        ("1010", "SQL", sql, T(2024, 1, 20, 15, 0), False, 11),
        ("1010", "Opportunity", "Opportunity", T(2024, 2, 1, 15, 0), False, 11),
        ("1010", "Customer", "Customer", T(2024, 2, 20, 15, 0), False, 11),
        ("1010", "Evangelist", "Evangelist", T(2024, 6, 1, 14, 0), False, 11),
        ("1011", "Lead", "Lead", T(2024, 8, 1, 13, 0), False, 12),
        ("1012", "Lead", "Lead", T(2024, 8, 10), True, 13),
        ("1012", "Customer", "Customer", T(2024, 9, 1, 14, 0), False, 13),
    }
    got = _events(ws, "hubspot")
    assert got == expected
    assert len(got) == 28


def test_hubspot_date_entered_columns(ws: Workspace) -> None:
    (ws.root / "contacts.csv").write_text(
        '"Record ID","Create Date","Lifecycle Stage",'
        '"Date entered ""Marketing Qualified Lead (Lifecycle Stage Pipeline)""",'
        '"Date entered ""Sales Qualified Lead"" (Lifecycle Stage Pipeline)"\n'
        '"2001","2024-03-05 14:22","Sales Qualified Lead","2024-03-06 09:00","2024-03-07 10:00"\n'
    )
    ws.set_sources([{"name": "hs", "path": "contacts.csv", "format": "hubspot_contacts"}])
    ingest(ws)
    assert set(fetch(ws, "SELECT stage, entered_at FROM stage_events WHERE origin = 'hs'")) == {
        ("MQL", T(2024, 3, 6, 9, 0)),
        ("SQL", T(2024, 3, 7, 10, 0)),
    }
    assert fetch(ws, "SELECT extra FROM leads") == [(None,)]


def test_hubspot_quarantine(crm: tuple[Workspace, IngestReport]) -> None:
    ws, _ = crm
    rows = fetch(
        ws,
        "SELECT source_file, source_row, target_table, column_name, value, reason, action "
        "FROM quarantine WHERE origin = 'hubspot' ORDER BY source_row, target_table",
    )
    f = str(DATA / "hubspot_contacts.csv")
    assert rows == [
        (f, 9, "leads", "created_at", "45356.59861", "unparseable timestamp", "row_rejected"),
        (f, 10, "leads", "employee_count", "50-200", "not a whole number", "value_nulled"),
        (
            f,
            10,
            "stage_events",
            "entered_at",
            "2024-13-01 10:00",
            "unparseable timestamp",
            "value_nulled",
        ),
    ]


def test_hubspot_report_counts_each_quarantined_value_once(
    crm: tuple[Workspace, IngestReport],
) -> None:
    ws, report = crm
    in_table = Counter(
        dict(
            fetch(ws, "SELECT reason, count(*) FROM quarantine WHERE origin = 'hubspot' GROUP BY 1")
        )
    )
    assert in_table == Counter({"unparseable timestamp": 2, "not a whole number": 1})
    assert _report(report, "hubspot").quarantined == in_table


def test_salesforce_opportunities_report_counts_match_table(
    crm: tuple[Workspace, IngestReport],
) -> None:
    ws, report = crm
    in_table = Counter(
        dict(
            fetch(ws, "SELECT reason, count(*) FROM quarantine WHERE origin = 'sf_opps' GROUP BY 1")
        )
    )
    assert in_table == Counter({"not an amount": 1})
    assert _report(report, "sf_opps").quarantined == in_table


# --------------------------------------------------------------------------- Salesforce

SF_LEADS = {
    # lead_id: created_at, is_date, source, source_raw, employees, status, current_stage, excluded_as, row
    "00QTEST00000001": (T(2024, 3, 5, 22, 22), False, "seo", "Web", 120, "open", None, None, 2),
    "00QTEST00000002": (
        T(2024, 3, 10, 21, 22),
        False,
        "paid_search",
        "Advertisement",
        1500,
        "open",
        None,
        None,
        3,
    ),
    "00QTEST00000003": (
        T(2024, 4, 1, 16, 5),
        False,
        "partner",
        "Partner Referral",
        300,
        "open",
        "MQL",
        None,
        4,
    ),
    "00QTEST00000004": (
        T(2024, 4, 10, 22, 0),
        False,
        "events",
        "Trade Show",
        2000,
        "open",
        "SQL",
        None,
        5,
    ),
    "00QTEST00000005": (
        T(2024, 1, 8, 16, 0),
        False,
        "referral",
        "Employee Referral",
        450,
        "converted",
        None,
        None,
        6,
    ),
    "00QTEST00000006": (
        T(2024, 2, 15, 0, 45),
        False,
        "content_syndication",
        "Purchased List",
        35,
        "disqualified",
        None,
        None,
        7,
    ),
    "00QTEST00000007": (
        T(2024, 5, 2),
        True,
        "other",
        "Phone Inquiry",
        None,
        "open",
        None,
        "student",
        8,
    ),
    "00QTEST00000008": (
        T(2024, 6, 30, 7, 0),
        False,
        "podcast",
        "Podcast",
        60,
        "open",
        None,
        None,
        9,
    ),
    "00QTEST00000009": (T(2024, 7, 15, 17, 30), False, "seo", "Web", 12, "open", None, None, 10),
}


def _sf_tuple(r: dict[str, Any]) -> tuple[Any, ...]:
    return (
        r["created_at"],
        r["created_at_is_date"],
        r["source"],
        r["source_raw"],
        r["employee_count"],
        r["status"],
        r["current_stage"],
        r["excluded_as"],
        r["source_row"],
    )


def test_salesforce_leads(crm: tuple[Workspace, IngestReport]) -> None:
    ws, report = crm
    leads = _leads(ws, "sf_leads")
    assert {k: _sf_tuple(r) for k, r in leads.items()} == SF_LEADS
    assert leads["00QTEST00000009"]["company"] == "Café Olé Test SARL"
    assert leads["00QTEST00000009"]["job_title"] == "Gérant"
    assert leads["00QTEST00000002"]["owner"] == "Owner Beta"
    assert leads["00QTEST00000001"]["extra"] is None  # every non-personal column is mapped
    src = _report(report, "sf_leads")
    assert (src.rows_read, src.rows_loaded) == (11, {"leads": 9})
    assert src.quarantined == Counter({"duplicate lead_id": 1, "exact duplicate row": 1})
    q = fetch(
        ws,
        "SELECT source_row, column_name, value, reason, detail, action FROM quarantine "
        "WHERE origin = 'sf_leads' ORDER BY source_row",
    )
    assert q == [
        (
            11,
            "lead_id",
            "00QTEST00000002",
            "duplicate lead_id",
            "also on row 3 with other values",
            "row_rejected",
        ),
        (12, None, None, "exact duplicate row", "identical to row 2", "duplicate_dropped"),
    ]


def test_salesforce_cp1252_export_needs_its_encoding(tmp_path: Path) -> None:
    path = DATA / "salesforce_leads_cp1252.csv"
    assert "Café".encode("cp1252") in path.read_bytes()
    ws = Workspace.init(tmp_path / "ws")
    ws.set_sources(
        [
            {
                "name": "sf_leads",
                "path": str(path),
                "format": "salesforce_leads",
                "timezone": "America/Los_Angeles",
            }
        ]
    )
    with pytest.raises(BadFileError) as err:
        ingest(ws)
    message = str(err.value)
    assert str(path) in message and "row 10" in message and "0xe9" in message and "utf-8" in message
    assert fetch(ws, "SELECT count(*) FROM leads") == [(0,)]
    ws.set_sources(
        [
            {
                "name": "sf_leads",
                "path": str(path),
                "format": "salesforce_leads",
                "timezone": "America/Los_Angeles",
                "encoding": "cp1252",
            }
        ]
    )
    ingest(ws)
    leads = _leads(ws, "sf_leads")
    assert {k: _sf_tuple(r) for k, r in leads.items()} == SF_LEADS
    assert leads["00QTEST00000009"]["company"] == "Café Olé Test SARL"


def test_salesforce_lead_history_status_changes_into_stages(
    crm: tuple[Workspace, IngestReport],
) -> None:
    ws, report = crm
    assert _events(ws, "sf_history") == {
        ("00QTEST00000003", "Lead", "Lead", T(2024, 3, 28, 16, 0), False, 2),  # "Created."
        ("00QTEST00000003", "MQL", "MQL", T(2024, 4, 1, 16, 5), False, 4),
        ("00QTEST00000004", "Lead", "Lead", T(2024, 4, 10, 22, 0), False, 6),
        ("00QTEST00000004", "MQL", "MQL", T(2024, 4, 12, 17, 0), False, 7),
        ("00QTEST00000004", "SQL", "SQL", T(2024, 4, 15, 18, 30), False, 8),
        ("00QTEST00000005", "Lead", "Lead", T(2024, 1, 8, 16, 0), False, 10),
        ("00QTEST00000005", "SQL", "SQL", T(2024, 1, 20, 22, 0), False, 11),
        ("00QTEST00000008", "Lead", "Lead", T(2024, 6, 30, 7, 0), False, 15),
        ("00QTEST00000008", "MQL", "MQL", T(2024, 7, 3), True, 16),
    }
    # "Working - Contacted", "Closed - ..." statuses, Rating and Lead Owner edits are not stage changes
    src = _report(report, "sf_history")
    assert (src.rows_read, src.rows_loaded, src.quarantined) == (16, {"stage_events": 9}, Counter())


def test_salesforce_opportunities(crm: tuple[Workspace, IngestReport]) -> None:
    ws, _ = crm
    rows = fetch(
        ws,
        "SELECT opportunity_id, lead_id, created_at, created_at_is_date, closed_at, closed_at_is_date, "
        "amount, currency, is_won IS TRUE, stage, source_row FROM opportunities WHERE origin = 'sf_opps' "
        "ORDER BY opportunity_id",
    )
    assert rows == [
        (
            "006TEST00000001",
            "00QTEST00000005",
            T(2024, 1, 25, 17, 0),
            False,
            T(2024, 3, 15),
            True,
            25000.0,
            "USD",
            True,
            "Closed Won",
            2,
        ),
        # open: the Close Date is a forecast, not a close
        (
            "006TEST00000002",
            "00QTEST00000004",
            T(2024, 4, 16, 17, 0),
            False,
            None,
            None,
            18000.0,
            "USD",
            False,
            "Negotiation/Review",
            3,
        ),
        (
            "006TEST00000003",
            "00QTEST00000003",
            T(2024, 4, 5, 20, 15),
            False,
            T(2024, 5, 10),
            True,
            9500.5,
            "USD",
            False,
            "Closed Lost",
            4,
        ),
        # a Lead ID no source loaded: kept as written (the quality check reports orphans)
        (
            "006TEST00000004",
            "00QUNKNOWN00099",
            T(2024, 5, 1, 18, 0),
            False,
            None,
            None,
            12000.0,
            "EUR",
            False,
            "Prospecting",
            5,
        ),
        (
            "006TEST00000005",
            None,
            T(2024, 2, 1, 17, 0),
            False,
            T(2024, 4, 1),
            True,
            40000.0,
            "USD",
            True,
            "Closed Won",
            6,
        ),
        (
            "006TEST00000006",
            "00QTEST00000002",
            T(2024, 3, 20, 22, 0),
            False,
            None,
            None,
            None,
            "USD",
            False,
            "Qualification",
            7,
        ),
    ]
    assert _events(ws, "sf_opps") == {
        ("00QTEST00000005", "Opportunity", "Opportunity", T(2024, 1, 25, 17, 0), False, 2),
        ("00QTEST00000005", "Customer", "Customer", T(2024, 3, 15), True, 2),
        ("00QTEST00000004", "Opportunity", "Opportunity", T(2024, 4, 16, 17, 0), False, 3),
        ("00QTEST00000003", "Opportunity", "Opportunity", T(2024, 4, 5, 20, 15), False, 4),
        ("00QUNKNOWN00099", "Opportunity", "Opportunity", T(2024, 5, 1, 18, 0), False, 5),
        ("00QTEST00000002", "Opportunity", "Opportunity", T(2024, 3, 20, 22, 0), False, 7),
    }
    assert fetch(
        ws,
        "SELECT source_row, column_name, value, reason, action FROM quarantine "
        "WHERE origin = 'sf_opps'",
    ) == [(7, "amount", "TBD", "not an amount", "value_nulled")]


def test_salesforce_open_opportunities_are_neither_won_nor_lost(
    crm: tuple[Workspace, IngestReport],
) -> None:
    ws, _ = crm
    rows = fetch(
        ws, "SELECT opportunity_id, is_won FROM opportunities WHERE origin = 'sf_opps' ORDER BY 1"
    )
    assert rows == [
        ("006TEST00000001", True),
        ("006TEST00000002", None),  # Negotiation/Review
        ("006TEST00000003", False),
        ("006TEST00000004", None),  # Prospecting
        ("006TEST00000005", True),
        ("006TEST00000006", None),  # Qualification
    ]


def test_derived_first_stage_events(crm: tuple[Workspace, IngestReport]) -> None:
    ws, report = crm
    derived = set(
        fetch(
            ws,
            "SELECT lead_id, stage, entered_at, entered_at_is_date, source_file, source_row "
            "FROM stage_events WHERE origin = 'derived:created_at'",
        )
    )
    # leads with no Lead event from any source enter Lead at created_at
    assert derived == {
        ("00QTEST00000001", "Lead", T(2024, 3, 5, 22, 22), False, None, None),
        ("00QTEST00000002", "Lead", T(2024, 3, 10, 21, 22), False, None, None),
        ("00QTEST00000006", "Lead", T(2024, 2, 15, 0, 45), False, None, None),
        ("00QTEST00000007", "Lead", T(2024, 5, 2), True, None, None),
        ("00QTEST00000009", "Lead", T(2024, 7, 15, 17, 30), False, None, None),
    }
    assert report.identity.derived_first_stage_events == 5
    assert report.table_rows == {
        "leads": 20,
        "stage_events": 28 + 9 + 6 + 5,
        "touchpoints": 0,
        "opportunities": 6,
    }


def test_hubspot_dedupe_and_exclusions(crm: tuple[Workspace, IngestReport]) -> None:
    ws, report = crm
    rows = {
        r[0]: r[1:]
        for r in fetch(ws, "SELECT lead_id, excluded_as, duplicate_of, person_id FROM leads")
    }
    assert rows["1005"] == ("student", None, "1005")  # "Graduate Student"
    assert rows["00QTEST00000007"] == ("student", None, "00QTEST00000007")  # "Marketing Intern"
    assert rows["1007"] == (None, "1001", "1001")  # same e-mail in other case, created later
    assert rows["1001"] == (None, None, "1001")
    assert sum(1 for r in rows.values() if r[0] is not None) == 2
    assert sum(1 for r in rows.values() if r[1] is not None) == 1
    assert (report.identity.excluded_leads, report.identity.duplicate_people) == (2, 1)
    # the unqualified lead status is normalized, not excluded
    assert fetch(ws, "SELECT status, excluded_as FROM leads WHERE lead_id = '1006'") == [
        ("disqualified", None)
    ]


# --------------------------------------------------------------------------- canonical CSV / Parquet

CANON_LEADS = {
    "L-001": (
        T(2024, 2, 1, 9, 30),
        False,
        "seo",
        "Organic Search",
        "blog/pricing",
        "Northwind Test Traders",
        120,
        "open",
        None,
        "Lead",
        None,
        None,
        "L-001",
        2,
    ),
    "L-002": (
        T(2024, 2, 3, 15, 0),
        False,
        "paid_search",
        "PPC",
        "brand campaign",
        "Contoso Test Ltd",
        1500,
        "open",
        None,
        "MQL",
        None,
        None,
        "L-002",
        3,
    ),
    # naive: Europe/Berlin (CET)
    "L-003": (
        T(2024, 2, 10, 13, 45),
        False,
        "paid_social",
        "LinkedIn Ads",
        None,
        "Fabrikam Test, Inc.",
        300,
        "open",
        None,
        "Lead",
        "student",
        None,
        "L-003",
        4,
    ),
    "L-004": (
        T(2024, 2, 15),
        True,
        "events",
        "Webinar",
        None,
        "Litware Test Corp",
        80,
        "disqualified",
        "Bad fit",
        "Lead",
        None,
        None,
        "L-004",
        5,
    ),
    "L-005": (
        T(2024, 3, 1, 7, 0),
        False,
        "partner",
        "Partner",
        "reseller-x",
        "Adatum Test Group",
        45,
        "converted",
        None,
        "Customer",
        "vendor_partner",
        None,
        "L-005",
        6,
    ),
    # the evening before the Berlin DST change (CET), and just after it (CEST)
    "L-006": (
        T(2024, 3, 30, 22, 30),
        False,
        "email",
        "Newsletter",
        None,
        "Tailspin Test Toys",
        None,
        "open",
        None,
        "SQL",
        None,
        "L-001",
        "L-001",
        7,
    ),
    "L-007": (
        T(2024, 3, 31, 1, 30),
        False,
        "chat",
        "Chatbot",
        None,
        "Wingtip Test Labs",
        60,
        "open",
        None,
        "Opportunity",
        None,
        None,
        "L-007",
        8,
    ),
    # epoch seconds; an unknown channel is kept lower-cased
    "L-008": (
        T(2024, 3, 5, 14, 22),
        False,
        "brand new channel",
        "Brand New Channel",
        None,
        'Proseware "Test" LLC',
        450,
        "open",
        None,
        "MQL",
        None,
        None,
        "L-008",
        9,
    ),
}
CANON_LEAD_COLUMNS = (
    "created_at",
    "created_at_is_date",
    "source",
    "source_raw",
    "source_detail",
    "company",
    "employee_count",
    "status",
    "disqualify_reason",
    "current_stage",
    "excluded_as",
    "duplicate_of",
    "person_id",
    "source_row",
)


def test_canonical_leads(canon: tuple[Workspace, IngestReport]) -> None:
    ws, report = canon
    leads = _leads(ws, "canon_leads")
    assert {k: tuple(r[c] for c in CANON_LEAD_COLUMNS) for k, r in leads.items()} == CANON_LEADS
    assert {k: r["email"] for k, r in leads.items()} == dict.fromkeys(CANON_LEADS)
    assert leads["L-004"]["email_hash"] is None
    assert (
        leads["L-001"]["email_hash"] == leads["L-006"]["email_hash"] != leads["L-002"]["email_hash"]
    )
    assert len(leads["L-001"]["email_hash"]) == 64
    assert all(r["extra"] is None for r in leads.values())
    assert _report(report, "canon_leads").quarantined == Counter()


def test_canonical_stage_events(canon: tuple[Workspace, IngestReport]) -> None:
    ws, _ = canon
    assert _events(ws, "canon_stage_events") == {
        ("L-001", "Lead", "Lead", T(2024, 2, 1, 9, 30), False, 2),
        ("L-001", "MQL", "Marketing Qualified Lead", T(2024, 2, 5, 10, 0), False, 3),
        ("L-002", "MQL", "MQL", T(2024, 2, 4, 8, 0), False, 4),
        ("L-002", "SQL", "sales_qualified_lead", T(2024, 2, 20), True, 5),
        ("L-005", "Customer", "Closed Won", T(2024, 3, 30, 11, 0), False, 6),
        ("L-006", "SQL", "SQL", T(2024, 3, 31, 1, 30), False, 7),
        ("L-007", "Opportunity", "Opportunity", T(2024, 3, 30, 22, 30), False, 8),
        ("L-007", "Evaluation", "Evaluation", T(2024, 4, 2, 15, 0), False, 9),  # unknown stage kept
        ("L-008", "MQL", "MQL", None, None, 10),  # a blank timestamp is allowed for stage events
    }
    derived = {
        r[0]
        for r in fetch(
            ws,
            "SELECT lead_id FROM stage_events WHERE origin = 'derived:created_at' "
            "AND lead_id LIKE 'L-%'",
        )
    }
    assert derived == {f"L-00{i}" for i in range(2, 9)}


def test_canonical_touchpoints(canon: tuple[Workspace, IngestReport]) -> None:
    ws, _ = canon
    rows = fetch(
        ws,
        "SELECT lead_id, occurred_at, occurred_at_is_date, channel, kind, actor, campaign, asset, "
        "source_row FROM touchpoints ORDER BY source_row",
    )
    assert rows == [
        (
            "L-001",
            T(2024, 2, 1, 9, 0),
            False,
            "seo",
            "page_view",
            "automated",
            "spring-launch",
            "/pricing",
            2,
        ),
        (
            "L-001",
            T(2024, 2, 6, 15, 0),
            False,
            None,
            "call",
            "human",
            None,
            None,
            3,
        ),  # actor from kind
        (
            "L-002",
            T(2024, 2, 4, 7, 55),
            False,
            "email",
            "email_open",
            "automated",
            "nurture-1",
            "ebook.pdf",
            4,
        ),
        ("L-002", T(2024, 2, 10, 10, 0), False, None, "sales_email", "human", None, None, 5),
        (
            "L-006",
            T(2024, 3, 18),
            True,
            "events",
            "webinar_attended",
            "automated",
            "q1-webinar",
            None,
            6,
        ),
        ("L-007", T(2024, 3, 24, 14, 0), False, "chat", "demo", "human", None, None, 7),
    ]


def test_canonical_opportunities(canon: tuple[Workspace, IngestReport]) -> None:
    ws, _ = canon
    rows = fetch(
        ws,
        "SELECT opportunity_id, lead_id, created_at, created_at_is_date, closed_at, closed_at_is_date, "
        "amount, currency, is_won, stage, source_row FROM opportunities ORDER BY source_row",
    )
    assert rows == [
        (
            "O-1",
            "L-005",
            T(2024, 3, 10, 10, 0),
            False,
            T(2024, 3, 30),
            True,
            48000.0,
            "USD",
            True,
            "Closed Won",
            2,
        ),
        (
            "O-2",
            "L-007",
            T(2024, 3, 26, 9, 0),
            False,
            None,
            None,
            15000.0,
            "USD",
            None,
            "Discovery",
            3,
        ),
        (
            "O-3",
            "L-006",
            T(2024, 3, 21, 9, 0),
            False,
            T(2024, 4, 15, 17, 0),
            False,
            7250.5,
            "EUR",
            False,
            "Closed Lost",
            4,
        ),
        (
            "O-4",
            "L-002",
            T(2024, 2, 25),
            True,
            T(2024, 3, 10),
            True,
            0.0,
            "USD",
            False,
            "Closed Lost",
            5,
        ),
    ]


def test_mapped_columns_day_first_and_extra(canon: tuple[Workspace, IngestReport]) -> None:
    ws, _ = canon
    leads = _leads(ws, "mapped")
    got = {
        k: (
            r["created_at"],
            r["created_at_is_date"],
            r["source"],
            r["company"],
            r["job_title"],
            r["employee_count"],
            r["current_stage"],
            r["excluded_as"],
            as_json(r["extra"]),
        )
        for k, r in leads.items()
    }
    assert got == {
        "M-1": (
            T(2024, 1, 31, 13, 5),
            False,
            "paid_search",
            "Northwind Test Traders",
            "CMO",
            250,
            "MQL",
            None,
            {"Rating": "Hot", "Region": "EMEA"},
        ),
        "M-2": (
            T(2024, 2, 1, 8, 0),
            False,
            "referral",
            "Contoso Test Ltd",
            "Analyst",
            12,
            "Lead",
            None,
            {"Rating": "Warm", "Region": "EMEA"},
        ),
        "M-3": (
            T(2024, 2, 15),
            True,
            "events",
            "Fabrikam Test Inc",
            "PhD Candidate",
            None,
            "Lead",
            "student",
            {"Rating": None, "Region": "APAC"},
        ),
        "M-4": (
            T(2024, 2, 29, 22, 30),
            False,
            "direct",
            "Litware Test Corp",
            "IT Director",
            1000,
            "SQL",
            None,
            {"Rating": "Cold", "Region": "AMER"},
        ),
    }
    # the mobile number, full name and e-mail columns never reach leads.extra
    assert all(set(as_json(r["extra"])) == {"Rating", "Region"} for r in leads.values())


def test_parquet_of_the_same_rows_loads_the_same(
    tmp_path: Path, canon: tuple[Workspace, IngestReport]
) -> None:
    csv_ws, _ = canon
    ws = Workspace.init(tmp_path / "ws")
    sources = []
    for src in [*CANONICAL_SOURCES, MAPPED_SOURCE]:
        target = csv_as_parquet(Path(src["path"]), tmp_path / (Path(src["path"]).stem + ".parquet"))
        sources.append(
            {
                **src,
                "format": "parquet",
                "path": target.name if src["name"] == "mapped" else str(target),
            }
        )
    # a relative path resolves against the workspace folder
    (tmp_path / "ws" / "mapped_leads.parquet").write_bytes(
        (tmp_path / "mapped_leads.parquet").read_bytes()
    )
    ws.set_sources(sources)
    ingest(ws)
    drop = ("source_file", "source_row", "email_hash")  # the salt is per workspace
    got, want = snapshot(ws, CANONICAL, drop), snapshot(csv_ws, CANONICAL, drop)
    assert got == want
    assert sum(len(v) for v in got.values()) > 30
    # Parquet rows are numbered from 1 (no header row); CSV rows from 2
    pq_rows = fetch(
        ws, "SELECT lead_id, source_row FROM leads WHERE origin = 'canon_leads' ORDER BY 1"
    )
    csv_rows = fetch(
        csv_ws, "SELECT lead_id, source_row - 1 FROM leads WHERE origin = 'canon_leads' ORDER BY 1"
    )
    assert pq_rows == csv_rows
    assert fetch(ws, "SELECT DISTINCT source_file FROM leads WHERE origin = 'mapped'") == [
        ("mapped_leads.parquet",)
    ]


def test_parquet_typed_columns(ws: Workspace, tmp_path: Path) -> None:
    aware = [datetime(2024, 3, 5, 19, 22, tzinfo=UTC), datetime(2024, 7, 1, 12, 0, tzinfo=UTC)]
    leads = pa.table(
        {
            "lead_id": pa.array([101, 102], pa.int64()),
            "created_at": pa.array(aware, pa.timestamp("us", tz="UTC")),
            "employee_count": pa.array([250, None], pa.int32()),
            "source": ["Organic Search", "PPC"],
            "annual_revenue": pa.array([1.5e6, None]),
            "phone": ["+1 555-0199", "+1 555-0198"],
        }
    )
    events = pa.table(
        {
            "lead_id": ["101", "102"],
            "stage": ["MQL", "SQL"],
            # naive Parquet timestamps are wall clock in the source's time zone
            "entered_at": pa.array(
                [datetime(2024, 3, 9, 22, 0), datetime(2024, 3, 10, 3, 30)], pa.timestamp("ms")
            ),
        }
    )
    opps = pa.table(
        {
            "opportunity_id": ["O1", "O2"],
            "lead_id": ["101", None],
            "closed_at": pa.array([date(2024, 4, 1), None], pa.date32()),
            "amount": pa.array([12500.25, 300.0]),
            "is_won": pa.array([True, None]),
        }
    )
    for name, table in (("leads", leads), ("stage_events", events), ("opportunities", opps)):
        pq.write_table(table, tmp_path / f"{name}.parquet")
    ws.set_sources(
        [
            {
                "name": n,
                "path": str(tmp_path / f"{n}.parquet"),
                "format": "parquet",
                "table": n,
                "timezone": "America/New_York",
            }
            for n in ("leads", "stage_events", "opportunities")
        ]
    )
    ingest(ws)
    rows = dicts(ws, "SELECT * FROM leads ORDER BY lead_id")
    assert [
        (
            r["lead_id"],
            r["created_at"],
            r["created_at_is_date"],
            r["employee_count"],
            r["source"],
            as_json(r["extra"]),
            r["source_row"],
        )
        for r in rows
    ] == [
        ("101", T(2024, 3, 5, 19, 22), False, 250, "seo", {"annual_revenue": "1500000.0"}, 1),
        ("102", T(2024, 7, 1, 12, 0), False, None, "paid_search", {"annual_revenue": None}, 2),
    ]
    assert fetch(
        ws,
        "SELECT lead_id, stage, entered_at, entered_at_is_date FROM stage_events "
        "WHERE origin = 'stage_events' ORDER BY 1",
    ) == [
        ("101", "MQL", T(2024, 3, 10, 3, 0), False),
        ("102", "SQL", T(2024, 3, 10, 7, 30), False),
    ]
    assert fetch(
        ws,
        "SELECT opportunity_id, lead_id, closed_at, closed_at_is_date, amount, is_won "
        "FROM opportunities ORDER BY 1",
    ) == [
        ("O1", "101", T(2024, 4, 1), True, 12500.25, True),
        ("O2", None, None, None, 300.0, None),
    ]
    assert not any("555-01" in v for _, _, v in text_values(ws))


def test_parquet_integer_timestamp_is_read_as_epoch_seconds(ws: Workspace, tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"lead_id": ["E1"], "created_at": pa.array([1709648520], pa.int64())}),
        tmp_path / "epoch.parquet",
    )
    ws.set_sources(
        [
            {
                "name": "epoch",
                "path": str(tmp_path / "epoch.parquet"),
                "format": "parquet",
                "table": "leads",
            }
        ]
    )
    ingest(ws)
    assert fetch(ws, "SELECT created_at FROM leads") == [(T(2024, 3, 5, 14, 22),)]


# --------------------------------------------------------------------------- privacy, dedupe, exclusions


def _personal_values() -> set[str]:
    """Every e-mail, phone number and person name written in the CRM and mapped sample files."""
    found: set[str] = set()
    files = {
        "hubspot_contacts.csv": ("First Name", "Last Name", "Email", "Phone Number"),
        "salesforce_leads.csv": ("First Name", "Last Name", "Email"),
        "mapped_leads.csv": ("E-mail Address", "Mobile", "Full Name"),
        "canonical_leads.csv": ("email",),
    }
    for name, columns in files.items():
        with (DATA / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                found.update(row[c] for c in columns if row[c] and row[c] != "Test")
    return found


def test_personal_data_is_nowhere_in_the_database(
    crm: tuple[Workspace, IngestReport], canon: tuple[Workspace, IngestReport]
) -> None:
    personal = _personal_values()
    assert len(personal) > 50 and "+1 555-0101" in personal and "Contact-Alpha" in personal
    values = text_values(crm[0]) + text_values(canon[0])
    assert len(values) > 500
    leaks = [(t, c, v) for t, c, v in values for p in personal if p.lower() in v.lower()]
    assert leaks == []
    for ws, hashed in ((crm[0], 19), (canon[0], 11)):
        assert fetch(ws, "SELECT count(*) FROM leads WHERE email IS NOT NULL") == [(0,)]
        assert fetch(ws, "SELECT count(*) FROM leads WHERE email_hash IS NOT NULL") == [(hashed,)]


def test_keep_emails_keeps_them_lower_cased(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    ws = keep_emails(ws)
    assert ws.config.keep_emails
    ws.set_sources([CRM_SOURCES[0], MAPPED_SOURCE])
    ingest(ws)
    emails = dict(
        fetch(
            ws, "SELECT lead_id, email FROM leads WHERE lead_id IN ('1001', '1007', '1012', 'M-2')"
        )
    )
    assert emails == {
        "1001": "test.contact.a@example.com",
        "1007": "test.contact.a@example.com",
        "1012": None,
        "M-2": "m2@example.com",
    }
    # phone numbers and names are still not copied anywhere they could be read from leads
    leads_text = [v for t, _, v in text_values(ws) if t == "leads"]
    assert not any("555-01" in v or "Contact-" in v or "Test Person" in v for v in leads_text)


def test_dedupe_policy_merge_and_keep(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    ws.set_sources([CANONICAL_SOURCES[0], MAPPED_SOURCE])
    ingest(ws)
    merged = dict(fetch(ws, "SELECT lead_id, person_id FROM leads"))
    assert merged["L-006"] == "L-001"
    assert sum(1 for k, v in merged.items() if k != v) == 1
    assert fetch(ws, "SELECT duplicate_of FROM leads WHERE lead_id = 'L-006'") == [("L-001",)]
    ws = set_option(ws, 'policy = "merge"', 'policy = "keep"')
    assert ws.config.dedupe_policy == "keep"
    report = ingest(ws)  # files unchanged: only the identity pass runs again
    assert {s.status for s in report.sources} == {"unchanged"}
    kept = dict(fetch(ws, "SELECT lead_id, person_id FROM leads"))
    assert all(k == v for k, v in kept.items()) and len(kept) == len(merged)
    # the duplicate is still reported either way
    assert fetch(ws, "SELECT duplicate_of FROM leads WHERE lead_id = 'L-006'") == [("L-001",)]
    assert report.identity.duplicate_people == 1


def test_exclusions_follow_the_config(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    ws.set_sources([CANONICAL_SOURCES[0], MAPPED_SOURCE])
    report = ingest(ws)
    excluded = dict(
        fetch(ws, "SELECT lead_id, excluded_as FROM leads WHERE excluded_as IS NOT NULL")
    )
    assert excluded == {"L-003": "student", "L-005": "vendor_partner", "M-3": "student"}
    assert report.identity.excluded_leads == 3
    ws = set_option(ws, "\\\\b(student|intern|undergrad|phd candidate)\\\\b", "\\\\b(cmo)\\\\b")
    ingest(ws)
    excluded = dict(
        fetch(ws, "SELECT lead_id, excluded_as FROM leads WHERE excluded_as IS NOT NULL")
    )
    # "PhD Candidate" now falls through to the next rule
    assert excluded == {"L-005": "vendor_partner", "M-1": "student", "M-3": "job_candidate"}


def test_person_name_columns_are_not_copied_to_extra(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        "lead_id,created_at,Contact Name,Lead Name,Rating\nP1,2024-01-01,Test Person Nine,Test Lead Nine,Hot\n"
    )
    ws.set_sources(
        [{"name": "p", "path": str(tmp_path / "leads.csv"), "format": "csv", "table": "leads"}]
    )
    ingest(ws)
    assert [as_json(v) for (v,) in fetch(ws, "SELECT extra FROM leads")] == [{"Rating": "Hot"}]
