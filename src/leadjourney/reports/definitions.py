"""The Definition Alignment Document: each term's wording, criteria, drift in the data and sign-offs.

One result (:class:`DefinitionDocument`), rendered to Markdown and JSON here and to a Rich
table by the CLI. A sign-off counts for the wording it approved: when a term's wording,
stage, criteria or SLA changes, earlier approvals are listed as such and the role is
missing again. The document is signed off when Marketing, Sales and RevOps have each
approved every term.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadjourney.analysis.definitions import (
    REQUIRED_ROLES,
    ROLES,
    DefinitionCheck,
    DefinitionDrift,
    SignOff,
    SlaCheck,
    find_definition,
    sign_offs,
    wording_sha256,
)
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.config import normalize_key
from leadjourney.criteria import Definition
from leadjourney.display import percent
from leadjourney.escape import markdown_text as md
from leadjourney.workspace import Workspace


@dataclass
class TermStatus:
    """One term of the document: its definition, what the data says, and who approved it."""

    definition: Definition
    drift: DefinitionDrift | None = None
    sla: SlaCheck | None = None
    approvals: list[SignOff] = field(default_factory=list)  # of the current wording, latest per person and role
    earlier: list[SignOff] = field(default_factory=list)  # of an earlier wording, not since re-approved

    @property
    def missing(self) -> list[str]:
        """Required roles without an approval of the current wording."""
        have = {s.role for s in self.approvals}
        return [r for r in REQUIRED_ROLES if r not in have]

    @property
    def signed_off(self) -> bool:
        return not self.missing

    @property
    def data_line(self) -> str:
        """What the data says about the term, in one sentence (:func:`data_line`)."""
        return data_line(self)

    def to_dict(self) -> dict[str, Any]:
        d = self.definition
        return {
            "term": d.term, "definition": d.definition, "stage": d.stage,
            "criteria": [c.text for c in d.criteria], "sla_minutes": d.sla_minutes,
            "drift": self.drift.to_dict() if self.drift else None,
            "sla": self.sla.to_dict() if self.sla else None,
            "approvals": [_signoff(s) for s in self.approvals],
            "earlier_wording_approvals": [_signoff(s) for s in self.earlier],
            "missing": self.missing, "signed_off": self.signed_off,
        }


@dataclass
class DefinitionDocument:
    """The Definition Alignment Document of a workspace."""

    engagement: str
    generated_at: datetime
    filters: Filters
    check: DefinitionCheck
    terms: list[TermStatus]

    required_roles: tuple[str, ...] = REQUIRED_ROLES  # whose approval signs a term off

    @property
    def signed_off(self) -> bool:
        return bool(self.terms) and all(t.signed_off for t in self.terms)

    def status_line(self) -> str:
        if not self.terms:
            return ("No [[definitions]] in leadjourney.toml: add them (the template `leadjourney init` writes "
                    "has the playbook's terms pre-filled).")
        done = sum(t.signed_off for t in self.terms)
        line = f"{done} of {len(self.terms)} terms signed off by {', '.join(REQUIRED_ROLES)}."
        missing = {r: sum(r in t.missing for t in self.terms) for r in REQUIRED_ROLES}
        waiting = [f"{r} ({n} term{'s' if n != 1 else ''})" for r, n in missing.items() if n]
        return line + (f" Waiting for: {', '.join(waiting)}." if waiting else " Ready for the mapping.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "engagement": self.engagement,
            "generated_at": self.generated_at.isoformat(),
            "filters": self.filters.to_dict(),
            "required_roles": list(REQUIRED_ROLES),
            "signed_off": self.signed_off,
            "status": self.status_line(),
            "check": self.check.to_dict(),
            "summary": self.check.summary(),
            "terms": [t.to_dict() for t in self.terms],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_markdown(self) -> str:
        lines = [f"# Definition Alignment Document: {self.engagement}", "",
                 f"Generated {self.generated_at:%Y-%m-%d %H:%M} UTC; data as of "
                 f"{self.check.as_of:%Y-%m-%d}." if self.check.as_of else "", "",
                 self.status_line(), "",
                 "Review each definition with Marketing, Sales and RevOps leadership; the journey map waits until "
                 "the lead stage definitions are aligned. Record each approval with "
                 "`leadjourney definitions approve TERM --by NAME --role ROLE`.", ""]
        if self.check.caveat():
            lines += [f"> Caveat: {self.check.caveat()}", ""]
        lines += ["| Term | Definition | Drift in the data | " + " | ".join(REQUIRED_ROLES) + " |",
                  "|---|---|---|" + "---|" * len(REQUIRED_ROLES)]
        for t in self.terms:
            cells = [_approval_cell(t, r) for r in REQUIRED_ROLES]
            lines.append(f"| {md(t.definition.term)} | {md(t.definition.definition)} | {md(data_line(t))} | "
                         + " | ".join(cells) + " |")
        for t in self.terms:
            lines += ["", *_term_section(t)]
        return "\n".join(lines).rstrip() + "\n"


def data_line(t: TermStatus) -> str:
    """One sentence on what the data says about a term ('' when it has nothing to check)."""
    if t.drift is not None:
        r = t.drift
        if not r.status.shown:
            return f"{r.stage} drift {r.status.text()}"
        if not r.n_judged:
            return f"nobody entered {r.stage} (with a dated entry) to check"
        worst = r.most_failed
        return (f"{r.n_failed:,} of {r.n_judged:,} who entered {r.stage} ({r.share or 0:.1%}) did not meet the "
                f"criteria at entry" + (f"; most failed: {worst.criterion}" if worst else ""))
    if t.sla is not None:
        s = t.sla
        if not s.status.shown:
            return f"speed-to-lead {s.status.text()}"
        if not s.n_judged:
            return "nobody with an inbound signal to check"
        return (f"{s.share or 0:.1%} of {s.n_judged:,} contacted by a person within {s.sla_minutes:g} min "
                f"(from {s.signal_stage or s.signal})")
    return ""


def _term_section(t: TermStatus) -> list[str]:
    d = t.definition
    out = [f"## {d.term}", "", d.definition, ""]
    if d.stage and d.criteria:
        out += [f"Criteria at entry into **{d.stage}** (all must hold): "
                + "; ".join(f"`{c.text}`" for c in d.criteria) + ".", ""]
    elif d.stage:
        out += [f"Applies to stage **{d.stage}** (no executable criteria yet).", ""]
    if d.sla_minutes is not None:
        out += [f"SLA: first human outreach within **{d.sla_minutes:g} minutes**.", ""]
    if t.drift is not None:
        r = t.drift
        out.append(f"Drift: {data_line(t)}.")
        if r.ci is not None:
            out[-1] += f" 95% CI {r.ci[0]:.1%}-{r.ci[1]:.1%}."
        if r.n_undated:
            out[-1] += f" {r.n_undated:,} entered at an unknown time and were not judged."
        if r.examples:
            out[-1] += f" Examples: {', '.join(r.examples)}."
        out += ["", "| Criterion | Failed | Share |", "|---|---:|---:|"]
        out += [f"| `{c.criterion}` | {c.n_failed:,} | {percent(c.share)} |" for c in r.criteria]
        out.append("")
    if t.sla is not None:
        sla = t.sla
        out.append(f"In the data: {data_line(t)}.")
        if sla.ci is not None:
            out[-1] += f" 95% CI {sla.ci[0]:.1%}-{sla.ci[1]:.1%}; {sla.n_never_contacted:,} never contacted."
        out.append("")
    out += ["| Role | Approved by | Date | Note |", "|---|---|---|---|"]
    for s in t.approvals:
        out.append(f"| {s.role} | {md(s.approved_by)} | {s.approved_at:%Y-%m-%d} | {md(s.note or '')} |")
    out += [f"| {r} | *missing* | | |" for r in t.missing]
    for s in t.earlier:
        out.append(f"| {s.role} | {md(s.approved_by)} | {s.approved_at:%Y-%m-%d} | approved an earlier wording: "
                   f"re-approve |")
    return out


def _approval_cell(t: TermStatus, role: str) -> str:
    found = [s for s in t.approvals if s.role == role]
    if not found:
        return "missing"
    return "; ".join(f"{md(s.approved_by)} {s.approved_at:%Y-%m-%d}" for s in found)




def _signoff(s: SignOff) -> dict[str, Any]:
    return {"role": s.role, "approved_by": s.approved_by, "approved_at": s.approved_at.isoformat(), "note": s.note}


def approvals_of(d: Definition, signoffs: list[SignOff]) -> tuple[list[SignOff], list[SignOff]]:
    """The latest approval per person and role of ``d``: (of its current wording, of an earlier one)."""
    latest: dict[tuple[str, str], SignOff] = {}
    for s in sorted(signoffs, key=lambda s: s.approved_at):
        if normalize_key(s.term) == normalize_key(d.term):
            latest[(s.role, normalize_key(s.approved_by))] = s
    current = wording_sha256(d)
    ordered = sorted(latest.values(), key=lambda s: (ROLES.index(s.role), s.approved_at, s.approved_by))
    return ([s for s in ordered if s.wording_sha256 == current], [s for s in ordered if s.wording_sha256 != current])


def missing_roles(ws: Workspace, term: str) -> list[str]:
    """Required roles that have not approved the current wording of ``term``."""
    current, _ = approvals_of(find_definition(ws.config, term), sign_offs(ws))
    return [r for r in REQUIRED_ROLES if r not in {s.role for s in current}]


def term_statuses(definitions: tuple[Definition, ...], check: DefinitionCheck,
                  signoffs: list[SignOff]) -> list[TermStatus]:
    """Each definition with its check results and its approvals."""
    out = []
    for d in definitions:
        current, earlier = approvals_of(d, signoffs)
        out.append(TermStatus(
            d,
            next((r for r in check.drift if r.term == d.term), None),
            next((s for s in check.sla if s.term == d.term), None),
            current, earlier,
        ))
    return out


def definitions_document(ws: Workspace, filters: Filters | None = None,
                         now: datetime | None = None) -> DefinitionDocument:
    """Check the workspace's data against its definitions and gather the sign-offs."""
    signoffs = sign_offs(ws)
    filters = filters or Filters()
    # a selection is checked; the whole workspace may hold no data yet (definitions are signed at kickoff)
    with open_journeys(ws, filters, now, check=filters != Filters()) as journeys:
        check = DefinitionCheck().fit(journeys)
    generated = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return DefinitionDocument(ws.config.name, generated, filters, check,
                              term_statuses(ws.config.definitions, check, signoffs))


def write_document(doc: DefinitionDocument, out_dir: Path) -> list[Path]:
    """Write definitions.md and definitions.json; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md, js = out_dir / "definitions.md", out_dir / "definitions.json"
    md.write_text(doc.to_markdown(), "utf-8")
    js.write_text(doc.to_json(), "utf-8")
    return [md, js]
