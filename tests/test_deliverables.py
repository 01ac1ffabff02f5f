"""Every deliverable rendered as its reader sees it, and checked where a machine can (issue 17).

One generated workspace produces the documentation package (seven Word documents and the deck), the
journey map and the dashboard. LibreOffice turns the DOCX and PPTX into PDF pages, Chromium screenshots
the HTML map and the live dashboard, and the terminal commands run at 80 columns. The checks: every
table cell's whole text is in the PDF (nothing cut, no word broken), no deck text under 9 pt, no
overlapping labels in the impact/effort matrix, no local path in any document, every command's output
within 80 columns. The pages and screenshots stay in the test's folder (``--basetemp``) to be looked at.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from conftest import (
    SharedGenerated,
    chromium_page,
    copy_workspace,
    needs_browser,
    needs_office,
    run_cli,
)
from leadjourney.workspace import Workspace

VP_DOCUMENTS = ("recommendations", "definitions", "personas", "friction_ranking")  # the analyst's: the rest
DOCUMENTS = (*VP_DOCUMENTS, "maintenance_playbook", "faq", "interview_guide")
DECK = "journey_deck"
MIN_PT = 9.0
WIDTH = 80
SVG = "{http://www.w3.org/2000/svg}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
P = "{http://schemas.openxmlformats.org/presentationml/2006/main}"


@dataclass
class Rendered:
    ws: Workspace
    report: Path  # out/report
    pages: Path  # where the PDFs and their page images go

    def local_paths(self) -> list[str]:
        """What would give a reader's machine away: the temporary folder, any home or work folder."""
        return [str(self.ws.root), str(self.ws.root.parent), "/tmp/", "/home/", "/work/", "/root/"]


def ok(*args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    proc = run_cli(*args, columns=columns)
    assert proc.returncode == 0, (args, proc.stderr)
    return proc


@pytest.fixture(scope="module")
def rendered(shared_generated: SharedGenerated, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """The generated workspace with a baseline, its documentation package, map and recommendations."""
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120, web=True)
    ws = copy_workspace(shared, tmp_path_factory.mktemp("deliverables") / "ws")
    ok("analyze", str(ws.root), "--baseline")
    ok("report", str(ws.root))
    ok("map", str(ws.root))
    ok("recommend", str(ws.root))
    return Rendered(ws, ws.out_dir / "report", tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def pdfs(rendered: Rendered) -> dict[str, Path]:
    """Every DOCX and the deck converted by LibreOffice (one call), with each page as a PNG beside it."""
    files = [rendered.report / f"{d}.docx" for d in DOCUMENTS] + [rendered.report / f"{DECK}.pptx"]
    profile = rendered.pages / "profile"
    proc = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", "pdf",
                           "--outdir", str(rendered.pages), *map(str, files)],
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = {f.stem: rendered.pages / f"{f.stem}.pdf" for f in files}
    for stem, pdf in out.items():
        assert pdf.is_file(), (stem, proc.stdout, proc.stderr)
        if shutil.which("pdftoppm"):  # the pages, to be looked at
            subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(rendered.pages / stem)], check=True)
    return out


# ------------------------------------------------------------------------------------------ PDF text


@dataclass(frozen=True)
class Word:
    text: str
    page: int
    height: float  # points: the font's ascent to descent


def pdf_words(pdf: Path) -> list[list[list[Word]]]:
    """The PDF's text blocks (a table cell, a paragraph), each a list of lines of words, in reading order."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml))
    ns = "{http://www.w3.org/1999/xhtml}"
    blocks = []
    for number, page in enumerate(root.iter(f"{ns}page"), start=1):
        for block in page.iter(f"{ns}block"):
            blocks.append([[Word(w.text or "", number, float(w.get("yMax", 0)) - float(w.get("yMin", 0)))
                            for w in line.iter(f"{ns}word")] for line in block.iter(f"{ns}line")])
    return blocks


def squeeze(text: str) -> str:
    """Single-spaced, and a word's own hyphen dropped: a line may break after it ("drop-" / "offs"), which
    pdftotext reads back as "dropoffs"; a break inside "MQL -> SQL" still shows."""
    return re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", "", " ".join(text.split()))


def pdf_text(pdf: Path) -> str:
    """The PDF's blocks, each on one line of single-spaced words (a line ending in a word's hyphen joined to
    the next without a space, as the words were)."""
    out = []
    for block in pdf_words(pdf):
        text = ""
        for line in block:
            words = " ".join(w.text for w in line)
            text += words if re.search(r"[A-Za-z]-$", text) else f" {words}"
        out.append(squeeze(text))
    return "\n".join(out)


# ------------------------------------------------------------------------------------------ checks


def docx_cells(path: Path) -> list[str]:
    from docx import Document

    return [squeeze(cell.text) for table in Document(str(path)).tables for row in table.rows for cell in row.cells
            if cell.text.strip()]


@needs_office
def test_every_table_cell_of_every_word_document_reads_whole_in_its_pdf(rendered: Rendered,
                                                                       pdfs: dict[str, Path]) -> None:
    """A cell's whole text is one run of words on the page: nothing clipped, no word broken across lines
    ("Recommendat" / "ion"), no "…" added; a cell split over two pages reads on across the break."""
    for stem in DOCUMENTS:
        text = pdf_text(pdfs[stem])
        flowing = squeeze(text)
        missing = [c for c in docx_cells(rendered.report / f"{stem}.docx") if c not in flowing]
        assert missing == [], (stem, missing[:5])
        source = (rendered.report / f"{stem}.md").read_text("utf-8")
        assert text.count("…") <= source.count("…"), stem


@needs_office
def test_every_deck_table_cell_reads_whole_in_its_pdf(rendered: Rendered, pdfs: dict[str, Path]) -> None:
    from pptx import Presentation

    flowing = squeeze(pdf_text(pdfs[DECK]))
    cells = [squeeze(cell.text) for slide in Presentation(str(rendered.report / f"{DECK}.pptx")).slides
             for shape in slide.shapes if shape.has_table for row in shape.table.rows for cell in row.cells
             if cell.text.strip()]
    assert cells
    assert [c for c in cells if c not in flowing] == []
    assert "…" not in flowing


def run_sizes(path: Path) -> list[tuple[int, str, float]]:
    """(slide, text, points) of every run of text on every slide, autofit's font scale applied; a run
    without a size of its own takes its paragraph's, its list style's or the master's default (18 pt)."""
    found: list[tuple[int, str, float]] = []
    with zipfile.ZipFile(path) as z:
        slides = sorted((n for n in z.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)),
                        key=lambda n: int(re.sub(r"\D", "", n)))
        for number, name in enumerate(slides, start=1):
            root = ElementTree.fromstring(z.read(name))
            for body in [*root.iter(f"{P}txBody"), *root.iter(f"{A}txBody")]:
                scale = 1.0
                fit = body.find(f"{A}bodyPr/{A}normAutofit")
                if fit is not None and fit.get("fontScale"):
                    scale = int(fit.get("fontScale", "100000")) / 100_000
                style = body.find(f"{A}lstStyle/{A}lvl1pPr/{A}defRPr")
                default = int(style.get("sz")) / 100 if style is not None and style.get("sz") else 18.0
                for para in body.iter(f"{A}p"):
                    ppr = para.find(f"{A}pPr/{A}defRPr")
                    para_size = int(ppr.get("sz")) / 100 if ppr is not None and ppr.get("sz") else default
                    for run in para.iter(f"{A}r"):
                        rpr = run.find(f"{A}rPr")
                        size = int(rpr.get("sz")) / 100 if rpr is not None and rpr.get("sz") else para_size
                        text = "".join(t.text or "" for t in run.iter(f"{A}t"))
                        if text.strip():
                            found.append((number, text, size * scale))
    return found


@needs_office
def test_no_text_in_the_deck_is_under_9_points(rendered: Rendered, pdfs: dict[str, Path]) -> None:
    """Every run of text on every slide (text boxes, shapes, table cells, the pictures' captions) in the slides'
    XML (run sizes, autofit's shrink applied) and on the rendered pages (each word's height, in points of the
    title's own height per point). Text inside a picture (the funnel chart, the matrix, the appendix map) is
    pixels: no machine check reads its size, which is why the journey slide is drawn as slide text."""
    from pptx import Presentation

    deck = rendered.report / f"{DECK}.pptx"
    sizes = run_sizes(deck)
    assert len({s for s, *_ in sizes}) == len(Presentation(str(deck)).slides)
    assert [(s, t, pt) for s, t, pt in sizes if pt < MIN_PT] == []
    from leadjourney.display import display_name

    stages = [display_name(s, rendered.ws.config.labels) for s in ("MQL", "SQL")]
    assert all(any(t == name for s, t, _ in sizes if s == 4) for name in stages)  # the journey: slide text
    words = [w for b in pdf_words(pdfs[DECK]) for line in b for w in line]
    title = Presentation(str(deck)).slides[1].shapes.title
    assert title is not None
    first = title.text.split()[0]
    per_point = next(w.height for w in words if w.page == 2 and w.text == first) / 28  # the titles are 28 pt
    small = [(w.page, w.text, round(w.height / per_point, 1)) for w in words if w.height / per_point < MIN_PT - 0.2]
    assert small == []


def svg_marks(path: Path) -> list[Any]:
    """The matrix's bubbles, labels, quadrant edges and range bars as shapes, read back from its SVG."""
    from leadjourney.reports.matrix import Shape

    marks = []
    for el in ElementTree.parse(path).getroot().iter():
        role = el.get("class")
        if role not in ("bubble", "label", "divider", "bar"):
            continue
        if el.tag == f"{SVG}line":
            marks.append(Shape("line", *(float(el.get(k, 0)) for k in ("x1", "y1", "x2", "y2")),
                               width=float(el.get("stroke-width", 1)), role=role))
        elif el.tag == f"{SVG}circle":
            marks.append(Shape("circle", float(el.get("cx", 0)), float(el.get("cy", 0)), float(el.get("r", 0)),
                               role=role))
        elif el.tag == f"{SVG}text":
            marks.append(Shape("text", float(el.get("x", 0)), float(el.get("y", 0)), text=el.text or "",
                               size=float(el.get("font-size", 12)), anchor=el.get("text-anchor", "start"),
                               bold=el.get("font-weight") == "bold", role=role))
    return marks


@pytest.mark.slow  # the rendered package's fixture: minutes, not seconds
def test_matrix_labels_and_bubbles_do_not_overlap(rendered: Rendered) -> None:
    from leadjourney.reports.matrix import MatrixLayout, collisions

    marks = svg_marks(rendered.ws.out_dir / "impact_effort.svg")
    assert sum(m.role == "label" for m in marks) >= 1 and sum(m.role == "bubble" for m in marks) >= 3
    assert collisions(MatrixLayout(0, 0, marks)) == []
    # a label may sit nearer another bubble than its own (bubbles crowd a quadrant): it starts with its number
    svg = (rendered.ws.out_dir / "impact_effort.svg").read_text("utf-8")
    ranks = set(re.findall(r'class="rank"[^>]*>(\d+)<', svg))
    numbered = [m.text.split(". ")[0] for m in marks if m.role == "label" and re.match(r"\d+\. ", m.text)]
    assert numbered and len(set(numbered)) == len(numbered) and set(numbered) <= ranks


def docx_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels"))}


@needs_office
def test_no_local_path_in_any_document_and_none_at_all_in_a_footer(rendered: Rendered,
                                                                  pdfs: dict[str, Path]) -> None:
    """Documents are shared: no folder of the machine that wrote them, in the text, the XML (properties,
    headers, footers, notes) or the pages; a footer names the engagement and the page, no path at all."""
    paths = rendered.local_paths()
    for stem in DOCUMENTS:
        for part, xml in docx_parts(rendered.report / f"{stem}.docx").items():
            assert [p for p in paths if p in xml] == [], (stem, part)
            if "footer" in part or "header" in part:
                shown = "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))
                assert "/" not in shown and "\\" not in shown, (stem, part, shown)
    for name in [f"{d}.md" for d in DOCUMENTS] + [f"{d}.html" for d in DOCUMENTS]:
        text = (rendered.report / name).read_text("utf-8")
        assert [p for p in paths if p in text] == [], name
    with zipfile.ZipFile(rendered.report / f"{DECK}.pptx") as z:
        for part in z.namelist():
            data = z.read(part).decode("utf-8", "replace") if part.endswith((".xml", ".rels")) else ""
            assert [p for p in paths if p in data] == [], part
    for stem, pdf in pdfs.items():
        text = pdf_text(pdf)
        assert [p for p in paths if p in text] == [], stem
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert [p for p in paths if p in info] == [], stem
        footers = [b for b in pdf_words(pdf) if b and b[0] and max(w.height for line in b for w in line) < 14
                   and " · " in " ".join(w.text for line in b for w in line)]
        assert all("/" not in w.text for b in footers for line in b for w in line
                   if not re.fullmatch(r"\d+/\d+|/", w.text)), stem


# ------------------------------------------------------------------------------------------ terminal


def fits(proc: subprocess.CompletedProcess[str], width: int = WIDTH) -> list[str]:
    wide = [ln for ln in (proc.stdout + proc.stderr).splitlines() if len(ln.rstrip()) > width]
    assert wide == [], (proc.args, wide[:5])
    return proc.stdout.splitlines()


COMMANDS = [
    ("quality",), ("analyze",), ("touchpoints",), ("personas",), ("paths",), ("map",), ("recommend",),
    ("eventlog",), ("findings",), ("definitions",), ("monitor",), ("report",),
    ("status",), ("dashboard", "--export", "snapshot.html"),
]


@pytest.mark.slow
def test_every_command_fits_80_columns(rendered: Rendered, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each command's output (and its --help) within 80 columns, nothing cut with "…", the workspace named
    as a user types it (a temporary path longer than the terminal cannot wrap)."""
    ws = copy_workspace(rendered.ws, tmp_path / "acme")
    monkeypatch.chdir(tmp_path)
    fits(run_cli("--help", columns=WIDTH))
    for command in COMMANDS:
        words = list(command)
        proc = run_cli(*words[:1], ws.root.name, *words[1:], columns=WIDTH)
        assert proc.returncode == (1 if words[0] == "monitor" else 0) and proc.stdout.strip(), \
            (command, proc.stderr[-500:])  # the monitor exits 1 on red flags
        fits(proc)
        assert "…" not in proc.stdout, command
        fits(run_cli(*words[:1], "--help", columns=WIDTH))


# ------------------------------------------------------------------------------------------ browser


@needs_browser
def test_the_journey_map_in_chromium(rendered: Rendered, tmp_path: Path) -> None:
    """The interactive map opens offline without an error, its text inside the page, and is screenshot."""
    with chromium_page(width=1440, height=900) as page:
        page.context.set_offline(True)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((rendered.ws.out_dir / "journey_map.html").as_uri())
        page.locator("#lj-map svg").wait_for()
        page.screenshot(path=str(rendered.pages / "journey_map.png"), full_page=True)
        clipped = page.evaluate("""() => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.children.length === 0 && e.innerText && e.innerText.trim()
                         && getComputedStyle(e).overflow !== 'visible' && e.scrollWidth > e.clientWidth + 1)
            .map(e => e.innerText.slice(0, 60))""")
        assert clipped == []
    # at a laptop's 1,200 px, the map laid out for that width (Word's map): no stage name cut ("Opportu…")
    from leadjourney.journeymap.html import to_html
    from leadjourney.journeymap.layout import lay_out
    from leadjourney.reports.package import build_report

    narrow = tmp_path / "journey_map-1200.html"
    jm = build_report(rendered.ws).journey_map
    narrow.write_text(to_html(lay_out(jm, width=1200), jm), "utf-8")
    with chromium_page(width=1200, height=900) as page:
        page.goto(narrow.as_uri())
        page.locator("#lj-map svg").wait_for()
        page.screenshot(path=str(rendered.pages / "journey_map-1200.png"), full_page=True)
        stages = page.evaluate("() => Array.from(document.querySelectorAll('g.stage text')).map(t => t.textContent)")
    assert stages and not [t for t in stages if "…" in t]
    assert errors == []
    assert (rendered.pages / "journey_map.png").stat().st_size > 50_000


@pytest.fixture
def served(rendered: Rendered) -> Iterator[str]:
    from werkzeug.serving import make_server

    from leadjourney.dashboard import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, create_app(rendered.ws).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@needs_browser
@pytest.mark.parametrize("width", [1440, 1024])
def test_the_dashboard_in_chromium(rendered: Rendered, served: str, width: int) -> None:
    """The live dashboard: no horizontal scrolling at a laptop's width, no KPI tile or label whose text
    overflows its box, thousands separators in the counts; screenshot for the eye."""
    with chromium_page(width=width, height=900) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(served + "/")
        page.wait_for_function("() => document.getElementById('kpi-people')?.innerText.trim().length > 0")
        page.wait_for_selector("#funnel .js-plotly-plot .main-svg")
        page.wait_for_timeout(800)  # the charts' transitions
        page.screenshot(path=str(rendered.pages / f"dashboard-{width}.png"), full_page=True)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        overflowing = page.evaluate("""() => Array.from(document.querySelectorAll('[id^=kpi], .kpi, .kpi *'))
            .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
            .map(e => (e.id || e.className) + ': ' + e.innerText.slice(0, 60))""")
        assert overflowing == []
        people = page.inner_text("#kpi-people")
        assert re.fullmatch(r"\d{1,3}(,\d{3})+", people), people
        rows = page.evaluate("() => new Set(Array.from(document.querySelectorAll('.tiles .kpi'))"
                             ".map(t => Math.round(t.getBoundingClientRect().top))).size")
        if width >= 1440:  # the header reads as one band of tiles, as the CRM dashboards' do (7 tiles, not 6 + 1)
            assert rows == 1
    assert errors == []


# ------------------------------------------------------------------------------------------ fast: the fixes


@pytest.mark.slow  # every document or every command's help: make test-integration
def test_one_arrow_in_human_outputs(tmp_path: Path) -> None:
    """Transitions read "MQL → SQL" in the terminal's tables, the recommendations, the findings' statements
    (terminal, interview guide) (a Word cell broke "MQL -" / "> SQL" across lines); "MQL->SQL" stays only as
    a key (finding ids, [targets])."""
    from conftest import DATA, csv_workspace, min_n_config

    ws = csv_workspace(tmp_path / "ws", min_n_config(), **{t: (DATA / f"canonical_{t}.csv").read_text("utf-8")
                                                           for t in ("leads", "stage_events", "touchpoints",
                                                                     "opportunities")})
    analyzed = ok("analyze", str(ws.root), columns=120).stdout
    assert "Lead → MQL" in analyzed and " -> " not in analyzed
    import json

    recommended = json.dumps(json.loads(ok("recommend", str(ws.root), "--json").stdout), ensure_ascii=False)
    assert " → " in recommended and " -> " not in recommended
    # finding statements (stored with "->") read with the arrow wherever people read them; the ids keep "->"
    from leadjourney.analysis.findings import list_findings
    from leadjourney.reports.interviews import interview_markdown

    found = list_findings(ws)
    assert any(" -> " in f.statement for f in found)  # as stored
    listed = ok("findings", str(ws.root), columns=200).stdout
    assert "MQL → SQL" in listed, listed
    assert " -> " not in listed, [ln for ln in listed.splitlines() if " -> " in ln]
    assert re.search(r"│ (conversion|time):\w+->\w+ ", listed)  # the id as typed back
    guide = interview_markdown([], found)
    assert " → " in guide and " -> " not in guide and re.search(r"`(conversion|time):\w+->\w+`", guide)


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_tables_fit_80_columns_by_display_name_ids_whole_and_the_toml_pastes(
        shared_generated: SharedGenerated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """touchpoints, personas, findings and definitions at 80 columns: no line wider, nothing cut with "…",
    kinds, channels and personas by display name, each finding id whole on one line (it is typed back), and
    the suggested [[personas]] block parses as TOML (a wrapped comment keeps its "#")."""
    import json
    import tomllib

    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120, web=True)
    copy_workspace(shared, tmp_path / "acme")
    monkeypatch.chdir(tmp_path)
    ok("analyze", "acme")
    touch = fits(ok("touchpoints", "acme", columns=WIDTH))
    assert "…" not in "\n".join(touch) and "Email click" in "\n".join(touch) and "email_click" not in "\n".join(touch)
    personas = ok("personas", "acme", columns=WIDTH)
    lines = fits(personas)
    assert "…" not in personas.stdout and "enterprise_it" not in personas.stdout.split("Suggested")[0]
    assert any(ln.startswith("│ Enterprise ") for ln in lines)
    block = personas.stdout.split("to adopt):\n", 1)[1].split("  written", 1)[0]
    assert tomllib.loads(block)["personas"]
    found = ok("findings", "acme", columns=WIDTH)
    fits(found)
    ids = [f["finding_id"] for f in json.loads(ok("findings", "acme", "--json").stdout)]
    assert ids and all(re.search(rf"│ {re.escape(i)} +│", found.stdout) for i in ids)
    terms = ok("definitions", "acme", columns=WIDTH)
    fits(terms)
    assert "…" not in terms.stdout and "Marketing: missing" in terms.stdout



def test_the_matrix_check_sees_a_label_across_a_quadrant_edge_or_a_range_bar() -> None:
    """The rendered matrix had "Update lead scoring threshold criteria: Organic social leads" drawn across the
    quick-win line: a label crossing a divider or a bar is a collision; a bar across a divider is not."""
    from leadjourney.reports.matrix import MatrixLayout, Shape, collisions

    edge = Shape("line", 200, 70, 200, 560, width=1.5, role="divider")
    bar = Shape("line", 150, 300, 260, 300, width=2, role="bar")
    across = Shape("text", 180, 250, text="Update lead scoring threshold", size=11, role="label")
    clear = Shape("text", 210, 150, text="Rebalance", size=11, role="label")
    assert collisions(MatrixLayout(0, 0, [edge, bar, clear])) == []
    assert collisions(MatrixLayout(0, 0, [edge, across])) == [(edge, across)]
    assert collisions(MatrixLayout(0, 0, [bar, Shape("text", 160, 303, text="on the bar", role="label")]))


def test_pictures_draw_arrows_and_non_latin_names_as_written_and_a_missing_glyph_as_a_question_mark() -> None:
    """The map's PNG showed "Lead ▯ MQL", then "Lead to MQL", and a Cyrillic or Polish name as "?": Pillow's
    bundled font had 113 glyphs. The package's DejaVu Sans Condensed draws them; a CJK name, still missing,
    is drawn "?" (never an empty box) and measured as drawn."""
    from leadjourney.journeymap.text import measure
    from leadjourney.reports.matrix import MatrixLayout, Shape, to_png

    def picture(text: str) -> bytes:
        return to_png(MatrixLayout(200, 40, [Shape("text", 10, 25, text=text, size=14, role="label")]), scale=1.0)

    assert len({picture("MQL → SQL"), picture("MQL to SQL"), picture("MQL ? SQL"), picture("MQL  SQL")}) == 4
    assert len({picture("Łódź"), picture("Lodz"), picture("?od?"), picture("Маркетинг"), picture("?????????")}) == 5
    assert picture("MQL 春 SQL") == picture("MQL ? SQL")
    assert measure("MQL 春 SQL", 14) == measure("MQL ? SQL", 14)


def test_the_friction_ranking_leads_with_the_top_drop_offs_and_keeps_the_rest_compact(tmp_path: Path) -> None:
    """The Word ranking ran to 20 pages: 77 full rows (hypotheses and all), a bullet per row too few to judge,
    the full map in 8 tiles. The VP's part: the top ten with their figures; the other judged rows in an
    appendix table without hypotheses; the rows too few to judge one short line each; the full map named."""
    from dataclasses import replace

    from conftest import DATA, csv_workspace
    from leadjourney.analysis.friction import FrictionRow
    from leadjourney.analysis.report import analyze
    from leadjourney.analysis.status import OK, too_few
    from leadjourney.reports.friction_doc import MAP_IMAGE, friction_markdown

    ws = csv_workspace(tmp_path / "ws", **{t: (DATA / f"canonical_{t}.csv").read_text("utf-8")
                                           for t in ("leads", "stage_events", "touchpoints", "opportunities")})
    analysis = analyze(ws)

    def row(rank: int, n: int, recoverable: float | None) -> FrictionRow:
        return FrictionRow(rank, "MQL", "SQL", f"source=src_{rank}", n, n // 2, 0.5, 3.0, 0.4, 1000.0 * n,
                           f"hypothesis {rank}", rate=0.5, target_rate=0.6,
                           target_source="benchmark: 15-21% (average) [1], low end 15.0%" if rank in (1, 11)
                           else "other sources",
                           recoverable_per_year=recoverable, status=too_few(n, 30) if recoverable is None else OK)
    rows = [row(k, 100 + k, 5000.0 - k if k <= 4 else 0.0) for k in range(1, 16)]
    rows += [row(k, k - 14, None) for k in range(16, 21)]
    analysis.friction = replace(analysis.friction, rows=rows)
    doc = friction_markdown(analysis, [], "USD", cropped_map="stages.png")
    lead, appendix = doc.split("## Appendix: the other transitions and segments", 1)
    assert [k for k in range(1, 21) if f"| {k} | MQL → SQL |" in lead] == list(range(1, 11))
    assert all(f"hypothesis {k}" in lead for k in range(1, 11)) and "hypothesis 11" not in doc
    others, few = appendix.split("## Appendix: too few to judge", 1)
    assert [k for k in range(1, 21) if f"| {k} | MQL → SQL |" in others] == list(range(11, 16))
    assert all(f"| {k} | MQL → SQL | Src {k} (source) | too few to judge: {k - 14} " in few for k in range(16, 21))
    assert "- #16" not in doc and f"![The full journey map]({MAP_IMAGE})" not in doc
    assert "![Journey map](stages.png)" in doc and f"`{MAP_IMAGE}` beside this document" in doc
    # the VP's table names a benchmark by its citation; the appendix keeps where it comes from
    assert "| 60.0% (benchmark \\[1\\]) |" in lead and "benchmark: 15-21% (average)" in others


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # styles, the progress bar's cursor


def test_common_errors_wrap_at_80_columns_in_a_terminal_and_stay_one_line_in_a_log(tmp_path: Path) -> None:
    """An error naming a long path ran to 200 columns in an 80-column terminal (the terminal broke it
    mid-word): in a terminal it wraps at the width, between words (a path longer than the width folds);
    written to a file or a pipe it stays one line (grep, logs)."""
    from conftest import DATA

    deep = tmp_path / "engagements" / "acme-corporation-north-america" / "q3-inbound-review" / "workspace"
    assert run_cli("init", str(deep)).returncode == 0
    bad = deep / "crm-export-with-a-rather-long-name.csv"
    shutil.copy(DATA / "missing_columns.csv", bad)
    errors = [("analyze", str(deep)), ("ingest", str(deep), "--file", str(bad), "--table", "leads"),
              ("report", str(deep), "--format", "docx,slides,markdown"), ("init", str(bad))]
    tty = {"TTY_COMPATIBLE": "1", "NO_COLOR": "1"}
    for args in errors:
        proc = run_cli(*args, columns=WIDTH, env=tty)
        text = ANSI.sub("", proc.stderr)
        assert proc.returncode != 0 and "error" in text, (args, text)
        wide = [ln for ln in text.splitlines() if len(ln) > WIDTH]
        assert wide == [], (args, wide)
        logged = run_cli(*args, columns=WIDTH).stderr.strip()
        assert "\n" not in logged and "".join(text.split()) == "".join(logged.split()), args


def _forced_breaks(text: str, width: int = WIDTH) -> list[str]:
    """Lines of a help's prose (its description, its command list's summaries) broken before the width
    needed: the next line's first word would have fit, so the break came from the source, mid-sentence.
    A line before a command to copy (``leadjourney ...``, a cron entry) is meant to end there."""
    rows: list[tuple[str, int]] = []  # (prose line, its room); ("", 0) between items
    in_commands, column = False, 0
    for line in text.splitlines():
        if line.startswith("╭─ Commands"):
            in_commands = True
        elif line.startswith("╰"):
            in_commands = False
        elif in_commands and line.startswith("│"):
            named = re.match(r"│ \S+\s+", line)
            if named:  # a new command: its summary starts a new item
                column = named.end()
                rows.append(("", 0))
            rows.append((line[column:].rstrip("│").rstrip(), len(line) - 2 - column))
            continue
        elif line.startswith(" ") and not line.startswith("  ") and line.strip():
            rows.append((line[1:].rstrip(), width - 2))
            continue
        rows.append(("", 0))
    return [f"{line!r} / {nxt!r}" for (line, room), (nxt, _) in pairwise(rows)
            if line and nxt and not re.match(r"(leadjourney |\d+ \d+ )", nxt)
            and len(line) + 1 + len(nxt.split()[0]) <= room]


@pytest.mark.slow  # every document or every command's help: make test-integration
def test_help_texts_flow_at_80_columns_without_breaking_mid_sentence() -> None:
    """`--help` kept the docstrings' source line breaks: "... red drop-offs with revenue impact," / "the
    dark-lead path ..." left half a line empty in the command list and in each command's description; and
    Rich markup ate "[[personas]]" ("with [] rules")."""
    import click
    import typer

    from leadjourney.cli.app import app

    def paths(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from paths(sub, (*path, name))

    everything = list(paths(typer.main.get_command(app), ()))
    assert len(everything) > 20
    for path in everything:
        proc = run_cli(*path, "--help", columns=WIDTH)
        assert proc.returncode == 0, path
        assert fits(proc) and _forced_breaks(proc.stdout) == [], (path, _forced_breaks(proc.stdout))
    assert "with [[personas]] rules" in " ".join(run_cli("personas", "--help", columns=WIDTH).stdout.split())


def test_the_glyph_check_sees_what_the_bundled_font_lacks_and_pictures_draw_it_in_ascii_or_words() -> None:
    """The bundled font (DejaVu Sans Condensed, subset) covers Latin with its extensions, Greek, Cyrillic,
    arrows, currency and math signs; Pillow's had 113 glyphs ("Qualifié", "€12k", "≥", "→" drew as boxes,
    then in ASCII). The check reads the font's cmap; what it still lacks (CJK) is drawn "?"."""
    from leadjourney.journeymap.text import drawable, missing_glyphs

    names = "Qualifié €12k, MQL → SQL ≥ 5 \u00d7 2, Łódź Żółć, Příliš, Маркетинг, Διευθυντής, Zürich — Ørsted ß ✓ ★ ▲"
    assert missing_glyphs(names) == []
    assert drawable(names) == names
    assert missing_glyphs(f"{names} 春 東京") == ["春", "東", "京"]
    assert drawable("Qualifié 春, MQL → SQL") == "Qualifié ?, MQL → SQL"
    assert missing_glyphs(drawable("春 東京 ok")) == []


@pytest.mark.slow  # builds a whole report package: about 30 s
def test_every_text_drawn_in_a_picture_has_its_glyphs(tmp_path: Path, drawn_texts: list[str]) -> None:
    """Every text the package draws in its PNGs (map, matrix, funnel chart), with labels, a name and a currency
    the bundled font cannot draw, checked against the font's cmap: none draws an empty box."""
    from conftest import DATA, csv_workspace, min_n_config
    from leadjourney.journeymap.text import missing_glyphs
    from leadjourney.reports.package import build_report

    drawn = drawn_texts
    config = min_n_config().replace('currency = "USD"', 'currency = "EUR"').replace(
        'name = "Inbound lead journey"', 'name = "Parcours — Zürich"').replace(
        "\n[labels]\n", '\n[labels]\nMQL = "Qualifié marketing"\nSQL = "Квалифицированный лид ✓"\n'
        'seo = "Pozycjonowanie Łódź 春"\n')
    ws = csv_workspace(tmp_path / "ws", config, **{t: (DATA / f"canonical_{t}.csv").read_text("utf-8")
                                                   for t in ("leads", "stage_events", "touchpoints", "opportunities")})
    package = build_report(ws)
    assert len(package.images) >= 4 and len(drawn) > 50
    assert [t for t in drawn if missing_glyphs(t)] == []
    assert any("Qualifié marketing" in t for t in drawn) and any("Zürich" in t for t in drawn)
    assert any("Квалифицированный лид" in t for t in drawn)  # Cyrillic as written, not "?"
    assert not any("春" in t for t in drawn)


def test_the_summary_lists_three_distinct_actions_their_money_not_double_counted() -> None:
    """The deck's "Three actions" were one action for three sources. One catalogue action is one line with
    its subjects listed, the hours added up, the money of disjoint segments added and overlapping ones
    (sources and personas of one transition) not."""
    from types import SimpleNamespace

    from leadjourney.analysis.friction import FrictionRow
    from leadjourney.reports.headlines import top_action_groups

    def row(rank: int, segment: str | None, amount: float) -> FrictionRow:
        return FrictionRow(rank, "MQL", "SQL", segment, 100, 80, 0.8, 3.0, 0.4, 1e5, "", recoverable_per_year=amount)

    def rec(rank: int, action: str, title: str, rows: list[FrictionRow], hours: tuple[float, float]) -> Any:
        return SimpleNamespace(rank=rank, action=action, title=title, status="ASSUMED", friction=tuple(rows),
                               counted=tuple((r.rank, r.recoverable_per_year) for r in rows),
                               revenue=sum(r.recoverable_per_year or 0 for r in rows), hours_low=hours[0],
                               hours_high=hours[1])

    items = [rec(1, "scoring", "Update lead scoring: Content syndication leads", [row(1, "source=cs", 63e3)], (2, 4)),
             rec(2, "scoring", "Update lead scoring: Paid social leads", [row(2, "source=paid_social", 54e3)], (2, 4)),
             rec(3, "rebalance", "Rebalance or qualify paid_social leads", [], (6, 12)),
             rec(4, "scoring", "Update lead scoring: Enterprise IT leads", [row(3, "persona=ent", 40e3)], (2, 4)),
             rec(5, "definitions", "Update lead stage definitions in CRM", [], (1, 2)),
             rec(6, "sla", "Add an SLA alert", [], (1, 2))]
    groups = top_action_groups(SimpleNamespace(items=items), 3)
    assert [g.title for g in groups] == [
        "Update lead scoring (Content syndication leads, Paid social leads, Enterprise IT leads)",
        "Rebalance or qualify Paid social leads", "Update lead stage definitions in CRM"]
    # the two sources add up; the persona's people are among them: the larger kind counts, not both
    assert groups[0].revenue == 117e3 and (groups[0].hours_low, groups[0].hours_high) == (6, 12)
    assert groups[0].head == "Update lead scoring" and groups[1].revenue == 0


def test_a_range_in_a_word_cell_does_not_break_at_its_hyphen() -> None:
    """The friction ranking's narrow target column broke "15.0% (benchmark: 15-" / "21% ..." across lines:
    a range's hyphen is Word's non-breaking one, read back as "-"; a word's own hyphen may still break."""
    from docx import Document

    from leadjourney.reports.docx_writer import to_docx

    doc = Document(io.BytesIO(to_docx("t", "| Target |\n|---|\n| 15.0% (benchmark: 15-21%, 2026-06-10) |\n\n"
                                           "speed-to-lead 5-10 minutes\n", {})))
    xml = doc.element.xml
    assert xml.count("<w:noBreakHyphen/>") == 4 and "speed-to-lead" in xml
    assert doc.tables[0].cell(1, 0).text == "15.0% (benchmark: 15-21%, 2026-06-10)"
    assert "speed-to-lead 5-10 minutes" in [p.text for p in doc.paragraphs]


def test_counts_read_singular_or_plural_never_with_a_bracketed_s() -> None:
    """`map` printed "4 drop-off point(s) flagged red, 3 persona lane(s)"."""
    from leadjourney.display import counted

    assert [counted(n, "drop-off point") for n in (0, 1, 4, 1200)] == [
        "0 drop-off points", "1 drop-off point", "4 drop-off points", "1,200 drop-off points"]
    assert counted(2, "persona", "personas") == "2 personas" and counted(1, "box", "boxes") == "1 box"


def test_the_decks_friction_table_lists_what_loses_money_not_a_row_at_its_target() -> None:
    """The deck's "loses $63k/yr" table showed "All leads, MQL -> SQL, 17.6% vs 15.0% target, $0" as row 5,
    later "43 Opportunity → Customer, SEO (source), not judged" (too few people, ranked last)."""
    from types import SimpleNamespace

    from leadjourney.reports.deck_layout import MAX_ROWS
    from leadjourney.reports.pptx_writer import losing_rows

    values = [63e3, 54e3, 0.0, None, 33e3, 29e3, 0.0, 12e3, 5e3]
    fr = SimpleNamespace(rows=[SimpleNamespace(rank=i + 1, recoverable_per_year=v) for i, v in enumerate(values)])
    shown = losing_rows(fr)  # type: ignore[arg-type]
    assert [r.rank for r in shown] == [1, 2, 5, 6, 8] and len(shown) == MAX_ROWS


def test_the_decks_definitions_slide_names_every_term_each_role_has_still_to_sign() -> None:
    """The slide listed 5 of 9 terms, each "no · Marketing, Sales, RevOps"; the next steps said "marketing,
    sales, revops" (the --role keys)."""
    from types import SimpleNamespace

    from leadjourney.reports.pptx_writer import sign_off_rows

    terms = [SimpleNamespace(definition=SimpleNamespace(term=f"Term {i}"),
                             missing=["Sales", "RevOps"] if i == 0 else ["Marketing", "Sales", "RevOps"])
             for i in range(9)]
    rows = sign_off_rows(terms)  # type: ignore[arg-type]
    assert [r[:2] for r in rows] == [["Marketing", "1 of 9"], ["Sales", "0 of 9"], ["RevOps", "0 of 9"]]
    assert rows[0][2].split(", ") == [f"Term {i}" for i in range(1, 9)] and rows[1][2].count("Term") == 9
    assert sign_off_rows([]) == []


def test_documents_write_when_they_were_computed_as_people_read_a_time() -> None:
    """The FAQ, friction ranking, recommendations and playbook said "(computed 2026-12-07T12:33:30.123456)"."""
    from leadjourney.display import moment

    assert moment("2026-12-07T12:33:30.123456") == "2026-12-07 12:33"
    assert moment("2026-12-07T12:33:30+00:00") == "2026-12-07 12:33"
    assert moment(None) == "-" and moment("not a time") == "not a time"
