"""Sources -> the canonical model: read, map, type, validate, quarantine, load."""

from leadjourney.ingest.pipeline import IngestReport, SourceReport, ingest, ingested_state

__all__ = ["IngestReport", "SourceReport", "ingest", "ingested_state"]
