"""Every quarantine reason, with file, row number (header = row 1), column, value and action."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest

from conftest import dicts, fetch, text_values
from leadjourney.errors import BadFileError
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

Q_COLUMNS = "source_row, target_table, column_name, value, reason, detail, action"

LEADS = (
    "lead_id,created_at,source,employee_count,job_title,email\n"
    "Q1,2024-01-01T10:00:00Z,seo,10,CEO,q1@example.com\n"  # 2 ok
    "Q2,,seo,10,CTO,q2@example.com\n"  # 3 created_at missing: loaded undated
    ",2024-01-02T10:00:00Z,seo,10,CTO,\n"  # 4 lead_id missing
    "Q4,someday,seo,10,CTO,\n"  # 5 created_at unparseable
    'Q5,2024-01-05T10:00:00Z,seo,ten,"Head of\nSales",\n'  # 6 (two lines) employee_count not a number
    "Q6,2024-01-06T10:00:00Z,seo,12,CFO,q6@example.com,EXTRA\n"  # 7 too many fields
    "Q7,2024-01-07T10:00:00Z\n"  # 8 too few fields
    "Q1,2024-01-01T10:00:00Z,seo,10,CEO,q1@example.com\n"  # 9 identical to row 2
    "Q1,2024-02-01T10:00:00Z,ppc,10,CEO,q1@example.com\n"  # 10 lead_id of row 2, other values
    "Q10,2024-01-10T10:00:00Z,seo,-3,COO,\n"  # 11 negative head count
    "X1,2024-01-12T10:00:00Z,seo,5,CEO,\n"  # 12 X1 is loaded by source "first"
    'Q12,2024-01-12T10:00:00Z,seo," 1,250 ",CEO,\n'  # 13 ok, 1250
)
FIRST = "lead_id,created_at\nX1,2023-12-31\n"


@pytest.fixture
def leads_ws(ws: Workspace) -> Workspace:
    (ws.root / "first.csv").write_text(FIRST)
    (ws.root / "leads.csv").write_text(LEADS)
    ws.set_sources(
        [
            {"name": "first", "path": "first.csv", "format": "csv", "table": "leads"},
            {"name": "q", "path": "leads.csv", "format": "csv", "table": "leads"},
        ]
    )
    return ws


def test_every_leads_reason_with_row_column_value_and_action(leads_ws: Workspace) -> None:
    report = ingest(leads_ws)
    rows = fetch(
        leads_ws,
        f"SELECT {Q_COLUMNS} FROM quarantine WHERE origin = 'q' ORDER BY source_row, reason",
    )
    assert rows == [
        (4, "leads", "lead_id", None, "missing value", None, "row_rejected"),
        (5, "leads", "created_at", "someday", "unparseable timestamp", None, "row_rejected"),
        (6, "leads", "employee_count", "ten", "not a whole number", None, "value_nulled"),
        # the quoted newline in row 6 does not shift the numbers of later rows
        (
            7,
            None,
            None,
            "Q6,2024-01-06T10:00:00Z,seo,12,CFO,<hidden>,<hidden>",
            "malformed row",
            "row has 7 fields, expected 6",
            "row_rejected",
        ),
        (
            8,
            None,
            None,
            "Q7,<hidden>",  # fields may have shifted: hidden from where the e-mail could be
            "malformed row",
            "row has 2 fields, expected 6",
            "row_rejected",
        ),
        (9, "leads", None, None, "exact duplicate row", "identical to row 2", "duplicate_dropped"),
        (
            10,
            "leads",
            "lead_id",
            "Q1",
            "duplicate lead_id",
            "also on row 2 with other values",
            "row_rejected",
        ),
        (11, "leads", "employee_count", "-3", "not a whole number", None, "value_nulled"),
        (
            12,
            "leads",
            "lead_id",
            "X1",
            "lead_id loaded by another source",
            "already loaded by source first",
            "row_rejected",
        ),
    ]
    assert set(fetch(leads_ws, "SELECT DISTINCT source_file FROM quarantine")) == {("leads.csv",)}
    loaded = {
        r[0]: r[1:]
        for r in fetch(
            leads_ws,
            "SELECT lead_id, employee_count, job_title, created_at, "
            "source_row FROM leads WHERE origin = 'q'",
        )
    }
    assert {k: v[:2] for k, v in loaded.items()} == {
        "Q1": (10, "CEO"),
        "Q2": (10, "CTO"),  # no created date: kept, undated
        "Q5": (None, "Head of\nSales"),
        "Q10": (None, "COO"),
        "Q12": (1250, "CEO"),
    }
    assert {k: v[3] for k, v in loaded.items()} == {"Q1": 2, "Q2": 3, "Q5": 6, "Q10": 11, "Q12": 13}
    assert loaded["Q2"][2] is None
    src = next(s for s in report.sources if s.name == "q")
    assert src.rows_read == 12 and src.rows_loaded == {"leads": 5}
    assert src.quarantined == Counter(
        {
            "missing value": 1,
            "unparseable timestamp": 1,
            "not a whole number": 2,
            "malformed row": 2,
            "exact duplicate row": 1,
            "duplicate lead_id": 1,
            "lead_id loaded by another source": 1,
        }
    )
    # the ingest log counts rows not loaded (a nulled value still loads its row)
    assert fetch(
        leads_ws, "SELECT rows_read, rows_loaded, rows_quarantined FROM ingests WHERE origin = 'q'"
    ) == [(12, 5, 7)]
    # the source loaded first keeps its lead
    assert fetch(leads_ws, "SELECT origin FROM leads WHERE lead_id = 'X1'") == [("first",)]


def test_quarantined_record_keeps_the_raw_row_without_personal_columns(leads_ws: Workspace) -> None:
    ingest(leads_ws)
    records = {
        r["source_row"]: r["record"]
        for r in dicts(
            leads_ws,
            "SELECT source_row, record FROM quarantine WHERE origin = 'q' AND record IS NOT NULL",
        )
    }
    assert json.loads(records[5]) == {
        "lead_id": "Q4",
        "created_at": "someday",
        "source": "seo",
        "employee_count": "10",
        "job_title": "CTO",
    }
    assert 3 not in records  # a lead without a created date loads (undated)
    assert json.loads(records[6])["job_title"] == "Head of\nSales"
    assert not any("@example.com" in v for _, _, v in text_values(leads_ws))


def test_stage_event_and_touchpoint_reasons(ws: Workspace) -> None:
    (ws.root / "events.csv").write_text(
        "lead_id,stage,entered_at\n"
        "E1,MQL,2024-01-01T10:00:00Z\n"  # 2 ok
        "E2,,2024-01-01T10:00:00Z\n"  # 3 stage missing
        ",SQL,2024-01-01T10:00:00Z\n"  # 4 lead_id missing
        "E4,SQL,31/31/2024\n"  # 5 entered_at unparseable: loaded without a time
        "E1,MQL,2024-01-01T10:00:00Z\n"  # 6 identical to row 2
    )
    (ws.root / "touch.csv").write_text(
        "lead_id,occurred_at,channel,kind,actor\n"
        "T1,2024-01-01T10:00:00Z,web,page_view,\n"  # 2 ok, automated from kind
        "T2,2024-01-01T10:00:00Z,web,call,robot\n"  # 3 actor unknown
        "T3,,web,call,human\n"  # 4 occurred_at missing
        "T4,half past ten,web,call,human\n"  # 5 occurred_at unparseable: required, row rejected
        "T5,2024-01-01T10:00:00Z,web,meeting,\n"  # 6 ok, human from kind
    )
    ws.set_sources(
        [
            {"name": "ev", "path": "events.csv", "format": "csv", "table": "stage_events"},
            {"name": "tp", "path": "touch.csv", "format": "csv", "table": "touchpoints"},
        ]
    )
    ingest(ws)
    rows = fetch(ws, f"SELECT origin, {Q_COLUMNS} FROM quarantine ORDER BY origin, source_row")
    assert rows == [
        ("ev", 3, "stage_events", "stage", None, "missing value", None, "row_rejected"),
        ("ev", 4, "stage_events", "lead_id", None, "missing value", None, "row_rejected"),
        (
            "ev",
            5,
            "stage_events",
            "entered_at",
            "31/31/2024",
            "unparseable timestamp",
            None,
            "value_nulled",
        ),
        (
            "ev",
            6,
            "stage_events",
            None,
            None,
            "exact duplicate row",
            "identical to row 2",
            "duplicate_dropped",
        ),
        (
            "tp",
            3,
            "touchpoints",
            "actor",
            "robot",
            "actor is neither human nor automated",
            None,
            "value_nulled",
        ),
        ("tp", 4, "touchpoints", "occurred_at", None, "missing value", None, "row_rejected"),
        (
            "tp",
            5,
            "touchpoints",
            "occurred_at",
            "half past ten",
            "unparseable timestamp",
            None,
            "row_rejected",
        ),
    ]
    assert fetch(
        ws,
        "SELECT lead_id, stage, entered_at, entered_at_is_date, source_row FROM stage_events "
        "WHERE origin = 'ev' ORDER BY 1",
    ) == [
        ("E1", "MQL", datetime(2024, 1, 1, 10, 0), False, 2),
        ("E4", "SQL", None, None, 5),
    ]
    assert fetch(ws, "SELECT lead_id, actor, source_row FROM touchpoints ORDER BY 1") == [
        ("T1", "automated", 2),
        ("T2", None, 3),
        ("T5", "human", 6),
    ]


def test_opportunity_reasons(ws: Workspace) -> None:
    (ws.root / "crm_opps.csv").write_text("opportunity_id,lead_id,amount,is_won\nO1,L1,1000,true\n")
    (ws.root / "opps.csv").write_text(
        "opportunity_id,lead_id,amount,is_won,closed_at\n"
        "O2,L2,lots,yes,2024-05-01\n"  # 2 amount unreadable
        "O3,L3,2500,maybe,\n"  # 3 is_won unreadable
        'O4,L4,"USD 1,250.75",no,01/02/2024 25:99\n'  # 4 closed_at unparseable
        "O3,L3,2600,true,\n"  # 5 opportunity_id of row 3, other values
        ",L5,1,true,\n"  # 6 opportunity_id missing
        "O1,L1,1000,true,\n"  # 7 O1 is loaded by source "crm"
    )
    ws.set_sources(
        [
            {"name": "crm", "path": "crm_opps.csv", "format": "csv", "table": "opportunities"},
            {"name": "op", "path": "opps.csv", "format": "csv", "table": "opportunities"},
        ]
    )
    ingest(ws)
    assert fetch(
        ws, f"SELECT {Q_COLUMNS} FROM quarantine WHERE origin = 'op' ORDER BY source_row"
    ) == [
        (2, "opportunities", "amount", "lots", "not an amount", None, "value_nulled"),
        (3, "opportunities", "is_won", "maybe", "not true/false", None, "value_nulled"),
        (
            4,
            "opportunities",
            "closed_at",
            "01/02/2024 25:99",
            "unparseable timestamp",
            None,
            "value_nulled",
        ),
        (
            5,
            "opportunities",
            "opportunity_id",
            "O3",
            "duplicate opportunity_id",
            "also on row 3 with other values",
            "row_rejected",
        ),
        (6, "opportunities", "opportunity_id", None, "missing value", None, "row_rejected"),
        (
            7,
            "opportunities",
            "opportunity_id",
            "O1",
            "opportunity_id loaded by another source",
            "already loaded by source crm",
            "row_rejected",
        ),
    ]
    assert fetch(
        ws, "SELECT opportunity_id, amount, is_won, closed_at, origin FROM opportunities ORDER BY 1"
    ) == [
        ("O1", 1000.0, True, None, "crm"),
        ("O2", None, True, datetime(2024, 5, 1), "op"),
        ("O3", 2500.0, None, None, "op"),
        ("O4", 1250.75, False, None, "op"),
    ]


def test_reingest_replaces_the_quarantine_of_that_source(leads_ws: Workspace) -> None:
    ingest(leads_ws)
    before = fetch(leads_ws, "SELECT count(*) FROM quarantine WHERE origin = 'q'")[0][0]
    assert before == 9
    (leads_ws.root / "leads.csv").write_text("lead_id,created_at\nQ1,2024-01-01\nQ2,someday\n")
    ingest(leads_ws)
    assert fetch(leads_ws, f"SELECT {Q_COLUMNS} FROM quarantine WHERE origin = 'q'") == [
        (3, "leads", "created_at", "someday", "unparseable timestamp", None, "row_rejected")
    ]


# ---------------------------------------------------------------- row numbers, privacy, long rows


def test_blank_lines_do_not_shift_row_numbers(ws: Workspace) -> None:
    (ws.root / "leads.csv").write_text(
        "lead_id,created_at\n"
        "B1,2024-01-01\n"  # 2
        "\n"  # 3: a blank line, an empty row in any spreadsheet
        "B3,2024-01-03\n"  # 4
        "B4,2024-01-04,extra\n"  # 5
    )
    ws.set_sources([{"name": "b", "path": "leads.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    assert fetch(ws, "SELECT lead_id, source_row FROM leads ORDER BY 1") == [("B1", 2), ("B3", 4)]
    assert fetch(ws, "SELECT source_row, reason FROM quarantine") == [(5, "malformed row")]


UNBALANCED = {
    "never_closed": 'U2,2024-01-02,"Broken Test Co\n',
    # the stray quote closes inside a later record's quoted field: the swallowed record has 7 fields
    "closed_later": 'U2,"2024-01-02,Broken Test Co\n',
}


@pytest.mark.parametrize("line", list(UNBALANCED.values()), ids=list(UNBALANCED))
def test_an_unbalanced_quote_does_not_lose_the_following_rows(ws: Workspace, line: str) -> None:
    (ws.root / "leads.csv").write_text(
        "lead_id,created_at,company\n"
        "U1,2024-01-01,Acme Test\n"  # 2
        + line  # 3: a quote that is not closed on its line
        + "U3,2024-01-03,Globex Test\n"  # 4
        "U4,2024-01-04,Initech Test\n"  # 5
        'U5,2024-01-05,"Umbrella, Test"\n'  # 6
        "U6,2024-01-06,Hooli Test\n"  # 7
    )
    ws.set_sources([{"name": "u", "path": "leads.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    # the whole, well-formed lines after it load under their own row numbers
    assert fetch(ws, "SELECT lead_id, company, source_row FROM leads ORDER BY 1") == [
        ("U1", "Acme Test", 2),
        ("U3", "Globex Test", 4),
        ("U4", "Initech Test", 5),
        ("U5", "Umbrella, Test", 6),
        ("U6", "Hooli Test", 7),
    ]
    rows = fetch(ws, "SELECT source_row, reason, value FROM quarantine")
    assert [r[:2] for r in rows] == [(3, "malformed row")]
    assert "U2" in rows[0][2] and "Broken Test Co" in rows[0][2] and "Globex" not in rows[0][2]


def test_quoted_multi_line_value_with_a_record_like_line_stays_one_value(ws: Workspace) -> None:
    address = (
        "Globex Test\nSuite 5, Floor 2, East\nUSA"  # the middle line has 3 fields, like a record
    )
    (ws.root / "leads.csv").write_text(
        "lead_id,created_at,company\n"
        "C0,2024-02-29,Acme Test\n"
        f'C1,2024-03-01,"{address}"\n'
        "C2,2024-03-02,Initech Test\n"
    )
    ws.set_sources([{"name": "m", "path": "leads.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    assert fetch(ws, "SELECT lead_id, company, source_row FROM leads ORDER BY 1") == [
        ("C0", "Acme Test", 2),
        ("C1", address, 3),
        ("C2", "Initech Test", 4),
    ]
    assert fetch(ws, "SELECT count(*) FROM quarantine") == [(0,)]


def test_encoding_error_names_the_record_row(ws: Workspace) -> None:
    (ws.root / "leads.csv").write_bytes(
        b'lead_id,created_at,company\nA1,2024-01-01,"Two\nlines"\nA2,2024-01-02,Caf\xe9 Test\n'
    )
    ws.set_sources([{"name": "enc", "path": "leads.csv", "format": "csv", "table": "leads"}])
    with pytest.raises(BadFileError, match=r"row (\d+)") as err:
        ingest(ws)
    assert "row 3:" in str(err.value)


def test_malformed_rows_do_not_leak_personal_columns(ws: Workspace) -> None:
    (ws.root / "leads.csv").write_text(
        "lead_id,created_at,Phone,Full Name,Email\n"
        "P1,2024-01-01,+1 555-0141,Test Person Yankee,p1@example.com\n"
        "P2,2024-01-02,+1 555-0142,Test Person Zulu,p2@example.com,EXTRA\n"
    )
    ws.set_sources([{"name": "p", "path": "leads.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    assert fetch(ws, "SELECT source_row, reason FROM quarantine") == [(3, "malformed row")]
    values = [v for _, _, v in text_values(ws)]
    assert not any("p2@example.com" in v for v in values)  # this part holds: e-mails are masked
    assert not any("555-014" in v or "Test Person" in v for v in values)


SHIFTED = {
    # an unquoted comma in the company name pushes the name and phone one field to the right
    "extra_field": "P2,2024-01-02,Acme, Test Inc,Test Person Zulu,+1 555-0142\n",
    # a missing created_at pulls them one field to the left
    "missing_field": "P2,Acme Test Inc,Test Person Zulu,+1 555-0142\n",
}


@pytest.mark.parametrize("line", list(SHIFTED.values()), ids=list(SHIFTED))
def test_malformed_rows_with_shifted_fields_do_not_leak_personal_data(
    ws: Workspace, line: str
) -> None:
    (ws.root / "leads.csv").write_text(
        "lead_id,created_at,company,Full Name,Phone\n"
        "P1,2024-01-01,Acme Test Inc,Test Person Yankee,+1 555-0141\n" + line
    )
    ws.set_sources([{"name": "p", "path": "leads.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    assert fetch(ws, "SELECT source_row, reason FROM quarantine") == [(3, "malformed row")]
    values = [v for _, _, v in text_values(ws)]
    assert not any("555-014" in v or "Test Person" in v for v in values)


def test_malformed_row_with_a_long_token_is_quarantined(ws: Workspace) -> None:
    """How long it takes is measured in bench/bench_bad_rows.py, beside the same file with short tokens."""
    token = "x" * 300_000  # e.g. a base64 blob or a long URL pasted into a cell
    (ws.root / "leads.csv").write_text(
        f"lead_id,created_at\nL1,2024-01-01\nL2,2024-01-02,{token}\n"
    )
    ws.set_sources([{"name": "long", "path": "leads.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    assert fetch(ws, "SELECT source_row, reason FROM quarantine") == [(3, "malformed row")]
    assert fetch(ws, "SELECT lead_id FROM leads") == [("L1",)]


def test_the_quarantine_record_masks_every_text_column_with_one_expression() -> None:
    """A quarantined row's record: personal columns dropped, e-mails and phone numbers masked in the other text
    columns, numbers as read; the masking (nine regular expressions, tens of milliseconds for DuckDB to compile)
    is written once for all the text columns, not once per column."""
    import duckdb

    from leadjourney.ingest.load import raw_record_sql
    from leadjourney.ingest.personal import scrub_text_sql

    columns = {"Lead ID": "VARCHAR", "Email": "VARCHAR", "Notes": "VARCHAR", "Company": "VARCHAR", "Employees": "BIGINT"}
    record = raw_record_sql(columns, keep_personal=False)
    assert record.count("regexp_replace(") == scrub_text_sql("x").count("regexp_replace(")
    row = duckdb.sql(f"""SELECT {record} FROM (VALUES ('L-1', 'ann@example.com', 'call +1 415 555 0100 or ann@example.com',
                         NULL, 12)) AS t("Lead ID", "Email", "Notes", "Company", "Employees")""").fetchall()
    assert json.loads(row[0][0]) == {"Lead ID": "L-1", "Notes": "call [phone] or [email]", "Company": None,
                                     "Employees": 12}
    kept = duckdb.sql(f"""SELECT {raw_record_sql(columns, keep_personal=True)} FROM (VALUES ('L-1', 'a@b.co', 'x', 'Acme',
                          3)) AS t("Lead ID", "Email", "Notes", "Company", "Employees")""").fetchall()
    assert json.loads(kept[0][0]) == {"Lead ID": "L-1", "Email": "a@b.co", "Notes": "x", "Company": "Acme",
                                      "Employees": 3}


def test_key_conflicts_judged_against_the_table_as_each_source_finds_it(ws: Workspace) -> None:
    """Sources are typed and checked before the transaction that writes them: a key conflict is still judged
    against the table as it is when the source's rows load (a source's own earlier rows gone, the rows of the
    sources before it in this ingest there, the rows of a source re-ingested after it still there)."""
    header = "lead_id,created_at,source\n"
    (ws.root / "a.csv").write_text(header + "A1,2024-01-01T10:00:00Z,seo\nS1,2024-01-01T10:00:00Z,seo\n")
    (ws.root / "b.csv").write_text(header + "B1,2024-01-02T10:00:00Z,ppc\nS1,2024-01-02T10:00:00Z,ppc\n")
    ws.set_sources([{"name": n, "path": f"{n}.csv", "format": "csv", "table": "leads"} for n in ("a", "b")])
    ingest(ws)
    assert fetch(ws, "SELECT lead_id, origin FROM leads ORDER BY 1") == [("A1", "a"), ("B1", "b"), ("S1", "a")]
    conflicts = "SELECT origin, value, detail FROM quarantine WHERE reason = 'lead_id loaded by another source'"
    assert fetch(ws, conflicts) == [("b", "S1", "already loaded by source a")]

    # a's S1 gone: b, ingested after a, now loads its S1; a's own earlier S1 is no conflict for a
    (ws.root / "a.csv").write_text(header + "A1,2024-01-01T10:00:00Z,seo\nA2,2024-01-03T10:00:00Z,seo\n")
    ingest(ws, force=True)
    assert fetch(ws, "SELECT lead_id, origin FROM leads ORDER BY 1") == [
        ("A1", "a"), ("A2", "a"), ("B1", "b"), ("S1", "b")]
    assert fetch(ws, conflicts) == []

    # a takes S1 back while b still has it: a, ingested first, meets b's loaded S1 (b's rows are replaced later)
    (ws.root / "a.csv").write_text(header + "A1,2024-01-01T10:00:00Z,seo\nS1,2024-01-01T10:00:00Z,seo\n")
    ingest(ws)
    assert fetch(ws, "SELECT lead_id, origin FROM leads ORDER BY 1") == [("A1", "a"), ("B1", "b"), ("S1", "b")]
    assert fetch(ws, conflicts) == [("a", "S1", "already loaded by source b")]
