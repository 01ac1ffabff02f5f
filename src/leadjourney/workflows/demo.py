"""The whole product on generated data, from an empty folder to every deliverable, with a planted decline
for the monitor to find."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from leadjourney.progress import Progress, silent
from leadjourney.workflows.analyze import AnalyzeRun, analyze
from leadjourney.workflows.generate import generate_into
from leadjourney.workflows.quality import QualityRun, check_quality
from leadjourney.workflows.workspace import init_workspace

if TYPE_CHECKING:
    from leadjourney.generate import Scenario
    from leadjourney.ingest import IngestReport
    from leadjourney.monitor import MonitorRun
    from leadjourney.reports.recommendations import Recommendations
    from leadjourney.reports.status import EngagementStatus
    from leadjourney.workflows.journey_map import MapRun
    from leadjourney.workspace import Workspace

DEMO_DECLINE_FACTOR = 0.6  # the planted MQL->SQL decline: 60% of the usual conversion probability


@dataclass(frozen=True)
class DemoRun:
    """Everything the demo produced, for the caller to show."""

    workspace: Workspace
    scenario: Scenario
    ingest: IngestReport
    quality: QualityRun
    analysis: AnalyzeRun
    map: MapRun
    recommendations: Recommendations
    monitor: MonitorRun
    status: EngagementStatus
    files: list[Path]  # everything under out/


def demo_scenario(ws: Workspace, end: date) -> Scenario:
    """The demo's planted decline: MQL->SQL conversion down by 40% for leads created from the month before
    the first one the monitor judges on ``end`` (MQL->SQL may wait a few days longer than maturity_days),
    so its monthly run has two declining months to flag whatever the day of the month."""
    from leadjourney.generate import Decline, Scenario
    from leadjourney.monitor import judged_periods

    s = ws.config.monitor
    first = judged_periods("month", end, s.consecutive_periods, s.maturity_days)[0].previous()
    return Scenario(declines=(Decline(first.start, "MQL->SQL", DEMO_DECLINE_FACTOR),))


def _step(progress: Progress, name: str) -> Progress:
    def report(message: str, done: int, total: int) -> None:
        progress(f"{name}: {message}", done, total)
    return report


def run_demo(directory: str | Path, *, leads: int = 20_000, seed: int = 7, progress: Progress = silent,
             today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> DemoRun:
    """init, generate (with the planted decline), ingest, quality, analyze (stored as the baseline), the map
    with its tables, recommendations, definitions, the documentation package, a static dashboard, a monitor
    pass against the leads created before the decline, and the engagement status."""
    from leadjourney.workflows.ingest import ingest
    from leadjourney.workflows.journey_map import journey_map

    ws = init_workspace(directory, exist_ok=True)
    scenario = demo_scenario(ws, today())
    generate_into(ws, leads=leads, seed=seed, scenario=scenario, progress=_step(progress, "generate"))
    report = ingest(ws, force=True, prune=True, progress=_step(progress, "ingest"))
    quality = check_quality(ws, progress=_step(progress, "quality"))
    analyzed = analyze(ws, save=True, baseline=True, progress=_step(progress, "analyze"))
    run = journey_map(ws, progress=_step(progress, "journey map"))
    recs = _documents(ws, run, progress)
    monitored = _monitor(ws, scenario)
    from leadjourney.reports.status import engagement_status, write_status

    status = engagement_status(ws)
    write_status(status, ws.out_dir)
    files = sorted(p for p in ws.out_dir.rglob("*") if p.is_file())
    return DemoRun(ws, scenario, report, quality, analyzed, run, recs, monitored, status, files)


def _documents(ws: Workspace, run: MapRun, progress: Progress) -> Recommendations:
    """The recommendations, the lead stage definitions, the documentation package, a static dashboard."""
    from leadjourney.analysis.journeys import Filters
    from leadjourney.reports import recommendations as recs_module
    from leadjourney.reports.definitions import definitions_document, write_document
    from leadjourney.workflows.dashboard import export_dashboard
    from leadjourney.workflows.report import build_report

    recs = recs_module.recommendations_for(ws, run.analysis)
    recs.write(ws.out_dir)
    write_document(definitions_document(ws), ws.out_dir)
    build_report(ws, progress=_step(progress, "report"))
    export_dashboard(ws, Filters(), ws.out_dir / "dashboard.html")  # as `dashboard --export` writes it
    return recs


def _monitor(ws: Workspace, scenario: Scenario) -> MonitorRun:
    """A monitor pass against a post-project baseline (the leads created before the planted decline); the run
    written to out/monitor.json."""
    from leadjourney.analysis import analyze as compute
    from leadjourney.analysis.findings import store
    from leadjourney.analysis.journeys import Filters
    from leadjourney.monitor import run_monitor

    since = scenario.declines[0].since
    store(ws, compute(ws, filters=Filters(None, since - timedelta(days=1))), baseline=True, findings=False)
    monitored = run_monitor(ws)
    (ws.out_dir / "monitor.json").write_text(monitored.to_json(), "utf-8")
    return monitored
