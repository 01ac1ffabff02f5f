"""Loading one staged select into its canonical table, quarantining what cannot load.

In two parts: :func:`prepare_staged` types and checks the rows into temporary tables before the ingest's
transaction (so that what it drops is freed at once), and :func:`write_prepared` writes them in it, once the
rows the same source loaded before are deleted (re-ingest replaces a source's rows). The steps, all in DuckDB:

1. ``lj_norm``: every staged row with its canonical, typed values (low-cardinality
   columns such as channels and stages are normalized once per distinct value);
2. ``lj_dups``: rows identical to an earlier row (found by hash, confirmed on the values);
3. ``lj_keydups``: later rows repeating a ``lead_id``/``opportunity_id`` with other values;
4. quarantine rows for unusable values, missing required values, duplicates and key
   conflicts with other sources, each with the raw record;
5. (in the transaction) insert the rest.

A source read straight from its file (a Parquet file: a view, nothing copied) whose text columns need no typing
row by row (ids aside) is typed *again* as it is inserted, with the same typing select (its per-value maps kept
till then): ``lj_norm`` then holds only what the checks read (row number, hash, key, required and checked
columns), not a second copy of every typed row. Touchpoints exports are such files: at 1M touchpoints typing
and inserting cost 9.0 instead of 10.4 CPU seconds, and their typed rows are no longer held (spilled to disk at
10M leads) until the transaction writes them. Text times, e-mail hashes and masked free text cost more to type
again than to hold.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from leadjourney import schema
from leadjourney.config import Config, Source
from leadjourney.db import scalar
from leadjourney.errors import IngestError
from leadjourney.ingest.columns import KEYS, KINDS, NOT_NULL, REJECT_UNREADABLE, is_personal_column
from leadjourney.ingest.formats import RAW, Staged
from leadjourney.ingest.normalize import Typed, source_timezone, typed_columns
from leadjourney.ingest.outcomes import placeholder_sql
from leadjourney.ingest.personal import scrub_text, scrub_text_sql
from leadjourney.ingest.readers import ROW
from leadjourney.ingest.sql import ident, lit
from leadjourney.ingest.timestamps import fast_formats, zone_spans

_R = ident(ROW)
_H = "__h"  # lj_norm's hash of a row's values
_WHERE = " /*lj:rows*/"  # where the typing select takes a condition on the staged rows
_NAMED_ROWS = 10_000  # repeated rows typed again are named in the SQL up to this many (else a semi join)


@dataclass(frozen=True)
class Loaded:
    table: str
    rows_in: int
    rows_loaded: int
    quarantined: Counter[str]  # reason -> rows


@dataclass(frozen=True)
class Prepared:
    """One staged select typed and checked, in temporary tables named from ``name``, ready to be written by
    :func:`write_prepared`: the typed rows (``{name}_norm``, only the columns its table
    takes), the rows of them not to load (``{name}_skip``: rejected, repeated, key conflicts), the
    quarantine rows (``{name}_q``, without their ingest id; none when nothing is quarantined) and the notes
    (``{name}_notes``, likewise)."""

    table: str
    name: str
    rows_in: int
    quarantined: Counter[str]  # reason -> rows
    origin: str
    key: str | None
    insert: str  # the INSERT of the rows that load
    rows_out: int  # the rows it loads
    raw: str | None  # typed again from this view (as RAW) when inserted; None: from ``{name}_norm``

    @property
    def loading(self) -> str:
        """A select of (key, origin) of the rows this item loads (its table has a key)."""
        return (f"SELECT n.{ident(self.key or '')}, {lit(self.origin)} FROM {self.name}_norm n "
                f"ANTI JOIN {self.name}_skip s ON s.{_R} = n.{_R}")


def prepare_staged(con: duckdb.DuckDBPyConnection, staged: Staged, *, source: Source, config: Config,
                   source_file: str, salt: str, name: str, replaced: tuple[str, ...],
                   earlier: tuple[Prepared, ...], raw: str | None = None) -> Prepared:
    """Type, validate and de-duplicate one staged select into temporary tables named from ``name``, writing
    nothing else: run outside the ingest's transaction, so that what it drops is freed at once (inside it,
    DuckDB keeps a dropped table's rows until COMMIT). The key conflicts are judged against the table as the
    transaction will find it when this item is written: without the rows of the ``replaced`` origins (the
    sources loaded by this ingest, this one included, up to this one), with the rows the ``earlier`` items load.

    ``raw``: the name the caller keeps RAW's view under until the write (a file read in place): the rows are
    then typed again as they are inserted, and only what the checks need is kept here."""
    table = staged.table
    described = con.execute(f"DESCRIBE SELECT * FROM ({staged.select}) LIMIT 0").fetchall()
    present = {str(r[0]): str(r[1]) for r in described if r[0] not in (ROW, "__extra")}
    has_extra = any(r[0] == "__extra" for r in described)
    text_times = [c for c, t in present.items() if KINDS[table].get(c) == "timestamp" and t.upper() == "VARCHAR"]
    fast = fast_formats(con, staged.select, text_times)
    wall_clock = [c for c, t in present.items() if KINDS[table].get(c) == "timestamp" and t.upper().startswith(
        "TIMESTAMP") and "TIME ZONE" not in t.upper()]
    zones = zone_spans(con, staged.select, source_timezone(source, config), wall_clock, fast)
    typed = typed_columns(table, present, source, config, salt, fast, zones)
    produced = [t.column for t in typed] + [n for t in typed for n in t.also] + (["__extra"] if has_extra else [])
    values = ", ".join(ident(c) for c in produced)
    key = KEYS.get(table)
    checked = None if raw is None else {  # what the checks read (and the notes, __note|*)
        ROW, *([key] if key else []), *(c for t in typed if t.failed for c in (t.column, f"raw__{t.column}")),
        *(c for c in (*NOT_NULL[table], *REJECT_UNREADABLE.get(table, ())) for c in (c, f"raw__{c}"))}
    rows_in, typing = _normalize(con, staged, typed, present, has_extra, NOT_NULL[table], values, name, checked)
    if typing is None:
        checked = None  # typed once, kept whole
    kept_as_written = {t.column for t in typed if t.raw == t.value}  # ids: no raw__ copy
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_notes AS SELECT {lit(source.name)} AS origin, "
                f"{lit(source_file)} AS source_file, {lit(table)} AS tbl, note, column_name, value, n FROM lj_notes")
    for note, column, where in staged.notes:
        con.execute(f"INSERT INTO {name}_notes SELECT {lit(source.name)}, {lit(source_file)}, "
                    f"{lit(table)}, {lit(note)}, {lit(column)}, NULL, count(*) FROM {RAW} WHERE {where} "
                    f"HAVING count(*) > 0")

    rejected = " OR ".join([f"n.{ident(c)} IS NULL" for c in NOT_NULL[table]] + [
        f"(n.{ident('raw__' + c)} IS NOT NULL AND n.{ident(c)} IS NULL)"
        for c in REJECT_UNREADABLE.get(table, ()) if c in present and c not in kept_as_written])
    # identical rows: candidates by hash (each row hashed as it was typed), confirmed by partitioning on the values.
    # The repeated hashes are few: one aggregate finds them, and the rows having one are read by a semi join
    # against that small set (not a second list of rows as long as the table)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lj_candidates AS
        SELECT {_H} FROM lj_norm n WHERE NOT ({rejected}) GROUP BY {_H} HAVING count(*) > 1
    """)
    if typing is None:
        candidates = f"lj_norm n SEMI JOIN lj_candidates c ON c.{_H} = n.{_H}"
    else:  # typed again: the rows whose hash repeats, named (the scan filters them before any typing)
        rows = f"SELECT n.{_R} FROM lj_norm n SEMI JOIN lj_candidates c ON c.{_H} = n.{_H}"
        few = con.execute(f"{rows} LIMIT {_NAMED_ROWS + 1}").fetchall()
        named = ", ".join(str(int(r[0])) for r in few) or "NULL"
        candidates = f"({typing(f'WHERE {_R} IN ({named if len(few) <= _NAMED_ROWS else rows})')}) n"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lj_dups AS
        SELECT {_R}, first FROM (
            SELECT {_R}, min({_R}) OVER (PARTITION BY {values}) AS first
            FROM {candidates} WHERE NOT ({rejected}))
        WHERE {_R} <> first
    """)
    kept = f"lj_norm n ANTI JOIN lj_dups d ON d.{_R} = n.{_R}"
    if key:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE lj_keydups AS
            SELECT {_R}, first FROM (
                SELECT n.{_R}, min(n.{_R}) OVER (PARTITION BY n.{ident(key)}) AS first
                FROM {kept} WHERE NOT ({rejected}))
            WHERE {_R} <> first
        """)
    # the table's rows when this item is written (what another source loaded), keyed
    loaded = " UNION ALL ".join(
        [f"SELECT {ident(key)}, origin FROM {table} WHERE origin NOT IN ({', '.join(map(lit, replaced))})"]
        + [p.loading for p in earlier if p.table == table]) if key else ""
    problems = _problems(typed, table, present, rejected, key, kept_as_written, loaded)
    con.execute(f"CREATE OR REPLACE TEMP TABLE lj_problems AS SELECT * FROM ({' UNION ALL '.join(problems)}) "
                f"AS u(row_no, column_name, value, reason, detail, action)")
    quarantined = Counter({
        str(reason): int(n)
        for reason, n in con.execute("SELECT reason, count(*) FROM lj_problems GROUP BY 1").fetchall()
    })
    # the rows that do not load though not rejected: repeated rows, repeated keys, keys another source loaded
    skipped = [f"SELECT {_R} FROM lj_norm n WHERE {rejected}", f"SELECT {_R} FROM lj_dups"] + ([
        f"SELECT {_R} FROM lj_keydups",
        f"SELECT row_no FROM lj_problems WHERE reason = {lit(f'{key} loaded by another source')}"] if key else [])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_skip AS {' UNION ALL '.join(skipped)}")
    if quarantined:  # the record's masking is a large expression: planned only when a row needs it
        record = raw_record_sql(
            {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {RAW}").fetchall() if r[0] != ROW},
            keep_personal=config.keep_emails,
        )
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {name}_q AS
            WITH r AS (SELECT {_R}, {record} AS record FROM {RAW} WHERE {_R} IN (SELECT row_no FROM lj_problems))
            SELECT {lit(source.name)}, {lit(source_file)}, p.row_no, {lit(table)}, p.column_name, p.value,
                   p.reason, p.detail, p.action, r.record
            FROM lj_problems p LEFT JOIN r ON r.{_R} = p.row_no
        """)
    for temp in ("lj_candidates", "lj_dups", "lj_keydups", "lj_problems", "lj_notes"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    columns = schema.columns(table)
    # only what the INSERT reads is kept till the transaction (dropping a column frees its rows at once); typed
    # again as inserted: only the row numbers and keys (the key conflicts of later items read them)
    wanted = {ROW, "__extra", *columns} if checked is None else {ROW, *([key] if key else [])}
    for (column,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'lj_norm' "
                                 "AND database_name = 'temp'").fetchall():
        if column not in wanted:
            con.execute(f"ALTER TABLE lj_norm DROP COLUMN {ident(str(column))}")
    con.execute(f"ALTER TABLE lj_norm RENAME TO {name}_norm")
    rows_out = int(scalar(con, f"SELECT count(*) FROM {name}_norm n ANTI JOIN {name}_skip s ON s.{_R} = n.{_R}"))
    typed_rows = f"{name}_norm n" if typing is None else f"({typing('')}) n"
    insert = (f"INSERT INTO {table} ({', '.join(map(ident, columns))}) "
              f"SELECT {', '.join(_insert_exprs(columns, set(produced), source, source_file, has_extra))} "
              f"FROM {typed_rows} ANTI JOIN {name}_skip s ON s.{_R} = n.{_R}")
    return Prepared(table, name, rows_in, quarantined, source.name, key, insert, rows_out, raw)


def write_prepared(con: duckdb.DuckDBPyConnection, prepared: Prepared, ingest_id: int) -> Loaded:
    """Write a :func:`prepare_staged` item's quarantine rows, notes and rows (the source's earlier rows already
    deleted), in the caller's transaction. An item typed again as inserted reads its file once more: when it no
    longer yields the rows checked (the file changed meanwhile), an :class:`IngestError` (the caller rolls back)."""
    name = prepared.name
    con.execute(f"INSERT INTO ingest_notes SELECT {ingest_id}, * FROM {name}_notes")
    if prepared.quarantined:
        con.execute(f"INSERT INTO quarantine SELECT *, {ingest_id} FROM {name}_q")
    if prepared.raw is not None:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {RAW} AS SELECT * FROM {prepared.raw}")
    try:
        inserted = int(con.execute(prepared.insert).fetchall()[0][0])
    finally:
        if prepared.raw is not None:
            con.execute(f"DROP VIEW IF EXISTS {RAW}")
    if inserted != prepared.rows_out:
        raise IngestError(f"{prepared.origin}: {inserted:,} rows read for {prepared.table} where {prepared.rows_out:,} "
                          "were checked: the file changed while it was ingested; the workspace is unchanged, "
                          "run ingest again")
    return Loaded(prepared.table, prepared.rows_in, inserted, prepared.quarantined)


def drop_prepared(con: duckdb.DuckDBPyConnection, prepared: Prepared) -> None:
    for suffix in ("norm", "skip", "q", "notes"):
        con.execute(f"DROP TABLE IF EXISTS {prepared.name}_{suffix}")
    for (table,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'temp' AND "
                                f"starts_with(table_name, '{prepared.name}_map')").fetchall():
        con.execute(f"DROP TABLE IF EXISTS {ident(str(table))}")


def _normalize(con: duckdb.DuckDBPyConnection, staged: Staged, typed: list[Typed], present: dict[str, str],
               has_extra: bool, required: tuple[str, ...], values: str, prefix: str,
               checked: set[str] | None) -> tuple[int, Callable[[str], str] | None]:
    """Create ``lj_norm``: canonical values per staged row, the raw text where quarantine may need it, what
    the notes count (``__note|NOTE|COLUMN`` columns, counted into ``lj_notes``), and the hash of the ``values``
    columns (``__h``: the duplicate rows' candidates), computed as the row is typed, not by reading it again;
    return its rows and, when the rows are to be typed again as inserted, the typing select (given a condition
    on the staged rows, such as ``WHERE __row IN (...)``, or ``""``). That is with ``checked`` and when typing
    a row again is cheap (no text column typed row by row but ids: parsing text times, hashing e-mails or
    masking free text cost more than holding the typed rows): ``lj_norm`` then keeps only the ``checked``
    columns (and the notes and hash) and the per-value maps (``{prefix}_map{i}``) stay for the typing select;
    else ``lj_norm`` keeps every column and the maps are dropped.

    A column whose values repeat (channels, stages, campaigns, countries: told by its first rows) is typed once
    per distinct value and joined back; the others are typed row by row. Both give the same values: the
    typing of a value depends on that value alone. The staged rows are read as they stream, not copied first.
    """
    spellings = {t.column: t.placeholders for t in typed if t.placeholders}
    fast = {t.column: t.fast for t in typed if t.fast}
    repeated = _repeated_text_columns(con, staged, typed, present)
    keyed = {d for t in typed for d in t.per_value}  # joined on as written: not cleaned row by row
    per_row = [t for t in typed if not t.per_value and t.column not in repeated and t.column not in keyed]
    row_typed = {id(t) for t in per_row}
    # placeholders are missing values: NULL from here on; notes are counted on the values as written
    cleaned = [f"{_cleaned(t.column, spellings[t.column], fast.get(t.column))} AS {ident(t.column)}"
               for t in per_row if t.column in spellings]
    pre = [f"{expr} AS {ident(column)}" for t in per_row for column, expr in t.pre.items()]
    chosen = f"SELECT * FROM ({staged.select}){_WHERE}"
    staged_rows = f"SELECT *, {', '.join(pre)} FROM ({chosen})" if pre else chosen
    star = f"* REPLACE ({', '.join(cleaned)})" if cleaned else "*"
    noted = [f"CAST({expr} AS VARCHAR) AS {ident(f'__note|{note}|{t.column}')}"
             for t in per_row for note, expr in t.notes.items()]
    select = [f"lj_in.{_R}"] + (["lj_in.__extra"] if has_extra else [])
    joins = []
    notes = 0
    mapped_notes: list[str] = []  # selects of (note, column_name, value, n): notes counted per distinct value
    for i, t in enumerate(typed):
        needs_raw = (bool(t.failed) or t.column in required) and t.raw != t.value  # else the value tells
        note_names = [ident(f"__note|{note}|{t.column}") for note in t.notes]
        if id(t) in row_typed:
            notes += len(note_names)
            if needs_raw:
                select.append(f"{t.raw} AS {ident('raw__' + t.column)}")
            select.append(f"{t.value} AS {ident(t.column)}")
            select.extend(f"{expr} AS {ident(name)}" for name, expr in t.also.items())
            select.extend(f"lj_in.{n}" for n in note_names)
            continue
        # typed once per distinct value (of the columns it depends on), as written in the file
        deps = t.per_value or (t.column,)
        keys = [f"__m{i}_k{j}" for j in range(len(deps))]
        outputs = {"__v": t.value, **({"__raw": t.raw} if needs_raw else {}), **t.also}
        distinct = f"SELECT {', '.join(ident(d) for d in deps)}, count(*) AS __n FROM ({staged.select}) GROUP BY ALL"
        if t.pre:
            distinct = f"SELECT *, {', '.join(f'{e} AS {ident(n)}' for n, e in t.pre.items())} FROM ({distinct})"
        written = ", ".join([f"{ident(d)} AS {k}" for d, k in zip(deps, keys, strict=True)]
                            + [f"CAST({expr} AS VARCHAR) AS {name}"
                               for name, expr in zip(note_names, t.notes.values(), strict=True)])
        replaced = [f"{_cleaned(d, spellings[d], fast.get(d))} AS {ident(d)}" for d in deps if d in spellings]
        inner = f"SELECT {written}, * {f'REPLACE ({chr(44).join(replaced)})' if replaced else ''} FROM ({distinct})"
        columns = ", ".join([*keys, *note_names, "__n"] + [f"{expr} AS {ident(f'__m{i}|{name}')}"
                                                     for name, expr in outputs.items()])
        con.execute(f"CREATE OR REPLACE TEMP TABLE {prefix}_map{i} AS SELECT {columns} FROM ({_with_steps(inner, [t])})")
        on = " AND ".join(f"m{i}.{k} IS NOT DISTINCT FROM lj_in.{ident(d)}" for d, k in zip(deps, keys, strict=True))
        joins.append(f"LEFT JOIN {prefix}_map{i} m{i} ON {on}")
        if needs_raw:
            select.append(f"m{i}.{ident(f'__m{i}|__raw')} AS {ident('raw__' + t.column)}")
        select.append(f"m{i}.{ident(f'__m{i}|__v')} AS {ident(t.column)}")
        select.extend(f"m{i}.{ident(f'__m{i}|{name}')} AS {ident(name)}" for name in t.also)
        # its notes counted on the distinct values, times the rows that have each: not carried row by row
        mapped_notes.extend(f"SELECT {lit(note)}, {lit(t.column)}, {n}, sum(__n) FROM {prefix}_map{i} "
                            f"WHERE {n} IS NOT NULL GROUP BY ALL" for note, n in zip(t.notes, note_names, strict=True))
    rows = _with_steps(f"SELECT {', '.join([star, *noted])} FROM ({staged_rows})", per_row)
    typing = f"SELECT {', '.join(select)} FROM ({rows}) lj_in {' '.join(joins)}"
    if any(t.raw != t.value and present.get(t.column, "").upper().startswith("VARCHAR") for t in per_row):
        checked = None  # typing a row again would cost more than keeping it typed
    kept = "*" if checked is None else (
        f"COLUMNS(lambda c: c IN ({', '.join(map(lit, sorted(checked)))}) OR starts_with(c, '__note|'))")
    con.execute(f"CREATE OR REPLACE TEMP TABLE lj_norm AS SELECT {kept}, hash({values}) AS {_H} "
                f"FROM ({typing.replace(_WHERE, '')})")
    _count_notes(con, notes, mapped_notes)
    if checked is None:
        for i, t in enumerate(typed):
            if id(t) not in row_typed:
                con.execute(f"DROP TABLE {prefix}_map{i}")
    rows_in = int(scalar(con, "SELECT count(*) FROM lj_norm"))
    return rows_in, None if checked is None else (lambda where: typing.replace(_WHERE, f" {where}"))


def _with_steps(select: str, typed: list[Typed]) -> str:
    """``select`` (the cleaned staged rows) with the helper columns of ``typed`` (``Typed.steps``), layer by
    layer: each computed once and referred to by name, so the typing SQL DuckDB parses stays small."""
    depth = max((len(t.steps) for t in typed), default=0)
    for layer in range(depth):
        exprs = [f"{expr} AS {ident(name)}" for t in typed if layer < len(t.steps) for name, expr in t.steps[layer].items()]
        if exprs:
            select = f"SELECT *, {', '.join(exprs)} FROM ({select})"
    return select


_SAMPLE_ROWS = 20_000  # rows a column's repetition is judged on
_REPEATS = 20  # a column typed per distinct value repeats its values this often in the sample, on average


def _repeated_text_columns(con: duckdb.DuckDBPyConnection, staged: Staged, typed: list[Typed],
                           present: dict[str, str]) -> set[str]:
    """Text columns (of those not typed per value anyway) whose first rows repeat their values: worth typing per
    distinct value. Numbers and timestamps are typed row by row (cheap, and equal values may print differently)."""
    text = [t.column for t in typed if not t.per_value and present.get(t.column, "").upper() == "VARCHAR"]
    if not text:
        return set()
    counts = con.execute(
        f"SELECT count(*), {', '.join(f'approx_count_distinct({ident(c)})' for c in text)} "
        f"FROM (SELECT {', '.join(map(ident, text))} FROM ({staged.select}) LIMIT {_SAMPLE_ROWS})"
    ).fetchall()[0]
    rows = int(counts[0])
    return {c for c, n in zip(text, counts[1:], strict=True) if int(n) * _REPEATS <= rows}


def _cleaned(column: str, spellings: tuple[str, ...], fast: str | None = None) -> str:
    """The staged column with its placeholder spellings as NULL (a value a fast path typed is none)."""
    typed = f"WHEN {ident(fast)} IS NOT NULL THEN {ident(column)} " if fast else ""
    return f"CASE {typed}WHEN {placeholder_sql(ident(column), spellings)} THEN NULL ELSE {ident(column)} END"


def _count_notes(con: duckdb.DuckDBPyConnection, noted: int, mapped: list[str]) -> None:
    """Create ``lj_notes`` (note, column_name, value, n) from the ``__note|NOTE|COLUMN`` columns of ``lj_norm``
    (``noted``: how many) and the ``mapped`` selects (the notes of the columns typed per distinct value)."""
    parts = [f"SELECT * FROM ({m})" for m in mapped]
    if noted:
        parts.append(r"""
            SELECT split_part(k, '|', 2), split_part(k, '|', 3), value, count(*)
            FROM (UNPIVOT (SELECT COLUMNS('^__note\|') FROM lj_norm) ON COLUMNS(*) INTO NAME k VALUE value)
            GROUP BY ALL""")
    if not parts:
        con.execute("CREATE OR REPLACE TEMP TABLE lj_notes AS SELECT NULL::VARCHAR AS note, "
                    "NULL::VARCHAR AS column_name, NULL::VARCHAR AS value, 0::BIGINT AS n LIMIT 0")
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lj_notes AS
        SELECT note, column_name, value, CAST(sum(n) AS BIGINT) AS n
        FROM ({' UNION ALL '.join(parts)}) AS u(note, column_name, value, n) GROUP BY ALL
    """)


def _problems(typed: list[Typed], table: str, present: dict[str, str], rejected: str, key: str | None,
              kept_as_written: set[str], loaded: str) -> list[str]:
    """Selects of (row, column, value, reason, detail, action) for everything that goes to quarantine
    (``kept_as_written``: columns whose value is the raw text, which ``lj_norm`` holds once; ``loaded``: a select
    of (key, origin) of the rows the table holds when these load)."""
    action = f"CASE WHEN {rejected} THEN '{schema.ROW_REJECTED}' ELSE '{schema.VALUE_NULLED}' END"
    out = [
        f"SELECT {_R}, {lit(t.column)}, {ident('raw__' + t.column)}, {lit(t.reason)}, NULL, {action} "
        f"FROM lj_norm n WHERE {t.failed}"
        for t in typed if t.failed
    ]
    for column in NOT_NULL[table]:
        raw = (ident(column) if column in kept_as_written else ident("raw__" + column)) if column in present else "NULL"
        untyped = f"{ident(column)} IS NULL AND " if column in present else ""  # raw: kept for untyped values only
        out.append(f"SELECT {_R}, {lit(column)}, NULL, 'missing value', NULL, '{schema.ROW_REJECTED}' "
                   f"FROM lj_norm n WHERE {untyped}{raw} IS NULL")
    out.append(f"SELECT {_R}, NULL, NULL, 'exact duplicate row', 'identical to row ' || first, "
               f"'{schema.ROW_DROPPED_DUPLICATE}' FROM lj_dups")
    if key:
        k = ident(key)
        out.append(f"SELECT n.{_R}, {lit(key)}, n.{k}, 'duplicate {key}', "
                   f"'also on row ' || d.first || ' with other values', '{schema.ROW_REJECTED}' "
                   f"FROM lj_keydups d JOIN lj_norm n ON n.{_R} = d.{_R}")
        out.append(f"SELECT n.{_R}, {lit(key)}, n.{k}, '{key} loaded by another source', "
                   f"'already loaded by source ' || min(t.origin), '{schema.ROW_REJECTED}' "
                   f"FROM lj_norm n JOIN ({loaded}) AS t({k}, origin) ON t.{k} = n.{k} "
                   f"WHERE NOT ({rejected}) AND n.{_R} NOT IN (SELECT {_R} FROM lj_dups) "
                   f"AND n.{_R} NOT IN (SELECT {_R} FROM lj_keydups) GROUP BY ALL")
    return out


def _insert_exprs(columns: list[str], available: set[str], source: Source, source_file: str,
                  has_extra: bool) -> list[str]:
    exprs = []
    for column in columns:
        if column == "origin":
            exprs.append(lit(source.name))
        elif column == "source_file":
            exprs.append(lit(source_file))
        elif column == "source_row":
            exprs.append(f"n.{_R}")
        elif column == "extra":
            exprs.append("n.__extra" if has_extra else "NULL")
        elif column.endswith("_is_date") and column in available:
            base = column.removesuffix("_is_date")
            exprs.append(f"CASE WHEN n.{ident(base)} IS NOT NULL THEN n.{ident(column)} END")
        elif column in available:
            exprs.append(f"n.{ident(column)}")
        else:
            exprs.append("NULL")
    return exprs


def raw_record_sql(columns: dict[str, str], *, keep_personal: bool) -> str:
    """JSON of a raw row (column -> DuckDB type) for quarantine: as read when the config keeps personal data,
    else without personal-data columns and with e-mails and phone numbers in the others' text masked."""
    kept = [c for c in columns if keep_personal or not is_personal_column(c)]
    if not kept:
        return "NULL"
    masked = [c for c in kept if not keep_personal and columns[c].upper() == "VARCHAR"]
    if not masked:
        return "json_object(" + ", ".join(f"{lit(c)}, {ident(c)}" for c in kept) + ")"
    # the masking written once, over the list of the text columns: DuckDB compiles its regular expressions once
    # per statement, not once per column (tens of milliseconds each)
    at = {c: i for i, c in enumerate(masked, 1)}
    texts = f"list_transform([{', '.join(map(ident, masked))}], lambda __lj_v: {scrub_text_sql('__lj_v')})"
    record = "json_object(" + ", ".join(
        f"{lit(c)}, {f'__lj_m[{at[c]}]' if c in at else ident(c)}" for c in kept) + ")"
    return f"list_transform([{texts}], lambda __lj_m: {record})[1]"


def redact_malformed(text: str, header: list[str], delimiter: str) -> str:
    """A malformed row's text for quarantine, without personal data.

    Fields in the positions of personal-data columns (names, phones, e-mails,
    addresses) are hidden, and e-mail addresses and phone numbers anywhere are masked. A row with
    the wrong number of fields may have shifted them, so from the earliest
    position a personal value could have moved to, everything is hidden.

    >>> redact_malformed("L1,+1 555-0100,a@example.com,x", ["lead_id", "Phone", "Email"], ",")
    'L1,<hidden>,<hidden>,x'
    """
    personal = {i for i, name in enumerate(header) if is_personal_column(name)}
    try:
        fields = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (StopIteration, csv.Error):
        fields = [text]
    if personal and len(fields) != len(header):
        # fields have shifted: hide everything from where a personal value could have moved to
        first = max(0, min(personal) - max(0, len(header) - len(fields)))
        personal = set(range(first, len(fields)))
    shown = ["<hidden>" if i in personal else scrub_text(f) for i, f in enumerate(fields)]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(shown)
    return out.getvalue()
