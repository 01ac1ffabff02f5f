"""Results stay typed past the analysis layer: each result's JSON form loads back to the result it was."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import generated_workspace, set_option
from leadjourney.analysis import Analysis, analyze
from leadjourney.analysis.findings import store
from leadjourney.analysis.friction import ANNUALIZE_MIN_DAYS
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.report import SCHEMA_VERSION
from leadjourney.analysis.status import Status
from leadjourney.analysis.trend import ConversionTrend
from leadjourney.dashboard import figures
from leadjourney.dashboard.comparison import period_deltas
from leadjourney.dashboard.data import DashboardData
from leadjourney.errors import WorkspaceError
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """3,000 leads over 180 days: young transitions, segments too few to judge, withheld rates."""
    ws, _ = generated_workspace(tmp_path_factory.mktemp("typed") / "ws", n_leads=3000, seed=4,
                                end=date(2026, 6, 30), days=180)
    return ws


def _through_json(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(d))
    return out


@pytest.mark.parametrize(("mode", "filters"), [("stage_reach", Filters()),
                                               ("cohort", Filters(date_from=date(2026, 2, 1)))])
def test_analysis_loads_back_from_its_json(small: Workspace, mode: str, filters: Filters) -> None:
    a = analyze(small, now=NOW, mode=mode, filters=filters)
    d = a.to_dict()
    back = Analysis.from_dict(_through_json(d))
    assert back.to_dict() == d
    assert back == a  # typed: every part, status, projection, datetime and tuple as computed
    assert Analysis.from_json(a.to_json().encode()) == a  # what `analyze --json` prints, read back
    statuses = Counter(t.status.status for t in back.funnel.transitions)
    statuses += Counter(c.status.status for c in back.sources.conversion)
    if mode == "stage_reach":  # young transitions carry their projection, typed
        assert statuses[Status.YOUNG] and statuses[Status.OK] and statuses[Status.TOO_FEW] and statuses[Status.WITHHELD]
        young = [t for t in back.funnel.transitions if t.status.status is Status.YOUNG]
        assert all(t.projected is not None and t.projected.rate is not None and t.projected.rate > t.rate
                   for t in young)
    else:
        assert back.funnel.window_days == a.funnel.window_days and back.filters.date_from == date(2026, 2, 1)
    assert isinstance(back.time_in_stage.as_of, datetime) and back.time_in_stage.as_of == a.time_in_stage.as_of
    assert back.speed_to_lead.within_5_min_ci == a.speed_to_lead.within_5_min_ci
    assert isinstance(back.speed_to_lead.within_5_min_ci, tuple)


@pytest.mark.parametrize("period", ["week", "month"])
def test_trend_loads_back_from_its_json(small: Workspace, period: str) -> None:
    with open_journeys(small, Filters(), NOW) as journeys:
        trend = ConversionTrend(period=period).fit(journeys)
    d = trend.to_dict()
    back = ConversionTrend.from_dict(_through_json(d))
    assert back.to_dict() == d
    assert back == trend
    statuses = Counter(p.status.status for p in back.points)
    assert statuses[Status.YOUNG] and statuses[Status.OK] and statuses[Status.TOO_FEW] and statuses[Status.WITHHELD]
    projected = [p for p in back.points if p.projected is not None]
    assert projected and all(isinstance(p.period, date) for p in projected)
    assert back.maturity == trend.maturity and set(back.projected) == set(trend.projected)


def test_older_analysis_json_loads_with_defaults(small: Workspace) -> None:
    """JSON stored before statuses, projections, stages without data, personas, friction and benchmarks
    existed: each missing part is its default, and what it has reads as it was."""
    a = analyze(small, now=NOW)
    old = _through_json(a.to_dict())
    for key in ("personas", "friction", "benchmarks", "dark_leads", "speed_to_lead"):
        del old[key]
    del old["funnel"]["stages_without_data"], old["funnel"]["min_n"]
    for part in (old["funnel"]["transitions"], old["time_in_stage"]["transitions"], old["sources"]["conversion"]):
        for t in part:
            t.pop("status"), t.pop("status_reason"), t.pop("projected", None), t.pop("benchmarks", None)
    for r in old["drop_offs"]:
        assert r.keys() >= {"from", "to", "rate"}
    back = Analysis.from_dict(old)
    assert [(t.from_stage, t.to_stage, t.entered, t.converted, t.rate) for t in back.funnel.transitions] == [
        (t.from_stage, t.to_stage, t.entered, t.converted, t.rate) for t in a.funnel.transitions]
    assert all(t.status.judged and t.projected is None for t in back.funnel.transitions)
    assert back.funnel.stages_without_data == () and back.funnel.min_n is None
    assert back.personas.by == "persona" and back.personas.conversion == []
    assert back.friction.drop_offs == a.friction.drop_offs and back.friction.rows == []
    assert back.friction.min_annualize_days == ANNUALIZE_MIN_DAYS
    assert back.speed_to_lead.mean_minutes is None and back.dark_leads.n_dark == 0
    assert back.to_dict()["funnel"]["transitions"][0]["benchmarks"] == a.to_dict()["funnel"]["transitions"][0][
        "benchmarks"]  # the default benchmarks: the config's here are the defaults
    legacy = _through_json(a.friction.to_dict())["rows"][0]
    legacy["revenue_impact"] = legacy.pop("value_of_all_dropoffs_per_year")
    row = type(a.friction.rows[0]).from_dict(legacy)
    assert row == a.friction.rows[0]  # the upper bound under its older name


def test_newer_schema_is_refused_with_one_line(small: Workspace) -> None:
    d = {**_through_json(analyze(small, now=NOW).to_dict()), "schema_version": SCHEMA_VERSION + 1}
    with pytest.raises(WorkspaceError, match=f"schema_version {SCHEMA_VERSION + 1}.*upgrade"):
        Analysis.from_dict(d)



def test_the_dashboard_view_holds_typed_results_and_the_configs_threshold(small: Workspace, tmp_path: Path) -> None:
    """The page's numbers are the typed results loaded back from the cache; the comparison rows are computed once,
    in the data layer, with the thresholds of leadjourney.toml; the figure only draws them."""
    ws = Workspace.open(shutil.copytree(small.root, tmp_path / "ws"))
    store(ws, analyze(ws, now=NOW, filters=Filters(date_to=date(2026, 4, 30))), baseline=True)
    ws = set_option(ws, "decline_points = 5.0", "decline_points = 2.0")
    view = DashboardData(ws).view(Filters())
    again = DashboardData(ws).view(Filters())  # a restart: read from the disk cache
    assert isinstance(view.analysis, Analysis) and isinstance(view.baseline, Analysis)
    assert again.analysis == view.analysis and again.trend == view.trend and again.comparison == view.comparison
    assert set(view.trend) == {"week", "month"} and all(isinstance(t, ConversionTrend) for t in view.trend.values())
    assert view.decline_points == 2.0
    rows = period_deltas(view.analysis, view.baseline, points=2.0, min_n=ws.config.min_n,
                         projected=view.trend["month"].projected)
    assert list(view.comparison) == rows and len(rows) == len(view.analysis.funnel.transitions)
    young = [r for r in rows if r.projected]
    assert young and all(r.status.status is Status.YOUNG for r in young)  # measured by the projection, said so
    fig = figures.period_comparison(view.comparison, view.analysis, view.baseline, points=view.decline_points)
    assert fig["layout"]["shapes"][0]["y0"] == -2.0 and fig["data"][0]["y"] == [r.delta_pp for r in rows]
