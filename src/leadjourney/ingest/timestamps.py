"""Timestamp parsing inside DuckDB: the formats and time zones real exports use.

Every value becomes a UTC ``TIMESTAMP`` plus an ``is_date`` flag:

* ISO 8601 with an offset or ``Z`` ("2024-03-05T14:22:00-05:00"): the offset is honoured;
* a wall-clock time without offset ("2024-03-05 14:22", Salesforce's "3/5/2024, 2:22 PM"):
  read in the source's time zone (DST-correct);
* epoch seconds, milliseconds (HubSpot's API), micro- or nanoseconds, as numbers or as text: UTC, the
  unit told by the size (the ingest warns which it read);
* a date without a time ("2024-03-05", "3/5/2024"): midnight, flagged ``is_date``.

A value that matches none of these stays NULL, and the caller quarantines it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

_AWARE = [
    "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M%z",
]
_NAIVE_ISO = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%b %d, %Y %I:%M %p", "%b %d, %Y %H:%M", "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M",
]
_NAIVE_MONTH_FIRST = [
    "%m/%d/%Y, %I:%M %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M",
]
_NAIVE_DAY_FIRST = [
    "%d/%m/%Y, %I:%M %p", "%d/%m/%Y, %I:%M:%S %p", "%d/%m/%Y, %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
    "%d/%m/%Y %I:%M %p",
]
_DATE_ISO = ["%Y-%m-%d", "%Y/%m/%d", "%b %d, %Y", "%d %b %Y"]
_DATE_MONTH_FIRST = ["%m/%d/%Y"]
_DATE_DAY_FIRST = ["%d/%m/%Y", "%d.%m.%Y"]


def _list(formats: list[str]) -> str:
    return "[" + ", ".join("'" + f + "'" for f in formats) + "]"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parse_timestamp_sql(value: str, timezone: str, *, day_first: bool = False) -> tuple[str, str]:
    """SQL expressions ``(utc_timestamp, is_date)`` for a VARCHAR expression ``value``.

    ISO 8601 strings (by far the most common) take a fast path through DuckDB's
    casts; anything else tries the explicit formats.

    >>> ts, is_date = parse_timestamp_sql("x", "UTC")
    >>> "try_strptime" in ts
    True
    """
    return _parse(value, timezone, day_first, lambda _layer, _name, expr: f"({expr})")


@dataclass(frozen=True)
class TimestampSteps:
    """:func:`parse_timestamp_sql` as helper columns computed once each (``steps``: layers of name -> SQL, each
    layer over the one before) and the two expressions over them: DuckDB parses and binds a column's cleaned text,
    its explicit-format text and its epoch digits once, not dozens of times."""

    steps: tuple[dict[str, str], ...]
    timestamp: str
    is_date: str


def timestamp_steps(value: str, timezone: str, prefix: str, *, day_first: bool = False,
                    skip: str | None = None) -> TimestampSteps:
    """:func:`parse_timestamp_sql` of ``value`` split into helper columns named ``prefix|...`` (``skip``: SQL
    true on rows whose value is taken from elsewhere, which need no helper values)."""
    steps: list[dict[str, str]] = []

    def bind(layer: int, name: str, expr: str) -> str:
        if layer == 0 and skip:
            expr = f"CASE WHEN NOT ({skip}) THEN {expr} END"
        while len(steps) <= layer:
            steps.append({})
        steps[layer][f"{prefix}|{name}"] = expr
        return '"' + f"{prefix}|{name}".replace('"', '""') + '"'

    timestamp, is_date = _parse(value, timezone, day_first, bind)
    return TimestampSteps(tuple(steps), timestamp, is_date)


def _parse(value: str, timezone: str, day_first: bool, bind: Callable[[int, str, str], str]) -> tuple[str, str]:
    """The parsing expressions; ``bind(layer, name, expr)`` gives the SQL that refers to a repeated part (inlined,
    or a helper column of that layer, computed over the layers before it)."""
    s = bind(0, "text", f"trim({value})")
    iso = f"(substr({s}, 5, 1) = '-' AND substr({s}, 8, 1) = '-')"
    clock = f"upper(substr({s}, 11))"  # the time part of an ISO string, where an offset would be
    has_offset = bind(1, "offset", f"CASE WHEN {iso} THEN (strpos({clock}, '+') > 0 OR strpos({clock}, '-') > 0 "
                                   f"OR strpos({clock}, 'Z') > 0 OR strpos({clock}, 'UTC') > 0 "
                                   f"OR strpos({clock}, 'GMT') > 0) END")
    iso_date = f"(length({s}) = 10)"
    iso_ts = (f"CASE WHEN {has_offset} THEN timezone('UTC', TRY_CAST({s} AS TIMESTAMPTZ)) "
              f"WHEN {iso_date} THEN TRY_CAST({s} AS TIMESTAMP) "
              f"ELSE {_local(f'TRY_CAST({s} AS TIMESTAMP)', timezone)} END")
    other_ts, other_is_date = _explicit_formats(s, iso, timezone, day_first, bind)
    timestamp = f"(CASE WHEN {s} IS NULL THEN NULL WHEN {iso} THEN {iso_ts} ELSE {other_ts} END)"
    is_date = (f"(CASE WHEN {s} IS NULL THEN NULL WHEN {iso} THEN NOT {has_offset} AND {iso_date} "
               f"ELSE {other_is_date} END)")
    return timestamp, is_date


def _local(naive: str, timezone: str) -> str:
    """A wall-clock timestamp in ``timezone``, as UTC."""
    if timezone == "UTC":
        return naive
    return f"timezone('UTC', timezone({_quote(timezone)}, {naive}))"


@dataclass(frozen=True)
class ZoneSpan:
    """A time zone's UTC offsets over the wall-clock times from ``segments[0]``'s start to ``end``: each segment
    (start, seconds to add) holds until the next one starts; ``None``: the offset changes within that hour (a
    transition off the hour), so its values are converted one by one."""

    segments: tuple[tuple[datetime, int | None], ...]
    end: datetime


def _offset(timezone: str, wall: str) -> str:
    """SQL: the seconds that turn the wall-clock ``wall`` in ``timezone`` into UTC (as :func:`_local` does)."""
    return f"CAST(epoch({_local(wall, timezone)}) - epoch({wall}) AS BIGINT)"


_SPANS: dict[tuple[str, datetime, datetime], ZoneSpan] = {}  # (zone, first day, last day) -> offsets: same in any run


def zone_span(con: duckdb.DuckDBPyConnection, timezone: str, first: datetime, last: datetime) -> ZoneSpan | None:
    """The offsets of ``timezone`` over the wall-clock times ``first`` to ``last`` (None for UTC): sampled each day,
    then each hour around a day whose offset changed; an hour whose first and last microsecond differ is
    marked for conversion value by value."""
    if timezone == "UTC":
        return None
    start = datetime(first.year, first.month, first.day) - timedelta(days=1)
    end = datetime(last.year, last.month, last.day) + timedelta(days=2)
    if (timezone, start, end) not in _SPANS:
        _SPANS[timezone, start, end] = _zone_span(con, timezone, start, end)
    return _SPANS[timezone, start, end]


def _zone_span(con: duckdb.DuckDBPyConnection, timezone: str, start: datetime, end: datetime) -> ZoneSpan:
    day, hour_end = "d", "h + INTERVAL 3599999999 MICROSECONDS"
    rows = con.execute(f"""
        WITH days AS (SELECT {day}, {_offset(timezone, day)} AS o
                      FROM range(TIMESTAMP '{start}', TIMESTAMP '{end}', INTERVAL 1 DAY) t({day})),
        changed AS (SELECT d FROM (SELECT d, o, lag(o) OVER (ORDER BY d) AS p FROM days) WHERE o <> p),
        hours AS (SELECT DISTINCT h FROM changed, range(d - INTERVAL 1 DAY, d + INTERVAL 1 HOUR, INTERVAL 1 HOUR) t(h))
        SELECT TIMESTAMP '{start}' AS h, (SELECT o FROM days ORDER BY d LIMIT 1) AS a, NULL AS b
        UNION ALL
        (SELECT h, {_offset(timezone, 'h')}, {_offset(timezone, hour_end)} FROM hours ORDER BY h)
    """).fetchall()
    segments: list[tuple[datetime, int | None]] = [(rows[0][0], int(rows[0][1]))]
    for h, a, b in rows[1:]:
        offset = int(a) if a == b else None
        if offset != segments[-1][1]:
            segments.append((h, offset))
        if offset is None:  # the next hour starts again from its own offset
            segments.append((h + timedelta(hours=1), int(b)))
    return ZoneSpan(tuple(segments), end)


def local_span_sql(naive: str, timezone: str, span: ZoneSpan | None) -> str:
    """:func:`_local` of ``naive`` (a column or cheap cast: it is repeated), with the offsets of ``span`` looked up
    by comparisons instead of converting each value: the conversion runs once per transition, not once per
    value. Values outside the span, or in an hour with a transition inside, are converted one by one."""
    if span is None or timezone == "UTC":
        return _local(naive, timezone)
    one_by_one = _local(naive, timezone)
    segments = span.segments

    def tree(lo: int, hi: int) -> str:
        if hi - lo == 1:
            seconds = segments[lo][1]
            return one_by_one if seconds is None else f"{naive} + INTERVAL '{seconds} seconds'"
        mid = (lo + hi) // 2
        return f"CASE WHEN {naive} < TIMESTAMP '{segments[mid][0]}' THEN {tree(lo, mid)} ELSE {tree(mid, hi)} END"

    return (f"(CASE WHEN {naive} >= TIMESTAMP '{segments[0][0]}' AND {naive} < TIMESTAMP '{span.end}' "
            f"THEN {tree(0, len(segments))} ELSE {one_by_one} END)")


def _explicit_formats(s: str, iso: str, timezone: str, day_first: bool,
                      bind: Callable[[int, str, str], str]) -> tuple[str, str]:
    """The slow path, for a value ``s`` not ``iso``: every format real exports use, tried in order."""
    x = bind(1, "explicit", f"CASE WHEN NOT {iso} THEN regexp_replace({s}, '\\s*(?:Z|UTC|GMT)$', '+00:00') END")
    naive = _NAIVE_ISO + (_NAIVE_DAY_FIRST if day_first else _NAIVE_MONTH_FIRST)
    dates = _DATE_ISO + (_DATE_DAY_FIRST if day_first else _DATE_MONTH_FIRST)
    aware_ts = f"timezone('UTC', try_strptime({x}, {_list(_AWARE)}))"
    naive_ts = _local(f"try_strptime({x}, {_list(naive)})", timezone)
    # a whole number of 9 to 19 digits (text_epoch_unit_sql), read by its size; NULL for any other text
    digits = bind(2, "digits", f"CASE WHEN regexp_full_match({x}, '\\d{{9,19}}') THEN TRY_CAST({x} AS HUGEINT) END")
    epoch_ts = _epoch_sql(digits)
    date_ts = f"try_strptime({x}, {_list(dates)})"
    timed = bind(3, "timed", f"coalesce({aware_ts}, {naive_ts}, {epoch_ts})")
    return f"coalesce({timed}, {date_ts})", f"({timed} IS NULL AND {date_ts} IS NOT NULL)"


def typed_timestamp_sql(value: str, duck_type: str, timezone: str,
                        span: ZoneSpan | None = None) -> tuple[str, str] | None:
    """Expressions for a typed column: TIMESTAMP, TIMESTAMPTZ, DATE, or epoch seconds/milliseconds.

    Returns None for a type that cannot hold a point in time.
    """
    upper = duck_type.upper()
    if upper.startswith("TIMESTAMP WITH TIME ZONE"):
        # the instant's microseconds are its UTC wall clock: read as they are, without looking a zone up as
        # timezone('UTC', ...) does (ten times the cost); infinities (no microseconds) still through it
        return (f"(CASE WHEN isfinite({value}) THEN make_timestamp(epoch_us({value})) "
                f"ELSE timezone('UTC', {value}) END)"), "false"
    if upper == "DATE":
        return f"CAST({value} AS TIMESTAMP)", "true"
    if upper.startswith("TIMESTAMP"):
        # Parquet timestamps without a zone are, by convention, UTC unless the source says otherwise.
        return local_span_sql(f"CAST({value} AS TIMESTAMP)", timezone, span), "false"
    if is_epoch_type(upper):
        return _epoch_sql(value), "false"
    return None


def _epoch_sql(value: str) -> str:
    """An epoch number as a UTC timestamp, its unit told by its size (:func:`epoch_unit_sql`)."""
    micros = (f"CASE {epoch_unit_sql(value)} WHEN 'seconds' THEN {value} * 1000000 WHEN 'milliseconds' THEN "
              f"{value} * 1000 WHEN 'microseconds' THEN {value} WHEN 'nanoseconds' THEN {value} / 1000 END")
    return f"make_timestamp(TRY_CAST({micros} AS BIGINT))"


def text_epoch_unit_sql(text: str) -> str:
    """The epoch unit of a text value written as a whole number of 9 to 19 digits ("1714567890",
    "1714567890123"), as :func:`epoch_unit_sql` tells it; NULL for any other text."""
    return f"(CASE WHEN regexp_full_match({text}, '\\d{{9,19}}') THEN {epoch_unit_sql(f'TRY_CAST({text} AS HUGEINT)')} END)"


def is_epoch_type(duck_type: str) -> bool:
    """A numeric type, whose values are read as epoch times."""
    upper = duck_type.upper()
    return upper in ("BIGINT", "INTEGER", "HUGEINT", "UBIGINT", "UINTEGER", "DOUBLE", "FLOAT") or upper.startswith(
        "DECIMAL")


def epoch_unit_sql(value: str) -> str:
    """The unit of an epoch number, told by its size: seconds from 1e8, milliseconds (HubSpot's API) from 1e11,
    microseconds from 1e14, nanoseconds (pandas) from 1e17. Each unit reads its range as 1973 to 5138, so the
    ranges do not overlap; below 1e8 no unit gives a plausible date (a 0 placeholder, a count of days): NULL."""
    a = f"abs({value})"
    return (f"CASE WHEN {a} >= 1e17 THEN 'nanoseconds' WHEN {a} >= 1e14 THEN 'microseconds' "
            f"WHEN {a} >= 1e11 THEN 'milliseconds' WHEN {a} >= 1e8 THEN 'seconds' END")


# The ISO 8601 shapes exports mostly write, each parsed by one strptime: "naive" (a wall-clock time in the source's
# zone), "utc" (a "Z" suffix), "aware" (a numeric offset), "date". On a value one of them parses, it gives what
# :func:`parse_timestamp_sql` gives (a test holds them equal); the others take the general path.
FAST_FORMATS: dict[str, str] = {
    **{f"%Y-%m-%d{sep}%H:%M:%S{frac}{suffix}": kind
       for sep in ("T", " ") for frac in ("", ".%f") for suffix, kind in (("", "naive"), ("Z", "utc"), ("%z", "aware"))},
    "%Y-%m-%d": "date",
}
_FAST_SAMPLE = 2_000  # values a column's shapes are told from
_FAST_SHARE = 0.05  # a shape is worth a fast path when this share of the sample has it
_FAST_MAX = 4  # shapes given a fast path


@dataclass(frozen=True)
class FastShape:
    """Values written digit for digit alike (``shape``: a LIKE pattern, ``_`` for each digit) that one of
    :data:`FAST_FORMATS` parses (most of them: the others, such as 2024-02-30, take the general path). A failed strptime costs far more than a LIKE, so each value tries only
    the format of its shape."""

    shape: str
    format: str


def fast_formats(con: duckdb.DuckDBPyConnection, select: str, columns: list[str]) -> dict[str, tuple[FastShape, ...]]:
    """For each text timestamp column of ``select``, the shapes its first values are mostly written in with the
    format that parses each (most frequent first; dates only when no time shape qualifies)."""
    found: dict[str, tuple[FastShape, ...]] = {}
    for column in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        rows = con.execute(
            f"SELECT shape, count(*), {', '.join(f'count(try_strptime(v, {_quote(f)}))' for f in FAST_FORMATS)} "
            f"FROM (SELECT trim(CAST({quoted} AS VARCHAR)) AS v, regexp_replace(v, '[0-9]', '_', 'g') AS shape "
            f"FROM ({select}) WHERE NULLIF(trim(CAST({quoted} AS VARCHAR)), '') IS NOT NULL LIMIT {_FAST_SAMPLE}) "
            f"WHERE regexp_full_match(shape, '[_:. TZ+-]+') GROUP BY shape ORDER BY count(*) DESC, shape"
        ).fetchall()
        sampled = sum(int(r[1]) for r in rows)
        shapes = [FastShape(str(shape), max(zip(parsed, FAST_FORMATS, strict=True), key=lambda p: p[0])[1])
                  for shape, n, *parsed in rows if n >= sampled * _FAST_SHARE and max(parsed) * 2 >= n]
        timed = [s for s in shapes if FAST_FORMATS[s.format] != "date"]
        chosen = (timed or shapes)[:_FAST_MAX]
        if chosen:
            found[column] = tuple(chosen)
    return found


def fast_timestamp_sql(value: str, shapes: tuple[FastShape, ...], timezone: str, *, localize: bool = True) -> str:
    """The UTC timestamp of ``value`` (a trimmed text) when it has one of ``shapes`` and its format parses it,
    else NULL (``localize=False``: a wall-clock value left as written, for :func:`fast_local_sql`)."""
    whens = []
    for shape in shapes:
        ts = f"try_strptime({value}, {_quote(shape.format)})"
        kind = FAST_FORMATS[shape.format]
        # an offset's instant as UTC: by its epoch, not by the zone library (twice the strptime's cost)
        typed = (_local(ts, timezone) if localize else ts) if kind == "naive" else (
            f"make_timestamp(epoch_us({ts}))" if kind == "aware" else ts)
        whens.append(f"WHEN {value} LIKE {_quote(shape.shape)} THEN {typed}")
    return f"(CASE {' '.join(whens)} END)"


def fast_is_date(shapes: tuple[FastShape, ...]) -> str:
    """SQL: whether a value a fast path typed is a date without a time (:func:`fast_formats` never mixes them)."""
    return "true" if all(FAST_FORMATS[s.format] == "date" for s in shapes) else "false"


def fast_offset_sql(value: str, shapes: tuple[FastShape, ...], offset: str) -> str:
    """The UTC offset a value of one of ``shapes`` is written with ("Z", or ``offset``: the general expression,
    for a numeric one), NULL for a wall-clock time or date."""
    written = {"naive": "NULL", "date": "NULL", "utc": "'Z'", "aware": offset}
    whens = [f"WHEN {value} LIKE {_quote(s.shape)} THEN {written[FAST_FORMATS[s.format]]}" for s in shapes]
    return f"(CASE {' '.join(whens)} ELSE {offset} END)"


def zone_spans(con: duckdb.DuckDBPyConnection, select: str, timezone: str, typed: list[str],
               text: dict[str, tuple[FastShape, ...]]) -> dict[str, ZoneSpan]:
    """For each column of ``select`` read as a wall-clock time in ``timezone`` (``typed``: TIMESTAMP columns;
    ``text``: text columns with their fast shapes, of which the naive ones count), the zone's offsets over the
    range its values span (one pass over those columns; values outside any span are converted one by one)."""
    if timezone == "UTC":
        return {}
    bounds: dict[str, list[str]] = {}
    for column in typed:
        c = f"CAST({_ident(column)} AS TIMESTAMP)"
        bounds[column] = [f"min({c})", f"max({c})"]
    for column, shapes in text.items():
        v = f"trim(CAST({_ident(column)} AS VARCHAR))"
        naive = [s for s in shapes if FAST_FORMATS[s.format] == "naive"]
        if naive:  # ISO text of one shape sorts as its times do: the bounds are parsed, not each value
            bounds[column] = [
                f"try_strptime({agg}({v}) FILTER (WHERE {v} LIKE {_quote(s.shape)}), {_quote(s.format)})"
                for s in naive for agg in ("min", "max")]
    if not bounds:
        return {}
    exprs = [e for column in bounds for e in bounds[column]]
    row = con.execute(f"SELECT {', '.join(exprs)} FROM ({select})").fetchone() or ()
    found, i = {}, 0
    for column, taken in bounds.items():
        values = [v for v in row[i:i + len(taken)] if v is not None]
        i += len(taken)
        span = zone_span(con, timezone, min(values), max(values)) if values else None
        if span is not None:
            found[column] = span
    return found


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fast_local_sql(typed: str, value: str, shapes: tuple[FastShape, ...], timezone: str, span: ZoneSpan) -> str:
    """The UTC timestamp of a value a fast path typed (``typed``: by ``fast_timestamp_sql(..., localize=False)``,
    ``value``: the trimmed text): a wall-clock value is converted by ``span``."""
    naive = [s for s in shapes if FAST_FORMATS[s.format] == "naive"]
    if not naive or timezone == "UTC":
        return typed
    if len(naive) == len(shapes):  # every value typed is a wall-clock time: no need to tell them apart
        return local_span_sql(typed, timezone, span)
    tested = " OR ".join(f"{value} LIKE {_quote(s.shape)}" for s in naive)
    return f"(CASE WHEN {tested} THEN {local_span_sql(typed, timezone, span)} ELSE {typed} END)"
