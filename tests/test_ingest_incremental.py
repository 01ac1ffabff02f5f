"""An ingest that changes a few people rebuilds their derived rows only, and the tables hold exactly what a full
rebuild writes: new people (numbered into the middle of the ids), new touches, a late stage, an identity merge
across files, a lead turned excluded; anything global (a pruned source, a changed setting) rebuilds everyone."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from conftest import copy_workspace, csv_text, fetch, set_option, snapshot
from leadjourney.ingest import ingest
from leadjourney.ingest.pipeline import IngestReport
from leadjourney.workspace import Workspace

DERIVED = ("leads", "stage_events", "person_touches", "person_journeys", "person_engagement",
           "web_stitches", "web_visits", "meta")
PEOPLE = 60  # enough that the few people each step changes stay under MAX_SHARE of everyone
LATE = 55  # the person who comes in a later file
LEAD_COLUMNS = ("lead_id", "created_at", "source", "job_title", "employee_count", "email")
EVENT_COLUMNS = ("lead_id", "stage", "entered_at")
TOUCH_COLUMNS = ("lead_id", "occurred_at", "channel", "kind", "actor", "visitor_id")
OPP_COLUMNS = ("opportunity_id", "lead_id", "created_at", "closed_at", "amount", "currency", "is_won", "stage")
STAGES = ("Lead", "Marketing Qualified Lead", "SQL", "Opportunity", "Customer")
KINDS = ("page_view", "form_fill", "Email Open", "Call", "meeting")
SOURCES = ("Organic Search", "PPC", "Referral", "Webinar")


def _lead(i: int, email: str | None = None, created: str | None = None) -> list[Any]:
    created = created if created is not None else ("" if i % 11 == 0 else f"2024-0{1 + i % 6}-{10 + i % 9}T09:00:00Z")
    return [f"L-{i:03d}", created, SOURCES[i % 4], ("CTO", "Analyst", "Head of Sales")[i % 3], 10 * i,
            email or f"person{i}@example.com"]


def _events(i: int) -> list[list[Any]]:
    return [[f"L-{i:03d}", STAGES[s], f"2024-0{1 + i % 6}-{10 + i % 9 + 3 * s}T10:00:00Z"] for s in range(i % 4)]


def _touches(i: int, n: int | None = None) -> list[list[Any]]:
    n = 1 + i % 5 if n is None else n
    return [[f"L-{i:03d}", f"2024-0{1 + i % 6}-{10 + i % 9}T{8 + 2 * k:02d}:30:00Z", SOURCES[(i + k) % 4],
             KINDS[(i * k) % 5], "human" if k % 2 else "", f"v{i}" if k == 0 else ""] for k in range(n)]


def _write(path: Path, header: tuple[str, ...], rows: list[list[Any]]) -> None:
    path.write_text(csv_text(header, rows), "utf-8")


def _workspace(root: Path) -> Workspace:
    ws = Workspace.init(root)
    ids = [i for i in range(1, PEOPLE + 1) if i != LATE]  # comes later, between the others
    _write(root / "leads.csv", LEAD_COLUMNS, [_lead(i) for i in ids])
    _write(root / "events.csv", EVENT_COLUMNS, [e for i in ids for e in _events(i)])
    _write(root / "touches.csv", TOUCH_COLUMNS, [t for i in ids for t in _touches(i)])
    _write(root / "opps.csv", OPP_COLUMNS, [[f"O-{i}", f"L-{i:03d}", "2024-03-01T10:00:00Z", "2024-04-01",
                                             1000 * i, "USD", "true" if i % 2 else "", "Closed Won"]
                                            for i in ids if i % 3 == 0])
    ws.set_sources([{"name": name, "path": f"{name}.csv", "format": "csv", "table": table} for name, table in (
        ("leads", "leads"), ("events", "stage_events"), ("touches", "touchpoints"), ("opps", "opportunities"))])
    return Workspace.open(root)


def _add_source(ws: Workspace, name: str, table: str, header: tuple[str, ...], rows: list[list[Any]]) -> Workspace:
    _write(ws.root / f"{name}.csv", header, rows)
    ws.set_sources([*({"name": s.name, "path": s.path, "format": s.format, "table": s.table}
                      for s in ws.config.sources), {"name": name, "path": f"{name}.csv", "format": "csv", "table": table}])
    return Workspace.open(ws.root)


def _append(path: Path, header: tuple[str, ...], rows: list[list[Any]]) -> None:
    path.write_text(path.read_text("utf-8") + csv_text(header, rows).split("\n", 1)[1], "utf-8")


def _same_as_full_rebuild(ws: Workspace, root: Path) -> None:
    """Every derived table (and their fingerprints) as a copy of ``ws`` rebuilt in full holds them."""
    full = copy_workspace(ws, root)
    with full.connect() as con:
        con.execute("DELETE FROM meta WHERE key LIKE 'person_%'")  # the derived tables' fingerprints: gone
    assert ingest(full).people_rebuilt is None
    assert snapshot(ws, DERIVED) == snapshot(full, DERIVED)


def _people(ws: Workspace) -> int:
    return int(fetch(ws, "SELECT count(*) FROM person_journeys")[0][0])


def _step(ws: Workspace, name: str, report: IngestReport, rebuilt: int) -> None:
    assert report.people_rebuilt == rebuilt, name
    _same_as_full_rebuild(ws, ws.root.parent / f"full-{name}")


def test_new_people_and_rows_rebuild_their_people_alone_as_a_full_rebuild_would(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    first = ingest(ws)
    assert first.people_rebuilt is None  # the first ingest builds everyone
    everyone = _people(ws)
    step = partial(_step, ws)

    # a new person in new files, numbered between the others: they and everyone after them get new keys
    ws = _add_source(ws, "leads_new", "leads", LEAD_COLUMNS, [_lead(LATE)])
    ws = _add_source(ws, "touches_new", "touchpoints", TOUCH_COLUMNS, _touches(LATE, 3))
    step("new person", ingest(ws), PEOPLE - LATE + 1)
    assert _people(ws) == everyone + 1

    _append(ws.root / "touches.csv", TOUCH_COLUMNS, [["L-004", "2024-09-01T12:00:00Z", "PPC", "Call", "human", ""]])
    step("new touch", ingest(ws), 1)

    _append(ws.root / "events.csv", EVENT_COLUMNS, [["L-007", "Customer", "2024-10-02T10:00:00Z"]])
    step("late stage", ingest(ws), 1)

    ws = _add_source(ws, "leads_later", "leads", LEAD_COLUMNS, [_lead(PEOPLE + 10)])  # numbered after everyone
    step("new person last", ingest(ws), 1)


def test_merged_and_excluded_people_rebuild_the_people_they_touch_as_a_full_rebuild_would(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    ingest(ws)

    # identity merge across files: an earlier record of L-057's e-mail makes L-057 its duplicate; L-058 to L-060
    # move up one key, L-099 is new
    ws = _add_source(ws, "crm2", "leads", LEAD_COLUMNS,
                     [_lead(99, "Person57@Example.com ", "2023-12-01T08:00:00Z")])
    report = ingest(ws)
    assert fetch(ws, "SELECT person_id FROM leads WHERE lead_id = 'L-057'") == [("L-099",)]
    _step(ws, "merge", report, 5)
    assert fetch(ws, "SELECT count(*) FROM person_touches JOIN person_journeys USING (person_key) "
                     "WHERE person_id = 'L-099'") == [(len(_touches(57)),)]

    # a lead edited into an excluded contact (a student) drops out; the ones after it move up
    row = csv_text(LEAD_COLUMNS, [_lead(59)]).split("\n")[1]
    text = (ws.root / "leads.csv").read_text("utf-8")
    assert row in text and "Head of Sales" in row
    ws.root.joinpath("leads.csv").write_text(text.replace(row, row.replace("Head of Sales", "Student")), "utf-8")
    _step(ws, "excluded", ingest(ws), 3)

    _step(ws, "unchanged", ingest(ws, force=True), 0)  # every file loaded again, nothing differs


def test_anything_global_rebuilds_everyone(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    ingest(ws)
    ws = _add_source(ws, "touches_new", "touchpoints", TOUCH_COLUMNS, _touches(3, 2))
    assert ingest(ws).people_rebuilt == 1
    text = ws.config_path.read_text("utf-8")  # the last [[sources]] block goes
    ws.config_path.write_text(text[: text.rindex("[[sources]]", 0, text.index('name = "touches_new"'))], "utf-8")
    ws = Workspace.open(ws.root)
    report = ingest(ws, prune=True)  # a source removed: its rows go, everyone is rebuilt
    assert report.pruned == ["touches_new"] and report.people_rebuilt is None
    _same_as_full_rebuild(ws, tmp_path / "full-pruned")
    ws = set_option(ws, "dark_after_days = 30", "dark_after_days = 12")  # a threshold the tables depend on
    _append(ws.root / "touches.csv", TOUCH_COLUMNS, [["L-004", "2024-09-01T12:00:00Z", "PPC", "Call", "human", ""]])
    assert ingest(ws).people_rebuilt is None
    _same_as_full_rebuild(ws, tmp_path / "full-setting")
    _append(ws.root / "touches.csv", TOUCH_COLUMNS, [["L-005", "2024-09-01T12:00:00Z", "PPC", "Call", "human", ""]])
    assert ingest(ws).people_rebuilt == 1  # and the next one is incremental again


def test_ctrl_c_after_the_people_are_rebuilt_leaves_the_workspace_as_it_was(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    ingest(ws)
    before = snapshot(ws, (*DERIVED, "touchpoints", "ingests"))
    ws = _add_source(ws, "leads_new", "leads", LEAD_COLUMNS, [_lead(LATE)])

    def interrupt(message: str, done: int, total: int) -> None:
        if message.startswith("stitching"):  # after the incremental rebuild, before the commit
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest(ws, progress=interrupt)
    assert snapshot(ws, (*DERIVED, "touchpoints", "ingests")) == before
    assert ingest(ws).people_rebuilt == PEOPLE - LATE + 1  # and the next ingest does it
    _same_as_full_rebuild(ws, tmp_path / "full")
