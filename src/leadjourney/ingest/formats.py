"""Source formats: how each export's columns become canonical columns.

Each format turns the raw file (registered in DuckDB as ``RAW``) into one or
more :class:`Staged` selects that yield canonical column names, still as the
file wrote them, plus the row number. Parsing and validation happen later,
the same way for every format (:mod:`leadjourney.ingest.normalize`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from leadjourney import schema
from leadjourney.config import Config, Source, normalize_key
from leadjourney.errors import BadFileError
from leadjourney.ingest.columns import KINDS, REQUIRED, is_personal_column
from leadjourney.ingest.outcomes import closed_sql, outcome_sql, won_stage
from leadjourney.ingest.personal import is_email_column, scrub_text_sql
from leadjourney.ingest.readers import ROW
from leadjourney.ingest.sql import alias_case, blank_to_null, ident, lit, norm_key

RAW = "raw_file"


@dataclass(frozen=True)
class Staged:
    """A select over ``RAW`` yielding rows for one canonical table."""

    table: str
    select: str
    notes: tuple[tuple[str, str, str], ...] = ()  # (note, column, condition over RAW): rows counted into ingest_notes


@dataclass(frozen=True)
class FileColumns:
    """The columns found in a file: name -> DuckDB type, in file order."""

    path: str
    types: dict[str, str]

    def find(self, candidates: Sequence[str]) -> str | None:
        """The first file column matching a candidate, ignoring case and punctuation."""
        by_key = {normalize_key(name): name for name in self.types}
        for candidate in candidates:
            if candidate in self.types:
                return candidate
            hit = by_key.get(normalize_key(candidate))
            if hit is not None:
                return hit
        return None

    def first(self, test: Callable[[str], bool]) -> str | None:
        """The first file column (in file order) whose name passes ``test``."""
        return next((name for name in self.types if name != ROW and test(name)), None)

    def missing(self, table: str, mapping: dict[str, str], needed: Sequence[str], hints: dict[str, str]) -> None:
        absent = [c for c in needed if c not in mapping]
        if absent:
            wanted = ", ".join(f"{c} (as {hints.get(c, repr(c))})" for c in absent)
            found = ", ".join(repr(n) for n in self.types if n != ROW)
            raise BadFileError(
                f"{self.path}: missing required column(s) for {table}: {wanted}; found columns: {found}"
            )


def _mapping(files: FileColumns, table: str, source: Source,
             builtin: dict[str, Sequence[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """canonical column -> file column, honouring [sources.columns] overrides; and hints for errors."""
    mapping: dict[str, str] = {}
    hints: dict[str, str] = {}
    for canonical in KINDS[table]:
        if canonical in source.columns:
            wanted: Sequence[str] = [source.columns[canonical]]
        else:
            wanted = builtin.get(canonical, [canonical])
        hints[canonical] = " or ".join(repr(w) for w in wanted)
        hit = files.find(wanted)
        if hit is None and canonical == "email" and canonical not in source.columns:
            hit = files.first(is_email_column)  # "E-Mail-Adresse", "Correo electrónico", ...
        if hit is not None:
            mapping[canonical] = hit
    return mapping, hints


def _extra(files: FileColumns, used: set[str]) -> str:
    """JSON of the unmapped columns: personal ones left out, e-mails and phones in the rest masked."""
    rest = [n for n in files.types if n != ROW and n not in used and not is_personal_column(n)]
    if not rest:
        return "NULL"
    fields = ", ".join(f"{lit(n)}, {scrub_text_sql(blank_to_null(ident(n)))}" for n in rest)
    return f"json_object({fields})"


def _select(mapping: dict[str, str], extra: str | None = None, where: str = "TRUE",
            overrides: dict[str, str] | None = None) -> str:
    cols = [f"{ident(ROW)}"]
    for canonical, column in mapping.items():
        expr = (overrides or {}).get(canonical, ident(column))
        cols.append(f"{expr} AS {ident(canonical)}")
    if extra is not None:
        cols.append(f"{extra} AS __extra")
    return f"SELECT {', '.join(cols)} FROM {RAW} WHERE {where}"


def canonical_table(files: FileColumns, source: Source, config: Config) -> list[Staged]:
    """csv/parquet: one canonical table, columns named as canonical or mapped in the config."""
    table = source.table or ""
    mapping, hints = _mapping(files, table, source, {})
    files.missing(table, mapping, REQUIRED[table], hints)
    extra = _extra(files, set(mapping.values())) if table == "leads" else None
    overrides: dict[str, str] = {}
    if table == "opportunities" and "is_won" not in mapping and "stage" in mapping:
        # the outcome is the stage's: won or lost per [outcomes], else open
        mapping["is_won"] = mapping["stage"]
        overrides["is_won"] = outcome_sql(ident(mapping["stage"]), config)
    return [Staged(table, _select(mapping, extra, overrides=overrides))]


HUBSPOT_LEADS: dict[str, Sequence[str]] = {
    "lead_id": ["Record ID", "Contact ID", "VID"],
    "created_at": ["Create Date", "Created Date"],
    "email": ["Email"],
    "source": ["Original Source", "Original Traffic Source", "Original Source Type"],
    "source_detail": ["Original Source Drill-Down 1", "Original Traffic Source Drill-Down 1"],
    "company": ["Company Name", "Associated Company", "Company"],
    "industry": ["Industry"],
    "employee_count": ["Number of Employees"],
    "country": ["Country/Region", "Country"],
    "job_title": ["Job Title"],
    "owner": ["Contact owner", "HubSpot Owner"],
    "status": ["Lead Status"],
    "disqualify_reason": ["Unqualified Reason", "Disqualification Reason"],
    "current_stage": ["Lifecycle Stage"],
}
_HUBSPOT_STAGE_COLUMN = [
    re.compile(r"^became an? (.+?) date$", re.IGNORECASE),
    re.compile(r"^date entered [\"“']?(.+?)\s*\([^)]*pipeline\)[\"”']?$", re.IGNORECASE),
]


def hubspot_contacts(files: FileColumns, source: Source, config: Config) -> list[Staged]:
    """HubSpot contacts export: contact columns plus one "Became a <stage> Date" column per stage."""
    mapping, hints = _mapping(files, "leads", source, HUBSPOT_LEADS)
    files.missing("leads", mapping, REQUIRED["leads"], hints)
    stage_columns: list[tuple[str, str]] = []
    for name in files.types:
        for pattern in _HUBSPOT_STAGE_COLUMN:
            match = pattern.match(name.strip())
            if match:
                stage_columns.append((name, match.group(1).strip().strip('"“”\'').strip()))
                break
    used = set(mapping.values()) | {c for c, _ in stage_columns}
    staged = [Staged("leads", _select(mapping, _extra(files, used)))]
    aliases = config.stage_aliases()
    current = mapping.get("current_stage")
    lead = ident(mapping["lead_id"])
    for column, label in stage_columns:
        canonical = aliases.get(normalize_key(label))
        blank = f"{blank_to_null(ident(column))} IS NULL"
        if canonical is not None and current is not None:
            # in this stage now but the date is blank: a missing stage timestamp, kept as such
            is_current = f"{alias_case(ident(current), aliases, 'NULL')} = {lit(canonical)}"
            where = f"NOT ({blank}) OR ({is_current})"
        else:
            where = f"NOT ({blank})"
        staged.append(Staged("stage_events", (
            f"SELECT {ident(ROW)}, {lead} AS lead_id, {lit(label)} AS stage, "
            f"{ident(column)} AS entered_at FROM {RAW} WHERE {where}"
        )))
    return staged


SALESFORCE_LEADS: dict[str, Sequence[str]] = {
    "lead_id": ["Lead ID", "Id"],
    "created_at": ["Create Date", "Created Date"],
    "email": ["Email"],
    "source": ["Lead Source"],
    "source_detail": ["Lead Source Detail", "Primary Campaign Source", "Campaign Name"],
    "company": ["Company / Account", "Company"],
    "industry": ["Industry"],
    "employee_count": ["No. of Employees", "Employees", "Number of Employees"],
    "country": ["Country", "Country Code"],
    "job_title": ["Title"],
    "owner": ["Lead Owner", "Owner"],
    "status": ["Lead Status", "Status"],
    "disqualify_reason": ["Unqualified Reason", "Disqualified Reason", "Reason Unqualified"],
    "current_stage": ["Lifecycle Stage", "Lead Stage"],
}


def salesforce_leads(files: FileColumns, source: Source, config: Config) -> list[Staged]:
    """Salesforce Leads report: Lead Status doubles as the stage where it names one."""
    mapping, hints = _mapping(files, "leads", source, SALESFORCE_LEADS)
    files.missing("leads", mapping, REQUIRED["leads"], hints)
    overrides: dict[str, str] = {}
    converted = files.find(["Converted"])
    status = mapping.get("status")
    if converted is not None and status is not None:
        truthy = f"lower(trim(CAST({ident(converted)} AS VARCHAR))) IN ('1', 'true', 'yes', 'y')"
        overrides["status"] = f"CASE WHEN {truthy} THEN 'Converted' ELSE {ident(status)} END"
    if "current_stage" not in mapping and status is not None:
        mapping["current_stage"] = status
        overrides["current_stage"] = alias_case(ident(status), config.stage_aliases(), "NULL")
    used = set(mapping.values()) | ({converted} if converted else set())
    return [Staged("leads", _select(mapping, _extra(files, used), overrides=overrides))]


SALESFORCE_HISTORY: dict[str, Sequence[str]] = {
    "lead_id": ["Lead ID", "Id"],
    "field": ["Field / Event", "Field/Event", "Field", "Event"],
    "new_value": ["New Value"],
    "edit_date": ["Edit Date", "Edited Date", "Date"],
}
_STAGE_FIELDS = ("leadstatus", "status", "lifecyclestage", "stage", "leadstage")


def salesforce_lead_history(files: FileColumns, source: Source, config: Config) -> list[Staged]:
    """Salesforce Lead History report: a stage event per status change into a configured stage.

    Rows that change another field, or change the status to a value that is not a
    stage (e.g. "Working - Contacted"), are history, not stage changes, and are skipped.
    "Created." rows enter the first stage.
    """
    found: dict[str, str] = {}
    hints: dict[str, str] = {}
    for key, candidates in SALESFORCE_HISTORY.items():
        wanted = [source.columns[key]] if key in source.columns else candidates
        hints[key] = " or ".join(repr(w) for w in wanted)
        hit = files.find(wanted)
        if hit is not None:
            found[key] = hit
    files.missing("stage_events", found, list(SALESFORCE_HISTORY), hints)
    aliases = config.stage_aliases()
    stage_fields = set(_STAGE_FIELDS)
    if "stage_field" in source.columns:
        stage_fields.add(normalize_key(source.columns["stage_field"]))
    field = norm_key(ident(found["field"]))
    new_stage = alias_case(ident(found["new_value"]), aliases, "NULL")
    fields_sql = ", ".join(lit(f) for f in sorted(stage_fields))
    stage = (
        f"CASE WHEN {field} = 'created' THEN {lit(config.stages[0].name)} "
        f"WHEN {field} IN ({fields_sql}) THEN {new_stage} END"
    )
    return [Staged("stage_events", (
        f"SELECT {ident(ROW)}, {ident(found['lead_id'])} AS lead_id, stage, "
        f"{ident(found['edit_date'])} AS entered_at "
        f"FROM (SELECT *, {stage} AS stage FROM {RAW}) WHERE stage IS NOT NULL"
    ))]


SALESFORCE_OPPORTUNITIES: dict[str, Sequence[str]] = {
    "opportunity_id": ["Opportunity ID", "Id"],
    "lead_id": ["Lead ID", "Converted Lead ID", "Converted Lead: Lead ID"],
    "created_at": ["Created Date", "Create Date"],
    "closed_at": ["Close Date"],
    "amount": ["Amount"],
    "currency": ["Opportunity Currency", "Currency", "Amount Currency"],
    "is_won": ["Won"],
    "stage": ["Stage"],
}


def salesforce_opportunities(files: FileColumns, source: Source, config: Config) -> list[Staged]:
    """Salesforce Opportunities report; also enters leads into the Opportunity and Customer stages.

    Salesforce's Close Date is a forecast until the deal closes, so it is kept
    only for closed deals ("Closed" column true, or a stage that is won, lost per
    [outcomes] or "Closed ..."); the dropped forecasts are counted (ingest_notes).
    """
    mapping, hints = _mapping(files, "opportunities", source, SALESFORCE_OPPORTUNITIES)
    files.missing("opportunities", mapping, REQUIRED["opportunities"], hints)
    overrides: dict[str, str] = {}
    stage = mapping.get("stage")
    closed_col = files.find(["Closed"])
    if closed_col is not None:
        closed = f"coalesce({outcome_sql(ident(closed_col), config)}, FALSE)"
    elif stage is not None:
        closed = f"coalesce({closed_sql(ident(stage), config)}, FALSE)"
    else:
        closed = "TRUE"
    notes: tuple[tuple[str, str, str], ...] = ()
    if "closed_at" in mapping:
        overrides["closed_at"] = f"CASE WHEN {closed} THEN {ident(mapping['closed_at'])} END"
        notes = ((schema.NOTE_FORECAST_CLOSE_DATE, "closed_at",
                  f"NOT {closed} AND {blank_to_null(ident(mapping['closed_at']))} IS NOT NULL"),)
    if "is_won" in mapping:
        overrides["is_won"] = f"CASE WHEN {closed} THEN {ident(mapping['is_won'])} END"  # open deals: unknown yet
    elif stage is not None:
        mapping["is_won"] = stage
        # closed in a stage that is neither won nor lost: the outcome is unknown, not a loss
        overrides["is_won"] = f"CASE WHEN {closed} THEN {outcome_sql(ident(stage), config)} END"
    staged = [Staged("opportunities", _select(mapping, overrides=overrides), notes)]
    aliases = config.stage_aliases()
    opp_stage, won_to = aliases.get("opportunity"), won_stage(config)
    lead = mapping.get("lead_id")
    if lead is None:
        return staged
    lead_sql = ident(lead)
    if opp_stage is not None and "created_at" in mapping:
        staged.append(Staged("stage_events", (
            f"SELECT {ident(ROW)}, {lead_sql} AS lead_id, {lit(opp_stage)} AS stage, "
            f"{ident(mapping['created_at'])} AS entered_at FROM {RAW} WHERE {blank_to_null(lead_sql)} IS NOT NULL"
        )))
    if won_to is not None and "closed_at" in mapping and "is_won" in mapping:
        won = overrides.get("is_won", ident(mapping["is_won"]))
        won_true = f"coalesce({outcome_sql(won, config)}, FALSE)"
        staged.append(Staged("stage_events", (
            f"SELECT {ident(ROW)}, {lead_sql} AS lead_id, {lit(won_to)} AS stage, "
            f"{overrides['closed_at']} AS entered_at FROM {RAW} "
            f"WHERE {blank_to_null(lead_sql)} IS NOT NULL AND {won_true}"
        )))
    return staged


FORMATS: dict[str, Callable[[FileColumns, Source, Config], list[Staged]]] = {
    "csv": canonical_table,
    "parquet": canonical_table,
    "hubspot_contacts": hubspot_contacts,
    "salesforce_leads": salesforce_leads,
    "salesforce_lead_history": salesforce_lead_history,
    "salesforce_opportunities": salesforce_opportunities,
}


def plan(files: FileColumns, source: Source, config: Config) -> list[Staged]:
    """The staged selects for one source file."""
    return FORMATS[source.format](files, source, config)
