"""Loading one staged select into its canonical table, quarantining what cannot load.

Runs inside the caller's transaction. Rows of the same source loaded before
must already be deleted (re-ingest replaces a source's rows).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import duckdb

from leadjourney import schema
from leadjourney.config import Config, Source
from leadjourney.db import scalar
from leadjourney.ingest.columns import KEYS, NOT_NULL, PERSONAL_COLUMN_PATTERN
from leadjourney.ingest.formats import RAW, Staged
from leadjourney.ingest.normalize import typed_columns
from leadjourney.ingest.readers import ROW
from leadjourney.ingest.sql import ident, lit

_EMAIL = re.compile(r"[^\s,;:\"'<>()]+@[^\s,;:\"'<>()]+")


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
    raw_columns = [str(r[0]) for r in con.execute(f"DESCRIBE {RAW}").fetchall()]
    present = {str(r[0]): str(r[1]) for r in described if r[0] not in (ROW, "__extra")}
    has_extra = any(r[0] == "__extra" for r in described)
    typed = typed_columns(table, present, source, config, salt)

    select = [ident(ROW)] + (["__extra"] if has_extra else [])
    for t in typed:
        select.append(f"{t.raw} AS {ident('raw__' + t.column)}")
        select.append(f"{t.value} AS {ident(t.column)}")
        select.extend(f"{expr} AS {ident(name)}" for name, expr in t.also.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE lj_norm AS SELECT {', '.join(select)} FROM ({staged.select})")

    produced = [t.column for t in typed] + [n for t in typed for n in t.also] + (["__extra"] if has_extra else [])
    rejected = " OR ".join(f"{ident(c)} IS NULL" for c in NOT_NULL[table]) or "FALSE"
    key = KEYS.get(table)
    same = ", ".join(ident(c) for c in produced)
    key_first = (
        f"min(CASE WHEN NOT __rejected AND __same_as = {ident(ROW)} THEN {ident(ROW)} END) "
        f"OVER (PARTITION BY {ident(key)})" if key else "NULL"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE lj_checked AS
        SELECT *, {key_first} AS __key_first FROM (
            SELECT *, min({ident(ROW)}) OVER (PARTITION BY {same}) AS __same_as
            FROM (SELECT *, ({rejected}) AS __rejected FROM lj_norm))
    """)

    conflict = "FALSE"
    if key:
        conflict = f"{ident(key)} IN (SELECT {ident(key)} FROM {table})"
    keep = (f"NOT __rejected AND __same_as = {ident(ROW)} "
            f"AND (__key_first IS NULL OR __key_first = {ident(ROW)}) AND NOT ({conflict})")

    problems: list[str] = []
    action = f"CASE WHEN __rejected THEN '{schema.ROW_REJECTED}' ELSE '{schema.VALUE_NULLED}' END"
    for t in typed:
        if t.failed:
            problems.append(
                f"SELECT {ident(ROW)}, {lit(t.column)}, {ident('raw__' + t.column)}, {lit(t.reason)}, NULL, {action} "
                f"FROM lj_checked WHERE {t.failed}"
            )
    for column in NOT_NULL[table]:
        raw = ident("raw__" + column) if column in present else "NULL"
        problems.append(
            f"SELECT {ident(ROW)}, {lit(column)}, NULL, 'missing value', NULL, '{schema.ROW_REJECTED}' "
            f"FROM lj_checked WHERE {raw} IS NULL"
        )
    problems.append(
        f"SELECT {ident(ROW)}, NULL, NULL, 'exact duplicate row', 'identical to row ' || __same_as, "
        f"'{schema.ROW_DROPPED_DUPLICATE}' "
        f"FROM lj_checked WHERE NOT __rejected AND __same_as <> {ident(ROW)}"
    )
    if key:
        problems.append(
            f"SELECT {ident(ROW)}, {lit(key)}, {ident(key)}, "
            f"'duplicate {key}', 'also on row ' || __key_first || ' with other values', '{schema.ROW_REJECTED}' "
            f"FROM lj_checked WHERE NOT __rejected AND __same_as = {ident(ROW)} AND __key_first <> {ident(ROW)}"
        )
        problems.append(
            f"SELECT c.{ident(ROW)}, {lit(key)}, c.{ident(key)}, "
            f"'{key} loaded by another source', 'already loaded by source ' || min(t.origin), '{schema.ROW_REJECTED}' "
            f"FROM lj_checked c JOIN {table} t ON t.{ident(key)} = c.{ident(key)} "
            f"WHERE NOT c.__rejected AND c.__same_as = c.{ident(ROW)} AND c.__key_first = c.{ident(ROW)} "
            f"GROUP BY ALL"
        )
    union = " UNION ALL ".join(problems)
    record = raw_record_sql([c for c in raw_columns if c != ROW], keep_personal=config.keep_emails)
    con.execute(f"""
        INSERT INTO quarantine
        SELECT {lit(source.name)}, {lit(source_file)}, p.row_no, {lit(table)}, p.column_name, p.value,
               p.reason, p.detail, p.action, r.record, {ingest_id}
        FROM (SELECT * FROM ({union}) AS u(row_no, column_name, value, reason, detail, action)) p
        LEFT JOIN (SELECT {record} AS record, {ident(ROW)} FROM {RAW}) r ON r.{ident(ROW)} = p.row_no
    """)
    quarantined = Counter({
        str(reason): int(n) for reason, n in con.execute(f"""
            SELECT reason, count(*)
            FROM quarantine WHERE origin = {lit(source.name)} AND target_table = {lit(table)}
              AND ingest_id = {ingest_id} GROUP BY 1
        """).fetchall()
    })

    columns = schema.columns(table)
    available = set(produced)
    exprs = []
    for column in columns:
        if column == "origin":
            exprs.append(lit(source.name))
        elif column == "source_file":
            exprs.append(lit(source_file))
        elif column == "source_row":
            exprs.append(ident(ROW))
        elif column == "extra":
            exprs.append("__extra" if has_extra else "NULL")
        elif column in available:
            exprs.append(ident(column))
        else:
            exprs.append("NULL")
    before = _count(con, table)
    con.execute(f"INSERT INTO {table} ({', '.join(map(ident, columns))}) "
                f"SELECT {', '.join(exprs)} FROM lj_checked WHERE {keep}")
    loaded = _count(con, table) - before
    rows_in = _count(con, "lj_norm")
    con.execute("DROP TABLE lj_checked")
    con.execute("DROP TABLE lj_norm")
    return Loaded(table, rows_in, loaded, quarantined)


def raw_record_sql(columns: list[str], *, keep_personal: bool) -> str:
    """JSON of a raw row for quarantine, without personal-data columns unless the config keeps them."""
    pattern = re.compile(PERSONAL_COLUMN_PATTERN)
    kept = [c for c in columns if keep_personal or not pattern.search(c)]
    if not kept:
        return "NULL"
    return "json_object(" + ", ".join(f"{lit(c)}, {ident(c)}" for c in kept) + ")"


def mask_emails(text: str) -> str:
    """Hide e-mail addresses in a malformed row's text (it goes to quarantine)."""
    return _EMAIL.sub("<email>", text)


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(scalar(con, f"SELECT count(*) FROM {table}"))
