"""The command line: one-line errors, exit codes, and the commands wired to their layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import SharedGenerated, copy_workspace, set_option
from conftest import run_cli as run
from leadjourney.display import display_name
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
    created = run("init", str(tmp_path / "ws"))
    assert created.returncode == 0 and "add [[sources]] to the config" in created.stdout  # not eaten as markup
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


def _commands() -> list[tuple[str, ...]]:
    """Every command and subcommand of ``leadjourney``, as the words that call it."""
    import typer

    from leadjourney.cli.app import app

    def walk(command: object, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = []
        for name, sub in getattr(command, "commands", {}).items():
            found += [(*path, name), *walk(sub, (*path, name))]
        return found

    return walk(typer.main.get_command(app), ())


COMMANDS = _commands()


def test_the_command_list_is_complete() -> None:
    assert {"findings", "definitions", "report", "status", "monitor"} <= {c[0] for c in COMMANDS}
    assert ("status", "done") in COMMANDS and ("findings", "confirm") in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: tuple[str, ...]) -> None:
    proc = run(*command, "--help")
    assert proc.returncode == 0 and "Example:" in proc.stdout, proc.stdout


def test_the_workspace_is_the_first_argument_of_every_command(tmp_path: Path) -> None:
    """`status acme`, `findings acme confirm ...`, `monitor acme history`: the workspace named as `analyze acme`
    names it; before or after the options; -w stays an alias; named twice differently, refused."""
    ws = Workspace.init(tmp_path / "acme")
    w = str(ws.root)
    proc = run("status", w)
    assert proc.returncode == 0, proc.stderr
    assert (ws.out_dir / "status.md").is_file() and f"leadjourney status {w} done" in proc.stdout
    assert json.loads(run("status", "--json", w).stdout)["phases"]
    done = run("status", w, "done", "kickoff", "--note", "held 2026-03-02")
    assert done.returncode == 0 and done.stdout.startswith("kickoff: done"), done.stderr
    assert run("status", "-w", w, "undo", "kickoff").stdout.strip() == "kickoff: no longer marked done"
    for args in (("findings", w, "--json"), ("findings", "--json", w), ("findings", "-w", w, "--json"),
                 ("monitor", w, "history", "--json"), ("monitor", "-w", w, "history", "--json")):
        proc = run(*args)
        assert proc.returncode == 0 and json.loads(proc.stdout) == [], (args, proc.stderr)
    proc = run("findings", w, "confirm", "conversion:MQL->SQL", "--note", "RevOps")  # reaches the subcommand
    assert proc.returncode == 1 and "no findings for all leads" in proc.stderr, proc.stderr
    assert json.loads(run("definitions", w, "--json").stdout)["terms"] is not None
    answer = run("report", w, "answer", "--role", "sales", "--question", "4", "--text", "a morning batch")
    assert answer.returncode == 0 and "recorded for sales question 4" in answer.stdout, answer.stderr
    twice = run("status", w, "-w", str(tmp_path / "other"))
    assert twice.returncode == 1 and "the workspace is named twice" in twice.stderr


def test_a_header_only_csv_says_so_and_alone_changes_nothing(tmp_path: Path) -> None:
    """A file with a header and no rows: a warning naming it beside the files that loaded (exit 0); when it is
    all this run read, exit 1 and the workspace (database and config) as it was, unless --allow-empty."""
    ws = Workspace.init(tmp_path / "ws")
    empty, one = tmp_path / "contacts.csv", tmp_path / "leads.csv"
    empty.write_text("lead_id,created_at,source\n")
    one.write_text("lead_id,created_at,source\nA1,2026-01-01 10:00,Organic Search\n")
    config = ws.config_path.read_text()
    alone = run("ingest", str(ws.root), "--file", str(empty), "--format", "csv", "--table", "leads")
    assert alone.returncode == 1 and "Ingest" not in alone.stdout, alone.stdout  # no table of a load undone
    line = alone.stderr.strip().splitlines()[-1]
    assert f"nothing loaded: {empty}: a header and no rows; the workspace is unchanged" in line, alone.stderr
    assert ws.config_path.read_text() == config  # the --file registration rolled back too
    assert run("ingest", str(ws.root), "--file", str(one), "--format", "csv", "--table", "leads").returncode == 0
    allowed = run("ingest", str(ws.root), "--file", str(empty), "--format", "csv", "--table", "leads", "--allow-empty")
    assert allowed.returncode == 0 and "contacts.csv: warning: a header and no rows" in allowed.stdout, allowed.stderr
    both = run("ingest", str(ws.root), "--force")
    assert both.returncode == 0, both.stderr
    assert f"{empty}: warning: a header and no rows: 0 rows loaded (source contacts now holds none)" \
        in " ".join(both.stdout.split()), both.stdout
    assert "leads.csv: warning" not in both.stdout


def test_each_command_in_a_process_gets_its_own_terminal_width(tmp_path: Path) -> None:
    """The consoles read COLUMNS when they print, not once at import: a notebook (or this suite) running
    commands one after another gets each one's width."""
    Workspace.init(tmp_path / "ws")
    longest = {}
    for columns in (200, 60):
        proc = run("status", str(tmp_path / "ws"), columns=columns)
        assert proc.returncode == 0, proc.stderr
        longest[columns] = max(len(line) for line in proc.stdout.splitlines() if line.startswith("┏"))  # a table
    assert longest[60] <= 60 < longest[200], longest


# --- 80 columns: what a user reads in a standard terminal --------------------------------------------------


def _fits(out: str, width: int = 80) -> list[str]:
    lines = out.splitlines()
    assert max(len(ln.rstrip()) for ln in lines) <= width, [ln for ln in lines if len(ln.rstrip()) > width]
    assert "…" not in out  # nothing cut with an ellipsis
    return lines


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_analyze_and_quality_fit_80_columns_with_display_names(shared_generated: SharedGenerated,
                                                                tmp_path: Path) -> None:
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)
    ws = copy_workspace(shared, tmp_path / "ws")
    ws = set_option(ws, "[labels]\n", '[labels]\nenterprise_it = "Enterprise IT buyers"\n')
    quality = run("quality", str(ws.root), columns=80)
    assert quality.returncode == 0, quality.stderr
    lines = _fits(quality.stdout)
    report = json.loads((ws.out_dir / "quality.json").read_text("utf-8"))
    shown = [e for c in report["results"] if c["examples"] for e in c["examples"][:2]]
    pathed = [e for e in shown if "/" in e.split(":", 1)[0]]
    assert pathed  # the generated files have identical rows: examples name a file
    for e in pathed:  # in the terminal from the file's name on, whole (out/quality.md keeps the path)
        name = e.split(":", 1)[0].rsplit("/", 1)[-1]
        assert name in quality.stdout and e.split(":", 1)[0] not in quality.stdout
    assert any(ln.startswith("Quarantine (") for ln in lines)  # wrapped at words, not past the edge
    analyzed = run("analyze", str(ws.root), columns=80)
    assert analyzed.returncode == 0, analyzed.stderr
    lines = _fits(analyzed.stdout)
    result = json.loads((ws.out_dir / "analysis.json").read_text("utf-8"))
    differing = [c for c in result["personas"]["conversion"] if c["significant"]]
    assert differing and any(c["source"] == "enterprise_it" for c in differing)
    for c in differing[:4]:  # one per line, by display name
        want = display_name(c["source"], {"enterprise_it": "Enterprise IT buyers"})
        assert f"  · {want}: {c['from']} → {c['to']} {c['rate']:.0%} ({c['direction']})" in lines
    assert "enterprise_it" not in analyzed.stdout and "smb_founder" not in analyzed.stdout
    segments = [r["segment"].split("=", 1)[1] for r in result["friction"]["rows"][:8] if r["segment"]]
    assert segments and all(display_name(s, {"enterprise_it": "Enterprise IT buyers"}) in analyzed.stdout
                            for s in segments)


@pytest.mark.parametrize("width", [80, 60, 40])
def test_a_long_command_wraps_at_its_arguments_and_pastes_as_one(width: int) -> None:
    import shlex

    from leadjourney.cli.render import command_lines

    command = ("leadjourney findings /srv/engagements/acme-journey confirm 'conversion:MQL->SQL' "
               "--note \"WHERE AGREED, with RevOps\" --by NAME --role Marketing")
    lines = command_lines(command, width)
    assert len(lines) > 1 and all(len(ln) + 2 <= width for ln in lines[:-1]) and len(lines[-1]) <= width
    pasted = " \\\n".join(lines)
    shell = subprocess.run(["bash", "-c", f"printf '%s\\0' {pasted}"], capture_output=True, text=True, check=True)
    assert shell.stdout.split("\0")[:-1] == shlex.split(command)  # bash reads the lines as one command
    assert not any(ln.endswith("--note") for ln in lines)  # an option stays beside its value
    assert command_lines("leadjourney map acme", width) == ["leadjourney map acme"]
