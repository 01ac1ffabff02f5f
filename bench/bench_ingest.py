"""Ingest of an independent N-lead event log (Parquet, then CSV) beside the floor: DuckDB copying the same
Parquet files into a fresh database file (``CREATE TABLE AS SELECT * FROM read_parquet``), in the same run.

Figures are CPU seconds (user + system, all threads: the machine is shared, wall time is noise) and
peak RSS, each measured in a fresh child process. After each full ingest, a checksum of every table (rows and a
hash of their values; the e-mail salt fixed) is compared with the first run's at that size, kept in
``bench/.work/checksums-*.json``: a speed change must print ``checksums=same as reference``. The issue's targets: ingest <= 3x the floor's CPU at
1M and 10M leads, re-ingest of unchanged files <= 1.2x the floor, an incremental ingest of 1 % new rows
(new leads with their stage events, touchpoints and opportunities, in new files: what a connector's pull
adds) <= 10 % of the full ingest. The full ingest's CPU is also split by part (typing and checks, the canonical
writes, identity, the derived per-person tables, the web tables with the counts and the commit), each beside the
floor: what the 3x target would count if the derived tables were counted apart.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.checksums import FIX_SALT, checksum_code, compare, strip
from bench.ingest_log import TABLES, write_log
from bench.measure import WORK, SpillWatch, last_cpu_seconds, report, run_child


def main(leads: int, formats: tuple[str, ...] = ("parquet", "csv")) -> None:
    data = WORK / f"log-{leads}"
    rows = write_log(data, leads)
    print(f"independent log, {leads:,} leads: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()), flush=True)
    floor_db = data / "floor.duckdb"
    floor_db.unlink(missing_ok=True)
    _, floor_peak, _ = run_child(
        "import duckdb\n"
        f"con = duckdb.connect({str(floor_db)!r})\n"
        + "".join(f"con.execute(\"CREATE TABLE {t} AS SELECT * FROM read_parquet('{data / (t + '.parquet')}')\")\n"
                  for t in TABLES)
        + "con.close()\n"
    )
    floor = last_cpu_seconds()
    floor_db.unlink(missing_ok=True)
    report("ingest_floor", leads=leads, cpu_s=floor, peak_mb=floor_peak)
    figures = [("floor (CTAS read_parquet)", floor, floor_peak)]
    for fmt in formats:
        ws = data / f"ws-{fmt}"
        _setup(ws, data, fmt)
        with SpillWatch(ws / "leadjourney.duckdb.tmp") as spill:
            _, peak, out = run_child(_INGEST_PHASES.format(ws=str(ws)) + "print(r.table_rows, dict(r.quarantined))\n")
        cpu = last_cpu_seconds()
        out, phases = _phases(out, cpu)
        _, _, sums = run_child(checksum_code(str(ws)))
        report(f"ingest_{fmt}", leads=leads, cpu_s=cpu, peak_mb=peak, spilled_mb=spill.peak_mb, x_floor=cpu / floor,
               rows=strip(out).strip(), checksums=compare(f"ingest-{fmt}-{leads}", sums), phases_cpu_s=phases)
        print("  where the CPU goes (x floor): " + ", ".join(
            f"{name} {seconds:.1f} ({seconds / floor:.2f})" for name, seconds in phases.items()), flush=True)
        figures.append((f"ingest {fmt}", cpu, peak))
        _, peak2, _ = run_child(_INGEST.format(ws=str(ws)))
        cpu2 = last_cpu_seconds()
        report(f"ingest_{fmt}_unchanged", leads=leads, cpu_s=cpu2, peak_mb=peak2, x_floor=cpu2 / floor)
        figures.append((f"re-ingest {fmt}, unchanged", cpu2, peak2))
        if fmt == "parquet":
            cpu3, peak3 = _incremental(ws, data, leads, fmt)
            report(f"ingest_{fmt}_new_1pct", leads=leads, cpu_s=cpu3, peak_mb=peak3, x_floor=cpu3 / floor,
                   share_of_full=cpu3 / cpu)
            figures.append((f"ingest {fmt}, +1 % new: {cpu3 / cpu:.1%}", cpu3, peak3))  # share of the full ingest
        shutil.rmtree(ws, ignore_errors=True)
    print(f"\n{leads:,} leads{'':<20} {'CPU s':>8} {'x floor':>8} {'peak MB':>8}")
    for name, cpu, peak in figures:
        print(f"{name:<32} {cpu:>8.1f} {cpu / floor:>8.1f} {peak:>8.0f}")


_INGEST = ("from leadjourney.workspace import Workspace\nfrom leadjourney.ingest import ingest\n"
           "r = ingest(Workspace.open({ws!r}))\n")


# the ingest's progress messages, by their first word, and the part of the work each one starts
_PHASE_OF = {"reading": "typing and checks", "loading": "typing and checks", "writing": "canonical writes",
             "linking": "identity", "indexing": "derived per-person tables",
             "stitching": "web tables, counts and commit", "done": "closing"}
_INGEST_PHASES = ("import json, time\nfrom leadjourney.workspace import Workspace\nfrom leadjourney.ingest import ingest\n"
                  "marks = []\n"
                  "def say(message, done=0, total=0):\n"
                  "    marks.append((message.split()[0], time.process_time()))\n"
                  "r = ingest(Workspace.open({ws!r}), progress=say)\n"
                  "print('__phases', json.dumps(marks))\n")


def _phases(output: str, cpu: float) -> tuple[str, dict[str, float]]:
    """``output`` without the phases line, and the child's CPU seconds by part of the ingest (from one progress
    message to the next; "start-up" before the first: imports, the config; "closing" after the last)."""
    lines = output.splitlines()
    marks: list[tuple[str, float]] = next(
        (json.loads(x.split(" ", 1)[1]) for x in lines if x.startswith("__phases ")), [])
    phases: dict[str, float] = {}
    if marks:
        phases["start-up"] = marks[0][1]
    for (word, at), (_, until) in zip(marks, [*marks[1:], ("", cpu)], strict=True):
        name = _PHASE_OF.get(word, word)
        phases[name] = phases.get(name, 0.0) + max(0.0, until - at)
    return "\n".join(x for x in lines if not x.startswith("__phases ")), {k: round(v, 1) for k, v in phases.items()}


def _incremental(ws: Path, data: Path, leads: int, fmt: str) -> tuple[float, float]:
    """CPU seconds and peak MB of ingesting 1 % new leads (numbered on from the log's) into ``ws``, as new files
    registered as new sources beside the loaded ones (which are unchanged, so skipped)."""
    new = data / "new-1pct"
    write_log(new, max(1, leads // 100), first=leads + 1)
    _register(ws, new, fmt, suffix="_new")
    _, peak, _ = run_child(_INGEST.format(ws=str(ws)))
    return last_cpu_seconds(), peak


def _setup(ws: Path, data: Path, fmt: str, utc: tuple[str, ...] = ()) -> None:
    """A fresh workspace at ``ws`` with one source per table of ``data`` (offset-less times in New York, but
    the ``utc`` tables')."""
    shutil.rmtree(ws, ignore_errors=True)
    run_child(f"from pathlib import Path\nfrom leadjourney.workspace import Workspace\n"
              f"ws = Workspace.init(Path({str(ws)!r}))\n" + FIX_SALT)
    _register(ws, data, fmt, utc)


def _register(ws: Path, data: Path, fmt: str, utc: tuple[str, ...] = (), suffix: str = "") -> None:
    """Add a source per table of ``data`` to the workspace at ``ws``, named TABLE + ``suffix`` (offset-less times
    in New York, but the ``utc`` tables')."""
    run_child(
        "from leadjourney.workspace import Workspace\n"
        f"ws = Workspace.open({str(ws)!r})\n"
        "ws.set_sources([\n"
        + "".join(f"    dict(name='{t}{suffix}', path={str(data / (t + '.' + fmt))!r}, format={fmt!r}, table='{t}',"
                  f" timezone='{'UTC' if t in utc else 'America/New_York'}'),\n" for t in TABLES)
        + "])\n"
    )


def ingest_generated(leads: int) -> Path:
    """Generate N leads with ``leadjourney.generate`` and ingest them (the growth benchmark's workspace)."""
    base = WORK / f"gen-{leads}"
    data = base / "data"
    if not (data / "leads.parquet").exists():
        run_child(
            "from pathlib import Path; from datetime import date\n"
            "from leadjourney.generate import generate\n"
            f"generate(Path({str(data)!r}), n_leads={leads}, seed=1, end=date(2026, 10, 31))\n"
        )
    ws = base / "ws"
    _setup(ws, data, "parquet", utc=("touchpoints",))
    wall, peak, out = run_child(_INGEST.format(ws=str(ws)) + "print(r.table_rows)\n")
    report("ingest_generated", leads=leads, seconds=wall, cpu_s=last_cpu_seconds(), peak_mb=peak, rows=out.strip())
    return ws
