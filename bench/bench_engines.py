"""The same `analyze` on DuckDB and on Spark (local mode, every core), on N generated leads.

Figures (wall seconds; CPU seconds of each process and what it started, steadier on a busy machine), each
in a fresh process: DuckDB's analyze (the yardstick, same run); the Parquet export Spark reads;
Spark's session start; Spark's first analyze (cold: the Parquet read, the plans) and a second one in the same
session (warm), each split by analysis (which one the time goes to) and the campaign analyses by part
(milestones, e-mail and nurture, content lift, sales touches); the Spark JVM's peak memory. Spark runs
with the workspace's ``[engine]`` master and ``spark_conf`` (local: half the memory for the driver by default). The two results are compared number by number (counts exactly, floats to 1e-9), so a figure
is never for a wrong answer. Workspaces already built under bench/.work are reused.

    python -m bench engines --leads 100000
"""

from __future__ import annotations

import json

from bench.bench_growth import generated_workspace
from bench.measure import last_cpu_seconds, report, run_child

_TIMING = """
import dataclasses, json, os, time
from leadjourney.analysis import analyze, report as _report, journeys as _journeys
from leadjourney.workspace import Workspace
jvm = None  # the Spark JVM's process id, once a session started
def jvm_stat():  # the Spark JVM's CPU ticks (all its threads) and peak resident memory in kB
    if jvm is None:
        return 0, 0
    with open(f"/proc/{jvm}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{jvm}/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    return int(fields[11]) + int(fields[12]), hwm
def cpu():  # this Python's CPU seconds (all its threads: DuckDB's too) and the Spark JVM's
    return time.process_time() + jvm_stat()[0] / os.sysconf("SC_CLK_TCK")
times = {}
parts = {}  # analysis -> [wall s, CPU s] in the step going on (outermost fit only)
depth = [0]
def timed(name, method):
    def run(*args, **kwargs):
        depth[0] += 1
        c, t = cpu(), time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                part = parts.setdefault(name, [0.0, 0.0])
                part[0] += time.perf_counter() - t
                part[1] += cpu() - c
    return run
for cls in (_report.Funnel, _report.TimeInStage, _report.Sources, _report.SpeedToLead, _report.DarkLeads,
            _report.Friction, _report.WebJourney, _report.Pipeline, _report.Campaigns):
    cls.fit = timed(cls.__name__, cls.fit)
_journeys.Journeys.check = timed("check (selection, cached people)", _journeys.Journeys.check)
import leadjourney.analysis.campaigns as _campaigns
subparts = {}  # the campaign analyses' parts -> [wall s, CPU s] (outermost call only)
sub_depth = [0]
def timed_part(name, function):
    def run(*args, **kwargs):
        sub_depth[0] += 1
        c, t = cpu(), time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            sub_depth[0] -= 1
            if sub_depth[0] == 0:
                part = subparts.setdefault(name, [0.0, 0.0])
                part[0] += time.perf_counter() - t
                part[1] += cpu() - c
    return run
for _name in ("milestones", "content_lift", "sales_touches"):
    setattr(_campaigns, _name, timed_part(_name, getattr(_campaigns, _name)))
_campaigns.EmailEngagement.fit = timed_part("email and nurture", _campaigns.EmailEngagement.fit)
def step(name, run):
    global jvm
    parts.clear()
    subparts.clear()
    c, t = cpu(), time.perf_counter()
    result = run()
    if name == "session":  # from here on the JVM's CPU counts too (its start-up: all it used so far)
        jvm = result.sparkContext._gateway.proc.pid
    times[name] = time.perf_counter() - t
    times[name + "_cpu"] = cpu() - c
    if parts:
        times[name + "_parts"] = {k: [round(v[0], 1), round(v[1], 1)] for k, v in parts.items()}
    if subparts and "Campaigns" in parts:  # what the parts leave: the presence checks, person_touches' plan
        subparts["the rest (presence checks)"] = [parts["Campaigns"][i] - sum(v[i] for v in subparts.values())
                                                  for i in (0, 1)]
        times[name + "_campaign_parts"] = {k: [round(v[0], 1), round(v[1], 1)] for k, v in subparts.items()}
    return result
"""

_DUCKDB = """  # after _TIMING
ws = Workspace.open({ws!r})
first = step("duckdb", lambda: analyze(ws))
open({out!r}, "w").write(first.to_json())
print(json.dumps(times))
"""

_SPARK = """  # after _TIMING
from leadjourney.spark import spark_conf_for, spark_session
from leadjourney.table_export import export_tables
ws = Workspace.open({ws!r})
engine = dataclasses.replace(ws.config.engine, backend="pyspark")  # the workspace's master and spark_conf
ws.config = dataclasses.replace(ws.config, engine=engine)
step("session", lambda: spark_session(engine.master, engine.spark_conf))
step("export", lambda: export_tables(ws, force=True))  # DuckDB's tables, then the per-person ones built by Spark
first = step("cold", lambda: analyze(ws))
step("warm", lambda: analyze(ws))
open({out!r}, "w").write(first.to_json())
conf = spark_conf_for(engine.master, engine.spark_conf)
times["conf"] = {{k: conf[k] for k in ("spark.driver.memory", "spark.sql.shuffle.partitions") if k in conf}}
times["jvm_peak_mb"] = jvm_stat()[1] / 1024
print(json.dumps(times))
"""


def main(leads: int) -> None:
    ws = generated_workspace(leads)  # built once: reused by every later run
    duck_json, spark_json = ws.parent / "engines-duckdb.json", ws.parent / "engines-spark.json"
    wall, peak, out = run_child(_TIMING + _DUCKDB.format(ws=str(ws), out=str(duck_json)))
    duck_cpu = last_cpu_seconds()
    duck_times = json.loads(out.strip().splitlines()[-1])
    report("engines_duckdb_analyze", leads=leads, seconds=wall, cpu_s=duck_cpu, peak_mb=peak)
    spark_wall, spark_peak, out = run_child(_TIMING + _SPARK.format(ws=str(ws), out=str(spark_json)))
    spark_cpu = last_cpu_seconds()  # the Python driver alone (the JVM is not its waited-for child: see cold/warm_cpu)
    times = json.loads(out.strip().splitlines()[-1])
    unequal = differences(json.loads(duck_json.read_text()), json.loads(spark_json.read_text()))
    report("engines_spark", leads=leads, export_s=times["export"], session_s=times["session"],
           cold_analyze_s=times["cold"], warm_analyze_s=times["warm"], cold_cpu_s=times["cold_cpu"],
           warm_cpu_s=times["warm_cpu"], process_s=spark_wall, driver_cpu_s=spark_cpu, driver_peak_mb=spark_peak,
           jvm_peak_mb=times["jvm_peak_mb"], numbers_differing=len(unequal), conf=times["conf"])
    splits = []  # where the time goes: wall s (CPU s) by analysis, then the campaign analyses' parts
    for kind, suffix in (("", "_parts"), (" campaigns", "_campaign_parts")):
        splits += [("duckdb" + kind, duck_times.get("duckdb" + suffix, {})),
                   ("spark cold" + kind, times.get("cold" + suffix, {})),
                   ("spark warm" + kind, times.get("warm" + suffix, {}))]
    for label, split in [(label, split) for label, split in splits if split]:
        shares = sorted(split.items(), key=lambda kv: -kv[1][1])
        print(f"  {label}:", ", ".join(f"{name} {wall:.1f} s ({cpu:.1f})" for name, (wall, cpu) in shares))
    for line in unequal[:10]:
        print("  differs:", line)
    print(f"{'leads':>10} {'duckdb s (cpu)':>15} {'export s':>9} {'session s':>10} {'spark cold s (cpu)':>19} "
          f"{'spark warm s (cpu)':>19}")
    print(f"{leads:>10,} {wall:>7.1f} ({duck_cpu:>5.1f}) {times['export']:>9.1f} {times['session']:>10.1f} "
          f"{times['cold']:>9.1f} ({times['cold_cpu']:>6.1f}) {times['warm']:>9.1f} ({times['warm_cpu']:>6.1f})")


def differences(duck: object, spark: object, path: str = "") -> list[str]:
    """Where two analyses' JSON differ (the computed_at stamp aside): integers exactly, floats beyond 1e-9."""
    import math

    if isinstance(duck, dict) and isinstance(spark, dict):
        keys = duck.keys() | spark.keys()
        return [d for k in sorted(keys) if k != "computed_at"
                for d in differences(duck.get(k), spark.get(k), f"{path}/{k}")]
    if isinstance(duck, list) and isinstance(spark, list) and len(duck) == len(spark):
        return [d for i, (a, b) in enumerate(zip(duck, spark, strict=True)) for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(duck, float) and isinstance(spark, float | int):
        return [] if math.isclose(duck, spark, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {duck} vs {spark}"]
    return [] if duck == spark else [f"{path}: {duck!r} vs {spark!r}"]
