"""The journey map's whole run at N leads: touchpoint inventory, personas (profiles and the
data-driven suggestion), paths, and the map in every format (its analysis included).

The issue's bar: 1M leads / ~8M touchpoints in <= 8 s on the 2-core machine, <= 2 GB peak.
"""

from __future__ import annotations

import shutil

from bench.measure import WORK, report, run_child

CODE = """
import time
from leadjourney.workspace import Workspace
from leadjourney.analysis.journeys import open_journeys
from leadjourney.analysis.paths import Paths
from leadjourney.analysis.persona_clusters import PersonaSuggestion
from leadjourney.analysis.persona_profiles import PersonaProfiles
from leadjourney.journeymap.make import make_map
ws = Workspace.open({ws!r})
t0 = time.perf_counter()
from pathlib import Path
run = make_map(ws, out_dir=Path({out!r}))
t1 = time.perf_counter()
with open_journeys(ws) as journeys:
    PersonaSuggestion().fit(journeys)
    t2 = time.perf_counter()
    Paths().fit(journeys)
t3 = time.perf_counter()
print(f"parts map={{t1 - t0:.2f}} suggestion={{t2 - t1:.2f}} paths={{t3 - t2:.2f}}")
"""


def main(leads: int) -> None:
    ws = WORK / f"gen-{leads}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.main(leads)
    out = WORK / f"gen-{leads}" / "map-out"
    wall, peak, printed = run_child(CODE.format(ws=str(ws), out=str(out)))
    parts = dict(item.split("=") for item in printed.split("parts ", 1)[1].split()) if "parts " in printed else {}
    report("journey_map", leads=leads, seconds=wall, peak_mb=peak, **{k: float(v) for k, v in parts.items()})
    shutil.rmtree(out, ignore_errors=True)
