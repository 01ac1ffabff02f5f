"""leadjourney: inbound lead journey mapping from CRM, marketing-automation and web data."""

from leadjourney.errors import (
    BadFileError,
    ConfigError,
    DataQualityWarning,
    IngestError,
    LeadJourneyError,
    WorkspaceError,
)

__version__ = "0.1.0"

__all__ = [
    "BadFileError",
    "ConfigError",
    "DataQualityWarning",
    "IngestError",
    "LeadJourneyError",
    "WorkspaceError",
    "__version__",
]
