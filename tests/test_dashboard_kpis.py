"""The dashboard's header tiles, speed scale, display names, owners and the export's comparison panel."""

from __future__ import annotations

import html as html_module
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import SharedGenerated, copy_workspace
from leadjourney.analysis.findings import store
from leadjourney.analysis.journeys import Filters
from leadjourney.analysis.kpis import BASELINE, PREVIOUS
from leadjourney.analysis.report import Analysis, analyze
from leadjourney.analysis.status import Status
from leadjourney.dashboard import DashboardData, export_html
from leadjourney.dashboard.app import _layout, comparison_table, render
from leadjourney.dashboard.data import NO_DATES, previous_period
from leadjourney.dashboard.figures import speed_scale, speed_to_lead
from leadjourney.workspace import Workspace

BASELINE_TO = date(2026, 4, 30)
DATED = Filters(date(2026, 5, 1), date(2026, 6, 29))  # 60 days; the 60 before are in the data too


@pytest.fixture(scope="module")
def ws(shared_generated: SharedGenerated, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)
    ws = copy_workspace(shared, tmp_path_factory.mktemp("kpis") / "ws")
    store(ws, analyze(ws, filters=Filters(date_to=BASELINE_TO)), baseline=True)
    return ws


def open_pipeline(ws: Workspace, f: Filters, as_of: Any) -> tuple[int, float]:
    """Open deals with an amount of the people created in ``f``'s dates at ``as_of``, in plain SQL."""
    con = duckdb.connect(str(ws.database_path), read_only=True)
    try:
        row = con.execute("""
            SELECT count(*), coalesce(sum(o.amount), 0) FROM opportunities o
            JOIN leads l ON l.lead_id = o.lead_id
            JOIN leads p ON p.lead_id = l.person_id AND p.excluded_as IS NULL
            WHERE o.amount IS NOT NULL AND NOT coalesce(o.is_won, false)
              AND (o.created_at IS NULL OR o.created_at <= ?) AND (o.closed_at IS NULL OR o.closed_at > ?)
              AND (?::DATE IS NULL OR p.created_at >= ?::DATE) AND (?::DATE IS NULL OR p.created_at < ?::DATE + 1)
        """, [as_of, as_of, f.date_from, f.date_from, f.date_to, f.date_to]).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), float(row[1])


def test_the_tiles_are_the_analysis_figures_and_the_previous_period_is_its_own_analysis(ws: Workspace) -> None:
    view = DashboardData(ws, disk=False).view(DATED)
    a = analyze(ws, filters=DATED)
    before = analyze(ws, filters=previous_period(DATED))
    assert previous_period(DATED) == Filters(date(2026, 3, 2), date(2026, 4, 30))
    tiles = {t.key: t for t in view.tiles}
    assert [tiles[f"stage:{s.stage}"].value for s in a.funnel.stages] == [s.reached for s in a.funnel.stages]
    assert tiles["bookings"].value == pytest.approx(a.friction.won_amount) and a.friction.won_amount > 0
    n_open, amount = open_pipeline(ws, DATED, a.time_in_stage.as_of)
    assert (tiles["pipeline"].n, tiles["pipeline"].value) == (n_open, pytest.approx(amount)) and n_open > 0
    previous = {t.key: t.changes[0] for t in view.tiles}
    assert all(c.against == PREVIOUS for c in previous.values())
    # the previous period summed per segment equals its own analysis (same length: no scaling)
    assert [previous[f"stage:{s.stage}"].before for s in before.funnel.stages] == [s.reached for s in before.funnel.stages]
    assert previous["bookings"].before == pytest.approx(before.friction.won_amount)
    assert previous["pipeline"].before == pytest.approx(before.pipeline.open_amount)
    lead = previous[f"stage:{a.funnel.stages[0].stage}"]
    assert lead.status.judged and lead.ratio == pytest.approx(a.n_people / before.n_people - 1)


def test_a_change_that_is_not_judged_says_why_and_shows_no_number(ws: Workspace) -> None:
    data = DashboardData(ws, disk=False)
    everyone = data.view(Filters())
    html = render(everyone)[0]
    assert html.count(NO_DATES) == 1  # said once for the header, not on every tile
    assert all(t.changes[0].status.status is Status.WITHHELD for t in everyone.tiles)
    few = data.view(replace(DATED, personas=("enterprise_it",), sources=("events",)))
    customers = few.tiles[len(few.analysis.funnel.stages) - 1]
    for change in customers.changes:
        assert change.status.status is Status.TOO_FEW and "fewer than min_n = 30" in change.status.text()
    young = [c for t in data.view(DATED).tiles for c in t.changes if c.status.status is Status.YOUNG]
    assert young and all("still converting" in c.status.text() for c in young)
    for view in (few, data.view(DATED)):
        shown = html_module.unescape(render(view)[0])  # the reason on the tile, or in its tooltip
        text = re.sub(r"<[^>]+>", "\n", shown)
        for t in view.tiles:
            for c in t.changes:
                if not c.status.judged:
                    assert c.status.text() in shown
                    line = next((x for x in text.splitlines() if c.status.text() in x), "")
                    assert "%" not in line.split(":")[0]  # no ratio beside a change that is not judged


def test_changes_not_judged_are_said_once_under_the_band_the_reasons_in_tooltips(ws: Workspace) -> None:
    """Most tiles repeated "vs baseline: too young to judge: still converting ..." in grey: one line under
    the band names the tiles instead, and each tile's reason stays in its tooltip, in the status's words."""
    view = DashboardData(ws, disk=False).view(DATED)
    html = render(view)[0]
    young = [(t, c) for t in view.tiles for c in t.changes[1:] if c.status.status is Status.YOUNG]
    assert len(young) >= 2
    band = html.partition('<div class="kpi-note"')[0]
    assert "vs baseline: too young" not in re.sub(r"<[^>]+>", "\n", band)
    assert html.count("Change vs baseline: too young to judge for ") == 1
    titles = dict(re.findall(r'<div class="kpi" id="tile-([^"]+)" title="([^"]*)"', band))
    for t, c in young:
        assert f"vs baseline: {c.status.text()}" in html_module.unescape(titles[t.key.replace(":", "-")])


def test_the_changes_not_judged_take_one_short_line_the_reasons_in_its_tooltip(ws: Workspace) -> None:
    """Three lines of "Change vs ..." under the band ("withheld: no date range chosen: pick dates ...", "too
    young to judge for MQL, SQL, Opportunity", "too few to judge for ..."): one short line now, like the
    band's own, every reason in its tooltip."""
    data = DashboardData(ws, disk=False)
    for view in (data.view(Filters()), data.view(DATED)):
        html = render(view)[0]
        notes = re.findall(r'<div class="kpi-note"(?: title="([^"]*)")?>([^<]*)</div>', html)
        assert len(notes) == 1, notes
        tip, text = (html_module.unescape(x) for x in notes[0])
        assert text.startswith("Changes not judged: vs ") and len(text) <= 100, text
        unjudged = [c for t in view.tiles for c in t.changes if not c.status.judged]
        assert unjudged and all(c.status.text() in tip for c in unjudged)
    everyone = re.search(r'<div class="kpi-note"[^>]*>([^<]*)<', render(data.view(Filters()))[0])
    assert everyone and "vs previous period for every tile" in everyone.group(1)


def test_a_change_not_judged_on_a_single_tile_says_its_kind_in_one_line_the_reason_in_the_tooltip() -> None:
    """The Pipeline tile said "vs baseline: too few to judge: 14 deals in the baseline, fewer than min_n = 30"
    in four lines: the tile says its kind, the tooltip the reason."""
    from leadjourney.analysis.kpis import Change, Tile
    from leadjourney.analysis.status import OK, MetricStatus
    from leadjourney.dashboard.figures import kpi_tiles

    few = MetricStatus(Status.TOO_FEW, "14 deals in the baseline, fewer than min_n = 30")
    tiles = [Tile("pipeline", "Pipeline", "money", 4.9e6, 134, OK,
                  (Change(PREVIOUS, 4.9e6, 4.0e6, 134, 120), Change(BASELINE, 4.9e6, 3.0e6, 134, 14, few)),
                  currency="USD"),
             Tile("bookings", "Bookings", "money", 2.9e6, 115, OK,
                  (Change(PREVIOUS, 2.9e6, 2.5e6, 115, 100), Change(BASELINE, 2.9e6, 2.0e6, 115, 90)),
                  currency="USD")]
    html = kpi_tiles(tiles, 90.0)
    pipeline = html[html.index('id="tile-pipeline"') - 17:html.index('id="tile-bookings"')]
    lines = [html_module.unescape(x) for x in re.findall(r'<div class="c [a-z]+">([^<]*)</div>', pipeline)]
    assert "vs baseline: too few to judge" in lines and all(len(x) <= 40 for x in lines), lines
    title = html_module.unescape(re.search(r'title="([^"]*)"', pipeline).group(1))  # type: ignore[union-attr]
    assert "vs baseline: too few to judge: 14 deals in the baseline, fewer than min_n = 30" in title


def test_a_change_within_noise_is_short_and_grey_on_its_tile_the_words_in_its_tooltip_and_under_the_band() -> None:
    """The Lead tile said "▲ +2.2% vs baseline, within noise" on two lines at 1,440 px."""
    from leadjourney.analysis.kpis import Change, Tile
    from leadjourney.analysis.status import OK
    from leadjourney.dashboard.figures import NOISE, kpi_tiles

    tiles = [Tile("stage:Lead", "Lead", "count", 2970, 2970, OK,
                  (Change(PREVIOUS, 2970, 2500, 2970, 2500), Change(BASELINE, 2970, 2906, 2970, 835, within_noise=True)))]
    html = html_module.unescape(kpi_tiles(tiles, 90.0))
    noise = re.search(r'<div class="c flat" title="([^"]*)">([^<]*)</div>', html)
    assert noise is not None and noise.group(2) == "▲ +2.2% vs baseline" and noise.group(1) == NOISE, html
    assert re.search(r'<div class="kpi-noise" title="[^"]*">Grey changes: within noise</div>', html), html
    assert '<div class="c up">▲ +18.8% vs previous 90 days</div>' in html  # a real change: no tooltip, coloured


def test_the_speed_to_lead_title_names_its_signal_as_people_say_it(ws: Workspace) -> None:
    """It read "Speed-to-lead (from mql)"."""
    a = analyze(ws)
    title = speed_to_lead(a, 5)["layout"]["title"]["text"]
    assert "(from MQL)" in title or "(from form fill)" in title, title
    form = replace(a, speed_to_lead=replace(a.speed_to_lead, signal="form_fill"))
    assert "(from form fill)" in speed_to_lead(form, 5)["layout"]["title"]["text"]


def test_the_baseline_change_is_per_day_of_each_period(ws: Workspace) -> None:
    view = DashboardData(ws, disk=False).view(DATED)
    base = view.baseline
    assert base is not None and view.tiles[0].changes[1].against == BASELINE
    lead = view.tiles[0].changes[1]
    days = (DATED.date_to - DATED.date_from).days + 1  # type: ignore[operator]
    assert lead.before == pytest.approx(base.funnel.stages[0].reached * days / base.friction.span_days)


def test_the_speed_scale_is_fixed_by_the_sla_not_the_data(ws: Workspace) -> None:
    a = analyze(ws)
    slow = replace(a, speed_to_lead=replace(a.speed_to_lead, median_minutes=900.0, p90_minutes=20000.0))
    fast = replace(a, speed_to_lead=replace(a.speed_to_lead, median_minutes=2.0, p90_minutes=4.0))
    axes = [speed_to_lead(x, 5)["layout"]["xaxis"] for x in (a, slow, fast)]
    assert axes[0] == axes[1] == axes[2] and axes[0]["type"] == "log"
    low, high = speed_scale(5)
    assert low <= 0.5 and high >= 7 * 1440 and 5 in axes[0]["tickvals"] and "SLA 5 min" in axes[0]["ticktext"]
    assert speed_to_lead(a, 30)["layout"]["xaxis"]["range"] != axes[0]["range"] or speed_scale(30) == (low, high)
    bars = speed_to_lead(slow, 5)["data"][-1]
    assert bars["text"] == ["15.0 h", "13.9 d (off the scale)"] and max(bars["x"]) == high
    number = speed_to_lead(slow, 5)["data"][0]["number"]
    assert number["suffix"] == " h" and speed_to_lead(fast, 5)["data"][0]["number"]["suffix"] == " min"
    [line] = speed_to_lead(a, 5)["layout"]["shapes"]
    assert line["x0"] == 5 and line["y0"] >= 0  # the SLA line stops at the axis, clear of its "SLA 5 min" label


def find(component: Any, ident: str) -> Any:
    if getattr(component, "id", None) == ident:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        found = find(child, ident)
        if found is not None:
            return found
    return None


def test_people_read_display_names_and_the_values_stay_raw(ws: Workspace) -> None:
    data = DashboardData(ws, disk=False)
    layout = _layout(data)
    options = find(layout, "source").options
    assert {"label": "SEO", "value": "seo"} in options and {"label": "Paid search", "value": "paid_search"} in options
    assert {"label": "Enterprise IT", "value": "enterprise_it"} in find(layout, "persona").options
    parts = render(data.view(Filters()))
    assert "<td>Paid search</td>" in parts[4] and "<td>paid_search</td>" not in parts[4]
    assert "Paid search" in parts[3]["data"][0]["x"]
    counts = re.findall(r'id="kpi-[^"]+">([^<]*)<', parts[0])
    assert counts and all(re.fullmatch(r"\d{1,3}(,\d{3})*|\$[\d.]+[kMB]?|-", c) for c in counts)


def test_owner_names_show_only_when_show_owners_allows(ws: Workspace, tmp_path: Path) -> None:
    hidden = DashboardData(ws, disk=False)
    assert all(re.fullmatch(r"owner-[0-9a-f]{8}", o.key) for o in hidden.owners())
    shown_ws = copy_workspace(ws, tmp_path / "named")
    config = shown_ws.root / "leadjourney.toml"
    text = config.read_text("utf-8")
    assert "\nshow_owners = false\n" in text
    config.write_text(text.replace("\nshow_owners = false\n", "\nshow_owners = true\n"), "utf-8")
    named = DashboardData(Workspace.open(shown_ws.root), disk=False)
    assert {o.key for o in named.owners()} == {n for o in hidden.owners() for n in o.owners}
    layout = _layout(named)
    assert "owner_05" in find(layout, "owner").options
    assert "pseudonymized" not in str(_layout(named)) and "pseudonymized" in str(_layout(hidden))


def test_the_exported_comparison_panel_is_the_live_one(ws: Workspace, tmp_path: Path) -> None:
    data = DashboardData(ws, disk=False)
    f = Filters(sources=("seo",))
    view = data.view(f)
    out = export_html(view, tmp_path / "seo.html", title="t", shown=data.owner_keys(f))
    text = out.read_text("utf-8")
    live = render(view)
    assert comparison_table(view.comparison) == live[7] and live[7] in text  # same rows as the page
    base = analyze(ws, filters=Filters(date_to=BASELINE_TO, sources=("seo",)), now=None)
    entered = {f"{t.from_stage}→{t.to_stage}": t.entered for t in base.funnel.transitions}
    assert {r.transition: r.baseline_n for r in view.comparison} == entered  # like with like: the same sources
    assert view.baseline is not None and view.baseline.filters.sources == ("seo",)
    assert render(view)[0] in text  # the header tiles too


def test_stored_analyses_without_a_pipeline_say_so(ws: Workspace) -> None:
    d = analyze(ws).to_dict()
    d.pop("pipeline")
    a = Analysis.from_dict(d)
    assert a.pipeline.status.status is Status.WITHHELD and "stored before" in a.pipeline.status.text()
    assert Analysis.from_dict(analyze(ws).to_dict()).pipeline.status.judged


def test_the_page_title_says_lead_journey_once_and_the_time_legend_has_no_jargon(ws: Workspace) -> None:
    from leadjourney.dashboard.app import page_title
    from leadjourney.dashboard.figures import time_in_stage

    assert page_title("Inbound lead journey") == "Inbound lead journey"  # was "Inbound lead journey: lead journey"
    assert page_title("Acme") == "Acme: lead journey"
    figure = time_in_stage(analyze(ws))
    legend = [t["name"] for t in figure["data"]]
    assert len(legend) == 2 and not any("Kaplan" in name for name in legend)
    # at 1,024 px "SQL→Opportunity" ran into "Opportunity→Customer": each transition's tick on two lines
    axis = figure["layout"]["xaxis"]
    assert axis["tickvals"] == figure["data"][0]["x"]
    assert all(t.split("<br>") == [f"{n.split('→')[0]}→", n.split("→")[1]] for n, t in zip(axis["tickvals"],
                                                                                       axis["ticktext"], strict=True))
