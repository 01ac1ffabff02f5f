"""Splitting CSV text into records that keep their spreadsheet row numbers.

The fast path is pyarrow's parser. Its one weakness is a field that opens a
quote and never closes it: later lines are swallowed into that field. So when
any value spans lines, the file is re-split by :func:`careful_split`, which
keeps a quoted value spanning lines only when it closes properly, and otherwise
sets just the line that opened the quote aside.

A CR alone inside a value of a file whose lines end in LF stays in the value instead of splitting the row;
a file whose only line ending is CR (old Excel for Mac) is read as lines ending in CR.

A record whose values the workspace cannot hold (a NUL byte, a value over
:data:`MAX_VALUE` characters) is set aside too, naming the column.

Row numbers count like a spreadsheet: header = 1, each record or blank line one more.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import reduce

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

_BLOCK = 1 << 24
_MAX_FIELD_LINES = 1000  # a quoted value spanning more lines than this is taken as an unclosed quote
MAX_VALUE = 128 * 1024  # characters in one value; a longer one is damage (a pasted file, a runaway quote)
_SHOWN = 200  # characters of a bad value kept in quarantine
_STRAY_CR = re.compile(rb"\r(?!\n)")
_STAND_INS = (*range(1, 9), 11, 12, *range(14, 32))  # control bytes a CSV export does not hold, tried in turn


@dataclass(frozen=True)
class Malformed:
    """A record set aside for quarantine: a malformed record, or one holding a value that cannot be stored."""

    row: int
    text: str  # the record as the file has it; for a bad value, the value (shortened, NUL shown as \0)
    reason: str  # what is wrong, in words
    problem: str = "malformed row"  # the quarantine reason: "malformed row", "NUL byte", "value too long"
    column: str | None = None  # the column of a bad value
    record: dict[str, str] | None = None  # a well-formed record's values by column (bad values shortened)


@dataclass(frozen=True)
class Parsed:
    table: pa.Table  # string columns named by the header
    rows: np.ndarray  # row number of each table row
    malformed: list[Malformed]
    blank_lines: int
    careful: bool = False  # split by :func:`careful_split` (a value or a malformed record spans lines)

    @property
    def records(self) -> int:
        """Records after the header: rows, records set aside and blank lines (what the row numbers count)."""
        return self.table.num_rows + len(self.malformed) + self.blank_lines


def parse(data: bytes, header: list[str], encoding: str, delimiter: str) -> Parsed:
    """Parse CSV bytes (header line included) into string columns; malformed records and bad values set aside."""
    data, stand_in = _stray_carriage_returns(data)
    if not data.endswith(b"\n"):
        data += b"\n"  # else a quote left open in the last line would close at the end of the file
    try:
        parsed = _fast(data, header, encoding, delimiter)
    except pa.ArrowInvalid:
        parsed = None  # e.g. a quote left open at the end of the file
    if parsed is None or _multi_line(parsed, data):
        with long_fields():
            parsed = replace(careful_split(data.decode(encoding), header, delimiter), careful=True)
    parsed = _set_bad_values_aside(parsed, has_nul=b"\x00" in data)
    return _put_back_carriage_returns(parsed, stand_in) if stand_in else parsed


def _stray_carriage_returns(data: bytes) -> tuple[bytes, str | None]:
    """A file whose lines end in LF (or CR LF) with a CR alone inside a value (typed in a cell: "Acme\\rCorp"),
    which the parsers would take for a line break, splitting the row: that CR becomes a control character the
    file does not use, put back in the values by :func:`_put_back_carriage_returns`. Returns the data and the
    stand-in (None: no stray CR, or no unused control character). A file whose only line ending is CR (old
    Excel for Mac) has no LF and is left as it is: there CR ends the lines."""
    if b"\n" not in data or b"\r" not in data or not _STRAY_CR.search(data):
        return data, None
    unused = next((b for b in _STAND_INS if bytes([b]) not in data), None)
    if unused is None:
        return data, None
    return _STRAY_CR.sub(bytes([unused]), data), chr(unused)


def _put_back_carriage_returns(parsed: Parsed, stand_in: str) -> Parsed:
    """The values (and the records set aside) with their CR back in place of ``stand_in``."""
    table = pa.table({name: pc.replace_substring(column, stand_in, "\r")
                      for name, column in zip(parsed.table.column_names, parsed.table.columns, strict=True)})

    def back(text: str) -> str:
        return text.replace(stand_in, "\r")

    malformed = [replace(m, text=back(m.text), record=None if m.record is None else
                         {k: back(v) for k, v in m.record.items()}) for m in parsed.malformed]
    return replace(parsed, table=table, malformed=malformed)


@contextmanager
def long_fields() -> Iterator[None]:
    """Let the csv module read fields of any length (its default stops at 128 KB with an error)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(1 << 30)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def _set_bad_values_aside(parsed: Parsed, *, has_nul: bool = True) -> Parsed:
    """Records with a NUL byte or a value over MAX_VALUE characters become :class:`Malformed`, naming the column.
    Without a NUL byte in the file (``has_nul``) and a value over MAX_VALUE bytes, nothing is looked at value by
    value."""
    table = parsed.table
    if not has_nul and not any((pc.max(pc.binary_length(c)).as_py() or 0) > MAX_VALUE for c in table.columns):
        return parsed
    masks = {name: pc.or_(pc.match_substring(column, "\x00"), pc.greater(pc.utf8_length(column), MAX_VALUE))
             for name, column in zip(table.column_names, table.columns, strict=True)}
    hits = [m for m in masks.values() if pc.any(m).as_py()]
    if not hits:
        return parsed
    bad = reduce(pc.or_, hits).to_numpy(zero_copy_only=False)
    set_aside = list(parsed.malformed)
    for i in np.flatnonzero(bad):
        record = {name: str(table.column(name)[i].as_py()) for name in table.column_names}
        column = next(name for name, mask in masks.items() if mask[i].as_py())
        set_aside.append(bad_value_record(int(parsed.rows[i]), record, column))
    keep = ~bad
    return replace(parsed, table=table.filter(pa.array(keep)), rows=parsed.rows[keep],
                   malformed=sorted(set_aside, key=lambda m: m.row))


def bad_value_record(row: int, record: dict[str, str], column: str) -> Malformed:
    """Record ``row`` set aside for its value in ``column``: a NUL byte, or over MAX_VALUE characters."""
    value = record[column]
    if "\x00" in value:
        problem, reason = "NUL byte", "the value holds a NUL byte (0x00): the export is damaged here"
    else:
        problem, reason = "value too long", f"{len(value):,} characters in one value; at most {MAX_VALUE:,} load"
    return Malformed(row, shorten(value), reason, problem, column, {name: shorten(v) for name, v in record.items()})


def shorten(value: str) -> str:
    """A value as quarantine shows it: NUL bytes visible, at most a few hundred characters."""
    shown = value.replace("\x00", "\\0")
    return shown if len(shown) <= _SHOWN else f"{shown[:_SHOWN]}… ({len(value):,} characters)"


def _fast(data: bytes, header: list[str], encoding: str, delimiter: str) -> Parsed:
    invalid: list[Malformed] = []
    blank: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        number = int(row.number) if row.number is not None else -1
        if row.text.strip("\r") == "" and row.actual_columns == 1:
            blank.append(number)
        else:
            invalid.append(Malformed(number, row.text, _field_count_reason(row.actual_columns, len(header))))
        return "skip"

    reader = pacsv.open_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(
            use_threads=False, column_names=header, skip_rows=1, encoding=encoding, block_size=_BLOCK
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=on_invalid
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    # block by block: Ctrl-C is Python's between blocks (the CLI turns pyarrow's own handler off: it can lose a press)
    table = pa.Table.from_batches(list(reader), schema=reader.schema)
    skipped = np.array(sorted([m.row for m in invalid] + blank), dtype=np.int64)
    numbers = np.arange(2, 2 + table.num_rows + len(skipped), dtype=np.int64)
    if len(skipped):
        numbers = numbers[~np.isin(numbers, skipped)]
    numbers = numbers[: table.num_rows]
    # pyarrow reads a blank line as a record of empty fields: drop those, keeping the numbering
    empty = reduce(pc.and_, [pc.equal(c, "") for c in table.columns]) if table.num_columns > 1 else None
    if empty is not None and pc.any(empty).as_py():
        keep = pc.invert(empty)
        return Parsed(table.filter(keep), numbers[keep.to_numpy(zero_copy_only=False)], invalid,
                      len(blank) + int(pc.sum(empty).as_py()))
    return Parsed(table, numbers, invalid, len(blank))


def _multi_line(parsed: Parsed, data: bytes) -> bool:
    """True when a value or a malformed record spans lines: then quotes need a careful look. When ``data`` has
    one line end per record (the header, each record, blank or set aside), only the last record may hold one (a
    quote left open swallows the file's last line end)."""
    if any("\n" in m.text for m in parsed.malformed):
        return True
    table = parsed.table
    if data.count(b"\n") == 1 + table.num_rows + len(parsed.malformed) + parsed.blank_lines:
        return bool(table.num_rows) and any("\n" in (c[table.num_rows - 1].as_py() or "") for c in table.columns)
    return any(pc.any(pc.match_substring(column, "\n")).as_py() for column in parsed.table.columns)


def careful_split(text: str, header: list[str], delimiter: str) -> Parsed:
    """Split records line by line.

    A quoted value may span lines when it closes properly (the record then has
    the header's number of fields under strict quoting). Otherwise the quote was
    never closed: only the line that opened it is malformed, and splitting
    resumes on the next line.
    """
    n = len(header)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    records: list[tuple[int, str, bool]] = []  # (row, text, unterminated)
    row, i = 1, 1
    while i < len(lines):
        row += 1
        start, buffer = i, lines[i]
        i += 1
        while buffer.count('"') % 2 and i < len(lines) and i - start < _MAX_FIELD_LINES:
            buffer += "\n" + lines[i]
            i += 1
        multi_line_misfit = i - start > 1 and _field_count(buffer, delimiter) != n
        if buffer.count('"') % 2 or multi_line_misfit:
            # the quote opened on this line is never (properly) closed: only this line is malformed
            records.append((row, lines[start], True))
            i = start + 1
        else:
            records.append((row, buffer, False))

    columns: list[list[str]] = [[] for _ in header]
    numbers: list[int] = []
    malformed: list[Malformed] = []
    blank = 0
    for number, record, unterminated in records:
        body = record.rstrip("\r")
        if body == "" and n > 1:
            blank += 1
            continue
        fields = next(csv.reader(io.StringIO(body), delimiter=delimiter), [""])
        if unterminated:
            malformed.append(Malformed(number, body, "a quoted field is never closed"))
        elif len(fields) != n:
            malformed.append(Malformed(number, body, _field_count_reason(len(fields), n)))
        else:
            numbers.append(number)
            for i, value in enumerate(fields):
                columns[i].append(value)
    table = pa.table({name: pa.array(values, pa.string()) for name, values in zip(header, columns, strict=True)})
    return Parsed(table, np.array(numbers, dtype=np.int64), malformed, blank)


def _field_count(record: str, delimiter: str) -> int:
    """Fields of a record under strict quoting; -1 when a quote closes in mid-field."""
    try:
        return len(next(csv.reader(io.StringIO(record), delimiter=delimiter, strict=True), []))
    except csv.Error:
        return -1


def _field_count_reason(actual: int, expected: int) -> str:
    return f"row has {actual} fields, expected {expected}"
