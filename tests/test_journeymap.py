"""The journey map: model equals the analysis, the layout stays readable, every format is well formed."""

from __future__ import annotations

import csv
import io
import itertools
import re
import struct
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, datetime
from html import escape, unescape
from pathlib import Path
from typing import Any

import ibis
import pytest
from PIL import Image

from conftest import SharedGenerated, chromium_page, needs_browser
from leadjourney.analysis import Analysis, Filters, Journeys, analyze
from leadjourney.analysis.findings import CONFIRMED, CORRECTED, Finding, findings_of
from leadjourney.analysis.persona_profiles import PersonaProfiles
from leadjourney.analysis.touchpoints import TouchpointInventory, TouchpointRow
from leadjourney.errors import LeadJourneyError
from leadjourney.escape import mermaid_label
from leadjourney.journeymap import (
    JourneyMap,
    Lane,
    MapError,
    TouchpointCard,
    build_map,
    lay_out,
    overlaps,
    to_drawio,
    to_html,
    to_mermaid,
    to_miro_csv,
    to_png,
    to_svg,
    write_map,
)
from leadjourney.journeymap.render import FORMATS
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def ws(shared_generated: SharedGenerated) -> Workspace:
    """The run's shared 3,000-lead set, read only (the maps are built in memory or written to tmp_path)."""
    return shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)[0]


@pytest.fixture(scope="module")
def analysis(ws: Workspace) -> Analysis:
    return analyze(ws, now=NOW)


@pytest.fixture(scope="module")
def touchpoints(ws: Workspace) -> list[TouchpointRow]:
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, Filters(), NOW)
        try:
            return TouchpointInventory().fit(journeys).rows
        finally:
            journeys.release()


@pytest.fixture(scope="module")
def personas(ws: Workspace) -> PersonaProfiles:
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, Filters(), NOW)
        try:
            return PersonaProfiles().fit(journeys)
        finally:
            journeys.release()


@pytest.fixture(scope="module")
def jm(ws: Workspace, analysis: Analysis, touchpoints: list[TouchpointRow],
       personas: PersonaProfiles) -> JourneyMap:
    findings = [replace(f, status=CONFIRMED, note="agreed at kickoff") if f.finding_id == "conversion:MQL->SQL"
                else f for f in findings_of(analysis)]
    return build_map(analysis, touchpoints, config=ws.config, personas=personas, findings=findings,
                     ideal={"MQL->SQL": 0.3, "Lead -> MQL": 0.45})


# ------------------------------------------------------------------ the model


def test_conversion_numbers_equal_the_analysis_json(jm: JourneyMap, analysis: Analysis) -> None:
    funnel = analysis.to_dict()["funnel"]["transitions"]
    assert [c.key for c in jm.conversions] == [f"{t['from']}->{t['to']}" for t in funnel]
    for c, t in zip(jm.conversions, funnel, strict=True):
        assert (c.entered, c.converted, c.rate, c.ci_low, c.ci_high) == (
            t["entered"], t["converted"], t["rate"], t["ci_low"], t["ci_high"])
    times = {(r["from"], r["to"]): r for r in analysis.to_dict()["time_in_stage"]["transitions"]}
    for c in jm.conversions:
        row = times[(c.from_stage, c.to_stage)]
        assert c.median_days == (row["km_median_days"] if row["km_median_reached"] else row["median_days"])
        assert c.median_is_km == row["km_median_reached"]
    assert jm.n_people == analysis.to_dict()["n_people"]
    assert [(s.name, s.reached) for s in jm.stages] == [
        (s["stage"], s["reached"]) for s in analysis.to_dict()["funnel"]["stages"]]


def test_drop_offs_carry_their_recoverable_revenue(jm: JourneyMap, analysis: Analysis) -> None:
    data = analysis.to_dict()
    assert len(jm.drop_offs) == len(data["drop_offs"]) > 0
    rows = {(r["from"], r["to"], r["segment"]): r for r in data["friction"]["rows"]}
    for d, raw in zip(jm.drop_offs, data["drop_offs"], strict=True):
        assert (d.from_stage, d.to_stage, d.segment, d.rate) == (raw["from"], raw["to"], raw["segment"], raw["rate"])
        # the map shows the recoverable revenue (the gap to the named target), not the value of all drop-offs
        assert d.revenue_impact == rows[(d.from_stage, d.to_stage, d.segment)]["recoverable_per_year"]


def test_lanes_in_config_order_with_their_touchpoints(jm: JourneyMap, ws: Workspace,
                                                      touchpoints: list[TouchpointRow]) -> None:
    assert [lane.name for lane in jm.lanes] == list(ws.config.lanes)
    assert sum(len(lane.touchpoints) for lane in jm.lanes) == len(touchpoints)
    for lane in jm.lanes:
        assert all(t.lane == lane.name for t in lane.touchpoints)
        assert [t.volume for t in lane.touchpoints] == sorted((t.volume for t in lane.touchpoints), reverse=True)
    assert {t.automated for lane in jm.lanes for t in lane.touchpoints} == {True, False}


def test_finding_marks_targets_and_personas(jm: JourneyMap, analysis: Analysis, personas: PersonaProfiles) -> None:
    confirmed = jm.conversion("MQL->SQL")
    assert confirmed.mark is not None and confirmed.mark.status == CONFIRMED and not confirmed.mark.stale
    # findings are made of judged numbers only: a rate still converting (young) or too few carries none
    assert {c.key for c in jm.conversions if not c.status.judged} >= {"Lead->MQL"}
    assert all((c.mark is not None and c.mark.status in ("ASSUMED", CONFIRMED)) == c.status.judged
               for c in jm.conversions)
    first = jm.conversion("Lead->MQL")
    assert all(d.mark is not None for d in jm.drop_offs)
    assert jm.dark.mark is not None
    assert first.target == 0.45 and first.gap == pytest.approx(first.rate - 0.45)
    assert jm.conversion("SQL->Opportunity").target is None
    # the planted personas convert differently (the analysis's persona test says where), so lanes are shown
    significant = {(c.source, f"{c.from_stage}->{c.to_stage}"): c.direction
                   for c in analysis.personas.conversion if c.significant}
    assert significant and jm.personas
    assert [lane.name for lane in jm.personas] == [p.persona for p in personas.profiles if p.people]
    shown = {(lane.name, p.key): p.differs for lane in jm.personas for p in lane.points if p.differs}
    assert shown == significant


def test_stale_marks_and_same_journeys(ws: Workspace, analysis: Analysis, personas: PersonaProfiles) -> None:
    stale = Finding("conversion:MQL->SQL", "conversion", "old", 0.5, 10, CORRECTED, "it is 30% in Salesforce")
    one = PersonaProfiles(profiles=personas.profiles[:1])
    same = build_map(analysis, [], config=ws.config, personas=one, findings=[stale])
    mark = same.conversion("MQL->SQL").mark
    assert mark is not None and mark.stale and mark.status == CORRECTED
    assert same.personas == () and same.persona_note is None  # one persona: nothing to compare
    assert any("ASSUMED" in c or "CORRECTED" in c for c in same.caveats)


@pytest.mark.parametrize(("ideal", "words"), [
    ({"MQL->Customer": 0.2}, "MQL->SQL"), ({"MQL->SQL": 30}, "between 0 and 1"), ({"MQL->SQL": True}, "0.3")])
def test_bad_targets_name_the_fix(ws: Workspace, analysis: Analysis, ideal: dict[str, Any], words: str) -> None:
    with pytest.raises(MapError, match=re.escape(words)):
        build_map(analysis, [], config=ws.config, ideal=ideal)


# ------------------------------------------------------------------ layout


def _synthetic(n: int, label_length: int = 12) -> JourneyMap:
    stages = ("Lead", "MQL", "SQL", "Opportunity", "Customer")
    lane_of = {"Lead": "Awareness", "MQL": "Consideration", "SQL": "Decision", "Opportunity": "Decision",
               "Customer": "Handoff"}
    from leadjourney.journeymap.model import ConversionPoint, DarkPath, DropOffPoint, StageNode

    lanes = []
    for lane in ("Awareness", "Consideration", "Decision", "Handoff", "Post-handoff"):
        own = tuple(s for s in stages if lane_of[s] == lane)
        cards = tuple(TouchpointCard(own[i % len(own)] if own else "Customer", lane,
                                     f"kind_{i}_" + "x" * label_length, f"channel_with_a_long_name_{i}", i % 3 == 0,
                                     10_000 - 37 * i, 5_000 - 11 * i) for i in range(n))
        lanes.append(Lane(lane, own, cards))
    convs = tuple(ConversionPoint(a, b, 1_000_000, 123_456, 0.123456, 0.12, 0.13, 12.3, i % 2 == 0, None, i + 1,
                                  12_345_678.0, "hypothesis", 0.2 if i % 2 else None)
                  for i, (a, b) in enumerate(itertools.pairwise(stages)))
    drops = tuple(DropOffPoint(a, b, f"source=a_really_long_source_name_{k}", 0.05, 0.06, 0.2,
                               "significantly below the other sources", 1e6, k, "h")
                  for a, b in itertools.pairwise(stages) for k in range(n // 5))
    return JourneyMap(
        "A long engagement name for a client with a very long company name " * 2, "leads created 2026-01-01 to "
        "2026-06-30", "2026-06-30T00:00:00", 1_000_000, "EUR", "stage_reach", tuple(lanes),
        tuple(StageNode(s, lane_of[s], 1_000_000 // (i + 1), 1_000 * i) for i, s in enumerate(stages)), convs, drops,
        DarkPath(30, 800_000, 123_456, 0.154, 80.5, dict.fromkeys(stages[:-1], 30_000) | {"Customer": 0},
                 40_000, {f"kind_{i}": 1_000 * i for i in range(8)}, 1_234),
        caveats=tuple(f"caveat number {i}: " + "words " * 40 for i in range(6)), has_targets=True,
    )


@pytest.mark.parametrize("n", [10, 30])
@pytest.mark.parametrize("width", [1920, 1280])
def test_no_text_overlaps_and_nothing_leaves_its_box(n: int, width: int) -> None:
    layout = lay_out(_synthetic(n), width=width)
    assert overlaps(layout) == []
    for box in layout.boxes:
        for line in box.lines:
            left, top, right, bottom = line.rect()
            assert box.x - 1 <= left and right <= box.right + 1, (box.id, line.text)
            if box.role not in ("band-title", "header"):
                assert box.y - 1 <= top and bottom <= box.bottom + 1, (box.id, line.text)
        assert box.x >= 0 and box.right <= layout.width and box.bottom <= layout.height, box.id
    cards = layout.role("touchpoint")
    more = layout.role("touch-more")
    if n == 10:
        assert len(cards) == 5 * 10 and not more  # every touchpoint of every lane is drawn
    else:
        assert more and all(int(b.data["hidden"]) > 0 for b in more)
        # what is drawn plus what is collapsed is everything
        assert len(cards) + sum(int(b.data["hidden"]) for b in more) == 5 * 30


def test_the_board_grows_with_the_touchpoints() -> None:
    assert lay_out(_synthetic(30)).height > lay_out(_synthetic(3)).height


# ------------------------------------------------------------------ formats


def test_svg_structure(jm: JourneyMap) -> None:
    svg = to_svg(lay_out(jm))
    root = ET.fromstring(svg)
    groups = list(root.iter(f"{SVG}g"))
    heads = [g for g in groups if "lane-head" in g.get("class", "").split()]
    assert [g.get("data-lane") for g in heads] == [lane.name for lane in jm.lanes]
    drops = [g for g in groups if g.get("class", "").split()[0] == "dropoff"]
    more = [g for g in groups if g.get("class", "").split()[0] == "dropoff-more"]
    drawn = [(g.get("data-key"), g.get("data-segment")) for g in drops]
    drawn += [(g.get("data-key"), s) for g in more for s in g.get("data-segments", "").split(",")]
    assert sorted(drawn) == sorted((d.key, d.segment or "") for d in jm.drop_offs)  # each one, once
    assert all(g.find(f"{SVG}rect").get("stroke") == "#D32F2F" for g in more)  # type: ignore[union-attr]
    for g in drops:
        rect = g.find(f"{SVG}rect")
        assert rect is not None and rect.get("stroke") == "#D32F2F"
        assert g.find(f"{SVG}title") is not None
    convs = {g.get("data-key"): g for g in groups if g.get("class", "").split()[0] == "conversion"}
    for c in jm.conversions:
        g = convs[c.key]
        assert float(g.get("data-rate", "nan")) == c.rate and int(g.get("data-entered", -1)) == c.entered
        texts = [t.text for t in g.iter(f"{SVG}text")]
        assert f"{100 * c.rate:.1f}%" in texts  # type: ignore[operator]
    assert [t.text for t in root.iter(f"{SVG}text")].count("HUMAN") > 0


def test_html_is_self_contained_and_interactive(jm: JourneyMap) -> None:
    html = to_html(lay_out(jm), jm)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", html, re.I)
    assert "<script>" in html and "data-tip" in html and "mousemove" in html
    assert 'id="lj-tip"' in html
    for c in jm.conversions:
        assert f'data-key="{c.key}"' in html.replace("&gt;", ">")


def _drawio_cells(xml: str) -> list[tuple[ET.Element, ET.Element]]:
    """(holder, mxCell) in file order: the holder carries id and label (a UserObject, or the mxCell itself)."""
    root = ET.fromstring(xml)
    assert root.tag == "mxfile"
    model = root.find("diagram/mxGraphModel/root")
    assert model is not None
    out = []
    for node in model:
        assert node.tag in ("mxCell", "UserObject"), node.tag
        cell = node if node.tag == "mxCell" else node.find("mxCell")
        assert cell is not None and (node is cell or cell.get("id") is None)
        out.append((node, cell))
    return out


def _plain(label: str | None) -> str:
    return re.sub(r"<br>", "\n", re.sub(r"<(?!br>)[^>]+>", "", label or "")).replace("&amp;", "&")


def test_drawio_is_valid(jm: JourneyMap) -> None:
    layout = lay_out(jm)
    cells = _drawio_cells(to_drawio(layout))
    ids = [node.get("id") for node, _ in cells]
    assert ids[:2] == ["0", "1"] and len(ids) == len(set(ids))
    known = set(ids)
    seen: set[str | None] = set()
    for node, cell in cells:
        if node.get("id") != "0":
            assert cell.get("parent") in seen, "a parent comes before its children"
        seen.add(node.get("id"))
        if cell.get("vertex") == "1":
            geo = cell.find("mxGeometry")
            assert geo is not None and geo.get("as") == "geometry"
            assert float(geo.get("width", 0)) > 0 and float(geo.get("height", 0)) > 0
        if cell.get("edge") == "1":
            assert cell.get("source", "") in known | {""} and cell.get("target") in known
            geo = cell.find("mxGeometry")
            assert geo is not None
            if cell.get("source") is None:
                assert geo.find("mxPoint[@as='sourcePoint']") is not None
    lanes = [(n, c) for n, c in cells if c.get("style", "").startswith("swimlane")]
    assert [_plain(n.get("label", n.get("value"))).split("\n")[0] for n, _ in lanes] == \
        [lane.name.upper() for lane in jm.lanes]
    drops = [c for _, c in cells if "role=dropoff" in c.get("style", "")]  # each drop-off, or "+k more" of them
    assert len(drops) == min(len(jm.drop_offs), len(layout.role("dropoff", "dropoff-more")))
    assert drops
    assert all("strokeColor=#D32F2F" in c.get("style", "") for c in drops)
    flows = [c for _, c in cells if c.get("edge") == "1" and c.get("value")]  # a lane holds its own
    flows.sort(key=lambda c: int(c.get("source", "c0")[1:]))  # stages are written in funnel order
    assert [c.get("value") for c in flows] == [f"{100 * c.rate:.1f}%" for c in jm.conversions]  # type: ignore[operator]


def test_drawio_text_sits_where_the_layout_puts_it(jm: JourneyMap) -> None:
    """Every text line is a text cell in its box, aligned by its anchor; tooltips are draw.io's (UserObject)."""
    layout = lay_out(jm)
    cells = _drawio_cells(to_drawio(layout))
    by_id = {n.get("id"): (n, c) for n, c in cells}

    def origin(cell_id: str | None) -> tuple[float, float]:
        x = y = 0.0
        while cell_id in by_id and (geo := by_id[cell_id][1].find("mxGeometry")) is not None:
            x, y = x + float(geo.get("x", 0)), y + float(geo.get("y", 0))
            cell_id = by_id[cell_id][1].get("parent")
        return x, y

    boxes = [b for b in layout.boxes if b.role != "lane-head"]
    texts: dict[str | None, list[tuple[ET.Element, ET.Element]]] = {}
    for node, cell in cells:
        if cell.get("style", "").startswith("text;"):
            texts.setdefault(cell.get("parent"), []).append((node, cell))
    assert sum(map(len, texts.values())) == sum(len(b.lines) for b in boxes)
    for i, box in enumerate(boxes):
        assert [n.get("value") for n, _ in texts.get(f"c{i + 2}", [])] == [escape(t.text) for t in box.lines]
        for (node, cell), line in zip(texts.get(f"c{i + 2}", []), box.lines, strict=True):
            geo = cell.find("mxGeometry")
            assert geo is not None
            x, y = origin(node.get("id"))
            w, h = float(geo.get("width", 0)), float(geo.get("height", 0))
            edge = {"start": x, "middle": x + w / 2, "end": x + w}[line.anchor]
            assert abs(edge - line.x) < 0.2, (line.text, edge, line.x)
            assert y < line.y < y + h  # the baseline inside the line's box
            assert f"fontSize={line.size:g};fontStyle={int(line.bold)};" in cell.get("style", "")
    tips = {unescape(n.get("tooltip", "")) for n, _ in cells if n.tag == "UserObject"}  # draw.io reads HTML
    assert tips == {b.tooltip for b in layout.boxes if b.tooltip and b.role != "lane-head"}
    assert not any(c.get("tooltip") for _, c in cells)


def test_mermaid_has_a_subgraph_per_lane(jm: JourneyMap) -> None:
    text = to_mermaid(jm)
    assert "flowchart LR" in text
    assert re.findall(r'subgraph \w+\["([^"]*)"\]', text) == [lane.name for lane in jm.lanes]
    assert text.count("subgraph") == text.count("\n  end")
    assert "classDef dropoff" in text and text.count(":::dropoff") == len(jm.drop_offs)
    for c in jm.conversions:
        assert f"{100 * c.rate:.1f}%" in text  # type: ignore[operator]
    for line in text.splitlines():  # every label is quoted, and no quote inside one is left raw
        for label in re.findall(r'\["(.*?)"\]', line):
            assert '"' not in label


def test_mermaid_escapes_quotes(ws: Workspace, analysis: Analysis) -> None:
    row = TouchpointRow("Lead", "Awareness", 'say "hi" #1', "email", True, 5, 3, None, 0, 0, None, None, None,
                        None, None)
    text = to_mermaid(build_map(analysis, [row], config=ws.config))
    assert "Say #quot;hi#quot; #35;1" in text  # the display name: first letter capital


def test_miro_csv_cards(jm: JourneyMap) -> None:
    rows = list(csv.DictReader(io.StringIO(to_miro_csv(jm))))
    assert rows and set(rows[0]) == {"Title", "Description", "Lane", "Stage", "Type", "Tag", "Color", "Value"}
    types = [r["Type"] for r in rows]
    assert types.count("drop-off") == len(jm.drop_offs)
    assert types.count("conversion") == len(jm.conversions)
    assert types.count("touchpoint") == sum(len(lane.touchpoints) for lane in jm.lanes)
    assert all(r["Color"] == "#D32F2F" for r in rows if r["Type"] == "drop-off")
    assert {r["Lane"] for r in rows} <= {lane.name for lane in jm.lanes}


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_png_is_the_layout_at_scale_with_red_drop_offs(jm: JourneyMap, scale: float) -> None:
    layout = lay_out(jm)
    data = to_png(layout, scale=scale)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (round(layout.width * scale), round(layout.height * scale))
    image = Image.open(io.BytesIO(data)).convert("RGB")
    box = layout.role("dropoff")[0]
    x, y = round((box.x + 1) * scale), round((box.y + box.h / 2) * scale)  # on the card's red border
    r, g, b = image.getpixel((x, y))  # type: ignore[misc]
    assert r > 180 and g < 90 and b < 90


def test_write_map_writes_every_format(jm: JourneyMap, tmp_path: Path) -> None:
    paths = write_map(jm, tmp_path / "out", scale=1.0)
    assert [p.name for p in paths] == ["journey_map.html", "journey_map.svg", "journey_map.png",
                                       "journey_map.drawio", "journey_map.mmd", "journey_map_miro.csv"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert len(FORMATS) == len(paths)
    assert [p.name for p in write_map(jm, tmp_path, ["svg,mermaid"], stem="journey_map_seo")] == [
        "journey_map_seo.svg", "journey_map_seo.mmd"]


def test_unknown_format_names_the_valid_ones(jm: JourneyMap, tmp_path: Path) -> None:
    with pytest.raises(LeadJourneyError, match="unknown map format 'pdf'; choose from html, svg, png"):
        write_map(jm, tmp_path, ["png", "pdf"])
    assert not list(tmp_path.iterdir())


def test_public_api_is_sorted_and_complete() -> None:
    import inspect

    import leadjourney.journeymap as pkg

    assert pkg.__all__ == sorted(pkg.__all__)
    public = {n for n, v in vars(pkg).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public == set(pkg.__all__)



@needs_browser
def test_html_map_opens_offline_in_chromium_and_hover_shows_details(jm: JourneyMap, tmp_path: Path) -> None:
    path = tmp_path / "journey_map.html"
    path.write_text(to_html(lay_out(jm), jm), "utf-8")
    with chromium_page(width=1600, height=1000) as page:
        page.context.set_offline(True)
        outside: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        box = page.locator("svg g.dropoff").first.bounding_box()
        assert box is not None and box["width"] > 0
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tip = page.locator("#lj-tip")
        tip.wait_for(state="visible", timeout=5000)
        assert "DROP-OFF" in tip.inner_text().upper() or "drop" in tip.inner_text().lower()
        page.screenshot(path=str(tmp_path / "map.png"))
    assert outside == [] and errors == []


# ------------------------------------------------------------------ issue 17: what a VP reads


def _no_ellipsis(box: Any) -> bool:
    return not any("…" in line.text for line in box.lines)


def _lane_span(layout: Any, box: Any) -> tuple[float, float]:
    lane = layout.box(box.parent)
    return lane.x, lane.right


def test_default_lanes_put_the_handoff_in_handoff_and_say_what_fills_post_handoff(jm: JourneyMap) -> None:
    # the marketing-to-sales handoff (MQL -> SQL) enters the Handoff lane; won (Customer) closes Decision
    assert [lane.name for lane in jm.lanes] == ["Awareness", "Consideration", "Handoff", "Decision", "Post-handoff"]
    assert {s.name: s.lane for s in jm.stages} == {"Lead": "Awareness", "MQL": "Consideration", "SQL": "Handoff",
                                                   "Opportunity": "Decision", "Customer": "Decision"}
    layout = lay_out(jm)
    lanes = {b.data["lane"]: b.id for b in layout.role("lane")}
    for stage in jm.stages:  # each stage box inside its lane
        box = layout.box(f"stage-{stage.name}")
        assert box.parent == lanes[stage.lane]
        left, right = _lane_span(layout, box)
        assert left <= box.x and box.right <= right
    # Post-handoff has no stage: instead of an empty column, a note says which data would fill it
    notes = layout.role("empty-lane")
    assert [b.data["lane"] for b in notes] == ["Post-handoff"]
    text = " ".join(line.text for line in notes[0].lines)
    assert text.startswith("No data yet: stages after Customer") and "[[stages]]" not in text  # in words
    assert "touchpoints" in text and _no_ellipsis(notes[0]) and text == jm.empty_lane_plain("Post-handoff")
    note = jm.empty_lane_note("Post-handoff")  # the configuration hint: the tooltip and the analyst's formats
    assert '"Post-handoff" in [[stages]]' in note and notes[0].tooltip == note
    assert mermaid_label(note) in to_mermaid(jm)
    assert [r["Description"] for r in csv.DictReader(io.StringIO(to_miro_csv(jm))) if r["Type"] == "note"] == [note]


def test_the_cards_speak_to_a_vp_the_method_and_ids_in_their_tooltips(jm: JourneyMap) -> None:
    """The cards said "median 16.3 d (Kaplan-Meier)", "median 4.1 d* (completed only)", "recoverable $0/yr ·
    friction #9" and "add ... in [[stages]]": the method, finding ids and configuration belong in the tooltips'
    detail ("*" says "of those who moved on only", as the subtitle explains); a $0 recoverable (a transition at
    its target) is left out, as the deck's friction table leaves it out."""
    conversions = [replace(c, revenue_impact=0.0, friction_rank=9, median_is_km=False,
                           median_days=c.median_days or 4.0) if i == 0 else
                   replace(c, median_is_km=True, median_days=c.median_days or 3.0,
                           revenue_impact=c.revenue_impact or 12_000.0, friction_rank=c.friction_rank or 2)
                   for i, c in enumerate(jm.conversions)]
    layout = lay_out(replace(jm, conversions=tuple(conversions)))
    shown = "\n".join(t.text for t in layout.texts())
    jargon = ("Kaplan-Meier", "friction #", "[[", "z-test", "Holm", "naive", "completed only")
    assert any(line.text.startswith("median ") and line.text.endswith("*") for line in layout.texts())
    assert [line for line in shown.splitlines() if any(j in line for j in jargon)] == []
    tips = "\n".join(b.tooltip for b in layout.boxes if b.tooltip)
    assert "Kaplan-Meier" in tips and "friction #9" in tips and "[[stages]]" in tips
    first = next(b for b in layout.role("conversion") if b.data["key"] == conversions[0].key)
    assert not any("recoverable" in line.text or "$0" in line.text for line in first.lines)
    priced = [c for c in conversions if c.revenue_impact]
    assert priced and all(any("recoverable" in line.text for line in box.lines)
                          for box in layout.role("conversion") if box.data["key"] in {c.key for c in priced})


def test_re_engaged_boxes_stay_in_their_stage_lane(jm: JourneyMap) -> None:
    layout = lay_out(jm)
    boxes = layout.role("reengaged")
    assert boxes and sum(int(b.data["count"]) for b in boxes) == jm.dark.n_re_engaged > 0
    assert sum(jm.dark.re_engaged_by_stage.values()) == jm.dark.n_re_engaged
    lanes = {b.id: b.data["lane"] for b in layout.role("lane")}
    for box in boxes:
        stage = box.data["stage"]
        assert lanes[str(box.parent)] == jm.lane_of(stage)
        left, right = _lane_span(layout, box)
        assert left <= box.x and box.right <= right, (stage, box.x, box.right, left, right)
        stage_box = layout.box(f"stage-{stage}")
        assert box.x < stage_box.x + stage_box.w / 2 < box.right  # under its stage


def test_touchpoint_bars_scale_per_lane() -> None:
    small = _synthetic(6)
    lanes = list(small.lanes)  # one lane with a thousandth of the others' volume
    lanes[1] = replace(lanes[1], touchpoints=tuple(replace(t, volume=max(1, t.volume // 1000))
                                                   for t in lanes[1].touchpoints))
    layout = lay_out(replace(small, lanes=tuple(lanes)))
    bars = [b for b in layout.role("bar") if b.id.startswith("touch-")]
    cards = {b.id: b for b in layout.role("touchpoint")}
    by_lane: dict[str, list[Any]] = {}
    for bar in bars:
        by_lane.setdefault(bar.data["lane"], []).append(bar)
    assert len(by_lane) == 5
    for rows in by_lane.values():
        scale = max(int(b.data["volume"]) for b in rows)
        assert {int(b.data["scale"]) for b in rows} == {scale}  # the busiest of its own lane
        for bar in rows:
            card = cards[bar.id.removesuffix("-bar")]
            full = card.w - 28
            assert bar.w == pytest.approx(max(2.0, full * int(bar.data["volume"]) / scale))
        assert max(b.w for b in rows) == pytest.approx(cards[rows[0].id.removesuffix("-bar")].w - 28)
    small_lane = by_lane[lanes[1].name]
    assert min(b.w for b in small_lane) > 0.5 * max(b.w for b in small_lane)  # visible, not 2 px stubs


def test_one_banner_instead_of_an_assumed_badge_on_every_card(jm: JourneyMap, analysis: Analysis,
                                                              ws: Workspace) -> None:
    assumed = sum(f.status == "ASSUMED" for f in findings_of(analysis)) - 1  # one was confirmed in the fixture
    assert jm.unconfirmed == assumed > 0
    layout = lay_out(jm)
    banners = layout.role("banner")
    assert len(banners) == 1 and banners[0].lines[0].text == f"{assumed} findings not yet confirmed by stakeholders"
    badges = layout.role("badge")
    assert [b.data["status"] for b in badges] == [CONFIRMED]  # the stakeholder's verdict, on its card only
    assert badges[0].data["finding"] == "conversion:MQL->SQL"
    assert not any("ASSUMED" in line.text for box in layout.boxes if box.role != "caveats" for line in box.lines)
    none_stored = build_map(analysis, [], config=ws.config, findings=[])
    assert none_stored.unconfirmed == len(findings_of(analysis))  # nothing confirmed yet: all of them


def test_drop_off_names_wrap_with_display_names() -> None:
    long = _synthetic(10)
    drops = tuple(replace(d, segment=f"persona=enterprise_it_{'and_more_' * (k % 2 + 2)}{k}")
                  for k, d in enumerate(long.drop_offs))
    jm2 = replace(long, drop_offs=drops)
    layout = lay_out(jm2, width=1280)
    cards = layout.role("dropoff", "dropoff-more")
    assert cards and all(_no_ellipsis(b) for b in cards)
    shown = [b for b in cards if b.role == "dropoff"]
    for box in shown:
        name = jm2.segment_name(box.data["segment"])
        assert name.startswith("Enterprise IT and more") and name.endswith("(persona)")
        assert " ".join(line.text for line in box.lines).replace("DROP-OFF · ", "").startswith(name)
    assert any(len(box.lines) > 2 and box.h > 50 for box in shown)  # a long name takes more lines: the card grows
    assert overlaps(layout) == []
    for box in cards:
        assert all(box.y <= line.rect()[1] and line.rect()[3] <= box.bottom + 1 for line in box.lines)


def test_display_names_in_every_human_output(jm: JourneyMap, tmp_path: Path) -> None:
    labels = {"email": "E-mail newsletter", "SQL": "Sales accepted", "smb_founder": "Founder-led SMB"}
    named = replace(jm, labels=labels)
    layout = lay_out(named)
    texts = [t.text for t in layout.texts()]
    assert "Sales accepted" in texts and "SQL" not in texts  # a stage's label
    assert any("· E-mail newsletter" in t for t in texts)  # a channel's
    assert any(t.startswith("Email send") for t in texts) and not any("email_send" in t for t in texts)
    personas = [b.lines[0].text for b in layout.role("persona-label")]
    assert "Founder-led SMB" in personas and "smb_founder" not in personas
    svg, html = to_svg(layout), to_html(layout, named)
    drawio, mermaid, miro = to_drawio(layout), to_mermaid(named), to_miro_csv(named)
    for text in (svg, html, drawio, mermaid, miro):
        assert "Sales accepted" in text and "E-mail newsletter" in text
        assert "email_send ·" not in text and "email_send" not in re.sub(r'data-kind="[^"]*"', "", text)
    assert "Founder-led SMB" in html and "Founder-led SMB" in svg
    rows = list(csv.DictReader(io.StringIO(miro)))
    assert {r["Stage"] for r in rows} >= {"Sales accepted"} and "SQL" not in {r["Stage"] for r in rows}
    # the numbers' data attributes keep the stored values for analysts
    assert 'data-stage="SQL"' in svg


@needs_browser
def test_html_map_zooms_and_pans(jm: JourneyMap, tmp_path: Path) -> None:
    path = tmp_path / "journey_map.html"
    path.write_text(to_html(lay_out(jm), jm), "utf-8")
    with chromium_page(width=1200, height=900) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        box = page.locator("#lj-map")
        svg = page.locator("#lj-map svg")

        def scale() -> float:
            return float(box.get_attribute("data-scale") or "nan")

        width = svg.bounding_box()["width"]  # type: ignore[index]
        page.get_by_role("button", name="Zoom in").click()
        assert scale() == pytest.approx(1.25) and page.locator("#lj-zoom-level").inner_text() == "125%"
        assert svg.bounding_box()["width"] == pytest.approx(1.25 * width, rel=0.01)  # type: ignore[index]
        page.keyboard.press("+")
        assert scale() == pytest.approx(1.5625, abs=1e-3)
        area = box.bounding_box()
        assert area is not None
        page.mouse.move(area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
        page.keyboard.down("Control")
        page.mouse.wheel(0, -300)  # Ctrl + wheel zooms in about the pointer
        page.keyboard.up("Control")
        page.wait_for_function("Number(document.getElementById('lj-map').dataset.scale) > 1.6")
        before = box.evaluate("b => [b.scrollLeft, b.scrollTop]")
        page.mouse.down()
        page.mouse.move(area["x"] + area["width"] / 2 - 200, area["y"] + area["height"] / 2 - 150, steps=5)
        page.mouse.up()  # dragging pans
        after = box.evaluate("b => [b.scrollLeft, b.scrollTop]")
        assert after[0] > before[0] and after[1] > before[1]
        box.focus()
        page.keyboard.press("ArrowLeft")
        assert box.evaluate("b => b.scrollLeft") < after[0]
        page.keyboard.press("0")  # back to the fitted width
        assert scale() == 1.0
        assert svg.bounding_box()["width"] == pytest.approx(width, rel=0.01)  # type: ignore[index]
        page.get_by_role("button", name="Zoom out").click()
        assert scale() == pytest.approx(0.8)
        page.screenshot(path=str(tmp_path / "zoomed.png"))
    assert errors == []


def test_money_on_the_map_reads_as_people_say_it(jm: JourneyMap) -> None:
    from leadjourney.display import money

    usd = replace(_synthetic(10), currency="USD")
    layout = lay_out(usd)
    outputs = {"layout": "\n".join(t.text for t in layout.texts()), "svg": to_svg(layout),
               "html": to_html(layout, usd), "drawio": to_drawio(layout), "mermaid": to_mermaid(usd),
               "miro": to_miro_csv(usd)}
    for name, text in outputs.items():
        if name != "mermaid":  # the flowchart names drop-offs only
            assert money(12_345_678.0, "USD") == "$12.3M" and "$12.3M" in text, name  # the conversion cards'
        assert "$1.0M" in text, name  # the drop-offs'
        assert not re.search(r"\d[kMB]? USD", text), (name, re.findall(r".{20}\d[kMB]? USD", text))
    # the real map: each drop-off card's recoverable revenue as the one formatter writes it
    shown = lay_out(jm).role("dropoff")
    assert shown
    for box in shown:
        value = float(box.data["revenue-impact"])
        text = " ".join(line.text for line in box.lines)
        assert f"{money(value, jm.currency)}/{jm.money_per} recoverable" in text, text


def test_a_conversion_not_yet_judged_says_why_in_full_and_the_caveats_end() -> None:
    from leadjourney.analysis.status import MetricStatus, Status

    base = _synthetic(10)
    why = MetricStatus(Status.YOUNG, "still converting: projected final 41.6% (41.1%-42.6%), observed so far "
                                         "39.7%; 10,290 of 19,800 still waiting, projected at the earlier cohorts' pace")
    convs = tuple(replace(c, status=why) if i == 1 else c for i, c in enumerate(base.conversions))
    last = "and this caveat ends with its final words"
    jm2 = replace(base, conversions=convs, caveats=(*base.caveats, "a long caveat: " + "words " * 80 + last))
    for width in (1920, 1280):
        layout = lay_out(jm2, width=width)
        assert overlaps(layout) == []
        card = layout.box(f"conversion-{convs[1].key}")
        text = " ".join(line.text for line in card.lines)
        assert why.text() in text  # wrapped, never cut
        assert not any("…" in line.text for line in card.lines if line.text in why.text() or "median" in line.text)
        assert sum(line.text in why.text() for line in card.lines) >= 3  # on several lines: the card grew
        for line in card.lines:
            assert card.y <= line.rect()[1] and line.rect()[3] <= card.bottom + 1, line.text
        # the row of conversion cards keeps one height
        assert {b.h for b in layout.role("conversion")} == {card.h}
        caveats = layout.box("caveats")
        assert " ".join(line.text for line in caveats.lines).endswith(last) and _no_ellipsis(caveats)
        assert all(line.rect()[3] <= caveats.bottom + 1 for line in caveats.lines)


def test_the_header_names_a_segments_drop_off_when_every_whole_transition_meets_its_target() -> None:
    """Red drop-off cards with money under a header saying "nothing recoverable" contradicted each other."""
    from leadjourney.display import money

    jm = _synthetic(10)
    met = replace(jm, conversions=tuple(replace(c, revenue_impact=None) for c in jm.conversions))
    worst = max(met.drop_offs, key=lambda d: d.revenue_impact or 0.0)
    met = replace(met, drop_offs=tuple(replace(d, revenue_impact=2_500_000.0) if d is worst else d
                                       for d in met.drop_offs))
    header = " ".join(t.text for b in lay_out(met).boxes if b.id == "header" for t in b.lines)
    assert "nothing recoverable" not in header
    assert (f"Biggest friction: {met.transition(worst.from_stage, worst.to_stage)}, "
            f"{met.segment_name(worst.segment)}, {money(2_500_000.0, met.currency)}/yr recoverable") in header
    none = replace(met, drop_offs=())
    assert "nothing recoverable" in " ".join(t.text for b in lay_out(none).boxes if b.id == "header" for t in b.lines)


@pytest.mark.parametrize("width", [1200, 1920])
def test_stage_names_shrink_to_fit_their_box_and_are_never_cut(width: int) -> None:
    """At 1,200 px (Word's map) the stage box read "Opportu…": the name shrinks to fit (down to 12 px), then
    wraps; the layout check above sees every line inside its box."""
    layout = lay_out(_synthetic(10), width=width)
    names = [[ln for ln in b.lines if ln.bold] for b in layout.role("stage")]
    assert [" ".join(ln.text for ln in n) for n in names] == ["Lead", "MQL", "SQL", "Opportunity", "Customer"]
    assert all(ln.size >= 12 for n in names for ln in n)


def test_a_campaigns_whole_name_wraps_in_its_card_and_the_persona_band_speaks_plainly() -> None:
    """The map read "E-MAIL CAMPAIGN · Product update: Q2 rele…" and "(two-proportion z-test, Holm-corrected)"."""
    from leadjourney.journeymap.build import PERSONA_RULE
    from leadjourney.journeymap.cards import marketing_card
    from leadjourney.journeymap.model import MarketingPoint

    name = "Product update: Q2 release notes and the new integrations"
    point = MarketingPoint("MQL", "Consideration", "e-mail campaign", name, "click rate", 0.066, 1_234, "people",
                           0.05, 0.08)
    box = marketing_card(point, 0, 0, 200, parent="lane", index=0)
    title = [ln.text for ln in box.lines if ln.bold and ln.size == 12][:3]
    assert " ".join(title) == f"E-MAIL CAMPAIGN · {name}" and not any("…" in ln.text for ln in box.lines)
    assert all(ln.rect()[3] <= box.bottom + 1 for ln in box.lines)
    assert "z-test" not in PERSONA_RULE and "Holm" not in PERSONA_RULE


def test_at_1200_px_the_map_shrinks_a_label_to_fit_before_it_cuts_it(jm: JourneyMap) -> None:
    """Word's 1,200 px map cut "Opportunity → Custo…", "1,220 of…", "POST-HANDO…" and its subtitle."""
    layout = lay_out(jm, width=1200)
    cut = [(b.id, ln.text) for b in layout.boxes for ln in b.lines if ln.text.endswith("…")
           and (b.role in ("conversion", "conversion-dropoff", "lane-head", "stage") or b.id == "header")]
    assert cut == []


def test_a_long_non_latin_persona_name_takes_two_lines_in_its_label_not_an_ellipsis(jm: JourneyMap) -> None:
    """The PNG drew "ИТ-директора пре…" and "Właściciele firm —…" beside the persona lanes."""
    from dataclasses import replace

    if not jm.personas:
        pytest.skip("this workspace's personas do not differ")
    names = ["ИТ-директора предприятий", "Właściciele firm — Łódź", "Διευθυντές λειτουργιών"]
    labels = {lane.name: names[i % 3] for i, lane in enumerate(jm.personas)}
    layout = lay_out(replace(jm, labels={**jm.labels, **labels}))
    for box in layout.role("persona-label"):
        drawn = " ".join(ln.text for ln in box.lines if ln.bold)
        assert drawn == labels[box.data["persona"]] and all(ln.rect()[3] <= box.bottom + 1 for ln in box.lines)


def test_the_maps_stamp_reads_as_a_time_without_a_command(jm: JourneyMap) -> None:
    """The stamp under the map said "at 2026-12-07T13:52:36; every number equals `leadjourney analyze --json`"."""
    stamp = next(b for b in lay_out(jm).boxes if b.id == "generated").lines[0].text
    assert stamp.startswith("Drawn by leadjourney on ") and "`" not in stamp and "--" not in stamp
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d", stamp), stamp


def test_a_drop_off_without_recoverable_revenue_says_why() -> None:
    """Unpriced revenue is withheld with the friction row's reason (the map's tooltip) and its kind (the deck's
    card), never left out silently."""
    from dataclasses import replace

    from leadjourney.analysis.status import young
    from leadjourney.journeymap.cards import drop_off_tooltip

    jm = _synthetic(10)
    assert jm.drop_offs
    drop = replace(jm.drop_offs[0], revenue_impact=None, revenue_status=young("the cohort is still converting"))
    assert "recoverable revenue: too young to judge: the cohort is still converting" in drop_off_tooltip(drop, jm)
