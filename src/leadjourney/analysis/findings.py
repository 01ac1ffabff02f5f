"""Snapshots of analyses, and the findings they state: ASSUMED until stakeholders agree.

The playbook: "Mark all findings as ASSUMED. The kickoff call and stakeholder
interviews validate." Each ``leadjourney analyze`` stores a dated snapshot (the
whole JSON result) and records one finding per headline number.

A finding belongs to the selection it was computed for: its filters (dates, sources, personas, owners)
and the funnel mode (with the cohort window), kept as :func:`selection_key`. An analysis of one selection
records findings for that selection only and never touches another's: ``analyze --source seo`` leaves the
findings of all leads as they are. ``leadjourney findings`` lists all leads' findings (the engagement's);
``--source seo`` (and the other selection options) another selection's, ``--all`` every selection's.

A later analysis of the same selection restates its findings. An ASSUMED finding takes the new numbers.
A CONFIRMED or CORRECTED one keeps the numbers that were signed (``value``, ``statement``, ``n``,
``snapshot_id``) with the note saying who signed; the new observation is recorded beside them
(``current_value``, ``current_statement``, ``current_n``, ``current_snapshot_id``) and
``changed_since_signoff`` says it differs, or that the latest analysis no longer states the finding
(``restated`` false). Confirming or correcting again signs the current numbers.

Workspaces from before findings were kept per selection are migrated on first use (:func:`migrate`): a
finding belongs to all leads (stage_reach), unless the snapshot its numbers came from was of another
selection (the overwrite this replaced): then an ASSUMED finding moves to that selection, and a signed
one stays with all leads with its sign-off but its number withheld, the statement saying why, until
confirmed again.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from leadjourney.analysis.friction import Friction, FrictionRow
from leadjourney.analysis.funnel import check_mode
from leadjourney.analysis.journeys import Filters
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.selection import describe
from leadjourney.db import one, scalar, transaction
from leadjourney.errors import LeadJourneyError
from leadjourney.workspace import Workspace

ASSUMED, CONFIRMED, CORRECTED = "ASSUMED", "CONFIRMED", "CORRECTED"


def selection_key(filters: Filters | None = None, mode: str = "stage_reach", window_days: int | None = 90) -> str:
    """The selection a finding belongs to, as canonical JSON: the filters (values sorted) and the funnel mode
    (with the window in cohort mode). ``selection_key()`` is all leads in stage_reach mode."""
    f = (filters or Filters()).to_dict()
    key = {k: sorted(v) if isinstance(v, list) else v for k, v in f.items()}
    key["mode"] = check_mode(mode)
    key["window_days"] = window_days if mode == "cohort" else None
    return json.dumps(key, sort_keys=True)


ALL_LEADS = selection_key()


def selection_of(analysis: Analysis) -> str:
    """The :func:`selection_key` of an analysis."""
    return selection_key(analysis.filters, analysis.funnel.mode, analysis.funnel.window_days)


def selection_label(key: str) -> str:
    """A selection key in words: ``all leads``, ``source seo; cohort mode (90-day window)``."""
    d = json.loads(key)
    mode = d.get("mode") or "stage_reach"
    text = describe(Filters.from_dict(d))
    if mode != "stage_reach":
        text += f"; {mode} mode" + (f" ({d.get('window_days')}-day window)" if mode == "cohort" else "")
    return text


@dataclass(frozen=True)
class Finding:
    """One headline number of one selection. ``value``/``statement``/``n`` are the numbers as signed (the latest
    while ASSUMED); ``current_*`` the latest analysis's of the same selection (see the module)."""

    finding_id: str
    kind: str
    statement: str
    value: float | None
    n: int | None
    status: str = ASSUMED
    note: str | None = None
    selection: str = ALL_LEADS
    current_statement: str | None = None
    current_value: float | None = None
    current_n: int | None = None
    current_snapshot_id: int | None = None
    restated: bool = True
    snapshot_id: int | None = None

    @property
    def changed_since_signoff(self) -> bool:
        """CONFIRMED or CORRECTED, and the latest analysis of its selection says otherwise (or no longer says it)."""
        if self.status == ASSUMED:
            return False
        if not self.restated:
            return True
        return (self.current_statement != self.statement or self.current_n != self.n
                or _differs(self.value, self.current_value))

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``leadjourney findings --json``: the original keys, then the selection and the latest
        observation."""
        out = asdict(self)
        out["selection"] = json.loads(self.selection)
        out["selection_label"] = selection_label(self.selection)
        out["changed_since_signoff"] = self.changed_since_signoff
        return out


def _differs(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is not b
    return not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def findings_of(analysis: Analysis) -> list[Finding]:
    """The headline numbers of an analysis, each as a plain-language finding: only numbers that can be judged
    (never a rate of too few people, nor a withheld metric: see :mod:`leadjourney.analysis.status`)."""
    out = []
    min_n = analysis.funnel.min_n or 1
    for t in analysis.funnel.transitions:
        if t.rate is None or not t.status.judged:
            continue
        out.append(Finding(
            f"conversion:{t.from_stage}->{t.to_stage}", "conversion",
            f"{t.from_stage} -> {t.to_stage} converts {t.rate:.1%} (95% CI {t.ci_low:.1%}-{t.ci_high:.1%}, "
            f"{t.converted:,} of {t.entered:,})",
            t.rate, t.entered,
        ))
    for r in analysis.time_in_stage.rows:
        if r.n_completed + r.n_censored < min_n:
            continue
        if r.km_median_reached and r.km_median_days is not None:
            text = f"median time {r.from_stage} -> {r.to_stage} is {r.km_median_days:.1f} days (censoring-aware)"
        else:
            text = (f"fewer than half who reach {r.from_stage} have reached {r.to_stage}: the median time is not "
                    f"reached ({r.n_completed:,} completed, {r.n_censored:,} still waiting)")
        out.append(Finding(f"time:{r.from_stage}->{r.to_stage}", "time_in_stage", text, r.km_median_days,
                           r.n_completed + r.n_censored))
    for c in analysis.sources.conversion:
        if c.significant:
            out.append(Finding(
                f"source:{c.source}:{c.from_stage}->{c.to_stage}", "source",
                f"{c.source} converts {c.from_stage} -> {c.to_stage} at {c.rate:.1%}, significantly {c.direction} "
                f"than the other sources ({c.rest_rate:.1%}; adjusted p {c.p_adjusted:.2g}, n {c.entered:,})",
                c.rate, c.entered,
            ))
    speed = analysis.speed_to_lead
    if speed.n_judged and speed.status.judged:
        out.append(Finding(
            "speed_to_lead:median", "speed_to_lead",
            f"median speed-to-lead is {speed.median_minutes or 0:.0f} minutes; "
            f"{speed.share_within_5_min or 0:.1%} are reached within 5 minutes",
            speed.median_minutes, speed.n_judged,
        ))
        out.append(Finding(
            "speed_to_lead:never_contacted", "speed_to_lead",
            f"{speed.never_contacted_share or 0:.1%} of people ({speed.n_never_contacted:,}) were never contacted by a person",
            speed.never_contacted_share, speed.n_judged,
        ))
    for d in analysis.friction.drop_offs:
        out.append(Finding(
            f"drop_off:{d.from_stage}->{d.to_stage}{':' + d.segment if d.segment else ''}", "drop_off",
            f"{d.from_stage} -> {d.to_stage}{' for ' + d.segment if d.segment else ''} is a drop-off point: "
            f"{d.rate:.1%}, {d.reason}", d.rate, None,
        ))
    for row in [r for r in analysis.friction.rows if r.status.judged][:3]:
        out.append(Finding(
            f"friction:{row.rank}", "friction", friction_statement(row, analysis.friction),
            row.recoverable_per_year, row.entered,
        ))
    dark = analysis.dark_leads
    if dark.n_open and dark.status.judged:
        out.append(Finding(
            "dark_leads:share", "dark_leads",
            f"{dark.n_dark:,} of {dark.n_open:,} open people ({dark.dark_share or 0:.1%}) have gone dark",
            dark.dark_share, dark.n_open,
        ))
    return out


def friction_statement(row: FrictionRow, fr: Friction) -> str:
    """A friction row in words: its recoverable revenue against its named target (not every drop-off's value)."""
    head = f"friction #{row.rank}: {row.from_stage} -> {row.to_stage} ({row.segment or 'all'})"
    if row.recoverable_per_year is None:
        money_text = f"no recoverable figure ({row.status.text()})"
    else:
        money_text = (f"about {row.recoverable_per_year:,.0f} {fr.currency} recoverable "
                      f"{'a year' if fr.annualized else 'over the period'} ({row.recoverable_text()})")
    return f"{head}: {money_text}; hypothesis: {row.hypothesis}"


def store(ws: Workspace, analysis: Analysis, *, baseline: bool = False, findings: bool = True) -> int:
    """Save the analysis as a snapshot and record its findings for its selection; returns the snapshot id.

    Findings of other selections are not touched; signed findings of this one keep their numbers, the new
    ones recorded beside them (see the module). ``findings=False`` keeps the findings as they are: a snapshot
    of a monitoring baseline, say, should not restate what the engagement's findings say.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    _ready(ws)
    key = selection_of(analysis)
    with ws.connect() as con, transaction(con):
        snapshot_id = int(scalar(con, "SELECT coalesce(max(snapshot_id), 0) + 1 FROM snapshots"))
        if baseline:
            con.execute("UPDATE snapshots SET is_baseline = false")
        con.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?)", [
            snapshot_id, now, json.dumps(analysis.filters.to_dict()), baseline, analysis.to_json()])
        if findings:
            _record(con, key, findings_of(analysis), snapshot_id, now)
    return snapshot_id


def _record(con: duckdb.DuckDBPyConnection, key: str, found: list[Finding], snapshot_id: int, now: datetime) -> None:
    """The findings one analysis of selection ``key`` states (in the caller's transaction); an id stated twice
    keeps its last statement, as the upsert this replaced did."""
    found = list({f.finding_id: f for f in found}.values())
    status = {str(i): str(s) for i, s in con.execute(
        "SELECT finding_id, status FROM findings WHERE selection = ?", [key]).fetchall()}
    for f in found:
        latest = [f.statement, f.value, f.n, snapshot_id]
        if f.finding_id not in status:
            con.execute(f"INSERT INTO findings ({_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                        [f.finding_id, f.kind, f.statement, f.value, f.n, ASSUMED, None, snapshot_id, now, key,
                         *latest, True])
        elif status[f.finding_id] == ASSUMED:
            con.execute("""UPDATE findings SET statement = ?, value = ?, n = ?, snapshot_id = ?, current_statement = ?,
                           current_value = ?, current_n = ?, current_snapshot_id = ?, restated = true,
                           updated_at = ? WHERE selection = ? AND finding_id = ?""",
                        [*latest, *latest, now, key, f.finding_id])
        else:  # signed: the numbers stay as signed, the observation goes beside them
            con.execute("""UPDATE findings SET current_statement = ?, current_value = ?, current_n = ?,
                           current_snapshot_id = ?, restated = true, updated_at = ?
                           WHERE selection = ? AND finding_id = ?""", [*latest, now, key, f.finding_id])
    stated = [f.finding_id for f in found]
    for finding_id in sorted(set(status) - set(stated)):
        con.execute("""UPDATE findings SET current_statement = NULL, current_value = NULL, current_n = NULL,
                       current_snapshot_id = ?, restated = false, updated_at = ? WHERE selection = ? AND finding_id = ?""",
                    [snapshot_id, now, key, finding_id])


_COLUMNS = ("finding_id, kind, statement, value, n, status, note, snapshot_id, updated_at, selection, "
            "current_statement, current_value, current_n, current_snapshot_id, restated")


def list_findings(ws: Workspace, selection: str | None = ALL_LEADS) -> list[Finding]:
    """The findings of one selection (by default all leads, the engagement's); ``selection=None``: every
    selection's, all leads' first."""
    _ready(ws)
    where, params = ("", []) if selection is None else ("WHERE selection = ?", [selection])
    with ws.connect(read_only=True) as con:
        rows = con.execute(
            f"SELECT finding_id, kind, statement, value, n, status, note, selection, current_statement, current_value, "
            f"current_n, current_snapshot_id, restated, snapshot_id FROM findings {where} "
            f"ORDER BY selection <> ?, selection, kind, finding_id", [*params, ALL_LEADS]).fetchall()
    return [Finding(*row) for row in rows]


def selections(ws: Workspace) -> list[str]:
    """The selections that have findings, all leads first."""
    _ready(ws)
    with ws.connect(read_only=True) as con:
        return [str(r[0]) for r in con.execute(
            "SELECT DISTINCT selection FROM findings ORDER BY selection <> ?, selection", [ALL_LEADS]).fetchall()]


def engagement_counts(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], str | None]:
    """All leads' findings (the engagement's) per status, and the first still ASSUMED, on an open (read-only)
    connection; a table from before selections (not migrated yet) is read as all leads'."""
    names = {str(r[0]) for r in con.execute("DESCRIBE findings").fetchall()}
    where, params = ("WHERE selection = ?", [ALL_LEADS]) if "selection" in names else ("WHERE true", [])
    counts = {str(s): int(c) for s, c in con.execute(
        f"SELECT status, count(*) FROM findings {where} GROUP BY status", params).fetchall()}
    row = one(con, f"SELECT finding_id FROM findings {where} AND status = 'ASSUMED' ORDER BY kind, finding_id LIMIT 1",
              params)
    return counts, None if row is None else str(row[0])


def set_status(ws: Workspace, finding_id: str, status: str, note: str | None,
               selection: str = ALL_LEADS) -> Finding:
    """Move a finding of ``selection`` to CONFIRMED or CORRECTED (the note says who agreed, or what is right
    instead), or back to ASSUMED. The signed numbers become the latest analysis's (the ones `leadjourney
    findings` shows); a finding the latest analysis no longer states cannot be signed."""
    if status not in (CONFIRMED, CORRECTED, ASSUMED):
        raise LeadJourneyError(f"status must be CONFIRMED, CORRECTED or ASSUMED, not {status!r}")
    _ready(ws)
    label = selection_label(selection)
    with ws.connect() as con:
        row = one(con, "SELECT restated, current_statement FROM findings WHERE selection = ? AND finding_id = ?",
                  [selection, finding_id])
        if row is None:
            known = ", ".join(r[0] for r in con.execute(
                "SELECT finding_id FROM findings WHERE selection = ? ORDER BY 1", [selection]).fetchall())
            if known:
                raise LeadJourneyError(f"no finding {finding_id!r} for {label}; `leadjourney findings` with this "
                                       f"selection lists them ({known})")
            others = [selection_label(str(r[0])) for r in con.execute(
                "SELECT DISTINCT selection FROM findings ORDER BY 1").fetchall()]
            raise LeadJourneyError(f"no findings for {label}: run `leadjourney analyze` with this selection first"
                                   + (f" (findings are stored for: {'; '.join(others)})" if others else ""))
        if not row[0] or row[1] is None:
            raise LeadJourneyError(f"{finding_id} ({label}) is not stated by the latest analysis of its selection: "
                                   "there is no current number to sign")
        con.execute("""UPDATE findings SET status = ?, note = ?, updated_at = ?, statement = current_statement,
                       value = current_value, n = current_n, snapshot_id = current_snapshot_id
                       WHERE selection = ? AND finding_id = ?""",
                    [status, note, datetime.now(UTC).replace(tzinfo=None), selection, finding_id])
    return next(f for f in list_findings(ws, selection) if f.finding_id == finding_id)


def baseline(ws: Workspace) -> Analysis | None:
    """The analysis marked as baseline, if any, loaded back from its stored JSON (:meth:`Analysis.from_dict`)."""
    with ws.connect(read_only=True) as con:
        row = one(con, "SELECT result FROM snapshots WHERE is_baseline ORDER BY snapshot_id DESC LIMIT 1")
    return None if row is None else Analysis.from_json(row[0])


def latest_of_all_leads(ws: Workspace) -> tuple[Analysis, datetime] | None:
    """The newest snapshot of all leads (no filter; a saved `leadjourney analyze`) and when it was taken; None
    when there is none. What the dashboard shows for the parts it does not compute per selection."""
    with ws.connect(read_only=True) as con:
        if not scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'snapshots'"):
            return None
        row = one(con, "SELECT result, taken_at FROM snapshots WHERE CAST(filters AS VARCHAR) = ? "
                       "ORDER BY snapshot_id DESC LIMIT 1", [json.dumps(Filters().to_dict())])
    return None if row is None else (Analysis.from_json(row[0]), row[1])


def _ready(ws: Workspace) -> None:
    """The tables exist (workspaces made before snapshots get them now) and findings are kept per selection."""
    ws.ensure_database()
    with ws.connect() as con:
        names = {str(r[0]) for r in con.execute("DESCRIBE findings").fetchall()}
        if "selection" not in names:
            migrate(con)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Findings from before they were kept per selection, moved to theirs (see the module), in one transaction."""
    from leadjourney import schema

    with transaction(con):
        rows = con.execute("""
            SELECT f.finding_id, f.kind, f.statement, f.value, f.n, f.status, f.note, f.snapshot_id, f.updated_at,
                   s.filters, json_extract_string(s.result, '$.funnel.mode'),
                   TRY_CAST(json_extract_string(s.result, '$.funnel.window_days') AS BIGINT)
            FROM findings f LEFT JOIN snapshots s USING (snapshot_id)""").fetchall()
        con.execute("DROP TABLE findings")
        con.execute(schema.ddl("findings"))
        insert = f"INSERT INTO findings ({_COLUMNS}) VALUES ({', '.join('?' * 15)})"
        for (finding_id, kind, statement, value, n, status, note, snapshot_id, updated_at,
             filters, mode, window) in rows:
            key = ALL_LEADS if filters is None else selection_key(Filters.from_dict(json.loads(filters)),
                                                                    mode or "stage_reach", window)
            latest = [statement, value, n, snapshot_id]
            if key == ALL_LEADS:
                con.execute(insert, [finding_id, kind, *latest[:3], status, note, snapshot_id, updated_at, key,
                                     *latest, True])
                continue
            # its numbers are another selection's (finding ids were unique, so one row per selection)
            con.execute(insert, [finding_id, kind, *latest[:3], ASSUMED, None, snapshot_id, updated_at, key,
                                 *latest, True])
            if status != ASSUMED:  # the sign-off stays with all leads; the number it signed was overwritten
                withheld = (f"signed number withheld: an analysis of {selection_label(key)} (snapshot {snapshot_id}) "
                            "replaced it before findings were kept per selection; analyze all leads and confirm again")
                con.execute(insert, [finding_id, kind, withheld, None, None, status, note, None, updated_at,
                                     ALL_LEADS, None, None, None, None, False])

