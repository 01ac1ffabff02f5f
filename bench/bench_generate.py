"""How long the synthetic generator takes for N leads (Parquet): wall and CPU seconds, peak memory."""

from __future__ import annotations

from bench.measure import WORK, last_cpu_seconds, report, run_child


def main(leads: int) -> None:
    out = WORK / f"gen-{leads}" / "data"
    wall, peak, _ = run_child(
        "from pathlib import Path; from datetime import date\n"
        "from leadjourney.generate import generate\n"
        f"generate(Path({str(out)!r}), n_leads={leads}, seed=1, end=date(2026, 10, 31), file_format='parquet')\n"
    )
    report("generate", leads=leads, seconds=wall, cpu_seconds=last_cpu_seconds(), peak_mb=peak)
