"""One monitor pass: the latest judged period against the baseline, stored, alerts sent if asked."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from leadjourney.dates import parse_date
from leadjourney.errors import LeadJourneyError
from leadjourney.workflows.workspace import WorkspaceLike, open_workspace

if TYPE_CHECKING:
    from leadjourney.monitor import MonitorRun

PERIODS = ("month", "quarter")


def run_monitor(workspace: WorkspaceLike, period: str = "month", as_of: str | date | None = None,
                notify: bool = False) -> MonitorRun:
    """Judge the latest mature ``period`` (month or quarter) as of ``as_of`` (default today)."""
    from leadjourney.monitor import run_monitor as judge

    day = parse_date(as_of, "--as-of")
    if period not in PERIODS:
        raise LeadJourneyError(f"--period must be month or quarter, not {period!r}")
    return judge(open_workspace(workspace), period, day, notify)
