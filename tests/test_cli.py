"""The command line: one-line errors, exit codes, and the commands wired to their layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli as run
from leadjourney.workspace import Workspace


def test_the_installed_entry_point_in_a_process_of_its_own(tmp_path: Path) -> None:
    """The one test that starts a real process (the others run the same entry point in this one: a process
    costs seconds of imports): ``python -m leadjourney`` parses its arguments, prints a one-line error and
    exits 1."""
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}
    proc = subprocess.run([sys.executable, "-m", "leadjourney", "quality", str(tmp_path / "nowhere")],
                          capture_output=True, text=True, check=False, env=env, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a leadjourney workspace" in lines[0]
    assert proc.stdout == ""


def test_not_a_workspace_is_one_line_and_exit_1(tmp_path: Path) -> None:
    proc = run("quality", str(tmp_path / "nowhere"))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a leadjourney workspace" in lines[0]
    assert "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = run("quality", str(tmp_path / "nowhere"), "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "WorkspaceError" in proc.stderr


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text().replace('policy = "merge"', 'policy = "x"'))
    proc = run("quality", str(ws.root))
    assert proc.returncode == 1
    assert "dedupe.policy: expected one of merge, keep, found 'x'" in proc.stderr


def test_init_ingest_quality_round_trip(tmp_path: Path) -> None:
    assert run("init", str(tmp_path / "ws")).returncode == 0
    assert run("init", str(tmp_path / "ws")).returncode == 1  # refuses to overwrite
    export = tmp_path / "leads.csv"
    export.write_text("lead_id,created_at,source\nA1,2026-01-01 10:00,Organic Search\nA2,not a date,PPC\n")
    proc = run("ingest", str(tmp_path / "ws"), "--file", str(export), "--format", "csv", "--table", "leads")
    assert proc.returncode == 0, proc.stderr
    assert "1 unparseable timestamp" in proc.stdout
    cfg = (tmp_path / "ws" / "leadjourney.toml").read_text()
    assert 'name = "leads"' in cfg and "# leadjourney engagement configuration." in cfg  # comments kept
    proc = run("quality", str(tmp_path / "ws"), "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["leads"] == 1 and report["not_loaded"] == {"unparseable timestamp": 1}
    assert (tmp_path / "ws" / "out" / "quality.md").is_file()


def test_ingest_file_needs_a_format(tmp_path: Path) -> None:
    Workspace.init(tmp_path / "ws")
    proc = run("ingest", str(tmp_path / "ws"), "--file", "x.csv")
    assert proc.returncode == 1 and "--format" in proc.stderr


@pytest.mark.parametrize("command", ["init", "generate", "ingest", "quality", "analyze", "demo", "touchpoints",
                                     "personas", "paths", "map", "eventlog"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    proc = run(command, "--help")
    assert proc.returncode == 0 and "Example:" in proc.stdout


def test_each_command_in_a_process_gets_its_own_terminal_width(tmp_path: Path) -> None:
    """The consoles read COLUMNS when they print, not once at import: a notebook (or this suite) running
    commands one after another gets each one's width."""
    Workspace.init(tmp_path / "ws")
    longest = {}
    for columns in (200, 60):
        proc = run("status", "-w", str(tmp_path / "ws"), columns=columns)
        assert proc.returncode == 0, proc.stderr
        longest[columns] = max(len(line) for line in proc.stdout.splitlines() if line.startswith("┏"))  # a table
    assert longest[60] <= 60 < longest[200], longest
