"""The dashboard's background precompute gives way to a request: the request interrupts the query in
progress (a real DuckDB interrupt) instead of waiting for the whole computation, and the background
computes that selection again afterwards."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import pytest

from conftest import generated_workspace
from leadjourney.analysis.journeys import Filters
from leadjourney.analysis.report import analyze_journeys
from leadjourney.dashboard import DashboardData
from leadjourney.workspace import Workspace

LONG_QUERY = "SELECT count(*) FROM range(1000000000000)"  # hours, unless interrupted


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws, _ = generated_workspace(tmp_path_factory.mktemp("interrupt") / "ws", n_leads=600, seed=8,
                                end=date(2026, 6, 30), days=90)
    return ws


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_a_request_interrupts_the_background_and_the_background_computes_again(ws: Workspace) -> None:
    background = Filters(sources=("seo",))
    started, attempts = threading.Event(), []

    def slow_first(journeys: Any, workspace: str) -> Any:
        attempts.append(journeys.filters)
        if journeys.filters == background and len(attempts) == 1:  # the background's first attempt: a long query
            started.set()
            journeys.backend.con.sql(LONG_QUERY).fetchall()
        return analyze_journeys(journeys, workspace)

    data = DashboardData(ws, disk=False, analyze=slow_first)
    data.view(Filters())  # the options come from the unfiltered view
    attempts.clear()
    worker = threading.Thread(target=data.precompute, kwargs={"selections": [background]}, daemon=True)
    worker.start()
    assert started.wait(60)
    request = Filters(personas=("smb_founder",))
    served: list[Any] = []
    asking = threading.Thread(target=lambda: served.append(data.view(request)), daemon=True)
    asking.start()
    asking.join(60)
    assert served and served[0].filters == request  # answered, not stuck behind the long query
    worker.join(60)
    assert not worker.is_alive() and data.interrupted == 1
    assert attempts[0] == background and attempts.count(background) == 2  # computed again after the request
    assert data.view(background).analysis.filters.sources == ("seo",)


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_a_request_for_what_the_background_is_computing_waits_for_it(ws: Workspace) -> None:
    wanted = Filters(sources=("paid_search",), personas=("smb_founder",))
    started, release, attempts = threading.Event(), threading.Event(), []

    def held(journeys: Any, workspace: str) -> Any:  # the background's computation, held until released
        attempts.append(journeys.filters)
        if journeys.filters == wanted:
            started.set()
            assert release.wait(60)
        return analyze_journeys(journeys, workspace)

    data = DashboardData(ws, disk=False, analyze=held)
    data.view(Filters())
    interrupted = data.interrupted
    worker = threading.Thread(target=lambda: data.view(wanted, background=True), daemon=True)
    worker.start()
    assert started.wait(60)
    served: list[Any] = []
    asking = threading.Thread(target=lambda: served.append(data.view(wanted)), daemon=True)
    asking.start()
    asking.join(0.5)
    assert asking.is_alive() and data.interrupted == interrupted  # waiting for the background, not interrupting it
    release.set()
    asking.join(60)
    worker.join(60)
    assert served and served[0].filters == wanted
    assert attempts.count(wanted) == 1  # computed once, by the background
