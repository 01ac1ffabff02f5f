"""`analyze` (funnel and time in stage) on the workspace the ingest benchmark built.

The issue's bar: every metric for 1M leads in <= 5 s wall, <= 1.5 GB peak.
"""

from __future__ import annotations

from bench.measure import WORK, last_cpu_seconds, report, run_child


def main(leads: int) -> None:
    ws = WORK / f"gen-{leads}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.ingest_generated(leads)
    wall, peak, _ = run_child(
        "from leadjourney.workspace import Workspace\nfrom leadjourney.analysis import analyze\n"
        f"analyze(Workspace.open({str(ws)!r}))\n"
    )
    report("analyze", leads=leads, seconds=wall, cpu_seconds=last_cpu_seconds(), peak_mb=peak)
