"""Funnel and time in stage: hand-computed fixtures, the generator's truth, and lifelines."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from lifelines import KaplanMeierFitter

from conftest import (
    SharedGenerated,
    analysis_with,
    csv_workspace,
    generated_sources,
    journeys_with,
    same_numbers,
)
from leadjourney.analysis import Filters, analyze
from leadjourney.analysis import journeys as journeys_module
from leadjourney.analysis.stats import km_median, wilson_interval
from leadjourney.errors import EmptySelectionError
from leadjourney.generate import Dirt, generate
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)


# ------------------------------------------------------------------ statistics


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    # reference values: statsmodels proportion_confint(k, n, method="wilson")
    [(20, 100, 0.133367, 0.288829), (0, 10, 0.0, 0.277533), (10, 10, 0.722467, 1.0), (1, 1, 0.206549, 1.0)],
)
def test_wilson_interval(k: int, n: int, low: float, high: float) -> None:
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=1e-6)


def test_wilson_without_trials_is_uninformative() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_km_median_equals_lifelines(seed: int) -> None:
    rng = np.random.default_rng(seed)
    durations = np.round(rng.lognormal(1.5, 0.8, 400), 2)
    observed = rng.random(400) < 0.6
    times, inverse = np.unique(durations, return_inverse=True)
    events = np.bincount(inverse, weights=observed).astype(int)
    censored = np.bincount(inverse, weights=~observed).astype(int)
    ours = km_median(times, events, censored)
    kmf = KaplanMeierFitter().fit(durations, observed)
    assert ours == pytest.approx(float(kmf.median_survival_time_))


def test_km_median_not_reached() -> None:
    assert km_median(np.array([1.0, 2.0, 9.0]), np.array([1, 1, 0]), np.array([0, 0, 8])) is None


# ------------------------------------------------------------------ hand-made workspace

LEADS = """lead_id,created_at,source,status
A,2026-01-01T00:00:00Z,seo,open
B,2026-01-01T00:00:00Z,seo,open
C,2026-01-01T00:00:00Z,paid search,open
D,2026-01-01T00:00:00Z,paid search,disqualified
E,2026-01-01T00:00:00Z,seo,open
"""
# A: Lead -> MQL (2 d) -> SQL (3 d, same instant as ... ) -> Opportunity; B: MQL (4 d), waiting since
# C: SQL without MQL (skipped); D: MQL (1 d) then disqualified; E: MQL and SQL at the same instant (tie)
EVENTS = """lead_id,stage,entered_at
A,MQL,2026-01-03T00:00:00Z
A,SQL,2026-01-06T00:00:00Z
A,Opportunity,2026-01-16T00:00:00Z
B,MQL,2026-01-05T00:00:00Z
C,SQL,2026-01-10T00:00:00Z
D,MQL,2026-01-02T00:00:00Z
E,MQL,2026-01-04T00:00:00Z
E,SQL,2026-01-04T00:00:00Z
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return csv_workspace(tmp_path_factory.mktemp("small") / "ws", leads=LEADS, stage_events=EVENTS)


def _reached(result: Any) -> dict[str, int]:
    return {s.stage: s.reached for s in result.funnel.stages}


def test_stage_reach_counts_skipped_stages_as_passed(small: Workspace) -> None:
    result = analyze(small, now=NOW)
    # no Customer entries were loaded: the stage is left out, never a 0 % conversion
    assert _reached(result) == {"Lead": 5, "MQL": 5, "SQL": 3, "Opportunity": 1}
    assert result.funnel.stages_without_data == ("Customer",)
    assert {s.stage: s.imputed for s in result.funnel.stages}["MQL"] == 1  # C
    mql_sql = result.funnel.transitions[1]
    assert (mql_sql.entered, mql_sql.converted, mql_sql.dropped) == (5, 3, 2)
    assert mql_sql.rate == pytest.approx(0.6)
    assert (mql_sql.ci_low, mql_sql.ci_high) == pytest.approx(wilson_interval(3, 5))
    last = result.funnel.transitions[-1]
    assert (last.from_stage, last.to_stage, last.entered, last.converted) == ("SQL", "Opportunity", 3, 1)
    # five people: every rate is shown, none judged (min_n = 30)
    assert all(t.status.status == "too_few" for t in result.funnel.transitions)


def test_ordered_mode_needs_every_stage_dated_in_order(small: Workspace) -> None:
    result = analyze(small, mode="ordered", now=NOW)
    # C skipped MQL: reaches nothing past Lead in order; E's tie (same instant) is in order
    assert _reached(result) == {"Lead": 5, "MQL": 4, "SQL": 2, "Opportunity": 1}
    assert result.funnel.mode == "ordered"


def test_source_filter_and_empty_selection(small: Workspace) -> None:
    seo = analyze(small, filters=Filters(sources=("seo",)), now=NOW)
    assert _reached(seo)["Lead"] == 3 and _reached(seo)["SQL"] == 2
    with pytest.raises(EmptySelectionError, match="created from 2027-01-01"):  # nobody: an error, not zeros
        analyze(small, filters=Filters(date_from=date(2027, 1, 1)), now=NOW)
    none = analyze(small, filters=Filters(date_from=date(2027, 1, 1)), now=NOW, check=False)  # as the monitor does
    assert none.n_people == 0
    assert all(t.rate is None and t.entered == 0 for t in none.funnel.transitions)
    assert none.time_in_stage.rows[0].caveat == "nobody entered this stage in the selection"


def test_time_in_stage_by_hand(small: Workspace) -> None:
    rows = {(r.from_stage, r.to_stage): r for r in analyze(small, now=NOW).time_in_stage.rows}
    lead_mql = rows[("Lead", "MQL")]
    # completed: A 2 d, B 4 d, D 1 d, E 3 d; C skipped MQL (no duration); nobody open is waiting in Lead
    assert lead_mql.n_completed == 4 and lead_mql.n_censored == 0
    assert lead_mql.median_days == pytest.approx(2.5) and lead_mql.mean_days == pytest.approx(2.5)
    mql_sql = rows[("MQL", "SQL")]
    # completed: A 3 d, E 0 d (tie); waiting: B since Jan 5 (open); D disqualified: in neither
    assert (mql_sql.n_completed, mql_sql.n_censored) == (2, 1)
    assert mql_sql.median_days == pytest.approx(1.5)
    as_of = analyze(small, now=NOW).time_in_stage.as_of
    assert as_of == datetime(2026, 1, 16)  # the latest observed event
    # KM: E at 0 (1 of 3 at risk), A at 3 d (1 of 2) -> S = 2/3 * 1/2 = 1/3 <= 0.5 at 3 d
    assert mql_sql.km_median_days == pytest.approx(3.0)
    assert sum(b["count"] for b in mql_sql.histogram) == 2


# ------------------------------------------------------------------ the generator's truth


@pytest.fixture(scope="module")
def clean(shared_generated: SharedGenerated) -> tuple[Workspace, dict[str, Any], Path]:
    ws, data = shared_generated(n_leads=8000, seed=5, end=date(2026, 6, 30), days=150, dirt=Dirt.none())
    return ws, json.loads(data.ground_truth_path.read_text()), data.out_dir / "ground_truth_leads.parquet"


def test_funnel_equals_the_planted_journeys(clean) -> None:  # type: ignore[no-untyped-def]
    ws, truth, _ = clean
    result = analyze(ws, now=NOW)
    assert _reached(result) == truth["realized"]["reached"]
    for t in result.funnel.transitions:
        planted = truth["realized"]["conversion"][f"{t.from_stage}->{t.to_stage}"]
        assert t.ci_low <= planted <= t.ci_high


def test_funnel_by_source_equals_the_planted_channel(clean) -> None:  # type: ignore[no-untyped-def]
    ws, truth, _ = clean
    for channel in ("seo", "paid_search"):
        result = analyze(ws, filters=Filters(sources=(channel,)), now=NOW)
        assert _reached(result) == truth["realized"]["reached_by_channel"][channel]
    seo = analyze(ws, filters=Filters(sources=("seo",)), now=NOW).funnel.transitions[1]
    ppc = analyze(ws, filters=Filters(sources=("paid_search",)), now=NOW).funnel.transitions[1]
    assert seo.ci_low > ppc.ci_high  # organic search converts MQL -> SQL clearly better


def _table_type(journeys: journeys_module.Journeys) -> str:
    """What the selected people are: the ingested table, a temporary view or a temporary table."""
    found = journeys.backend.con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?",
                                         [journeys.people().op().name]).fetchall()
    assert len(found) == 1, found
    return str(found[0][0])


@pytest.mark.parametrize("filters", [Filters(sources=("seo",)), Filters(date_from=date(2026, 3, 1))], ids=["small", "large"])
def test_a_selection_stored_or_filtered_in_each_query_gives_the_same_analysis(
        clean, filters: Filters) -> None:  # type: ignore[no-untyped-def]
    ws = clean[0]
    for share, kind in ((1.0, "LOCAL TEMPORARY"), (0.0, "VIEW")):  # the option takes effect
        with journeys_with(ws, filters, NOW, lazy_share=share) as journeys:
            assert _table_type(journeys) == kind
    stored = analysis_with(ws, filters, NOW, lazy_share=1.0)  # every selection stored (people, touches)
    filtered = analysis_with(ws, filters, NOW, lazy_share=0.0)  # every selection a view, filtered in each query
    assert stored["speed_to_lead"]["n"] > 0 and stored["dark_leads"] == filtered["dark_leads"]
    assert same_numbers(stored, filtered)  # a parallel sum adds in any order


def test_people_are_ingests_table_a_view_of_it_or_a_copy_by_the_selections_size(clean) -> None:  # type: ignore[no-untyped-def]
    ws = clean[0]
    everyone = analyze(ws, now=NOW).n_people
    for filters, kind in ((Filters(), "BASE TABLE"), (Filters(date_from=date(2026, 3, 1)), "VIEW"),
                          (Filters(sources=("seo",)), "LOCAL TEMPORARY")):
        with journeys_module.open_journeys(ws, filters, now=NOW) as journeys:
            found = _table_type(journeys)
            n = journeys.backend.con.execute(f"SELECT count(*) FROM {journeys.people().op().name}").fetchall()[0][0]
        share = n / everyone
        assert found == kind, (filters, found)
        assert share > journeys_module.LAZY_SHARE if kind == "VIEW" else True
        assert share <= journeys_module.LAZY_SHARE if kind == "LOCAL TEMPORARY" else True


def test_time_in_stage_equals_an_independent_computation(clean) -> None:  # type: ignore[no-untyped-def]
    ws, _, truth_file = clean
    t = pq.read_table(truth_file).to_pydict()
    result = analyze(ws, now=NOW)
    row = next(r for r in result.time_in_stage.rows if (r.from_stage, r.to_stage) == ("MQL", "SQL"))
    mql = np.array([x.timestamp() if x else np.nan for x in t["mql_at"]])
    sql = np.array([x.timestamp() if x else np.nan for x in t["sql_at"]])
    done = ~np.isnan(mql) & ~np.isnan(sql)
    durations = (sql[done] - mql[done]) / 86400
    assert row.n_completed == int(done.sum())
    assert row.median_days == pytest.approx(float(np.median(durations)), rel=1e-9)
    assert row.p90_days == pytest.approx(float(np.quantile(durations, 0.9)), rel=1e-9)
    edges = [b["from_days"] for b in row.histogram]
    assert [b["count"] for b in row.histogram] == [
        int(((durations >= lo) & (durations < (edges[i + 1] if i + 1 < len(edges) else np.inf))).sum())
        for i, lo in enumerate(edges)]
    # censored: open leads that entered MQL and not SQL, waiting until the end of the period
    furthest = np.array(t["furthest_stage"])
    status = np.array(t["status"])
    waiting = ~np.isnan(mql) & np.isnan(sql) & (status == "open") & np.isin(furthest, ["MQL"])
    end = result.time_in_stage.as_of.timestamp()
    assert row.n_censored == int(waiting.sum())
    kmf = KaplanMeierFitter().fit(
        np.concatenate([durations, (end - mql[waiting]) / 86400]),
        np.concatenate([np.ones(len(durations)), np.zeros(int(waiting.sum()))]),
    )
    expected = float(kmf.median_survival_time_)
    if np.isinf(expected):
        assert not row.km_median_reached
    else:
        assert row.km_median_days == pytest.approx(expected, abs=1 / 24 + 1e-9)  # grouped by the hour


def test_json_contract(clean) -> None:  # type: ignore[no-untyped-def]
    ws, _, _ = clean
    data = json.loads(analyze(ws, now=NOW).to_json())
    assert {"schema_version", "filters", "funnel", "time_in_stage", "n_people"} <= set(data)
    assert set(data["funnel"]["transitions"][0]) >= {"from", "to", "entered", "converted", "rate", "ci_low", "ci_high"}
    assert set(data["time_in_stage"]["transitions"][0]) >= {
        "from", "to", "n_completed", "n_censored", "mean_days", "median_days", "p90_days", "km_median_days"}


def test_cohort_mode_counts_only_mature_leads_within_the_window(small: Workspace) -> None:
    # as-of is Jan 16 (latest event); everyone was created Jan 1: 15 days old
    young = analyze(small, mode="cohort", window_days=30, now=NOW)
    assert young.funnel.n_people == 0  # nobody is 30 days old yet: no one counted as lost
    mature = analyze(small, mode="cohort", window_days=3, now=NOW)
    # within 3 days of creation: MQL by A (2 d), D (1 d), E (3 d); SQL by E (3 d); C's SQL was on day 9
    assert _reached(mature) == {"Lead": 5, "MQL": 3, "SQL": 1, "Opportunity": 0}
    assert mature.funnel.to_dict()["window_days"] == 3


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_dirty_data_still_recovers_the_planted_rates(tmp_path: Path, seed: int) -> None:
    """With the default dirt (duplicates, skipped stages, mixed zones, ...) the planted rates sit in the intervals."""
    ws = Workspace.init(tmp_path / "ws")
    data = generate(tmp_path / "ws" / "data", n_leads=6000, seed=seed, end=date(2026, 6, 30), days=150)
    ws.set_sources(generated_sources(data, ws.root))
    ingest(ws)
    truth = json.loads(data.ground_truth_path.read_text())
    result = analyze(ws, now=NOW)
    for t in result.funnel.transitions:
        planted = truth["realized"]["conversion"][f"{t.from_stage}->{t.to_stage}"]
        assert t.ci_low <= planted <= t.ci_high, (seed, t)
