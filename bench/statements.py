"""Wall and CPU seconds of every SQL statement an ingest runs, on a copy of a workspace.

    python -m bench.statements bench/.work/web-10000000-200000/ws --only ga4 --into /tmp/me/ws

Copies the workspace (its database and configuration) to ``--into``, re-ingests the sources named by ``--only``
(all by default) with ``force``, and prints the statements that took the most CPU: wall seconds, CPU seconds
(user + system of all threads) and their ratio (about 2 on this machine when a statement keeps both cores
busy, 1 when one thread does the work or the machine is loaded), then the sum and the time outside SQL.
The copy is left in place for a look at the result; the workspace itself is not touched.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path
from typing import Any

from leadjourney.ingest.pipeline import ingest
from leadjourney.workspace import Workspace


class _Timed:
    """A DuckDB connection whose ``execute`` records (wall, cpu, sql); the rest passes through."""

    def __init__(self, con: Any, log: list[tuple[float, float, str]]) -> None:
        self._con, self._log = con, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def __enter__(self) -> _Timed:
        return self

    def __exit__(self, *exc: object) -> None:
        self._con.close()

    def cursor(self) -> _Timed:
        return _Timed(self._con.cursor(), self._log)

    def execute(self, sql: object, *args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = self._con.execute(sql, *args, **kwargs)
        self._log.append((time.perf_counter() - wall, time.process_time() - cpu, " ".join(str(sql).split())))
        return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--into", type=Path, required=True, help="where the copy goes (replaced)")
    parser.add_argument("--only", action="append", default=[], help="a source to re-ingest (repeatable)")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    shutil.rmtree(args.into, ignore_errors=True)
    shutil.copytree(args.workspace, args.into, ignore=shutil.ignore_patterns(".tmp", "*.wal"))
    log: list[tuple[float, float, str]] = []
    connect = Workspace.connect
    Workspace.connect = lambda self, **kw: _Timed(connect(self, **kw), log)  # type: ignore[method-assign]
    wall, cpu = time.perf_counter(), time.process_time()
    ingest(Workspace.open(args.into), only=args.only, force=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"ingest: wall {wall:.2f} s, cpu {cpu:.2f} s ({cpu / wall:.1f}x), {len(log)} statements")
    print(f"{'wall':>7} {'cpu':>7} {'cpu/wall':>8}  statement")
    for w, c, sql in sorted(log, key=lambda x: -x[1])[:args.top]:
        print(f"{w:7.2f} {c:7.2f} {c / w if w else 0:7.1f}x  {sql[:140]}")
    in_sql = sum(x[1] for x in log)
    print(f"in SQL: cpu {in_sql:.2f} s; outside (Python, file hashing): cpu {cpu - in_sql:.2f} s")


if __name__ == "__main__":
    main()
