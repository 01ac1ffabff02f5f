"""Definition drift, the speed-to-lead SLA, and stakeholder sign-offs of the ``[[definitions]]``.

The seed's first gotcha ("different teams use different definitions") made measurable:
for each term with a ``stage`` and ``criteria``, the people who entered that stage
without meeting the criteria at entry. Each criterion is one engine expression over one
row per person who entered the stage: their lead fields (their own record, persona
included) and their touchpoints at or before their first entry into the stage (over
all the records they are merged from). A missing value does not meet a criterion.
People whose entry is undated are not judged on behaviour criteria (touches before an
unknown moment are unknown); with lead-field criteria only, everyone who entered is.

Sign-offs record who approved which wording of a term, as which role. Names are
personal data: they are stored for the document the user asked for, and never logged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.stats import wilson_interval
from leadjourney.analysis.status import OK, MetricStatus, withheld
from leadjourney.casefold import case_insensitive
from leadjourney.config import Config, normalize_key
from leadjourney.criteria import CRITERIA_FIELDS, Criterion, Definition
from leadjourney.engine import fetch, fetch_rows, fetch_value
from leadjourney.errors import LeadJourneyError
from leadjourney.ingest.person_engagement import HUMAN
from leadjourney.tabular import Tabular
from leadjourney.workspace import Workspace

REQUIRED_ROLES = ("Marketing", "Sales", "RevOps")  # the playbook's sign-off: all three
ROLES = (*REQUIRED_ROLES, "Executive")  # the executive sponsor may approve too
_ROLE_SPELLINGS = {normalize_key(r): r for r in ROLES} | {
    "revenueoperations": "RevOps", "salesops": "RevOps", "executivesponsor": "Executive", "exec": "Executive",
}
LEAD_FIELDS = ("employee_count", "industry", "job_title", "country")  # read from the person's own record


@dataclass(frozen=True)
class CriterionDrift:
    criterion: str
    n_failed: int  # judged people who did not meet this criterion (others may have failed too)
    share: float | None


@dataclass
class DefinitionDrift:
    """Who entered ``stage`` without meeting the term's criteria at entry."""

    term: str
    stage: str
    n_entered: int = 0
    n_undated: int = 0  # entered at an unknown time
    n_judged: int = 0  # n_entered, minus the undated when a criterion is about behaviour
    n_failed: int = 0  # did not meet all criteria
    share: float | None = None
    ci: tuple[float, float] | None = None
    examples: list[str] = field(default_factory=list)  # person ids, the first in id order
    criteria: list[CriterionDrift] = field(default_factory=list)
    status: MetricStatus = OK  # withheld when the stage has no entries loaded

    @property
    def most_failed(self) -> CriterionDrift | None:
        """The criterion the most people failed (the first listed on ties), if anyone failed."""
        worst = max(self.criteria, key=lambda c: c.n_failed, default=None)
        return worst if worst is not None and worst.n_failed else None

    def to_dict(self) -> dict[str, Any]:
        worst = self.most_failed
        return {
            "term": self.term, "stage": self.stage, "n_entered": self.n_entered, "n_undated": self.n_undated,
            "n_judged": self.n_judged, "n_failed": self.n_failed, "share": self.share,
            "ci": list(self.ci) if self.ci else None, "examples": self.examples,
            "criteria": [{"criterion": c.criterion, "n_failed": c.n_failed, "share": c.share}
                         for c in self.criteria],
            "most_failed": worst.criterion if worst else None,
            "status": self.status.status.value, "status_reason": self.status.reason,
        }


@dataclass
class SlaCheck:
    """The share of people with an inbound signal whom a person contacted within ``sla_minutes``.

    Counted like :class:`SpeedToLead` (same signal, same people judged: signals too recent to
    judge and still uncontacted are left out).
    """

    term: str
    sla_minutes: float
    signal: str | None = None
    signal_stage: str | None = None
    n_judged: int = 0
    n_within: int = 0
    share: float | None = None
    ci: tuple[float, float] | None = None
    n_never_contacted: int = 0
    median_minutes: float | None = None
    status: MetricStatus = OK  # speed-to-lead's: withheld without its inputs

    def to_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        out["ci"] = list(self.ci) if self.ci else None
        out["status"], out["status_reason"] = self.status.status.value, self.status.reason
        return out


@dataclass
class DefinitionCheck(Tabular):
    """The data checked against the configured definitions: drift per stage term, and each SLA.

    >>> check = DefinitionCheck().fit(journeys)   # doctest: +SKIP
    >>> check.drift[0].n_failed, check.drift[0].most_failed.criterion   # doctest: +SKIP
    (120, 'touches >= 3')
    """

    table_from = "drift"  # to_arrow() / to_pandas(): one row per item

    definitions: tuple[Definition, ...] | None = None  # None: the config's [[definitions]]
    as_of: datetime | None = None
    max_examples: int = 5
    n_touchpoints: int = 0  # the selection's touchpoints up to as_of (0: behaviour criteria cannot hold)
    drift: list[DefinitionDrift] = field(default_factory=list)
    sla: list[SlaCheck] = field(default_factory=list)

    def fit(self, journeys: Journeys) -> DefinitionCheck:
        config = journeys.config
        self.definitions = config.definitions if self.definitions is None else self.definitions
        self.as_of = self.as_of or journeys.as_of()
        touches = journeys.touchpoints(self.as_of)
        self.n_touchpoints = int(fetch_value(touches.count()))
        self.drift = [self._drift(journeys, d) if d.stage in config.stage_names
                      else DefinitionDrift(d.term, d.stage, status=withheld(f"no {d.stage} entries loaded"))
                      for d in self.definitions if d.stage and d.criteria]
        slas = [d for d in self.definitions if d.sla_minutes is not None]
        self.sla = _sla(journeys, slas, self.as_of) if slas else []
        return self

    def _drift(self, journeys: Journeys, d: Definition) -> DefinitionDrift:
        assert d.stage is not None and self.as_of is not None
        rows = entrants(journeys, d.stage, d.criteria, self.as_of)
        behaviour = any(c.is_behaviour for c in d.criteria)
        ok = [criterion_expr(c, rows, f"c{j}") for j, c in enumerate(d.criteria)]
        judged = rows.entered_at.notnull() if behaviour else ibis.literal(True)
        rows = rows.mutate(judged=judged, all_ok=functools.reduce(operator.and_, ok),
                           **{f"ok{j}": e for j, e in enumerate(ok)})
        failed = rows.judged & ~rows.all_ok
        counts = fetch_rows(rows.aggregate(
            n=rows.count(), undated=rows.entered_at.isnull().sum(), judged=rows.judged.sum(), failed=failed.sum(),
            **{f"f{j}": (rows.judged & ~rows[f"ok{j}"]).sum() for j in range(len(ok))},
        ))[0]
        examples = rows.filter(failed).order_by("person_id").limit(self.max_examples).person_id
        n_judged, n_failed = int(counts["judged"] or 0), int(counts["failed"] or 0)
        return DefinitionDrift(
            d.term, d.stage, int(counts["n"]), int(counts["undated"] or 0), n_judged, n_failed,
            n_failed / n_judged if n_judged else None, wilson_interval(n_failed, n_judged) if n_judged else None,
            [str(p) for p in fetch(examples).column(0).to_pylist()],
            [CriterionDrift(c.text, int(counts[f"f{j}"] or 0), int(counts[f"f{j}"] or 0) / n_judged if n_judged
                            else None) for j, c in enumerate(d.criteria)],
        )

    def caveat(self) -> str | None:
        behaviour = any(c.is_behaviour for d in self.definitions or () for c in d.criteria)
        if behaviour and self.n_touchpoints == 0:
            return ("no touchpoints in the selection: criteria on touches, human_touches and has_touch "
                    "cannot hold; load the touchpoints export before reading the drift")
        return None

    def summary(self) -> list[dict[str, Any]]:
        """One row per checked term: what was checked and how far the data drifts from it."""
        out: list[dict[str, Any]] = []
        for r in self.drift:
            worst = r.most_failed
            out.append({"term": r.term, "check": f"entered {r.stage} without meeting the criteria",
                        "n": r.n_judged, "count": r.n_failed, "share": r.share,
                        "detail": r.status.text() if not r.status.judged
                        else f"most failed: {worst.criterion}" if worst else ""})
        for s in self.sla:
            out.append({"term": s.term, "check": f"contacted by a person within {s.sla_minutes:g} min",
                        "n": s.n_judged, "count": s.n_within, "share": s.share,
                        "detail": s.status.text() if not s.status.judged
                        else f"{s.n_never_contacted:,} never contacted"})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "n_touchpoints": self.n_touchpoints,
            "drift": [r.to_dict() for r in self.drift],
            "sla": [s.to_dict() for s in self.sla],
            "caveat": self.caveat(),
        }


def entrants(journeys: Journeys, stage: str, criteria: tuple[Criterion, ...], as_of: datetime) -> ir.Table:
    """One row per selected person who entered ``stage``: person_id, person_key, entered_at (first entry, NULL
    if undated), the lead fields, and per behaviour criterion ``c<j>`` its aggregate before entry."""
    i = journeys.config.stage_names.index(stage)
    wide = journeys.wide()
    rows = wide.filter(wide[f"has_{i}"].fill_null(False)).select("person_id", "person_key", entered_at=wide[f"at_{i}"])
    people = journeys.people().select("person_id", "source", "status", "persona")
    leads = journeys.table("leads")
    own = leads.select(person_id=leads.lead_id, **{f: leads[f] for f in LEAD_FIELDS})
    rows = rows.join(people, "person_id").left_join(own, "person_id").drop("person_id_right")
    behaviour = {f"c{j}": c for j, c in enumerate(criteria) if c.is_behaviour}
    if not behaviour:
        return rows
    touches = journeys.touchpoints(as_of)
    before = touches.join(rows.select("person_key", "entered_at"), "person_key")
    before = before.filter(before.occurred_at <= before.entered_at)
    per_person = before.group_by("person_key").aggregate(**{
        name: (before.count() if c.field == "touches"
               else (before.actor == HUMAN).sum() if c.field == "human_touches"
               else before.kind.isin([str(v) for v in c.values]).any())
        for name, c in behaviour.items()
    })
    rows = rows.left_join(per_person, "person_key").drop("person_key_right")
    return rows.mutate(**{name: rows[name].fill_null(False if c.field == "has_touch" else 0)
                          for name, c in behaviour.items()})


def criterion_expr(c: Criterion, rows: ir.Table, name: str) -> ir.BooleanValue:
    """Whether each row meets ``c`` (NULL never does); behaviour criteria read column ``name``."""
    if c.field == "has_touch":
        hit = rows[name]
        return (~hit if c.op in ("!=", "not in") else hit).fill_null(False)
    value = rows[name] if c.is_behaviour else rows[c.field]
    if CRITERIA_FIELDS[c.field] == "text":
        if c.op == "matches":
            return value.re_search(case_insensitive(str(c.values[0]))).fill_null(False)  # RE2's (?i) on every engine
        value = value.lower()
    ops = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
           ">=": operator.ge}
    if c.op == "in":
        expr = value.isin(list(c.values))
    elif c.op == "not in":
        expr = value.notin(list(c.values))
    else:
        expr = ops[c.op](value, c.values[0])
    return expr.fill_null(False)


def _sla(journeys: Journeys, definitions: list[Definition], as_of: datetime) -> list[SlaCheck]:
    """Each SLA judged on SpeedToLead's people: its signal, its first human touch, its denominator."""
    speed = SpeedToLead(as_of=as_of).fit(journeys)
    if not speed.status.shown:
        return [SlaCheck(d.term, d.sla_minutes or 0.0, speed.signal, speed.signal_stage, status=speed.status)
                for d in definitions]
    people = speed.people(journeys)  # the same clock start and first human touch as SpeedToLead
    people = people.filter(people.signal_at.notnull() & (people.signal_at <= ibis.timestamp(as_of)))
    minutes = (people.first_human_at.epoch_seconds() - people.signal_at.epoch_seconds()) / 60.0
    counts = fetch_rows(people.aggregate(**{f"w{j}": (minutes <= d.sla_minutes).fill_null(False).sum()
                                            for j, d in enumerate(definitions)}))[0]
    out = []
    for j, d in enumerate(definitions):
        assert d.sla_minutes is not None
        k, n = int(counts[f"w{j}"] or 0), speed.n_judged
        out.append(SlaCheck(d.term, d.sla_minutes, speed.signal, speed.signal_stage, n, k, k / n if n else None,
                            wilson_interval(k, n) if n else None, speed.n_never_contacted, speed.median_minutes,
                            speed.status))
    return out


# -- sign-offs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignOff:
    """One stakeholder's approval of one wording of a term."""

    term: str
    approved_by: str
    role: str
    approved_at: datetime
    note: str | None
    wording_sha256: str


def wording_sha256(d: Definition) -> str:
    """Fingerprint of what is approved: the term, its wording, stage, criteria and SLA."""
    wording = [d.term, d.definition, d.stage, [c.text for c in d.criteria], d.sla_minutes]
    return hashlib.sha256(json.dumps(wording).encode("utf-8")).hexdigest()


def find_definition(config: Config, term: str) -> Definition:
    """The configured definition of ``term`` (ignoring case, spaces and punctuation)."""
    for d in config.definitions:
        if normalize_key(d.term) == normalize_key(term):
            return d
    known = ", ".join(d.term for d in config.definitions) or "none; add [[definitions]] to leadjourney.toml"
    raise LeadJourneyError(f"no definition of {term!r} in leadjourney.toml (terms: {known})")


def canonical_role(role: str) -> str:
    """``Marketing``, ``Sales``, ``RevOps`` or ``Executive`` from a spelling of it."""
    found = _ROLE_SPELLINGS.get(normalize_key(role))
    if found is None:
        raise LeadJourneyError(f"--role: expected one of {', '.join(ROLES)}, found {role!r}")
    return found


def approve(ws: Workspace, term: str, approved_by: str, role: str, note: str | None = None,
            now: datetime | None = None) -> SignOff:
    """Record that ``approved_by``, speaking for ``role``, approves the current wording of ``term``."""
    d = find_definition(ws.config, term)
    role = canonical_role(role)
    if not approved_by.strip():
        raise LeadJourneyError("--by: say who approves (their name, as the document should show it)")
    signoff = SignOff(d.term, approved_by.strip(), role, now or datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                      note, wording_sha256(d))
    ws.ensure_database()  # workspaces made before sign-offs existed get the table now
    with ws.connect() as con:
        con.execute("INSERT INTO definition_signoffs VALUES (?, ?, ?, ?, ?, ?)", [
            signoff.term, signoff.approved_by, signoff.role, signoff.approved_at, signoff.note,
            signoff.wording_sha256])
    return signoff


def sign_offs(ws: Workspace) -> list[SignOff]:
    """Every recorded sign-off, oldest first."""
    ws.ensure_database()
    with ws.connect(read_only=True) as con:
        rows = con.execute("SELECT term, approved_by, role, approved_at, note, wording_sha256 "
                           "FROM definition_signoffs ORDER BY approved_at, term, role, approved_by").fetchall()
    return [SignOff(*row) for row in rows]
