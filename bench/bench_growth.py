"""Growth: ingest and full `analyze` at 100k, 1M and 10M leads, so the scaling is visible.

The issue's bar: 10M leads completes on the 2-core, 24 GB machine without running out of
memory (DuckDB spills to disk). Sizes already built under bench/.work are reused;
`--leads N` adds N to the default sizes. 10M is ten copies of the 1M data set with
distinct ids and e-mails (the generator holds a whole data set in memory, too much at 10M).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from bench import bench_ingest
from bench.measure import WORK, report, run_child

SIZES = (100_000, 1_000_000, 10_000_000)


def main(leads: int) -> None:
    rows = []
    for n in sorted({*SIZES, leads}):
        ws = generated_workspace(n)
        wall, peak, _ = run_child(
            "from leadjourney.workspace import Workspace\nfrom leadjourney.analysis import analyze\n"
            f"analyze(Workspace.open({str(ws)!r}))\n"
        )
        report("growth_analyze", leads=n, seconds=wall, peak_mb=peak)
        rows.append((n, wall, peak))
    print(f"{'leads':>12} {'analyze s':>10} {'peak MB':>9}")
    for n, wall, peak in rows:
        print(f"{n:>12,} {wall:>10.2f} {peak:>9.0f}")


def generated_workspace(n: int) -> Path:
    """The ingested workspace of ``n`` generated leads under bench/.work, built when missing: 10M and other
    whole millions from 10M up are copies of the 1M set (see :func:`replicate`)."""
    ws = WORK / f"gen-{n}" / "ws"
    if not (ws / "leadjourney.duckdb").exists():
        if n >= 10 * 1_000_000 and n % 1_000_000 == 0:
            if not (WORK / "gen-1000000" / "data" / "leads.parquet").exists():
                bench_ingest.ingest_generated(1_000_000)
            replicate(WORK / "gen-1000000" / "data", WORK / f"gen-{n}" / "data", n // 1_000_000)
        bench_ingest.ingest_generated(n)
    return ws


def replicate(src: Path, dst: Path, times: int) -> None:
    """Write ``times`` copies of a generated data set with distinct lead, opportunity ids and e-mails."""
    if (dst / "leads.parquet").exists():
        return
    dst.mkdir(parents=True, exist_ok=True)
    # the prefix goes after an e-mail's leading spaces: the generator's duplicates include " Jane@x.com" beside
    # "jane@x.com", which ingest merges; prefixed before the spaces they stayed apart (10.11M people at 10M
    # instead of ten times 1M's 1.00M)
    renamed = {"lead_id": "'r' || k || '-' || lead_id",
               "email": "CASE WHEN trim(email) = '' THEN email ELSE regexp_replace(email, '^(\\s*)', '\\1r' || k || '.') END",
               "opportunity_id": "'r' || k || '-' || opportunity_id"}
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # DuckDB 2 refuses it as a connect-time (global) option
    # this process then starts the measured ones: unbounded, the 10x copy held 9.3 GB here (DuckDB's default budget
    # is 80% of memory), a share of the shared machine kept until the bench ends
    con.execute("SET memory_limit = '2GB'")
    for table in ("leads", "stage_events", "touchpoints", "opportunities"):
        path = src / f"{table}.parquet"
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
        columns = ", ".join(f"{renamed[c]} AS {c}" if c in renamed else c for c in names)
        con.execute(f"""
            COPY (SELECT {columns} FROM read_parquet('{path}'), range({times}) AS r(k))
            TO '{dst / (table + ".parquet")}' (FORMAT parquet)
        """)
    con.close()
