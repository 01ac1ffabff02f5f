"""Ingest of N generated leads with their stage events, touchpoints and opportunities (Parquet),
then the data-quality check on the result.

The issue's bar: 1M leads in under a minute on the 2-core machine.
"""

from __future__ import annotations

import shutil

from bench.measure import WORK, report, run_child


def main(leads: int) -> None:
    base = WORK / f"gen-{leads}"
    data = base / "data"
    if not (data / "leads.parquet").exists():
        run_child(
            "from pathlib import Path; from datetime import date\n"
            "from leadjourney.generate import generate\n"
            f"generate(Path({str(data)!r}), n_leads={leads}, seed=1, end=date(2026, 10, 31))\n"
        )
    ws = base / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    setup = (
        "from pathlib import Path\n"
        "from leadjourney.workspace import Workspace\n"
        f"ws = Workspace.init(Path({str(ws)!r}))\n"
        "ws.set_sources([\n"
        + "".join(
            f"    dict(name='{t}', path={str(data / (t + '.parquet'))!r}, format='parquet', table='{t}',"
            f" timezone='{'UTC' if t == 'touchpoints' else 'America/New_York'}'),\n"
            for t in ("leads", "stage_events", "touchpoints", "opportunities")
        )
        + "])\n"
    )
    run_child(setup)
    wall, peak, out = run_child(
        "from leadjourney.workspace import Workspace\nfrom leadjourney.ingest import ingest\n"
        f"r = ingest(Workspace.open({str(ws)!r}))\nprint(r.table_rows)\n"
    )
    report("ingest", leads=leads, seconds=wall, peak_mb=peak, rows=out.strip())
    wall2, _, _ = run_child(
        "from leadjourney.workspace import Workspace\nfrom leadjourney.ingest import ingest\n"
        f"ingest(Workspace.open({str(ws)!r}))\n"
    )
    report("ingest_unchanged_rerun", leads=leads, seconds=wall2)
    wall3, peak3, _ = run_child(
        "from leadjourney.workspace import Workspace\nfrom leadjourney.quality import run_quality\n"
        f"run_quality(Workspace.open({str(ws)!r}))\n"
    )
    report("quality", leads=leads, seconds=wall3, peak_mb=peak3)
