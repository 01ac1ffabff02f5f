"""Start-up: CPU seconds of `leadjourney --help`, `import leadjourney` and `analyze --help`, beside a fresh
Python doing nothing (`python -c pass`), one importing Typer, a one-command Typer app's --help (the CLI's
floor: Typer's rich help loads rich.markdown, ...) and a two-command app's subcommand --help (the floor of
`analyze --help`: Typer coerces the subcommand's parameters through pydantic first), measured in the same run.

Each figure is the median over ``REPEAT`` fresh processes of the child's user + system CPU time (steadier
than wall time on a busy machine); ``--leads`` is ignored.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

from bench.measure import report

REPEAT = 7
COMMANDS = {
    "python -c pass (yardstick)": ["-c", "pass"],
    "python -c 'import typer' (floor)": ["-c", "import typer, rich.console"],
    "a one-command Typer app --help (floor)": ["-c", "import typer; app = typer.Typer(rich_markup_mode='rich'); "
                                              "app.command()(lambda name='x': None); app(['--help'])"],
    # a subcommand's --help: Typer coerces its parameters through pydantic first (the floor of `analyze --help`)
    "a two-command Typer app's subcommand --help (floor)": [
        "-c", "import typer; app = typer.Typer(rich_markup_mode='rich'); app.command('a')(lambda name='x': None); "
              "app.command('b')(lambda n=1: None); app(['a', '--help'])"],
    "import leadjourney": ["-c", "import leadjourney"],
    "leadjourney --help": ["-m", "leadjourney", "--help"],
    "leadjourney analyze --help": ["-m", "leadjourney", "analyze", "--help"],
}


def cpu_seconds(args: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one fresh ``python ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, check=True, env={**os.environ, "COLUMNS": "100"})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), wall


def main(leads: int = 0) -> None:
    for name, args in COMMANDS.items():
        runs = [cpu_seconds(args) for _ in range(REPEAT)]
        report("startup", command=name, cpu_seconds=statistics.median(c for c, _ in runs),
               wall_seconds=statistics.median(w for _, w in runs), runs=REPEAT)


if __name__ == "__main__":
    main()
