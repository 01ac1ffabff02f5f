"""Recommendations: the analysis's findings turned into ranked, costed changes, with their evidence.

Rules (:mod:`leadjourney.reports.rules`) fire on the analysis; each firing proposes an
action from the catalogue (:mod:`leadjourney.reports.catalogue`). A recommendation's
impact is the recoverable revenue of the friction rows it addresses (the friction ranking's
``recoverable_per_year``, never recomputed) plus the metric it should move; its effort is the
action's typical hours. Priority = revenue per hour of effort (midpoint of the range);
a quick win takes under five hours at the top of its range (the playbook's Phase 2a).

Recommendations that share a cause share the money: each friction row cited is counted once,
in the recommendation that addresses it at the best revenue per hour (picked greedily: the best
recommendation claims its rows, then the next best the rows still unclaimed, ...); the others
cite it as counted there. A segment row (a source at a transition) whose transition row is also
cited with a recoverable figure is part of that figure (its people are the transition's) and
counts 0. So the recommendations' money adds up to :meth:`Recommendations.reconciliation`'s
total: the friction rows cited, each counted once.

>>> recs = recommend(analyze(ws), statuses=statuses)   # doctest: +SKIP
>>> recs.items[0].title, recs.quick_win_spec()[0].id    # doctest: +SKIP
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from leadjourney.analysis.definitions import DefinitionDrift
from leadjourney.analysis.findings import findings_of
from leadjourney.analysis.friction import Friction, FrictionRow, money
from leadjourney.analysis.journeys import Filters
from leadjourney.analysis.report import Analysis
from leadjourney.display import counted
from leadjourney.errors import OptionError
from leadjourney.progress import Progress
from leadjourney.reports.catalogue import DEFAULT_CATALOGUE, Action, Catalogue, apply_overrides
from leadjourney.reports.document import (
    FILL_INS,
    MAJOR_PROJECTS,
    QUICK_WIN_HOURS,
    QUICK_WINS,
    THANKLESS,
    measure_command,
)
from leadjourney.reports.evidence import CORRECTED, Evidence, Metric, fmt, overall_status
from leadjourney.reports.rules import Check, Context, Firing, fire
from leadjourney.tabular import Tabular
from leadjourney.workspace import Workspace

SCHEMA_VERSION = 1
SPEC_SIZE = 3


@dataclass(frozen=True)
class Recommendation:
    """One change to make, why, what it should move, what it costs and what it rests on."""

    id: str  # action key, plus ":subject" for a stage, source or transition
    action: str
    title: str
    system: str
    why: tuple[str, ...]
    changes: tuple[str, ...]  # fields, workflows, alerts
    acceptance: str
    metric: Metric
    friction: tuple[FrictionRow, ...]
    hours_low: float
    hours_high: float
    origin: str  # where the hours come from
    evidence: tuple[Evidence, ...]
    rules: tuple[str, ...]
    rank: int = 0
    score: float = 0.0  # revenue at stake per hour of effort
    quadrant: str = ""
    counted: tuple[tuple[int, float], ...] = ()  # (friction rank, amount) counted in this recommendation
    elsewhere: tuple[tuple[int, str], ...] = ()  # (friction rank, recommendation id it is counted in)

    @property
    def revenue(self) -> float | None:
        """Recoverable revenue at stake (per year when annualized): the friction rows counted here, once
        across all recommendations; None when it cites no friction row or none with a recoverable figure."""
        if not self.friction or all(r.recoverable_per_year is None for r in self.friction):
            return None
        return sum(amount for _, amount in self.counted)

    @property
    def revenue_cited(self) -> float | None:
        """Every friction row cited, as if this recommendation alone won it all back (not to be added up)."""
        values = [r.recoverable_per_year for r in self.friction if r.recoverable_per_year is not None]
        return sum(values) if values else None

    @property
    def hours(self) -> float:
        return (self.hours_low + self.hours_high) / 2

    @property
    def quick_win(self) -> bool:
        return self.hours_high < QUICK_WIN_HOURS

    @property
    def status(self) -> str:
        return overall_status(self.evidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank, "id": self.id, "action": self.action, "title": self.title, "system": self.system,
            "why": list(self.why), "changes": list(self.changes), "acceptance": self.acceptance,
            "impact": {"revenue_per_year": self.revenue, "friction_ranks": [r.rank for r in self.friction],
                       "revenue_cited_per_year": self.revenue_cited,
                       "friction_counted": [{"rank": k, "amount": v} for k, v in self.counted],
                       "friction_counted_elsewhere": [{"rank": k, "counted_in": rid} for k, rid in self.elsewhere],
                       "metric": self.metric.to_dict()},
            "effort": {"hours_low": self.hours_low, "hours_high": self.hours_high, "origin": self.origin},
            "quick_win": self.quick_win, "priority_score": self.score, "quadrant": self.quadrant,
            "status": self.status, "evidence": [e.to_dict() for e in self.evidence], "rules": list(self.rules),
        }


@dataclass
class Recommendations(Tabular):
    """The ranked recommendations for one analysis, with the checks behind them and their renderers."""

    table_from = "items"  # to_arrow() / to_pandas(): one row per item

    name: str
    workspace: str
    computed_at: str
    currency: str
    n_people: int
    filters: dict[str, Any]
    items: list[Recommendation] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    impact_line: float = 0.0  # revenue at or above this is high impact (the median of the recommendations')
    catalogue: Catalogue = DEFAULT_CATALOGUE
    friction: Friction | None = None  # the analysis's friction ranking: bookings, period, deal size

    def reconciliation(self) -> dict[str, Any]:
        """How the recommendations' money adds up: every friction row cited, each counted once."""
        cited: dict[int, FrictionRow] = {}
        cited_by: dict[int, list[str]] = {}
        counted_in: dict[int, tuple[str, float]] = {}
        for r in self.items:
            for row in r.friction:
                cited.setdefault(row.rank, row)
                cited_by.setdefault(row.rank, []).append(r.id)
            for rank, amount in r.counted:
                counted_in[rank] = (r.id, amount)
        rows: list[dict[str, Any]] = []
        total = 0.0
        for rank in sorted(cited):
            row = cited[rank]
            rid, amount = counted_in.get(rank, ("", 0.0))
            rows.append({"rank": rank, "transition": f"{row.from_stage}->{row.to_stage}", "segment": row.segment,
                         "recoverable": row.recoverable_per_year, "counted": amount, "counted_in": rid or None,
                         "cited_by": cited_by[rank], "note": _overlap_note(row, cited)})
            total += amount
        fr = self.friction
        return {"total_recoverable": total, "rows": rows,
                "sum_of_recommendations": sum(r.revenue or 0.0 for r in self.items),
                "bookings_per_year": fr.bookings_per_year if fr else None,
                "annualized": fr.annualized if fr else None, "per": fr.per if fr else "yr",
                "deal_size_warning": fr.deal_size_warning if fr else None,
                "text": reconciliation_text(total, rows, self.currency, fr)}

    def quick_win_spec(self, size: int = SPEC_SIZE) -> list[Recommendation]:
        """The top quick wins by priority, leaving out any whose evidence stakeholders corrected."""
        return [r for r in self.items if r.quick_win and r.status != CORRECTED][:size]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION, "name": self.name, "workspace": self.workspace,
            "computed_at": self.computed_at, "currency": self.currency, "n_people": self.n_people,
            "filters": self.filters, "quick_win_hours": QUICK_WIN_HOURS, "impact_line": self.impact_line,
            "recommendations": [r.to_dict() for r in self.items],
            "reconciliation": self.reconciliation(),
            "quick_win_spec": [spec_dict(r) for r in self.quick_win_spec()],
            "checks": [{"rule": c.rule, "fired": c.fired, "reason": c.reason} for c in self.checks],
            "catalogue": [a.to_dict() for a in self.catalogue.actions.values()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_markdown(self, image: str | None = "impact_effort.svg") -> str:
        from leadjourney.reports.document import recommendations_markdown

        return recommendations_markdown(self, image)

    def write(self, out_dir: Path | str) -> list[Path]:
        """recommendations.md and .json, the matrix as interactive HTML, SVG and PNG; returns the paths."""
        from leadjourney.reports.matrix import write_matrix

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        md, js = out / "recommendations.md", out / "recommendations.json"
        md.write_text(self.to_markdown("impact_effort.svg"), "utf-8")
        js.write_text(self.to_json(), "utf-8")
        return [md, js, *write_matrix(self, out, "impact_effort")]


def spec_dict(r: Recommendation) -> dict[str, Any]:
    """One quick win as an implementable spec (Phase 2a)."""
    return {"id": r.id, "rank": r.rank, "title": r.title, "system": r.system, "hours_low": r.hours_low,
            "hours_high": r.hours_high, "changes": list(r.changes), "acceptance": r.acceptance,
            "metric": r.metric.to_dict(), "status": r.status, "measure": measure_command(r)}




def recommend(analysis: Analysis, *, statuses: Mapping[str, str] | None = None,
              targets: Mapping[str, float] | None = None, currency: str = "USD", name: str = "",
              catalogue: Catalogue = DEFAULT_CATALOGUE, impact_line: float | None = None,
              drift: Sequence[DefinitionDrift] = (), labels: Mapping[str, str] | None = None) -> Recommendations:
    """Recommendations for an analysis; ``statuses`` maps finding ids to ASSUMED/CONFIRMED/CORRECTED;
    ``drift`` is the definition check's drift, when the caller ran it; ``labels`` name sources in titles."""
    known = frozenset(f.finding_id for f in findings_of(analysis))
    ctx = Context(analysis, statuses or {}, targets or {}, known, tuple(drift), labels or {})
    firings, checks = fire(ctx)
    merged: dict[str, Recommendation] = {}
    for firing in firings:
        action = catalogue.for_rule(firing.rule)
        if action is None:
            continue
        rec = _recommendation(action, firing)
        merged[rec.id] = _merge(merged[rec.id], rec) if rec.id in merged else rec
    items = sorted((replace(r, score=(r.revenue or 0.0) / r.hours) for r in allocate(list(merged.values()))),
                   key=lambda r: (-r.score, r.hours_high, r.id))
    positive = [r.revenue for r in items if r.revenue]
    line = impact_line if impact_line is not None else (statistics.median(positive) if positive else 0.0)
    items = [replace(r, rank=i + 1, quadrant=quadrant(r, line)) for i, r in enumerate(items)]
    return Recommendations(name or analysis.workspace, analysis.workspace, analysis.computed_at, currency,
                           analysis.n_people, analysis.filters.to_dict(), items, checks, line, catalogue,
                           analysis.friction)


def countable(row: FrictionRow, cited: Mapping[int, FrictionRow]) -> float:
    """What a cited friction row adds to the total: its recoverable figure, except a segment row whose
    transition row is cited too with a recoverable figure above 0 (the segment's people are part of it)."""
    if row.recoverable_per_year is None:
        return 0.0
    if row.segment is not None and _transition_row(row, cited) is not None:
        return 0.0
    return row.recoverable_per_year


def _transition_row(row: FrictionRow, cited: Mapping[int, FrictionRow]) -> FrictionRow | None:
    return next((t for t in cited.values() if t.segment is None and (t.from_stage, t.to_stage)
                 == (row.from_stage, row.to_stage) and (t.recoverable_per_year or 0.0) > 0), None)


def _overlap_note(row: FrictionRow, cited: Mapping[int, FrictionRow]) -> str | None:
    if row.recoverable_per_year is None:
        return row.status.text() or "not judged"
    whole = _transition_row(row, cited) if row.segment is not None else None
    return f"within friction #{whole.rank} (same people), counted there" if whole is not None else None


def allocate(recs: list[Recommendation]) -> list[Recommendation]:
    """Each friction row cited counted once: the recommendation with the best revenue per hour over the
    rows still unclaimed claims them, then the next; the others reference where each row is counted."""
    cited: dict[int, FrictionRow] = {row.rank: row for r in recs for row in r.friction}
    amount = {rank: countable(row, cited) for rank, row in cited.items()}
    owner: dict[int, str] = {}
    pending = list(recs)
    order: list[Recommendation] = []
    while pending:
        def value(r: Recommendation) -> tuple[float, float, str]:
            free = sum(amount[row.rank] for row in r.friction if row.rank not in owner)
            return (-free / r.hours, r.hours_high, r.id)

        best = min(pending, key=value)
        pending.remove(best)
        for row in best.friction:
            owner.setdefault(row.rank, best.id)
        order.append(best)
    out = []
    for r in recs:
        mine = tuple((row.rank, amount[row.rank]) for row in r.friction if owner.get(row.rank) == r.id)
        other = tuple((row.rank, owner[row.rank]) for row in r.friction if owner.get(row.rank) != r.id)
        out.append(replace(r, counted=mine, elsewhere=other))
    return out


def reconciliation_text(total: float, rows: Sequence[Mapping[str, Any]], currency: str,
                        fr: Friction | None) -> str:
    """One line: the total, what it is the sum of, and the bookings beside it."""
    per = fr.per if fr else "yr"
    priced = [r for r in rows if r["counted"]]
    text = (f"Total recoverable {money(total, currency)} / {per} = sum of the {counted(len(rows), 'friction row')} cited, "
            f"each counted once ({len(priced)} with money; a row shared by several recommendations is counted in "
            f"the one with the best revenue per hour, the others reference it)")
    if fr is not None and fr.bookings_per_year is not None:
        text += f"; current bookings {money(fr.bookings_per_year, currency)} / {per}"
    return text + "."


def quadrant(r: Recommendation, impact_line: float) -> str:
    high = bool(r.revenue) and (r.revenue or 0.0) >= impact_line
    if r.quick_win:
        return QUICK_WINS if high else FILL_INS
    return MAJOR_PROJECTS if high else THANKLESS


def _recommendation(action: Action, f: Firing) -> Recommendation:
    m = f.metric
    target = fmt(m.target, m.unit) if m.target is not None else "the target agreed with stakeholders"
    params = {"metric": m.label, **f.params, "current": fmt(m.current, m.unit), "target": target}
    rid = action.key + (f":{f.subject}" if f.subject else "")
    title = action.render(action.title, params)
    if f.label and title == action.title:  # a title without placeholders: say what it is about
        title = f"{title}: {f.label}"
    return Recommendation(
        id=rid, action=action.key, title=title, system=action.system,
        why=(f.why,), changes=tuple(action.render(c, params) for c in action.changes),
        acceptance=action.render(action.acceptance, params), metric=m, friction=f.friction,
        hours_low=action.hours_low, hours_high=action.hours_high, origin=action.origin,
        evidence=f.evidence, rules=(f.rule,),
    )


def _merge(a: Recommendation, b: Recommendation) -> Recommendation:
    """Two firings proposing the same change: one recommendation citing both."""
    ranks = {r.rank for r in a.friction}
    seen = {(e.metric, e.finding_id) for e in a.evidence}
    return replace(a, why=a.why + tuple(w for w in b.why if w not in a.why),
                   friction=a.friction + tuple(r for r in b.friction if r.rank not in ranks),
                   evidence=a.evidence + tuple(e for e in b.evidence if (e.metric, e.finding_id) not in seen),
                   rules=a.rules + tuple(r for r in b.rules if r not in a.rules))


def statuses_of(ws: Workspace, analysis: Analysis) -> dict[str, str]:
    """Finding id -> status of the analysis' own selection, as stored in the workspace (empty before the first
    `leadjourney analyze` of that selection): a sign-off of all leads never vouches for a selection's number."""
    from leadjourney.analysis.findings import list_findings, selection_of

    return {f.finding_id: f.status for f in list_findings(ws, selection_of(analysis))}


def recommendations_for(ws: Workspace, analysis: Analysis,
                        drift: Sequence[DefinitionDrift] = ()) -> Recommendations:
    """The recommendations of ``analysis`` with the workspace's finding statuses, targets and the
    catalogue of actions with the config's ``[[actions]]`` applied."""
    cfg = ws.config
    try:
        catalogue = apply_overrides(DEFAULT_CATALOGUE, cfg.actions)
    except OptionError as exc:
        raise OptionError(f"{ws.config_path}: {exc}") from None
    return recommend(analysis, statuses=statuses_of(ws, analysis), targets=cfg.targets, currency=cfg.currency,
                     name=cfg.name, catalogue=catalogue, drift=drift, labels=cfg.labels)


def make_recommendations(ws: Workspace, *, filters: Filters | None = None, now: datetime | None = None,
                         progress: Progress | None = None) -> Recommendations:
    """Analyze the workspace (or a selection), check its definitions, and build its recommendations."""
    from leadjourney.analysis import analyze_journeys, open_journeys
    from leadjourney.analysis.definitions import DefinitionCheck

    with open_journeys(ws, filters, now, check=True) as journeys:
        analysis = analyze_journeys(journeys, str(ws.root), progress=progress)
        drift = DefinitionCheck().fit(journeys).drift
    return recommendations_for(ws, analysis, drift)
