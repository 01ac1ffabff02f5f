"""The workflows: typed results, nothing printed, the workspace as it was after a failure; one date parser."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

import leadjourney as lj
from conftest import DATA, SharedGenerated, copy_workspace
from leadjourney.dates import parse_date
from leadjourney.errors import LeadJourneyError, SelectionError


def test_ingest_of_a_file_registers_it_and_a_failure_takes_the_registration_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = lj.init_workspace(tmp_path / "ws")
    config = ws.config_path.read_text("utf-8")
    bad = shutil.copy(DATA / "not_utf8.csv", tmp_path / "contacts.csv")
    with pytest.raises(LeadJourneyError, match=r"contacts\.csv"):
        lj.ingest(ws, file=lj.FileSource(Path(bad), "hubspot_contacts"))
    assert ws.config_path.read_text("utf-8") == config  # the registration went with the failed load
    good = shutil.copy(DATA / "hubspot_contacts.csv", tmp_path / "contacts.csv")
    seen: list[tuple[str, int, int]] = []
    report = lj.ingest(ws, file=lj.FileSource(Path(good), "hubspot_contacts", name="crm"),
                       progress=lambda m, d, t: seen.append((m, d, t)))
    assert [s.name for s in report.sources] == ["crm"] and report.sources[0].rows_read > 0
    assert 'name = "crm"' in ws.config_path.read_text("utf-8") and seen
    assert capsys.readouterr() == ("", "")  # a workflow never prints


def test_analyze_saves_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = lj.init_workspace(tmp_path / "ws")
    lj.ingest(ws, file=lj.FileSource(DATA / "hubspot_contacts.csv", "hubspot_contacts"))
    run = lj.analyze(ws)
    assert run.files == [] and run.snapshot is None and not (ws.out_dir / "analysis.json").exists()
    saved = lj.analyze(ws, save=True, baseline=True)
    assert [p.name for p in saved.files] == ["analysis.md", "analysis.json"] and saved.snapshot is not None
    assert lj.Analysis.from_json(saved.files[1].read_text("utf-8")).n_people == saved.analysis.n_people
    assert saved.selection == "all leads"
    with pytest.raises(LeadJourneyError, match="mode: expected one of"):
        lj.analyze(ws, mode="sideways")
    with pytest.raises(SelectionError, match="carrier_pigeon"):
        lj.select(ws, sources=["carrier_pigeon"])
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(("text", "expected"), [("2026-06-30", date(2026, 6, 30)), ("2026-06-30T12:00:00", date(2026, 6, 30)),
                                                (None, None), ("", None), (date(2026, 1, 2), date(2026, 1, 2))])
def test_parse_date(text: str | date | None, expected: date | None) -> None:
    assert parse_date(text, "--from") == expected


@pytest.mark.parametrize("text", ["2026-13-01", "30/06/2026", "yesterday"])
def test_a_bad_date_names_the_option_and_the_value(text: str) -> None:
    with pytest.raises(LeadJourneyError, match=f"^--as-of: expected a date like 2026-06-30, found '{text}'$"):
        parse_date(text, "--as-of")
    with pytest.raises(SelectionError):  # the dashboard's: refused with a 400, not silently dropped
        parse_date(text, "dates", SelectionError)


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_the_table_workflows_write_what_their_commands_write(shared_generated: SharedGenerated,
                                                              tmp_path: Path) -> None:
    ws = copy_workspace(shared_generated(n_leads=2000, seed=3)[0], tmp_path / "ws")
    inventory = lj.touchpoints(ws)
    assert [p.name for p in inventory.files] == ["touchpoints.md", "touchpoints.csv", "touchpoints.xlsx"]
    assert inventory.result.to_arrow().num_rows == len(inventory.result.rows) > 0
    paths = lj.paths(ws, top=3)
    assert all(p.exists() for p in paths.files) and len(paths.result.to_pandas()) == len(paths.result.variants) == 3
    export = lj.event_log(ws, fmt="xes")
    assert export.path == ws.out_dir / "event_log.xes" and export.cases > 0
    with pytest.raises(LeadJourneyError, match="--format"):
        lj.event_log(ws, fmt="pdf")


def test_definitions_and_status_return_what_they_wrote_and_print_nothing(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from leadjourney.workflows.definitions import approve_definition, definitions
    from leadjourney.workflows.status import Undone, engagement_status, mark_item_done, undo_item

    ws = lj.init_workspace(tmp_path / "ws")
    lj.ingest(ws, file=lj.FileSource(DATA / "hubspot_contacts.csv", "hubspot_contacts"))
    seen: list[str] = []
    run = definitions(ws, progress=lambda m, d, t: seen.append(m))
    assert [p.name for p in run.files] == ["definitions.md", "definitions.json"] and seen[-1] == "done"
    term = run.result.terms[0].definition.term
    approval = approve_definition(ws, term, "Jane Doe", "Marketing")
    assert approval.signoff.term == term and "Marketing" not in approval.missing and approval.missing
    assert undo_item(ws, "kickoff").was_done is False
    assert mark_item_done(ws, "kickoff", "call with all three teams").item_id == "kickoff"
    assert undo_item(str(ws.root), "KICKOFF") == Undone("kickoff", was_done=True)  # a folder, the id in any case
    status = engagement_status(ws, label="acme")
    assert [p.name for p in status.files] == ["status.md", "status.json"]
    assert status.result.item("kickoff").done is False and "leadjourney" in status.files[0].read_text("utf-8")
    assert capsys.readouterr() == ("", "")
