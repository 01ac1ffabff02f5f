"""Bad files, re-ingest and interruptions: the workspace is either fully updated or left as it was."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from conftest import DATA, counts, fetch, set_option, snapshot
from leadjourney.errors import BadFileError, IngestError, WorkspaceError
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

SAMPLES = {
    "hubspot": (
        "hubspot_contacts.csv",
        {"format": "hubspot_contacts", "timezone": "America/New_York"},
    ),
    "sf_leads": (
        "salesforce_leads.csv",
        {"format": "salesforce_leads", "timezone": "America/Los_Angeles"},
    ),
    "sf_history": ("salesforce_lead_history.csv", {"format": "salesforce_lead_history"}),
    "sf_opps": ("salesforce_opportunities.csv", {"format": "salesforce_opportunities"}),
    "canon_leads": ("canonical_leads.csv", {"format": "csv", "table": "leads"}),
    "canon_events": ("canonical_stage_events.csv", {"format": "csv", "table": "stage_events"}),
    "canon_touch": ("canonical_touchpoints.csv", {"format": "csv", "table": "touchpoints"}),
    "canon_opps": ("canonical_opportunities.csv", {"format": "csv", "table": "opportunities"}),
}


def _with_samples(ws: Workspace, names: tuple[str, ...] = tuple(SAMPLES)) -> Workspace:
    """Copy sample files into the workspace folder and configure them with relative paths."""
    entries = []
    for name in names:
        file, settings = SAMPLES[name]
        shutil.copy(DATA / file, ws.root / file)
        entries.append({"name": name, "path": file, **settings})
    ws.set_sources(entries)
    return ws


# ------------------------------------------------------------------------------------------- bad files

BAD_FILES = [
    ("not_utf8.csv", {}, [r"row 4\b", "0xfc", "utf-8", "encoding"]),
    ("semicolon.csv", {}, ["row 1", "';'", "delimiter"]),
    ("missing_columns.csv", {}, ["lead_id", "'Lead Number'"]),
    ("excel_workbook.csv", {}, ["ZIP", "Excel", "CSV"]),
    ("empty.csv", {}, ["empty file"]),
    ("canonical_leads.csv", {"format": "parquet"}, ["Parquet"]),
]


@pytest.mark.parametrize(
    ("file", "settings", "needles"), BAD_FILES, ids=[b[0] + str(b[1]) for b in BAD_FILES]
)
def test_bad_file_is_one_clear_error_and_nothing_is_written(
    ws: Workspace, file: str, settings: dict[str, str], needles: list[str]
) -> None:
    _with_samples(ws, ("canon_leads",))
    ingest(ws)
    before = snapshot(ws)
    (ws.root / "canonical_leads.csv").write_text(
        "lead_id,created_at\nNEW,2024-05-05\n"
    )  # would replace L-*
    source = {
        "name": "bad",
        "path": str(DATA / file),
        "format": "csv",
        "table": "leads",
        **settings,
    }
    ws.set_sources([source])
    with pytest.raises(BadFileError) as err:
        ingest(ws)
    message = str(err.value)
    assert str(DATA / file) in message
    assert "\n" not in message
    for needle in needles:
        assert re.search(needle, message), (needle, message)
    assert snapshot(ws) == before


def test_delimiter_option_reads_the_semicolon_file(ws: Workspace) -> None:
    ws.set_sources(
        [
            {
                "name": "semi",
                "path": str(DATA / "semicolon.csv"),
                "format": "csv",
                "table": "leads",
                "delimiter": ";",
            }
        ]
    )
    ingest(ws)
    assert fetch(ws, "SELECT lead_id, source, company FROM leads ORDER BY 1") == [
        ("S1", "seo", "Acme Test"),
        ("S2", "paid_search", "Globex Test"),
    ]


def test_encoding_option_reads_the_latin1_file(ws: Workspace) -> None:
    ws.set_sources(
        [
            {
                "name": "l1",
                "path": str(DATA / "not_utf8.csv"),
                "format": "csv",
                "table": "leads",
                "encoding": "latin-1",
            }
        ]
    )
    ingest(ws)
    assert fetch(ws, "SELECT company FROM leads WHERE lead_id = 'N3'") == [("Müller Test GmbH",)]


def test_unknown_encoding_and_missing_file(ws: Workspace) -> None:
    ws.set_sources(
        [
            {
                "name": "x",
                "path": str(DATA / "not_utf8.csv"),
                "format": "csv",
                "table": "leads",
                "encoding": "klingon-8",
            }
        ]
    )
    with pytest.raises(BadFileError, match="unknown encoding 'klingon-8'"):
        ingest(ws)
    ws.set_sources([{"name": "x", "path": "nowhere/leads.csv", "format": "csv", "table": "leads"}])
    with pytest.raises(IngestError, match=r"nowhere/leads\.csv: no such file \(source 'x'"):
        ingest(ws)
    assert sum(counts(ws)[t] for t in ("leads", "quarantine", "ingests")) == 0


def test_second_source_bad_rolls_back_the_first(ws: Workspace) -> None:
    _with_samples(ws, ("canon_leads", "hubspot"))
    ingest(ws)
    before = snapshot(ws)
    # the first source changes (it would be re-loaded), the second becomes unreadable
    (ws.root / "canonical_leads.csv").write_text("lead_id,created_at\nNEW,2024-05-05\n")
    (ws.root / "hubspot_contacts.csv").write_bytes((DATA / "not_utf8.csv").read_bytes())
    with pytest.raises(BadFileError, match=r"hubspot_contacts\.csv: row 4"):
        ingest(ws)
    assert snapshot(ws) == before
    # once the file is fixed, the same ingest goes through
    shutil.copy(DATA / "hubspot_contacts.csv", ws.root / "hubspot_contacts.csv")
    report = ingest(ws)
    assert [s.status for s in report.sources] == ["loaded", "unchanged"]
    assert fetch(ws, "SELECT lead_id FROM leads WHERE origin = 'canon_leads'") == [("NEW",)]


@pytest.mark.parametrize("at", ["loading", "writing", "linking"])
def test_ctrl_c_while_typing_writing_or_linking_leaves_the_workspace_as_it_was(ws: Workspace, at: str) -> None:
    """Sources are read and typed before the transaction ("loading"), written in it ("writing"), then the
    identity pass and the derived tables follow ("linking"): Ctrl-C at any of them leaves the workspace as it was."""
    _with_samples(ws, ("canon_leads", "canon_events", "canon_touch"))
    ingest(ws)
    before, counts_before = snapshot(ws), counts(ws)

    def interrupt(message: str, done: int, total: int) -> None:
        if message.startswith(at):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest(ws, force=True, progress=interrupt)
    assert snapshot(ws) == before
    with ws.connect() as con:  # nothing staged is left behind in the database
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'lj_%'").fetchall() == [(0,)]
    report = ingest(ws, force=True)
    assert [s.status for s in report.sources] == ["loaded"] * 3
    assert counts(ws) == {**counts_before, "ingests": 2 * counts_before["ingests"]}  # the same rows again


# ------------------------------------------------------------------------------------------- re-ingest


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_reingest_with_force_gives_identical_tables(ws: Workspace) -> None:
    _with_samples(ws)
    first = ingest(ws)
    before = snapshot(ws, drop=("ingest_id", "started_at", "finished_at"))
    second = ingest(ws, force=True)
    after = snapshot(ws, drop=("ingest_id", "started_at", "finished_at"))
    assert {s.status for s in second.sources} == {"loaded"}
    assert first.table_rows == second.table_rows
    assert sum(first.table_rows.values()) > 100
    for table in ("leads", "stage_events", "touchpoints", "opportunities", "quarantine", "meta"):
        assert after[table] == before[table], table
    # the ingest log gains one entry per source, with the same figures
    assert after["ingests"] == sorted(before["ingests"] * 2, key=lambda r: tuple(str(v) for v in r))


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_unchanged_files_are_skipped_and_a_changed_file_replaces_only_its_rows(
    ws: Workspace,
) -> None:
    _with_samples(ws)
    ingest(ws)
    unchanged = snapshot(ws)
    report = ingest(ws)
    assert {s.status for s in report.sources} == {"unchanged"}
    assert all(not s.rows_loaded for s in report.sources)
    assert snapshot(ws) == unchanged
    others = "origin NOT IN ('hubspot', 'derived:created_at')"
    before = {
        t: fetch(ws, f"SELECT * FROM {t} WHERE {others} ORDER BY ALL")
        for t in ("leads", "stage_events", "touchpoints", "opportunities", "quarantine")
    }
    path = ws.root / "hubspot_contacts.csv"
    lines = path.read_text("utf-8").split("\n")
    text = "\n".join(lines[:-2]) + "\n"  # drop the last contact, 1012
    text = text.replace('"Globex Test Analytics"', '"Globex Test Analytics Renamed"')
    path.write_text(text, "utf-8")
    report = ingest(ws)
    assert {s.name: s.status for s in report.sources} == {
        name: "loaded" if name == "hubspot" else "unchanged" for name in SAMPLES
    }
    after = {t: fetch(ws, f"SELECT * FROM {t} WHERE {others} ORDER BY ALL") for t in before}
    assert after == before
    hubspot = dict(fetch(ws, "SELECT lead_id, company FROM leads WHERE origin = 'hubspot'"))
    assert "1012" not in hubspot and len(hubspot) == 10
    assert hubspot["1002"] == "Globex Test Analytics Renamed"
    assert fetch(ws, "SELECT count(*) FROM stage_events WHERE lead_id = '1012'") == [(0,)]
    assert fetch(ws, "SELECT count(*) FROM stage_events WHERE origin = 'hubspot'") == [(26,)]


def test_changed_settings_reingest_without_force(ws: Workspace) -> None:
    _with_samples(ws, ("canon_leads",))
    ingest(ws)
    assert fetch(ws, "SELECT created_at FROM leads WHERE lead_id = 'L-003'")[0][0].hour == 14  # UTC
    ws.set_sources(
        [
            {
                "name": "canon_leads",
                "path": "canonical_leads.csv",
                "format": "csv",
                "table": "leads",
                "timezone": "Asia/Tokyo",
            }
        ]
    )
    report = ingest(ws)
    assert report.sources[0].status == "loaded"
    assert (
        fetch(ws, "SELECT created_at FROM leads WHERE lead_id = 'L-003'")[0][0].hour == 5
    )  # 14:45 JST


def test_engagement_time_zone_applies_when_the_source_sets_none(ws: Workspace) -> None:
    _with_samples(ws, ("canon_leads",))
    ws = set_option(ws, 'timezone = "UTC"', 'timezone = "America/Chicago"')
    ingest(ws)
    # naive 2024-02-10 14:45 in Chicago (CST, UTC-6); values with an offset are unaffected
    assert fetch(
        ws, "SELECT lead_id, created_at FROM leads WHERE lead_id IN ('L-001', 'L-003') ORDER BY 1"
    ) == [
        ("L-001", datetime(2024, 2, 1, 9, 30)),
        ("L-003", datetime(2024, 2, 10, 20, 45)),
    ]
    ws = set_option(ws, 'timezone = "America/Chicago"', 'timezone = "UTC"')
    report = ingest(ws)  # the zone is part of the source's settings: re-loaded without force
    assert report.sources[0].status == "loaded"
    assert fetch(ws, "SELECT created_at FROM leads WHERE lead_id = 'L-003'") == [
        (datetime(2024, 2, 10, 14, 45),)
    ]


def test_sources_dropped_from_the_config_are_reported_then_pruned(ws: Workspace) -> None:
    _with_samples(ws, ("canon_leads", "canon_events"))
    ingest(ws)
    # delete the second [[sources]] block from leadjourney.toml
    text = ws.config_path.read_text("utf-8")
    second = text.index('name = "canon_events"')
    ws.config_path.write_text(text[: text.rindex("[[sources]]", 0, second)], "utf-8")
    ws = Workspace.open(ws.root)
    assert [s.name for s in ws.config.sources] == ["canon_leads"]
    report = ingest(ws)
    assert (report.stale_origins, report.pruned) == (["canon_events"], [])
    assert fetch(ws, "SELECT count(*) FROM stage_events WHERE origin = 'canon_events'") == [(9,)]
    report = ingest(ws, prune=True)
    assert (report.stale_origins, report.pruned) == ([], ["canon_events"])
    assert fetch(ws, "SELECT count(*) FROM stage_events WHERE origin = 'canon_events'") == [(0,)]
    # leads without any stage event again enter the first stage at their creation
    assert fetch(ws, "SELECT count(*) FROM stage_events WHERE origin = 'derived:created_at'") == [
        (8,)
    ]


# ------------------------------------------------------------------------------------------- a real kill

_CHILD = """
import sys
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

def say(message, done, total):
    print(message, flush=True)

ws = Workspace.open(sys.argv[1])
print("start", flush=True)
ingest(ws, progress=say)
print("finished", flush=True)
"""


def _big_csv(path: Path, rows: int) -> None:
    lines = ["lead_id,created_at,source,company,job_title,employee_count,country,email"]
    lines += [
        f"B{i:07d},2024-01-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d},Organic Search,Company {i % 977},"
        f"Engineer,{i % 5000},US,b{i}@example.com"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.slow  # end to end, several seconds: make test-integration
@pytest.mark.databases_closed  # another process opens the database
def test_sigkill_during_ingest_leaves_the_workspace_as_it_was(ws: Workspace) -> None:
    _with_samples(ws, ("canon_leads", "canon_events"))
    ingest(ws)
    before = snapshot(ws)
    _big_csv(ws.root / "big.csv", 300_000)
    ws.set_sources([{"name": "big", "path": "big.csv", "format": "csv", "table": "leads"}])
    wal = ws.root / "leadjourney.duckdb.wal"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(ws.root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start"
        # wait until the big file (read and typed before the transaction) is being written in it, then a little
        for line in proc.stdout:
            if line.startswith("writing"):
                break
        started = time.monotonic()
        while time.monotonic() - started < 0.3 and not wal.exists() and proc.poll() is None:
            time.sleep(0.01)
        assert proc.poll() is None, (
            "the ingest finished before it could be killed; use a bigger file"
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    reopened = Workspace.open(ws.root)
    assert snapshot(reopened) == before
    # and the workspace still works: a later ingest of the (now small) file goes through
    _big_csv(ws.root / "big.csv", 3)
    report = ingest(reopened)
    assert {s.name: s.status for s in report.sources} == {
        "canon_leads": "unchanged",
        "canon_events": "unchanged",
        "big": "loaded",
    }
    assert fetch(reopened, "SELECT count(*) FROM leads WHERE origin = 'big'") == [(3,)]
    assert fetch(reopened, "SELECT count(*) FROM leads WHERE origin = 'canon_leads'") == [(8,)]


@pytest.mark.databases_closed  # another process opens the database
def test_a_command_waits_for_another_process_to_release_the_database(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    ws.ensure_database()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(ws.database_path)!r}, read_only=True)\n"
        "print('held', flush=True)\ntime.sleep(1.5)\ncon.close()\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkspaceError, match=r"in use by another process for over 0\.3 s"):
            ws.connect(wait_seconds=0.3)
        started = time.monotonic()
        with ws.connect() as con:  # waits until the reader is gone, then writes
            con.execute("INSERT INTO meta VALUES ('waited', 'yes')")
        assert time.monotonic() - started > 0.5
    finally:
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    assert ws.meta("waited") == "yes"
