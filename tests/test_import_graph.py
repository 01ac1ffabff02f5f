"""The layers import one way and no module imports itself back: read from the source with ast (function-level
imports too; imports under ``if TYPE_CHECKING:`` are annotations, not dependencies, and are left out)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
# ingest -> quality -> analysis -> outputs -> workflows -> cli; the top-level modules (config, errors, engine,
# ...) are the floor every layer stands on; `generate` writes source files, beside ingest; `connectors` pull
# APIs into source files and use ingest's SQL helpers; the package's
# __init__ (the Python API) re-exports the workflows; __main__ runs the CLI.
# The engine plumbing (backends, table_export, warehouse) stands on ingest: for Spark the export builds the
# per-person tables with ingest's expressions; the analyses above open their backend through it.
LAYERS = {"ingest": 1, "generate": 1, "connectors": 2, "quality": 2, "backends": 2, "table_export": 2, "warehouse": 2,
          "analysis": 3, "journeymap": 4, "reports": 4, "dashboard": 4, "monitor": 4, "workflows": 5, "cli": 6, "": 7,
          "__main__": 8}


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in (SRC / "leadjourney").rglob("*.py")}


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(tree: ast.AST) -> set[str]:
    """The leadjourney modules a module's code imports (``from pkg import sub`` names the submodule)."""
    found: set[str] = set()
    todo = [tree]
    while todo:
        node = todo.pop()
        if _type_checking(node):
            todo += getattr(node, "orelse", [])
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "leadjourney"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "leadjourney":
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                      for a in node.names}
        todo += list(ast.iter_child_nodes(node))
    return found


GRAPH = {name: imports(ast.parse(path.read_text("utf-8"))) for name, path in MODULES.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1] if len(parts) > 1 else "", 0)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_module_is_in_a_known_layer() -> None:
    top = {m.split(".")[1] for m in MODULES if m.count(".") >= 1 and (SRC / m.replace(".", "/")).is_dir()}
    assert top <= set(LAYERS), f"a package without a layer: {sorted(top - set(LAYERS))}"


def test_no_module_imports_a_layer_above_it() -> None:
    upward = sorted(f"{m} -> {t}" for m, targets in GRAPH.items() for t in targets if layer(t) > layer(m))
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


def test_no_cycles_between_modules() -> None:
    assert cycles(GRAPH) == []


def test_the_checks_see_what_they_should() -> None:
    """The reader finds function-level imports and skips TYPE_CHECKING ones; the checks catch what they look for."""
    code = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from leadjourney.cli import app\n"
            "def f():\n    from leadjourney.analysis import funnel\n")
    assert imports(ast.parse(code)) == {"leadjourney.analysis.funnel"}
    assert layer("leadjourney.cli.app") > layer("leadjourney.workflows.analyze") > layer("leadjourney.monitor.run")
    assert layer("leadjourney.analysis.funnel") > layer("leadjourney.quality.checks") > layer("leadjourney.engine")
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# What CLI modules still import below the workflows: helpers they render with (money, verdict words), not work.
# A command module not named here reaches the layers only through a workflow; the list only shrinks.
CLI_RENDER_HELPERS = {
    "leadjourney.cli.app": {"leadjourney.analysis.findings"},
    "leadjourney.cli.demo": {"leadjourney.analysis.friction"},
    "leadjourney.cli.journey": {"leadjourney.journeymap.eventlog"},
    "leadjourney.cli.monitor": {"leadjourney.monitor", "leadjourney.monitor.impact", "leadjourney.monitor.readable"},
    "leadjourney.cli.pull": {"leadjourney.connectors"},
    "leadjourney.cli.recommend": {"leadjourney.analysis.friction"},
    "leadjourney.cli.render": {"leadjourney.analysis.friction", "leadjourney.analysis.funnel"},
    "leadjourney.cli.report": {"leadjourney.reports.interviews", "leadjourney.reports.package"},
}


def test_the_cli_calls_the_layers_through_workflows() -> None:
    below = {m: {t for t in targets if 1 <= layer(t) < LAYERS["workflows"]} for m, targets in GRAPH.items()
             if m.startswith("leadjourney.cli")}
    beyond = sorted(f"{m} -> {t}" for m, targets in below.items() for t in targets - CLI_RENDER_HELPERS.get(m, set()))
    assert not beyond, "the CLI reaching a layer past the workflows:\n" + "\n".join(beyond)
    assert not below["leadjourney.cli.definitions"] | below["leadjourney.cli.status"] | below["leadjourney.cli.dashboard"]
