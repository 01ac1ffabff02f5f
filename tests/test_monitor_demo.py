"""`make demo`'s monitor pass: the planted MQL->SQL decline raises its red flag (20,000 leads, as `make demo`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli


@pytest.mark.slow
def test_demo_monitor_raises_the_planted_decline(tmp_path: Path) -> None:
    ws = tmp_path / "demo"
    proc = run_cli("demo", str(ws), "--leads", "20000", columns=160)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    truth = json.loads((ws / "data" / "generated" / "ground_truth.json").read_text("utf-8"))
    (planted,) = truth["planted"]["scenario"]["declines"]
    assert (planted["transition"], planted["factor"], planted["channel"]) == ("MQL->SQL", 0.6, None)
    run = json.loads((ws / "out" / "monitor.json").read_text("utf-8"))
    flag = next(v for v in run["verdicts"] if v["key"] == "conversion_decline:MQL->SQL")
    assert flag["status"] == "red_flag" and run["exit_code"] == 1
    # every month the flag judged was planted; the baseline is the months before the decline
    judged = [m for m in planted["by_month"] if m in flag["evidence"]]
    assert len(judged) == 2 and all(m >= planted["since"][:7] for m in judged)
    entered, converted = planted["by_month"][judged[-1]]
    assert flag["value"] == pytest.approx(converted / entered, abs=0.02)
    before = [v for m, v in planted["by_month"].items() if m < planted["since"][:7]]
    assert flag["baseline"] == pytest.approx(sum(c for _, c in before) / sum(e for e, _ in before),
                                                           abs=0.02)
    assert "Red flag" in proc.stdout and "MQL → SQL conversion" in proc.stdout  # shown, not only stored
    assert (ws / "out" / "monitor" / f"{run['period']['label']}.md").exists()
    # read by people: counts without "(s)", segments by display name, the dashboard's title said once
    assert "(s)" not in proc.stdout and "source=" not in proc.stdout and "red_flags" not in proc.stdout
    assert "journey: lead journey" not in (ws / "out" / "dashboard.html").read_text("utf-8")
