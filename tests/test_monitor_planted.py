"""The monitor recovers changes the generator planted (ground_truth.json), end to end through ingest.

- a MQL->SQL decline for every lead created from April: the monthly red flag, on that transition,
  with the value and baseline the ground truth's realized counts give;
- a source conversion shift (SEO's MQL->SQL) and definition drift (SQL entered before any human
  touch) from April: the quarterly rules flag exactly those.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from leadjourney.analysis import analyze
from leadjourney.analysis.findings import store
from leadjourney.analysis.journeys import Filters
from leadjourney.generate import Decline, Drift, Scenario, generate
from leadjourney.ingest import ingest
from leadjourney.monitor import run_monitor
from leadjourney.workspace import Workspace

END = date(2026, 7, 1)  # data observed until 2026-06-30 24:00 UTC (the quarterly workspace)
DECLINE_END = date(2026, 8, 1)  # the monthly one: until 2026-07-31
SINCE = date(2026, 4, 1)
BASELINE = Filters(date(2025, 11, 1), date(2026, 3, 31))
FACTOR = 0.4


def _workspace(root: Path, scenario: Scenario, seed: int, end: date) -> tuple[Workspace, dict[str, Any]]:
    """Generated (with the default dirt) and ingested, baseline: leads created Nov to March."""
    ws = Workspace.init(root)
    data = generate(root / "data", n_leads=8000, seed=seed, end=end, days=(end - date(2025, 11, 1)).days,
                    scenario=scenario)
    ws.set_sources([{**s, "path": str(Path(data.files[s["table"]]).relative_to(root))} for s in data.sources])
    ws = Workspace.open(root)
    ingest(ws)
    store(ws, analyze(ws, filters=BASELINE), baseline=True)
    truth = json.loads(data.ground_truth_path.read_text("utf-8"))
    return ws, truth["planted"]["scenario"]


def _rate(by_month: dict[str, list[int]], months: list[str]) -> tuple[float, int]:
    entered = sum(by_month[m][0] for m in months)
    return sum(by_month[m][1] for m in months) / entered, entered


BASE_MONTHS = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
Q1, Q2 = ["2026-01", "2026-02", "2026-03"], ["2026-04", "2026-05", "2026-06"]


@pytest.fixture(scope="module")
def declined(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any]]:
    scenario = Scenario(declines=(Decline(SINCE, "MQL->SQL", FACTOR),))
    return _workspace(tmp_path_factory.mktemp("declined") / "ws", scenario, seed=21, end=DECLINE_END)


@pytest.fixture(scope="module")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any]]:
    scenario = Scenario(declines=(Decline(SINCE, "MQL->SQL", 0.3, channel="seo"),), drift=Drift(SINCE, 0.3))
    return _workspace(tmp_path_factory.mktemp("shifted") / "ws", scenario, seed=22, end=END)


def test_ground_truth_records_the_planted_decline(declined: tuple[Workspace, dict[str, Any]]) -> None:
    _, truth = declined
    (d,) = truth["declines"]
    assert (d["since"], d["transition"], d["factor"], d["channel"]) == ("2026-04-01", "MQL->SQL", FACTOR, None)
    before, n0 = _rate(d["by_month"], BASE_MONTHS)
    after, n1 = _rate(d["by_month"], ["2026-04", "2026-05"])
    assert n0 > 1000 and n1 > 400
    assert after == pytest.approx(before * FACTOR, abs=0.04)  # the planted factor, realized


def test_monitor_recovers_the_planted_decline(declined: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = declined
    by_month = truth["declines"][0]["by_month"]
    run = run_monitor(ws, "month", date(2026, 7, 31))  # June for the rest; MQL->SQL waits: April and May
    assert run.period.label == "2026-06"
    by_key = {v.key: v for v in run.verdicts}
    flag = by_key["conversion_decline:MQL->SQL"]
    assert flag.status == "red_flag" and run.exit_code == 1
    value, n = _rate(by_month, ["2026-05"])
    base, _ = _rate(by_month, BASE_MONTHS)
    # the default dirt (duplicates, blank or skipped stages) moves the counts a little, not the rates
    assert flag.value == pytest.approx(value, abs=0.02)
    assert flag.n == pytest.approx(n, rel=0.05)
    assert flag.baseline == pytest.approx(base, abs=0.02)
    assert "2026-04" in flag.evidence and "2026-05" in flag.evidence and "2026-06" not in flag.evidence
    assert "of creation" in flag.evidence  # why June is not judged yet
    # not planted there: young cohorts, still converting, must not look like a decline
    assert by_key["conversion_decline:SQL->Opportunity"].status in ("ok", "too_small")


def test_quarterly_rules_recover_source_shift_and_drift(shifted: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = shifted
    run = run_monitor(ws, "quarter", date(2026, 7, 31))  # judges 2026-Q2 against 2026-Q1
    assert run.period.label == "2026-Q2"
    shifts = [v for v in run.verdicts if v.rule == "source_shift" and v.raised]
    assert [v.metric for v in shifts] == ["seo MQL->SQL"]  # the planted one, and no other source x transition
    seo = truth["declines"][0]["by_month"]
    now, n = _rate(seo, Q2)
    before, _ = _rate(seo, Q1)
    assert shifts[0].value == pytest.approx(now, abs=0.03) and shifts[0].baseline == pytest.approx(before, abs=0.03)
    assert shifts[0].n == pytest.approx(n, rel=0.08)

    drift = {v.metric: v for v in run.verdicts if v.rule == "definition_drift"}
    assert drift["SQL"].status == "red_flag"
    planted = truth["drift"]["by_month"]
    share, reached = _rate(planted, Q2)
    assert drift["SQL"].n == pytest.approx(reached, rel=0.08)
    prior, _ = _rate(planted, Q1)
    assert prior < 0.02 and share == pytest.approx(0.3, abs=0.05)
    assert drift["SQL"].value == pytest.approx(share, abs=0.03)
    assert drift["SQL"].baseline == pytest.approx(prior, abs=0.02)
    assert [v.metric for v in run.verdicts if v.rule == "definition_drift" and v.raised] == ["SQL"]
