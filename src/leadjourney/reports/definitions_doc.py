"""The stage definitions document for people: entry and exit criteria per stage, and one sign-off table.

The Definition Alignment Document (:class:`DefinitionDocument`) holds the terms, what the data says
about them and who approved them; this is its reading for the people who sign it: one row per
funnel stage (what it means, when a person enters, when they leave), the other terms, and a single
sign-off table for every term and role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from leadjourney.analysis.definitions import REQUIRED_ROLES
from leadjourney.escape import markdown_text as md
from leadjourney.reports.definitions import DefinitionDocument, TermStatus, data_line
from leadjourney.reports.people import humanize, stage

_OPERATORS = {">=": "≥", "<=": "≤", "!=": "≠"}


def criterion_text(text: str, labels: Mapping[str, str] | None = None) -> str:
    """An executable criterion as a phrase: "human_touches >= 1" -> "Human touches ≥ 1"."""
    out = humanize(text, labels)
    for op, sign in _OPERATORS.items():
        out = out.replace(f" {op} ", f" {sign} ")
    return out[:1].upper() + out[1:]


# what the document says in words where the analyst's outputs name the configuration ([[definitions]])
NOT_DEFINED = "not defined yet: to be written and agreed"
NONE_WRITTEN = "No definitions written yet: the stages below are to be defined, then signed off here."


def definitions_markdown(doc: DefinitionDocument, stages: Sequence[str],
                         labels: Mapping[str, str] | None = None) -> str:
    """Stages with entry and exit criteria in funnel order, the other terms, one sign-off table."""
    by_stage = {t.definition.stage: t for t in doc.terms if t.definition.stage}
    lines = [f"# Lead stage definitions and handoff criteria: {doc.engagement}", "",
             (f"Data as of {doc.check.as_of:%Y-%m-%d}. " if doc.check.as_of else "")
             + (doc.status_line() if doc.terms else NONE_WRITTEN), "",
             "Marketing, Sales and RevOps agree on what each stage means, when a lead enters it and when it "
             "leaves, then sign the table at the end; the journey map is only as good as these definitions.", ""]
    if doc.check.caveat():
        lines += [f"> Caveat: {doc.check.caveat()}", ""]
    lines += ["## Stages", "", "| Stage | What it means | Enters when | Leaves when | In the data |",
              "|---|---|---|---|---|"]
    for i, name in enumerate(stages):
        t = by_stage.get(name)
        meaning = t.definition.definition.strip() if t else NOT_DEFINED  # the config hint: `leadjourney definitions`
        lines.append(f"| {md(stage(name, labels))} | {md(meaning)} | {md(_entry(t, labels))} | "
                     f"{md(_exit(stages, i, by_stage, labels))} | {md(_data(t))} |")
    others = [t for t in doc.terms if not t.definition.stage or t.definition.stage not in stages]
    if others:
        lines += ["", "## Other terms", "", "| Term | What it means | In the data |", "|---|---|---|"]
        for t in others:
            meaning = t.definition.definition.strip()
            if t.definition.sla_minutes is not None:
                meaning += f" Target: first human outreach within {t.definition.sla_minutes:g} minutes."
            lines.append(f"| {md(t.definition.term)} | {md(meaning)} | {md(_data(t))} |")
    lines += ["", "## Sign-off", "",
              "One row per term; each role signs the current wording (a later change of wording needs a new "
              "signature).", "",
              "| Term | " + " | ".join(REQUIRED_ROLES) + " |", "|---|" + "---|" * len(REQUIRED_ROLES)]
    for t in doc.terms:
        lines.append(f"| {md(t.definition.term)} | " + " | ".join(_signature(t, r) for r in REQUIRED_ROLES) + " |")
    lines += ["", "To sign, each role's lead tells the project's analyst which terms they approve; the next "
              "edition of this document shows their name and the date."]  # the command: out/definitions.md
    return "\n".join(lines) + "\n"


def _entry(t: TermStatus | None, labels: Mapping[str, str] | None) -> str:
    if t is None or not t.definition.criteria:
        return "as the definition says (no rule to check in the data yet)"
    return "; ".join(criterion_text(c.text, labels) for c in t.definition.criteria)


def _exit(stages: Sequence[str], i: int, by_stage: Mapping[str, TermStatus],
          labels: Mapping[str, str] | None) -> str:
    if i + 1 >= len(stages):
        return "the end of the funnel: won"
    nxt = stages[i + 1]
    t = by_stage.get(nxt)
    rule = (": " + "; ".join(criterion_text(c.text, labels) for c in t.definition.criteria)
            if t is not None and t.definition.criteria else "")
    return f"it becomes {stage(nxt, labels)}{rule}, or is disqualified with a reason"


def _data(t: TermStatus | None) -> str:
    line = data_line(t) if t is not None else ""
    return line or "-"


def _signature(t: TermStatus, role: str) -> str:
    found = [s for s in t.approvals if s.role == role]
    if found:
        return "; ".join(f"{md(s.approved_by)}, {s.approved_at:%Y-%m-%d}" for s in found)
    if any(s.role == role for s in t.earlier):
        return "signed an earlier wording: re-sign"
    return "awaiting"
