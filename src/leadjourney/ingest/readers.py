"""Make a source file readable in the engine as the view ``RAW``, keeping each record's row number.

CSV values are read as text (types are decided later, in the engine) into an Arrow
table; rows with the wrong number of fields, a NUL byte or an overlong value are
returned as :class:`Malformed` so the caller can quarantine them (Parquet text values are checked the same
way). UTF-16 files (with
a byte-order mark, or with ``encoding`` set) are read as well as UTF-8 and 8-bit ones. Parquet is read by DuckDB itself, streaming, so a file
larger than memory loads too. A large CSV file is read in pieces of :data:`PIECE_BYTES`, each cut after a whole
record, into a temporary table (which DuckDB spills to disk past its memory limit), so memory stays bounded; a
file with a value or a malformed record spanning lines is read whole, as its quotes need the careful split. File-level problems raise :class:`BadFileError` with a
message that says what was expected and what was found.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from leadjourney.errors import BadFileError
from leadjourney.ingest import csvparse
from leadjourney.ingest.csvparse import Malformed

ROW = "__row"  # the column holding each record's row number (CSV header = row 1)
_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook?); save it as CSV (UTF-8)",
    b"PAR1": "a Parquet file; declare format = \"parquet\"",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office file; save it as CSV (UTF-8)",
    b"%PDF": "a PDF document",
}


@dataclass(frozen=True)
class RawFile:
    columns: list[str]  # the file's columns (the view also has ROW)
    malformed: list[Malformed]
    rows_read: int
    renamed: dict[str, str] = field(default_factory=dict)  # a repeated header's new name -> the name it repeats


def stage_source_file(con: duckdb.DuckDBPyConnection, name: str, path: Path, fmt: str, *,
                      encoding: str = "utf-8", delimiter: str = ",", piece_bytes: int | None = None) -> RawFile:
    """Make ``path`` (``csv`` or ``parquet``; any CRM format is a CSV export) the view ``name`` in ``con``.

    A CSV file over ``piece_bytes`` (default :data:`PIECE_BYTES`) is read in pieces of about that size. Drop the
    view with :func:`unstage` when done.
    """
    if not path.is_file():
        raise BadFileError(f"{path}: no such file")
    if fmt == "parquet":
        return _stage_parquet(con, name, path)
    piece_bytes = piece_bytes or PIECE_BYTES
    if path.stat().st_size > piece_bytes:
        staged = _stage_csv_in_pieces(con, name, path, encoding, delimiter, piece_bytes)
        if staged is not None:
            return staged
    table, malformed, renamed = _read_csv(path, encoding, delimiter)
    _import_pandas_first()
    con.register(name, table)
    return RawFile([c for c in table.column_names if c != ROW], malformed, table.num_rows + len(malformed), renamed)


def _import_pandas_first() -> None:
    """Import pandas (when installed) before DuckDB is handed an Arrow table: DuckDB imports it then, to ask
    whether the object is a DataFrame, and a Ctrl-C during that import (half a second on a busy machine) was
    lost inside DuckDB or reported as an error of its own; imported here, the press is a KeyboardInterrupt."""
    with suppress(ImportError):
        import pandas  # noqa: F401


def unstage(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f'DROP VIEW IF EXISTS "{name}"')
    con.execute(f'DROP TABLE IF EXISTS "{_pieces_table(name)}"')
    con.unregister(name)


PIECE_BYTES = 1 << 26  # a CSV file larger than this is read piece by piece, each about this size


def _pieces_table(name: str) -> str:
    return f"{name}__pieces"


def _stage_csv_in_pieces(con: duckdb.DuckDBPyConnection, name: str, path: Path, encoding: str,
                         delimiter: str, piece_bytes: int) -> RawFile | None:
    """Read a large CSV file piece by piece into a temporary table viewed as ``name``: the same rows, row numbers
    and records set aside as reading it whole. None (nothing staged) when it must be read whole: UTF-16/32 text,
    a value or a malformed record spanning lines (the careful split looks across lines), or no record end found
    in a piece's bytes."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        return None  # _read_csv names the problem
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32", "utf-7")):
        return None
    _import_pandas_first()
    table_name = _pieces_table(name)
    quoted = '"' + table_name.replace('"', '""') + '"'
    header: list[str] = []
    renamed: dict[str, str] = {}
    malformed: list[Malformed] = []
    header_line = b""
    before = 0  # records (after the header) in the pieces read so far
    for first, piece in _csv_pieces(path, piece_bytes):
        if first:
            if piece.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return None  # UTF-16 marked by its byte-order mark: converted whole
            for magic, what in _MAGIC.items():
                if piece.startswith(magic):
                    raise BadFileError(f"{path}: expected a CSV text file, found {what}")
            _binary_check(path, piece)
            if piece.startswith(codecs.BOM_UTF8):
                piece = piece[len(codecs.BOM_UTF8):]
            text_check(path, piece, encoding)
            header, renamed = _header(path, piece, encoding, delimiter)
            end = piece.find(b"\n")
            header_line = piece[:end + 1]
            if end < 0 or header_line.count(b'"') % 2:
                break  # the header alone spans lines: read whole
            data = piece
        else:
            text_check(path, piece, encoding, rows_before=1 + before)
            data = header_line + piece
        parsed = csvparse.parse(data, header, encoding, delimiter)
        if parsed.careful:
            break
        rows = parsed.rows + before
        malformed.extend(replace(m, row=m.row + before) for m in parsed.malformed)
        chunk = parsed.table.append_column(ROW, pa.array(rows, pa.int64()))
        # read through a relation, not a registered view: inside a transaction a dropped view (and the piece it
        # holds) lives on until COMMIT, so every piece would stay in memory
        piece_rows = con.from_arrow(chunk)
        if first:
            columns = ", ".join(f'"{c.replace(chr(34), chr(34) * 2)}" {t}'
                                for c, t in zip(piece_rows.columns, piece_rows.types, strict=True))
            con.execute(f"CREATE OR REPLACE TEMP TABLE {quoted} ({columns})")
        piece_rows.insert_into(f"temp.main.{quoted}")
        del piece_rows
        before += parsed.records
        del chunk, parsed, data
    else:
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM {quoted}')
        rows_read = int(con.execute(f"SELECT count(*) FROM {quoted}").fetchall()[0][0]) + len(malformed)
        return RawFile(header, malformed, rows_read, renamed)
    con.execute(f"DROP TABLE IF EXISTS {quoted}")  # read whole instead
    return None


def _csv_pieces(path: Path, size: int) -> Iterator[tuple[bool, bytes]]:
    """The file's bytes in pieces of about ``size`` bytes, each ending after a line end outside quotes (an
    even number of quotes before it in the piece): whole records, when no quoted value spans lines. The last piece
    ends where the file does. (first piece?, bytes)."""
    carry = b""
    first = True
    with path.open("rb") as fh:
        while True:
            block = fh.read(size)
            data = carry + block
            if not block:
                if data or first:
                    yield first, data
                return
            cut = _record_end(data)
            if cut is None:  # no line end outside quotes: read on (a huge record, or an open quote)
                carry = data
                continue
            carry = data[cut:]
            yield first, data[:cut]
            first = False


def _record_end(data: bytes) -> int | None:
    """The position after the last line end of ``data`` with an even number of quotes before it, None for none."""
    quotes = data.count(b'"')
    end = len(data)
    while (line_end := data.rfind(b"\n", 0, end)) >= 0:
        quotes -= data.count(b'"', line_end + 1, end)
        if quotes % 2 == 0:
            return line_end + 1
        end = line_end
    return None


def _stage_parquet(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> RawFile:
    quoted = "'" + str(path).replace("'", "''") + "'"
    scan = f"read_parquet({quoted}, file_row_number = true)"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({quoted})").fetchall()
        columns = [str(r[0]) for r in described]
        bad = _bad_value_sql([c for c, t in ((str(r[0]), str(r[1])) for r in described) if t == "VARCHAR"])
        rows, n_bad = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {bad or 'false'}) FROM {scan}").fetchall()[0]
    except duckdb.InterruptException:  # Ctrl-C, not a bad file
        raise
    except duckdb.Error as exc:
        raise BadFileError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None
    con.execute(
        f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * EXCLUDE (file_row_number), '
        f'file_row_number + 1 AS "{ROW}" FROM {scan}' + (f" WHERE NOT ({bad})" if n_bad else "")
    )
    # DuckDB numbers a repeated column name ("status_1"); the file's names say which ones were repeats
    names = pq.read_schema(path).names
    renamed = {new: old for i, (new, old) in enumerate(zip(columns, names, strict=False))
               if old in names[:i] and new != old}
    malformed = _bad_value_records(con, scan, bad, columns) if n_bad else []
    return RawFile(columns, malformed, int(rows), renamed)


def _bad_value_sql(text_columns: list[str]) -> str | None:
    """A condition true for a row whose text value the workspace cannot hold (a NUL byte, over MAX_VALUE
    characters), as CSV records are checked; None without text columns."""
    return " OR ".join(f'coalesce(contains("{c}", chr(0)) OR length("{c}") > {csvparse.MAX_VALUE}, false)'
                       for c in (t.replace('"', '""') for t in text_columns)) or None


def _bad_value_records(con: duckdb.DuckDBPyConnection, scan: str, bad: str | None,
                       columns: list[str]) -> list[Malformed]:
    """The rows of ``scan`` that ``bad`` sets aside, each naming its first bad column."""
    rows = con.execute(f"SELECT file_row_number + 1, * EXCLUDE (file_row_number) FROM {scan} WHERE {bad} "
                       f"ORDER BY 1").fetchall()
    found = []
    for row, *values in rows:
        record = {c: "" if v is None else str(v) for c, v in zip(columns, values, strict=True)}
        column = next(c for c in columns if "\x00" in record[c] or len(record[c]) > csvparse.MAX_VALUE)
        found.append(csvparse.bad_value_record(int(row), record, column))
    return found


def _read_csv(path: Path, encoding: str, delimiter: str) -> tuple[pa.Table, list[Malformed], dict[str, str]]:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise BadFileError(f"{path}: unknown encoding {encoding!r} in the source's settings") from None
    data = path.read_bytes()
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise BadFileError(f"{path}: expected a CSV text file, found {what}")
    data, encoding = _wide_to_utf8(path, data, encoding)
    _binary_check(path, data)
    text_check(path, data, encoding)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    header, renamed = _header(path, data, encoding, delimiter)
    parsed = csvparse.parse(data, header, encoding, delimiter)
    return parsed.table.append_column(ROW, pa.array(parsed.rows, pa.int64())), parsed.malformed, renamed


def _wide_to_utf8(path: Path, data: bytes, encoding: str) -> tuple[bytes, str]:
    """UTF-16/32 text (declared, or UTF-16 marked by its byte-order mark) as UTF-8; other data as it is."""
    name = codecs.lookup(encoding).name
    if name == "utf-8" and data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        name = "utf-16"  # Excel's "Unicode text": the byte-order mark says what it is
    if not name.startswith(("utf-16", "utf-32")):
        return data, encoding
    text_check(path, data, name)
    return codecs.decode(data, name).removeprefix("\ufeff").encode("utf-8"), "utf-8"


def _binary_check(path: Path, data: bytes) -> None:
    """Refuse data that is not text: NUL bytes in the header or in most lines (a NUL in some rows is quarantined)."""
    sample = data[:65536]
    lines = sample.split(b"\n")
    if b"\x00" not in lines[0] and sum(b"\x00" in line for line in lines) * 2 <= len(lines):
        return
    if sample.count(0) * 4 > len(sample) and (sample[1::2].count(0) * 2 > len(sample) // 2
                                              or sample[0::2].count(0) * 2 > len(sample) // 2):
        raise BadFileError(f"{path}: expected a CSV text file, found UTF-16 text without a byte-order mark: "
                           f"set encoding = \"utf-16-le\" (or \"utf-16-be\") in this source's [[sources]] block")
    raise BadFileError(f"{path}: expected a CSV text file, found binary data (NUL bytes)")


def text_check(path: Path, data: bytes, encoding: str, *, rows_before: int = 0) -> None:
    """Raise a BadFileError naming the row of the first byte that is not ``encoding`` text (``data``: the file, or
    a piece of it after ``rows_before`` records)."""
    if data.isascii() and not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32", "utf-7")):
        return  # ASCII bytes are text in UTF-8 and in every 8-bit encoding
    try:
        codecs.decode(data, encoding)
    except UnicodeDecodeError as exc:
        raise BadFileError(
            f"{path}: row {rows_before + _record_at(data[:exc.start], encoding)}: byte 0x{data[exc.start]:02x} is not valid "
            f"{encoding} text; set encoding (e.g. \"cp1252\" or \"latin-1\") in this source's [[sources]] block"
        ) from None


def _record_at(prefix: bytes, encoding: str) -> int:
    """The record number (header = 1) in which the byte after ``prefix`` lies; quoted newlines count as one record."""
    text = codecs.decode(prefix, encoding, errors="replace")
    with csvparse.long_fields():
        records = sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
    return records + 1 if not text or text.endswith(("\n", "\r")) else records


def _header(path: Path, data: bytes, encoding: str, delimiter: str) -> tuple[list[str], dict[str, str]]:
    """The column names, blanks named by position and repeats numbered; and each repeat's new name -> its name."""
    head = codecs.decode(data[:1 << 20], encoding, errors="replace")
    try:
        with csvparse.long_fields():
            first = next(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter))  # CR, LF or CR LF
    except StopIteration:
        raise BadFileError(f"{path}: empty file, expected a header row") from None
    except csv.Error as exc:
        raise BadFileError(f"{path}: row 1: unreadable header ({exc})") from None
    names: list[str] = []
    renamed: dict[str, str] = {}
    for i, name in enumerate(first, start=1):
        name = name.strip() or f"column_{i}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        if name != base:
            renamed[name] = base
        names.append(name)
    if len(names) < 2 and delimiter == "," and (";" in head.split("\n", 1)[0] or "\t" in head.split("\n", 1)[0]):
        raise BadFileError(
            f"{path}: row 1: found one column {first[0][:60]!r}; the file looks ';' or tab separated: "
            f"set delimiter in this source's [[sources]] block"
        )
    return names, renamed


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
