"""The stakeholder interview guide per role, and the answers recorded against it.

The questions are the playbook's interview tables (Phase 1c: Marketing, Sales, RevOps),
followed by the meeting guide's qualification questions for the same role. Each question
lists what the data already says (the findings it probes, ASSUMED until confirmed), and
the answers recorded with ``leadjourney report answer`` appear under it with the finding
they link to. Answers are stored by role only: interviewees' names are personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from leadjourney.analysis.findings import Finding, list_findings
from leadjourney.db import scalar
from leadjourney.display import arrows, counted
from leadjourney.errors import LeadJourneyError
from leadjourney.escape import markdown_text as md
from leadjourney.workspace import Workspace

PLAYBOOK = "playbook, Phase 1c"
MEETING_GUIDE = "meeting guide, round 2"


@dataclass(frozen=True)
class Question:
    number: int
    asked_of: str  # the interviewee's function, e.g. "SDR/BDR"
    text: str
    probes: tuple[str, ...]  # finding-id prefixes the answer can confirm or correct
    origin: str = PLAYBOOK


@dataclass(frozen=True)
class Role:
    key: str  # what `--role` takes
    title: str
    format: str  # who and how long, from the playbook
    questions: tuple[Question, ...]


def _numbered(rows: Sequence[tuple[str, str, tuple[str, ...], str]]) -> tuple[Question, ...]:
    return tuple(Question(i, who, text, probes, origin) for i, (who, text, probes, origin) in enumerate(rows, 1))


P, G = PLAYBOOK, MEETING_GUIDE
ROLES: tuple[Role, ...] = (
    Role("marketing", "Marketing", "30 min each, 2-3 people (Demand Gen, Content, Marketing Ops)", _numbered([
        ("Demand Gen", "Which channels drive the most leads?", ("source:",), P),
        ("Demand Gen", "Which drive the highest-quality leads?", ("source:",), P),
        ("Demand Gen", "Where do you see leads stalling?", ("drop_off:", "time:"), P),
        ("Content", "What content assets do leads engage with before converting?", ("conversion:",), P),
        ("Content", "What's the typical content journey?", ("time:",), P),
        ("Marketing Ops", "How are MQLs defined and triggered?", ("conversion:",), P),
        ("Marketing Ops", "What automation runs between lead creation and MQL?", ("time:",), P),
        ("Marketing Ops", "What's your SLA with Sales?", ("speed_to_lead:",), P),
        ("Marketing", "Which properties matter for qualification: job title or function, company size, revenue?",
         ("conversion:",), G),
        ("Marketing", "On average, how many pages does a lead visit before filling out a form?", (), G),
    ])),
    Role("sales", "Sales", "30 min each, 2-3 people (SDRs/BDRs, AEs, Sales Management)", _numbered([
        ("SDR/BDR", "How do you receive MQLs?", ("speed_to_lead:",), P),
        ("SDR/BDR", 'What does "good" look like?', ("conversion:",), P),
        ("SDR/BDR", "What makes you reject a lead?", ("conversion:", "drop_off:"), P),
        ("SDR/BDR", "What's your response time?", ("speed_to_lead:",), P),
        ("AE", "What does the post-SQL journey look like?", ("time:",), P),
        ("AE", "Where do deals stall?", ("drop_off:", "time:"), P),
        ("AE", "What info do you wish you had at handoff?", ("friction:",), P),
        ("Sales Management", "How do you track lead-to-opp conversion?", ("conversion:",), P),
        ("Sales Management", "What's your biggest friction point with Marketing?", ("friction:",), P),
        ("Sales", "What do salespeople ask when vetting a good lead?", ("conversion:",), G),
        ("Sales", "How many touchpoints does a salesperson have before an opportunity is opened, and before "
                  "Closed Won?", ("time:",), G),
        ("Sales", "Which contacts are automatically unqualified (students, job candidates, vendors/partners, "
                  "others)?", (), G),
    ])),
    Role("revops", "RevOps", "30 min, 1 person", _numbered([
        ("Process + Data", "Walk me through the lead lifecycle as configured in the CRM.", ("conversion:",), P),
        ("Process + Data", "Where are the gaps in tracking?", ("time:",), P),
        ("Cross-Team Alignment", "Where do Marketing and Sales definitions conflict?", ("conversion:",), P),
        ("Cross-Team Alignment", "What data quality issues exist?", (), P),
        ("Systems", "What's the integration architecture between CRM, MAP, and web analytics?", (), P),
        ("RevOps", "What are the lead statuses within SQL (new, open, unqualified, ...)?", (), G),
        ("RevOps", "What happens when an opportunity is Closed Won or Closed Lost?", ("dark_leads:",), G),
    ])),
)


@dataclass(frozen=True)
class Answer:
    answer_id: int
    role: str
    question: int
    finding_id: str | None
    text: str
    recorded_at: datetime


def role_of(key: str) -> Role:
    """The role for ``--role`` (any case); the error lists the roles."""
    for r in ROLES:
        if r.key == key.strip().lower() or r.title.lower() == key.strip().lower():
            return r
    raise LeadJourneyError(f"--role: expected one of {', '.join(r.key for r in ROLES)}, found {key!r}")


def question_of(role: Role, number: int) -> Question:
    if not 1 <= number <= len(role.questions):
        raise LeadJourneyError(f"--question: {role.title} has questions 1-{len(role.questions)}, found {number} "
                               "(see out/report/interview_guide.md)")
    return role.questions[number - 1]


def record_answer(ws: Workspace, role: str, question: int, text: str, finding_id: str | None = None,
                  now: datetime | None = None) -> Answer:
    """Store one answer (by role, never by name); ``finding_id`` must be a stored finding."""
    r = role_of(role)
    question_of(r, question)
    if not text.strip():
        raise LeadJourneyError("--text: the answer is empty")
    if finding_id is not None:
        known = {f.finding_id for f in list_findings(ws)}
        if finding_id not in known:
            hint = (f"findings: {', '.join(sorted(known))}" if known
                    else "no findings yet: run `leadjourney analyze` first")
            raise LeadJourneyError(f"--finding: no finding {finding_id!r} ({hint})")
    ws.ensure_database()  # workspaces made before interview answers existed get the table now
    at = now or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with ws.connect() as con:
        answer_id = int(scalar(con, "SELECT coalesce(max(answer_id), 0) + 1 FROM interview_answers"))
        con.execute("INSERT INTO interview_answers VALUES (?, ?, ?, ?, ?, ?)",
                    [answer_id, r.key, question, finding_id, text.strip(), at])
    return Answer(answer_id, r.key, question, finding_id, text.strip(), at)


def list_answers(ws: Workspace) -> list[Answer]:
    ws.ensure_database()
    with ws.connect(read_only=True) as con:
        rows = con.execute("SELECT answer_id, role, question, finding_id, answer, recorded_at "
                           "FROM interview_answers ORDER BY role, question, answer_id").fetchall()
    return [Answer(*row) for row in rows]


def interview_markdown(answers: Sequence[Answer], findings: Sequence[Finding], workspace: str = "WORKSPACE",
                       probe_limit: int = 3) -> str:
    """The guide: per role, a summary table, then each question with its probes and recorded answers."""
    by_id = {f.finding_id: f for f in findings}
    lines = ["# Stakeholder interview guide", "",
             "Interview Marketing, Sales and RevOps: the journey does not end at MQL, and data shows where leads "
             "drop off while interviews reveal why. Under each question: what the data says (findings, ASSUMED "
             "until a stakeholder confirms them) and the answers recorded so far. Record an answer by role, "
             "never by name:", "",
             f'`leadjourney report {workspace} answer --role sales --question 4 --finding '
             f'speed_to_lead:median --text "..."`', "",
             "Then move the finding with `leadjourney findings confirm ID` or `correct ID`."]
    for role in ROLES:
        mine = [a for a in answers if a.role == role.key]
        lines += ["", f"## {role.title} interviews", "", f"{role.format}. {counted(len(mine), 'answer')} recorded.", "",
                  "| # | Asked of | Question | Answers |", "|---:|---|---|---:|"]
        lines += [f"| {q.number} | {q.asked_of} | {md(q.text)} | {sum(a.question == q.number for a in mine)} |"
                  for q in role.questions]
        for q in role.questions:
            lines += ["", f"### {role.title} {q.number}. {q.text}", "", f"Asked of: {q.asked_of} ({q.origin})."]
            probes = [f for f in findings if q.probes and f.finding_id.startswith(q.probes)][:probe_limit]
            if probes:
                lines += ["", "What the data says:", ""]
                lines += [f"- `{f.finding_id}` ({f.status}): {md(arrows(f.statement))}" for f in probes]
            lines += ["", "Answers:", ""]
            got = [a for a in mine if a.question == q.number]
            if not got:
                lines.append("- *No answer recorded yet.*")
            for a in got:
                lines.append(f"- {md(a.text)} *(recorded {a.recorded_at:%Y-%m-%d})*")
                if a.finding_id:
                    f = by_id.get(a.finding_id)
                    lines.append(f"  - Linked finding `{a.finding_id}`: "
                                 + (f"{f.status}: {md(arrows(f.statement))}" if f else
                                    "no longer stated by the analysis (re-run `leadjourney analyze`)."))
    return "\n".join(lines) + "\n"

