"""Time and peak memory of a step, measured in a child process so figures are not polluted."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

WORK = Path(__file__).resolve().parent / ".work"
LAST_CPU_SECONDS = 0.0
# The child's own peak RSS: VmHWM, the high-water mark of the address space it has since its exec. Not
# getrusage's ru_maxrss: on Linux a child started by fork (or vfork) and exec inherits its parent's peak there, so a
# bench parent that once held 9 GB (bench growth copying the 1M data set ten times in-process) made every later
# child report >= 9 GB whatever it used itself (ru_maxrss only where /proc is missing).
PEAK_CODE = (
    "\ndef _peak_kb():\n"
    "    try:\n"
    "        with open('/proc/self/status') as _f:\n"
    "            return next(int(_l.split()[1]) for _l in _f if _l.startswith('VmHWM:'))\n"
    "    except (OSError, StopIteration):\n"
    "        import resource as _r\n"
    "        return _r.getrusage(_r.RUSAGE_SELF).ru_maxrss\n"
    "print('__peak_kb', _peak_kb())\n"
)
_PEAK = PEAK_CODE


def run_child(code: str) -> tuple[float, float, str]:
    """Run ``code`` in a fresh Python; return (wall seconds, peak RSS in MB, its other stdout).

    The child's CPU time (user + system, all threads) is kept for :func:`last_cpu_seconds`: a
    figure less disturbed than wall time when something else runs on the machine.
    """
    global LAST_CPU_SECONDS
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code + _PEAK], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU_SECONDS = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{proc.stderr}")
    lines = proc.stdout.splitlines()
    peak_kb = int(next(line for line in reversed(lines) if line.startswith("__peak_kb")).split()[1])
    rest = "\n".join(line for line in lines if not line.startswith("__peak_kb"))
    return wall, peak_kb / 1024, rest


def last_cpu_seconds() -> float:
    """CPU seconds (user + system) of the latest :func:`run_child`."""
    return LAST_CPU_SECONDS


def report(name: str, **figures: object) -> None:
    """Print one benchmark's figures as a readable line and a JSON line."""
    shown = ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
    print(f"{name}: {shown}", flush=True)
    print(json.dumps({"benchmark": name, **figures}), flush=True)


class SpillWatch:
    """The largest size a folder reached while the ``with`` block ran (sampled every half second): what DuckDB
    spilled to its temporary directory during a child's step.

    >>> with SpillWatch(ws / "leadjourney.duckdb.tmp") as spill:   # doctest: +SKIP
    ...     run_child(code)
    >>> spill.peak_mb                                                # doctest: +SKIP
    """

    def __init__(self, folder: Path, every: float = 0.5) -> None:
        self.folder, self.every, self.peak_mb = folder, every, 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, _folder_mb(self.folder))
            if self._done.wait(self.every):
                return


def _folder_mb(folder: Path) -> float:
    """Bytes on disk under ``folder`` (0 when missing or while its files come and go), in MB."""
    total = 0
    try:
        for item in folder.rglob("*"):
            try:
                total += item.stat().st_blocks * 512
            except OSError:
                continue
    except OSError:
        return 0.0
    return total / 2**20
