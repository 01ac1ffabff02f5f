"""Paths: the hand-made workspace of test_touchpoints.py, the generator's planted journeys, the Sankey."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import SharedGenerated, generated_workspace
from leadjourney.analysis.dark_leads import DarkLeads
from leadjourney.analysis.journeys import Filters, Journeys, open_journeys
from leadjourney.analysis.paths import RE_ENGAGED, Paths, Variant
from leadjourney.generate import Dirt
from leadjourney.journeymap.sankey import COLORS, flows, outcome_name, to_html, write_sankey
from leadjourney.workspace import Workspace
from test_touchpoints import AS_OF, NOW, hand_workspace

STAGES = ("Lead", "MQL", "SQL", "Opportunity", "Customer")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return hand_workspace(tmp_path_factory.mktemp("small") / "ws")


@pytest.fixture(scope="module")
def small_journeys(small: Workspace) -> Iterator[Journeys]:
    with open_journeys(small, now=NOW) as journeys:
        yield journeys


@pytest.fixture(scope="module")
def paths(small_journeys: Journeys) -> Paths:
    return Paths().fit(small_journeys)


def _counts(variants: list[Variant]) -> dict[tuple[tuple[str, ...], str], int]:
    return {(v.stages, v.outcome): v.people for v in variants}


def test_variants_by_hand(paths: Paths) -> None:
    assert paths.as_of == AS_OF and paths.dark_after_days == 30
    # E: MQL and SQL at one instant (configured order); G: undated MQL sorts before its SQL
    assert _counts(paths.variants) == {
        (("Lead", "MQL", "SQL", "Opportunity"), "open"): 1,  # A: re-engaged, no longer silent
        (("Lead", "MQL"), "dark"): 1,  # B
        (("Lead",), "disqualified"): 1,  # C
        (STAGES, "won"): 1,  # D (status converted, and reached the last stage)
        (("Lead", "MQL", "SQL"), "dark"): 2,  # E, G (G never touched: silent since creation)
        (("Lead",), "open"): 1,  # F: created a week before the as-of date
    }
    assert paths.variants[0].stages == ("Lead", "MQL", "SQL") and paths.variants[0].share == pytest.approx(2 / 7)
    days = {(v.stages, v.outcome): v.median_days for v in paths.variants}
    assert days[(("Lead", "MQL", "SQL"), "dark")] == pytest.approx(7.5)  # E 7 d, G 8 d
    assert days[(STAGES, "won")] == pytest.approx(19.0)
    assert days[(("Lead", "MQL", "SQL", "Opportunity"), "open")] == pytest.approx(83.0)
    assert paths.n_people == 7 and paths.n_variants == 6
    assert paths.outcomes == {"won": 1, "disqualified": 1, "closed": 0, "dark": 3, "open": 2}
    assert (paths.happy_path, paths.happy_people) == (STAGES, 1)
    assert paths.happy_share == pytest.approx(1 / 7)
    assert _counts(paths.dark_paths) == {(("Lead", "MQL"), "dark"): 1, (("Lead", "MQL", "SQL"), "dark"): 2}


def test_dark_and_re_engaged_agree_with_dark_leads(paths: Paths, small_journeys: Journeys) -> None:
    dark = DarkLeads().fit(small_journeys)
    assert paths.outcomes["dark"] == dark.n_dark
    assert paths.n_re_engaged == dark.n_re_engaged == 1
    # A: silent 01-11 -> 03-20, re-engaged by the webinar, then Opportunity on 03-25
    assert _counts(paths.re_engagement_paths) == {(("Lead", "MQL", "SQL", RE_ENGAGED, "Opportunity"), "open"): 1}


def test_top_and_threshold_are_options(small_journeys: Journeys) -> None:
    few = Paths(top=2, dark_after_days=100).fit(small_journeys)
    assert len(few.variants) == 2 and few.n_variants > 2
    assert few.outcomes["dark"] == 0 and few.n_re_engaged == 0  # nobody silent for 100 days


def test_sankey_by_hand(paths: Paths, tmp_path: Path) -> None:
    sankey = paths.sankey()
    links = {(link["source"], link["target"]): link["value"] for link in sankey["links"]}
    assert links == {
        ("Lead", "MQL"): 5, ("MQL", "SQL"): 4, ("SQL", "Opportunity"): 2, ("Opportunity", "Customer"): 1,
        ("Opportunity", "open"): 1, ("MQL", "dark"): 1, ("SQL", "dark"): 2,
        ("Lead", "disqualified"): 1, ("Lead", "open"): 1,
    }
    assert [n["name"] for n in sankey["nodes"]] == [*STAGES, "disqualified", "dark", "open"]
    # every person leaves the first stage once: onward or to an outcome (won paths end in Customer)
    out_of_lead = sum(v for (a, _), v in links.items() if a == "Lead")
    assert out_of_lead == paths.n_people
    html = write_sankey(paths, tmp_path / "paths.html", "acme: paths").read_text("utf-8")
    assert "<script" not in html and not re.search(r"\b(src|href)=", html)  # nothing fetched: works offline
    data = json.loads(json.dumps(paths.to_dict()))
    assert data["happy_path"]["people"] == 1 and data["re_engagement"]["people"] == 1
    assert "Re-engagement paths (1 people)" in paths.to_markdown()


def test_empty_selection(small: Workspace) -> None:
    with open_journeys(small, Filters(date_from=date(2027, 1, 1)), NOW) as journeys:
        empty = Paths().fit(journeys)
    assert (empty.n_people, empty.n_variants, empty.happy_share, empty.variants) == (0, 0, None, [])
    assert empty.sankey() == {"nodes": [], "links": []}


# ------------------------------------------------------------------ the generator's truth


@pytest.fixture(scope="module")
def clean(shared_generated: SharedGenerated) -> tuple[Workspace, Path]:
    """The run's shared clean 8,000-lead set (the analysis tests' planted truth), read only."""
    ws, data = shared_generated(n_leads=8000, seed=5, end=date(2026, 6, 30), days=150, dirt=Dirt.none())
    return ws, data.out_dir


def _seconds(values: list[datetime | None]) -> np.ndarray:
    epoch = datetime(1970, 1, 1)
    return np.array([(v.replace(tzinfo=None) - epoch).total_seconds() if v is not None else np.nan for v in values])


def _planted(out_dir: Path, as_of: datetime) -> tuple[Counter[Any], Counter[Any]]:
    """Variants and re-engagement variants from the planted timestamps, statuses and touchpoints."""
    t = pq.read_table(out_dir / "ground_truth_leads.parquet").to_pydict()
    touches = pq.read_table(out_dir / "touchpoints.parquet", columns=["lead_id", "occurred_at"]).to_pydict()
    at = np.column_stack([_seconds(t[c]) for c in ("lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at")])
    last_touch: dict[str, float] = {}
    for lead, s in zip(touches["lead_id"], _seconds(touches["occurred_at"]), strict=True):
        last_touch[lead] = max(s, last_touch.get(lead, -np.inf))
    cutoff = (as_of - timedelta(days=30) - datetime(1970, 1, 1)).total_seconds()
    created, back = _seconds(t["created_at"]), _seconds(t["re_engaged_at"])
    variants: Counter[Any] = Counter()
    re_variants: Counter[Any] = Counter()
    for i, lead in enumerate(t["lead_id"]):
        steps = sorted((at[i, s], s) for s in range(5) if not np.isnan(at[i, s]))
        if not np.isnan(at[i, 4]):
            outcome = "won"
        elif t["status"][i] == "disqualified":
            outcome = "disqualified"
        elif t["status"][i] == "converted":
            outcome = "closed"
        elif last_touch.get(lead, created[i]) <= cutoff:
            outcome = "dark"
        else:
            outcome = "open"
        variants[(tuple(STAGES[s] for _, s in steps), outcome)] += 1
        if not np.isnan(back[i]):
            marked = sorted([*steps, (back[i], 5)])
            re_variants[(tuple(STAGES[s] if s < 5 else RE_ENGAGED for _, s in marked), outcome)] += 1
    return variants, re_variants


def test_variants_equal_the_planted_journeys(clean: tuple[Workspace, Path]) -> None:
    ws, out_dir = clean
    with open_journeys(ws, now=NOW) as journeys:
        paths = Paths(top=1000).fit(journeys)
        dark = DarkLeads().fit(journeys)
    assert paths.as_of is not None
    assert (paths.outcomes["dark"], paths.n_re_engaged) == (dark.n_dark, dark.n_re_engaged)
    variants, re_variants = _planted(out_dir, paths.as_of)
    assert Counter(_counts(paths.all_variants)) == variants
    assert _counts(paths.variants) == _counts(paths.all_variants)  # top=1000 keeps them all
    assert Counter(_counts(paths.re_engagement_paths)) == re_variants
    truth = json.loads((out_dir / "ground_truth.json").read_text())["realized"]
    assert paths.n_re_engaged == truth["dark"]["re_engaged"]
    assert paths.happy_people == variants[(STAGES, "won")] == truth["reached"]["Customer"]
    assert paths.n_people == truth["leads"] and sum(v.share for v in paths.all_variants) == pytest.approx(1.0)


def test_median_duration_equals_numpy(clean: tuple[Workspace, Path]) -> None:
    ws, out_dir = clean
    with open_journeys(ws, now=NOW) as journeys:
        paths = Paths().fit(journeys)
    t = pq.read_table(out_dir / "ground_truth_leads.parquet").to_pydict()
    lead, mql, customer = _seconds(t["lead_at"]), _seconds(t["mql_at"]), _seconds(t["customer_at"])
    won = ~np.isnan(customer)
    happy = next(v for v in paths.all_variants if v.outcome == "won")
    assert happy.median_days == pytest.approx(float(np.median((customer[won] - lead[won]) / 86400)), rel=1e-9)
    status = np.array(t["status"])
    stuck = (status == "disqualified") & ~np.isnan(mql) & np.isnan(_seconds(t["sql_at"]))
    variant = next(v for v in paths.all_variants if (v.stages, v.outcome) == (("Lead", "MQL"), "disqualified"))
    assert variant.people == int(stuck.sum())
    assert variant.median_days == pytest.approx(float(np.median((mql[stuck] - lead[stuck]) / 86400)), rel=1e-9)
    assert re.fullmatch(r"Lead( → \w+)* ⇒ \w+", paths.variants[0].label)


def _svg_parts(html: str) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
    """The Sankey's flows (paths), nodes (rects) and texts, each as its attributes (texts with their text)."""
    from html import unescape

    def attrs(tag: str) -> dict[str, str]:
        return {k: unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}

    svg = html[html.index("<svg"):html.index("</svg>")]
    bands = [attrs(t) for t in re.findall(r'<path class="flow"[^>]*>', svg)]
    nodes = [attrs(t) for t in re.findall(r'<rect class="node"[^>]*>', svg)]
    texts = [attrs(t) | {"text": unescape(x)} for t, x in re.findall(r"(<text[^>]*>)([^<]*)</text>", svg)]
    return bands, nodes, texts


def test_sankey_counts_on_every_flow_and_node_coloured_outcomes_display_names(paths: Paths) -> None:
    labels = {"MQL": "Marketing qualified", "Opportunity": "Deal"}
    html = to_html(paths, "Acme <EU>: paths", labels, "#7B1FA2")
    bands, nodes, texts = _svg_parts(html)
    found = flows(paths)
    # every step of every path and every ending is a band: won included, people conserved
    assert sorted((b["data-source"], b["data-target"], int(b["data-value"])) for b in bands) == sorted(
        (f.source, f.target, f.value) for f in found)
    assert sum(f.value for f in found if f.target in COLORS) == paths.n_people == 7
    assert {f.target: f.value for f in found if f.target == "won"} == {"won": paths.outcomes["won"]}
    # coloured outcomes: won green, lost red, dark amber, open grey; bands take their outcome's colour
    fill = {n["data-node"]: n["fill"] for n in nodes}
    assert (fill["won"], fill["disqualified"], fill["dark"], fill["open"]) == (
        "#188038", "#C5221F", "#B06000", "#9AA0A6")
    assert all(b["fill"] == COLORS[b["data-target"]] for b in bands if b["data-target"] in COLORS)
    # the count of each flow written beside it, each node's people and share, by display names
    for f in found:
        shown = [t["text"] for t in texts if (t["data-source"], t["data-target"]) == (f.source, f.target)]
        assert shown and shown[0].split()[0] == f"{f.value:,}", (f, shown)
    for n in nodes:
        own = [t["text"] for t in texts if t["data-source"] == n["data-node"] and not t["data-target"]]
        share = int(n["data-value"]) / paths.n_people
        assert f"{int(n['data-value']):,} ({100 * share:.1f}%)" in own, own
    names = {t["text"] for t in texts if not t["data-target"]}
    assert {"Marketing qualified", "Deal", "Lead", "Won", "Disqualified", "Still open",
            outcome_name("dark", paths.dark_after_days)} <= names and "MQL" not in names
    # no two texts overlap
    boxes = [(float(t["data-left"]), float(t["y"]) - float(t["font-size"]), float(t["data-width"]),
              1.3 * float(t["font-size"])) for t in texts]
    for i, (x, y, w, h) in enumerate(boxes):
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert not (x < x2 + w2 and x2 < x + w and y < y2 + h2 and y2 < y + h), (texts[i], (x2, y2))
    # the title escaped, in the engagement's colour; every flow in the table too
    assert "<title>Acme &lt;EU&gt;: paths</title>" in html and "#7B1FA2" in html and "<EU>" not in html
    assert html.count("<tr><td>") == len(found)


@pytest.mark.slow  # end to end, several seconds: make test-integration
@pytest.mark.parametrize("seed", [1, 2])
def test_sankey_of_generated_journeys_has_no_overlapping_labels(tmp_path: Path, seed: int) -> None:
    ws, _ = generated_workspace(tmp_path / "ws", n_leads=1500, seed=seed, end=date(2026, 6, 30), days=120)
    with open_journeys(ws, now=datetime(2026, 7, 1)) as journeys:
        found = Paths().fit(journeys)
    bands, nodes, texts = _svg_parts(to_html(found, "paths"))
    assert len(bands) == len(flows(found)) and {n["data-node"] for n in nodes} >= {"Lead", "won"}
    boxes = [(float(t["data-left"]), float(t["y"]) - float(t["font-size"]), float(t["data-width"]),
              1.3 * float(t["font-size"])) for t in texts]
    for i, (x, y, w, h) in enumerate(boxes):
        assert x >= 0 and x + w <= 1280
        for x2, y2, w2, h2 in boxes[i + 1:]:
            assert not (x < x2 + w2 and x2 < x + w and y < y2 + h2 and y2 < y + h), (texts[i]["text"], (x2, y2))
