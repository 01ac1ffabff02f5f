"""One error path: one hierarchy in errors.py, exported, each class with its exit code; the CLI prints the
message on one line on stderr and exits with that code; bad options are OptionErrors where they are used."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import leadjourney
from conftest import run_cli
from leadjourney import errors
from leadjourney.analysis.funnel import Funnel
from leadjourney.config import parse_config
from leadjourney.workspace import Workspace

SRC = Path(leadjourney.__file__).parent


def _error_classes() -> dict[str, type[BaseException]]:
    return {n: c for n, c in vars(errors).items()
            if inspect.isclass(c) and issubclass(c, BaseException) and c.__module__ == errors.__name__}


def test_every_error_class_is_declared_in_errors_py() -> None:
    """No module declares an exception of its own: each class ``...Error`` of the package is in errors.py."""
    elsewhere = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py" and path.parent == SRC:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name.endswith("Error"):
                elsewhere.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert elsewhere == []


def test_the_hierarchy_is_exported_documented_and_carries_exit_codes() -> None:
    classes = _error_classes()
    assert {"MapError", "MonitorError", "DashboardError", "OptionError"} <= set(classes)
    for name, cls in classes.items():
        if issubclass(cls, Warning):
            continue
        if issubclass(cls, KeyboardInterrupt):  # Ctrl-C after an ingest committed: exit 130, documented
            assert name in (errors.__doc__ or "") and name not in leadjourney.__all__, name
            continue
        assert issubclass(cls, leadjourney.LeadJourneyError), name
        assert getattr(leadjourney, name) is cls and name in leadjourney.__all__, name
        assert name in (errors.__doc__ or ""), f"{name} is missing from the documented hierarchy"
        assert isinstance(cls.exit_code, int) and cls.exit_code > 0, name
    assert errors.MonitorError.exit_code == 2 and errors.SelectionError.exit_code == 1
    assert issubclass(errors.OptionError, errors.ConfigError) and issubclass(errors.OptionError, ValueError)


def test_the_old_homes_still_name_the_same_classes() -> None:
    from leadjourney.dashboard import DashboardError
    from leadjourney.journeymap import MapError
    from leadjourney.journeymap.model import MapError as ModelMapError
    from leadjourney.monitor import MonitorError

    assert (MapError, ModelMapError, MonitorError, DashboardError) == (
        errors.MapError, errors.MapError, errors.MonitorError, errors.DashboardError)


def test_a_bad_option_in_the_config_is_an_option_error_naming_the_key() -> None:
    text = (SRC / "default_config.toml").read_text("utf-8")
    with pytest.raises(errors.OptionError, match=r"analysis\.dark_after_days: must be at least 1, found 0"):
        parse_config(text.replace("dark_after_days = 30", "dark_after_days = 0"))
    with pytest.raises(errors.ConfigError, match="not valid TOML") as raised:
        parse_config("lanes = [")
    assert not isinstance(raised.value, errors.OptionError)  # the file itself, not an option


def test_a_bad_option_of_the_api_is_an_option_error() -> None:
    with pytest.raises(errors.OptionError, match="mode: expected one of stage_reach, ordered, cohort, found 'x'"):
        Funnel(mode="x")


@pytest.mark.parametrize(("args", "words"), [
    (("analyze", "{ws}", "--mode", "bogus"), "mode: expected one of stage_reach, ordered, cohort, found 'bogus'"),
    (("analyze", "{ws}", "--from", "2026-02-30"), "--from: expected a date like 2026-06-30, found '2026-02-30'"),
    (("findings", "{ws}", "--mode", "bogus"), "mode: expected one of stage_reach, ordered, cohort"),
    (("eventlog", "{ws}", "--format", "pdf"), "format: expected one of csv, xes, found 'pdf'"),
    (("report", "{ws}", "--format", "odt"), "--format: unknown format 'odt'"),
])
def test_a_bad_option_on_the_command_line_is_one_line_on_stderr_and_exit_1(
        tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    ws = Workspace.init(tmp_path / "ws")
    proc = run_cli(*(a.format(ws=ws.root) for a in args))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_monitor_errors_go_to_stderr_with_exit_2(tmp_path: Path) -> None:
    """Could not run: exit 2 and one line on stderr (it printed to stdout), for a layer's error and a bad option."""
    ws = Workspace.init(tmp_path / "ws")
    for args, words in ((("monitor", str(ws.root)), "no baseline stored"),
                        (("monitor", str(ws.root), "--as-of", "2026-13-01"), "--as-of: expected a date"),
                        (("monitor", str(ws.root), "--period", "week"), "period: expected month or quarter"),
                        (("monitor", str(tmp_path / "nowhere")), "not a leadjourney workspace"),
                        (("monitor", str(ws.root), "implemented", "x", "--on", "May 1"), "--on: expected a date")):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stdout == "" and words in proc.stderr, (args, proc.stdout, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1


def test_monitor_notify_without_alerts_refuses_before_running(tmp_path: Path) -> None:
    """A cron job asking for alerts that no channel would carry is told so (exit 2), not left in silence."""
    ws = Workspace.init(tmp_path / "ws")
    proc = run_cli("monitor", str(ws.root), "--notify")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "no alert channel configured" in proc.stderr and "[alerts]" in proc.stderr
    assert not (ws.out_dir / "monitor").exists()  # nothing ran
