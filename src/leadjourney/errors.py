"""The exceptions leadjourney raises.

Hierarchy::

    LeadJourneyError            root: the CLI prints its message on one line and exits non-zero
    ├── ConfigError             leadjourney.toml is missing, unreadable or has an invalid value
    ├── WorkspaceError          the folder is not a workspace, or its database is unusable
    ├── IngestError             a source cannot be loaded at all (file-level problem)
    │   └── BadFileError        a file is unreadable: wrong encoding, not CSV/Parquet, missing columns
    └── SelectionError          a selection (--from/--to/--source/--persona/--owner) names a value the
        │                       workspace does not have (the message lists the valid ones); raised by
        │                       Journeys.check() before anything is computed or stored
        ├── NoDataError         nothing is ingested yet: every selection is empty (run `leadjourney ingest`)
        └── EmptySelectionError the filters are valid but select nobody (the message names the selection)

Row-level problems never raise: they go to the ``quarantine`` table. Ctrl-C is a KeyboardInterrupt;
``InterruptedAfterCommit`` (a KeyboardInterrupt) says it came after an ingest committed.
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


class SelectionError(LeadJourneyError):
    """Raised when a selection of leads cannot be analyzed: a filter value the data does not have."""


class NoDataError(SelectionError):
    """Raised when the workspace holds no leads yet, so there is nothing to select."""


class EmptySelectionError(SelectionError):
    """Raised when a selection's filters are valid but select no one; no snapshot or finding is stored."""


class DataQualityWarning(UserWarning):
    """Warned when data is usable but a caveat applies (filter with the warnings module)."""


class InterruptedAfterCommit(KeyboardInterrupt):
    """Raised by ``leadjourney ingest`` for a Ctrl-C that lands after its transaction committed: the new data is
    in the workspace, so the command must not say it is unchanged."""
