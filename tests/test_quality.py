"""Each quality check finds exactly the planted problems in a small hand-made workspace."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from leadjourney.ingest import ingest
from leadjourney.quality import CHECKS, run_quality
from leadjourney.workspace import Workspace

LEADS = """lead_id,created_at,source,email,job_title
L1,2026-01-01T00:00:00Z,Organic Search,a@example.com,CTO
L2,2026-01-05T00:00:00Z,PPC, A@Example.com ,CTO
L3,2026-01-01T00:00:00Z,,c@example.com,CEO
L4,2026-01-01T00:00:00Z,tiktok,d@example.com,CEO
L5,2062-01-01T00:00:00Z,seo,e@example.com,CEO
L6,2026-01-01T00:00:00Z,seo,f@example.com,Graduate Student
L7,2026-01-01T00:00:00Z,seo,g@example.com,Student
L8,2026-01-01T00:00:00Z,seo,h@example.com,CEO
L9,2026-01-10T00:00:00Z,seo,i@example.com,CEO
L10,2026-01-01T00:00:00Z,seo,j@example.com,CEO
L11,2026-01-01T00:00:00Z,seo,k@example.com,CEO
L12,2026-01-01T00:00:00Z,seo,l@example.com,CEO
L1,2026-01-01T00:00:00Z,Organic Search,a@example.com,CTO
"""
EVENTS = """lead_id,stage,entered_at
L1,MQL,2026-01-02T00:00:00Z
L1,Sales Qualified Lead,2026-01-03T00:00:00Z
L1,Opportunity,2026-01-04T00:00:00Z
L1,customer,2026-02-01T00:00:00Z
L6,MQL,2026-01-02T00:00:00Z
L8,SQL,2026-01-03T00:00:00Z
L9,MQL,2026-01-05T00:00:00Z
L10,MQL,2026-01-02T00:00:00Z
L10,SQL,2026-01-03T00:00:00Z
L10,MQL,2026-01-09T00:00:00Z
L11,MQL,
L12,Recycled,2026-01-03T00:00:00Z
LZ,MQL,2026-01-03T00:00:00Z
"""
TOUCHPOINTS = """lead_id,occurred_at,channel,kind
L1,2026-01-01T00:00:00Z,web,form_fill
LX,2026-01-01T00:00:00Z,web,page_view
"""
OPPORTUNITIES = """opportunity_id,lead_id,created_at,closed_at,amount,is_won
O1,L1,2026-01-04T00:00:00Z,2026-02-01T00:00:00Z,30000,true
O2,LY,2026-01-04T00:00:00Z,,1000,
O3,,2026-01-04T00:00:00Z,,1000,
"""
EXPECTED = {
    "duplicate_people": ["L2"],
    "exact_duplicate_rows": ["leads.csv:14"],
    "missing_stage_timestamps": ["L11"],
    "skipped_stages": ["L8"],
    "out_of_order": ["L9"],
    "stage_regressions": ["L10"],
    "leads_without_source": ["L3"],
    "unknown_stages": ["L12"],
    "unknown_channels": ["L4"],
    "future_dates": ["L5"],
    "orphan_opportunities": ["O2", "O3"],
    "orphan_touchpoints": ["LX"],
    "orphan_stage_events": ["LZ"],
    "unqualified_in_funnel": ["L6"],
    "close_dates_without_outcome": [],
    "placeholder_values": [],
    "created_from_stage_event": [],
    "undated_leads": [],
    "mixed_utc_offsets": [],
    "duplicate_columns": [],  # what ingest warned of: tests/security/test_ingest_bad_files.py plants them
    "epoch_numbers": [],
    "decimal_ids": [],
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root: Path = tmp_path_factory.mktemp("quality") / "ws"
    ws = Workspace.init(root)
    files = {"leads": LEADS, "stage_events": EVENTS, "touchpoints": TOUCHPOINTS, "opportunities": OPPORTUNITIES}
    for table, text in files.items():
        (root / f"{table}.csv").write_text(text)
    ws.set_sources([{"name": t, "path": f"{t}.csv", "format": "csv", "table": t} for t in files])
    ingest(ws)
    return ws


def test_every_check_finds_exactly_what_was_planted(workspace: Workspace) -> None:
    report = run_quality(workspace, now=datetime(2026, 6, 1))
    assert {c.name for c in CHECKS} == set(EXPECTED)
    found = {r.name: r.examples for r in report.results}
    assert found == EXPECTED
    assert report.leads == 12
    assert report.result("orphan_opportunities").share == pytest.approx(2 / 3)
    assert report.result("skipped_stages").share == pytest.approx(1 / 12)


def test_clean_leads_pass(workspace: Workspace) -> None:
    report = run_quality(workspace, now=datetime(2026, 6, 1))
    flagged = {i for r in report.results for i in r.examples}
    assert "L1" not in flagged and "L7" not in flagged  # L7 is excluded but never advanced


def test_future_is_relative_to_now(workspace: Workspace) -> None:
    report = run_quality(workspace, now=datetime(2063, 1, 1))
    assert report.result("future_dates").count == 0


def test_renderings_carry_the_same_numbers(workspace: Workspace) -> None:
    report = run_quality(workspace, now=datetime(2026, 6, 1))
    data = json.loads(report.to_json())
    assert {r["name"]: r["count"] for r in data["results"]} == {k: len(v) for k, v in EXPECTED.items()}
    md = report.to_markdown()
    assert "| Stages skipped (e.g. SQL without MQL) | high | 1 | 8.3% | `L8` |" in md
    assert "| exact duplicate row | 1 | 0 |" in md
