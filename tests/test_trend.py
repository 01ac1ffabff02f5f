"""The drop-off trend: per creation month and week, counted by hand on a tiny workspace."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from leadjourney.analysis import Analysis
from leadjourney.analysis.benchmarks import DEFAULT_BENCHMARKS
from leadjourney.analysis.journeys import open_journeys
from leadjourney.analysis.maturity import cohort_maturity
from leadjourney.analysis.stats import wilson_interval
from leadjourney.analysis.trend import ConversionTrend, conversion_trend
from leadjourney.dashboard import figures
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

LEADS = """lead_id,created_at,source
A,2026-01-05T00:00:00Z,seo
B,2026-01-10T00:00:00Z,seo
C,2026-01-20T00:00:00Z,seo
D,2026-01-31T23:00:00Z,seo
E,2026-02-01T00:00:00Z,seo
F,2026-02-14T00:00:00Z,seo
G,2026-02-28T00:00:00Z,seo
H,2026-05-20T00:00:00Z,seo
"""
EVENTS = """lead_id,stage,entered_at
A,MQL,2026-01-06T00:00:00Z
A,SQL,2026-01-07T00:00:00Z
A,Opportunity,2026-01-09T00:00:00Z
A,Customer,2026-02-01T00:00:00Z
B,MQL,2026-01-11T00:00:00Z
B,SQL,2026-01-12T00:00:00Z
C,MQL,2026-01-21T00:00:00Z
E,MQL,2026-02-02T00:00:00Z
E,SQL,2026-02-03T00:00:00Z
F,SQL,2026-02-15T00:00:00Z
H,MQL,2026-06-01T00:00:00Z
"""
NOW = datetime(2026, 7, 1)  # the data ends 2026-06-01 (H's MQL)
T = ("Lead", "MQL"), ("MQL", "SQL"), ("SQL", "Opportunity"), ("Opportunity", "Customer")
# (period start, young) -> (entered, converted) per transition in T, counted by hand (stage reach:
# F's SQL without an MQL counts as having passed MQL)
BY_MONTH = {
    (date(2026, 1, 1), False): [(4, 3), (3, 2), (2, 1), (1, 1)],  # A B C D
    (date(2026, 2, 1), False): [(3, 2), (2, 2), (2, 0), (0, 0)],  # E F G
    (date(2026, 5, 1), True): [(1, 1), (1, 0), (0, 0), (0, 0)],  # H: created 12 days before the data's end
}
BY_WEEK = {  # weeks start on Monday; D (Sat 31 Jan) and E (Sun 1 Feb) share one
    (date(2026, 1, 5), False): [(2, 2), (2, 2), (2, 1), (1, 1)],  # A B
    (date(2026, 1, 19), False): [(1, 1), (1, 0), (0, 0), (0, 0)],  # C
    (date(2026, 1, 26), False): [(2, 1), (1, 1), (1, 0), (0, 0)],  # D E
    (date(2026, 2, 9), False): [(1, 1), (1, 1), (1, 0), (0, 0)],  # F
    (date(2026, 2, 23), False): [(1, 0), (0, 0), (0, 0), (0, 0)],  # G
    (date(2026, 5, 18), True): [(1, 1), (1, 0), (0, 0), (0, 0)],  # H
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root: Path = tmp_path_factory.mktemp("trend") / "ws"
    ws = Workspace.init(root)
    for name, text in (("leads", LEADS), ("stage_events", EVENTS)):
        (root / f"{name}.csv").write_text(text)
    ws.set_sources([{"name": t, "path": f"{t}.csv", "format": "csv", "table": t} for t in ("leads", "stage_events")])
    ingest(ws)
    return ws


def by_hand(expected: dict[tuple[date, bool], list[tuple[int, int]]]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for (start, young), counts in expected.items():
        for (a, b), (entered, converted) in zip(T, counts, strict=True):
            rate, ci = (converted / entered, wilson_interval(converted, entered)) if entered else (None, (None, None))
            out.append((start, a, b, entered, converted, rate, *ci, young))
    return out


@pytest.mark.parametrize(("period", "expected"), [("month", BY_MONTH), ("week", BY_WEEK)])
def test_trend_points_equal_the_counts_by_hand(ws: Workspace, period: str, expected: dict) -> None:
    with open_journeys(ws, now=NOW) as journeys:
        points = conversion_trend(journeys, period=period)
    got = [(p.period, p.from_stage, p.to_stage, p.entered, p.converted, p.rate, p.ci_low, p.ci_high, p.young)
           for p in points]
    assert got == by_hand(expected)


def test_a_period_is_young_until_its_last_lead_is_old_enough(ws: Workspace) -> None:
    with open_journeys(ws, now=NOW) as journeys:
        # February ends 1 Mar: judged after 90 days (30 May), not yet after 100 days (9 Jun)
        journeys.config = replace(journeys.config, maturity_days=100, maturity_quantile=0.0)
        assert {p.period: p.young for p in conversion_trend(journeys)} == {
            date(2026, 1, 1): False, date(2026, 2, 1): True, date(2026, 5, 1): True}
    with pytest.raises(ValueError, match="week, month"):
        ConversionTrend(period="quarter")


def test_a_transition_waits_as_long_as_its_converters_took(ws: Workspace) -> None:
    """The one maturity rule: the days within which maturity_quantile of those reaching the target stage did so
    (from creation), never fewer than maturity_days; the trend's young periods follow it per transition."""
    with open_journeys(ws, now=NOW) as journeys:
        journeys.config = replace(journeys.config, maturity_days=0, maturity_quantile=0.9)
        need = cohort_maturity(journeys)
        # days from creation to MQL: A B C E 1, H 12 (linear 90% quantile 7.6); to Customer: A 27
        assert need["Lead->MQL"].days == math.ceil(float(np.quantile([1, 1, 1, 1, 12], 0.9))) == 8
        assert need["Opportunity->Customer"].days == 27
        assert "27 days: 90% of those reaching Customer did so within 27 days" in need["Opportunity->Customer"].reason
        trend = ConversionTrend(period="week").fit(journeys)
        # the week of 18 May ends 25 May, 7 days before the data's end: young for Lead->MQL (8 days), not for
        # MQL->SQL (SQL within 2 days)
        young = {(p.from_stage, p.to_stage): p.young for p in trend.points if p.period == date(2026, 5, 18)}
        assert young[("Lead", "MQL")] and not young[("MQL", "SQL")]
        assert trend.to_dict()["maturity"]["Lead->MQL"]["days"] == 8
        journeys.config = replace(journeys.config, maturity_days=40)
        journeys.release()
        assert all(m.days == 40 for m in cohort_maturity(journeys).values())


def test_the_figure_has_a_line_per_transition_and_the_reference_lines(ws: Workspace) -> None:
    with open_journeys(ws, now=NOW) as journeys:
        t = ConversionTrend.from_dict(ConversionTrend(period="month").fit(journeys).to_dict())  # as the page has it
    base = Analysis.from_dict({"funnel": {"transitions": [  # a baseline's funnel only
        {"from": a, "to": b, "entered": 2, "converted": 1, "rate": 0.5, "ci_low": None, "ci_high": None} for a, b in T]}})
    fig = go.Figure(figures.trend(t, base, DEFAULT_BENCHMARKS))  # the page's dict, as plotly reads it
    names = [tr.name for tr in fig.data]
    lines = [f"{a}→{b}" for a, b in T]
    assert [n for n in names if n in lines] == lines
    assert [n for n in names if n.startswith("baseline ")] == [f"baseline {n}" for n in lines]
    # MQL->SQL has the average and top-performer ranges; seo's own 51% only when seo is the filter
    assert [n for n in names if n.startswith("benchmark ")] == [
        "benchmark MQL→SQL: 15-21% (average) [1]", "benchmark MQL→SQL: 39-40% (top performers) [2]"]
    assert len(fig.data) == 4 + 4 + 2
    mql_sql = fig.data[names.index("MQL→SQL")]
    assert list(mql_sql.y) == pytest.approx([2 / 3, 1.0, 0.0])
    assert list(mql_sql.marker.symbol) == ["circle", "circle", "circle-open"]
    assert "young" in mql_sql.customdata[2] and "young" not in mql_sql.customdata[0]
    with_seo = go.Figure(figures.trend(t, None, DEFAULT_BENCHMARKS, source="seo"))
    assert sum(tr.name.startswith("benchmark MQL→SQL: 51%") for tr in with_seo.data) == 1
    assert not any(tr.name.startswith("baseline ") for tr in with_seo.data)
    drop = go.Figure(figures.trend(t, base, DEFAULT_BENCHMARKS, measure="drop-off"))
    dnames = [tr.name for tr in drop.data]
    assert list(drop.data[dnames.index("MQL→SQL")].y) == pytest.approx([1 / 3, 0.0, 1.0])
    assert [n for n in dnames if n.startswith("benchmark ")] == ["benchmark MQL→SQL: 79-85% (average) [1]"]


def test_periods_after_the_data_end_are_not_drawn(ws: Workspace) -> None:
    with open_journeys(ws, now=NOW) as journeys:
        t = ConversionTrend(period="month").fit(journeys)
    t.points.append(replace(t.points[0], period=date(2062, 1, 1)))  # a lead dated decades ahead
    fig = go.Figure(figures.trend(t, None))
    assert "2062-01-01" not in list(fig.data[0].x) and "1 period after the data's end" in fig.layout.title.text
