"""The tables a journey map is drawn from, written into out/: touchpoint inventory, personas, paths.

``leadjourney touchpoints``, ``personas`` and ``paths`` each write theirs; ``leadjourney map`` writes
all three from the same run as the map, so the workshop gets the map and the numbers behind it.

>>> write_paths(Paths().fit(journeys), ws.out_dir, title="acme: paths")   # doctest: +SKIP
[PosixPath('acme/out/paths.md'), PosixPath('acme/out/paths.json'), PosixPath('acme/out/paths_sankey.html')]
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from leadjourney.analysis.paths import Paths
from leadjourney.analysis.personas import PersonaReport
from leadjourney.analysis.touchpoints import TouchpointInventory


def write_touchpoints(inventory: TouchpointInventory, out_dir: Path) -> list[Path]:
    """touchpoints.md, .csv and .xlsx."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = out_dir / "touchpoints.md"
    markdown.write_text(inventory.to_markdown(), "utf-8")
    return [markdown, inventory.write_csv(out_dir / "touchpoints.csv"), inventory.write_xlsx(out_dir / "touchpoints.xlsx")]


def write_personas(report: PersonaReport, out_dir: Path) -> list[Path]:
    """personas.md and .json: the configured personas' profiles and the data's suggestion."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / "personas.md", out_dir / "personas.json"]
    files[0].write_text(report.to_markdown(), "utf-8")
    files[1].write_text(report.to_json(), "utf-8")
    return files


def write_paths(paths: Paths, out_dir: Path, *, title: str, labels: Mapping[str, str] | None = None,
                color: str = "#1A73E8") -> list[Path]:
    """paths.md, paths.json and paths_sankey.html (counts on every flow, display names, offline)."""
    from leadjourney.journeymap.sankey import write_sankey

    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / "paths.md", out_dir / "paths.json"]
    files[0].write_text(paths.to_markdown(), "utf-8")
    files[1].write_text(json.dumps(paths.to_dict(), indent=2), "utf-8")
    files.append(write_sankey(paths, out_dir / "paths_sankey.html", title, labels, color))
    return files
