"""Engagement status: the playbook's checklists ticked from what the workspace proves, and its gates.

:func:`gather` reads the workspace once into :class:`Facts` (tables, sign-offs, the files in
out/ and when they were written); each automatic item has one *proof* over those facts that
says whether it is done, the evidence, and the command that would tick it. Manual items are
the records of :mod:`leadjourney.reports.checklist`. A file in out/ counts only when it was
written after what it is drawn from (the latest ingest, snapshot or baseline).

>>> status = engagement_status(Workspace.open("acme"))   # doctest: +SKIP
>>> [b.item.id for b in status.next_gate.blockers]       # doctest: +SKIP
['kickoff', 'findings', ...]
"""

from __future__ import annotations

import csv
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leadjourney.analysis.definitions import REQUIRED_ROLES, sign_offs
from leadjourney.analysis.findings import engagement_counts
from leadjourney.db import one
from leadjourney.display import display_name, segment_name
from leadjourney.escape import markdown_text as md
from leadjourney.reports.checklist import PHASES, Item, Phase, Record, records
from leadjourney.reports.definitions import TermStatus, approvals_of
from leadjourney.workspace import Workspace

SCHEMA_VERSION = 1
MIN_DAYS = 90  # the playbook: "last 90 days minimum"
PERSONAS = (2, 3)  # "2-3 primary" buyer personas
QUICK_WINS = (2, 3)  # "2-3 items, <5 hours each"
NOT_RECORDED = "not recorded yet"  # a manual item's evidence until someone marks it done
CHECK, CROSS = "✓", "✗"
# File times come from the kernel's coarse clock, which may lag the clock that stamps the tables by a
# few milliseconds: a file written this close after an event still counts as written after it.
SLACK = timedelta(seconds=1)


# -- what the workspace holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    id: int
    taken_at: datetime
    n_people: int | None
    drop_offs: int
    friction_rows: int
    top_friction: str | None  # the rank-1 row, in words


@dataclass(frozen=True)
class OutFile:
    path: Path
    written_at: datetime  # modification time, UTC


@dataclass
class Facts:
    """Everything the proofs look at, read once."""

    n_configured: int = 0  # [[sources]] in leadjourney.toml
    n_ingests: int = 0
    n_sources: int = 0
    last_ingest_at: datetime | None = None
    n_leads: int = 0
    first_lead_at: datetime | None = None
    last_lead_at: datetime | None = None
    n_touchpoints: int = 0
    latest: Snapshot | None = None
    baseline: Snapshot | None = None
    findings: dict[str, int] = field(default_factory=dict)  # status -> count
    first_assumed: str | None = None
    terms: list[TermStatus] = field(default_factory=list)
    quality: OutFile | None = None
    maps: list[OutFile] = field(default_factory=list)
    touchpoints: OutFile | None = None
    touchpoint_stages: list[str] = field(default_factory=list)
    personas: OutFile | None = None
    persona_people: dict[str, int] = field(default_factory=dict)
    recommendations: OutFile | None = None
    n_recommendations: int = 0
    quick_wins: list[str] = field(default_factory=list)  # titles in the quick-win spec
    records: dict[str, Record] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # [labels]: the display names evidence uses


def gather(ws: Workspace) -> Facts:
    """Read the workspace tables and the files in out/ into :class:`Facts`."""
    ws.ensure_database()
    f = Facts(n_configured=len(ws.config.sources), records=records(ws), labels=dict(ws.config.labels))
    with ws.connect(read_only=True) as con:
        n, sources, last = one(con, "SELECT count(*), count(DISTINCT origin), max(finished_at) FROM ingests") or (0, 0, None)
        f.n_ingests, f.n_sources, f.last_ingest_at = int(n), int(sources), last
        n, first, last = one(con, "SELECT count(*), min(created_at), max(created_at) FILTER (WHERE created_at <= "
                                  "current_timestamp AT TIME ZONE 'UTC') FROM leads") or (0, None, None)
        f.n_leads, f.first_lead_at, f.last_lead_at = int(n), first, last
        f.n_touchpoints = int((one(con, "SELECT count(*) FROM touchpoints") or (0,))[0])
        f.latest = _snapshot(con, "TRUE", f.labels)
        f.baseline = _snapshot(con, "is_baseline", f.labels)
        f.findings, f.first_assumed = engagement_counts(con)  # all leads' (other selections' are their own)
    signoffs = sign_offs(ws)
    for d in ws.config.definitions:
        current, earlier = approvals_of(d, signoffs)
        f.terms.append(TermStatus(d, approvals=current, earlier=earlier))
    out = ws.out_dir
    f.quality = _file(out / "quality.json")
    f.maps = sorted((m for p in out.glob("journey_map.*") if (m := _file(p))), key=lambda m: m.path.suffix)
    f.touchpoints = _file(out / "touchpoints.csv")
    if f.touchpoints:
        with f.touchpoints.path.open(encoding="utf-8", newline="") as fh:
            f.touchpoint_stages = list(dict.fromkeys(r.get("stage", "") for r in csv.DictReader(fh)))
    f.personas = _file(out / "personas.json")
    if f.personas:
        profiles = _json(f.personas.path).get("profiles", {}).get("profiles", [])
        f.persona_people = {str(p["persona"]): int(p["people"]) for p in profiles if p.get("people")}
    f.recommendations = _file(out / "recommendations.json")
    if f.recommendations:
        recs = _json(f.recommendations.path)
        f.n_recommendations = len(recs.get("recommendations", []))
        f.quick_wins = [str(r.get("title", r.get("id"))) for r in recs.get("quick_win_spec", [])]
    return f


def _top_money(top: dict[str, Any], friction: dict[str, Any]) -> str:
    """The stored top friction row's money: recoverable (newer snapshots), else the older upper bound, so named."""
    from leadjourney.analysis.friction import money

    cur = friction.get("currency") or ""
    per = "a year" if friction.get("annualized", True) else "over the period"
    if "recoverable_per_year" not in top:
        return f"value of all drop-offs (upper bound) about {money(top['revenue_impact'], cur)} {per}"
    if top["recoverable_per_year"] is None:
        return f"no recoverable figure ({top.get('status_reason') or top.get('status')})"
    return f"{money(top['recoverable_per_year'], cur)} recoverable {per} ({top.get('target_source')})"


def _snapshot(con: Any, where: str, labels: Mapping[str, str] | None = None) -> Snapshot | None:
    row = one(con, f"""
        SELECT snapshot_id, taken_at, result->>'$.n_people', json_array_length(result->'$.drop_offs'),
               json_array_length(result->'$.friction.rows'), result->'$.friction.rows[0]',
               json_object(
                   'currency', result->>'$.friction.currency',
                   'annualized', coalesce(CAST(result->>'$.friction.annualized' AS BOOLEAN), true))
        FROM snapshots WHERE {where} ORDER BY snapshot_id DESC LIMIT 1""")
    if row is None:
        return None
    top = json.loads(row[5]) if row[5] else None
    words = None if not top else (
        f"{top['from']} → {top['to']}{', ' + segment_name(top['segment'], labels) if top.get('segment') else ''}: "
        + _top_money(top, json.loads(row[6]) if row[6] else {}))
    return Snapshot(int(row[0]), row[1], None if row[2] is None else int(row[2]), int(row[3] or 0),
                    int(row[4] or 0), words)


def _file(path: Path) -> OutFile | None:
    if not path.is_file():
        return None
    return OutFile(path, datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None))


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- proofs: one per automatic item ----------------------------------------------------------------


@dataclass(frozen=True)
class Proof:
    done: bool
    evidence: str
    fix: str | None = None  # the command that would tick the item


@dataclass(frozen=True)
class Commands:
    """The commands to suggest, for the workspace as the user named it."""

    workspace: str

    def run(self, command: str, *args: str) -> str:
        return " ".join(["leadjourney", command, shlex.quote(self.workspace), *args])


def _when(t: datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _after(f: OutFile | None, *times: datetime | None) -> bool:
    return f is not None and all(t is None or f.written_at >= t - SLACK for t in times)


def _data(f: Facts, c: Commands) -> Proof:
    fix = c.run("ingest") if f.n_configured else c.run("ingest", "--file EXPORT.csv --format FORMAT")
    if not f.n_ingests or not f.n_leads:
        registered = f" ({f.n_configured} registered in leadjourney.toml)" if f.n_configured else ""
        return Proof(False, f"no leads loaded yet{registered}: ingest the CRM export", fix)
    text = f"{f.n_leads:,} leads from {f.n_sources} source{'s' if f.n_sources != 1 else ''}"
    if f.first_lead_at and f.last_lead_at:
        days = (f.last_lead_at - f.first_lead_at).days
        text += f", created over {days:,} days ({f.first_lead_at:%Y-%m-%d} to {f.last_lead_at:%Y-%m-%d})"
        if days < MIN_DAYS:
            text += f"; the playbook asks for {MIN_DAYS} days minimum (6 months for low volume)"
    return Proof(True, text)


def _quality(f: Facts, c: Commands) -> Proof:
    fix = c.run("quality")
    if f.quality is None:
        return Proof(False, "no quality check yet (out/quality.json)", fix)
    if not _after(f.quality, f.last_ingest_at):
        return Proof(False, f"checked {_when(f.quality.written_at)}, before the latest ingest", fix)
    return Proof(True, f"checked {_when(f.quality.written_at)}; known gaps in out/quality.md")


def _baseline(f: Facts, c: Commands) -> Proof:
    fix = c.run("analyze", "--baseline")
    if f.baseline is None:
        return Proof(False, "no baseline snapshot yet", fix)
    people = f", {f.baseline.n_people:,} people" if f.baseline.n_people is not None else ""
    return Proof(True, f"baseline snapshot {f.baseline.id} taken {_when(f.baseline.taken_at)}{people}")


def _findings(f: Facts, c: Commands) -> Proof:
    total = sum(f.findings.values())
    if not total:
        return Proof(False, "no findings yet", c.run("analyze", "--baseline"))
    validated = f.findings.get("CONFIRMED", 0) + f.findings.get("CORRECTED", 0)
    text = f"{validated} of {total} findings confirmed or corrected ({validated / total:.0%})"
    if f.first_assumed is None:
        return Proof(True, text)
    return Proof(False, f"{text}; {total - validated} still ASSUMED",
                 c.run("findings", "confirm", shlex.quote(f.first_assumed), '--note "WHERE AGREED"'))


def _analysis(f: Facts, c: Commands) -> Proof:
    if f.latest is None:
        return Proof(False, "not analyzed yet", c.run("analyze"))
    if f.last_ingest_at is not None and f.latest.taken_at < f.last_ingest_at:
        return Proof(False, f"latest analysis ({_when(f.latest.taken_at)}) is older than the latest ingest",
                     c.run("analyze"))
    if not f.n_touchpoints:
        return Proof(False, "analyzed, but no touchpoints loaded (the marketing automation / web analytics "
                     "export)", c.run("ingest", "--file TOUCHES.csv --format csv --table touchpoints"))
    return Proof(True, f"snapshot {f.latest.id} ({_when(f.latest.taken_at)}) covers the latest ingest; "
                 f"{f.n_touchpoints:,} touchpoints")


def _drop_offs(f: Facts, c: Commands) -> Proof:
    if f.latest is None or not f.latest.friction_rows:
        return Proof(False, "no friction ranking yet", c.run("analyze"))
    top = f"; #1: {f.latest.top_friction}" if f.latest.top_friction else ""
    return Proof(True, f"{f.latest.drop_offs} drop-off point{'s' if f.latest.drop_offs != 1 else ''} flagged, "
                 f"{f.latest.friction_rows} transitions ranked by revenue impact{top}")


def _personas(f: Facts, c: Commands) -> Proof:
    fix = c.run("personas")
    if f.personas is None:
        return Proof(False, "no persona profiles yet (out/personas.json)", fix)
    if not _after(f.personas, f.last_ingest_at):
        return Proof(False, f"profiled {_when(f.personas.written_at)}, before the latest ingest", fix)
    names = ", ".join(f"{display_name(p, f.labels)} ({n:,})" for p, n in f.persona_people.items())
    low, high = PERSONAS
    if len(f.persona_people) < low:
        return Proof(False, f"{len(f.persona_people)} persona(s) with people ({names or 'none'}); the playbook "
                     f"asks for {low}-{high}: add [[personas]] to leadjourney.toml (the command suggests some)", fix)
    extra = f"; the playbook suggests {low}-{high} primary" if len(f.persona_people) > high else ""
    return Proof(True, f"{len(f.persona_people)} profiles: {names}{extra}")


def _touchpoints(f: Facts, c: Commands) -> Proof:
    fix = c.run("touchpoints")
    if f.touchpoints is None:
        return Proof(False, "no touchpoint inventory yet (out/touchpoints.csv)", fix)
    if not _after(f.touchpoints, f.last_ingest_at):
        return Proof(False, f"written {_when(f.touchpoints.written_at)}, before the latest ingest", fix)
    return Proof(True, f"out/touchpoints.csv covers {', '.join(f.touchpoint_stages) or 'no stage'}")


def _map(f: Facts, c: Commands) -> Proof:
    fix = c.run("map")
    if not f.maps:
        return Proof(False, "no journey map yet (out/journey_map.*)", fix)
    newest = max(f.maps, key=lambda m: m.written_at)
    kinds = ", ".join(m.path.suffix.lstrip(".") for m in f.maps)
    if not _after(newest, f.last_ingest_at, f.latest.taken_at if f.latest else None):
        return Proof(False, f"drawn {_when(newest.written_at)}, before the latest ingest or analysis", fix)
    return Proof(True, f"out/journey_map ({kinds}) drawn {_when(newest.written_at)}")


def _recommendations(f: Facts, c: Commands) -> Proof:
    fix = c.run("recommend")
    if f.recommendations is None:
        return Proof(False, "no recommendations yet (out/recommendations.json)", fix)
    if f.baseline is None:
        return Proof(False, "recommendations exist but no baseline to prioritize against",
                     c.run("analyze", "--baseline"))
    if not _after(f.recommendations, f.last_ingest_at, f.baseline.taken_at):
        return Proof(False, f"written {_when(f.recommendations.written_at)}, before the latest ingest or baseline",
                     fix)
    return Proof(True, f"{f.n_recommendations} recommendations ranked by impact/effort, {len(f.quick_wins)} "
                 f"quick win{'s' if len(f.quick_wins) != 1 else ''}; out/recommendations.md")


def _definitions(f: Facts, c: Commands) -> Proof:
    if not f.terms:
        return Proof(False, "no [[definitions]] in leadjourney.toml", c.run("definitions"))
    done = sum(t.signed_off for t in f.terms)
    text = f"{done} of {len(f.terms)} terms approved by {', '.join(REQUIRED_ROLES)} for their current wording"
    waiting = next((t for t in f.terms if not t.signed_off), None)
    if waiting is None:
        return Proof(True, text)
    term = waiting.definition.term
    return Proof(False, f"{text}; {term} waits for {', '.join(waiting.missing)}",
                 c.run("definitions", "approve", shlex.quote(term), f"--by NAME --role {waiting.missing[0]}"))


def _quick_wins(f: Facts, c: Commands) -> Proof:
    recs = _recommendations(f, c)
    if not recs.done:
        return Proof(False, f"no current quick-win spec: {recs.evidence}", recs.fix)
    low, high = QUICK_WINS
    names = "; ".join(f.quick_wins) or "none"
    if len(f.quick_wins) < low:
        return Proof(False, f"{len(f.quick_wins)} quick win(s) under 5 hours ({names}); the playbook asks for "
                     f"{low}-{high}: mark done with --note once the list is agreed",
                     c.run("status", "done", "quick-wins", '--note "WHAT WAS AGREED"'))
    return Proof(True, f"quick-win spec in out/recommendations.md: {names}")


PROOFS: dict[str, Callable[[Facts, Commands], Proof]] = {
    "data": _data, "quality": _quality, "baseline": _baseline, "findings": _findings, "analysis": _analysis,
    "drop-offs": _drop_offs, "personas": _personas, "touchpoints": _touchpoints, "map": _map,
    "recommendations": _recommendations, "definitions": _definitions, "quick-wins": _quick_wins,
}


# -- the result ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemStatus:
    item: Item
    done: bool
    evidence: str
    fix: str | None = None
    record: Record | None = None  # when marked done by hand

    @property
    def by_hand(self) -> bool:
        return self.record is not None and self.item.automatic

    @property
    def mark(self) -> str:
        """The tick or cross printed beside the item."""
        return CHECK if self.done else CROSS

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.item.id, "step": self.item.step, "title": self.item.title, "kind": self.item.kind,
                "required": self.item.required, "done": self.done, "evidence": self.evidence, "fix": self.fix,
                "marked_done_at": self.record.done_at.isoformat() if self.record else None,
                "note": self.record.note if self.record else None}


@dataclass(frozen=True)
class PhaseStatus:
    phase: Phase
    items: list[ItemStatus]

    @property
    def blockers(self) -> list[ItemStatus]:
        """Required items not done, in checklist order."""
        return [s for s in self.items if s.item.required and not s.done]

    @property
    def gate_open(self) -> bool:
        return not self.blockers

    @property
    def title(self) -> str:
        return f"Phase {self.phase.number}: {self.phase.name}"

    def to_dict(self) -> dict[str, Any]:
        p = self.phase
        return {"phase": p.number, "name": p.name, "goal": p.goal, "gate": p.gate, "optional": p.optional,
                "gate_open": self.gate_open, "done": sum(s.done for s in self.items), "items": len(self.items),
                "blockers": [s.item.id for s in self.blockers], "checklist": [s.to_dict() for s in self.items]}


@dataclass
class EngagementStatus:
    """The four phases' checklists for one workspace, and the next gate with what blocks it."""

    engagement: str
    workspace: str
    generated_at: datetime
    phases: list[PhaseStatus]

    @property
    def next_gate(self) -> PhaseStatus | None:
        """The first phase whose gate is not open (None: every gate is open)."""
        return next((p for p in self.phases if not p.gate_open), None)

    def item(self, item_id: str) -> ItemStatus:
        return next(s for p in self.phases for s in p.items if s.item.id == item_id)

    def summary(self) -> str:
        gate = self.next_gate
        if gate is None:
            return "Every gate is open: the engagement is complete."
        n = len(gate.blockers)
        return (f"Next gate: {gate.title} ({gate.phase.gate}); blocked by {n} item{'s' if n != 1 else ''}: "
                + ", ".join(s.item.id for s in gate.blockers) + ".")

    def to_dict(self) -> dict[str, Any]:
        gate = self.next_gate
        return {
            "schema_version": SCHEMA_VERSION, "engagement": self.engagement, "workspace": self.workspace,
            "generated_at": self.generated_at.isoformat(), "summary": self.summary(),
            "next_gate": None if gate is None else {
                "phase": gate.phase.number, "name": gate.phase.name, "gate": gate.phase.gate,
                "blockers": [{"id": s.item.id, "title": s.item.title, "evidence": s.evidence, "fix": s.fix}
                             for s in gate.blockers]},
            "phases": [p.to_dict() for p in self.phases],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self) -> str:
        lines = [f"# Engagement status: {self.engagement}", "", f"Generated {_when(self.generated_at)}.", "",
                 self.summary(), ""]
        gate = self.next_gate
        if gate is not None:
            lines += [f"## What blocks the gate of {gate.title}", ""]
            lines += [f"- **{s.item.id}** ({s.item.step}) {md(s.item.title)}: {md(s.evidence)}"
                      + (f"; run `{s.fix}`" if s.fix else "") for s in gate.blockers]
            lines.append("")
        for p in self.phases:
            state = "open" if p.gate_open else f"blocked by {', '.join(s.item.id for s in p.blockers)}"
            lines += [f"## {p.title}" + (" (optional)" if p.phase.optional else ""), "", md(p.phase.goal), "",
                      f"Gate: {md(p.phase.gate)}: **{state}**.", "",
                      "| | Step | Item | Id | Kind | Evidence |", "|---|---|---|---|---|---|"]
            lines += [f"| {s.mark} | {s.item.step} | {md(s.item.title)} | `{s.item.id}` | {s.item.kind} | "
                      f"{md(s.evidence)} |" for s in p.items]
            lines.append("")
        lines += ["Manual items: `leadjourney status WORKSPACE done ITEM --note \"...\"` (and `undo ITEM`); "
                  "automatic items tick when the workspace proves them.", ""]
        return "\n".join(lines)



def evaluate(facts: Facts, item: Item, commands: Commands) -> ItemStatus:
    """One item's status: its proof (automatic) or its record (manual, or an automatic one marked by hand)."""
    record = facts.records.get(item.id)
    if item.automatic:
        proof = PROOFS[item.id](facts, commands)
        if proof.done or record is None:
            return ItemStatus(item, proof.done, proof.evidence, proof.fix)
        return ItemStatus(item, True, f"marked done by hand {record.done_at:%Y-%m-%d}: {record.note} "
                          f"(the workspace shows: {proof.evidence})", None, record)
    if record is None:
        return ItemStatus(item, False, NOT_RECORDED,
                          commands.run("status", "done", item.id, '--note "WHAT, WHERE"'))
    note = f": {record.note}" if record.note else ""
    return ItemStatus(item, True, f"marked done {record.done_at:%Y-%m-%d}{note}", None, record)


def engagement_status(ws: Workspace, *, label: str | None = None, now: datetime | None = None) -> EngagementStatus:
    """The checklist of every phase for ``ws``; commands name the workspace as ``label`` (default: its path)."""
    facts = gather(ws)
    commands = Commands(label or str(ws.root))
    phases = [PhaseStatus(p, [evaluate(facts, item, commands) for item in p.items]) for p in PHASES]
    return EngagementStatus(ws.config.name, str(ws.root), now or datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                            phases)


def write_status(status: EngagementStatus, out_dir: Path) -> list[Path]:
    """Write status.md and status.json; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / "status.md", out_dir / "status.json"
    md.write_text(status.to_markdown(), "utf-8")
    js.write_text(status.to_json(), "utf-8")
    return [md, js]
