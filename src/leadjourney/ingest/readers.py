"""Read a source file into an Arrow table, keeping each record's row number.

CSV values are read as text (types are decided later, in the engine); rows
with the wrong number of fields are returned as :class:`MalformedRow` so the
caller can quarantine them. File-level problems raise :class:`BadFileError`
with a message that says what was expected and what was found.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
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
    table: pa.Table  # source columns plus ROW
    malformed: list[Malformed]
    rows_read: int


def read_source_file(path: Path, fmt: str, *, encoding: str = "utf-8", delimiter: str = ",") -> RawFile:
    """Read ``path`` as ``csv`` or ``parquet`` (any CRM format is a CSV export)."""
    if not path.is_file():
        raise BadFileError(f"{path}: no such file")
    if fmt == "parquet":
        return _read_parquet(path)
    return _read_csv(path, encoding, delimiter)


def _read_parquet(path: Path) -> RawFile:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadFileError(f"{path}: not a readable Parquet file ({_first_line(exc)})") from None
    rows = pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))
    return RawFile(table.append_column(ROW, rows), [], table.num_rows)


def _read_csv(path: Path, encoding: str, delimiter: str) -> RawFile:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise BadFileError(f"{path}: unknown encoding {encoding!r} in the source's settings") from None
    data = path.read_bytes()
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise BadFileError(f"{path}: expected a CSV text file, found {what}")
    if b"\x00" in data[:65536]:
        raise BadFileError(f"{path}: expected a CSV text file, found binary data (NUL bytes)")
    text_check(path, data, encoding)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    header = _header(path, data, encoding, delimiter)
    parsed = csvparse.parse(data, header, encoding, delimiter)
    table = parsed.table.append_column(ROW, pa.array(parsed.rows, pa.int64()))
    return RawFile(table, parsed.malformed, table.num_rows + len(parsed.malformed))


def text_check(path: Path, data: bytes, encoding: str) -> None:
    """Raise a BadFileError naming the row of the first byte that is not ``encoding`` text."""
    try:
        codecs.decode(data, encoding)
    except UnicodeDecodeError as exc:
        raise BadFileError(
            f"{path}: row {_record_at(data[:exc.start], encoding)}: byte 0x{data[exc.start]:02x} is not valid "
            f"{encoding} text; set encoding (e.g. \"cp1252\" or \"latin-1\") in this source's [[sources]] block"
        ) from None


def _record_at(prefix: bytes, encoding: str) -> int:
    """The record number (header = 1) in which the byte after ``prefix`` lies; quoted newlines count as one record."""
    text = codecs.decode(prefix, encoding, errors="replace")
    records = sum(1 for _ in csv.reader(io.StringIO(text)))
    return records + 1 if not text or text.endswith(("\n", "\r")) else records


def _header(path: Path, data: bytes, encoding: str, delimiter: str) -> list[str]:
    head = codecs.decode(data[:1 << 20], encoding, errors="replace")
    try:
        first = next(csv.reader(io.StringIO(head), delimiter=delimiter))
    except StopIteration:
        raise BadFileError(f"{path}: empty file, expected a header row") from None
    except csv.Error as exc:
        raise BadFileError(f"{path}: row 1: unreadable header ({exc})") from None
    names: list[str] = []
    for i, name in enumerate(first, start=1):
        name = name.strip() or f"column_{i}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    if len(names) < 2 and delimiter == "," and (";" in head.split("\n", 1)[0] or "\t" in head.split("\n", 1)[0]):
        raise BadFileError(
            f"{path}: row 1: found one column {first[0][:60]!r}; the file looks ';' or tab separated: "
            f"set delimiter in this source's [[sources]] block"
        )
    return names


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
