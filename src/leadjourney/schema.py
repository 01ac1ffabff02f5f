"""The canonical model: the tables every layer reads, as DuckDB DDL.

All timestamps are stored as ``TIMESTAMP`` holding UTC. A value that came in
as a date without a time is stored at midnight and flagged in the matching
``*_is_date`` column, so nobody mistakes it for a time of day.
Every row of a canonical table records where it came from: ``origin`` (the
source name in leadjourney.toml), ``source_file`` and ``source_row`` (the row
number a spreadsheet would show, header = row 1). ``ingest_notes`` keeps what ingest
counted per file and column (placeholders stored as missing, UTC offsets, forecast close
dates dropped) for the quality report.
"""

from __future__ import annotations

CONFIG_FILE = "leadjourney.toml"  # a workspace's configuration, in its folder
ENGINE_BACKENDS = ("duckdb", "pyspark", "postgres")  # [engine] backend: where the analyses read these tables

SOURCE_FORMATS = (  # a [[sources]] format: how a file's columns map to the canonical tables
    "csv",
    "parquet",
    "hubspot_contacts",
    "salesforce_leads",
    "salesforce_lead_history",
    "salesforce_opportunities",
    "ga4_bigquery",
)

SCHEMA_VERSION = 1

PROVENANCE = """
    origin VARCHAR NOT NULL,
    source_file VARCHAR,
    source_row BIGINT
"""

TABLES: dict[str, str] = {
    "leads": f"""
        lead_id VARCHAR NOT NULL,
        created_at TIMESTAMP,
        created_at_is_date BOOLEAN,
        created_at_from VARCHAR,
        source VARCHAR,
        source_raw VARCHAR,
        source_detail VARCHAR,
        company VARCHAR,
        industry VARCHAR,
        employee_count INTEGER,
        country VARCHAR,
        job_title VARCHAR,
        owner VARCHAR,
        status VARCHAR,
        disqualify_reason VARCHAR,
        current_stage VARCHAR,
        email_hash VARCHAR,
        email VARCHAR,
        excluded_as VARCHAR,
        duplicate_of VARCHAR,
        person_id VARCHAR,
        extra JSON,
        {PROVENANCE},
        visitor_id VARCHAR
    """,
    "stage_events": f"""
        lead_id VARCHAR NOT NULL,
        stage VARCHAR NOT NULL,
        stage_raw VARCHAR,
        entered_at TIMESTAMP,
        entered_at_is_date BOOLEAN,
        {PROVENANCE}
    """,
    "touchpoints": f"""
        lead_id VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL,
        occurred_at_is_date BOOLEAN,
        channel VARCHAR,
        kind VARCHAR,
        actor VARCHAR,
        campaign VARCHAR,
        asset VARCHAR,
        {PROVENANCE},
        visitor_id VARCHAR
    """,
    "opportunities": f"""
        opportunity_id VARCHAR NOT NULL,
        lead_id VARCHAR,
        created_at TIMESTAMP,
        created_at_is_date BOOLEAN,
        closed_at TIMESTAMP,
        closed_at_is_date BOOLEAN,
        amount DOUBLE,
        currency VARCHAR,
        is_won BOOLEAN,
        stage VARCHAR,
        {PROVENANCE}
    """,
    # web analytics by day (GA4): an aggregate, not per lead; the sessions of a source, medium, campaign
    # and landing page on one day in the property's time zone
    "web_traffic": f"""
        day DATE NOT NULL,
        source VARCHAR,
        medium VARCHAR,
        campaign VARCHAR,
        landing_page VARCHAR,
        sessions BIGINT,
        engaged_sessions BIGINT,
        key_events BIGINT,
        {PROVENANCE}
    """,
    # the web before the form: one row per page view (and per identifying event: a form submit, a login) of an
    # anonymous visitor (GA4's user_pseudo_id, a clickstream's visitor id); page and referrer without query
    # strings (utm_* parameters kept) and with e-mails masked; email_hash: a login's user id, salted and hashed
    "web_sessions": f"""
        visitor_id VARCHAR NOT NULL,
        session_id VARCHAR,
        occurred_at TIMESTAMP NOT NULL,
        occurred_at_is_date BOOLEAN,
        event VARCHAR,
        page VARCHAR,
        referrer VARCHAR,
        source VARCHAR,
        medium VARCHAR,
        campaign VARCHAR,
        email_hash VARCHAR,
        {PROVENANCE}
    """,
    "quarantine": """
        origin VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        source_row BIGINT,
        target_table VARCHAR,
        column_name VARCHAR,
        value VARCHAR,
        reason VARCHAR NOT NULL,
        detail VARCHAR,
        action VARCHAR NOT NULL,
        record JSON,
        ingest_id BIGINT NOT NULL
    """,
    "ingests": """
        ingest_id BIGINT NOT NULL,
        origin VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        settings_sha256 VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL
    """,
    "ingest_notes": """
        ingest_id BIGINT NOT NULL,
        origin VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        target_table VARCHAR,
        note VARCHAR NOT NULL,
        column_name VARCHAR,
        value VARCHAR,
        n BIGINT NOT NULL
    """,
    "snapshots": """
        snapshot_id BIGINT NOT NULL,
        taken_at TIMESTAMP NOT NULL,
        filters JSON NOT NULL,
        is_baseline BOOLEAN NOT NULL,
        result JSON NOT NULL
    """,
    "findings": """
        finding_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        statement VARCHAR NOT NULL,
        value DOUBLE,
        n BIGINT,
        status VARCHAR NOT NULL,
        note VARCHAR,
        snapshot_id BIGINT,
        updated_at TIMESTAMP NOT NULL,
        selection VARCHAR NOT NULL,
        current_statement VARCHAR,
        current_value DOUBLE,
        current_n BIGINT,
        current_snapshot_id BIGINT,
        restated BOOLEAN NOT NULL
    """,
    "definition_signoffs": """
        term VARCHAR NOT NULL,
        approved_by VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        approved_at TIMESTAMP NOT NULL,
        note VARCHAR,
        wording_sha256 VARCHAR NOT NULL
    """,
    "interview_answers": """
        answer_id BIGINT NOT NULL,
        role VARCHAR NOT NULL,
        question INTEGER NOT NULL,
        finding_id VARCHAR,
        answer VARCHAR NOT NULL,
        recorded_at TIMESTAMP NOT NULL
    """,
    "checklist_items": """
        item_id VARCHAR PRIMARY KEY,
        done_at TIMESTAMP NOT NULL,
        note VARCHAR
    """,
    "monitor_runs": """
        run_id BIGINT NOT NULL,
        started_at TIMESTAMP NOT NULL,
        period VARCHAR NOT NULL,
        period_start DATE,
        period_end DATE,
        as_of DATE NOT NULL,
        status VARCHAR NOT NULL,
        exit_code INTEGER NOT NULL,
        result JSON NOT NULL
    """,
    "monitor_verdicts": """
        run_id BIGINT NOT NULL,
        key VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        value DOUBLE,
        baseline DOUBLE,
        threshold DOUBLE,
        n BIGINT,
        evidence VARCHAR NOT NULL,
        action VARCHAR
    """,
    "monitor_deliveries": """
        run_id BIGINT NOT NULL,
        channel VARCHAR NOT NULL,
        attempted_at TIMESTAMP NOT NULL,
        attempts INTEGER NOT NULL,
        ok BOOLEAN NOT NULL,
        error VARCHAR,
        reported_in BIGINT
    """,
    "monitor_alerted": """
        key VARCHAR PRIMARY KEY,
        status VARCHAR NOT NULL,
        run_id BIGINT NOT NULL
    """,
    "recommendation_implementations": """
        rec_id VARCHAR PRIMARY KEY,
        implemented_on DATE NOT NULL,
        metric_key VARCHAR NOT NULL,
        direction VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        note VARCHAR,
        recorded_at TIMESTAMP NOT NULL
    """,
    "meta": """
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    """,
}

CANONICAL = ("leads", "stage_events", "touchpoints", "opportunities", "web_traffic", "web_sessions")

# Columns added since SCHEMA_VERSION 1 (new tables are simply created): an existing
# workspace gains them when it is next opened for writing (Workspace.ensure_database).
ADDED_COLUMNS = (  # (table, column, type)
    ("leads", "created_at_from", "VARCHAR"),
    # the web visitor a lead or a touch (a form fill, a login) identified: stitches web sessions to the lead
    ("leads", "visitor_id", "VARCHAR"),
    ("touchpoints", "visitor_id", "VARCHAR"),
)
MIGRATIONS = tuple(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {kind}" for t, c, kind in ADDED_COLUMNS)

# leads.created_at_from: where a lead's created date came from (NULL: the lead is undated)
CREATED_FROM_FILE = "file"
CREATED_FROM_STAGE_EVENT = "stage_event"  # its earliest dated stage event (the file gave none)

# ingest_notes.note: what ingest counted per file and column (value, n), read by the quality checks
NOTE_PLACEHOLDER = "placeholder"  # a placeholder spelling stored as missing
NOTE_UTC_OFFSET = "utc_offset"  # a UTC offset seen in a timestamp column
NOTE_FORECAST_CLOSE_DATE = "forecast_close_date"  # a close date dropped because the deal is not closed
# ... and what the command warns about (value: the detail named below)
NOTE_DUPLICATE_COLUMN = "duplicate_column"  # a header repeated (value: the repeat's new name); the first is read
NOTE_EPOCH_UNIT = "epoch_unit"  # numbers read as epoch times (value: the unit, from their size)
NOTE_DECIMAL_ID = "decimal_id"  # whole decimal numbers (1.0) read as ids ("1")
NOTE_FILTERED_OUT = "filtered_out"  # rows the source's `where` left out, not loaded (column: the columns it reads)

# Quarantine actions: what happened to the row.
ROW_REJECTED = "row_rejected"  # the row was not loaded
VALUE_NULLED = "value_nulled"  # the row was loaded with this value set to NULL
ROW_DROPPED_DUPLICATE = "duplicate_dropped"  # an identical row was loaded once


def ddl(table: str) -> str:
    return f"CREATE TABLE IF NOT EXISTS {table} ({TABLES[table]})"


def columns(table: str) -> list[str]:
    """Column names of a table, in order (provenance included)."""
    names = []
    for line in TABLES[table].split(","):
        line = line.strip()
        if line:
            names.append(line.split()[0])
    return names
