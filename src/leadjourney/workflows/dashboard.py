"""The monitoring dashboard: served (numbers for all leads ready before the first request, the other
selections precomputed in the background) or exported as a static HTML snapshot of one selection."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.workflows.workspace import WorkspaceLike, open_workspace
from leadjourney.workspace import databases_kept_open

if TYPE_CHECKING:
    from leadjourney.analysis import Filters


@dataclass(frozen=True)
class DashboardReady:
    """The server about to accept requests: how long the first page's numbers took, and from where."""

    url: str
    seconds: float
    from_cache: bool  # read from <workspace>/.dashboard-cache, not computed
    login: bool  # a login wall (auth_env) guards it


def export_dashboard(workspace: WorkspaceLike, filters: Filters, path: Path) -> Path:
    """A self-contained static HTML snapshot of the selection's dashboard, written to ``path``."""
    from leadjourney.dashboard import DashboardData, export_html
    from leadjourney.dashboard.app import page_title
    from leadjourney.dashboard.campaigns_card import card_html

    with databases_kept_open(False):  # the dashboard's data opens the database per use, as its server does
        ws = open_workspace(workspace)
        data = DashboardData(ws)
        view = data.view(filters)
        export_html(view, path, title=page_title(ws.config.name), shown=data.owner_keys(view.filters),
                    campaigns=card_html(data.saved_all_leads(), data.freshness()))
    return path


def serve_dashboard(workspace: WorkspaceLike, *, host: str = "127.0.0.1", port: int = 8050,
                    behind_proxy: bool = False, ready: Callable[[DashboardReady], None] = lambda _: None,
                    precomputed: Callable[[int, float], None] = lambda n, s: None) -> None:
    """Serve the dashboard until the process is stopped. The bind is checked first (anything but loopback
    needs a login: a :class:`~leadjourney.errors.DashboardError`); ``ready`` is called once the numbers for
    all leads are there (before the precompute starts), ``precomputed(results, seconds)`` when the background precompute is done."""
    from leadjourney.analysis.journeys import Filters
    from leadjourney.dashboard import DashboardData, auth_from_env, check_bind, create_app
    from leadjourney.dashboard.app import render

    with databases_kept_open(False):  # a server: each request opens the database and lets it go
        ws = open_workspace(workspace)
        data = DashboardData(ws)
        auth = auth_from_env(ws.config)
        check_bind(host, auth, ws.config.dashboard_auth_env, behind_proxy=behind_proxy)
        started = time.perf_counter()
        data.view(Filters())  # the first page is ready before the server accepts a request
        data.owners()
        seconds = time.perf_counter() - started
        dash_app = create_app(ws, data=data, auth=auth, behind_proxy=behind_proxy)
        ready(DashboardReady(f"http://{host}:{port}", seconds, not data.computed, auth is not None))
        data.start_background(precomputed, warm=render)
        dash_app.run(host=host, port=port, debug=False)
