"""Loading one staged select into its canonical table, quarantining what cannot load.

Runs inside the caller's transaction. Rows of the same source loaded before
must already be deleted (re-ingest replaces a source's rows). The steps, all in DuckDB:

1. ``lj_norm``: every staged row with its canonical, typed values (low-cardinality
   columns such as channels and stages are normalized once per distinct value);
2. ``lj_dups``: rows identical to an earlier row (found by hash, confirmed on the values);
3. ``lj_keydups``: later rows repeating a ``lead_id``/``opportunity_id`` with other values;
4. quarantine rows for unusable values, missing required values, duplicates and key
   conflicts with other sources, each with the raw record;
5. insert the rest.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass

import duckdb

from leadjourney import schema
from leadjourney.config import Config, Source
from leadjourney.db import scalar
from leadjourney.ingest.columns import KEYS, NOT_NULL, REJECT_UNREADABLE, is_personal_column
from leadjourney.ingest.formats import RAW, Staged
from leadjourney.ingest.normalize import Typed, typed_columns
from leadjourney.ingest.outcomes import placeholder_sql
from leadjourney.ingest.personal import scrub_text, scrub_text_sql
from leadjourney.ingest.readers import ROW
from leadjourney.ingest.sql import ident, lit

_R = ident(ROW)


@dataclass(frozen=True)
class Loaded:
    table: str
    rows_in: int
    rows_loaded: int
    quarantined: Counter[str]  # reason -> rows


def load_staged(con: duckdb.DuckDBPyConnection, staged: Staged, *, source: Source, config: Config,
                source_file: str, ingest_id: int, salt: str) -> Loaded:
    """Type, validate, de-duplicate and insert one staged select; quarantine the rest."""
    table = staged.table
    described = con.execute(f"DESCRIBE SELECT * FROM ({staged.select}) LIMIT 0").fetchall()
    present = {str(r[0]): str(r[1]) for r in described if r[0] not in (ROW, "__extra")}
    has_extra = any(r[0] == "__extra" for r in described)
    typed = typed_columns(table, present, source, config, salt)
    rows_in = _normalize(con, staged, typed, has_extra, NOT_NULL[table])
    notes = (f"SELECT {ingest_id}, {lit(source.name)}, {lit(source_file)}, {lit(table)}, note, column_name, value, n "
             f"FROM lj_notes")
    con.execute(f"INSERT INTO ingest_notes {notes}")
    for note, column, where in staged.notes:
        con.execute(f"INSERT INTO ingest_notes SELECT {ingest_id}, {lit(source.name)}, {lit(source_file)}, "
                    f"{lit(table)}, {lit(note)}, {lit(column)}, NULL, count(*) FROM {RAW} WHERE {where} "
                    f"HAVING count(*) > 0")

    produced = [t.column for t in typed] + [n for t in typed for n in t.also] + (["__extra"] if has_extra else [])
    rejected = " OR ".join([f"n.{ident(c)} IS NULL" for c in NOT_NULL[table]] + [
        f"(n.{ident('raw__' + c)} IS NOT NULL AND n.{ident(c)} IS NULL)"
        for c in REJECT_UNREADABLE.get(table, ()) if c in present])
    values = ", ".join(ident(c) for c in produced)
    # identical rows: candidates by hash, confirmed by partitioning on the values themselves
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lj_dups AS
        WITH candidates AS (
            SELECT hash({values}) AS h FROM lj_norm n WHERE NOT ({rejected}) GROUP BY 1 HAVING count(*) > 1
        )
        SELECT {_R}, first FROM (
            SELECT {_R}, min({_R}) OVER (PARTITION BY {values}) AS first
            FROM lj_norm n WHERE NOT ({rejected}) AND hash({values}) IN (SELECT h FROM candidates))
        WHERE {_R} <> first
    """)
    key = KEYS.get(table)
    kept = f"lj_norm n ANTI JOIN lj_dups d ON d.{_R} = n.{_R}"
    if key:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE lj_keydups AS
            SELECT {_R}, first FROM (
                SELECT n.{_R}, min(n.{_R}) OVER (PARTITION BY n.{ident(key)}) AS first
                FROM {kept} WHERE NOT ({rejected}))
            WHERE {_R} <> first
        """)
        kept += f" ANTI JOIN lj_keydups k ON k.{_R} = n.{_R}"

    problems = _problems(typed, table, present, rejected, key)
    record = raw_record_sql(
        {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {RAW}").fetchall() if r[0] != ROW},
        keep_personal=config.keep_emails,
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE lj_problems AS SELECT * FROM ({' UNION ALL '.join(problems)}) "
                f"AS u(row_no, column_name, value, reason, detail, action)")
    con.execute(f"""
        INSERT INTO quarantine
        WITH r AS (SELECT {_R}, {record} AS record FROM {RAW} WHERE {_R} IN (SELECT row_no FROM lj_problems))
        SELECT {lit(source.name)}, {lit(source_file)}, p.row_no, {lit(table)}, p.column_name, p.value,
               p.reason, p.detail, p.action, r.record, {ingest_id}
        FROM lj_problems p LEFT JOIN r ON r.{_R} = p.row_no
    """)
    quarantined = Counter({
        str(reason): int(n)
        for reason, n in con.execute("SELECT reason, count(*) FROM lj_problems GROUP BY 1").fetchall()
    })

    conflict = f" ANTI JOIN {table} t ON t.{ident(key)} = n.{ident(key)}" if key else ""
    columns = schema.columns(table)
    inserted = con.execute(
        f"INSERT INTO {table} ({', '.join(map(ident, columns))}) "
        f"SELECT {', '.join(_insert_exprs(columns, set(produced), source, source_file, has_extra))} "
        f"FROM {kept}{conflict} WHERE NOT ({rejected})"
    ).fetchall()
    for temp in ("lj_norm", "lj_dups", "lj_keydups", "lj_problems", "lj_notes"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    return Loaded(table, rows_in, int(inserted[0][0]), quarantined)


def _normalize(con: duckdb.DuckDBPyConnection, staged: Staged, typed: list[Typed], has_extra: bool,
               required: tuple[str, ...]) -> int:
    """Create ``lj_norm``: canonical values per staged row, and the raw text where quarantine may need it."""
    # placeholders are missing values: NULL from here on; what the notes count rides along in __note| columns
    cleaned = [f"CASE WHEN {placeholder_sql(ident(t.column), t.placeholders)} THEN NULL ELSE {ident(t.column)} END "
               f"AS {ident(t.column)}" for t in typed if t.placeholders]
    noted = [f"CAST({expr} AS VARCHAR) AS {ident(f'__note|{note}|{t.column}')}"
             for t in typed for note, expr in t.notes.items()]
    star = f"* REPLACE ({', '.join(cleaned)})" if cleaned else "*"
    con.execute(f"CREATE OR REPLACE TEMP TABLE lj_in AS SELECT {', '.join([star, *noted])} FROM ({staged.select})")
    _count_notes(con, len(noted))
    select = [f"lj_in.{_R}"] + (["lj_in.__extra"] if has_extra else [])
    joins = []
    for i, t in enumerate(typed):
        if t.failed or t.column in required:
            select.append(f"{t.raw} AS {ident('raw__' + t.column)}")
        if t.per_value:
            # low-cardinality columns (channels, stages, kinds): normalize each distinct value once
            keys = [f"__m{i}_k{j}" for j in range(len(t.per_value))]
            deps = ", ".join(ident(d) for d in t.per_value)
            renamed = ", ".join(f"{ident(d)} AS {k}" for d, k in zip(t.per_value, keys, strict=True))
            con.execute(f"CREATE OR REPLACE TEMP TABLE lj_map{i} AS SELECT {renamed}, {t.value} AS __m{i}_v "
                        f"FROM (SELECT DISTINCT {deps} FROM lj_in)")
            on = " AND ".join(f"m{i}.{k} IS NOT DISTINCT FROM lj_in.{ident(d)}"
                              for d, k in zip(t.per_value, keys, strict=True))
            joins.append(f"LEFT JOIN lj_map{i} m{i} ON {on}")
            select.append(f"m{i}.__m{i}_v AS {ident(t.column)}")
        else:
            select.append(f"{t.value} AS {ident(t.column)}")
        select.extend(f"{expr} AS {ident(name)}" for name, expr in t.also.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE lj_norm AS SELECT {', '.join(select)} FROM lj_in {' '.join(joins)}")
    for i, t in enumerate(typed):
        if t.per_value:
            con.execute(f"DROP TABLE lj_map{i}")
    con.execute("DROP TABLE lj_in")
    return int(scalar(con, "SELECT count(*) FROM lj_norm"))


def _count_notes(con: duckdb.DuckDBPyConnection, noted: int) -> None:
    """Create ``lj_notes`` (note, column_name, value, n) from the ``__note|NOTE|COLUMN`` columns of ``lj_in``."""
    if not noted:
        con.execute("CREATE OR REPLACE TEMP TABLE lj_notes AS SELECT NULL::VARCHAR AS note, "
                    "NULL::VARCHAR AS column_name, NULL::VARCHAR AS value, 0::BIGINT AS n LIMIT 0")
        return
    con.execute(r"""
        CREATE OR REPLACE TEMP TABLE lj_notes AS
        SELECT split_part(k, '|', 2) AS note, split_part(k, '|', 3) AS column_name, value, count(*) AS n
        FROM (UNPIVOT (SELECT COLUMNS('^__note\|') FROM lj_in) ON COLUMNS(*) INTO NAME k VALUE value)
        GROUP BY ALL
    """)


def _problems(typed: list[Typed], table: str, present: dict[str, str], rejected: str, key: str | None) -> list[str]:
    """Selects of (row, column, value, reason, detail, action) for everything that goes to quarantine."""
    action = f"CASE WHEN {rejected} THEN '{schema.ROW_REJECTED}' ELSE '{schema.VALUE_NULLED}' END"
    out = [
        f"SELECT {_R}, {lit(t.column)}, {ident('raw__' + t.column)}, {lit(t.reason)}, NULL, {action} "
        f"FROM lj_norm n WHERE {t.failed}"
        for t in typed if t.failed
    ]
    for column in NOT_NULL[table]:
        raw = ident("raw__" + column) if column in present else "NULL"
        out.append(f"SELECT {_R}, {lit(column)}, NULL, 'missing value', NULL, '{schema.ROW_REJECTED}' "
                   f"FROM lj_norm n WHERE {raw} IS NULL")
    out.append(f"SELECT {_R}, NULL, NULL, 'exact duplicate row', 'identical to row ' || first, "
               f"'{schema.ROW_DROPPED_DUPLICATE}' FROM lj_dups")
    if key:
        k = ident(key)
        out.append(f"SELECT n.{_R}, {lit(key)}, n.{k}, 'duplicate {key}', "
                   f"'also on row ' || d.first || ' with other values', '{schema.ROW_REJECTED}' "
                   f"FROM lj_keydups d JOIN lj_norm n ON n.{_R} = d.{_R}")
        out.append(f"SELECT n.{_R}, {lit(key)}, n.{k}, '{key} loaded by another source', "
                   f"'already loaded by source ' || min(t.origin), '{schema.ROW_REJECTED}' "
                   f"FROM lj_norm n JOIN {table} t ON t.{k} = n.{k} "
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
    masked = {c for c in kept if not keep_personal and columns[c].upper() == "VARCHAR"}
    return "json_object(" + ", ".join(
        f"{lit(c)}, {scrub_text_sql(ident(c)) if c in masked else ident(c)}" for c in kept) + ")"


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
