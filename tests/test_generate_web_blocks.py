"""The generator's GA4 export is materialised and written a block of rows at a time (generate/_web_events.py):
blocks that cut visits anywhere put together are the export built whole, and the files do not depend on the
block size (NDJSON byte for byte; Parquet row for row, one row group a block)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leadjourney.generate import _params as P
from leadjourney.generate import _web_events
from leadjourney.generate._web import Visits, simulate_web
from leadjourney.generate._web_events import event_blocks, event_table, write_ga4

START = 1_767_225_600  # 2026-01-01
STOP = START + 90 * P.DAY


@pytest.fixture(scope="module")
def visits() -> Visits:
    rng = np.random.default_rng(11)
    n = 1500
    created = np.sort(rng.integers(START, STOP, n))
    channel = rng.integers(0, len(P.CHANNELS), n)
    email = pa.array([f" Person{i}@Example.com" for i in range(n)])
    return simulate_web(np.random.default_rng(5), channel, created, created + 20 * P.DAY, email, START, STOP).visits


def test_blocks_cutting_visits_anywhere_make_the_whole_export(visits: Visits) -> None:
    whole = event_table(visits, 0, visits.events)
    assert whole.num_rows == visits.events > 10_000
    blocks = list(event_blocks(visits, rows=997))  # a prime: blocks start and end inside visits
    assert len(blocks) == -(-visits.events // 997) and all(b.num_rows == 997 for b in blocks[:-1])
    assert pa.concat_tables(blocks).equals(whole)
    # each visit's rows are together and in time order, a session_start right before its landing page view
    names = whole.column("event_name").to_pylist()
    assert names.count("session_start") == len(visits.begin)
    starts = [i for i, n in enumerate(names) if n == "session_start"]
    assert all(names[i + 1] == "page_view" for i in starts)
    at = whole.column("event_timestamp").to_numpy()
    session = np.repeat(np.arange(len(starts)), np.diff([*starts, len(names)]))
    assert (np.diff(at)[session[1:] == session[:-1]] >= -999_999).all()  # same second or later within a visit


def test_files_do_not_depend_on_the_block_size(visits: Visits, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    write_ga4(visits, tmp_path / "whole.ndjson", ndjson=True)
    write_ga4(visits, tmp_path / "whole.parquet", ndjson=False)
    monkeypatch.setattr(_web_events, "ROW_GROUP", 2048)
    write_ga4(visits, tmp_path / "blocks.ndjson", ndjson=True)
    write_ga4(visits, tmp_path / "blocks.parquet", ndjson=False)
    assert (tmp_path / "blocks.ndjson").read_bytes() == (tmp_path / "whole.ndjson").read_bytes()
    assert len((tmp_path / "whole.ndjson").read_text("utf-8").splitlines()) == visits.events
    blocks = pq.ParquetFile(tmp_path / "blocks.parquet")
    assert [blocks.metadata.row_group(i).num_rows for i in range(blocks.num_row_groups)] == [
        min(2048, visits.events - a) for a in range(0, visits.events, 2048)]
    assert blocks.read().equals(pq.read_table(tmp_path / "whole.parquet"))
    assert pq.ParquetFile(tmp_path / "whole.parquet").num_row_groups == 1


def test_an_export_without_visits_is_an_empty_file_with_the_columns(tmp_path: Path) -> None:
    empty = np.zeros(0, dtype=np.int64)
    vis = simulate_web(np.random.default_rng(1), empty, empty, empty, pa.array([], pa.string()), START, STOP).visits
    write_ga4(vis, tmp_path / "web.parquet", ndjson=False)
    table = pq.read_table(tmp_path / "web.parquet")
    assert table.num_rows == 0 and "event_params" in table.column_names
