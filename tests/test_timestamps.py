"""parse_timestamp_sql on the formats real exports use: offsets, local zones across DST, US/EU, epochs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import duckdb
import pytest

from leadjourney.ingest.timestamps import (
    FAST_FORMATS,
    FastShape,
    fast_formats,
    fast_is_date,
    fast_local_sql,
    fast_timestamp_sql,
    local_span_sql,
    parse_timestamp_sql,
    timestamp_steps,
    typed_timestamp_sql,
    zone_span,
    zone_spans,
)

NY, BERLIN, UTC = "America/New_York", "Europe/Berlin", "UTC"
T = datetime

# value, time zone, day_first, expected UTC timestamp, expected is_date
CASES: list[tuple[str, str, bool, datetime, bool]] = [
    # ISO 8601 with an offset or Z: the offset wins over the source's zone
    ("2024-03-05T14:22:00-05:00", NY, False, T(2024, 3, 5, 19, 22), False),
    ("2024-03-05T14:22:00Z", NY, False, T(2024, 3, 5, 14, 22), False),
    ("2024-03-05T14:22Z", BERLIN, False, T(2024, 3, 5, 14, 22), False),
    ("2024-03-05 14:22:00+0100", NY, False, T(2024, 3, 5, 13, 22), False),
    ("2024-03-05T14:22:00+05:30", NY, False, T(2024, 3, 5, 8, 52), False),
    ("2024-03-05T14:22:00.123+01:00", NY, False, T(2024, 3, 5, 13, 22, 0, 123000), False),
    ("2024-03-05T14:22:00.000+0000", NY, False, T(2024, 3, 5, 14, 22), False),  # Salesforce API
    ("2024-03-05T14:22:00.123456Z", NY, False, T(2024, 3, 5, 14, 22, 0, 123456), False),
    ("2024-03-05 14:22 UTC", NY, False, T(2024, 3, 5, 14, 22), False),
    ("2024-03-05 14:22 GMT", BERLIN, False, T(2024, 3, 5, 14, 22), False),
    # naive wall clock in America/New_York, around the spring-forward of 10 March 2024
    ("2024-03-09 22:00", NY, False, T(2024, 3, 10, 3, 0), False),
    ("2024-03-10 01:59", NY, False, T(2024, 3, 10, 6, 59), False),
    ("2024-03-10 03:00", NY, False, T(2024, 3, 10, 7, 0), False),
    ("2024-03-10T03:30:00", NY, False, T(2024, 3, 10, 7, 30), False),
    # ... and the fall-back of 3 November 2024
    ("2024-11-03 00:30", NY, False, T(2024, 11, 3, 4, 30), False),
    ("2024-11-03 02:30", NY, False, T(2024, 11, 3, 7, 30), False),
    ("2024-07-01T12:00:00", NY, False, T(2024, 7, 1, 16, 0), False),
    ("2024-03-05T14:22:00.123456", NY, False, T(2024, 3, 5, 19, 22, 0, 123456), False),
    ("  2024-03-05 14:22  ", NY, False, T(2024, 3, 5, 19, 22), False),
    ("2024-03-05 14:22", UTC, False, T(2024, 3, 5, 14, 22), False),
    ("2024-03-31 01:59", BERLIN, False, T(2024, 3, 31, 0, 59), False),  # CET
    ("2024-03-31 03:00", BERLIN, False, T(2024, 3, 31, 1, 0), False),  # CEST
    ("2024/03/05 14:22", NY, False, T(2024, 3, 5, 19, 22), False),
    # Salesforce report exports (en_US): month first, 12-hour clock, with or without the comma
    ("3/5/2024, 2:22 PM", NY, False, T(2024, 3, 5, 19, 22), False),
    ("3/5/2024 2:22 PM", NY, False, T(2024, 3, 5, 19, 22), False),
    ("3/5/2024, 2:22 pm", NY, False, T(2024, 3, 5, 19, 22), False),
    ("3/10/2024, 3:30 AM", NY, False, T(2024, 3, 10, 7, 30), False),
    ("3/5/2024, 12:00 AM", NY, False, T(2024, 3, 5, 5, 0), False),
    ("3/5/2024, 12:30 PM", NY, False, T(2024, 3, 5, 17, 30), False),
    ("12/31/2024 11:59:59 PM", NY, False, T(2025, 1, 1, 4, 59, 59), False),
    ("03/05/2024 14:22", NY, False, T(2024, 3, 5, 19, 22), False),
    # day first (en_GB, de_DE exports)
    ("05/03/2024, 14:22", NY, True, T(2024, 3, 5, 19, 22), False),
    ("05/03/2024 14:22", NY, True, T(2024, 3, 5, 19, 22), False),
    ("31/12/2024 23:00", BERLIN, True, T(2024, 12, 31, 22, 0), False),
    ("31.12.2024 23:00", BERLIN, True, T(2024, 12, 31, 22, 0), False),
    ("31.03.2024 03:15:00", BERLIN, True, T(2024, 3, 31, 1, 15), False),
    ("5/3/2024 2:22 PM", NY, True, T(2024, 3, 5, 19, 22), False),
    # epoch seconds and milliseconds are UTC whatever the source's zone
    ("1709648520", NY, False, T(2024, 3, 5, 14, 22), False),
    ("1709648520123", BERLIN, False, T(2024, 3, 5, 14, 22, 0, 123000), False),
    # a date without a time: midnight, not shifted by the zone, flagged
    ("2024-03-05", NY, False, T(2024, 3, 5), True),
    ("2024/03/05", NY, False, T(2024, 3, 5), True),
    ("3/5/2024", NY, False, T(2024, 3, 5), True),
    ("05/03/2024", BERLIN, True, T(2024, 3, 5), True),
    ("13/05/2024", BERLIN, True, T(2024, 5, 13), True),
    ("31.12.2024", BERLIN, True, T(2024, 12, 31), True),
    ("Mar 5, 2024", NY, False, T(2024, 3, 5), True),
    ("5 Mar 2024", NY, False, T(2024, 3, 5), True),
]

GARBAGE: list[tuple[str | None, bool]] = [
    ("garbage", False),
    ("", False),
    ("   ", False),
    (None, False),
    ("next Tuesday", False),
    ("2024-02-30", False),
    ("2024-13-01 10:00", False),
    ("31/31/2024", True),
    ("45356.59861", False),
    ("12345", False),
    ("31/12/2024 23:00", False),  # day first, but the source is month first
    ("2024-03-05 25:00", False),
]


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _parse(
    con: duckdb.DuckDBPyConnection, value: str | None, tz: str, day_first: bool
) -> tuple[object, object]:
    ts, is_date = parse_timestamp_sql("v", tz, day_first=day_first)
    rows = con.execute(
        f"SELECT {ts}, {is_date} FROM (SELECT CAST(? AS VARCHAR) AS v)", [value]
    ).fetchall()
    return rows[0][0], rows[0][1]


@pytest.mark.parametrize(
    ("value", "tz", "day_first", "expected", "is_date"),
    CASES,
    ids=[f"{c[0].strip()}|{c[1]}|{'dmy' if c[2] else 'mdy'}" for c in CASES],
)
def test_formats(
    con: duckdb.DuckDBPyConnection,
    value: str,
    tz: str,
    day_first: bool,
    expected: datetime,
    is_date: bool,
) -> None:
    assert _parse(con, value, tz, day_first) == (expected, is_date)


@pytest.mark.parametrize(("value", "day_first"), GARBAGE, ids=[repr(g[0]) for g in GARBAGE])
def test_unparseable_values_are_null(
    con: duckdb.DuckDBPyConnection, value: str | None, day_first: bool
) -> None:
    ts, _ = _parse(con, value, NY, day_first)
    assert ts is None


def test_whole_column_in_one_query(con: duckdb.DuckDBPyConnection) -> None:
    """The expression works over a column of mixed formats, row by row."""
    ts, is_date = parse_timestamp_sql("v", NY)
    values = ["2024-03-05T14:22:00Z", "3/5/2024, 2:22 PM", "2024-03-05", "garbage", "1709648520"]
    rows = con.execute(
        f"SELECT v, {ts}, {is_date} FROM (SELECT unnest(?) AS v)", [values]
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("2024-03-05T14:22:00Z", T(2024, 3, 5, 14, 22)),
        ("3/5/2024, 2:22 PM", T(2024, 3, 5, 19, 22)),
        ("2024-03-05", T(2024, 3, 5)),
        ("garbage", None),
        ("1709648520", T(2024, 3, 5, 14, 22)),
    ]
    assert [r[2] for r in rows if r[1] is not None] == [False, False, True, False]


def _stepped(value: str, tz: str, day_first: bool, skip: str | None = None) -> str:
    """A select of (ts, is_date) over the column ``v`` of ``value`` (a select), through :func:`timestamp_steps`
    computed layer by layer as the ingest does."""
    parsed = timestamp_steps("v", tz, "__ts|v", day_first=day_first, skip=skip)
    for layer in parsed.steps:
        named = ", ".join(f'{e} AS "{n}"' for n, e in layer.items())
        value = f"SELECT *, {named} FROM ({value})"
    return f"SELECT v, {parsed.timestamp}, {parsed.is_date} FROM ({value})"


@pytest.mark.parametrize("day_first", [False, True])
@pytest.mark.parametrize("tz", [NY, BERLIN, UTC])
def test_steps_give_what_the_expression_gives(con: duckdb.DuckDBPyConnection, tz: str, day_first: bool) -> None:
    """The helper columns the ingest computes once per column type every value as the inline expression does."""
    values = [c[0] for c in CASES if c[1] == tz and c[2] == day_first] + [g[0] for g in GARBAGE if g[1] == day_first]
    ts, is_date = parse_timestamp_sql("v", tz, day_first=day_first)
    rows = "SELECT unnest(CAST(? AS VARCHAR[])) AS v"
    expected = con.execute(f"SELECT v, {ts}, {is_date} FROM ({rows})", [values]).fetchall()
    assert con.execute(_stepped(rows, tz, day_first), [values]).fetchall() == expected
    typed = [(c[0], c[3], c[4]) for c in CASES if c[1] == tz and c[2] == day_first]
    assert [r for r in expected if r[1] is not None] == typed
    skipped = con.execute(_stepped(rows, tz, day_first, skip="v LIKE '2024-03-05%'"), [values]).fetchall()
    assert skipped == [(v, None, None) if v is not None and v.startswith("2024-03-05") else (v, t, d)
                       for v, t, d in expected]


def test_a_text_column_is_cleaned_once_in_its_typing_sql() -> None:
    """DuckDB parses and binds the typing SQL of every column of every file: the cleaned text, the
    explicit-format text and the epoch digits are computed once each and referred to by name, not repeated."""
    from leadjourney.config import Source, default_config_text, parse_config
    from leadjourney.ingest.normalize import typed_columns

    source = Source(name="s", path="s.csv", format="csv", table="leads", timezone=NY)
    [typed] = [t for t in typed_columns("leads", {"created_at": "VARCHAR"}, source, parse_config(default_config_text()), "salt")
               if t.column == "created_at"]
    sql = " ".join([typed.value, *typed.also.values(), *typed.notes.values(), *typed.pre.values(),
                    *(e for layer in typed.steps for e in layer.values())])
    # the cleaned text, the text as written trimmed, the placeholder note (its length, its spelling)
    assert sql.count('CAST("created_at" AS VARCHAR)') <= 4
    assert sql.count("regexp_replace(") == 1
    assert sql.count("regexp_full_match(") == 2  # the epoch note, on the text as written; the epoch digits
    assert len(sql) < 5000  # 9.9 KB when each part was written out where used


def test_time_zone_name_is_quoted(con: duckdb.DuckDBPyConnection) -> None:
    ts, _ = parse_timestamp_sql("v", "America/Argentina/Buenos_Aires")
    rows = con.execute(f"SELECT {ts} FROM (SELECT '2024-03-05 14:22' AS v)").fetchall()
    assert rows == [(T(2024, 3, 5, 17, 22),)]


@pytest.mark.parametrize(
    ("duck_type", "literal", "tz", "expected", "is_date"),
    [
        (
            "TIMESTAMP WITH TIME ZONE",
            "TIMESTAMPTZ '2024-03-05 14:22:00+01'",
            NY,
            T(2024, 3, 5, 13, 22),
            False,
        ),
        ("TIMESTAMP", "TIMESTAMP '2024-03-05 14:22:00'", UTC, T(2024, 3, 5, 14, 22), False),
        ("TIMESTAMP", "TIMESTAMP '2024-03-10 03:30:00'", NY, T(2024, 3, 10, 7, 30), False),
        (
            "TIMESTAMP_MS",
            "CAST(TIMESTAMP '2024-03-09 22:00:00' AS TIMESTAMP_MS)",
            NY,
            T(2024, 3, 10, 3, 0),
            False,
        ),
        ("DATE", "DATE '2024-03-05'", NY, T(2024, 3, 5), True),
    ],
)
def test_typed_timestamps(
    con: duckdb.DuckDBPyConnection,
    duck_type: str,
    literal: str,
    tz: str,
    expected: datetime,
    is_date: bool,
) -> None:
    ts, flag = typed_timestamp_sql("v", duck_type, tz)
    assert con.execute(f"SELECT {ts}, {flag} FROM (SELECT {literal} AS v)").fetchall() == [
        (expected, is_date)
    ]


def test_day_first_twelve_hour_with_comma(con: duckdb.DuckDBPyConnection) -> None:
    assert _parse(con, "5/03/2024, 2:22 pm", BERLIN, True) == (T(2024, 3, 5, 13, 22), False)


# ISO values in every shape a fast path takes, and near misses (whitespace, DST gaps and folds, 7-digit fractions)
FAST_VALUES = [
    "2024-03-10T02:30:00", "2024-03-10 02:30:00", "2024-11-03T01:30:00", "2024-07-01 12:00:00.5",
    "2024-07-01T12:00:00.123456", "2024-07-01T12:00:00.1234567", "2024-07-01T12:00:00Z", "2024-07-01T12:00:00.25Z",
    "2024-07-01 12:00:00+0200", "2024-07-01T12:00:00-05:00", "2024-07-01T12:00:00.5+05:30", "2024-07-01T12:00:00+02",
    "2024-07-01", "  2024-07-01 12:00:00  ", "2024-02-30 10:00:00", "2024-07-01 24:00:00", "2024-07-01 10:00:60",
    "2024-07-01T12:00:00 Z", "2024-07-01T12:00:00z", "0024-07-01 12:00:00", "2024-7-1 12:00:00",
]


@pytest.mark.parametrize("tz", [NY, BERLIN, UTC])
def test_fast_path_types_as_the_general_parser(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Each value a shape's strptime types gets the timestamp and is_date the general parser gives it; the
    sample names a shape for every ISO spelling in it."""
    values = FAST_VALUES + [c[0] for c in CASES] + [g[0] for g in GARBAGE if g[0] is not None]
    mostly = ["2024-07-01T12:00:00Z"] * 40 + ["2024-07-01 12:00:00"] * 30 + ["2024-07-01"] * 30 + values
    con.execute("CREATE OR REPLACE TEMP TABLE sample AS SELECT unnest(?) AS v", [mostly])
    found = [s.format for s in fast_formats(con, "SELECT * FROM sample", ["v"])["v"]]
    assert found == ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"]  # by frequency; dates left to the general path
    typed = 0
    every = {s.shape: s for f in FAST_FORMATS for s in fast_formats_for_test(con, values, f)}
    for shape in [*FAST_FORMATS, None]:  # each format on its own, on the values of its shape; then all at once
        shaped = every if shape is None else {s.shape: s for s in fast_formats_for_test(con, values, shape)}
        ts, is_date = parse_timestamp_sql("v", tz)
        fast = fast_timestamp_sql("trim(v)", tuple(shaped.values()), tz) if shaped else "NULL"
        # the same through a zone span: the wall-clock values left as written, then their offset looked up
        spans = zone_spans(con, "SELECT * FROM sample", tz, [], {"v": tuple(shaped.values())})
        unconverted = fast_timestamp_sql("trim(v)", tuple(shaped.values()), tz, localize=False) if shaped else "NULL"
        spanned = fast_local_sql("w", "trim(v)", tuple(shaped.values()), tz, spans["v"]) if "v" in spans else "w"
        rows = con.execute(f"SELECT v, {fast}, {ts}, {is_date}, {spanned} "
                           f"FROM (SELECT v, {unconverted} AS w FROM sample)").fetchall()
        for value, quick, general, general_is_date, looked_up in rows:
            if quick is not None:
                typed += 1
                assert (quick, fast_is_date(tuple(shaped.values())) == "true") == (general, general_is_date), value
                assert looked_up == quick, value
    assert typed >= 30


def fast_formats_for_test(con: duckdb.DuckDBPyConnection, values: list[str], fmt: str) -> list[FastShape]:
    """Every shape among ``values`` that ``fmt`` parses throughout (no share threshold, no cap)."""
    rows = con.execute(
        "SELECT s, bool_and(try_strptime(trim(v), ?) IS NOT NULL) FROM (SELECT v, "
        "regexp_replace(trim(v), '[0-9]', '_', 'g') AS s FROM (SELECT unnest(?) AS v)) GROUP BY s", [fmt, values]
    ).fetchall()
    return [FastShape(s, fmt) for s, ok in rows if ok]


@pytest.mark.parametrize("tz", [NY, BERLIN, "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kathmandu",
                                "America/Sao_Paulo"])
def test_zone_span_gives_what_converting_each_value_gives(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Offsets looked up in a zone span equal the per-value conversion: every 21 minutes and 3 seconds over six
    years, each microsecond either side of every transition, and values outside the span (converted one by
    one). Lord Howe and Chatham change their clocks off the hour (by 30 minutes, at 2:45)."""
    span = zone_span(con, tz, datetime(2019, 1, 1), datetime(2024, 12, 31))
    assert span is not None and span.segments[0][0] <= datetime(2019, 1, 1) < datetime(2024, 12, 31) < span.end
    edges = [str(start) for start, _ in span.segments]
    con.execute("""CREATE OR REPLACE TEMP TABLE walls AS
        SELECT TIMESTAMP '2018-06-01' + to_seconds(i * 1263) AS x FROM range(0, 177000) t(i)
        UNION ALL SELECT unnest([e - INTERVAL 1 MICROSECOND, e, e + INTERVAL 1 MICROSECOND, e + INTERVAL 30 MINUTE])
        FROM (SELECT unnest(?::TIMESTAMP[]) AS e)""", [edges])
    looked_up, converted = local_span_sql("x", tz, span), typed_timestamp_sql("x", "TIMESTAMP", tz)[0]  # type: ignore[index]
    assert "INTERVAL" in looked_up and "INTERVAL" not in converted
    differ = con.execute(f"SELECT count(*), count(*) FILTER (WHERE ({looked_up}) IS DISTINCT FROM ({converted})) "
                         "FROM walls").fetchone()
    assert differ == (177000 + 4 * len(edges), 0)
    if tz not in ("Asia/Kathmandu", "America/Sao_Paulo"):  # zones with summer time (Brazil ended it in 2019)
        assert len(span.segments) >= 10


def test_zone_spans_cover_the_values_of_each_wall_clock_column(con: duckdb.DuckDBPyConnection) -> None:
    """The span of a column covers its values: typed timestamps by their range, text by its naive-shaped values
    (those with an offset need none); in UTC there is nothing to convert."""
    con.execute("""CREATE OR REPLACE TEMP TABLE f AS SELECT * FROM (VALUES
        (TIMESTAMP '2020-02-01 10:00', '2023-07-01 10:00:00', '2019-01-01T00:00:00Z'),
        (TIMESTAMP '2021-08-01 10:00', ' 2024-01-05 23:59:59 ', '2030-01-01T00:00:00Z'),
        (NULL, 'soon', NULL)) t(a, b, c)""")
    shapes = {"b": (FastShape("____-__-__ __:__:__", "%Y-%m-%d %H:%M:%S"),),
              "c": (FastShape("____-__-__T__:__:__Z", "%Y-%m-%dT%H:%M:%SZ"),)}
    spans = zone_spans(con, "SELECT * FROM f", NY, ["a"], shapes)
    assert set(spans) == {"a", "b"}
    assert spans["a"].segments[0][0] <= datetime(2020, 2, 1) and spans["a"].end > datetime(2021, 8, 2)
    assert spans["b"].segments[0][0] <= datetime(2023, 7, 1) and spans["b"].end > datetime(2024, 1, 6)
    assert spans["a"].end < datetime(2021, 9, 1)  # no wider than the values
    assert zone_spans(con, "SELECT * FROM f", UTC, ["a"], shapes) == {}


def test_an_aware_timestamp_is_its_utc_wall_clock_whatever_the_session_zone() -> None:
    from leadjourney.ingest.timestamps import typed_timestamp_sql

    typed = typed_timestamp_sql("v", "TIMESTAMP WITH TIME ZONE", "Europe/Berlin")
    assert typed is not None
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")
    rows = con.execute(f"""SELECT CAST({typed[0]} AS VARCHAR) FROM (VALUES
        (TIMESTAMPTZ '2024-03-31 01:30:00+00'), (TIMESTAMPTZ '2024-03-31 03:30:00+02'), (TIMESTAMPTZ '1969-12-31 23:59:59.5+00'),
        (TIMESTAMPTZ 'infinity'), (NULL)) t(v)""").fetchall()
    assert [r[0] for r in rows] == ["2024-03-31 01:30:00", "2024-03-31 01:30:00", "1969-12-31 23:59:59.5",
                                    con.execute("SELECT CAST(timezone('UTC', TIMESTAMPTZ 'infinity') AS VARCHAR)").fetchone()[0],  # type: ignore[index]
                                    None]
