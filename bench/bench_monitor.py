"""`monitor` (a monthly run: two judged months vs the baseline) on the workspace the ingest benchmark built.

The issue's bar: a monthly run on 1M leads completes in <= 10 s.
"""

from __future__ import annotations

from bench.measure import WORK, report, run_child


def main(leads: int) -> None:
    ws = WORK / f"gen-{leads}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.ingest_generated(leads)
    run_child(  # the baseline the monitor compares with (not timed)
        "from leadjourney.workspace import Workspace\nfrom leadjourney.analysis import analyze\n"
        "from leadjourney.analysis.findings import baseline, store\n"
        f"ws = Workspace.open({str(ws)!r})\n"
        "if baseline(ws) is None:\n    store(ws, analyze(ws), baseline=True)\n"
    )
    wall, peak, _ = run_child(
        "from leadjourney.workspace import Workspace\nfrom leadjourney.monitor import run_monitor\n"
        "from leadjourney.analysis import open_journeys\n"
        f"ws = Workspace.open({str(ws)!r})\n"
        "with open_journeys(ws) as j:\n    as_of = j.as_of().date()\n"
        "run_monitor(ws, 'month', as_of)\n"
    )
    report("monitor (month)", leads=leads, seconds=wall, peak_mb=peak)
