"""The journey map's whole run at N leads: touchpoint inventory, personas (profiles and the
data-driven suggestion), paths, and the map in every format (its analysis included), as
`leadjourney map` runs them: one engine run, then the map and the tables written.

The issue's bar: 1M leads / ~8M touchpoints in <= 8 s on the 2-core machine, <= 2 GB peak.
"""

from __future__ import annotations

import shutil

from bench.measure import WORK, last_cpu_seconds, report, run_child

CODE = """
import time
t0 = time.perf_counter()
from pathlib import Path
from leadjourney.workspace import Workspace
from leadjourney.workflows.journey_map import journey_map
marks = {{}}
def progress(message, done, total):
    marks[message] = time.perf_counter()
ws = Workspace.open({ws!r})
t1 = time.perf_counter()
run = journey_map(ws, out_dir=Path({out!r}), tables=True, progress=progress)
order = ["analysis", "touchpoint inventory", "persona profiles", "paths", "suggested personas", "drawing", "done"]  # "drawing": map + tables written
parts = {{"imports": t1 - t0}}
for a, b in zip(order, order[1:]):
    parts[a.replace(" ", "_")] = marks[b] - marks[a]
print("parts " + " ".join(f"{{k}}={{v:.2f}}" for k, v in parts.items()))
"""


def main(leads: int) -> None:
    ws = WORK / f"gen-{leads}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.ingest_generated(leads)
    out = WORK / f"gen-{leads}" / "map-out"
    wall, peak, printed = run_child(CODE.format(ws=str(ws), out=str(out)))
    parts = dict(item.split("=") for item in printed.split("parts ", 1)[1].split()) if "parts " in printed else {}
    report("journey_map", leads=leads, seconds=wall, cpu_seconds=last_cpu_seconds(), peak_mb=peak, **{k: float(v) for k, v in parts.items()})
    shutil.rmtree(out, ignore_errors=True)
