"""Bad files shaped like real CRM exports: every good row loads, each bad row is quarantined with file, row,
column and reason, and the command says so in one line; Ctrl-C leaves the workspace as it was."""

from __future__ import annotations

import codecs
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import counts, csv_text, fetch, run_cli, snapshot
from leadjourney.errors import BadFileError
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

SF_HEADER = ["Lead ID", "Lead Owner", "First Name", "Last Name", "Title", "Company / Account", "Email",
             "Lead Source", "Lead Status", "Create Date", "Industry", "No. of Employees", "Country", "Converted"]
HS_HEADER = ["Record ID", "First Name", "Last Name", "Email", "Create Date", "Lifecycle Stage", "Lead Status",
             "Original Source", "Company Name", "Industry", "Number of Employees", "Country/Region", "Job Title",
             "Contact owner", "Became a Lead Date", "Became a Marketing Qualified Lead Date"]


def sf_rows(n: int) -> list[list[str]]:
    """Salesforce Leads report rows, ids 00QTEST000000001 on (row i + 2 in the file)."""
    return [[f"00QTEST{i:09d}", "Owner Alpha", "Test", f"Lead-{i}", "IT Manager", f"Northwind Test {i % 97}",
             f"lead{i}@example.com", "Web", "Open - Not Contacted", f"3/{1 + i % 28}/2024, 2:22 PM", "Retail",
             f"{10 + i % 900}", "USA", "0"] for i in range(n)]


def hs_rows(n: int) -> list[list[str]]:
    """HubSpot contacts export rows, record ids 5000 on."""
    return [[str(5000 + i), "Test", f"Contact-{i}", f"c{i}@example.com", f"2024-03-{1 + i % 28:02d} 14:22", "lead",
             "New", "Organic Search", f"Acme Test {i % 89}", "Manufacturing", "250", "United States", "Analyst",
             "Owner One", f"2024-03-{1 + i % 28:02d} 14:22", ""] for i in range(n)]


def source(ws: Workspace, file: str, fmt: str, **settings: str) -> None:
    ws.set_sources([{"name": "export", "path": file, "format": fmt, **settings}])


def quarantined(ws: Workspace) -> list[dict[str, Any]]:
    with ws.connect() as con:
        cur = con.execute("SELECT source_file, source_row, column_name, value, reason, detail, action, record "
                          "FROM quarantine ORDER BY source_row")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def problem_line(stdout: str, file: str) -> str:
    """The one line the command prints about the rows of ``file`` it did not load."""
    lines = [line for line in stdout.splitlines() if line.startswith(f"{file}: ") and "quarantined" in line]
    assert len(lines) == 1, stdout
    return lines[0]


# ------------------------------------------------------------------------------------------- values the store refuses


LONG = "x" * 200_000  # e.g. a pasted document in a description field


@pytest.mark.parametrize("multi_line", [False, True], ids=["one_line_values", "with_a_multi_line_value"])
def test_a_200_kb_field_quarantines_its_row_and_loads_the_rest(ws: Workspace, multi_line: bool) -> None:
    rows = sf_rows(1000)
    rows[600][5] = LONG  # Company / Account of file row 602
    if multi_line:  # a quoted address over two lines sends the file through the careful (csv module) split
        rows[10][5] = "Northwind Test\nSuite 5"
    (ws.root / "leads.csv").write_text(csv_text(SF_HEADER, rows), "utf-8")
    source(ws, "leads.csv", "salesforce_leads")
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    loaded = {r[0] for r in fetch(ws, "SELECT lead_id FROM leads")}
    assert loaded == {r[0] for i, r in enumerate(rows) if i != 600}
    [q] = quarantined(ws)
    assert (q["source_file"], q["source_row"], q["column_name"], q["reason"], q["action"]) == (
        "leads.csv", 602, "Company / Account", "value too long", "row_rejected")
    assert "200,000 characters" in q["detail"] and len(q["value"]) < 300
    assert json.loads(q["record"])["Lead ID"] == rows[600][0]
    line = problem_line(result.stdout, "leads.csv")
    assert "row 602 column 'Company / Account': value too long" in line


def test_nul_bytes_in_10_of_1000_rows_quarantine_those_rows_only(ws: Workspace) -> None:
    rows = hs_rows(1000)
    damaged = list(range(7, 1000, 100))  # 10 rows
    for i in damaged:
        rows[i][8] = "Acme\x00\x00Test"  # Company Name
    (ws.root / "contacts.csv").write_text(csv_text(HS_HEADER, rows), "utf-8")
    source(ws, "contacts.csv", "hubspot_contacts")
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert {r[0] for r in fetch(ws, "SELECT lead_id FROM leads")} == {
        r[0] for i, r in enumerate(rows) if i not in damaged}
    # their stage events stay out too: nothing of a damaged row loads
    assert fetch(ws, "SELECT count(*) FROM stage_events WHERE origin = 'export'") == [(990,)]
    q = quarantined(ws)
    assert [(x["source_file"], x["source_row"], x["column_name"], x["reason"]) for x in q] == [
        ("contacts.csv", i + 2, "Company Name", "NUL byte") for i in damaged]
    assert q[0]["value"] == "Acme\\0\\0Test"
    assert "\x00" not in json.dumps([x["record"] for x in q])
    # the record leaves personal columns out, as every quarantine record does
    assert "c7@example.com" not in q[0]["record"] and "Contact-7" not in q[0]["record"]
    line = problem_line(result.stdout, "contacts.csv")
    assert "10 row(s)" in line and "row 9 column 'Company Name': NUL byte" in line


def test_parquet_text_with_nul_bytes_or_over_128_kb_quarantines_those_rows_only(ws: Workspace) -> None:
    """As in a CSV: a Parquet string value with a NUL byte or over 128 KB sets its row aside, naming the column."""
    n = 500
    company = [f"Northwind Test {i}" for i in range(n)]
    notes: list[str | None] = [None] * n
    company[40], company[41], notes[300] = "Acme\x00Test", "Zeta\x00", LONG
    pq.write_table(pa.table({
        "Lead ID": [f"00QTEST{i:09d}" for i in range(n)],
        "Create Date": pa.array([datetime(2024, 3, 1 + i % 28, 14, 22) for i in range(n)], pa.timestamp("us")),
        "Company": company, "Lead Source": ["Web"] * n, "Description": notes,
    }), ws.root / "leads.parquet")
    ws.set_sources([{"name": "export", "path": "leads.parquet", "format": "parquet", "table": "leads",
                     "columns": {"lead_id": "Lead ID", "created_at": "Create Date", "company": "Company",
                                 "source": "Lead Source"}}])
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert fetch(ws, "SELECT count(*) FROM leads") == [(n - 3,)]
    assert fetch(ws, "SELECT count(*) FROM leads WHERE lead_id IN ('00QTEST000000040', '00QTEST000000300')") == [(0,)]
    q = quarantined(ws)
    assert [(x["source_file"], x["source_row"], x["column_name"], x["reason"], x["action"]) for x in q] == [
        ("leads.parquet", 41, "Company", "NUL byte", "row_rejected"),
        ("leads.parquet", 42, "Company", "NUL byte", "row_rejected"),
        ("leads.parquet", 301, "Description", "value too long", "row_rejected")]
    assert q[0]["value"] == "Acme\\0Test" and len(q[2]["value"]) < 300
    assert json.loads(q[2]["record"])["Lead ID"] == "00QTEST000000300"
    assert "3 row(s)" in problem_line(result.stdout, "leads.parquet")


def test_a_row_set_aside_while_reading_keeps_no_e_mail_or_phone_in_quarantine(ws: Workspace) -> None:
    """Its bad value and its record are masked as every kept text is ([email], [phone]); personal columns hidden."""
    rows = hs_rows(3)
    rows[1][8] = "Acme\x00 ask jane.roe@example.com or +1 555 010 0199"  # Company Name, with a NUL byte
    (ws.root / "contacts.csv").write_text(csv_text([*HS_HEADER, "Notes"], [[*r, "call +1 555 010 0188"] for r in rows]))
    source(ws, "contacts.csv", "hubspot_contacts")
    assert run_cli("ingest", str(ws.root)).returncode == 0
    [q] = quarantined(ws)
    assert (q["source_row"], q["column_name"], q["reason"]) == (3, "Company Name", "NUL byte")
    assert q["value"] == "Acme\\0 ask [email] or [phone]"
    record = json.loads(q["record"])
    assert record["Notes"] == "call [phone]" and "Email" not in record and "Last Name" not in record
    assert "example.com" not in q["record"] and "555" not in q["record"]


def test_a_small_file_with_nul_bytes_in_some_rows_is_not_taken_for_binary(ws: Workspace) -> None:
    (ws.root / "leads.csv").write_bytes(b"lead_id,created_at\nL1,2024-01-01\nL2,2024-01-02,a\x00b\n"
                                        b"L3,2024-01-03\nL4,2024-01-\x0004\nL5,2024-01-05\n")
    source(ws, "leads.csv", "csv", table="leads")
    ingest(ws)
    assert fetch(ws, "SELECT lead_id FROM leads ORDER BY 1") == [("L1",), ("L3",), ("L5",)]
    assert [(x["source_row"], x["column_name"], x["value"], x["reason"]) for x in quarantined(ws)] == [
        (3, None, "L2,2024-01-02,a\\0b", "malformed row"),
        (5, "created_at", "2024-01-\\004", "NUL byte"),
    ]


def test_a_file_whose_only_line_ending_is_cr_loads(ws: Workspace) -> None:
    """Excel for Mac's old "CSV (Macintosh)" ends lines with CR alone: every row loads, numbered as in the sheet."""
    rows = sf_rows(30)
    rows[7][4] = "Head of R&D"
    (ws.root / "leads.csv").write_bytes(csv_text(SF_HEADER, rows).replace("\n", "\r").encode("utf-8"))
    source(ws, "leads.csv", "salesforce_leads")
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert {r[0] for r in fetch(ws, "SELECT lead_id FROM leads")} == {r[0] for r in rows}
    assert fetch(ws, "SELECT source_row, company FROM leads WHERE lead_id = '00QTEST000000007'") == [
        (9, "Northwind Test 7")]
    assert quarantined(ws) == []


def test_a_cr_alone_inside_a_value_stays_in_it_instead_of_splitting_the_row(ws: Workspace) -> None:
    """A CR typed in a cell, the file's lines ending in LF: the value keeps it and the row loads whole; the
    rows after it keep their numbers. Split at that CR, a row would have become two rows of the right width."""
    rows = hs_rows(6)
    rows[1][8] = "Acme\rTest"  # Company Name: one row either way, the CR inside it
    rows[3][12] = "Analyst\r6000,Test,Split,s@example.com,2024-03-01 14:22,lead,New,Organic Search,Acme,Retail,1,US,x"
    text = csv_text(HS_HEADER, rows).replace('"', "")  # unquoted, as a careless export writes them
    (ws.root / "contacts.csv").write_bytes(text.encode("utf-8"))
    source(ws, "contacts.csv", "hubspot_contacts")
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert fetch(ws, "SELECT lead_id, source_row, company FROM leads ORDER BY source_row") == [
        ("5000", 2, "Acme Test 0"), ("5001", 3, "Acme\rTest"), ("5002", 4, "Acme Test 2"),
        ("5004", 6, "Acme Test 4"), ("5005", 7, "Acme Test 5")]
    assert [(x["source_row"], x["reason"]) for x in quarantined(ws)] == [(5, "malformed row")]  # no lead 6000
    assert "row 5: " in problem_line(result.stdout, "contacts.csv")


def test_a_binary_file_is_still_refused_in_one_line(ws: Workspace) -> None:
    (ws.root / "image.csv").write_bytes(bytes(range(256)) * 200)
    source(ws, "image.csv", "csv", table="leads")
    with pytest.raises(BadFileError, match=r"image\.csv: expected a CSV text file, found binary data"):
        ingest(ws)


# ------------------------------------------------------------------------------------------- UTF-16


UTF16 = {
    "utf-16 with BOM": ("utf-16", codecs.BOM_UTF16_LE, "utf-16-le"),
    "utf-16-le": ("utf-16-le", b"", "utf-16-le"),
    "utf-16-be": ("utf-16-be", b"", "utf-16-be"),
    "utf-16-be with BOM": ("utf-16", codecs.BOM_UTF16_BE, "utf-16-be"),
}


@pytest.mark.parametrize(("encoding", "bom", "codec"), list(UTF16.values()), ids=list(UTF16))
def test_utf16_exports_load_with_encoding_set(ws: Workspace, encoding: str, bom: bytes, codec: str) -> None:
    rows = sf_rows(50)
    rows[3][5] = "Müller Test GmbH, Zürich 東京 🚀"
    (ws.root / "leads.csv").write_bytes(bom + csv_text(SF_HEADER, rows).encode(codec))
    source(ws, "leads.csv", "salesforce_leads", encoding=encoding)
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert fetch(ws, "SELECT count(*) FROM leads") == [(50,)]
    assert fetch(ws, "SELECT company, source_row FROM leads WHERE lead_id = ?", [rows[3][0]]) == [
        ("Müller Test GmbH, Zürich 東京 🚀", 5)]
    assert fetch(ws, "SELECT count(*) FROM quarantine") == [(0,)]


def test_utf16_with_a_bom_loads_without_the_setting_and_without_one_says_what_to_set(ws: Workspace) -> None:
    text = csv_text(SF_HEADER, sf_rows(5))
    (ws.root / "marked.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    source(ws, "marked.csv", "salesforce_leads")
    ingest(ws)
    assert fetch(ws, "SELECT count(*) FROM leads") == [(5,)]
    (ws.root / "bare.csv").write_bytes(text.encode("utf-16-le"))
    source(ws, "bare.csv", "salesforce_leads")
    with pytest.raises(BadFileError, match=r"bare\.csv: .*UTF-16.*encoding = \"utf-16-le\""):
        ingest(ws)


# ------------------------------------------------------------------------------------------- silent damage


@pytest.mark.parametrize("last", ['"Acme ""quot', '"Acme quot', '"Acme ""quot\n'],
                         ids=["escaped_quote_no_newline", "no_newline", "newline"])
def test_a_quote_open_at_the_end_of_the_file_is_quarantined(ws: Workspace, last: str) -> None:
    company = SF_HEADER.index("Company / Account")
    header = [h for h in SF_HEADER if h != "Company / Account"] + ["Company / Account"]  # the report's last column
    rows = [[v for i, v in enumerate(r) if i != company] + [r[company]] for r in sf_rows(4)]
    body = csv_text(header, rows[:3])
    start = csv_text(header[:-1], [rows[3][:-1]]).splitlines()[1]  # the last record up to its open quote
    (ws.root / "leads.csv").write_text(body + start + "," + last, "utf-8")
    rows = rows[:3]
    source(ws, "leads.csv", "salesforce_leads")
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert sorted(r[0] for r in fetch(ws, "SELECT lead_id FROM leads")) == [r[0] for r in rows]
    assert fetch(ws, "SELECT count(*) FROM leads WHERE company LIKE '%quot%'") == [(0,)]
    [q] = quarantined(ws)
    assert (q["source_file"], q["source_row"], q["reason"], q["detail"]) == (
        "leads.csv", 5, "malformed row", "a quoted field is never closed")
    assert "row 5: malformed row" in problem_line(result.stdout, "leads.csv")


def test_duplicate_headers_are_a_warning_and_the_first_column_is_read(ws: Workspace) -> None:
    header = [*SF_HEADER, "Lead Status"]  # e.g. a report with the column added twice
    rows = [[*r, "Closed - Converted"] for r in sf_rows(4)]
    (ws.root / "leads.csv").write_text(csv_text(header, rows), "utf-8")
    source(ws, "leads.csv", "salesforce_leads")
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert fetch(ws, "SELECT DISTINCT status FROM leads") == [("open",)]  # the first "Lead Status"
    assert fetch(ws, "SELECT note, column_name, value FROM ingest_notes WHERE note = 'duplicate_column'") == [
        ("duplicate_column", "Lead Status", "Lead Status_2")]
    warnings = [line for line in result.stdout.splitlines() if line.startswith("leads.csv: warning:")]
    assert warnings == ["leads.csv: warning: column 'Lead Status' appears more than once in the header: the "
                        "first is read (the repeat is named 'Lead Status_2')."]


def test_duplicate_parquet_columns_are_a_warning_too(ws: Workspace) -> None:
    table = pa.Table.from_arrays([pa.array(["P1", "P2"]), pa.array(["seo", "ppc"]), pa.array(["email", "email"])],
                                 names=["lead_id", "source", "source"])
    pq.write_table(table, ws.root / "leads.parquet")
    source(ws, "leads.parquet", "parquet", table="leads")
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert fetch(ws, "SELECT lead_id, source FROM leads ORDER BY 1") == [("P1", "seo"), ("P2", "paid_search")]
    assert "leads.parquet: warning: column 'source' appears more than once in the header: the first is read " \
           "(the repeat is named 'source_1')." in result.stdout


def test_parquet_decimal_ids_and_epoch_numbers_are_read_with_a_warning(ws: Workspace) -> None:
    seconds = [1709648520, 1709734920, 0, 1709821320]  # 2024-03-05 14:22 UTC on; 0: a placeholder
    pq.write_table(pa.table({
        "lead_id": pa.array([1.0, 2.0, 3.0, 4.5], pa.float64()),  # pandas writes an id column with gaps as floats
        "created_at": pa.array(seconds, pa.int64()),
    }), ws.root / "leads.parquet")
    pq.write_table(pa.table({
        "lead_id": pa.array([1.0, 2.0], pa.float64()),
        "stage": ["MQL", "MQL"],
        "entered_at": pa.array([1709907720000, 1709994120000], pa.int64()),  # milliseconds, as HubSpot's API
    }), ws.root / "events.parquet")
    ws.set_sources([
        {"name": "leads", "path": "leads.parquet", "format": "parquet", "table": "leads"},
        {"name": "events", "path": "events.parquet", "format": "parquet", "table": "stage_events"},
    ])
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert fetch(ws, "SELECT lead_id, created_at FROM leads ORDER BY 1") == [
        ("1", datetime(2024, 3, 5, 14, 22)), ("2", datetime(2024, 3, 6, 14, 22))]
    # the ids join: the events of leads "1" and "2" belong to them
    assert fetch(ws, "SELECT lead_id, entered_at FROM stage_events WHERE origin = 'events' ORDER BY 1") == [
        ("1", datetime(2024, 3, 8, 14, 22)), ("2", datetime(2024, 3, 9, 14, 22))]
    q = quarantined(ws)
    assert [(x["source_file"], x["source_row"], x["column_name"], x["value"], x["reason"], x["action"]) for x in q] == [
        ("leads.parquet", 3, "created_at", "0", "not an epoch time in s, ms, µs or ns after 1973", "row_rejected"),
        ("leads.parquet", 4, "lead_id", "4.5", "not a whole-number id", "row_rejected"),
    ]
    out = result.stdout
    assert "row 3 column 'created_at': not an epoch time" in problem_line(out, "leads.parquet")
    assert "leads.parquet: warning: created_at holds numbers: 3 read as epoch seconds (UTC)" in out
    assert "events.parquet: warning: entered_at holds numbers: 2 read as epoch milliseconds (UTC)" in out
    assert "leads.parquet: warning: lead_id holds ids as decimal numbers (DOUBLE): 3 whole ones" in out

# ------------------------------------------------------------------------------------------- Ctrl-C


def _big_leads_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("lead_id,created_at,source,company,job_title,employee_count,country,email\n")
        for i in range(rows):
            out.write(f"B{i:07d},2024-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d},Organic Search,"
                      f"Company {i % 977},Engineer,{i % 5000},US,b{i}@example.com\n")


def _ctrl_c_default() -> None:
    """In the child before exec: Ctrl-C as a terminal gives it, even when pytest runs in a background job
    (which starts with SIGINT ignored, and an ignored signal stays ignored across exec)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _holds_open(pid: int, path: Path) -> bool:
    """True when process ``pid`` has ``path`` open (Linux /proc)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                return True
        except OSError:
            continue
    return False


def _loads_duckdb(pid: int) -> bool:
    """True once process ``pid`` has DuckDB's library mapped: the command's own modules are loading."""
    try:
        return "_duckdb" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _wait_for(proc: subprocess.Popen[str], moment: str, database: Path) -> None:
    """Return at ``moment`` of the command: "starting" (its modules loading, the database not opened yet),
    "ingesting" (the ingest's transaction under way: the database held open for half a second) or "committed"
    (the database held for a while, then let go: the commit done, the report being printed)."""
    held_since = None
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if moment == "starting":
            if _loads_duckdb(proc.pid) and not _holds_open(proc.pid, database):
                return
        elif _holds_open(proc.pid, database):
            held_since = held_since or time.monotonic()
            if moment == "ingesting" and time.monotonic() - held_since > 0.5:
                return
        elif moment == "committed" and held_since and time.monotonic() - held_since > 0.5:
            return
        else:
            held_since = None
        time.sleep(0.005)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="watches the ingest through /proc (Linux)")
@pytest.mark.databases_closed  # the ingest runs in a process of its own
@pytest.mark.parametrize(("moment", "how"), [
    ("starting", "--file"), ("ingesting", "configured"),
    pytest.param("ingesting", "--file", marks=pytest.mark.slow),  # a real process each: make test-integration
    pytest.param("committed", "--file", marks=pytest.mark.slow)])
def test_ctrl_c_at_any_moment_of_an_ingest_exits_130_and_says_what_the_workspace_holds(
        ws: Workspace, moment: str, how: str) -> None:
    """Before the commit: exit 130, "interrupted; the workspace is unchanged", and it is (the --file
    registration taken back too). After it: the new data stays and the command says the ingest completed
    (exit 130 with that line, or the whole report if it had finished printing first)."""
    (ws.root / "small.csv").write_text("lead_id,created_at,source\nS1,2024-01-01,seo\nS2,2024-01-02,ppc\n")
    ws.set_sources([{"name": "small", "path": "small.csv", "format": "csv", "table": "leads"}])
    ingest(ws)
    _big_leads_csv(ws.root / "big.csv", 300_000 if moment == "ingesting" else 30_000)
    args = [str(ws.root)]
    if how == "configured":
        ws.set_sources([{"name": "big", "path": "big.csv", "format": "csv", "table": "leads"}])
    else:  # registered by the command itself, which must take the registration back too
        args += ["--file", str(ws.root / "big.csv"), "--format", "csv", "--table", "leads"]
    before, tables, config = snapshot(ws), counts(ws), ws.config_path.read_text("utf-8")
    assert tables["leads"] == 2
    database = ws.database_path.resolve()
    proc = subprocess.Popen([sys.executable, "-m", "leadjourney", "ingest", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_default)
    try:
        _wait_for(proc, moment, database)
        if moment != "committed":
            assert proc.poll() is None, f"the ingest ended before it could be interrupted {moment}"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "internal error" not in out + err
    assert "Traceback" not in err
    reopened = Workspace.open(ws.root)
    if moment == "committed":
        assert (proc.returncode, err.strip()) in {
            (130, "interrupted after the ingest completed: the workspace holds the new data"), (0, "")}, (out, err)
        assert counts(reopened)["leads"] == 2 + 30_000
        assert "big" in ws.config_path.read_text("utf-8")
        return
    assert proc.returncode == 130, (out, err)
    assert err.strip() == "interrupted; the workspace is unchanged", err
    assert counts(reopened) == tables
    assert snapshot(reopened) == before
    assert fetch(reopened, "SELECT count(*) FROM leads WHERE origin = 'small'") == [(2,)]
    assert ws.config_path.read_text("utf-8") == config


# ------------------------------------------------------------------------------------------- epochs as text; quality


def test_epoch_numbers_written_as_text_are_read_with_a_warning(ws: Workspace) -> None:
    """A CSV whose Create Date holds epoch numbers (an API dump saved as CSV): read in the unit their size
    tells, warned like numeric Parquet columns; a number no unit makes a date of is quarantined."""
    rows = [["L1", "1714567890", "Organic Search"], ["L2", "1714567890123", "Organic Search"],
            ["L3", "1714567890123456", "Paid Search"], ["L4", "12345", "Paid Search"],
            ["L5", "2024-05-01 12:51", "Paid Search"]]
    (ws.root / "leads.csv").write_text(csv_text(["lead_id", "created_at", "source"], rows), "utf-8")
    source(ws, "leads.csv", "csv", table="leads")
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    assert fetch(ws, "SELECT lead_id, created_at FROM leads ORDER BY 1") == [
        ("L1", datetime(2024, 5, 1, 12, 51, 30)), ("L2", datetime(2024, 5, 1, 12, 51, 30, 123000)),
        ("L3", datetime(2024, 5, 1, 12, 51, 30, 123456)), ("L5", datetime(2024, 5, 1, 12, 51))]
    assert [(x["source_row"], x["column_name"], x["value"], x["reason"]) for x in quarantined(ws)] == [
        (5, "created_at", "12345", "unparseable timestamp")]
    warnings = sorted(line for line in result.stdout.splitlines() if line.startswith("leads.csv: warning:"))
    assert warnings == [f"leads.csv: warning: created_at holds numbers: 1 read as epoch {unit} (UTC), the unit "
                        "told by their size." for unit in ("microseconds", "milliseconds", "seconds")]


HOSTILE_HEADER = "<script>alert(1)</script>|\x1b[31m"


def test_quality_shows_the_ingest_warnings_and_quarantine_escaped_in_every_renderer(ws: Workspace) -> None:
    header = ["lead_id", "created_at", "source", HOSTILE_HEADER, HOSTILE_HEADER]
    rows = [["L1", "1714567890", "seo", "a", "b"], ["L2", "2024-05-02", "ppc", "c", "d"],
            ["L3", "not a date", "ppc", "e", "f"]]
    (ws.root / "leads.csv").write_text(csv_text(header, rows), "utf-8")
    pq.write_table(pa.table({"lead_id": pa.array([7.0, 8.0], pa.float64()), "stage": ["MQL", "MQL"],
                             "entered_at": ["2024-05-03", "2024-05-04"]}), ws.root / "events.parquet")
    ws.set_sources([{"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads"},
                    {"name": "events", "path": "events.parquet", "format": "parquet", "table": "stage_events"}])
    assert run_cli("ingest", str(ws.root)).returncode == 0
    result = run_cli("quality", str(ws.root))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in ("Header repeated in a file", "Numbers read as epoch timestamps", "Ids written as decimal numbers"):
        assert title in out
    assert "leads.csv: leads.created_at as epoch seconds" in out
    assert "Quarantine" in out and "unparseable timestamp: 1 row(s) not loaded" in out
    assert "\x1b" not in out  # the header's escape sequence is shown, not obeyed
    markdown = (ws.out_dir / "quality.md").read_text("utf-8")
    assert "## Header repeated in a file" in markdown and "## Ids written as decimal numbers" in markdown
    outside_code = re.sub(r"`[^`\n]*`", "", markdown)  # in a code span it is shown as text, not run
    assert "<script>" not in outside_code and "\x1b" not in markdown
    assert "| unparseable timestamp |" in markdown
    report = json.loads((ws.out_dir / "quality.json").read_text("utf-8"))
    checks = {r["name"]: r for r in report["results"]}
    assert [d["column"] for d in checks["duplicate_columns"]["details"]] == [HOSTILE_HEADER]
    assert [(d["file"], d["column"], d["value"], d["n"]) for d in checks["epoch_numbers"]["details"]] == [
        ("leads.csv", "created_at", "seconds", 1)]
    assert [(d["file"], d["column"], d["value"]) for d in checks["decimal_ids"]["details"]] == [
        ("events.parquet", "lead_id", "DOUBLE")]
