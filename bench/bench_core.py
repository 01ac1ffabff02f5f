"""``analyze`` and the core metrics (funnel, transition times, source cross-tab) against two yardsticks.

* hand-written DuckDB SQL computing every figure ``analyze`` computes (:mod:`bench.hand_sql`: funnel and
  times, sources and personas, speed-to-lead, dark leads, pipeline, campaigns) over the same workspace tables.
  Our bar: the whole ``analyze`` in a fresh process within 1.5x the SQL's CPU seconds (interpreter and imports
  included on both sides), reported overall and per analysis (``analyze_part``: the CPU seconds of each
  analysis's ``fit`` beside its SQL section's); ``analyze`` runs twice: cold (no stored SQL: every query
  compiled) and warm (the SQL a saved analyze keeps in ``<workspace>/.sql-cache`` read back);
* PM4Py's discover_dfg + discover_performance_dfg on the same stage log (our bar: >= 3x faster).

Each is reported twice: the child process's wall time (interpreter, imports and all), and
``compute_seconds``, after the imports (connecting included), which is how PM4Py is timed here
(its imports and Parquet read excluded).

PM4Py is AGPL: it is installed into its own virtual environment under bench/.work, never into
the project's, and only this benchmark uses it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench import hand_sql
from bench.measure import PEAK_CODE, WORK, last_cpu_seconds, report, run_child
from leadjourney.sql_store import CACHE_DIR

OURS = """
import time
import ibis
from leadjourney.workspace import Workspace
from leadjourney.analysis import Funnel, Journeys, Sources, TimeInStage
started = time.perf_counter()
ws = Workspace.open({ws!r})
with ws.connect(read_only=True) as con:
    j = Journeys(ibis.duckdb.from_connection(con), ws.config)
    Funnel().fit(j); TimeInStage().fit(j); Sources().fit(j)
    j.release()
print("compute_seconds", time.perf_counter() - started)
"""

# the analyses of each yardstick section (bench/hand_sql.py), timed in CPU seconds inside the child
PARTS = {"funnel_times": ("Funnel", "TimeInStage"), "sources_personas": ("Sources",),
         "speed_to_lead": ("SpeedToLead",), "dark_leads": ("DarkLeads",),
         "pipeline_friction": ("Friction", "Pipeline"), "campaigns": ("Campaigns",), "web": ("WebJourney",)}

ANALYZE = """
import time
from leadjourney.workspace import Workspace
from leadjourney.analysis import analyze, report
from leadjourney.sql_store import stored_sql
PARTS = {parts!r}
spent = dict.fromkeys(PARTS, 0.0)
for part, names in PARTS.items():
    for name in names:
        cls = getattr(report, name)
        def timed(self, *a, _fit=cls.fit, _part=part, **k):
            cpu = time.process_time()
            try:
                return _fit(self, *a, **k)
            finally:
                spent[_part] += time.process_time() - cpu
        cls.fit = timed
imports = time.process_time()
started = time.perf_counter()
ws = Workspace.open({ws!r})
with stored_sql(ws.root):  # what a saved `leadjourney analyze` reads and keeps
    analyze(ws)
for part, cpu in spent.items():
    print("section", part, cpu)
print("section imports", imports)
print("compute_seconds", time.perf_counter() - started)
"""

EXPORT = """
import duckdb
con = duckdb.connect({db!r}, read_only=True)
con.execute('''copy (
  select l.person_id as "case:concept:name", e.stage as "concept:name", e.entered_at as "time:timestamp"
  from stage_events e join leads l using (lead_id)
  where l.excluded_as is null and e.entered_at is not null
) to {log!r} (format parquet)''')
"""

PM4PY = """
import time, pandas as pd, pm4py
log = pd.read_parquet({log!r})
started = time.perf_counter()
pm4py.discover_dfg(log)
pm4py.discover_performance_dfg(log)
print("pm4py_seconds", time.perf_counter() - started)
""" + PEAK_CODE


def _pm4py_python() -> Path | None:
    venv = WORK / "pm4py-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print("installing PM4Py into bench/.work/pm4py-venv (benchmark only, AGPL) ...", flush=True)
        done = subprocess.run([sys.executable, "-m", "venv", str(venv)], check=False).returncode == 0 and \
            subprocess.run([str(python), "-m", "pip", "install", "-q", "pm4py", "pyarrow"], check=False).returncode == 0
        if not done:
            return None
    return python


def main(leads: int) -> None:
    ws = WORK / f"gen-{leads}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        from bench import bench_ingest

        bench_ingest.ingest_generated(leads)
    db = str(ws / "leadjourney.duckdb")
    ours, ours_peak, printed = run_child(OURS.format(ws=str(ws)))
    ours_compute, ours_cpu = _compute(printed), last_cpu_seconds()
    shutil.rmtree(ws / CACHE_DIR, ignore_errors=True)  # cold: every query compiled (and stored)
    cold, cold_peak, printed = run_child(ANALYZE.format(ws=str(ws), parts=PARTS))
    cold_compute, cold_cpu = _compute(printed), last_cpu_seconds()
    whole, whole_peak, printed = run_child(ANALYZE.format(ws=str(ws), parts=PARTS))  # warm: the stored SQL read back
    whole_compute, whole_cpu, whole_parts = _compute(printed), last_cpu_seconds(), _sections(printed)
    sql, sql_peak, printed = run_child(hand_sql.SCRIPT.format(db=db))
    sql_compute, sql_cpu, sql_parts = _compute(printed), last_cpu_seconds(), _sections(printed)
    report("core_metrics", leads=leads, seconds=ours, compute_seconds=ours_compute, cpu_seconds=ours_cpu,
           peak_mb=ours_peak)
    report("analyze_cold", leads=leads, seconds=cold, compute_seconds=cold_compute, cpu_seconds=cold_cpu,
           peak_mb=cold_peak)
    report("analyze", leads=leads, seconds=whole, compute_seconds=whole_compute, cpu_seconds=whole_cpu,
           peak_mb=whole_peak)
    report("hand_sql", leads=leads, seconds=sql, compute_seconds=sql_compute, cpu_seconds=sql_cpu,
           peak_mb=sql_peak, cpu_ratio_analyze_to_sql=whole_cpu / sql_cpu,
           cpu_ratio_analyze_cold_to_sql=cold_cpu / sql_cpu)
    outside = whole_cpu - sum(whole_parts.values())  # interpreter, workspace open, selection check
    sql_outside = sql_cpu - sum(sql_parts.values())
    for part in PARTS:
        ours_part, sql_part = whole_parts.get(part, 0.0), sql_parts.get(part, 0.0)
        report("analyze_part", part=part, analyze_cpu=ours_part, hand_sql_cpu=sql_part,
               ratio=ours_part / sql_part if sql_part else None)
    report("analyze_part", part="imports and the rest", analyze_cpu=outside, hand_sql_cpu=sql_outside,
           ratio=outside / sql_outside if sql_outside > 0 else None)
    python = _pm4py_python()
    if python is None:
        print("pm4py: could not be installed; comparison skipped")
        return
    log = str(WORK / f"gen-{leads}" / "stage_log.parquet")
    run_child(EXPORT.format(db=db, log=log))
    proc = subprocess.run([str(python), "-c", PM4PY.format(log=log)], capture_output=True, text=True, check=False)
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if line.startswith(("pm4py_", "__peak")))
    if "pm4py_seconds" not in lines:
        print(f"pm4py failed:\n{proc.stderr[-2000:]}")
        return
    pm4py_seconds = float(lines["pm4py_seconds"])
    report("pm4py_dfg", leads=leads, seconds=pm4py_seconds, peak_mb=int(lines["__peak_kb"]) / 1024,
           speedup_ours_vs_pm4py=pm4py_seconds / ours, compute_speedup_ours_vs_pm4py=pm4py_seconds / ours_compute)


def _compute(printed: str) -> float:
    """The child's own figure: seconds after its imports (workspace open and connect included)."""
    return float(next(line.split()[1] for line in printed.splitlines() if line.startswith("compute_seconds")))


def _sections(printed: str) -> dict[str, float]:
    """The child's CPU seconds per section (``section NAME SECONDS`` lines); ``imports`` left out."""
    rows = (line.split() for line in printed.splitlines() if line.startswith("section "))
    return {name: float(cpu) for _, name, cpu in rows if name != "imports"}
