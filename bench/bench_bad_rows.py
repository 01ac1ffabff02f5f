"""Quarantining malformed rows that hold a long token (a 300 KB base64 blob or URL pasted into a cell),
beside a yardstick measured in the same run: the same file with short tokens instead.

The careful split must not go quadratic on a long token: the two figures should be close (the issue's bar
was "seconds, not minutes"; a test used to assert 8 s for the 2-row file, which a busy machine broke).
"""

from __future__ import annotations

import shutil

from bench.measure import WORK, report, run_child

INGEST = """
import time
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace
ws = Workspace.open({ws!r})
started = time.perf_counter()
ingest(ws)
print("compute_seconds", time.perf_counter() - started)
"""


def _workspace(name: str, token_chars: int, rows: int) -> str:
    """A workspace whose leads.csv has ``rows`` good rows, each followed by a malformed one ending in a token."""
    root = WORK / "bad-rows" / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    token = "x" * token_chars
    with (root / "leads.csv").open("w", encoding="utf-8") as out:
        out.write("lead_id,created_at\n")
        for i in range(rows):
            out.write(f"L{i},2024-01-{1 + i % 28:02d}\nM{i},2024-01-02,{token}\n")
    run_child("from pathlib import Path\nfrom leadjourney.workspace import Workspace\n"
              f"ws = Workspace.init(Path({str(root)!r}))\n"
              "ws.set_sources([dict(name='long', path='leads.csv', format='csv', table='leads')])\n")
    return str(root)


def main(leads: int) -> None:
    del leads  # the sizes here are the malformed rows', fixed
    for rows in (1, 20):
        figures = {}
        for name, chars in (("long", 300_000), ("yardstick_short", 10)):
            wall, peak, out = run_child(INGEST.format(ws=_workspace(f"{name}-{rows}", chars, rows)))
            compute = float(out.split()[-1])
            figures[name] = compute
            report(f"quarantine_{name}_tokens", malformed_rows=rows, token_chars=chars, seconds=wall,
                   compute_seconds=compute, peak_mb=peak)
        report("quarantine_long_vs_short", malformed_rows=rows, ratio=figures["long"] / figures["yardstick_short"])
