"""Values from data are escaped for every target the product writes: CSV cells cannot run as spreadsheet
formulas, XLSX text stays text, Markdown carries no raw HTML, links or broken table rows, the terminal gets
no escape sequences, emoji codes or markup from data, Mermaid labels stay on their line.

One hand-made workspace whose sources, owners, titles, industries, companies, campaigns, assets, stage
names and lead ids are hostile; every command that writes a file or prints a table runs once on it."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from pathlib import Path
from subprocess import CompletedProcess
from xml.etree import ElementTree

import pytest
from docx import Document
from markdown_it import MarkdownIt
from openpyxl import load_workbook
from pptx import Presentation

from conftest import csv_workspace, min_n_config, run_cli
from leadjourney.escape import (
    FORMULA_START,
    csv_cell,
    markdown_code,
    markdown_text,
    mermaid_label,
    one_line,
    terminal_text,
)

FORMULAS = ["=cmd|' /c calc'!a0", '=hyperlink("http://x","y")', "+1+1", "-2+3", "@sum(1)", "\tTAB"]
HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"]
BREAKERS = ["pipe|in\nnew line", "carriage\rreturn", "\x1b[31mred", ":x: emoji", "[bold red]markup", '"];A-->B[']
HOSTILE = FORMULAS + HTML + BREAKERS
STAGES = ["MQL", "SQL", "Opportunity", "Customer"]
COMMANDS = (("quality",), ("analyze", "--baseline"), ("findings", "-w"), ("map",), ("touchpoints",), ("personas",),
            ("paths",), ("eventlog",), ("recommend",), ("definitions", "-w"), ("report",), ("status", "-w"),
            ("monitor", "-w"))


def _csv(header: list[str], rows: list[list[str]]) -> str:
    """Every value quoted, so a CR inside one is part of the value (an export would quote it too)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _hostile_workspace(root: Path) -> Path:
    leads, events, touches = [], [], []
    for i in range(4 * len(HOSTILE)):
        h = HOSTILE[i % len(HOSTILE)]
        lead = {0: "=1+2", 1: "@L1"}.get(i, f"L{i:03d}")  # lead ids reach the event log and quality examples
        created = f"2025-0{1 + i % 6}-0{1 + i % 9}"
        leads.append([lead, f"{created}T00:00:00Z", h, "open", h, h, h, h, "5"])
        events += [[lead, stage, f"2025-0{1 + i % 6}-1{j}T00:00:00Z"] for j, stage in enumerate(STAGES[: i % 5])]
        touches += [[lead, f"{created}T10:00:00Z", "form_fill", h, "automated", h, h],
                    [lead, f"2025-0{1 + i % 6}-1{i % 9}T10:00:00Z", "call", h, "human", h, h]]
    events.append(["L002", HTML[0], "2025-01-20T00:00:00Z"])  # a stage name the lifecycle does not know
    csv_workspace(
        root, min_n_config(1),
        leads=_csv(["lead_id", "created_at", "source", "status", "owner", "job_title", "company", "industry",
                    "employee_count"], leads),
        stage_events=_csv(["lead_id", "stage", "entered_at"], events),
        touchpoints=_csv(["lead_id", "occurred_at", "kind", "channel", "actor", "campaign", "asset"], touches),
    )
    return root


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, CompletedProcess[str]]]:
    root = _hostile_workspace(tmp_path_factory.mktemp("hostile") / "ws")
    return root, {" ".join(cmd): run_cli(*cmd, str(root)) for cmd in COMMANDS}


def _outputs(root: Path, suffix: str) -> list[Path]:
    found = sorted((root / "out").rglob(f"*{suffix}"))
    assert found, f"no {suffix} output"
    return found


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_every_command_writes_its_outputs(run: tuple[Path, dict[str, CompletedProcess[str]]]) -> None:
    root, results = run
    for cmd, r in results.items():
        assert r.returncode in ((0, 1) if cmd.startswith("monitor") else (0,)), (cmd, r.stderr)
        assert "internal error" not in r.stderr, (cmd, r.stderr)
    names = {p.name for p in (root / "out").rglob("*")}
    assert {"touchpoints.csv", "touchpoints.xlsx", "event_log.csv", "journey_map_miro.csv", "journey_map.mmd",
            "analysis.md", "touchpoints.md", "personas.md", "paths.md", "quality.md", "recommendations.docx",
            "definitions.docx"} <= names


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_html_and_svg_never_carry_markup_from_data(run: tuple[Path, dict[str, CompletedProcess[str]]],
                                                   tmp_path: Path) -> None:
    """The map, the report pages, the charts and the dashboard's static export show the hostile values as text:
    no tag, event handler or javascript: link from data reaches a page or an SVG."""
    root, _ = run
    export = tmp_path / "dashboard.html"
    assert run_cli("dashboard", str(root), "--export", str(export)).returncode == 0
    pages = [*_outputs(root, ".html"), *_outputs(root, ".svg"), export]
    assert {"journey_map.html", "journey_map.svg", "dashboard.html"} <= {p.name for p in pages}
    for page in pages:
        text = page.read_text("utf-8")
        for raw in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "onerror=alert(1)>"):
            assert raw not in text, (page.name, raw)
        assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", text, re.IGNORECASE), page.name
        assert "\x1b" not in text, page.name
    for drawing in [*_outputs(root, ".svg"), *_outputs(root, ".drawio")]:  # well-formed XML, an ESC and all
        ElementTree.parse(drawing)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_no_csv_cell_runs_as_a_formula(run: tuple[Path, dict[str, CompletedProcess[str]]]) -> None:
    root, _ = run
    for path in _outputs(root, ".csv"):
        cells = [c for row in csv.reader(io.StringIO(path.read_text("utf-8"), newline="")) for c in row]
        risky = [c for c in cells if c.startswith(FORMULA_START) and not _is_number(c)]
        assert not risky, (path.name, risky[:5])
    touch = (root / "out" / "touchpoints.csv").read_text("utf-8")
    assert "'=cmd|' /c calc'!a0" in touch and "'-2+3" in touch and "'@sum(1)" in touch  # kept, neutralised
    assert any(_is_number(c) and float(c) < 0 for row in csv.reader(io.StringIO(touch)) for c in row)  # lifts
    log = list(csv.DictReader(io.StringIO((root / "out" / "event_log.csv").read_text("utf-8"), newline="")))
    assert {"'=1+2", "'@L1"} <= {r["case_id"] for r in log}
    assert "'+1+1" in {r["channel"] for r in log}


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_xlsx_text_is_never_a_formula(run: tuple[Path, dict[str, CompletedProcess[str]]]) -> None:
    root, _ = run
    sheet = load_workbook(root / "out" / "touchpoints.xlsx").active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert {"=cmd|' /c calc'!a0", '=hyperlink("http://x","y")', "[31mred"} <= texts  # text, ESC dropped
    assert any(isinstance(c.value, float) for c in cells)  # numbers stay numbers


def _table_widths(text: str) -> list[tuple[int, str]]:
    """Rows of each table whose unescaped-pipe count differs from the table's header row."""
    bad, width = [], None
    for line in text.split("\n"):
        if not line.startswith("|"):
            width = None
            continue
        n = len(re.findall(r"(?<!\\)\|", re.sub(r"\\\\", "", line)))
        if width is None:
            width = n
        elif n != width:
            bad.append((n, line))
    return bad


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_markdown_has_no_raw_html_links_or_broken_rows(run: tuple[Path, dict[str, CompletedProcess[str]]]) -> None:
    root, _ = run
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    for path in _outputs(root, ".md"):
        text = path.read_text("utf-8")
        assert "\x1b" not in text and "\r" not in text, path.name
        tokens = md.parse(text)
        inline = [c for t in tokens for c in (t.children or [])]
        raw = [t.content for t in [*tokens, *inline] if t.type in ("html_block", "html_inline")]
        assert not raw, (path.name, raw[:3])
        links = [c.attrs.get("href") for c in inline if c.type == "link_open"]
        assert not [h for h in links if "alert" in str(h)], (path.name, links)
        assert not _table_widths(text), (path.name, _table_widths(text)[:3])
    touch = (root / "out" / "touchpoints.md").read_text("utf-8")
    assert "&lt;script>alert(1)&lt;/script>" in touch and "pipe\\|in new line" in touch
    rendered = md.render(touch)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered and "[x](javascript:alert(1))" in rendered


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_suggested_personas_toml_stays_valid(run: tuple[Path, dict[str, CompletedProcess[str]]]) -> None:
    root, _ = run
    suggestion = json.loads((root / "out" / "personas.json").read_text("utf-8"))["suggestion"]
    assert suggestion, "no suggestion made"
    parsed = tomllib.loads(suggestion["toml"])  # raises on a value or comment that broke out of its line
    assert set(parsed) <= {"personas"}


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_terminal_gets_no_escape_sequences_emoji_or_markup(
        run: tuple[Path, dict[str, CompletedProcess[str]]]) -> None:
    _, results = run
    for cmd, r in results.items():
        out = r.stdout + r.stderr
        assert "\x1b" not in out and "❌" not in out, cmd
    touch = results["touchpoints"].stdout
    assert ":x: emoji" in touch and "[bold red]markup" in touch and "\\x1b[31mred" in touch


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_mermaid_labels_stay_on_their_line(run: tuple[Path, dict[str, CompletedProcess[str]]]) -> None:
    root, _ = run
    text = (root / "out" / "journey_map.mmd").read_text("utf-8")
    assert "\r" not in text and "\x1b" not in text
    lines = text.split("\n")
    for line in lines:
        assert line.count('"') % 2 == 0, line
        for label in re.findall(r'"([^"]*)"', line):
            assert not set(label.replace("<br/>", "")) & set("[]<>|`\\"), label  # <br/>: the product's
    assert any("#quot;#93;;a--#gt;b#91;" in line.lower() for line in lines)  # the breaker is a label, not a node


@pytest.mark.slow  # every command end to end: make test-integration runs it
def test_documents_open_with_the_hostile_values(run: tuple[Path, dict[str, CompletedProcess[str]]]) -> None:
    root, _ = run
    for path in _outputs(root, ".docx"):
        Document(str(path))  # control characters from data would have stopped the writer
    for path in _outputs(root, ".pptx"):
        Presentation(str(path))


@pytest.mark.parametrize("value", HOSTILE)
def test_each_target_neutralises_each_value(value: str) -> None:
    assert not str(csv_cell(value)).startswith(FORMULA_START)
    md = markdown_text(value)
    assert not re.search(r"<|(?<!\\)[\[\]|`]|\n|\r|\x1b", md), md
    code = markdown_code(value)
    assert "\n" not in code and "\r" not in code and not re.search(r"(?<!\\)\|", code)
    assert "\x1b" not in terminal_text(value) and "\r" not in terminal_text(value)
    assert not set(mermaid_label(value)) & set('"[]<>|\n\r')
    assert "\n" not in one_line(value) and "\x1b" not in one_line(value)


def test_numbers_stay_numbers_in_csv() -> None:
    assert csv_cell(-2.5) == -2.5 and csv_cell(-3) == -3 and csv_cell(None) is None
    assert csv_cell("-2.5") == "'-2.5"  # text from data is text
