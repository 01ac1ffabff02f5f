"""Engagement status: the playbook's checklists ticked from the workspace, manual items, and the gates."""

from __future__ import annotations

import json
import shlex
import shutil
import time
from datetime import date
from pathlib import Path

import pytest

from conftest import generated_workspace
from conftest import run_cli as run
from leadjourney.analysis import analyze, open_journeys
from leadjourney.analysis.definitions import REQUIRED_ROLES, approve
from leadjourney.analysis.findings import list_findings, set_status, store
from leadjourney.analysis.personas import personas_report
from leadjourney.analysis.touchpoints import TouchpointInventory
from leadjourney.errors import LeadJourneyError
from leadjourney.ingest import ingest
from leadjourney.reports.checklist import ITEMS, PHASES, mark_done
from leadjourney.reports.recommendations import make_recommendations
from leadjourney.reports.status import PROOFS, SLACK, engagement_status
from leadjourney.workflows.journey_map import journey_map
from leadjourney.workspace import Workspace

OUTPUTS = ("personas", "touchpoints", "map", "recommendations")


@pytest.fixture(scope="module")
def analyzed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated and ingested (~2000 leads), then `quality` and `analyze --baseline` from the CLI."""
    root = tmp_path_factory.mktemp("status") / "ws"
    generated_workspace(root, n_leads=2000, seed=5, end=date(2026, 6, 30), days=150)
    for args in (("quality", str(root)), ("analyze", str(root), "--baseline")):
        proc = run(*args)
        assert proc.returncode == 0, proc.stderr
    return root


@pytest.fixture(scope="module")
def drawn(analyzed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analyzed workspace plus personas, touchpoint inventory, journey map and recommendations."""
    root = shutil.copytree(analyzed, tmp_path_factory.mktemp("drawn") / "ws")
    ws = Workspace.open(root)
    (ws.out_dir / "personas.json").write_text(personas_report(ws, suggest=False).to_json(), "utf-8")
    with open_journeys(ws) as journeys:
        TouchpointInventory().fit(journeys).write_csv(ws.out_dir / "touchpoints.csv")
    journey_map(ws, formats=["svg"], tables=False)
    make_recommendations(ws).write(ws.out_dir)
    return root


def copy(root: Path, tmp_path: Path) -> Workspace:
    """A private copy (modification times kept), so tests do not depend on each other's order."""
    return Workspace.open(shutil.copytree(root, tmp_path / "ws"))


def blockers(ws: Workspace) -> list[str]:
    gate = engagement_status(ws).next_gate
    assert gate is not None
    return [s.item.id for s in gate.blockers]


def test_every_automatic_item_has_one_proof_and_ids_are_unique() -> None:
    ids = [item.id for phase in PHASES for item in phase.items]
    assert len(ids) == len(set(ids)) == len(ITEMS)
    assert set(PROOFS) == {i for i, item in ITEMS.items() if item.automatic}
    assert [p.name for p in PHASES] == ["Strategy", "Engineering", "Enablement", "Handoff"]


def test_fresh_workspace_is_blocked_on_ingesting_data_first(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "acme")
    status = engagement_status(ws, label="acme")
    gate = status.next_gate
    assert gate is not None and gate.phase.number == 1
    first = gate.blockers[0]
    assert first.item.id == "data" and "no leads loaded" in first.evidence
    assert first.fix == "leadjourney ingest acme --file EXPORT.csv --format FORMAT"
    assert [s.item.id for s in gate.blockers] == [i.id for i in PHASES[0].items]  # nothing done yet
    assert status.item("quality").fix == "leadjourney quality acme"
    assert status.item("baseline").fix == "leadjourney analyze acme --baseline"
    assert status.summary().startswith("Next gate: Phase 1: Strategy")


def test_automatic_items_tick_after_ingest_quality_and_analyze(analyzed: Path, tmp_path: Path) -> None:
    ws = copy(analyzed, tmp_path)
    status = engagement_status(ws, label="ws")
    for item in ("data", "quality", "baseline", "analysis", "drop-offs"):
        assert status.item(item).done, status.item(item).evidence
    with ws.connect(read_only=True) as con:
        n_leads = con.execute("SELECT count(*) FROM leads").fetchall()[0][0]
    # the four CRM exports (the generated GA4 web export is not registered here)
    assert status.item("data").evidence.startswith(f"{n_leads:,} leads from 4 sources, created over ")
    assert "baseline snapshot 1" in status.item("baseline").evidence
    for item in OUTPUTS:
        s = status.item(item)
        assert not s.done and s.fix == f"leadjourney {'recommend' if item == 'recommendations' else item} ws"
    findings = status.item("findings")
    assert not findings.done and findings.evidence.startswith("0 of ")
    assert findings.fix is not None and findings.fix.startswith("leadjourney findings ws confirm ")


def test_quality_goes_stale_when_data_is_ingested_again(analyzed: Path, tmp_path: Path) -> None:
    ws = copy(analyzed, tmp_path)
    ingest(ws, force=True)
    status = engagement_status(ws)
    assert not status.item("quality").done and "before the latest ingest" in status.item("quality").evidence
    assert not status.item("analysis").done
    assert status.item("baseline").done  # a baseline stays the baseline


def test_outputs_tick_and_the_map_goes_stale_after_a_new_analysis(drawn: Path, tmp_path: Path) -> None:
    ws = copy(drawn, tmp_path)
    status = engagement_status(ws)
    for item in (*OUTPUTS, "quick-wins"):
        assert status.item(item).done, status.item(item).evidence
    assert "out/journey_map (svg)" in status.item("map").evidence
    time.sleep(SLACK.total_seconds() + 0.1)  # what is within SLACK of the map counts as drawn after it
    store(ws, analyze(ws))  # a newer snapshot than the map
    status = engagement_status(ws)
    assert not status.item("map").done and "before the latest ingest or analysis" in status.item("map").evidence
    assert status.item("recommendations").done  # still newer than the baseline


def test_confirming_findings_changes_the_confirmed_share(analyzed: Path, tmp_path: Path) -> None:
    ws = copy(analyzed, tmp_path)
    found = list_findings(ws)
    total = len(found)
    set_status(ws, found[0].finding_id, "CONFIRMED", "kickoff")
    set_status(ws, found[1].finding_id, "CORRECTED", "RevOps: excludes partners")
    s = engagement_status(ws).item("findings")
    assert not s.done and s.evidence.startswith(f"2 of {total} findings confirmed or corrected ({2 / total:.0%})")
    for f in found[2:]:
        set_status(ws, f.finding_id, "CONFIRMED", None)
    s = engagement_status(ws).item("findings")
    assert s.done and s.evidence == f"{total} of {total} findings confirmed or corrected (100%)"


def test_manual_done_and_undo_round_trip_via_the_cli(analyzed: Path, tmp_path: Path) -> None:
    ws = copy(analyzed, tmp_path)
    w = str(ws.root)
    proc = run("status", "-w", w, "done", "kickoff", "--note", "kickoff call, all three teams")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("kickoff: done ")
    shown = json.loads(run("status", "-w", w, "--json").stdout)
    kickoff = next(i for i in shown["phases"][0]["checklist"] if i["id"] == "kickoff")
    assert kickoff["done"] and kickoff["note"] == "kickoff call, all three teams"
    assert "kickoff" not in [b["id"] for b in shown["next_gate"]["blockers"]]
    assert json.loads((ws.out_dir / "status.json").read_text())["summary"] == shown["summary"]
    proc = run("status", "-w", w)
    assert proc.returncode == 0, proc.stderr
    assert "Phase 1: Strategy" in proc.stdout and "Next gate:" in proc.stdout and "✓" in proc.stdout
    assert "| ✓ | 1b | Kickoff call held | `kickoff` | manual |" in (ws.out_dir / "status.md").read_text()
    assert run("status", "-w", w, "undo", "kickoff").stdout.strip() == "kickoff: no longer marked done"
    assert not engagement_status(ws).item("kickoff").done
    assert "was not marked done" in run("status", "-w", w, "undo", "kickoff").stdout


def test_unknown_item_gives_one_line_naming_the_valid_ids(analyzed: Path) -> None:
    proc = run("status", "-w", str(analyzed), "done", "kick-off")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no checklist item 'kick-off'" in lines[0]
    assert f"valid ids: {', '.join(ITEMS)}" in lines[0]
    proc = run("status", "-w", str(analyzed), "undo", "nope")
    assert proc.returncode == 1 and "valid ids:" in proc.stderr


def test_an_automatic_item_is_marked_by_hand_only_with_a_note(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    with pytest.raises(LeadJourneyError, match="ticked automatically"):
        mark_done(ws, "personas")
    mark_done(ws, "personas", "one persona by design: single-product SMB customer")
    s = engagement_status(ws).item("personas")
    assert s.done and s.by_hand and "marked done by hand" in s.evidence and "no persona profiles" in s.evidence


def test_the_gate_reports_exactly_the_missing_items(drawn: Path, tmp_path: Path) -> None:
    ws = copy(drawn, tmp_path)
    manual = [i.id for i in PHASES[0].items if not i.automatic]
    assert blockers(ws) == [i for i in (i.id for i in PHASES[0].items) if i in {*manual, "findings", "definitions"}]
    for item in manual[:-1]:
        mark_done(ws, item, "recorded in the test")
    for f in list_findings(ws):
        set_status(ws, f.finding_id, "CONFIRMED", None)
    terms = ws.config.definitions
    for d in terms:
        for role in REQUIRED_ROLES[:-1]:
            approve(ws, d.term, "A. Tester", role)
    s = engagement_status(ws).item("definitions")
    assert s.fix is not None and s.fix.endswith(f"--role {REQUIRED_ROLES[-1]}")
    assert blockers(ws) == ["definitions", manual[-1]]
    for d in terms:
        approve(ws, d.term, "A. Tester", REQUIRED_ROLES[-1])
    assert blockers(ws) == [manual[-1]] == ["strategic-signoff"]
    mark_done(ws, "strategic-signoff")
    status = engagement_status(ws)
    assert status.phases[0].gate_open and status.next_gate is status.phases[1]
    assert blockers(ws) == ["changes", "dashboard", "engineering-signoff"]


def test_status_fits_80_columns_ids_whole_and_commands_paste(drawn: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    import subprocess

    ws = copy(drawn, tmp_path)
    text = ws.config_path.read_text("utf-8").replace("[labels]\n", '[labels]\nsmb_founder = "Founder-led SMB"\n', 1)
    ws.config_path.write_text(text, "utf-8")
    monkeypatch.chdir(ws.root.parent)  # the workspace named as a user types it (a long temporary path cannot wrap)
    proc = run("status", ws.root.name, columns=80)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(ln.rstrip()) for ln in lines) <= 80 and "…" not in proc.stdout
    status = engagement_status(Workspace.open(ws.root), label=ws.root.name)
    ids = [i.id for p in PHASES for i in p.items]
    in_tables = [m.group(1) for ln in lines if (m := re.match(r"│ . │ (\S+) +│", ln))]
    assert in_tables == ids  # each id whole on its row's first line
    # the personas' evidence by display name
    personas = " ".join(ln.split("│")[3].strip() for ln in lines if ln.count("│") == 4)
    assert "Founder-led SMB" in personas and "smb_founder" not in proc.stdout
    # the evidence stacks under its item (three columns): an open manual item is its one or two lines
    assert not any(ln.count("│") == 5 for ln in lines) and not any("not recorded yet" in ln for ln in lines
                                                                   if ln.count("│") == 4)
    # each blocker's fix: wrapped at its arguments with " \" continuations, read by bash as the one command
    gate = status.next_gate
    assert gate is not None
    fixes = [s.fix for s in gate.blockers if s.fix]
    starts = [i for i, ln in enumerate(lines) if ln.startswith("      run: ")]
    assert len(starts) == len(fixes) and any(lines[i].endswith(" \\") for i in starts)
    for i, fix in zip(starts, fixes, strict=True):
        block = [lines[i].removeprefix("      run: ")]
        while block[-1].endswith(" \\"):
            i += 1
            block.append(lines[i].strip())
        pasted = "\n".join(block)
        shell = subprocess.run(["bash", "-c", f"printf '%s\\0' {pasted}"], capture_output=True, text=True, check=True)
        assert shell.stdout.split("\0")[:-1] == shlex.split(fix)
