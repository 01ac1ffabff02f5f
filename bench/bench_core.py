"""Core metrics (funnel, transition times, source cross-tab) against two yardsticks.

* hand-written DuckDB SQL over the same workspace tables (our bar: within 2x of it; the whole ``analyze``,
  every section, in a fresh process: 1.5x its CPU seconds), ``analyze`` twice: cold (no stored SQL: every
  query compiled) and warm (the SQL a saved analyze keeps in ``<workspace>/.sql-cache`` read back);
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

from bench.measure import WORK, last_cpu_seconds, report, run_child
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

ANALYZE = """
import time
from leadjourney.workspace import Workspace
from leadjourney.analysis import analyze
from leadjourney.sql_store import stored_sql
started = time.perf_counter()
ws = Workspace.open({ws!r})
with stored_sql(ws.root):  # what a saved `leadjourney analyze` reads and keeps
    analyze(ws)
print("compute_seconds", time.perf_counter() - started)
"""

HAND_SQL = """
import time
import duckdb
started = time.perf_counter()
con = duckdb.connect({db!r}, read_only=True)
con.execute('''
create temp table firsts as
select l.person_id, e.stage, min(e.entered_at) as at
from stage_events e join leads l using (lead_id)
where l.excluded_as is null group by all
''')
con.execute('''
select stage, count(*) from firsts group by stage
''').fetchall()
con.execute('''
select a.stage, b.stage, count(*), median(epoch(b.at) - epoch(a.at)), quantile_cont(epoch(b.at) - epoch(a.at), 0.9)
from (values ('Lead', 'MQL'), ('MQL', 'SQL'), ('SQL', 'Opportunity'), ('Opportunity', 'Customer')) p(f, t)
join firsts a on a.stage = p.f join firsts b on b.person_id = a.person_id and b.stage = p.t and b.at >= a.at
group by all
''').fetchall()
con.execute('''
select p.source, f.stage, count(*) from firsts f join leads p on p.lead_id = f.person_id group by all
''').fetchall()
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
import time, resource, pandas as pd, pm4py
log = pd.read_parquet({log!r})
started = time.perf_counter()
pm4py.discover_dfg(log)
pm4py.discover_performance_dfg(log)
print("pm4py_seconds", time.perf_counter() - started)
print("__peak_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


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
    cold, cold_peak, printed = run_child(ANALYZE.format(ws=str(ws)))
    cold_compute, cold_cpu = _compute(printed), last_cpu_seconds()
    whole, whole_peak, printed = run_child(ANALYZE.format(ws=str(ws)))  # warm: the stored SQL read back
    whole_compute, whole_cpu = _compute(printed), last_cpu_seconds()
    sql, sql_peak, printed = run_child(HAND_SQL.format(db=db))
    sql_compute, sql_cpu = _compute(printed), last_cpu_seconds()
    report("core_metrics", leads=leads, seconds=ours, compute_seconds=ours_compute, cpu_seconds=ours_cpu,
           peak_mb=ours_peak)
    report("analyze_cold", leads=leads, seconds=cold, compute_seconds=cold_compute, cpu_seconds=cold_cpu,
           peak_mb=cold_peak)
    report("analyze", leads=leads, seconds=whole, compute_seconds=whole_compute, cpu_seconds=whole_cpu,
           peak_mb=whole_peak)
    report("hand_sql", leads=leads, seconds=sql, compute_seconds=sql_compute, cpu_seconds=sql_cpu,
           peak_mb=sql_peak,
           ratio_ours_to_sql=ours / sql, compute_ratio_ours_to_sql=ours_compute / sql_compute,
           cpu_ratio_ours_to_sql=ours_cpu / sql_cpu, cpu_ratio_analyze_to_sql=whole_cpu / sql_cpu,
           cpu_ratio_analyze_cold_to_sql=cold_cpu / sql_cpu)
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
