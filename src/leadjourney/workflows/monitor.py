"""One monitor pass: the latest judged period against the baseline, stored, alerts sent if asked."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from leadjourney.dates import parse_date
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.monitor import MonitorRun



def run_monitor(workspace: WorkspaceLike, period: str = "month", as_of: str | date | None = None,
                notify: bool = False) -> MonitorRun:
    """Judge the latest mature ``period`` (month or quarter) as of ``as_of`` (default today)."""
    from leadjourney.monitor import run_monitor as judge
    from leadjourney.monitor.periods import check_period

    day = parse_date(as_of, "--as-of")
    check_period(period)  # before the workspace is read
    return judge(open_workspace(workspace), period, day, notify)
