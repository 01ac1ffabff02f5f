"""leadjourney: inbound lead journey mapping from CRM, marketing-automation and web data.

Python API (the CLI's commands, for notebooks and scripts). Every workflow takes a workspace (a folder or a
:class:`Workspace`), an optional ``progress`` callback ``(message, done, total)``, returns a typed result and
prints nothing; every result table has ``to_arrow()`` and ``to_pandas()`` (pandas optional)::

    import leadjourney as lj

    ws = lj.init_workspace("acme", exist_ok=True)
    lj.generate_into(ws, leads=2_000, seed=3)      # your exports: lj.ingest(ws, file=lj.FileSource("contacts.csv", "hubspot_contacts"))
    print(lj.ingest(ws).to_pandas()[["name", "status", "rows_read"]])
    print(lj.check_quality(ws).report.to_pandas()[["name", "severity", "count"]])

    seo = lj.select(ws, sources=["seo"])  # checked: an unknown value lists the valid ones
    result = lj.analyze(ws, seo).analysis
    print(result.funnel.to_pandas()[["from", "to", "entered", "converted", "rate", "status"]])
    print(result.friction.to_arrow().num_rows, "friction rows")
    print(lj.analyze(ws).analysis.speed_to_lead.to_pandas().T)

    lj.journey_map(ws, formats=["html"], tables=False)  # out/journey_map.html

The other workflows: ``open_workspace``, ``touchpoints``, ``personas``, ``paths``, ``event_log``, ``recommend``,
``build_report`` (out/report/), ``run_monitor`` (the period checks against the stored baseline), ``generate``
(files only); docs/example.ipynb is a short notebook.

Errors derive from :class:`LeadJourneyError`; each message is one line naming the problem and the next step.
Heavy libraries (DuckDB, Ibis, pyarrow) load on first use, so ``import leadjourney`` is quick.
"""

import importlib as _importlib
import typing as _typing

import leadjourney.generate as _generate_package  # noqa: F401  (lazy packages, loaded first: their names are
import leadjourney.ingest as _ingest_package  # noqa: F401   the functions of _LAZY below, not these packages)
from leadjourney import lazy_compilers as _lazy_compilers
from leadjourney.errors import (
    BadFileError,
    ConfigError,
    DashboardError,
    DataQualityWarning,
    EmptySelectionError,
    IngestError,
    LeadJourneyError,
    MapError,
    MonitorError,
    NoDataError,
    OptionError,
    PullError,
    SelectionError,
    WorkspaceError,
)

if _typing.TYPE_CHECKING:
    from leadjourney.analysis import Analysis, Filters
    from leadjourney.config import Config, load_config
    from leadjourney.generate import Dirt, GeneratedData
    from leadjourney.ingest import IngestReport
    from leadjourney.monitor import MonitorRun
    from leadjourney.quality import QualityReport, run_quality
    from leadjourney.reports.package import ReportPackage
    from leadjourney.tabular import Tabular
    from leadjourney.workflows.analyze import AnalyzeRun, analyze
    from leadjourney.workflows.eventlog import event_log
    from leadjourney.workflows.generate import Generated, generate, generate_into
    from leadjourney.workflows.ingest import FileSource, ingest
    from leadjourney.workflows.journey_map import MapRun, journey_map
    from leadjourney.workflows.monitor import run_monitor
    from leadjourney.workflows.quality import QualityRun, check_quality
    from leadjourney.workflows.recommend import recommend
    from leadjourney.workflows.report import ReportRun, build_report
    from leadjourney.workflows.selection import select
    from leadjourney.workflows.tables import TableRun, paths, personas, touchpoints
    from leadjourney.workflows.workspace import init_workspace, open_workspace
    from leadjourney.workspace import Workspace

for _package in ("generate", "ingest"):  # importing a package binds it to its name here: unbound, the name
    globals().pop(_package, None)  # is looked up in _LAZY (once loaded, a package is never bound again)
_lazy_compilers.install()  # Ibis loads the SQL compiler of the dialect in use only (nothing imported yet)

__version__ = "0.1.0"

_LAZY = {  # name -> the module it is loaded from on first use (the workflows too: `leadjourney --help` loads none)
    "AnalyzeRun": "leadjourney.workflows.analyze",
    "FileSource": "leadjourney.workflows.ingest",
    "Generated": "leadjourney.workflows.generate",
    "QualityRun": "leadjourney.workflows.quality",
    "ReportRun": "leadjourney.workflows.report",
    "TableRun": "leadjourney.workflows.tables",
    "analyze": "leadjourney.workflows.analyze",
    "build_report": "leadjourney.workflows.report",
    "check_quality": "leadjourney.workflows.quality",
    "event_log": "leadjourney.workflows.eventlog",
    "generate": "leadjourney.workflows.generate",
    "generate_into": "leadjourney.workflows.generate",
    "ingest": "leadjourney.workflows.ingest",
    "init_workspace": "leadjourney.workflows.workspace",
    "journey_map": "leadjourney.workflows.journey_map",
    "open_workspace": "leadjourney.workflows.workspace",
    "paths": "leadjourney.workflows.tables",
    "personas": "leadjourney.workflows.tables",
    "recommend": "leadjourney.workflows.recommend",
    "run_monitor": "leadjourney.workflows.monitor",
    "select": "leadjourney.workflows.selection",
    "touchpoints": "leadjourney.workflows.tables",
    "Analysis": "leadjourney.analysis",
    "Config": "leadjourney.config",
    "Dirt": "leadjourney.generate",
    "Filters": "leadjourney.analysis",
    "GeneratedData": "leadjourney.generate",
    "IngestReport": "leadjourney.ingest",
    "MapRun": "leadjourney.workflows.journey_map",
    "MonitorRun": "leadjourney.monitor",
    "QualityReport": "leadjourney.quality",
    "ReportPackage": "leadjourney.reports.package",
    "Tabular": "leadjourney.tabular",
    "Workspace": "leadjourney.workspace",
    "load_config": "leadjourney.config",
    "run_quality": "leadjourney.quality",
}


def __getattr__(name: str) -> _typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'leadjourney' has no attribute {name!r}")
    value = getattr(_importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Analysis",
    "AnalyzeRun",
    "BadFileError",
    "Config",
    "ConfigError",
    "DashboardError",
    "DataQualityWarning",
    "Dirt",
    "EmptySelectionError",
    "FileSource",
    "Filters",
    "Generated",
    "GeneratedData",
    "IngestError",
    "IngestReport",
    "LeadJourneyError",
    "MapError",
    "MapRun",
    "MonitorError",
    "MonitorRun",
    "NoDataError",
    "OptionError",
    "PullError",
    "QualityReport",
    "QualityRun",
    "ReportPackage",
    "ReportRun",
    "SelectionError",
    "TableRun",
    "Tabular",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "analyze",
    "build_report",
    "check_quality",
    "event_log",
    "generate",
    "generate_into",
    "ingest",
    "init_workspace",
    "journey_map",
    "load_config",
    "open_workspace",
    "paths",
    "personas",
    "recommend",
    "run_monitor",
    "run_quality",
    "select",
    "touchpoints",
]
