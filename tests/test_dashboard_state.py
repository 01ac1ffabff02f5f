"""The dashboard reads the workspace's state (last ingest, baseline snapshot) again only when the
database changed, and new data or a new baseline shows without a restart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from conftest import csv_workspace
from leadjourney.analysis import analyze
from leadjourney.analysis.findings import store
from leadjourney.analysis.journeys import Filters
from leadjourney.dashboard import DashboardData
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

LEADS = "lead_id,created_at,source\n" + "".join(f"L{i},2026-01-0{1 + i % 5}T00:00:00Z,seo\n" for i in range(6))
EVENTS = "lead_id,stage,entered_at\n" + "".join(f"L{i},MQL,2026-01-0{2 + i % 5}T00:00:00Z\n" for i in range(4))
NOW = datetime(2026, 2, 1)


class CountingWorkspace(Workspace):
    """A workspace that records each connection opened to its database."""

    opened: list[dict[str, Any]]

    def connect(self, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        self.opened.append(kwargs)
        return super().connect(**kwargs)


def test_state_is_read_again_only_after_the_database_changed(tmp_path: Path) -> None:
    ws = csv_workspace(tmp_path / "ws", leads=LEADS, stage_events=EVENTS)
    counted = CountingWorkspace(ws.root, ws.config)
    counted.opened = opened = []
    data = DashboardData(counted, disk=False)
    first = data.state()
    assert len(opened) == 1  # the first read opens the database
    opened.clear()
    assert data.state() is first and data.state() is first and opened == []  # unchanged: no connection
    assert data.view(Filters()).analysis.n_people == 6 and first.baseline_id is None

    store(ws, analyze(ws, now=NOW), baseline=True)  # a new baseline snapshot
    second = data.state()
    assert second.baseline_id is not None and second.freshness == first.freshness

    (ws.root / "leads.csv").write_text(LEADS + "L9,2026-01-03T00:00:00Z,paid_search\n")
    ingest(ws)  # new data: a new generation, shown on the next request
    third = data.state()
    assert third.freshness is not None and first.freshness is not None and third.freshness > first.freshness
    assert data.generation(third) != data.generation(first)
    assert data.view(Filters()).analysis.n_people == 7
    opened.clear()
    assert data.state() is third and opened == []
