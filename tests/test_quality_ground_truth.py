"""End to end: generate dirty data, ingest it, and recover every planted problem exactly."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import fetch, generated_sources
from leadjourney.generate import generate
from leadjourney.ingest import ingest
from leadjourney.quality import QualityReport, run_quality
from leadjourney.workspace import Workspace

pytestmark = pytest.mark.slow  # 6,000 generated leads in two formats: make test-integration runs it

END = date(2026, 6, 30)


def _build(root: Path, file_format: str) -> tuple[Workspace, QualityReport, dict[str, Any]]:
    ws = Workspace.init(root)
    data = generate(root / "data", n_leads=6000, seed=11, end=END, days=120, file_format=file_format)  # type: ignore[arg-type]
    ws.set_sources(generated_sources(data, root))
    ingest(ws)
    report = run_quality(ws, now=datetime(2026, 7, 1))
    return ws, report, json.loads(data.ground_truth_path.read_text())


@pytest.fixture(scope="module", params=["parquet", "csv"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return _build(tmp_path_factory.mktemp(request.param) / "ws", request.param)


def test_counts_equal_what_was_planted(built) -> None:  # type: ignore[no-untyped-def]
    _, report, truth = built
    planted = truth["planted"]
    expected = {
        "duplicate_people": len(planted["duplicate_people"]),
        "exact_duplicate_rows": planted["exact_duplicate_lead_rows"] + planted["exact_duplicate_event_rows"],
        "missing_stage_timestamps": len({lead for lead, _ in planted["missing_timestamps"]}),
        "skipped_stages": len(planted["skipped_stages"]),
        "out_of_order": len(planted["out_of_order"]),
        "stage_regressions": len(planted["regressions"]),
        "leads_without_source": len(planted["missing_source"]),
        "unknown_stages": len({lead for lead, _ in planted["unknown_stages"]}),
        "unknown_channels": len({lead for lead, _ in planted["unknown_channels"]}),
        "future_dates": len(planted["future_dates"]),
        "orphan_opportunities": len(planted["orphan_opportunities"]),
        "orphan_touchpoints": len(set(planted["orphan_touchpoints"]["lead_ids"])),
        "orphan_stage_events": 0,
        "unqualified_in_funnel": len(planted["unqualified_in_funnel"]),
        "close_dates_without_outcome": 0,
        "placeholder_values": 0,
        "created_from_stage_event": 0,
        "undated_leads": 0,
        "duplicate_columns": 0,  # the generator writes none of these file-level oddities
        "epoch_numbers": 0,
        "decimal_ids": 0,
    }
    counts = {r.name: r.count for r in report.results}
    # the generator writes timestamps in mixed zone formats: offsets of both EST and EDT, among others
    assert counts.pop("mixed_utc_offsets") > 0
    assert counts == expected
    not_planted = {"orphan_stage_events", "close_dates_without_outcome", "placeholder_values",
                   "created_from_stage_event", "undated_leads", "duplicate_columns", "epoch_numbers", "decimal_ids"}
    assert all(n > 0 for k, n in expected.items() if k not in not_planted)


def test_flagged_ids_are_the_planted_ones(built) -> None:  # type: ignore[no-untyped-def]
    ws, report, truth = built
    planted = truth["planted"]
    examples = {
        "duplicate_people": {d for d, _ in planted["duplicate_people"]},
        "skipped_stages": set(planted["skipped_stages"]),
        "out_of_order": set(planted["out_of_order"]),
        "stage_regressions": set(planted["regressions"]),
        "leads_without_source": set(planted["missing_source"]),
        "future_dates": set(planted["future_dates"]),
        "orphan_opportunities": set(planted["orphan_opportunities"]),
        "unqualified_in_funnel": set(planted["unqualified_in_funnel"]),
    }
    for name, ids in examples.items():
        assert set(report.result(name).examples) <= ids, name
    # the full sets, straight from the canonical tables
    dup = {r[0] for r in fetch(ws, "SELECT lead_id FROM leads WHERE duplicate_of IS NOT NULL")}
    assert dup == examples["duplicate_people"]
    survivors = {r[0]: r[1] for r in fetch(ws, "SELECT lead_id, duplicate_of FROM leads WHERE duplicate_of IS NOT NULL")}
    assert survivors == {d: o for d, o in planted["duplicate_people"]}
    excluded = {r[0] for r in fetch(ws, "SELECT lead_id FROM leads WHERE excluded_as IS NOT NULL")}
    assert excluded == {lead for lead, _ in planted["unqualified_contacts"]}


def test_timestamps_in_every_zone_land_on_the_true_instant(built) -> None:  # type: ignore[no-untyped-def]
    ws, _, truth = built
    future = set(truth["planted"]["future_dates"])
    with ws.connect() as con:
        truth_file = next(ws.root.joinpath("data").glob("ground_truth_leads.parquet"))
        wrong = con.execute(f"""
            SELECT count(*) FROM leads l JOIN read_parquet('{truth_file}') t USING (lead_id)
            WHERE l.created_at <> t.created_at AND l.lead_id NOT IN (SELECT unnest(?::VARCHAR[]))
        """, [sorted(future)]).fetchall()[0][0]
        checked = con.execute(f"SELECT count(*) FROM leads JOIN read_parquet('{truth_file}') USING (lead_id)").fetchall()[0][0]
    assert checked > 5000 and wrong == 0


def test_channels_normalize_to_the_planted_channel(built) -> None:  # type: ignore[no-untyped-def]
    ws, _, truth = built
    odd = {lead for lead, _ in truth["planted"]["unknown_channels"]} | set(truth["planted"]["missing_source"])
    with ws.connect() as con:
        truth_file = next(ws.root.joinpath("data").glob("ground_truth_leads.parquet"))
        rows = con.execute(f"""
            SELECT l.lead_id, l.source, t.channel FROM leads l JOIN read_parquet('{truth_file}') t USING (lead_id)
        """).fetchall()
    mismatched = [r for r in rows if r[0] not in odd and r[1] != r[2]]
    assert len(rows) > 5000 and mismatched == []
