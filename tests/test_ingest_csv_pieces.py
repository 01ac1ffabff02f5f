"""A large CSV file is read in pieces (bounded memory) into the same rows, row numbers and records set aside as
reading it whole; a file whose quotes need the careful split is read whole."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from leadjourney.errors import BadFileError
from leadjourney.ingest.readers import ROW, stage_source_file, unstage

HEADER = "Record ID,First Name,Email,Lifecycle Stage,Create Date,Original Source,Notes\r\n"
WHOLE = 1 << 30  # piece size larger than any file here: read whole


def _export(rows: int, extra: dict[int, str]) -> str:
    """A HubSpot-like contacts export (CR LF line ends, quoted values with commas and quotes), some lines damaged."""
    lines = [HEADER]
    for i in range(rows):
        if i in extra:
            lines.append(extra[i])
            continue
        note = f'"said ""call me"", then left, {i}"' if i % 7 == 0 else f"visit {i}"
        lines.append(f"{1000 + i},Ann {i},ann{i}@example.com,lead,2024-03-{1 + i % 28:02d} 10:{i % 60:02d},"
                     f"ORGANIC_SEARCH,{note}\r\n")
    return "".join(lines)


def _staged(path: Path, piece_bytes: int, *, in_pieces: bool = False) -> tuple[object, ...]:
    """What staging ``path`` gives: rows, records set aside, rows read, types and columns (``in_pieces``: it was
    read piece by piece)."""
    con = duckdb.connect()
    con.execute("BEGIN TRANSACTION")
    raw = stage_source_file(con, "raw", path, "csv", piece_bytes=piece_bytes)
    pieces = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'raw__pieces'").fetchall()[0][0]
    assert bool(pieces) == in_pieces
    rows = con.execute(f'SELECT * FROM raw ORDER BY "{ROW}"').fetchall()
    types = [str(r[1]) for r in con.execute("DESCRIBE raw").fetchall()]
    unstage(con, "raw")
    left = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()[0][0]
    con.close()
    assert left == 0
    set_aside = [(m.row, m.text, m.reason, m.problem, m.column) for m in raw.malformed]
    return rows, set_aside, raw.rows_read, types + raw.columns


DAMAGED = {
    5: "1005,Bob,bob@example.com,lead\r\n",  # too few fields
    40: "\r\n",  # a blank line
    77: "1077,Eve,eve@example.com,lead,2024-03-01 10:00,DIRECT,a\x00b\r\n",  # a NUL byte
    120: "1120,Cy,cy@example.com,lead,2024-03-01 10:00,DIRECT,x,extra\r\n",  # too many fields
}


def test_pieces_give_what_the_whole_file_gives(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(_export(150, DAMAGED).encode())
    whole = _staged(path, WHOLE)
    assert len(whole[0]) == 150 - 4 and whole[2] == 149  # the blank line is no record
    assert [m[0] for m in whole[1]] == [7, 79, 122]  # header = row 1; the blank line counts
    for size in (97, 1000):  # cuts inside quoted values, lines, CR LF pairs
        assert _staged(path, size, in_pieces=True) == whole


def test_a_value_spanning_lines_reads_the_whole_file(tmp_path: Path) -> None:
    spanning = {50: '1050,Di,di@example.com,lead,2024-03-01 10:00,DIRECT,"first line\r\nsecond line"\r\n',
                90: '1090,Al,al@example.com,lead,2024-03-01 10:00,DIRECT,"never closed\r\n'}
    path = tmp_path / "contacts.csv"
    path.write_bytes(_export(120, spanning).encode())
    whole = _staged(path, WHOLE)
    assert any("first line\r\nsecond line" in r for r in whole[0])
    assert [m[2] for m in whole[1]] == ["a quoted field is never closed"]
    assert _staged(path, 3000) == whole


def test_bad_bytes_in_a_later_piece_name_the_files_row(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(_export(200, {}).encode().replace(b"Ann 150,", b"Ann \xff150,"))
    for size in (WHOLE, 3000):
        with pytest.raises(BadFileError, match=r"contacts.csv: row 152: byte 0xff is not valid utf-8 text"):
            _staged(path, size)


def test_pieces_already_copied_are_not_kept_until_commit(tmp_path: Path) -> None:
    """Inside the ingest's transaction, each piece's Arrow data is freed once copied into the table: memory holds
    about one piece, not the whole file (a view dropped in a transaction would keep its piece until COMMIT)."""
    import pyarrow as pa

    path = tmp_path / "contacts.csv"
    path.write_bytes(_export(3000, {}).encode())
    con = duckdb.connect()
    con.execute("BEGIN TRANSACTION")
    before = pa.total_allocated_bytes()
    raw = stage_source_file(con, "raw", path, "csv", piece_bytes=20_000)
    held = pa.total_allocated_bytes() - before
    assert raw.rows_read == 3000
    assert con.execute('SELECT count(*) FROM raw').fetchall()[0][0] == 3000
    unstage(con, "raw")
    con.execute("COMMIT")
    con.close()
    assert held < path.stat().st_size // 4  # about one piece (20 KB) at most, not the file's 300 KB
