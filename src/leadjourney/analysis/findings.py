"""Snapshots of analyses, and the findings they state: ASSUMED until stakeholders agree.

The playbook: "Mark all findings as ASSUMED. The kickoff call and stakeholder
interviews validate." Each ``leadjourney analyze`` stores a dated snapshot (the
whole JSON result) and upserts one finding per headline number. A finding keeps
its status and note when a later run restates it with new numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from leadjourney.analysis.friction import Friction, FrictionRow
from leadjourney.analysis.report import Analysis
from leadjourney.db import one, scalar
from leadjourney.errors import LeadJourneyError
from leadjourney.workspace import Workspace

ASSUMED, CONFIRMED, CORRECTED = "ASSUMED", "CONFIRMED", "CORRECTED"


@dataclass(frozen=True)
class Finding:
    finding_id: str
    kind: str
    statement: str
    value: float | None
    n: int | None
    status: str = ASSUMED
    note: str | None = None


def findings_of(analysis: Analysis) -> list[Finding]:
    """The headline numbers of an analysis, each as a plain-language finding."""
    out = []
    for t in analysis.funnel.transitions:
        if t.rate is None:
            continue
        out.append(Finding(
            f"conversion:{t.from_stage}->{t.to_stage}", "conversion",
            f"{t.from_stage} -> {t.to_stage} converts {t.rate:.1%} (95% CI {t.ci_low:.1%}-{t.ci_high:.1%}, "
            f"{t.converted:,} of {t.entered:,})",
            t.rate, t.entered,
        ))
    for r in analysis.time_in_stage.rows:
        if r.n_completed + r.n_censored == 0:
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
    if speed.n_judged:
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
    for row in analysis.friction.rows[:3]:
        out.append(Finding(
            f"friction:{row.rank}", "friction", friction_statement(row, analysis.friction),
            row.recoverable_per_year, row.entered,
        ))
    dark = analysis.dark_leads
    if dark.n_open:
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
    """Save the analysis as a snapshot and upsert its findings; returns the snapshot id.

    ``findings=False`` keeps the findings as they are: a snapshot of another selection (a monitoring
    baseline, say) should not restate what the engagement's findings say.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    ws.ensure_database()  # workspaces made before snapshots existed get the table now
    with ws.connect() as con:
        con.execute("BEGIN TRANSACTION")
        try:
            snapshot_id = int(scalar(con, "SELECT coalesce(max(snapshot_id), 0) + 1 FROM snapshots"))
            if baseline:
                con.execute("UPDATE snapshots SET is_baseline = false")
            con.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?, ?)", [
                snapshot_id, now, json.dumps(analysis.filters.to_dict()), baseline, analysis.to_json()])
            for f in findings_of(analysis) if findings else ():
                con.execute("""
                    INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)
                    ON CONFLICT (finding_id) DO UPDATE SET statement = excluded.statement,
                        value = excluded.value, n = excluded.n, snapshot_id = excluded.snapshot_id,
                        updated_at = excluded.updated_at
                """, [f.finding_id, f.kind, f.statement, f.value, f.n, ASSUMED, snapshot_id, now])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return snapshot_id


def list_findings(ws: Workspace) -> list[Finding]:
    ws.ensure_database()
    with ws.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT finding_id, kind, statement, value, n, status, note FROM findings ORDER BY kind, finding_id"
        ).fetchall()
    return [Finding(*row) for row in rows]


def set_status(ws: Workspace, finding_id: str, status: str, note: str | None) -> Finding:
    """Move a finding to CONFIRMED or CORRECTED (the note says who agreed, or what is right instead)."""
    if status not in (CONFIRMED, CORRECTED, ASSUMED):
        raise LeadJourneyError(f"status must be CONFIRMED, CORRECTED or ASSUMED, not {status!r}")
    ws.ensure_database()
    with ws.connect() as con:
        if one(con, "SELECT 1 FROM findings WHERE finding_id = ?", [finding_id]) is None:
            known = ", ".join(r[0] for r in con.execute("SELECT finding_id FROM findings ORDER BY 1").fetchall())
            raise LeadJourneyError(f"no finding {finding_id!r}; run `leadjourney findings` to list them ({known})")
        con.execute("UPDATE findings SET status = ?, note = ?, updated_at = ? WHERE finding_id = ?",
                    [status, note, datetime.now(UTC).replace(tzinfo=None), finding_id])
    return next(f for f in list_findings(ws) if f.finding_id == finding_id)


def baseline(ws: Workspace) -> dict[str, Any] | None:
    """The analysis JSON marked as baseline, if any."""
    with ws.connect(read_only=True) as con:
        row = one(con, "SELECT result FROM snapshots WHERE is_baseline ORDER BY snapshot_id DESC LIMIT 1")
    return None if row is None else json.loads(row[0])
