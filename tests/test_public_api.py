"""The package's public surface: everything exported is listed, sorted, and importable; every result has a table."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pytest

import leadjourney
from conftest import SharedGenerated
from leadjourney.tabular import Tabular

ROOT = Path(__file__).resolve().parents[1]
OTHER_RESULTS = ("leadjourney.analysis.report:Analysis", "leadjourney.quality.report:QualityReport",
                 "leadjourney.ingest.pipeline:IngestReport", "leadjourney.monitor.run:MonitorRun",
                 "leadjourney.reports.recommendations:Recommendations")


def test_all_is_sorted_and_complete() -> None:
    assert leadjourney.__all__ == sorted(leadjourney.__all__)
    public = {name for name in dir(leadjourney)
              if not name.startswith("_") and not inspect.ismodule(getattr(leadjourney, name))}
    assert public == set(leadjourney.__all__) - {"__version__"}


def test_every_exported_name_resolves_and_the_functions_keep_their_names() -> None:
    """Lazy names load; ``ingest`` and ``generate`` stay the functions after their subpackages load."""
    import leadjourney.generate._generate
    import leadjourney.ingest.pipeline

    for name in leadjourney.__all__:
        assert getattr(leadjourney, name) is not None
    assert inspect.isfunction(leadjourney.ingest) and inspect.isfunction(leadjourney.generate)


def test_every_error_derives_from_the_root() -> None:
    errors = [getattr(leadjourney, n) for n in leadjourney.__all__ if n.endswith("Error")]
    assert len(errors) >= 5
    assert all(issubclass(e, leadjourney.LeadJourneyError) for e in errors)


def _analysis_results() -> list[type]:
    """Every analysis class that computes a result (a ``fit`` and a ``to_dict``)."""
    import leadjourney.analysis as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"leadjourney.analysis.{info.name}")
        found += [c for _, c in inspect.getmembers(module, inspect.isclass)
                  if c.__module__ == module.__name__ and hasattr(c, "fit") and hasattr(c, "to_dict")]
    return found


def test_every_result_has_a_table() -> None:
    results = _analysis_results()
    assert {"Funnel", "TimeInStage", "Sources", "SpeedToLead", "DarkLeads", "Friction"} <= {c.__name__ for c in results}
    for spec in OTHER_RESULTS:
        module, name = spec.split(":")
        results.append(getattr(importlib.import_module(module), name))
    missing = [c.__name__ for c in results if not issubclass(c, Tabular)]
    assert not missing, f"results without to_arrow()/to_pandas(): {missing}"


def test_the_analysis_tables_hold_its_rows(shared_generated: SharedGenerated) -> None:
    ws, _ = shared_generated(n_leads=2000, seed=3)
    result = leadjourney.analyze(ws).analysis
    funnel = result.funnel.to_arrow()
    assert isinstance(funnel, pa.Table) and funnel.num_rows == len(result.funnel.transitions)
    assert funnel.column("from").to_pylist() == [t.from_stage for t in result.funnel.transitions]
    assert funnel.column("entered").to_pylist() == [t.entered for t in result.funnel.transitions]
    assert funnel.column("status").to_pylist() == [t.status.status.value for t in result.funnel.transitions]
    assert result.to_arrow().equals(funnel)  # the analysis's own table is its funnel
    for part, rows in (("time_in_stage", "rows"), ("sources", "conversion"), ("friction", "rows")):
        table = getattr(result, part).to_arrow()
        assert table.num_rows == len(getattr(getattr(result, part), rows)) > 0, part
    speed = result.speed_to_lead.to_pandas()
    assert len(speed) == 1 and speed.loc[0, "n"] == result.speed_to_lead.n
    dark = result.dark_leads.to_pandas()
    assert dark.loc[0, "n_open"] == result.dark_leads.n_open
    assert list(result.friction.to_pandas()["rank"]) == [r.rank for r in result.friction.rows]


def test_to_pandas_without_pandas_says_what_to_install(tmp_path: Path) -> None:
    """pandas is optional: without it, to_pandas() is a one-line LeadJourneyError and to_arrow() still works."""
    (tmp_path / "pandas.py").write_text("raise ImportError('no pandas here')\n")
    code = ("import leadjourney.analysis.funnel as f, leadjourney as lj\n"
            "x = f.Funnel()\n"
            "print(x.to_arrow().num_rows)\n"
            "try:\n    x.to_pandas()\nexcept lj.LeadJourneyError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": f"{tmp_path}:{ROOT / 'src'}"}).stdout.splitlines()
    assert out == ["0", "Funnel.to_pandas() needs pandas, which is not installed: `pip install pandas`, or use "
                        "to_arrow()"]


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_help_shows_the_readme_example() -> None:
    """help(leadjourney) carries the same example as the README (which the next test runs)."""
    assert textwrap.indent(_readme_example(), "    ") in (leadjourney.__doc__ or "")


@pytest.mark.slow
def test_the_readme_python_example_runs_verbatim(tmp_path: Path) -> None:
    """The README's Python API example, as written, in a fresh process in an empty folder."""
    proc = subprocess.run([sys.executable, "-c", _readme_example()], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "acme" / "out" / "journey_map.html").exists()
    assert "MQL" in proc.stdout


@pytest.mark.slow
def test_the_example_notebook_runs(tmp_path: Path) -> None:
    """docs/example.ipynb, executed top to bottom in a real kernel, in an empty folder."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "docs" / "example.ipynb", as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert "carrier_pigeon" in outputs[-1]["text"]  # the last cell printed the selection's error
    assert (tmp_path / "acme-notebook" / "leadjourney.toml").exists()


def test_the_command_line_starts_without_the_heavy_modules() -> None:
    """`leadjourney --help` (every command registered, its help printed) loads no engine, no config parser and
    no workflow: they load when a command runs (start-up figures: `python -m bench startup`)."""
    code = ("import contextlib, io, sys\nfrom leadjourney.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as shown, contextlib.suppress(SystemExit):\n"
            "    main(['--help'])\n"
            "heavy = ('duckdb', 'ibis', 'pyarrow', 'pandas', 'tomllib', 'leadjourney.config', "
            "'leadjourney.analysis', 'leadjourney.workflows')\n"
            "print('analyze' in shown.getvalue(), sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True []"
