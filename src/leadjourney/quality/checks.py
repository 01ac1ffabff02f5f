"""The data-quality checks, each an Ibis expression over the canonical tables.

A check declares what it finds and why it matters; :func:`leadjourney.quality.run_quality`
does the counting. Each ``find`` returns a table with one column ``id``: the
distinct ids (lead, opportunity, or file:row) the check flags. A check of ``entity``
"values" reads what ingest counted (``ingest_notes``): its ``find`` returns one row per
file, column and value with ``n`` (the check's count is their sum) and the other columns
of :data:`DETAIL_COLUMNS`, all listed in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from leadjourney import schema
from leadjourney.config import Config
from leadjourney.ingest.identity import DERIVED_ORIGIN

HIGH, MEDIUM, LOW = "high", "medium", "low"
DETAIL_COLUMNS = ("file", "table", "column", "value", "n")  # rows of a "values" check


@dataclass(frozen=True)
class Tables:
    """The canonical tables as Ibis expressions, and what a check needs besides."""

    leads: ir.Table
    stage_events: ir.Table
    touchpoints: ir.Table
    opportunities: ir.Table
    quarantine: ir.Table
    config: Config
    now: datetime
    ingest_notes: ir.Table | None = None  # None: a workspace not ingested since the table was added

    def notes(self, note: str) -> ir.Table:
        """What ingest counted for ``note``: file, table, column, value, n (summed over the file's loads)."""
        if self.ingest_notes is None:
            n = self.leads
            return n.filter(ibis.literal(False)).select(
                file=n.lead_id, table=n.lead_id, column=n.lead_id, value=n.lead_id, n=ibis.literal(0, "int64"))
        x = self.ingest_notes.filter(lambda s: s.note == note)
        return x.group_by(file=x.source_file, table=x.target_table, column=x.column_name, value=x.value).aggregate(
            n=x.n.sum().cast("int64"))

    def stage_index(self, column: ir.StringColumn) -> ir.IntegerColumn:
        """Position of a stage in the configured order; NULL for unknown stages."""
        pairs = [(name, i) for i, name in enumerate(self.config.stage_names)]
        return column.cases(*pairs, else_=ibis.null("int32"))

    def known_events(self) -> ir.Table:
        """Events of configured stages of loaded leads (orphans have their own check)."""
        e = self.stage_events.semi_join(self.leads.select("lead_id"), "lead_id")
        return e.filter(e.stage.isin(self.config.stage_names)).mutate(idx=self.stage_index(e.stage))


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    severity: str
    entity: str  # what the ids are: "leads", "opportunities", "touchpoints" or "rows"
    impact: str  # one sentence: what this does to the analysis
    find: Callable[[Tables], ir.Table]


def _ids(expr: ir.Column) -> ir.Table:
    return expr.name("id").as_table().distinct()


def duplicate_people(t: Tables) -> ir.Table:
    return _ids(t.leads.filter(t.leads.duplicate_of.notnull()).lead_id)


def exact_duplicate_rows(t: Tables) -> ir.Table:
    q = t.quarantine.filter(t.quarantine.reason == "exact duplicate row")
    return _ids(q.source_file.concat(":", q.source_row.cast("string")))


def missing_stage_timestamps(t: Tables) -> ir.Table:
    e = t.known_events()
    return _ids(e.filter(e.entered_at.isnull()).lead_id)


def skipped_stages(t: Tables) -> ir.Table:
    required = [i for i, s in enumerate(t.config.stages) if not s.optional]
    e = t.known_events().filter(lambda s: s.idx.isin(required))
    per_lead = e.group_by("lead_id").aggregate(top=e.idx.max(), reached=e.idx.nunique())
    # required stages at or below the furthest one reached
    expected = ibis.cases(*[(per_lead.top == i, sum(1 for r in required if r <= i)) for i in required])
    return _ids(per_lead.filter(per_lead.reached < expected).lead_id)


def out_of_order(t: Tables) -> ir.Table:
    e = t.known_events().filter(lambda s: s.origin != DERIVED_ORIGIN)
    j = e.join(t.leads.select("lead_id", "created_at", "created_at_is_date"), "lead_id")
    either_date = j.entered_at_is_date | j.created_at_is_date
    before = ibis.ifelse(
        either_date,
        j.entered_at.date() < j.created_at.date(),
        j.entered_at < j.created_at - ibis.interval(minutes=1),
    )
    return _ids(j.filter(before).lead_id)


def stage_regressions(t: Tables) -> ir.Table:
    # derived first-stage entries are not CRM-recorded moves; a stage before creation is out_of_order's
    e = t.known_events().filter(lambda s: s.entered_at.notnull() & (s.origin != DERIVED_ORIGIN))
    # events before the lead's creation are out_of_order's finding, not a move back
    created = t.leads.select("lead_id", "created_at")
    e = e.join(created, "lead_id").filter(lambda s: s.entered_at >= s.created_at - ibis.interval(minutes=1))
    e = e.drop("created_at")
    window = ibis.window(group_by=e.lead_id, order_by=[e.entered_at, e.idx], preceding=None, following=0)
    seen = e.mutate(top=e.idx.max().over(window))
    return _ids(seen.filter(seen.idx < seen.top).lead_id)


def leads_without_source(t: Tables) -> ir.Table:
    return _ids(t.leads.filter(t.leads.source.isnull()).lead_id)


def unknown_stages(t: Tables) -> ir.Table:
    e = t.stage_events.semi_join(t.leads.select("lead_id"), "lead_id")
    return _ids(e.filter(~e.stage.isin(t.config.stage_names)).lead_id)


def unknown_channels(t: Tables) -> ir.Table:
    leads = t.leads
    return _ids(leads.filter(leads.source.notnull() & ~leads.source.isin(list(t.config.channels))).lead_id)


def future_dates(t: Tables) -> ir.Table:
    limit = ibis.literal(t.now + timedelta(hours=t.config.future_tolerance_hours))
    parts = [
        t.leads.filter(t.leads.created_at > limit).select(id=t.leads.lead_id),
        t.stage_events.filter(t.stage_events.entered_at > limit).select(id=t.stage_events.lead_id),
        t.touchpoints.filter(t.touchpoints.occurred_at > limit).select(id=t.touchpoints.lead_id),
    ]
    o = t.opportunities
    parts.append(o.filter((o.created_at > limit) | (o.closed_at > limit)).select(id=o.lead_id.fill_null(o.opportunity_id)))
    return ibis.union(*[p.cast({"id": "string"}) for p in parts], distinct=True)


def orphan_opportunities(t: Tables) -> ir.Table:
    o = t.opportunities
    known = t.leads.select("lead_id")
    orphans = o.anti_join(known, o.lead_id == known.lead_id)
    return _ids(orphans.opportunity_id)


def orphan_touchpoints(t: Tables) -> ir.Table:
    tp = t.touchpoints
    return _ids(tp.anti_join(t.leads.select("lead_id"), "lead_id").lead_id)


def orphan_stage_events(t: Tables) -> ir.Table:
    e = t.stage_events
    return _ids(e.anti_join(t.leads.select("lead_id"), "lead_id").lead_id)


def close_dates_without_outcome(t: Tables) -> ir.Table:
    o = t.opportunities
    undecided = o.filter(o.closed_at.notnull() & o.is_won.isnull()).opportunity_id
    # Salesforce: close dates of deals not closed are forecasts, dropped; a file where none closed is mis-mapped
    decided = o.group_by("origin").aggregate(closed=o.is_won.notnull().sum())
    if t.ingest_notes is None:
        return _ids(undecided)
    n = t.ingest_notes
    forecasts = n.filter(n.note == schema.NOTE_FORECAST_CLOSE_DATE).select("origin").distinct()
    none_closed = decided.filter(decided.closed == 0).semi_join(forecasts, "origin")
    from_files = o.semi_join(none_closed, "origin").opportunity_id
    return ibis.union(*[_ids(ids).cast({"id": "string"}) for ids in (undecided, from_files)], distinct=True)


def placeholder_values(t: Tables) -> ir.Table:
    n = t.notes(schema.NOTE_PLACEHOLDER)
    return n.mutate(id=n.file.concat(": ", n.table, ".", n.column, " = '", n.value, "'"))


def mixed_utc_offsets(t: Tables) -> ir.Table:
    n = t.notes(schema.NOTE_UTC_OFFSET)
    mixed = n.group_by(["file", "table", "column"]).aggregate(offsets=n.value.nunique())
    n = n.semi_join(mixed.filter(mixed.offsets > 1), ["file", "table", "column"])
    return n.mutate(id=n.file.concat(": ", n.table, ".", n.column, " ", n.value))


def duplicate_columns(t: Tables) -> ir.Table:
    n = t.notes(schema.NOTE_DUPLICATE_COLUMN)
    return n.mutate(id=n.file.concat(": '", n.column, "' repeated (the repeat named '", n.value, "')"))


def epoch_numbers(t: Tables) -> ir.Table:
    n = t.notes(schema.NOTE_EPOCH_UNIT)
    return n.mutate(id=n.file.concat(": ", n.table, ".", n.column, " as epoch ", n.value))


def decimal_ids(t: Tables) -> ir.Table:
    n = t.notes(schema.NOTE_DECIMAL_ID)
    return n.mutate(id=n.file.concat(": ", n.table, ".", n.column, " (", n.value, ")"))


def created_from_stage_event(t: Tables) -> ir.Table:
    return _ids(t.leads.filter(t.leads.created_at_from == schema.CREATED_FROM_STAGE_EVENT).lead_id)


def undated_leads(t: Tables) -> ir.Table:
    return _ids(t.leads.filter(t.leads.created_at.isnull()).lead_id)


def unqualified_in_funnel(t: Tables) -> ir.Table:
    e = t.known_events().filter(lambda s: s.idx > 0)
    excluded = t.leads.filter(t.leads.excluded_as.notnull()).select("lead_id")
    return _ids(excluded.semi_join(e, "lead_id").lead_id)


CHECKS: tuple[Check, ...] = (
    Check("duplicate_people", "Same person loaded more than once", MEDIUM, "leads",
          "Duplicates inflate lead counts and deflate conversion rates; the dedupe policy decides how they are counted.",
          duplicate_people),
    Check("exact_duplicate_rows", "Identical rows in a file", LOW, "rows",
          "Each was loaded once; many of them suggest an export that was appended twice.",
          exact_duplicate_rows),
    Check("missing_stage_timestamps", "Stage reached but its date is missing", HIGH, "leads",
          "These leads count as having reached the stage, but their time-in-stage cannot be measured.",
          missing_stage_timestamps),
    Check("skipped_stages", "Stages skipped (e.g. SQL without MQL)", HIGH, "leads",
          "The funnel counts them as passing the skipped stage; time-in-stage around it is unknown.",
          skipped_stages),
    Check("out_of_order", "Stage entered before the lead was created", HIGH, "leads",
          "Negative durations would bias time-in-stage; these transitions are excluded from timing.",
          out_of_order),
    Check("stage_regressions", "Lead moved back to an earlier stage", MEDIUM, "leads",
          "Recycled leads re-enter the funnel; the funnel counts each stage once, at its first entry.",
          stage_regressions),
    Check("leads_without_source", "Lead source missing", MEDIUM, "leads",
          "These leads appear as 'unknown' in source mix and conversion by source.",
          leads_without_source),
    Check("unknown_stages", "Stage names not in the configured lifecycle", MEDIUM, "leads",
          "These events are ignored by the funnel; add the spelling to a stage's aliases if it is one.",
          unknown_stages),
    Check("unknown_channels", "Lead sources not in the channel list", MEDIUM, "leads",
          "They form their own small channels in source analysis; map the spelling under [channels].",
          unknown_channels),
    Check("future_dates", "Dates in the future", HIGH, "leads",
          "Probably typos; they distort period filters and durations.",
          future_dates),
    Check("orphan_opportunities", "Opportunities without a known lead", MEDIUM, "opportunities",
          "Their revenue cannot be traced to a lead source or journey.",
          orphan_opportunities),
    Check("orphan_touchpoints", "Touchpoints of unknown leads", LOW, "leads",
          "These touchpoints are left out of the touchpoint inventory.",
          orphan_touchpoints),
    Check("orphan_stage_events", "Stage events of unknown leads", LOW, "leads",
          "These events are left out of the funnel.",
          orphan_stage_events),
    Check("unqualified_in_funnel", "Unqualified contacts (students, candidates, vendors) past the first stage", MEDIUM,
          "leads",
          "They are excluded from the funnel; their advancing suggests qualification rules let them through.",
          unqualified_in_funnel),
    Check("close_dates_without_outcome", "Close dates present but no deal closed", HIGH, "opportunities",
          "These deals count as open (no win, no loss), so win rates and Opportunity->Customer miss them; "
          "map the stage or won column, or add its spellings to [outcomes] won_values / lost_values.",
          close_dates_without_outcome),
    Check("placeholder_values", "Placeholder values treated as missing", LOW, "values",
          "Stored as missing (empty), so 'unknown' and a blank are one missing group, not a source or segment "
          "of their own; edit [missing] placeholders if a spelling is a real value.",
          placeholder_values),
    Check("created_from_stage_event", "Created date taken from the earliest stage event", LOW, "leads",
          "The file gave no created date; the first recorded stage entry stands in for it in date filters and "
          "creation-period trends; their first-stage entry date counts as missing (no time in that stage).",
          created_from_stage_event),
    Check("undated_leads", "Leads without any created date", MEDIUM, "leads",
          "Counted in the whole-population funnel, but left out of every date range and creation-period trend.",
          undated_leads),
    Check("duplicate_columns", "Header repeated in a file", MEDIUM, "values",
          "Only the first column of that name is read; if the repeat holds the values you meant, rename one "
          "of them in the file (or map the repeat's name).",
          duplicate_columns),
    Check("epoch_numbers", "Numbers read as epoch timestamps", LOW, "values",
          "Read as UTC times in the unit their size tells (seconds, milliseconds, ...); numbers too small for "
          "any unit were quarantined. Check a few against the source system.",
          epoch_numbers),
    Check("decimal_ids", "Ids written as decimal numbers", LOW, "values",
          "Whole ones (1.0) were read as ids without the '.0' so they join across files; others were quarantined.",
          decimal_ids),
    Check("mixed_utc_offsets", "Mixed UTC offsets in one timestamp column", LOW, "values",
          "Informational: each value's own offset was applied (daylight saving shifts it by an hour), "
          "so times are correct in UTC.",
          mixed_utc_offsets),
)
