"""Source formats: how each export's columns become canonical columns.

Each format turns the raw file (registered in DuckDB as ``RAW``) into one or
more :class:`Staged` selects that yield canonical column names, still as the
file wrote them, plus the row number. Parsing and validation happen later,
the same way for every format (:mod:`leadjourney.ingest.normalize`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from leadjourney import schema
from leadjourney.config import ColumnRule, Config, Source, normalize_key
from leadjourney.errors import BadFileError
from leadjourney.ingest.columns import KINDS, REQUIRED, is_personal_column
from leadjourney.ingest.ga4_export import WEB_EVENTS, event_time_sql, events_filtered, urls_cleaned
from leadjourney.ingest.outcomes import closed_sql, outcome_sql, won_stage
from leadjourney.ingest.personal import is_email_column, scrub_text_sql
from leadjourney.ingest.readers import ROW
from leadjourney.ingest.sql import alias_case, blank_to_null, ident, lit, norm_key
from leadjourney.ingest.urls import clean_url_sql
from leadjourney.rowfilter import parse_filter

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
            raise BadFileError(
                f"{self.path}: missing required column(s) for {table}: {wanted}; found columns: {self.listed()}"
            )

    def listed(self) -> str:
        return ", ".join(repr(n) for n in self.types if n != ROW)

    def named(self, source: Source, name: str, what: str) -> str:
        """The file column ``name`` stands for (as headers match), or a one-line error naming source and key."""
        hit = self.find([name])
        if hit is None:
            raise BadFileError(f"{self.path}: source {source.name!r}: {what} names column {name!r}, which the file "
                               f"does not have; found columns: {self.listed()}")
        return hit


@dataclass(frozen=True)
class Reading:
    """What a format reads: the file's rows (``RAW``, or those its ``where`` keeps) and the workspace salt."""

    rows: str = RAW
    salt: str = ""


@dataclass
class Mapped:
    """canonical column -> SQL over the file's columns; the file columns used; hints for errors."""

    exprs: dict[str, str]
    used: set[str]
    hints: dict[str, str]


def _rule_sql(files: FileColumns, source: Source, canonical: str, rule: ColumnRule) -> tuple[str, set[str]]:
    """A constant, a value map or a join of columns as SQL, and the file columns it reads."""
    what = f"[sources.columns] {canonical}"
    if rule.value is not None:
        return lit(rule.value), set()
    if rule.columns:
        parts = [files.named(source, c, what) for c in rule.columns]
        blanks = " OR ".join(f"{blank_to_null(ident(p))} IS NULL" for p in parts)
        joined = f"concat_ws({lit(rule.separator)}, {', '.join(f'trim(CAST({ident(p)} AS VARCHAR))' for p in parts)})"
        expr, used = f"CASE WHEN {blanks} THEN NULL ELSE {joined} END", set(parts)
    else:
        column = files.named(source, rule.column or "", what)
        expr, used = ident(column), {column}
    if rule.map:
        text = f"CAST({expr} AS VARCHAR)"
        branches = " ".join(f"WHEN {lit(k.strip().lower())} THEN {lit(v)}" for k, v in rule.map.items())
        expr = f"(CASE lower(trim({text})) {branches} ELSE {text} END)"
    return expr, used


def _check_rules(source: Source, allowed: Sequence[str], table: str) -> None:
    for canonical in source.rules:
        if canonical not in allowed:
            raise BadFileError(f"source {source.name!r}: [sources.columns] {canonical} is not a column of {table}; "
                               f"use one of {', '.join(allowed)}")


def _mapping(files: FileColumns, table: str, source: Source, reading: Reading,
             builtin: dict[str, Sequence[str]], canonicals: Sequence[str] | None = None) -> Mapped:
    """canonical column -> SQL, honouring [sources.columns] (names, constants, maps, joins)."""
    wanted_columns = list(canonicals if canonicals is not None else KINDS[table])
    _check_rules(source, wanted_columns, table)
    out = Mapped({}, set(), {})
    for canonical in wanted_columns:
        rule = source.rules.get(canonical)
        if rule is not None:
            out.exprs[canonical], used = _rule_sql(files, source, canonical, rule)
            if KINDS[table].get(canonical) == "id" and any(is_personal_column(c) for c in used):
                # an id made of a name or an e-mail would carry it in clear: the same salted hash in every file
                value = blank_to_null(out.exprs[canonical])
                out.exprs[canonical] = f"'p-' || left(sha256({lit(reading.salt)} || {value}), 16)"
            out.used |= used
            continue
        if canonical in source.columns:
            wanted: Sequence[str] = [source.columns[canonical]]
        else:
            wanted = builtin.get(canonical, [canonical])
        out.hints[canonical] = " or ".join(repr(w) for w in wanted)
        hit = files.find(wanted)
        if hit is None and canonical == "email" and canonical not in source.columns:
            hit = files.first(is_email_column)  # "E-Mail-Adresse", "Correo electrónico", ...
        if hit is not None:
            out.exprs[canonical] = ident(hit)
            out.used.add(hit)
    return out


def _extra(files: FileColumns, used: set[str]) -> str:
    """JSON of the unmapped columns: personal ones left out, e-mails and phones in the rest masked."""
    rest = [n for n in files.types if n != ROW and n not in used and not is_personal_column(n)]
    if not rest:
        return "NULL"
    fields = ", ".join(f"{lit(n)}, {scrub_text_sql(blank_to_null(ident(n)))}" for n in rest)
    return f"json_object({fields})"


def _select(exprs: dict[str, str], rows: str, extra: str | None = None,
            overrides: dict[str, str] | None = None) -> str:
    cols = [f"{ident(ROW)}"]
    for canonical, expr in exprs.items():
        cols.append(f"{(overrides or {}).get(canonical, expr)} AS {ident(canonical)}")
    if extra is not None:
        cols.append(f"{extra} AS __extra")
    return f"SELECT {', '.join(cols)} FROM {rows}"


def canonical_table(files: FileColumns, source: Source, config: Config, reading: Reading) -> list[Staged]:
    """csv/parquet: one canonical table, columns named as canonical or mapped in the config."""
    table = source.table or ""
    m = _mapping(files, table, source, reading, {})
    files.missing(table, m.exprs, REQUIRED[table], m.hints)
    extra = _extra(files, m.used) if table == "leads" else None
    overrides: dict[str, str] = {}
    if table == "web_sessions":  # query strings (but utm_*) dropped
        overrides = {c: clean_url_sql(m.exprs[c]) for c in ("page", "referrer") if c in m.exprs}
    if table == "opportunities" and "is_won" not in m.exprs and "stage" in m.exprs:
        # the outcome is the stage's: won or lost per [outcomes], else open
        m.exprs["is_won"] = m.exprs["stage"]
        overrides["is_won"] = outcome_sql(m.exprs["stage"], config)
    return [Staged(table, _select(m.exprs, reading.rows, extra, overrides=overrides))]


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


def hubspot_contacts(files: FileColumns, source: Source, config: Config, reading: Reading) -> list[Staged]:
    """HubSpot contacts export: contact columns plus one "Became a <stage> Date" column per stage.

    A contact's current Lifecycle Stage without such a column (e.g. a list exported without dates)
    is a stage entry with a missing timestamp: reached, never given a date.
    """
    m = _mapping(files, "leads", source, reading, HUBSPOT_LEADS)
    files.missing("leads", m.exprs, REQUIRED["leads"], m.hints)
    stage_columns: list[tuple[str, str]] = []
    for name in files.types:
        for pattern in _HUBSPOT_STAGE_COLUMN:
            match = pattern.match(name.strip())
            if match:
                stage_columns.append((name, match.group(1).strip().strip('"“”\'').strip()))
                break
    used = m.used | {c for c, _ in stage_columns}
    staged = [Staged("leads", _select(m.exprs, reading.rows, _extra(files, used)))]
    aliases = config.stage_aliases()
    current = m.exprs.get("current_stage")
    lead = m.exprs["lead_id"]
    for column, label in stage_columns:
        canonical = aliases.get(normalize_key(label))
        blank = f"{blank_to_null(ident(column))} IS NULL"
        if canonical is not None and current is not None:
            # in this stage now but the date is blank: a missing stage timestamp, kept as such
            is_current = f"{alias_case(current, aliases, 'NULL')} = {lit(canonical)}"
            where = f"NOT ({blank}) OR ({is_current})"
        else:
            where = f"NOT ({blank})"
        staged.append(Staged("stage_events", (
            f"SELECT {ident(ROW)}, {lead} AS lead_id, {lit(label)} AS stage, "
            f"{ident(column)} AS entered_at FROM {reading.rows} WHERE {where}"
        )))
    dated = {aliases.get(normalize_key(label)) for _, label in stage_columns} | {config.stages[0].name}
    undated = [lit(s.name) for s in config.stages if s.name not in dated]
    if current is not None and undated:
        # in a stage the file has no date column for (a list exported without dates): reached, date unknown;
        # the first stage is entered at creation by the identity pass
        staged.append(Staged("stage_events", (
            f"SELECT {ident(ROW)}, {lead} AS lead_id, {current} AS stage, CAST(NULL AS VARCHAR) AS entered_at "
            f"FROM {reading.rows} WHERE {alias_case(current, aliases, 'NULL')} IN ({', '.join(undated)})"
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


def salesforce_leads(files: FileColumns, source: Source, config: Config, reading: Reading) -> list[Staged]:
    """Salesforce Leads report: Lead Status doubles as the stage where it names one."""
    m = _mapping(files, "leads", source, reading, SALESFORCE_LEADS)
    files.missing("leads", m.exprs, REQUIRED["leads"], m.hints)
    overrides: dict[str, str] = {}
    converted = files.find(["Converted"])
    status = m.exprs.get("status")
    if converted is not None and status is not None:
        truthy = f"lower(trim(CAST({ident(converted)} AS VARCHAR))) IN ('1', 'true', 'yes', 'y')"
        overrides["status"] = f"CASE WHEN {truthy} THEN 'Converted' ELSE {status} END"
    if "current_stage" not in m.exprs and status is not None:
        m.exprs["current_stage"] = status
        overrides["current_stage"] = alias_case(status, config.stage_aliases(), "NULL")
    used = m.used | ({converted} if converted else set())
    return [Staged("leads", _select(m.exprs, reading.rows, _extra(files, used), overrides=overrides))]


SALESFORCE_HISTORY: dict[str, Sequence[str]] = {
    "lead_id": ["Lead ID", "Id"],
    "field": ["Field / Event", "Field/Event", "Field", "Event"],
    "new_value": ["New Value"],
    "edit_date": ["Edit Date", "Edited Date", "Date"],
}
_STAGE_FIELDS = ("leadstatus", "status", "lifecyclestage", "stage", "leadstage")


def salesforce_lead_history(files: FileColumns, source: Source, config: Config, reading: Reading) -> list[Staged]:
    """Salesforce Lead History report: a stage event per status change into a configured stage.

    Rows that change another field, or change the status to a value that is not a
    stage (e.g. "Working - Contacted"), are history, not stage changes, and are skipped.
    "Created." rows enter the first stage.
    """
    m = _mapping(files, "stage_events", source, reading, SALESFORCE_HISTORY, list(SALESFORCE_HISTORY))
    found = m.exprs
    files.missing("stage_events", found, list(SALESFORCE_HISTORY), m.hints)
    aliases = config.stage_aliases()
    stage_fields = set(_STAGE_FIELDS)
    if "stage_field" in source.columns:
        stage_fields.add(normalize_key(source.columns["stage_field"]))
    field = norm_key(found["field"])
    new_stage = alias_case(found["new_value"], aliases, "NULL")
    fields_sql = ", ".join(lit(f) for f in sorted(stage_fields))
    stage = (
        f"CASE WHEN {field} = 'created' THEN {lit(config.stages[0].name)} "
        f"WHEN {field} IN ({fields_sql}) THEN {new_stage} END"
    )
    return [Staged("stage_events", (
        f"SELECT {ident(ROW)}, {found['lead_id']} AS lead_id, stage, "
        f"{found['edit_date']} AS entered_at "
        f"FROM (SELECT *, {stage} AS stage FROM {reading.rows}) WHERE stage IS NOT NULL"
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


def salesforce_opportunities(files: FileColumns, source: Source, config: Config, reading: Reading) -> list[Staged]:
    """Salesforce Opportunities report; also enters leads into the Opportunity and Customer stages.

    Salesforce's Close Date is a forecast until the deal closes, so it is kept
    only for closed deals ("Closed" column true, or a stage that is won, lost per
    [outcomes] or "Closed ..."); the dropped forecasts are counted (ingest_notes).
    """
    m = _mapping(files, "opportunities", source, reading, SALESFORCE_OPPORTUNITIES)
    mapping = m.exprs
    files.missing("opportunities", mapping, REQUIRED["opportunities"], m.hints)
    overrides: dict[str, str] = {}
    stage = mapping.get("stage")
    closed_col = files.find(["Closed"])
    if closed_col is not None:
        closed = f"coalesce({outcome_sql(ident(closed_col), config)}, FALSE)"
    elif stage is not None:
        closed = f"coalesce({closed_sql(stage, config)}, FALSE)"
    else:
        closed = "TRUE"
    notes: tuple[tuple[str, str, str], ...] = ()
    if "closed_at" in mapping:
        overrides["closed_at"] = f"CASE WHEN {closed} THEN {mapping['closed_at']} END"
        notes = ((schema.NOTE_FORECAST_CLOSE_DATE, "closed_at",
                  f"NOT {closed} AND {blank_to_null(mapping['closed_at'])} IS NOT NULL"),)
    if "is_won" in mapping:
        overrides["is_won"] = f"CASE WHEN {closed} THEN {mapping['is_won']} END"  # open deals: unknown yet
    elif stage is not None:
        mapping["is_won"] = stage
        # closed in a stage that is neither won nor lost: the outcome is unknown, not a loss
        overrides["is_won"] = f"CASE WHEN {closed} THEN {outcome_sql(stage, config)} END"
    staged = [Staged("opportunities", _select(mapping, reading.rows, overrides=overrides), notes)]
    aliases = config.stage_aliases()
    opp_stage, won_to = aliases.get("opportunity"), won_stage(config)
    lead = mapping.get("lead_id")
    if lead is None:
        return staged
    lead_sql = lead
    if opp_stage is not None and "created_at" in mapping:
        staged.append(Staged("stage_events", (
            f"SELECT {ident(ROW)}, {lead_sql} AS lead_id, {lit(opp_stage)} AS stage, "
            f"{mapping['created_at']} AS entered_at FROM {reading.rows} WHERE {blank_to_null(lead_sql)} IS NOT NULL"
        )))
    if won_to is not None and "closed_at" in mapping and "is_won" in mapping:
        won = overrides.get("is_won", mapping["is_won"])
        won_true = f"coalesce({outcome_sql(won, config)}, FALSE)"
        staged.append(Staged("stage_events", (
            f"SELECT {ident(ROW)}, {lead_sql} AS lead_id, {lit(won_to)} AS stage, "
            f"{overrides['closed_at']} AS entered_at FROM {reading.rows} "
            f"WHERE {blank_to_null(lead_sql)} IS NOT NULL AND {won_true}"
        )))
    return staged


GA4_EXPORT: dict[str, Sequence[str]] = {
    "visitor_id": ["user_pseudo_id"],
    "session_id": ["ga_session_id"],
    "occurred_at": ["event_timestamp"],
    "event": ["event_name"],
    "page": ["page_location"],
    "referrer": ["page_referrer"],
    "source": ["source"],
    "medium": ["medium"],
    "campaign": ["campaign"],
    "email": ["user_id"],  # the site's login id: hashed with the workspace salt, like e-mails
}


def ga4_bigquery(files: FileColumns, source: Source, config: Config, reading: Reading) -> list[Staged]:
    """GA4's BigQuery export, flattened by :mod:`leadjourney.ingest.ga4_export`: page views and identifying
    events (:data:`WEB_EVENTS`) into ``web_sessions``; other events (scrolls, clicks, engagement pings) are
    not page views and are skipped. A session is ``user_pseudo_id`` and ``ga_session_id`` (GA4 numbers sessions
    per user); the event time is read from microseconds; page and referrer lose their query strings (but
    utm_*); ``user_id`` is stored only as its salted hash (``email_hash``)."""
    m = _mapping(files, "web_sessions", source, reading, GA4_EXPORT)
    files.missing("web_sessions", m.exprs, REQUIRED["web_sessions"], m.hints)
    overrides: dict[str, str] = {c: clean_url_sql(m.exprs[c]) for c, flat in (("page", "page_location"),
                                 ("referrer", "page_referrer")) if c in m.exprs and not urls_cleaned(source, c, flat)}
    if "session_id" in m.exprs and "session_id" not in source.rules:
        number = blank_to_null(m.exprs["session_id"])
        overrides["session_id"] = f"CASE WHEN {number} IS NOT NULL THEN {m.exprs['visitor_id']} || '-' || {number} END"
    if "occurred_at" not in source.rules and "occurred_at" not in source.columns:
        exported = files.find(GA4_EXPORT["occurred_at"]) or ""  # the column m.exprs names: its type tells
        overrides["occurred_at"] = event_time_sql(m.exprs["occurred_at"], files.types.get(exported, "VARCHAR"))
    select = _select(m.exprs, reading.rows, overrides=overrides)
    if "event" in m.exprs and not events_filtered(source):  # else only they were staged
        events = ", ".join(lit(e) for e in WEB_EVENTS)
        select += f" WHERE lower(trim({m.exprs['event']})) IN ({events})"
    return [Staged("web_sessions", select)]


FORMATS: dict[str, Callable[[FileColumns, Source, Config, Reading], list[Staged]]] = {
    "csv": canonical_table,
    "parquet": canonical_table,
    "hubspot_contacts": hubspot_contacts,
    "salesforce_leads": salesforce_leads,
    "salesforce_lead_history": salesforce_lead_history,
    "salesforce_opportunities": salesforce_opportunities,
    "ga4_bigquery": ga4_bigquery,
}


def plan(files: FileColumns, source: Source, config: Config, salt: str = "") -> list[Staged]:
    """The staged selects for one source file; rows its ``where`` leaves out are counted on the first.

    ``salt``: the workspace's, for ids that [sources.columns] builds from personal columns (hashed).
    """
    condition = row_filter_sql(files, source)
    if condition is None:
        return FORMATS[source.format](files, source, config, Reading(RAW, salt))
    rows = Reading(f"(SELECT * FROM {RAW} WHERE coalesce({condition}, FALSE)) AS {RAW}", salt)
    staged = [
        dataclasses.replace(s, notes=tuple((note, column, f"coalesce({condition}, FALSE) AND ({cond})")
                                           for note, column, cond in s.notes))
        for s in FORMATS[source.format](files, source, config, rows)
    ]
    read = ", ".join(files.named(source, c, "where") for c in parse_filter(source.where or "").columns)
    left_out = (schema.NOTE_FILTERED_OUT, read, f"NOT coalesce({condition}, FALSE)")
    return [dataclasses.replace(staged[0], notes=(*staged[0].notes, left_out)), *staged[1:]]


def row_filter_sql(files: FileColumns, source: Source) -> str | None:
    """The source's ``where`` as SQL over the file's columns (None: every row); a column the file lacks is an error."""
    if source.where is None:
        return None
    try:
        parsed = parse_filter(source.where)
    except ValueError as exc:
        raise BadFileError(f"source {source.name!r}: where: {exc}") from None
    return parsed.sql(lambda name: files.named(source, name, "where"))
