"""Timestamp strings as CRM exports write them, each denoting exactly its UTC instant.

Formats (seconds precision), chosen per value when zones are mixed, about a third each:

* ``2026-03-01T15:15:00Z`` (UTC);
* ``2026-03-01T10:15:00-05:00`` with a fixed offset from :data:`OFFSETS`;
* ``2026-03-01 10:15:00``: wall-clock time in ``America/New_York`` (DST-correct,
  via DuckDB's ICU time zones). A wall-clock time that DuckDB would not read back
  as the same instant (the repeated hour when clocks fall back) is written with ``Z``.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from leadjourney.generate._journey import NA
from leadjourney.generate._params import OFFSETS, SOURCE_TIMEZONE

ZULU = 0
NAIVE = len(OFFSETS) + 1  # codes 1..len(OFFSETS) are the fixed offsets
FUTURE_YEARS = 36


def zone_codes(rng: np.random.Generator, n: int, mixed: bool) -> np.ndarray:
    """A format code per value: a third UTC, a third fixed offsets, a third naive local time."""
    u = rng.random(n)
    offset = 1 + rng.integers(0, len(OFFSETS), n)
    if not mixed:
        return np.zeros(n, dtype=np.int8)
    return np.where(u < 1 / 3, ZULU, np.where(u < 2 / 3, offset, NAIVE)).astype(np.int8)


def _sql() -> str:
    offsets = " ".join(f"WHEN {i} THEN {sec}" for i, (_, sec) in enumerate(OFFSETS, start=1))
    labels = " ".join(f"WHEN {i} THEN '{label}'" for i, (label, _) in enumerate(OFFSETS, start=1))
    iso = "'%Y-%m-%dT%H:%M:%S'"
    return f"""
        SELECT CASE
            WHEN s IS NULL THEN NULL
            WHEN c = {NAIVE} AND epoch(timezone('{SOURCE_TIMEZONE}', local)) = s
                THEN strftime(local, '%Y-%m-%d %H:%M:%S')
            WHEN c BETWEEN 1 AND {len(OFFSETS)}
                THEN strftime(make_timestamp((s + CASE c {offsets} END) * 1000000), {iso})
                     || CASE c {labels} END
            ELSE strftime(make_timestamp(s * 1000000), {iso}) || 'Z'
        END AS v
        FROM (SELECT s, c, CASE WHEN c = {NAIVE} THEN timezone('{SOURCE_TIMEZONE}', to_timestamp(s)) END AS local
              FROM instants)
    """


def format_instants(seconds: np.ndarray, codes: np.ndarray) -> pa.Array:
    """Strings for epoch ``seconds`` (NA gives null) in the formats ``codes`` ask for."""
    table = pa.table(
        {
            "s": pa.array(seconds, pa.int64(), mask=seconds == NA),
            "c": pa.array(codes, pa.int8()),
        }
    )
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("instants", table)
        out = con.sql(_sql()).to_arrow_table().column("v")
    finally:
        con.close()
    return pc.cast(out.combine_chunks(), pa.string())


def push_years(text: pa.Array, years: int = FUTURE_YEARS) -> pa.Array:
    """The same strings with the year (first four characters) moved ``years`` ahead: a typo."""
    year = pc.cast(pc.utf8_slice_codeunits(text, 0, 4), pa.int32())
    head = pc.cast(pc.add(year, years), pa.string())
    return pc.binary_join_element_wise(head, pc.utf8_slice_codeunits(text, 4), "")


def utc_timestamps(seconds: np.ndarray) -> pa.Array:
    """A ``timestamp[us]`` array (UTC, no zone) for epoch seconds; NA gives null."""
    missing = seconds == NA
    micros = np.where(missing, 0, seconds) * 1_000_000
    return pa.array(micros, pa.int64(), mask=missing).cast(pa.timestamp("us"))
