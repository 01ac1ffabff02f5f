"""The campaigns-and-content analyses (issue 16) on the workspace the ingest benchmark built, beside a
yardstick measured in the same child process: a plain DuckDB GROUP BY over the same touchpoints (campaign x
kind: touches and distinct leads), the least any per-campaign figure costs.

    python -m bench campaigns --leads 100000     # about 1M touchpoints
"""

from __future__ import annotations

from bench.measure import WORK, last_cpu_seconds, report, run_child

CHILD = """
import time
import ibis
from leadjourney.workspace import Workspace
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.campaigns import Campaigns
ws = Workspace.open({ws!r})
with ws.connect(read_only=True) as con:
    touches = con.execute("SELECT count(*) FROM touchpoints").fetchone()[0]
    t0 = time.perf_counter()
    con.execute("SELECT campaign, kind, count(*), count(DISTINCT lead_id) FROM touchpoints GROUP BY ALL").fetchall()
    yardstick = time.perf_counter() - t0
    journeys = Journeys(ibis.duckdb.from_connection(con), ws.config)
    journeys.people()
    t0 = time.perf_counter()
    c = Campaigns().fit(journeys)
    seconds = time.perf_counter() - t0
    journeys.release()
print("figures", touches, yardstick, seconds, len(c.email.campaigns), len(c.email.nurtures), len(c.content))
"""


def main(leads: int) -> None:
    ws = WORK / f"gen-{leads}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.main(leads)
    wall, peak, out = run_child(CHILD.format(ws=str(ws)))
    line = next(x for x in out.splitlines() if x.startswith("figures")).split()
    touches, yardstick, seconds = int(line[1]), float(line[2]), float(line[3])
    report("campaigns", leads=leads, touchpoints=touches, seconds=seconds, yardstick_seconds=yardstick,
           ratio=seconds / yardstick if yardstick else float("nan"), campaigns=int(line[4]), sequences=int(line[5]),
           content_rows=int(line[6]), child_wall=wall, cpu_seconds=last_cpu_seconds(), peak_mb=peak)
