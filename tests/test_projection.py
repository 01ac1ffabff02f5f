"""Young cohorts: projected final conversion from the mature cohorts' time-to-convert curve.

The generator draws each lead's final outcome first and its timing after, then censors at the data's
end, so the ground truth's parameters give the rate every cohort ends at. The observed rate of a
young month is a floor far below it; its projection must recover it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from lifelines import KaplanMeierFitter

from conftest import generated_workspace
from leadjourney.analysis.journeys import open_journeys
from leadjourney.analysis.projection import Waiting, _curve, project, waiting_by
from leadjourney.analysis.status import MetricStatus
from leadjourney.analysis.trend import ConversionTrend
from leadjourney.dashboard import figures


def final_rates(params: dict[str, Any]) -> dict[str, float]:
    """Each transition's final conversion among those who reach its first stage, from the planted
    probabilities per channel x persona (weighted by who gets that far)."""
    names, channels, personas = params["transitions"], params["channels"], params["personas"]
    out = {}
    for k, name in enumerate(names):
        num = den = 0.0
        for c in channels.values():
            for p, pv in personas.items():
                w = c["volume_share"] * pv["share"]
                for j in range(k):
                    w *= c["probability"][p][names[j]]
                num, den = num + w * c["probability"][p][name], den + w
        out[name] = num / den
    return out


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[ConversionTrend, dict[str, float]]:
    ws, data = generated_workspace(tmp_path_factory.mktemp("year") / "ws", n_leads=16000, seed=11,
                                   end=date(2026, 6, 30), days=365)
    truth = final_rates(json.loads(Path(data.ground_truth_path).read_text())["params"])
    with open_journeys(ws) as journeys:
        trend = ConversionTrend(period="month").fit(journeys)
    return trend, truth


@pytest.mark.slow  # a year of 16,000 generated leads: make test-integration runs it
def test_young_months_project_to_the_planted_final_rate(year) -> None:  # type: ignore[no-untyped-def]
    trend, truth = year
    young = [p for p in trend.points if p.status.status == "young" and p.entered >= 100]
    assert len(young) >= 4
    # the maturity rule waits long enough: the months it judges are not floors (their own sampling spread)
    judged = [p for p in trend.points if p.status.judged and p.entered >= 100]
    off = [p for p in judged if abs(p.rate - truth[f"{p.from_stage}->{p.to_stage}"]) > 2.58 * (
        truth[f"{p.from_stage}->{p.to_stage}"] * (1 - truth[f"{p.from_stage}->{p.to_stage}"]) / p.entered) ** 0.5]
    assert len(judged) >= 20 and len(off) <= 1, [(p.period, p.from_stage, p.rate) for p in off]
    misses = []
    for p in young:
        q = truth[f"{p.from_stage}->{p.to_stage}"]
        # the interval is where this cohort ends; the planted rate differs from that by the cohort's own
        # sampling spread too
        spread = 1.96 * (q * (1 - q) / p.entered) ** 0.5
        if p.projected is None or not p.projected.ci_low - spread <= q <= p.projected.ci_high + spread:
            misses.append(p)
    assert len(misses) <= 1, [(p.period, p.from_stage, p.projected) for p in misses]
    # the projections matter: the youngest months' observed rates are floors far below the truth
    floors = [p for p in young if p.rate is not None
              and p.rate < truth[f"{p.from_stage}->{p.to_stage}"] - 0.1]
    assert floors
    for p in floors:
        assert p.projected is not None and p.projected.rate is not None and p.projected.rate > p.rate + 0.05


@pytest.mark.slow  # a year of 16,000 generated leads: make test-integration runs it
def test_every_young_point_says_so_and_mature_points_carry_no_projection(year) -> None:  # type: ignore[no-untyped-def]
    trend, _ = year
    for p in trend.points:
        if p.young and p.status.judged is False and p.status.status == "young":
            assert p.status.text().startswith("too young to judge: still converting: created less than ")
        if not p.young:
            assert p.projected is None and p.status.status != "young"
    data = json.loads(json.dumps(trend.to_dict()))
    assert set(data["projected"]) == {"Lead->MQL", "MQL->SQL", "SQL->Opportunity", "Opportunity->Customer"}
    point = next(p for p in data["points"] if p["status"] == "young" and p["projected"])
    assert {"rate", "ci_low", "ci_high", "waiting", "expected"} <= set(point["projected"])


@pytest.mark.slow  # a year of 16,000 generated leads: make test-integration runs it
def test_the_whole_selection_projects_to_the_truth_too(year) -> None:  # type: ignore[no-untyped-def]
    trend, truth = year
    for name, p in trend.projected.items():
        assert p.rate is not None and p.converted / p.entered <= p.rate
        assert abs(p.rate - truth[name]) < 0.03, (name, p.rate, truth[name])


@pytest.mark.slow  # a year of 16,000 generated leads: make test-integration runs it
def test_the_trend_figure_draws_projections_apart(year) -> None:  # type: ignore[no-untyped-def]
    trend, _ = year
    fig = figures.trend(trend, None)
    projected = [t for t in fig["data"] if t["name"].startswith("projected ")]
    assert projected and all(t["line"]["dash"] == "dot" for t in projected)
    observed = next(t for t in fig["data"] if t["name"] == "Opportunity→Customer")
    assert "too young to judge" in " ".join(observed["customdata"])


def test_the_curve_equals_lifelines() -> None:
    rng = np.random.default_rng(3)
    n = 400
    waits = np.floor(rng.lognormal(2.5, 0.8, n)).astype(int)
    converts = rng.random(n) < 0.4
    follow = rng.integers(30, 200, n)
    observed = converts & (waits <= follow)
    days = np.where(observed, waits, follow)
    rows = sorted((int(d), int(((days == d) & observed).sum()), int(((days == d) & ~observed).sum()))
                  for d in np.unique(days))
    curve = _curve(rows, 30)
    assert not isinstance(curve, type(None)) and hasattr(curve, "plateau")
    km = KaplanMeierFitter().fit(days, observed)
    for d in (5, 10, 20, 40, 80, 150):
        expected = 1 - float(km.survival_function_at_times(d).iloc[0])
        assert curve.at(d) == pytest.approx(expected, abs=1e-12)  # type: ignore[union-attr]
    low, high = (1 - km.confidence_interval_survival_function_.iloc[-1]).to_numpy()[::-1]
    assert curve.plateau_low == pytest.approx(low, abs=0.03)  # type: ignore[union-attr]
    assert curve.plateau_high == pytest.approx(high, abs=0.03)  # type: ignore[union-attr]


def test_a_projection_is_bounded_by_what_the_waiting_can_add() -> None:
    curve = _curve([(1, 10, 0), (5, 10, 0), (30, 0, 80)], 30)
    assert not isinstance(curve, MetricStatus)
    ages = pa.table({"k": [0, 0], "created": [date(2026, 6, 1), date(2026, 6, 9)], "n": [30, 10], "age": [2.0, 2.0]})
    months = waiting_by(ages, {0: curve}, "month")
    assert set(months) == {(0, date(2026, 6, 1))} and months[(0, date(2026, 6, 1))].n == 40
    weeks = waiting_by(ages, {0: curve}, "week")
    assert set(weeks) == {(0, date(2026, 6, 1)), (0, date(2026, 6, 8))}  # Mondays
    p = project(100, 10, months[(0, date(2026, 6, 1))], curve)
    # each of the 40 converts later with (F(H) - F(2)) / (1 - F(2)), F from the curve
    f2, plateau = curve.at(2), curve.plateau
    assert p.expected == pytest.approx(40 * (plateau - f2) / (1 - f2))
    assert p.rate is not None and 0.10 <= p.ci_low <= p.rate <= p.ci_high <= 0.50  # type: ignore[operator]
    # nobody waiting: the projection is the observed rate
    q = project(100, 10, Waiting(), curve)
    assert q.rate == pytest.approx(0.10) and q.ci_low == pytest.approx(0.10) and q.ci_high == pytest.approx(0.10)
