"""Lead sources: hand-computed counts, the generator's planted channels, independent tests, benchmarks."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime
from typing import Any

import ibis
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from conftest import SharedGenerated
from leadjourney.analysis import Filters, Funnel, Journeys
from leadjourney.analysis.benchmarks import DEFAULT_BENCHMARKS, REFERENCES, benchmark_for
from leadjourney.analysis.sources import (
    MISSING_NOTE,
    TOO_FEW,
    UNKNOWN,
    Sources,
    holm,
    two_proportion_z,
)
from leadjourney.analysis.stats import wilson_interval
from leadjourney.generate import Dirt
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)


def fit(ws: Workspace, filters: Filters | None = None, mode: str = "stage_reach") -> tuple[Sources, Funnel]:
    with ws.connect(read_only=True) as con:
        journeys = Journeys(ibis.duckdb.from_connection(con), ws.config, filters or Filters(), NOW)
        try:
            return Sources(mode=mode).fit(journeys), Funnel(mode=mode).fit(journeys)
        finally:
            journeys.release()


# ------------------------------------------------------------------ hand-made workspace

LEADS = """lead_id,created_at,source,status
A,2026-01-01T00:00:00Z,seo,open
B,2026-01-01T00:00:00Z,seo,open
C,2026-01-01T00:00:00Z,paid search,open
D,2026-01-01T00:00:00Z,paid search,disqualified
E,2026-01-01T00:00:00Z,seo,open
F,2026-01-01T00:00:00Z,events,open
G,2026-01-01T00:00:00Z,events,open
H,2026-01-01T00:00:00Z,partner,open
I,2026-01-01T00:00:00Z,,open
"""
# seo: A to Opportunity, B MQL, E MQL+SQL; paid search: C SQL without MQL, D MQL;
# events: nobody past Lead (an empty source after Lead); partner: H converts at every step;
# I has no source (shown as "unknown") and reaches MQL
EVENTS = """lead_id,stage,entered_at
A,MQL,2026-01-03T00:00:00Z
A,SQL,2026-01-06T00:00:00Z
A,Opportunity,2026-01-16T00:00:00Z
B,MQL,2026-01-05T00:00:00Z
C,SQL,2026-01-10T00:00:00Z
D,MQL,2026-01-02T00:00:00Z
E,MQL,2026-01-04T00:00:00Z
E,SQL,2026-01-04T00:00:00Z
H,MQL,2026-01-02T00:00:00Z
H,SQL,2026-01-03T00:00:00Z
H,Opportunity,2026-01-04T00:00:00Z
H,Customer,2026-01-05T00:00:00Z
I,MQL,2026-01-02T00:00:00Z
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("small") / "ws"
    ws = Workspace.init(root)
    (root / "leads.csv").write_text(LEADS)
    (root / "events.csv").write_text(EVENTS)
    ws.set_sources([
        {"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads"},
        {"name": "events", "path": "events.csv", "format": "csv", "table": "stage_events"},
    ])
    ingest(ws)
    return ws


STAGES = ("Lead", "MQL", "SQL", "Opportunity", "Customer")


def _reach(*counts: int) -> dict[str, int]:
    return dict(zip(STAGES, counts, strict=True))


def test_distribution_by_hand(small: Workspace) -> None:
    sources, _ = fit(small)
    assert sources.n_people == 9
    # largest first, ties by name; the empty source field is "unknown"
    assert [(s.source, s.people) for s in sources.distribution] == [
        ("seo", 3), ("events", 2), ("paid_search", 2), ("partner", 1), (UNKNOWN, 1)]
    assert [s.share for s in sources.distribution] == pytest.approx([3 / 9, 2 / 9, 2 / 9, 1 / 9, 1 / 9])


def test_reached_per_source_by_hand(small: Workspace) -> None:
    sources, funnel = fit(small)
    assert sources.reached("seo") == _reach(3, 3, 2, 1, 0)
    assert sources.reached("paid_search") == _reach(2, 2, 1, 0, 0)  # C's skipped MQL counted as passed
    assert {s.stage: s.imputed for s in sources.stages["paid_search"]}["MQL"] == 1
    assert sources.reached("events") == _reach(2, 0, 0, 0, 0)
    assert sources.reached("partner") == _reach(1, 1, 1, 1, 1)
    assert sources.reached(UNKNOWN) == _reach(1, 1, 0, 0, 0)
    # the sources add up to the funnel
    for k, stage in enumerate(funnel.stages):
        assert sum(counts[k].reached for counts in sources.stages.values()) == stage.reached


def test_conversion_per_source_by_hand(small: Workspace) -> None:
    sources, _ = fit(small)
    seo = sources.row("seo", "MQL", "SQL")
    assert (seo.entered, seo.converted, seo.dropped) == (3, 2, 1)
    assert seo.rate == pytest.approx(2 / 3)
    assert (seo.ci_low, seo.ci_high) == pytest.approx(wilson_interval(2, 3))
    # all other known sources together: paid 1/2, partner 1/1, events 0/0 (a missing source is no channel)
    assert (seo.rest_entered, seo.rest_converted) == (3, 2)
    assert seo.rest_rate == pytest.approx(2 / 3)
    empty = sources.row("events", "MQL", "SQL")
    assert (empty.entered, empty.converted, empty.rate, empty.ci_low) == (0, 0, None, None)
    assert sources.row("events", "Lead", "MQL").rate == 0.0
    for a, b in itertools.pairwise(STAGES):
        row = sources.row("partner", a, b)
        assert (row.entered, row.converted, row.rate) == (1, 1, 1.0)
    assert sources.row(UNKNOWN, "MQL", "SQL").rate == 0.0
    # nine people: too few to judge anywhere (min_n); the missing source is never tested
    assert all(r.note in (TOO_FEW, MISSING_NOTE) and r.p_value is None and r.significant is None
               for r in sources.conversion)
    assert {r.note for r in sources.conversion if r.source == UNKNOWN} == {MISSING_NOTE}
    assert len(sources.conversion) == 5 * 4


def test_ordered_mode_and_filters(small: Workspace) -> None:
    ordered, _ = fit(small, mode="ordered")
    assert ordered.reached("paid_search") == _reach(2, 1, 0, 0, 0)  # C skipped MQL: not in order
    only, _ = fit(small, Filters(sources=("seo",)))
    assert [s.source for s in only.distribution] == ["seo"]
    # seo alone has no other sources to be compared with
    assert all(r.rest_entered == 0 and r.note == TOO_FEW for r in only.conversion)
    none, _ = fit(small, Filters(date_from=date(2027, 1, 1)))
    assert none.n_people == 0 and none.distribution == [] and none.conversion == []
    with pytest.raises(ValueError, match="mode"):
        Sources(mode="bogus")


def test_to_dict_contract(small: Workspace) -> None:
    data = json.loads(json.dumps(fit(small)[0].to_dict()))
    assert {"mode", "test", "correction", "alpha", "n_people", "distribution", "stages", "conversion"} <= set(data)
    assert set(data["distribution"][0]) == {"source", "people", "share"}
    assert set(data["conversion"][0]) >= {
        "source", "from", "to", "entered", "converted", "dropped", "rate", "ci_low", "ci_high",
        "rest_entered", "rest_converted", "rest_rate", "z", "p_value", "p_adjusted", "significant",
        "direction", "note"}


# ------------------------------------------------------------------ statistics


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(60, 100, 40, 100), (51, 400, 260, 1000), (30, 90, 30, 90)])
def test_z_test_equals_statsmodels(k1: int, n1: int, k2: int, n2: int) -> None:
    z, p = two_proportion_z(k1, n1, k2, n2)
    ref_z, ref_p = proportions_ztest([k1, k2], [n1, n2])
    assert z == pytest.approx(ref_z, abs=1e-9) and p == pytest.approx(ref_p, abs=1e-12)


def test_too_few_and_holm() -> None:
    assert two_proportion_z(2, 10, 50, 100)[1] is None  # expected converted in the source: 10 * 52/110 < 5
    assert two_proportion_z(5, 5, 0, 0)[1] is None
    ps = [0.001, 0.04, 0.03, 0.2, 0.0125]
    assert holm(ps) == pytest.approx(list(multipletests(ps, method="holm")[1]))


# ------------------------------------------------------------------ the generator's truth


@pytest.fixture(scope="module")
def clean(shared_generated: SharedGenerated) -> tuple[Sources, Funnel, dict[str, Any]]:
    ws, data = shared_generated(n_leads=8000, seed=5, end=date(2026, 6, 30), days=150, dirt=Dirt.none())
    sources, funnel = fit(ws)
    return sources, funnel, json.loads(data.ground_truth_path.read_text())


def test_reached_per_source_equals_the_planted_channels(clean) -> None:  # type: ignore[no-untyped-def]
    sources, funnel, truth = clean
    planted = truth["realized"]["reached_by_channel"]
    assert {s.source for s in sources.distribution} == set(planted)
    for channel, reached in planted.items():
        assert sources.reached(channel) == reached
    for row in sources.conversion:
        assert row.rate == pytest.approx(truth["realized"]["conversion_by_channel"][row.source][row.transition], abs=1e-6)
    assert sum(s.people for s in sources.distribution) == funnel.n_people == sources.n_people
    assert sum(s.share for s in sources.distribution) == pytest.approx(1.0)  # type: ignore[misc]


def test_seo_converts_significantly_better_mql_sql(clean) -> None:  # type: ignore[no-untyped-def]
    sources, _, _ = clean
    seo = sources.row("seo", "MQL", "SQL")
    assert seo.significant and seo.direction == "higher"
    ppc = sources.row("paid_search", "MQL", "SQL")
    assert not (ppc.significant and ppc.direction == "higher")


def test_p_values_equal_an_independent_computation(clean) -> None:  # type: ignore[no-untyped-def]
    sources, _, _ = clean
    by_transition: dict[str, list[Any]] = {}
    for row in sources.conversion:
        by_transition.setdefault(row.transition, []).append(row)
    tested_any = False
    for rows in by_transition.values():
        tested = [r for r in rows if r.p_value is not None]
        for r in rows:
            n, k = r.entered + r.rest_entered, r.converted + r.rest_converted
            cells = [r.entered * k / n, r.entered * (n - k) / n, r.rest_entered * k / n, r.rest_entered * (n - k) / n]
            # not tested: too few people (min_n), or an expected cell below 5
            assert (r.note == TOO_FEW) == (r.entered < 30 or min(cells) < 5)
        for r in tested:
            z, p = proportions_ztest([r.converted, r.rest_converted], [r.entered, r.rest_entered])
            assert r.p_value == pytest.approx(p, rel=1e-9, abs=1e-300)
            assert r.direction == ("higher" if z > 0 else "lower")
        if tested:
            tested_any = True
            expected = multipletests([r.p_value for r in tested], method="holm")[1]
            assert [r.p_adjusted for r in tested] == pytest.approx(list(expected), rel=1e-9)
            assert [r.significant for r in tested] == [p < 0.05 for p in expected]
    assert tested_any


# ------------------------------------------------------------------ benchmarks


def test_benchmarks_lookup() -> None:
    keys = [b.key for b in benchmark_for("conversion_rate", "MQL->SQL")]
    assert keys == ["mql_sql_average", "mql_sql_top_performers"]
    seo = benchmark_for("conversion_rate", "MQL → SQL", "seo")
    assert [(b.low, b.high) for b in seo] == [(0.15, 0.21), (0.39, 0.40), (0.51, 0.51)]
    assert seo[0].citation == "[1] 2025 B2B SaaS Funnel Benchmarks & Pipeline Audit Framework - The Digital Bloom"
    assert [b.value for b in benchmark_for("conversion_rate", "mql->sql", "Paid Search")][-1] == 0.26
    assert benchmark_for("conversion_rate", "MQL->SQL", "website")[-1].value == pytest.approx(0.313)
    assert benchmark_for("conversion_rate", "Lead->MQL") == []
    assert benchmark_for("conversion_rate", "SQL->Opportunity", "seo") == []
    speed = {b.key: b for b in benchmark_for("response_time")}
    assert (speed["response_time_optimal"].value, speed["response_time_optimal"].unit) == (5.0, "minutes")
    assert (speed["response_time_average"].value, speed["response_time_average"].unit) == (42.0, "hours")
    assert benchmark_for("contacted_share")[0].value == 0.27
    assert {b.value for b in benchmark_for("response_lift")} == {21.0, 3.91}
    assert benchmark_for("first_responder_share")[0].value == 0.78
    assert benchmark_for("drop_off_rate", "MQL->SQL")[0].text() == "79-85% (average) [1]"


def test_every_benchmark_is_cited() -> None:
    assert len({b.key for b in DEFAULT_BENCHMARKS}) == len(DEFAULT_BENCHMARKS)
    for b in DEFAULT_BENCHMARKS:
        assert b.citation.startswith(f"[{b.reference}] ") and b.reference in REFERENCES
        assert b.low <= b.high
        data = b.to_dict()
        assert {"key", "metric", "low", "high", "value", "unit", "citation", "text", "transition", "source"} <= set(data)
