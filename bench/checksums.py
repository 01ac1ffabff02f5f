"""Checksums of every table a benchmark's ingest wrote, kept beside the first run's to tell a speed change
that changed a value: the benchmarks print ``checksums: same`` or the tables that differ."""

from __future__ import annotations

import json

from bench.measure import WORK

BENCH_SALT = "bench-salt"  # e-mail hashes depend on the workspace's random salt: the benchmarks fix it
_VOLATILE = {"ingest_id", "started_at", "finished_at", "recorded_at"}  # differ run to run
_SKIPPED = {"meta", "ingests"}  # the workspace's own bookkeeping (times, salt)

FIX_SALT = (f"import duckdb as _d\n_c = _d.connect(str(ws.database_path))\n"
            f"_c.execute(\"UPDATE meta SET value = '{BENCH_SALT}' WHERE key = 'email_salt'\")\n_c.close()\n")


def checksum_code(ws: str) -> str:
    """Python for a child process: print ``__checksums`` and a JSON {table: [rows, hash]} of the workspace."""
    return (
        "import duckdb as _d, json as _j\n"
        f"_c = _d.connect({ws + '/leadjourney.duckdb'!r}, read_only=True)\n"
        "_out = {}\n"
        "for (_t,) in _c.execute(\"SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
        "ORDER BY 1\").fetchall():\n"
        f"    if _t in {sorted(_SKIPPED)!r}:\n        continue\n"
        "    _cols = [r[0] for r in _c.execute(f'DESCRIBE {_t}').fetchall() "
        f"if r[0] not in {sorted(_VOLATILE)!r}]\n"
        "    _q = ', '.join('\"' + c + '\"' for c in _cols)\n"
        "    _n, _h = _c.execute(f'SELECT count(*), coalesce(sum(hash({_q})::HUGEINT), 0)::VARCHAR FROM {_t}')"
        ".fetchone()\n"
        "    _out[_t] = [int(_n), str(_h)]\n"
        "print('__checksums', _j.dumps(_out))\n"
    )


def compare(name: str, output: str) -> str:
    """Compare the ``__checksums`` line in ``output`` with the reference kept for ``name`` (the first run's):
    'same', 'reference kept', or the tables that differ."""
    line = next(x for x in output.splitlines() if x.startswith("__checksums"))
    sums = json.loads(line.split(" ", 1)[1])
    ref = WORK / f"checksums-{name}.json"
    if not ref.exists():
        ref.write_text(json.dumps(sums, indent=1, sort_keys=True))
        return f"reference kept ({ref.name})"
    kept = json.loads(ref.read_text())
    differ = sorted(t for t in set(kept) | set(sums) if kept.get(t) != sums.get(t))
    return "same as reference" if not differ else "DIFFER: " + ", ".join(
        f"{t} {kept.get(t)} -> {sums.get(t)}" for t in differ)


def strip(output: str) -> str:
    """``output`` without the checksum line."""
    return "\n".join(x for x in output.splitlines() if not x.startswith("__checksums"))

