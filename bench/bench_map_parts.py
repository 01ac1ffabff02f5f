"""Touchpoint inventory, paths and the event-log export on the workspace the ingest benchmark built.

Each step runs in a fresh process on a fresh run (its own Journeys), so every figure includes
the shared per-run work (as-of date, the per-person table); ``journeys_base`` measures that
shared part alone. The issue's bar for inventory + personas + paths + map: 1M leads in <= 8 s,
<= 2 GB peak. The event log is an export (XES is ~3 GB of XML at 1M leads), measured apart.
"""

from __future__ import annotations

from bench.measure import WORK, report, run_child

SETUP = (
    "import ibis\n"
    "from leadjourney.workspace import Workspace\n"
    "from leadjourney.analysis.journeys import Journeys\n"
    "ws = Workspace.open({ws!r})\n"
    "con = ws.connect(read_only=True)\n"
    "journeys = Journeys(ibis.duckdb.from_connection(con), ws.config)\n"
)

STEPS = {
    "journeys_base": "journeys.as_of(); journeys.wide()\n",
    "touchpoint_inventory": (
        "from leadjourney.analysis.touchpoints import TouchpointInventory\n"
        "print(len(TouchpointInventory().fit(journeys).rows))\n"
    ),
    "paths": (
        "from leadjourney.analysis.paths import Paths\n"
        "print(Paths().fit(journeys).n_variants)\n"
    ),
    "event_log_csv": (
        "from leadjourney.journeymap.eventlog import export_event_log\n"
        "print(export_event_log(journeys, {out!r}, fmt='csv').events)\n"
    ),
    "event_log_xes": (
        "from leadjourney.journeymap.eventlog import export_event_log\n"
        "print(export_event_log(journeys, {out!r}, fmt='xes').events)\n"
    ),
}


def main(leads: int) -> None:
    base = WORK / f"gen-{leads}"
    ws = base / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.ingest_generated(leads)
    for name, code in STEPS.items():
        out = base / f"{name}.out"
        wall, peak, printed = run_child(SETUP.format(ws=str(ws)) + code.format(out=str(out)))
        figures: dict[str, object] = {"leads": leads, "seconds": wall, "peak_mb": peak, "result": printed.strip()}
        if out.exists():
            figures["file_mb"] = out.stat().st_size / 1e6
            out.unlink()
        report(name, **figures)
