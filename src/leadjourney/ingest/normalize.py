"""Typing and validating staged rows inside DuckDB, the same way for every format.

For each canonical column a source provides, :func:`typed_columns` gives the
SQL that turns the file's value into the canonical value (placeholders such as
"unknown" or "Select" are set to NULL before, and counted: ``Typed.placeholders``, ``Typed.notes``), and the condition
under which the value is unusable (it then goes to quarantine: the row is
rejected when the column is required, otherwise the value is set to NULL).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from leadjourney.config import Config, Source
from leadjourney.errors import BadFileError
from leadjourney.ingest.columns import HUMAN_KINDS, KINDS
from leadjourney.ingest.outcomes import BOOLEAN_WORDS, lost_keys, placeholder_sql, won_keys
from leadjourney.ingest.personal import scrub_text_sql
from leadjourney.ingest.sql import WHOLE_NUMBERS, alias_case, blank_to_null, ident, lit, norm_key
from leadjourney.ingest.timestamps import (
    FastShape,
    ZoneSpan,
    epoch_unit_sql,
    fast_is_date,
    fast_local_sql,
    fast_offset_sql,
    fast_timestamp_sql,
    is_epoch_type,
    text_epoch_unit_sql,
    timestamp_steps,
    typed_timestamp_sql,
)
from leadjourney.schema import NOTE_DECIMAL_ID, NOTE_EPOCH_UNIT

_NUMERIC = (*WHOLE_NUMBERS, "FLOAT", "DOUBLE", "DECIMAL")
# text kept as written: owners are matched and shown as pseudonyms (an owner's e-mail is their name)
_UNSCRUBBED = ("owner",)
_DISQUALIFIED = "unqualif|disqualif|notconverted|junk|invalid|spam|closedlost|rejected|badfit|notafit"


@dataclass(frozen=True)
class Typed:
    """One canonical column: its typed value and when the file's value was unusable."""

    column: str
    raw: str  # the file's value as text (NULL when blank)
    value: str  # the canonical value
    failed: str | None = None  # SQL over the normalized row: value given but unusable
    reason: str = ""
    also: dict[str, str] = field(default_factory=dict)  # further output columns
    per_value: tuple[str, ...] = ()  # value depends only on these staged columns: computed once per distinct value
    notes: dict[str, str] = field(default_factory=dict)  # note -> SQL over the staged row: what to count (NULL: nothing)
    placeholders: tuple[str, ...] = ()  # spellings set to NULL in the staged rows before typing
    fast: str | None = None  # a column of ``pre`` set on the values a fast path typed (they need no other check)
    pre: dict[str, str] = field(default_factory=dict)  # name -> SQL over the staged row, computed before the rest
    # helper columns over the cleaned row (placeholders NULL), in layers each over the one before: parts the
    # value repeats, computed (and parsed by DuckDB) once
    steps: tuple[dict[str, str], ...] = ()


def _is_numeric(duck_type: str) -> bool:
    return duck_type.upper().startswith(_NUMERIC)


def _is_text(duck_type: str) -> bool:
    return duck_type.upper() in ("VARCHAR", "BLOB") or duck_type.upper().startswith("VARCHAR")


def _is_decimal(duck_type: str) -> bool:
    return duck_type.upper() in ("FLOAT", "DOUBLE", "REAL") or duck_type.upper().startswith("DECIMAL")


def _decimal_id(column: str, duck_type: str, raw: str) -> Typed:
    """An id held as a decimal number (pandas writes an id column with gaps as 1.0, 2.0): a whole number is the
    id "1" the other files write, counted (``decimal_id``); any other value is unusable."""
    src = ident(column)
    whole = f"isfinite(CAST({src} AS DOUBLE)) AND {src} = trunc({src})"
    value = f"CASE WHEN {whole} THEN CAST(TRY_CAST({src} AS HUGEINT) AS VARCHAR) END"
    return Typed(column, raw, value, f"(raw__{column} IS NOT NULL AND {src} IS NULL)", "not a whole-number id",
                 notes={NOTE_DECIMAL_ID: f"CASE WHEN {whole} THEN {lit(duck_type)} END"})


def _offset_sql(s: str) -> str:
    """The UTC offset a trimmed timestamp text ``s`` ends with ("+01:00", "-0500", "Z", "UTC"), NULL for none
    (dates, wall-clock times). String functions, no regular expression: it runs on every timestamp."""
    r6, r5 = f"right({s}, 6)", f"right({s}, 5)"
    timed = f"strpos({s}, ':') BETWEEN 1 AND length({s}) - 6"  # a time of day before the offset
    return (f"CASE WHEN {s} IS NULL OR strpos({s}, ':') = 0 THEN NULL "
            f"WHEN substr({r6}, 1, 1) IN ('+', '-') AND substr({r6}, 4, 1) = ':' AND {timed} THEN {r6} "
            f"WHEN substr({r5}, 1, 1) IN ('+', '-') AND TRY_CAST(substr({r5}, 2) AS USMALLINT) IS NOT NULL "
            f"AND {timed} THEN {r5} "
            f"WHEN upper(right({s}, 1)) = 'Z' THEN 'Z' "
            f"WHEN upper(right({s}, 3)) IN ('UTC', 'GMT') THEN upper(right({s}, 3)) END")


def typed_columns(table: str, present: dict[str, str], source: Source, config: Config,
                  salt: str, fast: dict[str, tuple[FastShape, ...]] | None = None,
                  zones: dict[str, ZoneSpan] | None = None) -> list[Typed]:
    """SQL for each canonical column of ``table`` found in the staged select (name -> type).

    ``fast``: text timestamp columns -> the shapes most of their values are written in
    (:func:`~leadjourney.ingest.timestamps.fast_formats`): a value of one is typed by one strptime, and only
    the others by the general parser. ``zones``: timestamp columns -> the offsets of the source's zone over
    their values (:func:`~leadjourney.ingest.timestamps.zone_spans`): wall-clock times are converted by
    looking their offset up, not one by one."""
    tz = source_timezone(source, config)
    zones = zones or {}
    out: list[Typed] = []
    for column, kind in KINDS[table].items():
        if column not in present:
            continue
        duck_type = present[column]
        src = ident(column)
        is_text = _is_text(duck_type)
        spellings = config.placeholders_for(column) if is_text and kind != "id" else ()
        raw = blank_to_null(src)  # placeholders are NULL by now (see ``Typed.placeholders``)
        notes = {"placeholder": f"CASE WHEN {placeholder_sql(src, spellings)} THEN trim({src}) END"} if spellings else {}
        trimmed = f"trim(CAST({src} AS VARCHAR))"
        pre: dict[str, str] = {}
        if kind == "timestamp" and is_text:  # the notes read the text as written, trimmed once
            pre = {f"__trim|{column}": trimmed}
            trimmed = ident(f"__trim|{column}")
            notes["utc_offset"] = _offset_sql(trimmed)
            notes[NOTE_EPOCH_UNIT] = text_epoch_unit_sql(trimmed)  # "1714567890" read as a time: warned
        unusable = f"(raw__{column} IS NOT NULL AND {ident(column)} IS NULL)"
        if kind == "id" and _is_decimal(duck_type):
            out.append(_decimal_id(column, duck_type, raw))
        elif kind == "id" or column in _UNSCRUBBED:
            out.append(Typed(column, raw, raw))
        elif kind == "text":  # e-mails and phone numbers typed into free text are masked
            out.append(Typed(column, raw, scrub_text_sql(raw)))
        elif kind == "timestamp":
            if is_text:
                formats = (fast or {}).get(column)
                name = f"__fast|{column}"
                typed_fast = ident(name)
                parsed = timestamp_steps(raw, tz, f"__ts|{column}", day_first=source.day_first,
                                         skip=f"{typed_fast} IS NOT NULL" if formats else None)
                value, is_date = parsed.timestamp, parsed.is_date
                if formats:  # one strptime for most values; the general parser for the rest
                    span = zones.get(column)
                    # the fast path reads the text as written: cleaning never changes a value it typed
                    pre[name] = fast_timestamp_sql(f"trim(CAST({src} AS VARCHAR))", formats, tz, localize=span is None)
                    utc = fast_local_sql(typed_fast, trimmed, formats, tz, span) if span else typed_fast
                    value = f"(CASE WHEN {typed_fast} IS NOT NULL THEN {utc} ELSE {value} END)"
                    is_date = f"(CASE WHEN {typed_fast} IS NOT NULL THEN {fast_is_date(formats)} ELSE {is_date} END)"
                    raw = f"(CASE WHEN {typed_fast} IS NULL THEN {raw} END)"  # only a value not typed may be shown
                    notes = {note: fast_offset_sql(trimmed, formats, expr) if note == "utc_offset"
                             else f"(CASE WHEN {typed_fast} IS NULL THEN {expr} END)" for note, expr in notes.items()}
                out.append(Typed(column, raw, value, unusable, "unparseable timestamp",
                                 {f"{column}_is_date": is_date}, notes=notes, placeholders=spellings,
                                 fast=name if formats else None, pre=pre, steps=parsed.steps))
                continue
            else:
                typed = typed_timestamp_sql(src, duck_type, tz, zones.get(column))
                if typed is None:
                    raise BadFileError(
                        f"{source.path}: column {column!r} holds {duck_type} values, expected timestamps, "
                        f"dates, text or epoch numbers"
                    )
                value, is_date = typed
                if is_epoch_type(duck_type):
                    notes[NOTE_EPOCH_UNIT] = epoch_unit_sql(src)
                else:  # a timestamp or date is always a point in time: NULL only when blank, no text copy kept
                    out.append(Typed(column, value, value, also={f"{column}_is_date": is_date}, notes=notes))
                    continue
            reason = "not an epoch time in s, ms, µs or ns after 1973" if is_epoch_type(duck_type) else (
                "unparseable timestamp")
            out.append(Typed(column, raw, value, unusable, reason, {f"{column}_is_date": is_date}))
        elif kind == "integer":
            if _is_numeric(duck_type):
                value = f"TRY_CAST(round({src}) AS INTEGER)"
            else:
                value = f"TRY_CAST(round(TRY_CAST(regexp_replace({raw}, '[,\\s]', '', 'g') AS DOUBLE)) AS INTEGER)"
            out.append(Typed(column, raw, f"CASE WHEN {value} >= 0 THEN {value} END", unusable, "not a whole number"))
        elif kind == "money":
            if _is_numeric(duck_type):
                value = f"CAST({src} AS DOUBLE)"
            else:
                stripped = f"regexp_replace({raw}, '^[^0-9.+-]+|[^0-9.]+$', '', 'g')"
                value = f"TRY_CAST(replace({stripped}, ',', '') AS DOUBLE)"
            out.append(Typed(column, raw, value, unusable, "not an amount"))
        elif kind == "boolean":
            if duck_type.upper() == "BOOLEAN":
                value = src
            elif _is_numeric(duck_type):
                value = f"({src} <> 0)"
            else:
                won = ", ".join(lit(k) for k in sorted(won_keys(config))) or "NULL"
                lost = ", ".join(lit(k) for k in sorted(lost_keys(config))) or "NULL"
                key = norm_key(raw)
                value = f"CASE WHEN {key} IN ({won}) THEN TRUE WHEN {key} IN ({lost}) THEN FALSE END"
            out.append(Typed(column, raw, value, unusable, "not true/false"))
        elif kind == "channel":
            value = alias_case(raw, config.channel_aliases(), f"lower({raw})")
            also = {"source_raw": raw} if table == "leads" else {}
            out.append(Typed(column, raw, value, also=also, per_value=(column,)))
        elif kind == "stage":
            value = alias_case(raw, config.stage_aliases(), raw)
            also = {"stage_raw": raw} if table == "stage_events" else {}
            out.append(Typed(column, raw, value, also=also, per_value=(column,)))
        elif kind == "status":
            key = norm_key(raw)
            # [outcomes] words (not true/false spellings): a status "Won" converted, "Lost" disqualified
            won = ", ".join(lit(k) for k in sorted(won_keys(config) - BOOLEAN_WORDS)) or "NULL"
            lost = ", ".join(lit(k) for k in sorted(lost_keys(config) - BOOLEAN_WORDS)) or "NULL"
            value = (f"CASE WHEN {raw} IS NULL THEN NULL "
                     f"WHEN {key} IN ({lost}) THEN 'disqualified' "
                     f"WHEN regexp_matches({key}, '{_DISQUALIFIED}') THEN 'disqualified' "
                     f"WHEN {key} LIKE '%converted%' OR {key} IN ('customer', 'closedwon', {won}) THEN 'converted' "
                     f"ELSE 'open' END")
            out.append(Typed(column, raw, value, per_value=(column,)))
        elif kind == "kind":
            out.append(Typed(column, raw, f"lower(regexp_replace({raw}, '[^A-Za-z0-9]+', '_', 'g'))",
                             per_value=(column,)))
        elif kind == "actor":
            low = f"lower({raw})"
            value = (f"CASE WHEN {low} IN ('human', 'sales', 'rep', 'manual', 'person') THEN 'human' "
                     f"WHEN {low} IN ('automated', 'automation', 'system', 'bot', 'workflow') THEN 'automated' "
                     f"WHEN {raw} IS NULL THEN {_actor_from_kind(present)} END")
            deps = ("actor", "kind") if "kind" in present else ("actor",)
            out.append(Typed(column, raw, value, unusable, "actor is neither human nor automated", per_value=deps))
        elif kind == "email":
            clean = f"lower({raw})"
            also = {"email_hash": f"sha256({lit(salt)} || {clean})"}
            out.append(Typed(column, raw, clean if config.keep_emails else "NULL", also=also))
        elif kind == "email_hash":
            if "email" in present:  # the address itself wins: hashed above
                continue
            clean = f"lower({raw})"
            out.append(Typed(column, raw, f"CASE WHEN regexp_full_match({clean}, '[0-9a-f]{{64}}') THEN {clean} END",
                             unusable, "not a SHA-256 hex digest (the salted e-mail hash)"))
        else:  # pragma: no cover - KINDS and this function are kept in step by tests
            raise AssertionError(kind)
        if notes:
            out[-1] = replace(out[-1], notes=notes, placeholders=spellings)
    if table == "touchpoints" and "actor" not in present:
        out.append(Typed("actor", "NULL", _actor_from_kind(present), per_value=("kind",) if "kind" in present else ()))
    return out


def source_timezone(source: Source, config: Config) -> str:
    """The zone a source's wall-clock times are read in."""
    return source.timezone or config.timezone


def _actor_from_kind(present: dict[str, str]) -> str:
    """Who acted, when the file does not say: people make calls, meetings and demos."""
    if "kind" not in present:
        return "NULL"
    kind = f"lower(regexp_replace({blank_to_null('kind')}, '[^A-Za-z0-9]+', '_', 'g'))"
    humans = ", ".join(lit(k) for k in HUMAN_KINDS)
    return f"CASE WHEN {kind} IN ({humans}) THEN 'human' WHEN {kind} IS NOT NULL THEN 'automated' END"
