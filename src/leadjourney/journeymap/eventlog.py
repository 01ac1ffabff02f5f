"""The stage and touchpoint log as an event log for process-mining tools (PM4Py, Disco, Celonis).

One case per person (``person_id``); its events are the stage entries (activity
``Entered <stage>``) and the touchpoints (activity = the touchpoint kind) of the
selected people, up to the as-of date, in UTC. Undated stage entries cannot be placed
in time and are left out.

* CSV: ``case_id, activity, timestamp, lifecycle, resource, channel, actor, event_type``,
  written by the engine (DuckDB ``COPY``), unsorted: the tools order by case and time; text that
  a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first) prefixed with ``'``.
* XES (IEEE 1849-2016): ``log > trace > event`` with ``concept:name``,
  ``time:timestamp``, ``lifecycle:transition`` and, for human touchpoints, ``org:resource``
  (the person's owner, pseudonymized as ``owner-`` and 8 hex digits of its MD5, so reps'
  names stay in the workspace while handovers remain visible), events in time order. Each trace's XML is built in the engine, a
  batch of people at a time, and streamed to the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from leadjourney.analysis.journeys import Journeys
from leadjourney.engine import fetch, fetch_rows, fetch_value
from leadjourney.errors import OptionError
from leadjourney.escape import csv_text
from leadjourney.privacy import owner_pseudonym, pseudonym_salt

FORMATS = ("csv", "xes")
PEOPLE_PER_BATCH = 25_000  # XES traces built per engine query: bounds memory
_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"  # not allowed in XML 1.0

XES_HEADER = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">
<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
<global scope="trace"><string key="concept:name" value="__INVALID__"/></global>
<global scope="event"><string key="concept:name" value="__INVALID__"/><date key="time:timestamp" \
value="1970-01-01T00:00:00.000+00:00"/><string key="lifecycle:transition" value="complete"/></global>
<classifier name="Activity" keys="concept:name"/>
<string key="concept:name" value="leadjourney lead journeys"/>
"""
XES_FOOTER = "</log>\n"


@dataclass(frozen=True)
class EventLogExport:
    """What :func:`export_event_log` wrote."""

    path: Path
    format: str
    cases: int  # people with at least one event
    events: int
    stage_events: int
    touchpoints: int


ATTRIBUTES = ("activity", "resource", "channel", "actor", "event_type")  # every event column but case and time


def event_log(journeys: Journeys, as_of: datetime | None = None) -> ir.Table:
    """case_id, at (TIMESTAMP), rank (0 stage, 1 touchpoint), activity, resource, channel, actor,
    event_type: one row per event of the selected people up to ``as_of``, in no particular order."""
    as_of = as_of or journeys.as_of()
    entries = journeys.entries()
    entries = entries.filter(entries.entered_at.notnull() & (entries.entered_at <= ibis.timestamp(as_of)))
    none = ibis.null("string")
    stages = entries.select(
        case_id=entries.person_id, at=entries.entered_at, rank=ibis.literal(0, "int8"),
        activity="Entered " + entries.stage, resource=none, channel=none, actor=none,
        event_type=ibis.literal("stage"),
    )
    touches = journeys.touchpoints(as_of)  # under person_key: the person's id from people()
    touches = touches.join(journeys.people().select("person_key", "person_id"), "person_key")
    touches = touches.select(
        case_id=touches.person_id, at=touches.occurred_at, rank=ibis.literal(1, "int8"),
        activity=touches.kind.fill_null("unknown"), channel=touches.channel, actor=touches.actor,
        event_type=ibis.literal("touchpoint"),
    )
    # the resource of a human touch is the person's owner (only human touches pay for the join)
    leads = journeys.backend.table("leads")
    owners = leads.filter(leads.lead_id == leads.person_id).select(
        owner_of="person_id", owner=owner_pseudonym(leads.owner, pseudonym_salt(journeys.backend)))
    human = touches.filter(touches.actor == "human")
    human = human.left_join(owners, human.case_id == owners.owner_of).select(
        "case_id", "at", "rank", "activity", resource="owner", channel="channel", actor="actor", event_type="event_type"
    )
    other = touches.filter((touches.actor != "human").fill_null(True)).mutate(resource=none)
    columns = ["case_id", "at", "rank", *ATTRIBUTES]
    return stages.select(*columns).union(human.select(*columns)).union(other.select(*columns))


def check_format(fmt: str) -> str:
    """``fmt`` when it is an event log format, else an :class:`OptionError` naming the formats."""
    if fmt not in FORMATS:
        raise OptionError(f"format: expected one of {', '.join(FORMATS)}, found {fmt!r}")
    return fmt


def export_event_log(journeys: Journeys, path: Path | str, fmt: str = "csv",
                     as_of: datetime | None = None, people_per_batch: int = PEOPLE_PER_BATCH) -> EventLogExport:
    """Write the selected people's event log as CSV or XES; returns where and how much. XES is built
    ``people_per_batch`` traces per engine query (bounded memory)."""
    check_format(fmt)
    path = Path(path)
    events = event_log(journeys, as_of)
    if fmt == "csv":
        return _csv(journeys, events, path)
    return _xes(journeys, events, path, people_per_batch)


def _csv(journeys: Journeys, events: ir.Table, path: Path) -> EventLogExport:
    """One row per event; not sorted (process-mining tools order by case and time on import). Text from
    data that a spreadsheet would run as a formula is prefixed with ``'`` (:func:`csv_text`)."""
    rows = events.select(
        case_id=csv_text(events.case_id), activity=csv_text(events.activity),
        timestamp=events.at.strftime("%Y-%m-%dT%H:%M:%S.%gZ"), lifecycle=ibis.literal("complete"),
        resource=csv_text(events.resource), channel=csv_text(events.channel), actor=csv_text(events.actor),
        event_type=events.event_type,
    )
    journeys.backend.to_csv(rows, path)
    return _counted(journeys, events, path, "csv")


def _counted(journeys: Journeys, events: ir.Table, path: Path, fmt: str) -> EventLogExport:
    row = fetch_rows(events.aggregate(
        cases=events.case_id.nunique(), events=events.count(), stages=(events.rank == 0).sum()
    ))[0]
    n, stages = int(row["events"]), int(row["stages"] or 0)
    return EventLogExport(path, fmt, int(row["cases"]), n, stages, n - stages)


def _xml(value: ir.StringValue) -> ir.StringValue:
    """An XML-escaped attribute value (control characters dropped)."""
    value = value.re_replace(_CONTROL, "")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&apos;")):
        value = value.replace(char, entity)
    return value


def _attribute(key: str, value: ir.StringValue) -> ir.StringValue:
    """``<string key=... value=.../>``, or the empty string when the value is NULL."""
    return ibis.ifelse(value.isnull(), "", f'<string key="{key}" value="' + _xml(value) + '"/>')


def _xes(journeys: Journeys, events: ir.Table, path: Path, people_per_batch: int) -> EventLogExport:
    # each distinct attribute combination's XML is built (and escaped) once, in a small table
    frags = events.select(*ATTRIBUTES).distinct()
    frags = journeys.materialize(frags.mutate(
        frag=ibis.row_number(),
        opening="<event>" + _attribute("concept:name", frags.activity) + '<date key="time:timestamp" value="',
        closing='"/><string key="lifecycle:transition" value="complete"/>' + _attribute("org:resource", frags.resource)
        + _attribute("channel", frags.channel) + _attribute("actor", frags.actor)
        + _attribute("event_type", frags.event_type) + "</event>",
    ))
    batches = _batches(journeys, people_per_batch)
    keyed = events.join(frags, [events[c].identical_to(frags[c]) for c in ATTRIBUTES])
    narrow = journeys.materialize(keyed.select(
        "case_id", "at", "rank", "frag", batch=(keyed.case_id.hash() % batches).abs().cast("int32"),
    ))
    cases = n = stages = 0
    with path.open("wb") as out:
        out.write(XES_HEADER.encode())
        for b in range(batches):
            part = narrow.filter(narrow.batch == b).join(frags.select("frag", "opening", "closing"), "frag")
            xml = part.opening + part.at.strftime("%Y-%m-%dT%H:%M:%S.%g+00:00") + part.closing
            traces = part.group_by("case_id").aggregate(
                body=xml.group_concat("", order_by=[part.at, part.rank, part.frag]),
                n=part.count(), stages=(part.rank == 0).sum(),
            )
            traces = traces.order_by("case_id").select(
                "n", "stages",
                text="<trace>" + _attribute("concept:name", traces.case_id) + traces.body + "</trace>\n",
            )
            table = fetch(traces)  # one batch of people at a time: bounded memory
            cases += table.num_rows
            n += int(pc.sum(table.column("n")).as_py() or 0)
            stages += int(pc.sum(table.column("stages")).as_py() or 0)
            for chunk in table.column("text").chunks:
                _write_strings(out, chunk)
            del table
        out.write(XES_FOOTER.encode())
    return EventLogExport(path, "xes", cases, n, stages, n - stages)


def _batches(journeys: Journeys, people_per_batch: int) -> int:
    people = int(fetch_value(journeys.people().count()))
    return max(1, math.ceil(people / people_per_batch))


def _write_strings(out: BinaryIO, column: pa.Array) -> None:
    """Write a string column's values back to back, straight from its Arrow data buffer."""
    if len(column) == 0:
        return
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.large_string())  # e.g. string views: into offsets + data
    width = pa.int64() if pa.types.is_large_string(column.type) else pa.int32()
    _, offsets, data = column.buffers()
    assert offsets is not None and data is not None
    ends = pa.Array.from_buffers(width, len(column) + 1, [None, offsets], offset=column.offset)
    out.write(memoryview(data)[ends[0].as_py() : ends[-1].as_py()])
