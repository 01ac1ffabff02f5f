"""The exceptions leadjourney raises.

Hierarchy::

    LeadJourneyError            root: the CLI prints its message on one line and exits non-zero
    ├── ConfigError             leadjourney.toml is missing, unreadable or has an invalid value
    ├── WorkspaceError          the folder is not a workspace, or its database is unusable
    └── IngestError             a source cannot be loaded at all (file-level problem)
        └── BadFileError        a file is unreadable: wrong encoding, not CSV/Parquet, missing columns

Row-level problems never raise: they go to the ``quarantine`` table.
"""

from __future__ import annotations


class LeadJourneyError(Exception):
    """Root of every error leadjourney raises on purpose; its message is meant for users."""


class ConfigError(LeadJourneyError):
    """Raised when the workspace configuration is missing or invalid."""


class WorkspaceError(LeadJourneyError):
    """Raised when a folder is not a usable workspace."""


class IngestError(LeadJourneyError):
    """Raised when a source cannot be ingested; the workspace is left unchanged."""


class BadFileError(IngestError):
    """Raised when a file cannot be read as the format it was declared to be."""


class DataQualityWarning(UserWarning):
    """Warned when data is usable but a caveat applies (filter with the warnings module)."""
