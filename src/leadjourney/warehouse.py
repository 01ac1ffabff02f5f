"""A Postgres warehouse as the engine (``[engine] backend = "postgres"``): the workspace's tables loaded into it.

The connection URL comes from the environment variable ``[engine] url_env`` names (a secret: never stored,
never printed; error texts have it removed). A run loads the workspace's Parquet export
(:mod:`leadjourney.table_export`) into ``[engine] schema`` when the warehouse's copy is missing or older than
the workspace (the export's fingerprint, kept in ``<schema>.leadjourney_manifest``): every table replaced in
one transaction, streamed as CSV through ``COPY`` (no row passes through Python on its own), so a crash or
Ctrl-C leaves the previous copy. Only the tables leadjourney exports are replaced; others in the schema stay.

When the workspace's derived tables were built from the rows it holds (the export's ``derived_by`` is
``"postgres"``: :func:`~leadjourney.table_export.export_tables` left them out), only the canonical and
bookkeeping tables are copied, and Postgres builds ``person_touches``, ``person_journeys``,
``person_engagement``, ``web_stitches`` and ``web_visits`` from them in the same transaction, with the Ibis
expressions ingest runs on DuckDB (:func:`~leadjourney.table_export.build_derived`, compiled by this module's
Postgres compiler, which reads regular expressions, epochs and lower case as DuckDB does:
:func:`_postgres_compiler`); their row counts must equal DuckDB's. They are built for the configuration as it
is, also when DuckDB's were built for another (a config edited since the last ingest): the export's ``meta``
then describes them as built for it, and analyses here read them (:mod:`leadjourney.table_export`).
Otherwise DuckDB's are copied too. The manifest records which engine built them (``derived_by``) and for
which configuration (``built_for``); a copy built by the other, or for another configuration, is loaded again.

Every text column it creates (copied, built, scratch and the manifest's) is ``COLLATE "C"``: text ordered by its
bytes, as DuckDB orders it, whatever the database's default collation (an ``en_US.UTF-8`` or ICU one would
number mixed-case person ids otherwise in ``person_key``, order same-instant touches by kind otherwise, and sort
the analyses' names otherwise). Text an expression computes from no column (a literal, a cast) still has the
database's collation. The manifest keeps how the copy was made (:data:`LAYOUT`): a copy made before is loaded
again.

>>> with connect_postgres(ws, ws.config.engine) as backend:   # doctest: +SKIP
...     journeys = Journeys(backend, ws.config, Filters())
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from leadjourney.errors import OptionError
from leadjourney.redaction import env_secret, redact

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir

    from leadjourney.config import Config, EngineSettings
    from leadjourney.table_export import Export
    from leadjourney.workspace import Workspace

POSTGRES_INSTALL = "pip install 'leadjourney[postgres]', or set [engine] backend = \"duckdb\""
MANIFEST_TABLE = "leadjourney_manifest"
BATCH_ROWS = 65_536  # rows per CSV chunk streamed to COPY
# how a copy's tables are made, kept in its manifest: a copy made otherwise is loaded again whatever its
# fingerprint ("2": every text column COLLATE "C"; copies made before it sort text in the database's collation)
LAYOUT = "2"


@contextmanager
def connect_postgres(ws: Workspace, settings: EngineSettings) -> Iterator[ibis.BaseBackend]:
    """An Ibis Postgres backend on ``settings.schema``, its tables loaded from the workspace first if stale."""
    from leadjourney.table_export import export_tables

    url = env_secret(settings.url_env, "engine.url_env")
    try:
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
        load_tables(con, export, settings.schema, ws.config)
        con.execute(f"SET search_path TO {_ident(settings.schema)}")
        # NUMERIC results (averages and sums of integers) as floats, as DuckDB returns them
        con.adapters.register_loader("numeric", FloatLoader)
        yield postgres_backend(con)
    except psycopg.Error as exc:
        raise OptionError(f"engine: the warehouse failed: {_first_line(exc, url)}") from None
    finally:
        con.close()


def load_tables(con: Any, export: Export, schema: str, config: Config | None = None) -> bool:
    """Load ``export`` into ``schema`` unless the copy there was loaded from the same workspace state (and its
    derived tables built by the same engine, for the same configuration); True when it loaded. A copy loaded
    from the same state whose tables Postgres built for another configuration keeps its rows: only ``meta`` is
    loaded and the derived tables built again. One transaction (an advisory lock keeps two loads of a schema
    apart). ``config`` (the workspace's): what Postgres builds the derived tables for, needed when the export
    left them out (``derived_by == "postgres"``), and the one the export was made for (``built_for``: its
    ``meta`` describes the tables as built for it)."""
    from leadjourney.ingest.person_changes import config_digest
    from leadjourney.table_export import BUILT_BY

    build = export.derived_by == "postgres"
    if build and config is None:
        raise ValueError("load_tables: the export leaves the derived tables to Postgres; pass the config")
    if build and config is not None and config_digest(config) != export.built_for:
        raise ValueError("load_tables: the export was made for another configuration; export it again")
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"leadjourney:{schema}"])
        loaded = _manifest(con, schema)
        if loaded == (export.fingerprint, export.derived_by, export.built_for, LAYOUT):
            return False
        # loaded from the same rows, its tables built for another configuration: meta and the builds are new
        same_rows = build and loaded is not None and (loaded[0], loaded[1], loaded[3]) == (
            export.fingerprint, export.derived_by, LAYOUT)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)}")
        for table in export.tables:
            if not (build and table in BUILT_BY["postgres"]) and not (same_rows and table != "meta"):
                _load_table(con, schema, table, export)
        if build:
            assert config is not None
            built = build_tables(con, schema, config)
            wrong = {t: (n, export.tables[t]) for t, n in built.items() if n != export.tables[t]}
            if wrong:  # the same expressions over the same rows: a difference is a bug, not a state to keep
                raise RuntimeError(f"Postgres built other row counts than DuckDB holds (Postgres, DuckDB): {wrong}")
        manifest = f"{_ident(schema)}.{_ident(MANIFEST_TABLE)}"
        con.execute(f"DROP TABLE IF EXISTS {manifest}")
        con.execute(f'CREATE TABLE {manifest} (fingerprint TEXT COLLATE "C" NOT NULL, '
                    'exported_at TEXT COLLATE "C" NOT NULL, derived_by TEXT COLLATE "C" NOT NULL, '
                    'layout TEXT COLLATE "C" NOT NULL, built_for TEXT COLLATE "C" NOT NULL)')
        con.execute(f"INSERT INTO {manifest} VALUES (%s, %s, %s, %s, %s)",
                    [export.fingerprint, export.exported_at, export.derived_by, LAYOUT, export.built_for])
    return True


def loaded_fingerprint(con: Any, schema: str) -> str | None:
    """The fingerprint of the workspace state ``schema`` was loaded from (None: never loaded)."""
    state = loaded_state(con, schema)
    return None if state is None else state[0]


def loaded_state(con: Any, schema: str) -> tuple[str, str] | None:
    """(fingerprint, derived_by) of the copy in ``schema``: the workspace state it was loaded from and the engine
    that built its per-person tables (``"duckdb"`` for a copy loaded before the manifest said); None: never loaded."""
    found = _manifest(con, schema)
    return None if found is None else found[:2]


def loaded_for(con: Any, schema: str) -> str | None:
    """The configuration (its ``config_digest``) the copy in ``schema`` had its derived tables built for (``""``:
    DuckDB's copied); None: never loaded."""
    found = _manifest(con, schema)
    return None if found is None else found[2]


def _manifest(con: Any, schema: str) -> tuple[str, str, str, str] | None:
    """(fingerprint, derived_by, built_for, layout) of the copy in ``schema`` (:func:`loaded_state`; built_for ""
    and the layout "1" for a copy whose manifest does not say, :data:`LAYOUT`); None: never loaded."""
    found = con.execute("SELECT to_regclass(%s)", [f"{_ident(schema)}.{_ident(MANIFEST_TABLE)}"]).fetchone()
    if found is None or found[0] is None:
        return None
    row = con.execute("SELECT fingerprint, coalesce(to_jsonb(m) ->> 'derived_by', 'duckdb'), "
                      "coalesce(to_jsonb(m) ->> 'built_for', ''), coalesce(to_jsonb(m) ->> 'layout', '1') "
                      f"FROM {_ident(schema)}.{_ident(MANIFEST_TABLE)} m").fetchone()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]), str(row[3]))


def build_tables(con: Any, schema: str, config: Config) -> dict[str, int]:
    """Build the derived tables in ``schema`` from the canonical tables there, inside the caller's
    transaction (:func:`~leadjourney.table_export.build_derived`); returns their row counts.

    Each is created with the columns and types of its Ibis expression (every column nullable, as
    :func:`_load_table` creates a copied one) and filled by ``INSERT ... SELECT`` of the expression compiled by
    this module's compiler, on ``con``: a crash or Ctrl-C rolls them back with the rest of the load. The scratch
    tables (person_journeys before its engagement columns, the visits before their pages) are temporary tables
    dropped at commit.

    Every table is analyzed once written (the copied ones too): tables created in a transaction have no
    statistics until it commits, and the planner's guess without them (one row per filter) chose plans that
    ran the person_journeys query over 100k leads for more than ten minutes instead of about a second."""
    import ibis

    from leadjourney.table_export import BUILT_BY, build_derived

    con.execute(f"SET LOCAL search_path TO {_ident(schema)}")  # the expressions name the canonical tables bare
    backend = postgres_backend(con)

    def write(expr: ir.Table, table: str) -> ir.Table:
        name = table.lstrip(".")
        scratch = name != table
        target = f"pg_temp.{_ident(name)}" if scratch else f"{_ident(schema)}.{_ident(name)}"
        columns = ibis.schema({c: kind.copy(nullable=True) for c, kind in expr.schema().items()})
        con.execute(f"DROP TABLE IF EXISTS {target}")
        con.execute(f"CREATE TABLE {target} ({_column_defs(columns)}){' ON COMMIT DROP' if scratch else ''}")
        names = ", ".join(_ident(c) for c in columns.names)
        con.execute(f"INSERT INTO {target} ({names}) {backend.compile(expr)}")
        con.execute(f"ANALYZE {target}")
        return backend.table(name) if scratch else backend.table(name, database=schema)

    return build_derived(backend, config, write, BUILT_BY["postgres"])


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
    target = f"{_ident(schema)}.{_ident(table)}"
    con.execute(f"DROP TABLE IF EXISTS {target}")
    con.execute(f"CREATE TABLE {target} ({_column_defs(nullable)})")
    # pyarrow quotes every text value and leaves NULL unquoted: COPY reads "" as '' and nothing as NULL
    options = pcsv.WriteOptions(include_header=False)
    with con.cursor().copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy:
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            chunk = io.BytesIO()
            pcsv.write_csv(pa.Table.from_batches([batch]), chunk, write_options=options)
            copy.write(chunk.getvalue())
    con.execute(f"ANALYZE {target}")  # statistics now: see build_tables


def _column_defs(columns: ibis.Schema) -> str:
    """The column definitions of ``CREATE TABLE`` for ``columns``, every text column (and text array) in the
    collation ``"C"``: byte order, as DuckDB orders text, whatever the database's default collation (an
    ``en_US.UTF-8`` or ICU one orders mixed-case ids and kinds otherwise, and with them ``person_key``, the
    order of same-instant touches and the analyses' sorted names)."""
    import sqlglot.expressions as sge

    defs = columns.to_sqlglot_column_defs("postgres")
    for kind, column in zip(columns.values(), defs, strict=True):
        if kind.is_string() or (kind.is_array() and kind.value_type.is_string()):
            column.append("constraints", sge.ColumnConstraint(
                kind=sge.CollateColumnConstraint(this=sge.to_identifier("C", quoted=True))))
    return ", ".join(c.sql("postgres") for c in defs)


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
# collations whose lower() maps every character as DuckDB's does (Unicode's simple case mapping: glibc's C.UTF-8
# and Postgres 17's builtin one), in the order tried; "C", every text column's, lowers ASCII letters only
UNICODE_LOWER = ("pg_c_utf8", "C.utf8", "C.UTF-8")


def postgres_backend(con: Any) -> ibis.BaseBackend:
    """An Ibis backend on the psycopg connection ``con``, compiling with :func:`_postgres_compiler` (``lower()``
    in the first of :data:`UNICODE_LOWER` the server has, else through :func:`~leadjourney.casefold.lower_map`)."""
    import ibis

    found = con.execute("SELECT collname FROM pg_collation WHERE collname = ANY(%s) "
                        "AND collencoding IN (-1, pg_char_to_encoding('UTF8'))", [list(UNICODE_LOWER)]).fetchall()
    names = {str(r[0]) for r in found}
    backend = ibis.postgres.from_connection(con)
    backend.compiler = _postgres_compiler(next((n for n in UNICODE_LOWER if n in names), None))
    return backend


@functools.cache
def _postgres_compiler(lower_collation: str | None = None) -> Any:
    """Ibis's Postgres compiler with regular expressions, epochs and lower case made as DuckDB makes them.

    * ``\\b`` (a word boundary in RE2, a backspace in Postgres) becomes Postgres's ``\\y``. The patterns are the
      analyses' own and the ``[[personas]]`` job_title rules people write (and the suggested personas propose).
    * A group extracted (``re_extract``) is ``''`` where RE2's ``regexp_extract`` gives ``''``: the pattern does not
      match, or the group took no part in the match (Ibis's gives NULL), and the expression is matched once, not
      twice (Ibis's tests ``~`` first). The patterns are written for both (no ``(?i)``, which Postgres reads only
      at an expression's start and Ibis wraps in a group: :mod:`leadjourney.ingest.urls`). Both read ``^`` and
      ``$`` at the text's ends only, ``[^...]`` takes line breaks, and ``\\r`` and U+2028 are characters like any.
    * Epoch seconds are a ``double precision``, as DuckDB's ``epoch`` (Postgres's is an exact ``numeric``): a
      difference of two (a visit's duration, the silence before a touch) then rounds as DuckDB's does, to the
      last bit (DuckDB's 28.04620385169983 s, not the exact 28.046204).
    * ``lower()`` in ``lower_collation`` (:func:`postgres_backend`): a host in capitals (``MÜNCHEN.de``) in lower
      case as DuckDB's, not only its ASCII letters. A server without such a collation (before Postgres 17, on a
      system without the C.UTF-8 locale) lowers text with letters beyond ASCII through ``translate()`` with
      DuckDB's own mapping first (:func:`~leadjourney.casefold.lower_map`): the column's "C" would lower ASCII letters only, and
      ICU's root locale differs (``İ``, a word-final sigma)."""
    import ibis.expr.datatypes as dt
    import sqlglot.expressions as sge
    from ibis.backends.sql.compilers.postgres import PostgresCompiler

    from leadjourney.casefold import lower_map

    class PortablePostgresCompiler(PostgresCompiler):
        pass

    def visit_regex_search(self: Any, op: Any, *, arg: Any, pattern: Any) -> Any:
        if isinstance(pattern, sge.Literal) and pattern.is_string:
            pattern = sge.convert(_WORD_BOUNDARY.sub(r"\1\\y", pattern.this))
        return self.f.regexp_like(arg, pattern)

    def visit_regex_extract(self: Any, op: Any, *, arg: Any, pattern: Any, index: Any) -> Any:
        if not (isinstance(index, sge.Literal) and not index.is_string and int(index.this) >= 1):
            pattern, index = self.f.concat("(", pattern, ")"), index + 1  # group 0: the whole match, grouped
        group = sge.Bracket(this=sge.paren(self.f.regexp_match(arg, pattern), copy=False),
                            expressions=[index], offset=1)  # the array's first element: group 1
        return self.if_(arg.is_(sge.null()), sge.null(), self.f.coalesce(group, sge.convert("")))

    def visit_extract_epoch_seconds(self: Any, op: Any, *, arg: Any) -> Any:
        return self.cast(self.f.extract("epoch", arg), dt.float64)

    def visit_lowercase(self: Any, op: Any, *, arg: Any) -> Any:
        if lower_collation is None:
            upper, lower = lower_map(128)
            beyond_ascii = self.f.regexp_like(arg, sge.convert("[^\\x01-\\x7f]"))
            return self.if_(beyond_ascii, self.f.lower(self.f.translate(arg, upper, lower)), self.f.lower(arg))
        return self.f.lower(sge.Collate(this=arg, expression=sge.to_identifier(lower_collation, quoted=True)))

    # set after the class is made: Ibis defines each simple operation's method on every subclass
    PortablePostgresCompiler.visit_RegexSearch = visit_regex_search  # type: ignore[attr-defined]
    PortablePostgresCompiler.visit_RegexExtract = visit_regex_extract  # type: ignore[attr-defined]
    PortablePostgresCompiler.visit_ExtractEpochSeconds = visit_extract_epoch_seconds  # type: ignore[attr-defined]
    PortablePostgresCompiler.visit_Lowercase = visit_lowercase  # type: ignore[attr-defined]
    return PortablePostgresCompiler()


__all__ = ["build_tables", "connect_postgres", "load_tables", "loaded_fingerprint", "loaded_for", "loaded_state",
           "postgres_backend"]
