"""Persona profiles and the suggested personas on the workspace the ingest benchmark built.

The issue's bar: touchpoint inventory, personas, paths and the map for 1M leads in <= 8 s
together; personas aim for <= 2 s (profiles + suggestion, after the shared journeys:
people, the wide table and the touchpoints, which the other parts read too). ``personas_cpu_s``
is the CPU time of those steps (all threads), a figure less sensitive to a busy machine.
"""

from __future__ import annotations

import json

from bench.measure import WORK, report, run_child

CODE = """
import json, resource, time
import ibis
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.persona_profiles import PersonaProfiles, person_table
from leadjourney.analysis.persona_clusters import PersonaSuggestion
from leadjourney.workspace import Workspace
ws = Workspace.open({ws!r})
with ws.connect(read_only=True) as con:
    journeys = Journeys(ibis.duckdb.from_connection(con), ws.config)
    t0 = time.perf_counter()
    journeys.wide()
    journeys.touchpoints(journeys.as_of())  # shared with the touchpoint inventory and the map
    t1 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    people = person_table(journeys)
    t2 = time.perf_counter()
    profiles = PersonaProfiles().fit(journeys, people=people)
    t3 = time.perf_counter()
    suggestion = PersonaSuggestion(seed=0).fit(journeys, people=people)
    t4 = time.perf_counter()
    r4 = resource.getrusage(resource.RUSAGE_SELF)
    journeys.release()
print(json.dumps({{"journeys": t1 - t0, "person_table": t2 - t1, "profiles": t3 - t2, "suggestion": t4 - t3,
                  "k": len(suggestion.clusters), "sample": suggestion.n_sample,
                  "cpu": r4.ru_utime + r4.ru_stime - r1.ru_utime - r1.ru_stime}}))
"""


def main(leads: int) -> None:
    ws = WORK / f"gen-{leads}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.ingest_generated(leads)
    wall, peak, out = run_child(CODE.format(ws=str(ws)))
    steps = json.loads(out.strip().splitlines()[-1])
    report(
        "personas", leads=leads, seconds=wall, peak_mb=peak,
        journeys_s=steps["journeys"], person_table_s=steps["person_table"], profiles_s=steps["profiles"],
        suggestion_s=steps["suggestion"], personas_s=steps["person_table"] + steps["profiles"] + steps["suggestion"],
        personas_cpu_s=steps["cpu"], k=steps["k"], sample=steps["sample"],
    )
