"""The journey-map commands end to end: touchpoints, personas, paths, map and eventlog on a real workspace."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from conftest import SharedGenerated, copy_workspace
from conftest import run_cli as run
from leadjourney.analysis import open_journeys
from leadjourney.analysis.touchpoints import TouchpointInventory
from leadjourney.workspace import Workspace


@pytest.fixture(scope="module")
def ws(shared_generated: SharedGenerated, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)
    return copy_workspace(shared, tmp_path_factory.mktemp("cli") / "ws")  # the commands write out/ files


def test_touchpoints_json_equals_the_inventory_and_files_are_written(ws: Workspace) -> None:
    proc = run("touchpoints", str(ws.root), "--persona", "smb_founder", "--json")
    assert proc.returncode == 0, proc.stderr
    from leadjourney.analysis import Filters

    with open_journeys(ws, Filters(personas=("smb_founder",))) as journeys:
        expected = TouchpointInventory().fit(journeys).to_dict()
    assert json.loads(proc.stdout)["rows"] == json.loads(json.dumps(expected["rows"], default=str))
    for name in ("touchpoints.md", "touchpoints.csv", "touchpoints.xlsx"):
        assert (ws.out_dir / name).stat().st_size > 0


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_personas_paths_and_map_write_their_files(ws: Workspace) -> None:
    proc = run("personas", str(ws.root), "--k", "3")
    assert proc.returncode == 0, proc.stderr
    assert "[[personas]]" in proc.stdout
    assert len(json.loads((ws.out_dir / "personas.json").read_text())["suggestion"]["clusters"]) == 3
    proc = run("paths", str(ws.root), "--top", "5")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads((ws.out_dir / "paths.json").read_text())["variants"]) == 5
    assert "http" not in _scripts_src((ws.out_dir / "paths_sankey.html").read_text())
    paths = json.loads((ws.out_dir / "paths.json").read_text())
    profiles = json.loads((ws.out_dir / "personas.json").read_text())["profiles"]
    proc = run("map", str(ws.root), "--format", "html,png,drawio", "--no-tables")
    assert proc.returncode == 0, proc.stderr
    written = [line.split()[-1] for line in proc.stdout.splitlines() if line.strip().startswith("written")]
    assert [Path(p).name for p in written] == ["journey_map.html", "journey_map.png", "journey_map.drawio"]
    assert all(Path(p).stat().st_size > 0 for p in written)
    # with the tables (the default): the same tables as the three commands, from the map's own run
    for name in ("paths.json", "personas.json", "touchpoints.csv"):
        (ws.out_dir / name).unlink(missing_ok=True)  # written by the commands above or by an earlier test
    proc = run("map", str(ws.root), "--format", "svg")
    assert proc.returncode == 0, proc.stderr
    written = [Path(line.split()[-1]).name for line in proc.stdout.splitlines() if line.strip().startswith("written")]
    assert written == ["journey_map.svg", "touchpoints.md", "touchpoints.csv", "touchpoints.xlsx", "personas.md",
                       "personas.json", "paths.md", "paths.json", "paths_sankey.html"]
    assert json.loads((ws.out_dir / "paths.json").read_text())["variants"][:5] == paths["variants"]
    from_map = json.loads((ws.out_dir / "personas.json").read_text())
    assert from_map["profiles"] == profiles and from_map["suggestion"]["clusters"]


def test_eventlog_xes_and_bad_options(ws: Workspace) -> None:
    proc = run("eventlog", str(ws.root), "--format", "xes")
    assert proc.returncode == 0, proc.stderr
    root = ET.parse(ws.out_dir / "event_log.xes").getroot()
    cases = int(proc.stdout.split(" cases")[0].replace(",", ""))
    assert len([t for t in root if t.tag.endswith("trace")]) == cases
    bad = run("eventlog", str(ws.root), "--format", "json")
    assert bad.returncode == 1 and "expected one of csv, xes" in bad.stderr
    bad = run("map", str(ws.root), "--format", "pdf")
    assert bad.returncode == 1 and "unknown map format 'pdf'" in bad.stderr
    bad = run("map", str(ws.root), "--persona", "cfo")
    assert bad.returncode == 1 and "no persona 'cfo'" in bad.stderr


def _scripts_src(html: str) -> str:
    """The src attributes of script tags (an embedded plotly.js mentions URLs in its code, not as sources)."""
    import re

    return " ".join(re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", html))


def test_the_map_draws_the_config_targets(ws: Workspace, tmp_path: Path) -> None:
    from leadjourney.workflows.journey_map import journey_map

    text = ws.config_path.read_text("utf-8")
    ws.config_path.write_text(text.replace('# "MQL->SQL" = 0.30', '"MQL->SQL" = 0.30'), "utf-8")
    try:
        run = journey_map(ws.root, formats=["svg"], tables=False, out_dir=tmp_path)
    finally:
        ws.config_path.write_text(text, "utf-8")
    point = run.journey_map.conversion("MQL->SQL")
    assert point.target == 0.30 and point.gap == pytest.approx(point.rate - 0.30)
    assert run.journey_map.n_people == run.analysis.n_people
    assert [p.name for p in run.files] == ["journey_map.svg"]
