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

import contextlib
import io
import re
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
        from psycopg.types.numeric import FloatLoader
    except ImportError:
        raise OptionError(f"engine.backend: \"postgres\" needs psycopg, not installed here; {POSTGRES_INSTALL}") from None
    export = export_tables(ws, engine=settings)
    try:
        con = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise OptionError(f"engine.url_env: cannot connect to the warehouse in {settings.url_env}: "
                          f"{_first_line(exc, url)}") from None
    try:
        load_tables(con, export, settings.schema)
        con.execute(f"SET search_path TO {_ident(settings.schema)}")
        # NUMERIC results (Postgres's epoch, averages and sums of integers) as floats, as DuckDB returns them
        con.adapters.register_loader("numeric", FloatLoader)
        backend = ibis.postgres.from_connection(con)
        backend.compiler = _postgres_compiler()
        yield backend
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
    with contextlib.suppress(ValueError):
        secrets.append(urlsplit(url).password or "")
    return redact(text, secrets)


_WORD_BOUNDARY = re.compile(r"(?<!\\)((?:\\\\)*)\\b")  # \b not itself escaped (\\b is a backslash and b)


def _postgres_compiler() -> Any:
    """Ibis's Postgres compiler with regular expressions read as DuckDB's RE2 reads them: ``\b`` (a word
    boundary there, a backspace in Postgres) becomes Postgres's ``\\y``. The patterns are the analyses' own and
    the ``[[personas]]`` job_title rules people write (and the suggested personas propose)."""
    global _compiler
    if _compiler is None:
        import sqlglot.expressions as sge
        from ibis.backends.sql.compilers.postgres import PostgresCompiler

        class PortablePostgresCompiler(PostgresCompiler):
            pass

        def visit_regex_search(self: Any, op: Any, *, arg: Any, pattern: Any) -> Any:
            if isinstance(pattern, sge.Literal) and pattern.is_string:
                pattern = sge.convert(_WORD_BOUNDARY.sub(r"\1\\y", pattern.this))
            return self.f.regexp_like(arg, pattern)

        # set after the class is made: Ibis defines each simple operation's method on every subclass
        PortablePostgresCompiler.visit_RegexSearch = visit_regex_search  # type: ignore[attr-defined]
        _compiler = PortablePostgresCompiler()
    return _compiler


_compiler: Any = None


__all__ = ["connect_postgres", "load_tables", "loaded_fingerprint"]
