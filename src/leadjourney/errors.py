"""The exceptions leadjourney raises: one root, one documented hierarchy, each class with its exit code.

Hierarchy (exit code of the ``leadjourney`` command in brackets)::

    LeadJourneyError [1]        root: the CLI prints its message on one line to stderr and exits with the
    │                           error's ``exit_code``; the dashboard answers ``{"error": message}``
    ├── ConfigError [1]         leadjourney.toml is missing, unreadable or not TOML
    │   └── OptionError [1]     an option has a bad value: a key of leadjourney.toml (the message names the
    │                           key), a command-line option (names the option) or an API argument; also a
    │                           ValueError, for code that caught the ValueError raised before
    ├── WorkspaceError [1]      the folder is not a workspace, or its database is unusable
    ├── IngestError [1]         a source cannot be loaded at all (file-level problem)
    │   └── BadFileError [1]    a file is unreadable: wrong encoding, not CSV/Parquet, missing columns
    ├── PullError [1]           a system's API refused or failed a pull after its retries (nothing half-kept)
    ├── SelectionError [1]      a selection (--from/--to/--source/--persona/--owner) names a value the
    │   │                       workspace does not have (the message lists the valid ones); raised by
    │   │                       Journeys.check() before anything is computed or stored
    │   ├── NoDataError [1]     nothing is ingested yet: every selection is empty (run `leadjourney ingest`)
    │   └── EmptySelectionError [1]  the filters are valid but select nobody (the message names the selection)
    ├── MapError [1]            a journey map cannot be built or written: a bad target, an unknown format
    ├── DashboardError [1]      the dashboard cannot start as asked (e.g. exposed without authentication)
    └── MonitorError [2]        the monitor could not run (no baseline, no data, a bad option): exit 2, so a
                                cron job tells "could not run" from "red flags" (1) and "healthy" (0)

Row-level problems never raise: they go to the ``quarantine`` table. Warnings (data usable, with a caveat)
are :class:`DataQualityWarning`; filter them with the :mod:`warnings` module. Ctrl-C is a KeyboardInterrupt;
``InterruptedAfterCommit`` (a KeyboardInterrupt) says it came after an ingest committed.

Other exit codes of the command: 2 for a usage error Typer reports (an unknown option), 3 for an internal
error (a bug: rerun with ``--debug``), 130 for Ctrl-C.
"""

from __future__ import annotations


class LeadJourneyError(Exception):
    """Root of every error leadjourney raises on purpose; its message is one line meant for users."""

    exit_code: int = 1  # the `leadjourney` command's exit status when this error ends it


class ConfigError(LeadJourneyError):
    """Raised when the workspace configuration (leadjourney.toml) is missing, unreadable or not TOML."""


class OptionError(ConfigError, ValueError):
    """Raised when an option has a bad value: a key of leadjourney.toml, a command-line option or an API
    argument (funnel mode, trend period, date, format, ...). The message names the key or option and what
    it accepts."""


class WorkspaceError(LeadJourneyError):
    """Raised when a folder is not a usable workspace."""


class IngestError(LeadJourneyError):
    """Raised when a source cannot be ingested; the workspace is left unchanged."""


class BadFileError(IngestError):
    """Raised when a file cannot be read as the format it was declared to be."""


class PullError(LeadJourneyError):
    """Raised when a connector cannot pull: credentials refused, an API error after retries, a bad page."""


class SelectionError(LeadJourneyError):
    """Raised when a selection of leads cannot be analyzed: a filter value the data does not have."""


class NoDataError(SelectionError):
    """Raised when the workspace holds no leads yet, so there is nothing to select."""


class EmptySelectionError(SelectionError):
    """Raised when a selection's filters are valid but select no one; no snapshot or finding is stored."""


class MapError(LeadJourneyError):
    """Raised when a journey map cannot be built or written: bad targets, an unknown format."""


class DashboardError(LeadJourneyError):
    """Raised when the dashboard cannot start as asked (e.g. exposed without authentication)."""


class MonitorError(LeadJourneyError):
    """Raised when the monitor cannot run at all (no baseline, no data, a bad option): exit code 2."""

    exit_code = 2


class DataQualityWarning(UserWarning):
    """Warned when data is usable but a caveat applies (filter with the warnings module)."""


class InterruptedAfterCommit(KeyboardInterrupt):
    """Raised by ``leadjourney ingest`` for a Ctrl-C that lands after its transaction committed: the new data is
    in the workspace, so the command must not say it is unchanged."""
