"""Workflows: what a command (or a notebook) asks for, start to finish, over the layers below.

Each workflow opens the workspace it is given (a :class:`~leadjourney.workspace.Workspace` or a folder),
reports through a :class:`~leadjourney.progress.Progress` callback, returns a typed result and never prints:
the CLI parses its arguments, calls one workflow and renders what it returns. The modules import the heavy
layers inside the functions, so importing this package costs next to nothing.
"""

from leadjourney.workflows.analyze import AnalyzeRun, analyze
from leadjourney.workflows.demo import DemoRun, demo_scenario, run_demo
from leadjourney.workflows.eventlog import event_log
from leadjourney.workflows.export_tables import export_tables
from leadjourney.workflows.generate import Generated, generate_into
from leadjourney.workflows.ingest import FileSource, ingest
from leadjourney.workflows.journey_map import journey_map
from leadjourney.workflows.monitor import run_monitor
from leadjourney.workflows.pull import PullRun, pull
from leadjourney.workflows.quality import QualityRun, check_quality
from leadjourney.workflows.recommend import recommend
from leadjourney.workflows.report import ReportRun, build_report
from leadjourney.workflows.selection import filters_of, select
from leadjourney.workflows.tables import TableRun, paths, personas, touchpoints
from leadjourney.workflows.workspace import init_workspace, open_workspace

__all__ = [
    "AnalyzeRun",
    "DemoRun",
    "FileSource",
    "Generated",
    "PullRun",
    "QualityRun",
    "ReportRun",
    "TableRun",
    "analyze",
    "build_report",
    "check_quality",
    "demo_scenario",
    "event_log",
    "export_tables",
    "filters_of",
    "generate_into",
    "ingest",
    "init_workspace",
    "journey_map",
    "open_workspace",
    "paths",
    "personas",
    "pull",
    "recommend",
    "run_demo",
    "run_monitor",
    "select",
    "touchpoints",
]
