"""Sources -> the canonical model: read, map, type, validate, quarantine, load."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadjourney.ingest.pipeline import IngestReport, SourceReport, ingest, ingested_state

__all__ = ["IngestReport", "SourceReport", "ingest", "ingested_state"]


def __getattr__(name: str) -> Any:  # the pipeline (DuckDB, pyarrow) loads on first use
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from leadjourney.ingest import pipeline

    value = getattr(pipeline, name)
    globals()[name] = value
    return value
