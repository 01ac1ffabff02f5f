"""Build a :class:`JourneyMap` from an analysis, the touchpoint inventory, personas, findings and targets.

Persona swim lanes (``PERSONA_RULE``): a persona's conversion point *differs* when its
conversion is significantly different from the other personas' (the analysis's two-proportion
z-test against the rest, Holm-corrected per transition). When any persona differs at any
transition, every persona gets a lane (so they can be compared) and the differing points are
flagged; otherwise the lanes are left out and a caveat says the journeys do not differ.

Finding marks match the ids :mod:`leadjourney.analysis.findings` stores:
``conversion:A->B`` on a rate, ``time:A->B`` on a median, ``drop_off:A->B[:segment]`` on a
drop-off and ``dark_leads:share`` on the dark-lead path. A mark is *stale* when the
finding stated a different number than the map shows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta

from leadjourney.analysis.findings import Finding, findings_of
from leadjourney.analysis.friction import FrictionRow
from leadjourney.analysis.funnel import WITHOUT_DATA
from leadjourney.analysis.persona_profiles import PersonaProfiles
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.status import OK, MetricStatus, withheld
from leadjourney.analysis.time_in_stage import StageTime
from leadjourney.config import Config
from leadjourney.display import money
from leadjourney.errors import MapError
from leadjourney.journeymap.campaign_points import marketing_points
from leadjourney.journeymap.model import (
    ConversionPoint,
    DarkPath,
    DropOffPoint,
    JourneyMap,
    Lane,
    Mark,
    PersonaLane,
    PersonaPoint,
    StageNode,
    TouchpointCard,
    TouchpointLike,
)

PERSONA_RULE = ("a persona differs where it converts significantly differently from the other personas "
                "(95% confidence, allowing for the many comparisons)")  # the method: this module's docstring


def build_map(analysis: Analysis, touchpoints: Sequence[TouchpointLike], *, config: Config,
              personas: PersonaProfiles | None = None, findings: Sequence[Finding] | None = None,
              ideal: Mapping[str, float] | None = None) -> JourneyMap:
    """The journey map of ``analysis``: lanes of ``config``, touchpoints by lane, and the overlays given."""
    marks = {f.finding_id: f for f in findings or ()}
    targets = _targets(ideal or {}, [f"{t.from_stage}->{t.to_stage}" for t in analysis.funnel.transitions])
    conversions = tuple(_conversions(analysis, marks, targets))
    drop_offs = tuple(_drop_offs(analysis, marks))
    lanes_personas = _personas(personas) if personas is not None else ()
    comparable = len(lanes_personas) > 1  # a single persona is the whole selection
    persona_lanes = lanes_personas if comparable and any(p.differs for p in lanes_personas) else ()
    persona_note = None
    if comparable:
        persona_note = (f"Persona lanes shown: {PERSONA_RULE}." if persona_lanes else
                        f"Persona lanes omitted: the {len(lanes_personas)} personas follow the overall journey "
                        f"(no case where {PERSONA_RULE.removeprefix('a persona differs where ')}).")
    return JourneyMap(
        title=config.name,
        period=_period(analysis),
        as_of=analysis.time_in_stage.as_of.isoformat(timespec="seconds") if analysis.time_in_stage.as_of else None,
        n_people=analysis.n_people,
        currency=config.currency,
        funnel_mode=analysis.funnel.mode,
        lanes=_lanes(config, analysis, touchpoints),
        stages=tuple(StageNode(s.stage, s.lane, s.reached, s.imputed) for s in analysis.funnel.stages),
        conversions=conversions,
        drop_offs=drop_offs,
        dark=_dark(analysis, marks),
        personas=persona_lanes,
        persona_note=persona_note,
        caveats=tuple(_caveats(analysis, config, findings, persona_note)),
        has_findings=findings is not None,
        has_targets=bool(targets),
        computed_at=analysis.computed_at,
        money_per=analysis.friction.per,
        labels=dict(config.labels),
        unconfirmed=_unconfirmed(analysis, findings),
        marketing=marketing_points(analysis, config),
    )


def _unconfirmed(analysis: Analysis, findings: Sequence[Finding] | None) -> int:
    """Findings not yet confirmed: those stored as ASSUMED, or (none stored yet) every finding of the analysis."""
    if not findings:
        return len(findings_of(analysis))
    return sum(f.status == "ASSUMED" for f in findings)


def _mark(marks: Mapping[str, Finding], finding_id: str, current: float | None) -> Mark | None:
    f = marks.get(finding_id)
    return None if f is None else Mark(f.finding_id, f.status, f.note, f.value, current)


def _targets(ideal: Mapping[str, float], keys: list[str]) -> dict[str, float]:
    out = {}
    for raw, value in ideal.items():
        key = re.sub(r"\s*(->|→)\s*", "->", raw.strip())
        if key not in keys:
            raise MapError(f"ideal-state target {raw!r} names no transition; use one of {', '.join(keys)}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise MapError(f"ideal-state target for {key} must be a share between 0 and 1 "
                           f"(0.3 for 30%), found {value!r}")
        out[key] = float(value)
    return out


def _median(row: StageTime | None) -> tuple[float | None, bool]:
    """Kaplan-Meier median where reached, else the naive median of those who completed."""
    if row is None:
        return None, False
    if row.km_median_reached and row.km_median_days is not None:
        return row.km_median_days, True
    return row.median_days, False


def _conversions(analysis: Analysis, marks: Mapping[str, Finding],
                 targets: Mapping[str, float]) -> list[ConversionPoint]:
    times = {(r.from_stage, r.to_stage): r for r in analysis.time_in_stage.rows}
    whole = {(r.from_stage, r.to_stage): r for r in analysis.friction.rows if r.segment is None}
    out = []
    for t in analysis.funnel.transitions:
        pair = (t.from_stage, t.to_stage)
        key = f"{t.from_stage}->{t.to_stage}"
        time_row = times.get(pair)
        median, is_km = _median(time_row)
        friction = whole.get(pair)
        out.append(ConversionPoint(
            t.from_stage, t.to_stage, t.entered, t.converted, t.rate, t.ci_low, t.ci_high,
            median, is_km, time_row.caveat if time_row else None,
            friction.rank if friction else None, friction.recoverable_per_year if friction else None,
            friction.hypothesis if friction else None,
            targets.get(key), _mark(marks, f"conversion:{key}", t.rate),
            _mark(marks, f"time:{key}", time_row.km_median_days if time_row else None), t.status,
            target_source=friction.recoverable_text() if friction else "",
        ))
    return out


def _drop_offs(analysis: Analysis, marks: Mapping[str, Finding]) -> list[DropOffPoint]:
    rows = {(r.from_stage, r.to_stage, r.segment): r for r in analysis.friction.rows}
    out = []
    for d in analysis.friction.drop_offs:
        row = rows.get((d.from_stage, d.to_stage, d.segment))
        finding_id = f"drop_off:{d.from_stage}->{d.to_stage}{':' + d.segment if d.segment else ''}"
        out.append(DropOffPoint(
            d.from_stage, d.to_stage, d.segment, d.rate, d.ci_high, d.compared_with, d.reason,
            row.recoverable_per_year if row else None, row.rank if row else None, row.hypothesis if row else None,
            _mark(marks, finding_id, d.rate), _revenue_status(row),
        ))
    return out


def _revenue_status(row: FrictionRow | None) -> MetricStatus:
    """Why a drop-off has no recoverable revenue (the friction row's status, or its reason); OK when it has."""
    if row is None:
        return withheld("not in the friction ranking")
    if row.recoverable_per_year is not None:
        return OK
    return row.status if not row.status.judged else withheld(row.recoverable_text())


def _lanes(config: Config, analysis: Analysis, touchpoints: Sequence[TouchpointLike]) -> tuple[Lane, ...]:
    stage_lane = {s.name: s.lane for s in config.stages}
    by_lane: dict[str, list[TouchpointCard]] = defaultdict(list)
    for row in touchpoints:
        lane = row.lane if row.lane in config.lanes else stage_lane.get(row.stage, row.lane)
        by_lane[lane].append(TouchpointCard(row.stage, lane, row.kind, row.channel, bool(row.automated),
                                            int(row.volume), int(row.unique_leads), getattr(row, "lift", None),
                                            getattr(row, "lift_ci_low", None), getattr(row, "lift_ci_high", None)))
    unknown = sorted(set(by_lane) - set(config.lanes))
    if unknown:
        raise MapError(f"touchpoints name lanes {', '.join(map(repr, unknown))} that are not in the config's "
                       f"lanes ({', '.join(config.lanes)})")
    stages = [s.stage for s in analysis.funnel.stages]
    return tuple(
        Lane(name, tuple(s for s in stages if stage_lane.get(s) == name),
             tuple(sorted(by_lane[name], key=lambda c: (-c.volume, c.label, c.stage))))
        for name in config.lanes
    )


def _personas(profiles: PersonaProfiles) -> tuple[PersonaLane, ...]:
    lanes = []
    for profile in profiles.profiles:
        if not profile.people:
            continue
        times = {(t.from_stage, t.to_stage): t for t in profile.times}
        points = []
        for t in profile.transitions:
            differs = t.direction if t.significant else None
            time = times.get((t.from_stage, t.to_stage))
            median = time.median_days if time is not None else None
            is_km = time is not None and time.basis == "kaplan_meier"
            points.append(PersonaPoint(t.from_stage, t.to_stage, t.entered, t.rate, t.ci_low, t.ci_high,
                                       median, is_km, differs))
        lanes.append(PersonaLane(profile.persona, profile.people, tuple(points)))
    return tuple(lanes)


def _dark(analysis: Analysis, marks: Mapping[str, Finding]) -> DarkPath:
    d = analysis.dark_leads
    return DarkPath(d.dark_after_days, d.n_open, d.n_dark, d.dark_share, d.median_days_silent,
                    dict(d.by_stage), d.n_re_engaged, dict(d.re_engaged_by), d.n_re_engaged_then_advanced,
                    _mark(marks, "dark_leads:share", d.dark_share), d.status, dict(d.re_engaged_by_stage))


def _period(analysis: Analysis) -> str:
    f = analysis.filters
    as_of = analysis.time_in_stage.as_of
    if f.date_from or f.date_to:
        span = f"leads created {f.date_from or 'start'} to {f.date_to or 'now'}"
    elif as_of is not None and analysis.friction.period_days:
        first = as_of - timedelta(days=analysis.friction.period_days)
        span = f"leads created {first:%Y-%m-%d} to {as_of:%Y-%m-%d}"
    else:
        span = "all leads"
    if f.sources:
        span += f" from {', '.join(f.sources)}"
    return span


# the analysis' names for its methods, as the map's readers say them (analysis.md keeps the methods' names)
PLAIN = (("Kaplan-Meier median not reached", "median time not reached yet"),
         ("censoring-aware median", "median counting those still waiting"),
         ("naive median", "median of those who moved on"))


def plain_caveat(text: str) -> str:
    """A time-in-stage caveat in the map's words: no method names."""
    for method, words in PLAIN:
        text = text.replace(method, words)
    return text


def _caveats(analysis: Analysis, config: Config, findings: Sequence[Finding] | None,
             persona_note: str | None) -> list[str]:
    out = []
    if findings is None:
        out.append("All numbers are ASSUMED until stakeholders confirm them (`leadjourney findings`).")
    else:
        status: dict[str, int] = defaultdict(int)
        for f in findings:
            status[f.status] += 1
        out.append(f"Findings: {status['CONFIRMED']} CONFIRMED, {status['CORRECTED']} CORRECTED, "
                   f"{status['ASSUMED']} ASSUMED by stakeholders.")
    if analysis.funnel.mode == "stage_reach":
        out.append("Funnel counts stage reach: people still waiting count as not (yet) converted.")
    for stage in analysis.funnel.stages_without_data:
        out.append(f"{stage}: {WITHOUT_DATA}.")
    for name, metric in (("Speed-to-lead", analysis.speed_to_lead.status), ("Dark leads", analysis.dark_leads.status)):
        if not metric.judged:
            out.append(f"{name} {metric.text()}.")
    for s in analysis.funnel.stages:
        if s.imputed:
            out.append(f"{s.imputed:,} of {s.reached:,} people counted at {s.stage} have no CRM entry for it "
                       f"(imputed from a later stage).")
    for r in analysis.time_in_stage.rows:
        if r.caveat and (r.from_stage, r.to_stage) in {(t.from_stage, t.to_stage) for t in analysis.funnel.transitions}:
            out.append(f"{r.from_stage} → {r.to_stage}: {plain_caveat(r.caveat)}.")
    fr = analysis.friction
    if fr.deal_size_warning:
        out.insert(0, f"Warning: {fr.deal_size_warning}.")
    bookings = money(fr.bookings_per_year, config.currency) if fr.bookings_per_year is not None else "-"
    out.append(f"Current bookings {bookings}/{fr.per}; recoverable revenue at the transitions "
               f"{money(fr.total_recoverable(), config.currency)}/{fr.per} = the gap to a named target (config "
               f"[targets], else the benchmark's low end; for a segment, the other segments) x entered x later win "
               f"probability x deal size ({money(fr.deal_size, config.currency)}, {fr.deal_size_source}); "
               f"figures {fr.period_text}. The value of all drop-offs "
               f"({money(fr.total_value_of_all_dropoffs(), config.currency)}/{fr.per}) is an upper bound.")
    if persona_note:
        out.append(persona_note)
    return out

