"""leadjourney: inbound lead journey mapping from CRM, marketing-automation and web data.

Python API (the CLI's commands, for notebooks and scripts). Every workflow takes a workspace (a folder or a
:class:`Workspace`), an optional ``progress`` callback ``(message, done, total)``, returns a typed result and
prints nothing; every result table has ``to_arrow()`` and ``to_pandas()`` (pandas optional)::

    import leadjourney as lj

    ws = lj.init_workspace("acme", exist_ok=True)
    lj.generate_into(ws, leads=2_000, seed=3)           # or: lj.ingest(ws, file=lj.FileSource(
    lj.ingest(ws)                                       #   "contacts.csv", "hubspot_contacts"))
    print(lj.check_quality(ws).report.to_markdown())
    seo = lj.select(ws, date_from="2026-01-01", sources=["seo"])   # checked: unknown values are an error
    result = lj.analyze(ws, seo).analysis                # save=True writes out/analysis.* and a snapshot
    result.funnel.to_pandas()                           # one row per transition, with its interval and status
    result.friction.to_arrow()                          # the friction ranking as a pyarrow.Table
    lj.journey_map(ws, formats=["html"]).files          # the map and its tables, written into out/
    lj.build_report(ws, formats=["md"]).files           # the documentation package in out/report/
    lj.run_monitor(ws, as_of="2026-07-01").verdicts      # the monitor's period checks

Errors derive from :class:`LeadJourneyError`; each message is one line naming the problem and the next step.
Heavy libraries (DuckDB, Ibis, pyarrow) load on first use, so ``import leadjourney`` is quick.
"""

import importlib as _importlib
import typing as _typing

import leadjourney.generate as _generate_package  # noqa: F401  (lazy packages, bound before the functions
import leadjourney.ingest as _ingest_package  # noqa: F401   of the same names below, which keep them)
from leadjourney.errors import (
    BadFileError,
    ConfigError,
    DataQualityWarning,
    EmptySelectionError,
    IngestError,
    LeadJourneyError,
    NoDataError,
    SelectionError,
    WorkspaceError,
)
from leadjourney.workflows import (
    AnalyzeRun,
    FileSource,
    Generated,
    QualityRun,
    ReportRun,
    analyze,
    build_report,
    check_quality,
    generate_into,
    ingest,
    init_workspace,
    journey_map,
    open_workspace,
    run_monitor,
    select,
)
from leadjourney.workflows.generate import generate

if _typing.TYPE_CHECKING:
    from leadjourney.analysis import Analysis, Filters
    from leadjourney.config import Config, load_config
    from leadjourney.generate import Dirt, GeneratedData
    from leadjourney.ingest import IngestReport
    from leadjourney.journeymap.make import MapRun
    from leadjourney.monitor import MonitorRun
    from leadjourney.quality import QualityReport, run_quality
    from leadjourney.reports.package import ReportPackage
    from leadjourney.tabular import Tabular
    from leadjourney.workspace import Workspace

__version__ = "0.1.0"

_LAZY = {  # name -> the module it is loaded from on first use
    "Analysis": "leadjourney.analysis",
    "Config": "leadjourney.config",
    "Dirt": "leadjourney.generate",
    "Filters": "leadjourney.analysis",
    "GeneratedData": "leadjourney.generate",
    "IngestReport": "leadjourney.ingest",
    "MapRun": "leadjourney.journeymap.make",
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
    "MapRun",
    "MonitorRun",
    "NoDataError",
    "QualityReport",
    "QualityRun",
    "ReportPackage",
    "ReportRun",
    "SelectionError",
    "Tabular",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "analyze",
    "build_report",
    "check_quality",
    "generate",
    "generate_into",
    "ingest",
    "init_workspace",
    "journey_map",
    "load_config",
    "open_workspace",
    "run_monitor",
    "run_quality",
    "select",
]
