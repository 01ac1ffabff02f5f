"""GA4's BigQuery export (``events_YYYYMMDD`` tables saved as Parquet or newline-delimited JSON) as flat rows.

The export holds one row per event with nested records: ``event_params`` is a repeated
``{key, value: {string_value, int_value, float_value, double_value}}`` record (``ga_session_id``,
``page_location``, ``page_referrer``, ``source``, ``medium``, ``campaign`` live there),
``collected_traffic_source`` (since 2023) the event's UTM tags (``manual_source``, ``manual_medium``,
``manual_campaign_name``) and ``traffic_source`` the *user's* first acquisition (not the session's, so
it is not read). BigQuery writes INT64 values as JSON strings in NDJSON exports, numbers in Parquet;
both are read. The nested params are unnested in DuckDB SQL (``list_position`` in the repeated
record's keys), and only the columns the web journey needs are read: device, geo, user properties and the
rest of the export never reach the workspace.

:func:`stage_ga4_export` makes the flat rows the view ``RAW`` (one row per event, numbered as the file
holds them: the NDJSON line or the Parquet row; only the events ``web_sessions`` keeps, :data:`WEB_EVENTS`,
unless the source takes its events from another column: scrolls and engagement pings are most of an
export and never leave the file), so the ``ga4_bigquery`` format
(:func:`leadjourney.ingest.formats.ga4_bigquery`) maps it like any other file and ``where`` filters its
flat columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from leadjourney.config import Source
from leadjourney.errors import BadFileError
from leadjourney.ingest.readers import ROW, RawFile
from leadjourney.ingest.sql import ident, is_whole_number, lit
from leadjourney.ingest.urls import url_query_cleaned_sql, url_unfragmented_sql

STAGED = "raw_file__ga4"  # the flat rows, a temporary table under the view RAW
PARAM = "STRUCT(key VARCHAR, value STRUCT(string_value VARCHAR, int_value VARCHAR, float_value DOUBLE, " \
        "double_value DOUBLE))[]"
# what is read of an export, with the types NDJSON is read as (every INT64 as text: BigQuery quotes them)
JSON_COLUMNS = {
    "event_date": "VARCHAR",
    "event_timestamp": "VARCHAR",
    "event_name": "VARCHAR",
    "event_params": PARAM,
    "user_id": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "collected_traffic_source": "STRUCT(manual_campaign_name VARCHAR, manual_source VARCHAR, "
                                "manual_medium VARCHAR)",
}
KEYS = "__param_keys"  # the keys of a row's event_params, in order
NEEDED = ("event_timestamp", "event_name", "user_pseudo_id")
# GA4 events the web journey keeps: page views and the events that identify a visitor or fill a form
WEB_EVENTS = ("page_view", "form_submit", "generate_lead", "sign_up", "login")
# the flat columns RAW holds, from the export (event params by their key)
FLAT = ("event_date", "event_timestamp", "event_name", "user_pseudo_id", "user_id", "ga_session_id",
        "page_location", "page_referrer", "source", "medium", "campaign")


def stage_ga4_export(con: duckdb.DuckDBPyConnection, name: str, path: Path, source: Source | None = None) -> RawFile:
    """Make the export at ``path`` (Parquet, else NDJSON) the view ``name`` of flat event rows: only the
    :data:`WEB_EVENTS` when ``source`` reads its events from ``event_name`` (:func:`events_filtered`), as the
    ``ga4_bigquery`` format keeps no others; the rows read are counted over the whole file."""
    if not path.is_file():
        raise BadFileError(f"{path}: no such file")
    quoted = lit(str(path))
    with path.open("rb") as fh:
        is_parquet = fh.read(4) == b"PAR1"
    if is_parquet:
        source_sql, types = _parquet_source(con, path, quoted)
    else:
        columns = ", ".join(f"{lit(k)}: {lit(v)}" for k, v in JSON_COLUMNS.items())
        source_sql = (f"(SELECT *, row_number() OVER () AS {ident(ROW)} FROM read_json({quoted}, "
                      f"format = 'newline_delimited', columns = {{{columns}}}))")
        types = dict(JSON_COLUMNS)
    missing = [c for c in NEEDED if c not in types]
    if missing:
        raise BadFileError(f"{path}: not a GA4 BigQuery export: missing {', '.join(missing)}; found columns: "
                           f"{', '.join(types) or 'none'}")
    kept = ""
    if source is None or events_filtered(source):  # the other events never leave the file
        kept = f" WHERE lower(trim(CAST(event_name AS VARCHAR))) IN ({', '.join(map(lit, WEB_EVENTS))})"
    try:
        # an NDJSON reader gives NULL for a key no line has: a file without them is not an export
        rows, *present = con.execute(
            f"SELECT count(*), {', '.join(f'count({c})' for c in NEEDED)} FROM {source_sql}").fetchall()[0]
        absent = [c for c, n in zip(NEEDED, present, strict=True) if not n]
        if rows and absent:
            raise BadFileError(f"{path}: not a GA4 BigQuery export: missing {', '.join(absent)} in every row")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED} AS {_flat_select(types, f'{source_sql}{kept}')}")
    except duckdb.InterruptException:  # Ctrl-C, not a bad file
        raise
    except duckdb.Error as exc:
        kind = "Parquet" if is_parquet else "newline-delimited JSON"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadFileError(f"{path}: not a readable GA4 export as {kind} ({first})") from None
    con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM {STAGED}')
    return RawFile(list(FLAT), [], int(rows))


def events_filtered(source: Source) -> bool:
    """Whether ``source`` takes its events from the export's ``event_name`` (as the ``ga4_bigquery`` format
    does unless configured otherwise): then only :data:`WEB_EVENTS` are staged."""
    return "event" not in source.rules and source.columns.get("event", "event_name") == "event_name"


def urls_cleaned(source: Source, column: str, flat: str) -> bool:
    """Whether the canonical ``column`` (page, referrer) is the staged ``flat`` URL, already cleaned."""
    return column not in source.rules and source.columns.get(column, flat) == flat


def drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the flat rows (the view over them is dropped by :func:`leadjourney.ingest.readers.unstage`)."""
    con.execute(f"DROP TABLE IF EXISTS {STAGED}")


def _parquet_source(con: duckdb.DuckDBPyConnection, path: Path, quoted: str) -> tuple[str, dict[str, str]]:
    """The Parquet export's rows numbered, and its columns' types (only those GA4 export columns it has)."""
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({quoted})").fetchall()
    except duckdb.InterruptException:  # Ctrl-C, not a bad file
        raise
    except duckdb.Error as exc:
        raise BadFileError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    types = {str(r[0]): str(r[1]) for r in described if str(r[0]) in JSON_COLUMNS}
    source = (f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {ident(ROW)} "
              f"FROM read_parquet({quoted}, file_row_number = true))")
    return source, types


def _field(types: dict[str, str], column: str, field: str) -> str:
    """``column.field`` as text when the export has it (older exports lack collected_traffic_source)."""
    if column not in types or not re.search(rf"\b{field}\b", types[column]):
        return "CAST(NULL AS VARCHAR)"
    return f"CAST({ident(column)}.{ident(field)} AS VARCHAR)"


def _param(types: dict[str, str], key: str) -> str:
    """The value of event parameter ``key`` as text (whichever of its typed values is set), over the column
    :func:`_param_value` gives it."""
    if "event_params" not in types:
        return "CAST(NULL AS VARCHAR)"
    value = ident(f"__param|{key}")
    parts = [f"CAST({value}.{ident(f)} AS VARCHAR)" for f in ("string_value", "int_value")
             if re.search(rf"\b{f}\b", types["event_params"])]
    if re.search(r"\bdouble_value\b", types["event_params"]):
        parts.append(f"CAST(CAST({value}.double_value AS BIGINT) AS VARCHAR)")
    return f"coalesce({', '.join(parts)})" if parts else "CAST(NULL AS VARCHAR)"


def _param_value(key: str) -> str:
    """The ``value`` record of event parameter ``key``: that of the first element of ``event_params`` with that
    key (found in the row's list of keys, :data:`KEYS`, made once for all parameters: a lambda per parameter
    costs more than the rest of the row), looked up once and read by name in the next layer."""
    return f"(event_params[list_position({KEYS}, {lit(key)})]).value AS {ident(f'__param|{key}')}"


def _event_timestamp(types: dict[str, str]) -> str:
    """The event time as exported: a whole number stays one (Parquet's INT64: no text written and read back),
    any other type as text (NDJSON's quoted INT64)."""
    if is_whole_number(types.get("event_timestamp", "")):
        return f"CAST({ident('event_timestamp')} AS BIGINT)"
    return _column(types, "event_timestamp")


def _column(types: dict[str, str], column: str) -> str:
    return f"CAST({ident(column)} AS VARCHAR)" if column in types else "CAST(NULL AS VARCHAR)"


PARAMS = ("ga_session_id", "page_location", "page_referrer", "source", "medium", "campaign")
URLS = ("page_location", "page_referrer")


def _flat_select(types: dict[str, str], rows: str) -> str:
    """The flat columns (:data:`FLAT`) over the export's nested ones in ``rows``, as text (the event time as
    exported: µs since the epoch; :func:`event_time_sql` reads it); URLs already without their query strings
    (but utm_*), so not even a quarantined row's record keeps one. In layers, each value computed once and read
    by name in the next: the keys of the params, each param's value record, the flat values (the URLs' first
    cleaning step), the URLs' query strings."""
    if "event_params" in types:
        keyed = f"SELECT *, list_transform(event_params, lambda p: p.key) AS {KEYS} FROM {rows}"
        rows = f"(SELECT *, {', '.join(map(_param_value, PARAMS))} FROM ({keyed}))"
    flat = ", ".join([
        ident(ROW),
        f"{_column(types, 'event_date')} AS event_date",
        f"{_event_timestamp(types)} AS event_timestamp",
        f"{_column(types, 'event_name')} AS event_name",
        f"{_column(types, 'user_pseudo_id')} AS user_pseudo_id",
        f"{_column(types, 'user_id')} AS user_id",
        f"{_param(types, 'ga_session_id')} AS ga_session_id",
        *(f"{url_unfragmented_sql(_param(types, key))} AS {key}" for key in URLS),  # query strings never staged
        f"coalesce({_field(types, 'collected_traffic_source', 'manual_source')}, {_param(types, 'source')}) "
        f"AS source",
        f"coalesce({_field(types, 'collected_traffic_source', 'manual_medium')}, {_param(types, 'medium')}) "
        f"AS medium",
        f"coalesce({_field(types, 'collected_traffic_source', 'manual_campaign_name')}, "
        f"{_param(types, 'campaign')}) AS campaign",
    ])
    cleaned = ", ".join(f"{url_query_cleaned_sql(key)} AS {key}" for key in URLS)
    return f"SELECT * REPLACE ({cleaned}) FROM (SELECT {flat} FROM {rows})"


def event_time_sql(column: str, duck_type: str = "VARCHAR") -> str:
    """GA4's event_timestamp (µs since the epoch, UTC; of ``duck_type``, text or a whole number) as a UTC
    ``TIMESTAMP WITH TIME ZONE``; NULL when not a whole number (the row is then quarantined with the value as
    exported)."""
    micros = f"TRY_CAST({column} AS BIGINT)" if is_whole_number(duck_type) else f"TRY_CAST(trim({column}) AS BIGINT)"
    return f"make_timestamptz({micros})"  # the instant itself: no time zone looked up (timezone() costs 0.1 µs a row)
