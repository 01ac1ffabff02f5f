"""leadjourney: inbound lead journey mapping from CRM, marketing-automation and web data.

>>> import leadjourney as lj                                  # doctest: +SKIP
>>> ws = lj.Workspace.init("acme")                            # doctest: +SKIP
>>> ws.set_sources([{"name": "crm", "path": "contacts.csv", "format": "hubspot_contacts"}])  # doctest: +SKIP
>>> lj.ingest(ws); print(lj.run_quality(ws).to_markdown())    # doctest: +SKIP
"""

from leadjourney.config import Config, load_config
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
from leadjourney.generate import Dirt, GeneratedData, generate
from leadjourney.ingest import IngestReport, ingest
from leadjourney.quality import QualityReport, run_quality
from leadjourney.workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "BadFileError",
    "Config",
    "ConfigError",
    "DashboardError",
    "DataQualityWarning",
    "Dirt",
    "EmptySelectionError",
    "GeneratedData",
    "IngestError",
    "IngestReport",
    "LeadJourneyError",
    "MapError",
    "MonitorError",
    "NoDataError",
    "OptionError",
    "PullError",
    "QualityReport",
    "SelectionError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "generate",
    "ingest",
    "load_config",
    "run_quality",
]
