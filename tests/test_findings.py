"""Snapshots and findings: stored per run, ASSUMED until confirmed, status kept across runs."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from conftest import csv_workspace, fetch, min_n_config
from conftest import run_cli as run
from leadjourney.analysis import analyze
from leadjourney.analysis.findings import (
    ASSUMED,
    CONFIRMED,
    CORRECTED,
    baseline,
    findings_of,
    list_findings,
    set_status,
    store,
)
from leadjourney.errors import LeadJourneyError
from leadjourney.workspace import Workspace

LEADS = "lead_id,created_at,source\n" + "".join(f"L{i},2026-01-01T00:00:00Z,seo\n" for i in range(10))
EVENTS = "lead_id,stage,entered_at\n" + "".join(f"L{i},MQL,2026-01-0{2 + i % 5}T00:00:00Z\n" for i in range(6))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """Ten people: findings' bookkeeping is tested with min_n = 1 (at 30, none of these rates is judged)."""
    return csv_workspace(tmp_path / "ws", min_n_config(1), leads=LEADS, stage_events=EVENTS)


def test_findings_start_assumed_and_keep_their_status(ws: Workspace) -> None:
    first = store(ws, analyze(ws, now=datetime(2026, 2, 1)))
    found = {f.finding_id: f for f in list_findings(ws)}
    assert found["conversion:Lead->MQL"].status == ASSUMED
    assert found["conversion:Lead->MQL"].value == pytest.approx(0.6)
    assert "6 of 10" in found["conversion:Lead->MQL"].statement
    set_status(ws, "conversion:Lead->MQL", CONFIRMED, "Marketing Ops, kickoff")
    set_status(ws, "time:Lead->MQL", CORRECTED, "CRM backfilled dates in January")
    second = store(ws, analyze(ws, now=datetime(2026, 2, 1)))
    assert second == first + 1
    found = {f.finding_id: f for f in list_findings(ws)}
    assert (found["conversion:Lead->MQL"].status, found["conversion:Lead->MQL"].note) == (CONFIRMED, "Marketing Ops, kickoff")
    assert found["time:Lead->MQL"].status == CORRECTED
    assert fetch(ws, "SELECT count(*) FROM snapshots") == [(2,)]


def test_one_baseline_at_a_time(ws: Workspace) -> None:
    assert baseline(ws) is None
    store(ws, analyze(ws, now=datetime(2026, 2, 1)), baseline=True)
    store(ws, analyze(ws, now=datetime(2026, 2, 1)), baseline=True)
    assert fetch(ws, "SELECT snapshot_id FROM snapshots WHERE is_baseline") == [(2,)]
    stored = baseline(ws)
    assert stored is not None and stored.funnel.transitions[0].converted == 6


def test_a_snapshot_without_findings_leaves_them_as_they_were(ws: Workspace) -> None:
    store(ws, analyze(ws, now=datetime(2026, 2, 1)))
    before = {f.finding_id: (f.value, f.statement, f.n) for f in list_findings(ws)}
    other = analyze(ws, mode="cohort", window_days=2, now=datetime(2026, 2, 1))  # other numbers
    assert {f.finding_id: f.value for f in findings_of(other)} != {k: v[0] for k, v in before.items()}
    later = store(ws, other, baseline=True, findings=False)
    assert {f.finding_id: (f.value, f.statement, f.n) for f in list_findings(ws)} == before
    assert baseline(ws) is not None and fetch(ws, "SELECT is_baseline FROM snapshots WHERE snapshot_id = ?",
                                              [later]) == [(True,)]


def test_unknown_finding_is_a_clear_error(ws: Workspace) -> None:
    store(ws, analyze(ws, now=datetime(2026, 2, 1)))
    with pytest.raises(LeadJourneyError, match=r"no finding 'nope'.*conversion:Lead->MQL"):
        set_status(ws, "nope", CONFIRMED, None)


def test_cli_analyze_and_findings(ws: Workspace) -> None:
    proc = run("analyze", str(ws.root), "--json", "--baseline")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["funnel"]["transitions"][0]["rate"] == pytest.approx(0.6)
    proc = run("findings", "-w", str(ws.root), "confirm", "conversion:Lead->MQL", "--note", "RevOps")
    assert proc.returncode == 0 and "CONFIRMED" in proc.stdout
    listed = json.loads(run("findings", "-w", str(ws.root), "--json").stdout)
    assert {f["finding_id"]: f["status"] for f in listed}["conversion:Lead->MQL"] == "CONFIRMED"
    assert (ws.out_dir / "analysis.md").read_text().startswith("# Journey baseline")
