"""A Postgres warehouse as the engine (``[engine] backend = "postgres"``): the workspace's tables loaded into it.

The connection URL comes from the environment variable ``[engine] url_env`` names (a secret: never stored,
never printed; error texts have it removed). A run loads the workspace's Parquet export
(:mod:`leadjourney.table_export`) into ``[engine] schema`` when the warehouse's copy is missing or older than
the workspace (the export's fingerprint, kept in ``<schema>.leadjourney_manifest``): every table replaced in
one transaction, streamed as CSV through ``COPY`` (no row passes through Python on its own), so a crash or
Ctrl-C leaves the previous copy. Only the tables leadjourney exports are replaced; others in the schema stay.

>>> with connect_postgres(ws, ws.config.engine) as backend:   # doctest: +SKIP
...     journeys = Journeys(backend, ws.config, Filters())
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from leadjourney.errors import OptionError
from leadjourney.redaction import env_secret, redact

if TYPE_CHECKING:
    import ibis

    from leadjourney.config import EngineSettings
    from leadjourney.table_export import Export
    from leadjourney.workspace import Workspace

POSTGRES_INSTALL = "pip install 'leadjourney[postgres]', or set [engine] backend = \"duckdb\""
MANIFEST_TABLE = "leadjourney_manifest"
BATCH_ROWS = 65_536  # rows per CSV chunk streamed to COPY


@contextmanager
def connect_postgres(ws: Workspace, settings: EngineSettings) -> Iterator[ibis.BaseBackend]:
    """An Ibis Postgres backend on ``settings.schema``, its tables loaded from the workspace first if stale."""
    from leadjourney.table_export import export_tables

    url = env_secret(settings.url_env, "engine.url_env")
    try:
        import ibis
        import psycopg
    except ImportError:
        raise OptionError(f"engine.backend: \"postgres\" needs psycopg, not installed here; {POSTGRES_INSTALL}") from None
    export = export_tables(ws)
    try:
        con = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise OptionError(f"engine.url_env: cannot connect to the warehouse in {settings.url_env}: "
                          f"{_first_line(exc, url)}") from None
    try:
        load_tables(con, export, settings.schema)
        con.execute(f"SET search_path TO {_ident(settings.schema)}")
        # NUMERIC results (Postgres's epoch, averages and sums of integers) as floats, as DuckDB returns them
        con.adapters.register_loader("numeric", psycopg.types.numeric.FloatLoader)
        yield ibis.postgres.from_connection(con)
    except psycopg.Error as exc:
        raise OptionError(f"engine: the warehouse failed: {_first_line(exc, url)}") from None
    finally:
        con.close()


def load_tables(con: Any, export: Export, schema: str) -> bool:
    """Load ``export`` into ``schema`` unless the copy there was loaded from the same workspace state;
    True when it loaded. One transaction (an advisory lock keeps two loads of a schema apart)."""
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"leadjourney:{schema}"])
        if loaded_fingerprint(con, schema) == export.fingerprint:
            return False
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
        for table in export.tables:
            _load_table(con, schema, table, export)
        manifest = f"{_ident(schema)}.{_ident(MANIFEST_TABLE)}"
        con.execute(f"DROP TABLE IF EXISTS {manifest}")
        con.execute(f"CREATE TABLE {manifest} (fingerprint TEXT NOT NULL, exported_at TEXT NOT NULL)")
        con.execute(f"INSERT INTO {manifest} VALUES (%s, %s)", [export.fingerprint, export.exported_at])
    return True


def loaded_fingerprint(con: Any, schema: str) -> str | None:
    """The fingerprint of the workspace state ``schema`` was loaded from (None: never loaded)."""
    found = con.execute("SELECT to_regclass(%s)", [f"{_ident(schema)}.{_ident(MANIFEST_TABLE)}"]).fetchone()
    if found is None or found[0] is None:
        return None
    row = con.execute(f"SELECT fingerprint FROM {_ident(schema)}.{_ident(MANIFEST_TABLE)}").fetchone()
    return None if row is None else str(row[0])


def _load_table(con: Any, schema: str, table: str, export: Export) -> None:
    """One exported table replaced: created from its Parquet schema, its rows streamed as CSV to COPY."""
    import ibis
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    source = pq.ParquetFile(export.path(table))
    # every column nullable, as on DuckDB's derived tables and Spark's views (a NOT NULL would change the
    # types Ibis infers, and a union of a column with NULL then fails)
    schema_of = ibis.Schema.from_pyarrow(source.schema_arrow)
    nullable = ibis.schema({name: kind.copy(nullable=True) for name, kind in schema_of.items()})
    columns = nullable.to_sqlglot_column_defs("postgres")
    target = f"{_ident(schema)}.{_ident(table)}"
    con.execute(f"DROP TABLE IF EXISTS {target}")
    con.execute(f"CREATE TABLE {target} ({', '.join(c.sql('postgres') for c in columns)})")
    # pyarrow quotes every text value and leaves NULL unquoted: COPY reads "" as '' and nothing as NULL
    options = pcsv.WriteOptions(include_header=False)
    with con.cursor().copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy:
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            chunk = io.BytesIO()
            pcsv.write_csv(pa.Table.from_batches([batch]), chunk, write_options=options)
            copy.write(chunk.getvalue())


def _ident(name: str) -> str:
    import sqlglot as sg

    return sg.to_identifier(name, quoted=True).sql("postgres")


def _first_line(exc: BaseException, url: str) -> str:
    """The error's first line with the URL (and its password, in every encoding) removed."""
    from urllib.parse import urlsplit

    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    secrets = [url]
    try:
        secrets.append(urlsplit(url).password or "")
    except ValueError:
        pass
    return redact(text, secrets)


__all__ = ["connect_postgres", "load_tables", "loaded_fingerprint"]
