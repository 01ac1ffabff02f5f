"""The documentation package: every document in every format, numbers equal to `analyze --json`,
self-contained HTML, Word and PowerPoint structure, interview answers, and a LibreOffice render."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.enum.text import PP_ALIGN

from conftest import SharedGenerated, chromium_page, copy_workspace, needs_browser, needs_office
from conftest import run_cli as run
from leadjourney.analysis.friction import money
from leadjourney.display import display_name, segment_name
from leadjourney.reports.interviews import ROLES, list_answers
from leadjourney.reports.package import DECK, FORMATS
from leadjourney.reports.people import plain
from leadjourney.workspace import Workspace

SLUGS = ("recommendations", "definitions", "personas", "friction_ranking", "maintenance_playbook", "faq",
         "interview_guide")
IMAGES = ("funnel.png", "impact_effort.png", "journey_map.png", "journey_map_funnel.png")
ANSWER = "SDRs work new MQLs in a morning batch, so afternoon leads wait overnight"


def ok(*args: str) -> subprocess.CompletedProcess[str]:
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def gen(shared_generated: SharedGenerated, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A generated workspace with a baseline, two recorded answers (one linked finding confirmed), and its report."""
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)
    root = tmp_path_factory.mktemp("report") / "ws"
    ws = copy_workspace(shared, root)
    analysis = json.loads(ok("analyze", str(root), "--baseline", "--json").stdout)
    ok("report", "answer", "-w", str(root), "--role", "sales", "--question", "4", "--finding",
       "speed_to_lead:median", "--text", ANSWER)
    ok("report", str(root), "answer", "--role", "RevOps", "--question", "1", "--text", "Lifecycle set by workflow")
    ok("findings", "-w", str(root), "confirm", "speed_to_lead:median", "--note", "SDR manager")
    proc = ok("report", str(root))
    written = [Path(line.split()[-1]) for line in proc.stdout.splitlines() if line.strip().startswith("written")]
    return {"ws": ws, "analysis": analysis, "written": written, "out": root / "out" / "report"}


def text(gen: dict[str, Any], name: str) -> str:
    return (gen["out"] / name).read_text("utf-8")


def test_every_document_in_every_format(gen: dict[str, Any]) -> None:
    expected = [*IMAGES, *[f"{s}.{ext}" for s in SLUGS for ext in ("md", "html", "docx")], DECK]
    assert [p.name for p in gen["written"]] == expected
    assert all(p.stat().st_size > 0 for p in gen["written"])
    assert FORMATS == ("md", "html", "docx", "pptx")


def test_numbers_equal_analyze_json(gen: dict[str, Any]) -> None:
    a = gen["analysis"]
    t = next(t for t in a["funnel"]["transitions"] if (t["from"], t["to"]) == ("MQL", "SQL"))
    line = (f"MQL → SQL below {t['rate'] - 0.05:.1%} for 2+ months (baseline {t['rate']:.1%}, 95% CI "
            f"{t['ci_low']:.1%}-{t['ci_high']:.1%}, n {t['entered']:,}) raises a red flag.")
    playbook = text(gen, "maintenance_playbook.md")
    assert line in playbook
    assert f"below {t['rate'] - 0.10:.1%} (baseline {t['rate']:.1%}" in playbook  # the re-engagement trigger
    dark = a["dark_leads"]["dark"]
    assert (f"Dark-lead share above {dark['share'] + 0.05:.1%} raises a red flag (ours, the playbook's 5-point "
            f"rule; baseline {dark['share']:.1%}") in playbook
    speed = a["speed_to_lead"]
    assert f"{speed['within_5_min']['share']:.1%} within 5 minutes" in playbook
    assert f"{t['rate']:.1%} (95% CI {t['ci_low']:.1%}-{t['ci_high']:.1%}, {t['converted']:,} of" in text(gen, "faq.md")
    friction = text(gen, "friction_ranking.md")
    for row in a["friction"]["rows"]:
        recoverable = row["recoverable_per_year"]
        if recoverable is None:  # too few to judge: a short line each, the reason in the status's words
            assert f"| {row['rank']} | {row['from']} → {row['to']} | {segment_name(row['segment'])} | too few to " \
                f"judge: {plain(row['status_reason'])} |" in friction.split("## Appendix: too few to judge", 1)[1]
            continue
        assert f"| {row['rank']} | {row['from']} → {row['to']} | {segment_name(row['segment'])} | " \
               f"{row['drop_off_rate']:.1%} |" in friction
        # recoverable revenue (rounded for people) beside the value of all drop-offs, the upper bound
        assert money(recoverable, "USD") in friction
        assert money(row["value_of_all_dropoffs_per_year"], "USD") in friction
    assert "Baseline: the snapshot stored by `leadjourney analyze --baseline`" in playbook


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [(tag, k, v or "") for k, v in attrs if k in ("src", "href", "srcset", "data")]


def test_html_is_self_contained(gen: dict[str, Any]) -> None:
    for slug in SLUGS:
        html = text(gen, f"{slug}.html")
        parser = _Refs()
        parser.feed(html)
        for tag, attr, value in parser.refs:
            if attr == "src":
                assert value.startswith("data:image/"), (slug, tag, value[:60])
            else:
                assert "://" not in value and not value.startswith("//"), (slug, tag, value)
        assert "<script" not in html and "@import" not in html and "url(http" not in html
    friction = text(gen, "friction_ranking.html")
    assert friction.count('src="data:image/png;base64,') == 2  # the cropped map, the funnel (the full map: named)
    assert text(gen, "recommendations.html").count('src="data:image/png;base64,') == 1  # the matrix


def _headings(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs if p.style is not None and p.style.name is not None
            and p.style.name.startswith("Heading")]


def test_docx_has_the_expected_headings_tables_and_charts(gen: dict[str, Any]) -> None:
    out = gen["out"]
    assert {"Ranked recommendations", "Quick-win spec (Phase 2a)"} <= set(_headings(out / "recommendations.docx"))
    assert {"Monthly", "Conversion rate review", "Speed-to-lead check", "Dark leads", "Quarterly",
            "Refinement triggers (when to re-engage)"} <= set(_headings(out / "maintenance_playbook.docx"))
    assert {"Marketing interviews", "Sales interviews", "RevOps interviews"} <= set(
        _headings(out / "interview_guide.docx"))
    doc = Document(str(out / "friction_ranking.docx"))
    assert 2 <= len(doc.inline_shapes) <= 3  # the funnel, the stages-and-drop-offs map on a page (two at most)
    ranking = doc.tables[1]
    assert [c.text for c in ranking.rows[0].cells][:4] == ["Rank", "Stage transition", "Segment", "Drop-off %"]
    ranked = [t for t in doc.tables if "Drop-off %" in [c.text for c in t.rows[0].cells]]  # the top ten, then the rest judged
    rows = gen["analysis"]["friction"]["rows"]
    assert len(ranking.rows) - 1 == min(10, len(rows))
    assert sum(len(t.rows) - 1 for t in ranked) == sum(r["recoverable_per_year"] is not None for r in rows)
    first = gen["analysis"]["friction"]["rows"][0]
    assert ranking.rows[1].cells[3].text == f"{first['drop_off_rate']:.1%}"
    assert len(Document(str(out / "recommendations.docx")).inline_shapes) == 1


def test_the_deck_leads_with_takeaways_and_keeps_the_detail_in_its_notes(gen: dict[str, Any]) -> None:
    prs = Presentation(str(gen["out"] / DECK))
    slides = list(prs.slides)
    titles = [s.shapes.title.text if s.shapes.title is not None else None for s in slides]
    a, cur = gen["analysis"], gen["ws"].config.currency
    rows = a["friction"]["rows"]
    top = max((r for r in rows if r["recoverable_per_year"]), key=lambda r: r["recoverable_per_year"])
    who = segment_name(top["segment"])
    assert f"{who} loses {money(top['recoverable_per_year'], cur)}/yr at " in titles[4]  # a takeaway, not a label
    assert titles[-1] == "Appendix: the full journey map"
    # the map's picture is too small to read on a slide: the slide says where to read it
    appendix = " ".join(sh.text_frame.text for sh in slides[-1].shapes if sh.has_text_frame)
    assert "journey_map.png" in appendix and "journey_map.html" in appendix
    customers = a["funnel"]["stages"][-1]["reached"]
    assert titles[2].startswith(f"{customers:,} of {a['funnel']['stages'][0]['reached']:,} leads became")
    for number, slide in enumerate(slides[1:], start=2):  # numbered, no file path, notes for the presenter
        texts = [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]
        assert f"{number} / {len(slides)}" in texts
        assert not any(str(gen["ws"].root) in t for t in texts)
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip(), number
    (table,) = [sh.table for sh in slides[4].shapes if sh.has_table]
    assert table.cell(1, 3).text == f"{100 * rows[0]['rate']:.1f}%"
    assert table.cell(1, 3).text_frame.paragraphs[0].alignment == PP_ALIGN.RIGHT  # numbers right-aligned
    assert table.cell(0, 0).fill.fore_color.rgb == RGBColor.from_string(gen["ws"].config.brand_color[1:])
    cells = [c.text for sl in slides for sh in sl.shapes if sh.has_table for r in sh.table.rows for c in r.cells]
    assert cells and not any("…" in c for c in cells)  # wrapped, never cut
    # personas (at most four): a card each, who / arrive via / stall / change, by display name
    cards = [sh.text_frame.text for sh in slides[7].shapes if sh.has_text_frame and "Who: " in sh.text_frame.text]
    assert 2 <= len(cards) <= 4 and all(("Stall: " in c and "Change: " in c) for c in cards)
    names = [table.cell(i, 2).text for i in range(1, len(table.rows))] + cards
    assert names and not any("_" in n or "=" in n for n in names)  # "Enterprise IT (persona)", not persona=...
    tiles = [sh.text_frame.text for sh in slides[1].shapes if sh.has_text_frame]
    assert money(top["recoverable_per_year"], cur) in tiles  # the summary's largest gap
    # three distinct actions: one catalogue action per line, its subjects listed, no raw values
    actions = [ln for t in tiles for ln in t.splitlines() if re.match(r"\d\. ", ln)]
    heads = [re.split(r" \(|: ", ln[3:], maxsplit=1)[0] for ln in actions]
    assert actions and len(set(heads)) == len(heads) and not any(re.search(r"\b[a-z]+_[a-z_]+\b", a) for a in actions)
    # the journey slide: drawn as slide text (a picture of the map set it at 6.5 pt), the full map in the appendix
    assert not [sh for sh in slides[3].shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert [sh for sh in slides[-1].shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
    journey = [(run.text, run.font.size.pt) for sh in slides[3].shapes if sh.has_text_frame
               for para in sh.text_frame.paragraphs for run in para.runs if run.text.strip()]
    said = "\n".join(t for t, _ in journey)
    assert all(display_name(st["stage"]) in said for st in a["funnel"]["stages"])
    assert all(f"{100 * t['rate']:.1f}% convert" in said for t in a["funnel"]["transitions"] if t["rate"] is not None)
    assert min(pt for _, pt in journey) >= 11
    priced = sorted((r["recoverable_per_year"] for r in rows if r["recoverable_per_year"]), reverse=True)
    assert f"{money(priced[0], cur)}/yr recoverable" in said  # the biggest drop-off, priced
    assert all(table.cell(i, 5).text != "not judged" for i in range(1, len(table.rows)))  # rows that lose money
    # the definitions: a row per role naming every term it has still to sign; the next steps in words
    (signoff,) = [sh.table for sh in slides[-3].shapes if sh.has_table]
    assert [signoff.cell(i, 0).text for i in range(len(signoff.rows))] == ["Role", "Marketing", "Sales", "RevOps"]
    steps = " ".join(sh.text_frame.text for sh in slides[-2].shapes if sh.has_text_frame)
    assert "Record interview answers for: Marketing (" in steps and "leadjourney " not in steps


def test_interview_answers_round_trip_under_their_question(gen: dict[str, Any]) -> None:
    ws: Workspace = gen["ws"]
    answers = list_answers(ws)
    assert [(a.role, a.question, a.finding_id) for a in answers] == [("revops", 1, None),
                                                                    ("sales", 4, "speed_to_lead:median")]
    with ws.connect(read_only=True) as con:  # no column for who said it: names are personal data
        columns = [r[0] for r in con.execute("DESCRIBE interview_answers").fetchall()]
    assert columns == ["answer_id", "role", "question", "finding_id", "answer", "recorded_at"]
    guide = text(gen, "interview_guide.md")
    sales = next(r for r in ROLES if r.key == "sales")
    heading = f"### Sales 4. {sales.questions[3].text}"
    section = guide.split(heading, 1)[1].split("\n### ", 1)[0]
    assert ANSWER in section
    assert "Linked finding `speed_to_lead:median`: CONFIRMED: median speed-to-lead is" in section
    assert "Lifecycle set by workflow" in guide.split("### RevOps 1.", 1)[1].split("\n### ", 1)[0]
    assert ANSWER in text(gen, "interview_guide.html") and ANSWER in "\n".join(
        p.text for p in Document(str(gen["out"] / "interview_guide.docx")).paragraphs)


@pytest.mark.parametrize(("args", "message"), [
    (("--role", "cfo", "--question", "1"), "--role: expected one of marketing, sales, revops"),
    (("--role", "sales", "--question", "99"), "--question: Sales has questions 1-12"),
    (("--role", "sales", "--question", "1", "--finding", "nope"), "--finding: no finding 'nope'"),
])
def test_bad_answers_fail_with_one_line(gen: dict[str, Any], args: tuple[str, ...], message: str) -> None:
    proc = run("report", "answer", "-w", str(gen["ws"].root), *args, "--text", "x")
    assert proc.returncode == 1 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_format_option_anywhere_and_bad_format(gen: dict[str, Any], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(gen["ws"].root, copy, ignore=shutil.ignore_patterns("out"))
    proc = ok("report", "--format", "md", str(copy), "--source", "seo")
    names = sorted(p.name for p in (copy / "out" / "report").iterdir())
    assert names == sorted([*IMAGES, *[f"{s}.md" for s in SLUGS]])
    n_all, n_seo = gen["analysis"]["n_people"], int(proc.stdout.split(" from ")[1].split()[0].replace(",", ""))
    assert 0 < n_seo < n_all
    assert f"Where the {n_seo:,} people" in (copy / "out" / "report" / "friction_ranking.md").read_text("utf-8")
    bad = run("report", str(copy), "--format", "md,pdf")
    assert bad.returncode == 1 and "unknown format 'pdf'" in bad.stderr


@needs_office
def test_libreoffice_converts_the_docx_and_the_deck_to_pdf(gen: dict[str, Any], tmp_path: Path) -> None:
    files = [gen["out"] / "friction_ranking.docx", gen["out"] / "maintenance_playbook.docx", gen["out"] / DECK]
    proc = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, files)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for f in files:
        pdf = tmp_path / f"{f.stem}.pdf"
        assert pdf.is_file() and pdf.stat().st_size > 10_000, f
        assert pdf.read_bytes()[:5] == b"%PDF-"


@needs_browser
def test_html_documents_render_offline_in_chromium(gen: dict[str, Any], tmp_path: Path) -> None:
    """Each HTML document opens in a real browser with the network off: no request leaves the file,
    every embedded image decodes, nothing logs an error, and the page has its title and tables."""
    with chromium_page(width=1200, height=900) as page:
        page.context.set_offline(True)
        outside: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        for slug in SLUGS:
            page.goto((gen["out"] / f"{slug}.html").as_uri())
            assert page.locator("h1").count() >= 1, slug
            broken = page.evaluate("() => Array.from(document.images).filter(i => !i.complete || !i.naturalWidth)"
                                   ".map(i => i.alt || i.src.slice(0, 40))")
            assert broken == [], (slug, broken)
            assert page.evaluate("() => document.body.innerText.length") > 500, slug
        page.goto((gen["out"] / "recommendations.html").as_uri())
        page.screenshot(path=str(tmp_path / "recommendations.png"), full_page=True)
    assert outside == [] and errors == []
    assert (tmp_path / "recommendations.png").stat().st_size > 20_000


def _docx_xml(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_docx_tables_fit_their_words_repeat_their_header_and_use_the_brand(gen: dict[str, Any]) -> None:
    """Column widths come from content: every word of every cell fits its column (no "Recommendat/ion");
    the header row repeats on each page, in the engagement's colour; table text is 9 pt, never smaller."""
    from docx.oxml.ns import qn

    from leadjourney.reports.docx_layout import PAD, longest_word

    brand = gen["ws"].config.brand_color.lstrip("#").upper()
    for slug in SLUGS:
        doc = Document(str(gen["out"] / f"{slug}.docx"))
        assert doc.tables or slug == "faq", slug
        for table in doc.tables:
            grid = [int(c.get(qn("w:w"))) / 20 for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
            header = table.rows[0]
            assert header._tr.trPr is not None and header._tr.trPr.find(qn("w:tblHeader")) is not None, slug
            assert header.cells[0]._tc.tcPr.find(qn("w:shd")).get(qn("w:fill")) == brand
            for r, row in enumerate(table.rows):
                for c, cell in enumerate(row.cells):
                    need = PAD + longest_word(cell.text, 9.0, bold=r == 0)
                    assert need <= grid[c] + 0.5, (slug, cell.text, need, grid[c])
                    sizes = [run.font.size.pt for p in cell.paragraphs for run in p.runs if run.font.size]
                    assert all(s >= 9.0 for s in sizes), (slug, cell.text, sizes)
        heading = doc.styles["Heading 1"]
        assert str(heading.font.color.rgb) == brand


def test_docx_footers_number_pages_and_name_the_engagement_never_a_path(gen: dict[str, Any]) -> None:
    root = str(gen["ws"].root)
    name = gen["ws"].config.name
    for slug in SLUGS:
        doc = Document(str(gen["out"] / f"{slug}.docx"))
        footer = doc.sections[0].footer._element.xml
        assert "PAGE" in footer and "NUMPAGES" in footer and "fldChar" in footer, slug
        assert name in doc.sections[0].footer.paragraphs[0].text
        assert root not in _docx_xml(gen["out"] / f"{slug}.docx"), slug
        for ext in ("md", "html"):
            assert root not in text(gen, f"{slug}.{ext}"), (slug, ext)
        assert f"th {{ background: {gen['ws'].config.brand_color}; color: #FFFFFF" in text(gen, f"{slug}.html")


def test_wide_tables_and_the_map_get_landscape_pages_the_rest_portrait(gen: dict[str, Any]) -> None:
    from docx.enum.section import WD_ORIENT

    friction = Document(str(gen["out"] / "friction_ranking.docx"))
    orientations = [s.orientation for s in friction.sections]
    assert WD_ORIENT.LANDSCAPE in orientations and WD_ORIENT.PORTRAIT in orientations
    assert [s.orientation for s in Document(str(gen["out"] / "faq.docx")).sections] == [WD_ORIENT.PORTRAIT]
    # the map: each tile at a scale its text can be read at (>= the points per pixel the package asks for)
    from PIL import Image

    from leadjourney.reports.package import build_report

    need = min(build_report(gen["ws"]).legible.values())
    funnel = (gen["out"] / "funnel.png").read_bytes()
    tiles = []
    for shape in friction.inline_shapes:
        blob = friction.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        if blob != funnel:
            tiles.append(shape.width.pt / Image.open(io.BytesIO(blob)).width)
    assert 1 <= len(tiles) <= 2 and min(tiles) >= need * 0.98, (tiles, need)  # a page or two, legible


def test_people_read_display_names_not_raw_values_or_statistics(gen: dict[str, Any]) -> None:
    """The VP's documents name segments "Paid social (source)", never "source=paid_social"; p-values and
    finding ids only in the friction ranking's analyst appendix."""
    import re

    for slug in ("friction_ranking", "recommendations", "faq", "personas"):
        body = text(gen, f"{slug}.md").split("## Appendix", 1)[0]
        assert not re.search(r"\b(persona|source)=", body), slug
        assert "adjusted p" not in body, slug
        assert "`friction:" not in body and "`conversion:" not in body, slug
    friction = text(gen, "friction_ranking.md")
    assert "adjusted p" in friction.split("## Appendix: for the analyst", 1)[1]


def test_persona_cards_say_who_what_where_and_what_to_change(gen: dict[str, Any]) -> None:
    from leadjourney.display import display_name

    personas = text(gen, "personas.md")
    names = [line[3:] for line in personas.splitlines() if line.startswith("## ") and line != "## About the numbers"]
    assert names and all("_" not in n for n in names)
    for name in names:
        card = personas.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
        for question in ("**Who:**", "**What they engage with:**", "**Where they stall:**", "**What to change:**"):
            assert question in card, (name, question)
        assert card.index("**What to change:**") < card.index("| Transition |")  # the card, then its tables
    ws: Workspace = gen["ws"]
    assert sorted(names) == sorted(display_name(p.name) for p in ws.config.personas)
    assert "Kaplan-Meier" not in personas and "adj. p" not in personas
    for jargon in ("z-test", "Holm", "min_n", "survival estimate"):  # "About the numbers" and the content table
        assert jargon not in personas, jargon


def test_definitions_give_entry_and_exit_per_stage_and_one_sign_off_table(gen: dict[str, Any]) -> None:
    doc = text(gen, "definitions.md")
    stages = [s["stage"] for s in gen["analysis"]["funnel"]["stages"]]
    table = doc.split("## Stages", 1)[1].split("\n## ", 1)[0]
    assert "| Stage | What it means | Enters when | Leaves when |" in table
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Stage")]
    assert [r.split(" | ")[0][2:] for r in rows] == stages
    assert f"it becomes {stages[1]}" in rows[0] and "the end of the funnel" in rows[-1]
    # a VP's document says what is missing in words; the configuration hint is the analyst's (`definitions`)
    assert "[[" not in doc and "leadjourney.toml" not in doc
    undefined = [r for r in rows if "not defined yet" in r]
    assert undefined and all("to be written and agreed" in r for r in undefined)  # Customer: none in the template
    assert doc.count("| Term | Marketing | Sales | RevOps |") == 1  # one sign-off table, not one per term
    assert doc.count("## Sign-off") == 1
    # how to sign, in words: it ended "Record a signature with `leadjourney definitions approve TERM ...`"
    assert "leadjourney " not in doc and "`" not in doc and "the project's analyst" in doc


def test_faq_has_no_punctuation_artefacts(gen: dict[str, Any]) -> None:
    import re

    # "MQL → SQL (Content syndication (source)):" in the FAQ, recommendations and playbook; "10
    # recommendation(s)"; "31.3% (lower; ...) (not yet confirmed by stakeholders)" eight times over
    for slug in ("faq", "recommendations", "maintenance_playbook", "friction_ranking", "personas", "definitions"):
        body = text(gen, f"{slug}.md")
        assert not re.search(r"\([^()]*\([^()]*\)\)", body), (slug, re.search(r"\([^()]*\([^()]*\)\)", body))
        assert not re.search(r"\w\(s\)", body), (slug, re.search(r".{30}\w\(s\)", body))
    faq = text(gen, "faq.md")
    assert ") (" not in faq.split("Which channels bring the best leads?", 1)[1].split("\n## ", 1)[0]
    assert not re.search(r"\.[;.,]|;\s*;|,\s*,|\(\s*\)|\s[.,;]", faq.replace("...", "")), \
        re.search(r"\.[;.,]|;\s*;|,\s*,|\(\s*\)|\s[.,;]", faq.replace("...", ""))


def test_labels_in_the_config_rename_values_in_every_document(gen: dict[str, Any], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(gen["ws"].root, copy, ignore=shutil.ignore_patterns("out"))
    toml = copy / "leadjourney.toml"
    config = toml.read_text("utf-8")
    entries = 'paid_social = "LinkedIn & Meta ads"\nMQL = "Marketing-qualified"\n'
    toml.write_text(config.replace("\n[labels]\n", f"\n[labels]\n{entries}", 1) if "\n[labels]\n" in config
                    else f"{config}\n[labels]\n{entries}", "utf-8")
    ok("report", str(copy), "--format", "md")
    out = copy / "out" / "report"
    friction = (out / "friction_ranking.md").read_text("utf-8").split("## Appendix", 1)[0]
    assert "LinkedIn & Meta ads (source)" in friction and "Paid social" not in friction
    assert "Marketing-qualified → " in friction
    personas = (out / "personas.md").read_text("utf-8")
    assert "LinkedIn & Meta ads" in personas and "paid_social" not in personas
    assert "Marketing-qualified" in (out / "definitions.md").read_text("utf-8")


def test_documents_for_people_carry_no_iso_timestamps(gen: dict[str, Any]) -> None:
    """"(computed 2026-12-07T12:33:30)" in the FAQ, friction ranking, recommendations and playbook."""
    for name in ("faq.md", "friction_ranking.md", "recommendations.md", "maintenance_playbook.md"):
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text(gen, name)), name
