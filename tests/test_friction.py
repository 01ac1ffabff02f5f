"""Friction ranking and drop-off points, computed by hand on a tiny workspace."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from conftest import csv_workspace, set_option
from leadjourney.analysis import analyze
from leadjourney.analysis.findings import findings_of
from leadjourney.workspace import Workspace

LEADS = """lead_id,created_at,source
A,2026-01-01T00:00:00Z,seo
B,2026-01-01T00:00:00Z,seo
C,2026-01-01T00:00:00Z,seo
D,2026-01-01T00:00:00Z,seo
"""
EVENTS = """lead_id,stage,entered_at
A,MQL,2026-01-02T00:00:00Z
A,SQL,2026-01-03T00:00:00Z
A,Opportunity,2026-01-05T00:00:00Z
A,Customer,2026-01-31T00:00:00Z
B,MQL,2026-01-02T00:00:00Z
B,SQL,2026-01-04T00:00:00Z
C,MQL,2026-01-03T00:00:00Z
"""
OPPS = """opportunity_id,lead_id,created_at,closed_at,amount,is_won
O1,A,2026-01-05T00:00:00Z,2026-01-31T00:00:00Z,10000,true
"""


def tiny(root: Path, **tables: str) -> Workspace:
    """A hand-made workspace judged at min_n = 1 (four people: every rate is judged here)."""
    return set_option(csv_workspace(root, **tables), "min_n = 30", "min_n = 1")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return tiny(tmp_path_factory.mktemp("friction") / "ws", leads=LEADS, stage_events=EVENTS, opportunities=OPPS)


def test_revenue_impact_by_hand(ws: Workspace) -> None:
    fr = analyze(ws, now=datetime(2026, 3, 1)).friction
    assert fr.deal_size == pytest.approx(10000) and "1 won" in fr.deal_size_source
    assert (fr.deal_size_n, fr.deal_size_median, fr.deal_size_mean, fr.deal_size_is_default) == (1, 10000, 10000, False)
    assert fr.period_days == pytest.approx(30)  # Jan 1 to the as-of date Jan 31
    # every lead created the same day: a span under 90 days is not annualized, figures are per the period
    assert (fr.span_days, fr.annualized, fr.scale) == (0, False, 1)
    assert fr.bookings_per_year == pytest.approx(10000)
    rows = {(r.from_stage, r.to_stage, r.segment): r for r in fr.rows}
    # the value of all drop-offs (the playbook's formula, the upper bound)
    assert rows[("Lead", "MQL", None)].value_of_all_dropoffs_per_year == pytest.approx(1 * 10000 * (1 / 3))
    assert rows[("MQL", "SQL", None)].value_of_all_dropoffs_per_year == pytest.approx(1 * 10000 * (1 / 2))
    assert rows[("SQL", "Opportunity", None)].value_of_all_dropoffs_per_year == pytest.approx(1 * 10000 * 1)
    assert rows[("Opportunity", "Customer", None)].value_of_all_dropoffs_per_year == 0
    assert all(r.revenue_impact == r.value_of_all_dropoffs_per_year for r in fr.rows)  # the old name
    # recoverable: no target for Lead->MQL; MQL->SQL (2 of 3) is above the benchmark's 15% low end
    assert rows[("Lead", "MQL", None)].recoverable_per_year == 0
    assert rows[("Lead", "MQL", None)].target_source == "no target: no benchmark or [targets] entry for Lead->MQL"
    mql = rows[("MQL", "SQL", None)]
    assert (mql.recoverable_per_year, mql.target_rate) == (0, 0.15)
    assert mql.target_source == "benchmark: 15-21% (average) [1], low end 15.0%"
    # equal recoverable (0): the upper bound breaks the tie
    assert [(r.rank, r.from_stage, r.segment) for r in fr.rows[:2]] == [(1, "SQL", None), (2, "MQL", None)]
    # one source and no persona rules: a segment would only repeat its transition
    assert all(r.segment is None for r in fr.rows)
    assert rows[("MQL", "SQL", None)].drop_off_rate == pytest.approx(1 / 3)
    assert all(r.hypothesis for r in fr.rows)


def test_without_won_amounts_the_config_deal_size_is_used(tmp_path: Path) -> None:
    ws = tiny(tmp_path / "ws", leads=LEADS, stage_events=EVENTS)
    fr = analyze(ws, now=datetime(2026, 3, 1)).friction
    assert fr.deal_size == ws.config.average_deal_size and "config" in fr.deal_size_source
    assert fr.deal_size_is_default and fr.bookings_per_year is None
    assert fr.deal_size_warning == ("no won deals with amounts: the configured average_deal_size 25,000 USD "
                                    "stands in")


def test_a_configured_target_wins_and_is_named(tmp_path: Path) -> None:
    ws = tiny(tmp_path / "ws", leads=LEADS, stage_events=EVENTS, opportunities=OPPS)
    ws = set_option(ws, '# "MQL->SQL" = 0.30', '"MQL->SQL" = 0.9\n"SQL->Opportunity" = 0.75')
    fr = analyze(ws, now=datetime(2026, 3, 1)).friction
    rows = {(r.from_stage, r.to_stage, r.segment): r for r in fr.rows}
    mql, sql = rows[("MQL", "SQL", None)], rows[("SQL", "Opportunity", None)]
    assert mql.target_rate == 0.9 and mql.target_source.startswith("configured target")  # beats the benchmark
    # (target - rate) x entered x downstream x deal size, per the period
    assert mql.recoverable_per_year == pytest.approx((0.9 - 2 / 3) * 3 * (1 / 2) * 10000)
    assert sql.recoverable_per_year == pytest.approx((0.75 - 1 / 2) * 2 * 1 * 10000)
    assert [(r.from_stage, r.segment) for r in fr.rows[:2]] == [("SQL", None), ("MQL", None)]  # by recoverable
    assert fr.total_recoverable() == pytest.approx(mql.recoverable_per_year + sql.recoverable_per_year)


def test_friction_feeds_findings_and_json(ws: Workspace) -> None:
    result = analyze(ws, now=datetime(2026, 3, 1))
    ids = {f.finding_id for f in findings_of(result)}
    assert {"friction:1", "friction:2", "friction:3"} <= ids
    data = result.to_dict()
    top = data["friction"]["rows"][0]
    assert top["revenue_impact"] == top["value_of_all_dropoffs_per_year"] == pytest.approx(10000)
    assert top.keys() >= {"rate", "target_rate", "target_source", "recoverable_per_year"}
    assert data["drop_offs"] == []  # 4 people: nothing is significant


def test_config_benchmarks_replace_hide_and_add(ws: Workspace) -> None:
    from leadjourney.analysis.benchmarks import benchmarks_in_effect

    text = ws.config_path.read_text("utf-8") + (
        '\n[[benchmarks]]\nkey = "mql_sql_average"\nlow = 0.97\nhigh = 0.99\ncitation = "board target 2027"\n'
        '\n[[benchmarks]]\nkey = "contacted_share"\nenabled = false\n'
        '\n[[benchmarks]]\nkey = "lead_mql_ours"\nmetric = "conversion_rate"\ntransition = "Lead->MQL"\n'
        'low = 0.5\nlabel = "Our Lead->MQL goal"\n'
    )
    ws.config_path.write_text(text, "utf-8")
    ws = Workspace.open(ws.root)
    effect = {b.key: b for b in benchmarks_in_effect(ws.config)}
    assert "contacted_share" not in effect
    assert (effect["mql_sql_average"].low, effect["mql_sql_average"].citation) == (0.97, "board target 2027")
    assert effect["mql_sql_average"].transition == "MQL->SQL"  # kept from the built-in
    result = analyze(ws, now=datetime(2026, 3, 1))
    data = result.to_dict()
    mql_sql = next(t for t in data["funnel"]["transitions"] if (t["from"], t["to"]) == ("MQL", "SQL"))
    assert "mql_sql_average" in mql_sql["benchmarks"]
    lead_mql = next(t for t in data["funnel"]["transitions"] if (t["from"], t["to"]) == ("Lead", "MQL"))
    assert lead_mql["benchmarks"] == ["lead_mql_ours"]
    # MQL->SQL converts 2 of 3 here; its 95% interval top (0.94) is below 0.97: now a drop-off by the config's figure
    assert any((d.from_stage, d.to_stage, d.segment) == ("MQL", "SQL", None) for d in result.friction.drop_offs)
    assert "\\[config\\]" in result.to_markdown()  # brackets escaped: Markdown shows them as text


def test_invalid_benchmark_names_the_key(tmp_path: Path) -> None:
    from leadjourney.config import default_config_text, parse_config
    from leadjourney.errors import ConfigError

    with pytest.raises(ConfigError, match=r"benchmarks\[0\]\.high"):
        parse_config(default_config_text() + '\n[[benchmarks]]\nkey = "x"\nlow = 0.5\nhigh = 0.1\n')
    with pytest.raises(ConfigError, match=r"benchmarks\[0\]\.lowest"):
        parse_config(default_config_text() + '\n[[benchmarks]]\nkey = "x"\nlowest = 0.5\n')


def test_people_still_in_flight_are_not_counted_as_lost(tmp_path: Path) -> None:
    """D entered MQL a day before the as-of date: under the p90 of completed MQL->SQL waits (1.9 d), in flight."""
    ws = tiny(tmp_path / "ws", leads=LEADS + "E,2026-01-01T00:00:00Z,seo\n",
              stage_events=EVENTS + "D,MQL,2026-01-30T00:00:00Z\n", opportunities=OPPS)
    result = analyze(ws, now=datetime(2026, 3, 1))
    times = {(r.from_stage, r.to_stage): r for r in result.time_in_stage.rows}
    assert times[("MQL", "SQL")].p90_days == pytest.approx(1.9)  # completed: A 1 d, B 2 d
    assert times[("MQL", "SQL")].n_in_flight == 1  # D (1 d); C has waited 28 d: lost
    fr = result.friction
    row = next(r for r in fr.rows if (r.from_stage, r.to_stage, r.segment) == ("MQL", "SQL", None))
    assert (row.entered, row.dropped, row.in_flight, row.lost) == (4, 2, 1, 1)
    assert row.value_of_all_dropoffs_per_year == pytest.approx(1 * 10000 * (1 / 2))  # per the period
    assert result.to_dict()["friction"]["rows"][0].keys() >= {"in_flight", "lost"}
