"""A Parquet file read in place is checked first and typed again as its rows are written (ingest/load.py):
the rows, quarantine and notes equal those of the same data typed once (a CSV file), and a file changed between
its checks and its write stops the ingest with the workspace as it was."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import fetch, snapshot
from leadjourney.errors import IngestError
from leadjourney.ingest import ingest, load
from leadjourney.workspace import Workspace

# touchpoints as an export has them: spellings of one channel, a placeholder, a row without its lead, a row
# exported three times, two rows alike but for the actor, and a time on the day the clocks changed
ROWS = """
SELECT * FROM (VALUES
    ('L-1', TIMESTAMP '2025-03-01 09:00:00', 'Email', 'Email Open', 'automation', 'spring', 'a.pdf'),
    ('L-1', TIMESTAMP '2025-03-09 03:30:00', 'email', 'email_click', NULL, 'spring', NULL),
    ('L-1', TIMESTAMP '2025-03-10 10:00:00', 'Select', 'Call', 'Rep', NULL, NULL),
    ('L-2', TIMESTAMP '2025-04-01 08:00:00', 'Paid Search', 'page_view', NULL, 'Select', '/pricing'),
    ('L-2', TIMESTAMP '2025-04-01 08:00:00', 'Paid Search', 'page_view', NULL, 'Select', '/pricing'),
    ('L-2', TIMESTAMP '2025-04-01 08:00:00', 'Paid Search', 'page_view', NULL, 'Select', '/pricing'),
    (NULL, TIMESTAMP '2025-04-02 08:00:00', 'Webinar', 'webinar', NULL, NULL, NULL),
    ('L-3', TIMESTAMP '2025-05-05 12:00:00', 'Events', 'meeting', 'human', NULL, NULL),
    ('L-3', TIMESTAMP '2025-05-05 12:00:00', 'Events', 'meeting', 'bot', NULL, NULL),
    ('L-3', NULL, 'Events', 'chat', NULL, NULL, NULL)
) AS t(lead_id, occurred_at, channel, kind, actor, campaign, asset)
UNION ALL  -- the bulk: visits whose campaigns and pages repeat (typed once per distinct value)
SELECT 'L-' || (i % 7), TIMESTAMP '2025-06-01' + i * INTERVAL 1 HOUR, ['Email', 'Paid Search'][1 + i % 2],
       'page_view', NULL, 'summer', ['/home', '/pricing'][1 + i % 2]
FROM range(400) r(i)
"""


def _workspace(root: Path, fmt: str) -> Workspace:
    ws = Workspace.init(root)
    path = root / f"touchpoints.{fmt}"
    duckdb.sql(f"COPY ({ROWS}) TO '{path}' (FORMAT {fmt})")
    ws.set_sources([{"name": "touch", "path": path.name, "format": fmt, "table": "touchpoints",
                     "timezone": "America/New_York"}])
    return ws


def test_a_parquet_file_typed_again_as_written_loads_what_the_same_rows_typed_once_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parquet, csv = _workspace(tmp_path / "p", "parquet"), _workspace(tmp_path / "c", "csv")
    typed_again = []
    normalize = load._normalize

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = normalize(*args, **kwargs)
        typed_again.append(out[1] is not None)
        return out

    monkeypatch.setattr(load, "_normalize", spy)
    loaded = {ws.root.name: ingest(ws) for ws in (parquet, csv)}
    assert typed_again == [True, False]  # the Parquet file's rows typed again as written, the CSV file's kept
    assert loaded["p"].table_rows == loaded["c"].table_rows
    assert loaded["p"].sources[0].quarantined == loaded["c"].sources[0].quarantined
    # the same rows: a CSV file's rows are numbered from its header line, a Parquet file's from 1
    rows = ("SELECT lead_id, occurred_at, occurred_at_is_date, channel, kind, actor, campaign, asset, "
            "source_row - {header} FROM touchpoints ORDER BY source_row")
    assert fetch(parquet, rows.format(header=0)) == fetch(csv, rows.format(header=1))
    assert len(fetch(parquet, rows.format(header=0))) == 406  # two repeats, a row without a lead, one without a time
    problems = "SELECT source_row - {header}, column_name, reason, action FROM quarantine ORDER BY ALL"
    assert fetch(parquet, problems.format(header=0)) == fetch(csv, problems.format(header=1))
    notes = "SELECT note, column_name, value, n FROM ingest_notes ORDER BY ALL"
    assert fetch(parquet, notes) == fetch(csv, notes)
    with parquet.connect() as con:  # nothing staged is left behind
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'lj_%'").fetchall() == [(0,)]


def test_a_parquet_file_changed_between_its_checks_and_its_write_stops_the_ingest(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", "parquet")
    ingest(ws)
    before = snapshot(ws)
    path = ws.root / "touchpoints.parquet"

    def replace_the_file(message: str, done: int, total: int) -> None:
        if message.startswith("writing"):  # checked, not yet written: another export lands
            duckdb.sql(f"COPY (SELECT * FROM ({ROWS}) WHERE lead_id = 'L-1') TO '{path}.new' (FORMAT parquet)")
            os.replace(f"{path}.new", path)

    with pytest.raises(IngestError, match=r"touchpoints\.parquet: the file changed while it was ingested"):
        ingest(ws, force=True, progress=replace_the_file)
    assert snapshot(ws) == before
    assert ingest(ws).table_rows["touchpoints"] == 3 + 57  # the new file (L-1's rows), checked and written
