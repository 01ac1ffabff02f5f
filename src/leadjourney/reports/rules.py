"""The rules that turn an analysis into recommendation firings.

Each rule reads numbers the analysis already computed (nothing is recomputed from the
data), decides whether it fires, and says why or why not. Thresholds shared with the
friction ranking's hypotheses are imported from there, so a hypothesis and its
recommendation cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from leadjourney.analysis.dark_leads import DarkLeads
from leadjourney.analysis.definitions import DefinitionDrift
from leadjourney.analysis.friction import (
    DARK_HIGH,
    NEVER_CONTACTED_HIGH,
    SLOW_RESPONSE_MINUTES,
    FrictionRow,
)
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.sources import UNKNOWN
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.stats import wilson_interval
from leadjourney.analysis.time_in_stage import BIASED_IF_OFF_BY
from leadjourney.display import arrows, counted, display_name
from leadjourney.reports.evidence import ASSUMED, Evidence, Metric

RED_FLAG_MEAN_MINUTES = 120.0  # the playbook's monthly red flag: speed-to-lead ">2 hours average"
ESCALATE_AFTER_MINUTES = 30  # the alert escalates when nobody called within this ("5 min vs 30+ min": 21x)
NEVER_CONTACTED_TARGET = 0.05  # proposed: at most 1 in 20 signals left without a human touch
SKIPPED_HIGH = 0.01  # a stage with more than this share of entries lacking a CRM date is a definition problem
DRIFT_HIGH = 0.10  # a term whose criteria more than this share of its stage's people fail has drifted
DRIFT_MIN_N = 30  # fewer people judged: too few to call drift
UNKNOWN_SOURCE_HIGH = 0.02  # more than this share of people without a lead source calls for the field
DEFAULT_SLA_DAYS = 7
NURTURE_ALERT_DAYS = 14  # the broken-step alert looks this many days after a step for the next one


@dataclass(frozen=True)
class Firing:
    """One rule firing for one subject (a stage, a source, a transition)."""

    rule: str
    subject: str | None
    params: Mapping[str, object]
    why: str
    metric: Metric
    evidence: tuple[Evidence, ...]
    friction: tuple[FrictionRow, ...] = ()
    label: str | None = None  # the subject in words, added to a title that does not name it


@dataclass(frozen=True)
class Check:
    """A rule's verdict on this analysis: how often it fired, and why (not)."""

    rule: str
    fired: int
    reason: str


@dataclass
class Context:
    """The analysis and what the rules look up in it: findings' statuses, targets, friction rows."""

    analysis: Analysis
    statuses: Mapping[str, str] = field(default_factory=dict)
    targets: Mapping[str, float] = field(default_factory=dict)
    known: frozenset[str] = frozenset()  # finding ids the analysis states
    drift: tuple[DefinitionDrift, ...] = ()  # the [[definitions]] criteria checked against the data
    labels: Mapping[str, str] = field(default_factory=dict)  # [labels]: how titles name a source

    @property
    def stages(self) -> list[str]:
        return [s.stage for s in self.analysis.funnel.stages]

    @property
    def signal(self) -> str:
        """The stage whose entry starts the speed-to-lead clock (the 'MQL trigger')."""
        stages = self.stages
        sig = self.analysis.speed_to_lead.signal_stage
        return sig if sig in stages else (stages[1] if len(stages) > 1 else stages[0] if stages else "MQL")

    def index(self, stage: str) -> int:
        return self.stages.index(stage) if stage in self.stages else -1

    def evidence(self, metric: str, value: float | None, unit: str, n: int | None,
                 ci: tuple[float, float] | None = None, finding_id: str | None = None) -> Evidence:
        fid = finding_id if finding_id in self.known else None
        return Evidence(metric, value, unit, n, ci, fid, self.statuses.get(fid, ASSUMED) if fid else ASSUMED)

    def row(self, a: str, b: str, segment: str | None = None) -> tuple[FrictionRow, ...]:
        return tuple(r for r in self.analysis.friction.rows if (r.from_stage, r.to_stage, r.segment) == (a, b, segment))

    def next_stage(self, stage: str) -> str | None:
        i = self.index(stage)
        return self.stages[i + 1] if 0 <= i < len(self.stages) - 1 else None

    def conversion(self, a: str, b: str) -> tuple[Metric, Evidence]:
        """The transition's rate as the metric to move (target: config, else benchmark) and as evidence."""
        t = next(t for t in self.analysis.funnel.transitions if (t.from_stage, t.to_stage) == (a, b))
        key = f"{a}->{b}"
        benches = [x for x in self.analysis.bench("conversion_rate", key) if x.source is None]
        target, why = self.targets.get(key), "[targets] in leadjourney.toml"
        if target is None:
            target, why = None, "none: set one in [targets] of leadjourney.toml"
            for tier in ("average", "top_performers"):
                b_ = next((x for x in benches if x.tier == tier), None)
                if b_ is not None and t.rate is not None and t.rate < b_.low:
                    target, why = b_.low, f"bottom of the {b_.text()} benchmark"
                    break
        metric = Metric(f"conversion_rate:{key}", f"{a} → {b} conversion rate", "rate", t.rate, target, why,
                        "; ".join(x.text() for x in benches) or None)
        ci = (t.ci_low, t.ci_high) if t.ci_low is not None and t.ci_high is not None else None
        return metric, self.evidence(f"{a} → {b} conversion rate", t.rate, "rate", t.entered, ci,
                                     f"conversion:{key}")


Rule = Callable[[Context], tuple[list[Firing], str]]


def _unjudged(figure: SpeedToLead | DarkLeads, what: str) -> str | None:
    """Why a figure cannot carry a recommendation (withheld, too few), or None when it can."""
    return None if figure.status.judged else f"{what} {figure.status.text()}"


def slow_speed_to_lead(ctx: Context) -> tuple[list[Firing], str]:
    s, sig = ctx.analysis.speed_to_lead, ctx.signal
    if (why_not := _unjudged(s, "speed-to-lead")) is not None:
        return [], why_not
    if not s.n_judged:
        return [], "nobody with a signal old enough to judge"
    median, mean = s.median_minutes, s.mean_minutes
    slow = median is not None and median > SLOW_RESPONSE_MINUTES
    red = mean is not None and mean > RED_FLAG_MEAN_MINUTES
    nobody = s.n_contacted == 0
    if not (slow or red or nobody):
        return [], (f"median {median or 0:.0f} min is within {SLOW_RESPONSE_MINUTES:.0f} min and the average "
                    f"{mean or 0:.0f} min within the 2-hour red flag")
    if nobody:
        why = f"nobody with a {sig} signal was touched by a person ({s.n_judged:,} judged)"
    else:
        why = (f"median speed-to-lead is {median / 60:.1f} h (average {(mean or 0) / 60:.1f} h) against 5 minutes "
               f"optimal" if median is not None else "slow speed-to-lead")
    benches = "; ".join(b.text() for b in ctx.analysis.bench("response_time")) or None
    metric = Metric("speed_to_lead:median_minutes", f"median time from {sig} to first human touch", "minutes",
                    median, SLOW_RESPONSE_MINUTES, "leadjourney's slow line; 5 minutes is optimal [3]", benches,
                    "down")
    evidence = (
        ctx.evidence("median speed-to-lead", median, "minutes", s.n_contacted, None, "speed_to_lead:median"),
        ctx.evidence("average speed-to-lead", mean, "minutes", s.n_contacted, None, "speed_to_lead:median"),
        ctx.evidence("reached within 5 minutes", s.share_within_5_min, "share", s.n_judged, s.within_5_min_ci,
                     "speed_to_lead:median"),
        ctx.evidence("never contacted by a person", s.never_contacted_share, "share", s.n_judged,
                     s.never_contacted_ci, "speed_to_lead:never_contacted"),
    )
    nxt = ctx.next_stage(sig)
    params = {"signal": sig, "alert_minutes": ESCALATE_AFTER_MINUTES}
    return [Firing("slow_speed_to_lead", None, params, why, metric, evidence,
                   ctx.row(sig, nxt) if nxt else ())], why


def never_contacted(ctx: Context) -> tuple[list[Firing], str]:
    s, sig = ctx.analysis.speed_to_lead, ctx.signal
    share = s.never_contacted_share
    if (why_not := _unjudged(s, "speed-to-lead")) is not None:
        return [], why_not
    if not s.n_judged or share is None:
        return [], "nobody with a signal old enough to judge"
    if share <= NEVER_CONTACTED_HIGH:
        return [], f"{share:.1%} never contacted, within {NEVER_CONTACTED_HIGH:.0%}"
    why = f"{share:.1%} of {sig}s ({s.n_never_contacted:,} of {s.n_judged:,}) were never contacted by a person"
    benches = "; ".join(f"{b.label}: {b.text()}" for b in ctx.analysis.bench("contacted_share")) or None
    metric = Metric("speed_to_lead:never_contacted_share", f"{sig}s never contacted by a person", "share", share,
                    NEVER_CONTACTED_TARGET, "leadjourney proposal (at most 1 in 20); agree with sales", benches,
                    "down")
    evidence = (ctx.evidence("never contacted by a person", share, "share", s.n_judged, s.never_contacted_ci,
                             "speed_to_lead:never_contacted"),)
    nxt = ctx.next_stage(sig)
    params = {"signal": sig, "judge_days": f"{s.judged_after_days or 7:g}"}
    return [Firing("never_contacted", None, params, why, metric, evidence,
                   ctx.row(sig, nxt) if nxt else ())], why


def weak_sources(ctx: Context) -> tuple[list[Firing], str]:
    out, gate = [], ctx.index(ctx.signal)
    for c in ctx.analysis.sources.conversion:
        if not (c.significant and c.direction == "lower") or c.source == UNKNOWN or c.rate is None:
            continue
        if not c.status.judged:
            continue
        before = ctx.index(c.to_stage) <= gate
        rule = "weak_source_before_gate" if before else "weak_source_after_gate"
        key = f"{c.from_stage}->{c.to_stage}"
        better = [d.source for d in ctx.analysis.sources.conversion
                  if (d.from_stage, d.to_stage) == (c.from_stage, c.to_stage) and d.significant
                  and d.direction == "higher"]
        benches = [b.text() for b in ctx.analysis.bench("conversion_rate", key, c.source)]
        metric = Metric(f"conversion_rate:{key}:source={c.source}", f"{c.source} {c.from_stage} → {c.to_stage} "
                        "conversion rate", "rate", c.rate, c.rest_rate, "the other sources' rate",
                        "; ".join(benches) or None)
        ci = (c.ci_low, c.ci_high) if c.ci_low is not None and c.ci_high is not None else None
        evidence = (ctx.evidence(f"{c.source} {c.from_stage} → {c.to_stage} conversion rate", c.rate, "rate",
                                 c.entered, ci, f"source:{c.source}:{key}"),
                    ctx.evidence(f"other sources {c.from_stage} → {c.to_stage} conversion rate", c.rest_rate,
                                 "rate", c.rest_entered, None, None))
        why = (f"{c.source} converts {c.from_stage} → {c.to_stage} at {c.rate:.1%} vs {c.rest_rate or 0:.1%} for "
               f"the other sources (adjusted p {c.p_adjusted or 0:.2g})")
        shown = f"{display_name(c.source, ctx.labels)} leads"
        named = [display_name(s, ctx.labels) for s in better]  # the texts are read, in the terminal too
        params = {"source": display_name(c.source, ctx.labels), "segment": shown, "from_stage": c.from_stage,
                  "to_stage": c.to_stage, "better": f" ({', '.join(named)})" if named else ""}
        out.append(Firing(rule, f"source={c.source}", params, why, metric, evidence,
                          ctx.row(c.from_stage, c.to_stage, f"source={c.source}"), shown))
    return out, (f"{counted(len(out), 'source at a transition', 'sources at a transition')} significantly below the other sources" if out
                 else "no source converts significantly worse than the others")


def dark_stages(ctx: Context) -> tuple[list[Firing], str]:
    d, out = ctx.analysis.dark_leads, []
    if (why_not := _unjudged(d, "dark leads")) is not None:
        return [], why_not
    if not d.n_open:
        return [], "no open people"
    for stage, n in d.by_stage.items():
        nxt = ctx.next_stage(stage)
        share = n / d.n_open
        if nxt is None or share <= DARK_HIGH:
            continue
        why = f"{n:,} of {d.n_open:,} open people ({share:.1%}) went dark in {stage}"
        metric = Metric(f"dark_leads:{stage}", f"open people dark in {stage}", "share", share, DARK_HIGH,
                        f"below leadjourney's {DARK_HIGH:.0%} call-out line", None, "down")
        evidence = (ctx.evidence(f"open people dark in {stage}", share, "share", d.n_open,
                                 wilson_interval(n, d.n_open), None),
                    ctx.evidence("open people dark (all stages)", d.dark_share, "share", d.n_open, d.dark_ci,
                                 "dark_leads:share"))
        out.append(Firing("dark_stage", stage, {"stage": stage, "dark_days": d.dark_after_days}, why, metric,
                          evidence, ctx.row(stage, nxt), f"re-engage dark {stage} leads"))
    return out, (f"dark leads concentrate in {', '.join(str(f.subject) for f in out)}" if out
                 else f"no stage holds more than {DARK_HIGH:.0%} of the open people as dark leads")


def stalls(ctx: Context) -> tuple[list[Firing], str]:
    out, gate = [], ctx.index(ctx.signal)
    pairs = {(t.from_stage, t.to_stage) for t in ctx.analysis.funnel.transitions}
    for r in ctx.analysis.time_in_stage.rows:
        if (r.from_stage, r.to_stage) not in pairs or ctx.index(r.from_stage) < gate:
            continue  # before the signal stage, waiting is nurture's job, not an SLA's
        if r.n_censored <= r.n_completed:
            continue
        far = not r.km_median_reached or (r.median_days is not None and r.km_median_days is not None
                                          and r.km_median_days > (1 + BIASED_IF_OFF_BY) * r.median_days)
        if not far:
            continue
        metric, conv = ctx.conversion(r.from_stage, r.to_stage)
        km = "not reached" if not r.km_median_reached else f"{r.km_median_days:.1f} d"
        why = (f"{r.n_censored:,} people still wait in {r.from_stage} vs {r.n_completed:,} who moved to "
               f"{r.to_stage}; median {km} counting those still waiting vs {r.median_days or 0:.1f} d for those "
               "who moved on")  # in words: "censoring-aware median ... vs naive" reached the recommendations
        evidence = (ctx.evidence(f"{r.from_stage} → {r.to_stage} Kaplan-Meier median", r.km_median_days, "days",
                                 r.n_completed + r.n_censored, None, f"time:{r.from_stage}->{r.to_stage}"),
                    ctx.evidence(f"{r.from_stage} → {r.to_stage} median of those who moved on", r.median_days,
                                 "days", r.n_completed, None, None),
                    conv)
        sla = r.p75_days if r.p75_days else r.median_days
        params = {"from_stage": r.from_stage, "to_stage": r.to_stage, "metric": metric.label,
                  "sla_days": max(1, math.ceil(sla)) if sla else DEFAULT_SLA_DAYS}
        out.append(Firing("stall", f"{r.from_stage}->{r.to_stage}", params, why, metric, evidence,
                          ctx.row(r.from_stage, r.to_stage)))
    return out, (f"long stalls at {', '.join(arrows(str(f.subject)) for f in out)}" if out
                 else "no transition from the signal stage on has more people waiting than converted "
                      "with a median counting those still waiting far above that of those who moved on")


def skipped_stages(ctx: Context) -> tuple[list[Firing], str]:
    stages = ctx.analysis.funnel.stages[1:]  # the first stage is everyone's: an undated entry is normal
    bad = [s for s in stages if s.reached and s.imputed / s.reached > SKIPPED_HIGH]
    if not bad:
        return [], f"no stage has more than {SKIPPED_HIGH:.0%} of its entries without a CRM date"
    imputed, reached = sum(s.imputed for s in stages), sum(s.reached for s in stages)
    why = "stages skipped in the CRM: " + ", ".join(f"{s.stage} {s.imputed:,} of {s.reached:,}" for s in bad)
    metric = Metric("funnel:skipped_share", "stage entries without a CRM date (skipped stages)", "share",
                    imputed / reached if reached else None, 0.0, "every stage entry dated", None, "down")
    evidence = tuple(ctx.evidence(f"{s.stage} reached without a CRM entry", s.imputed / s.reached, "share",
                                  s.reached, wilson_interval(s.imputed, s.reached), None) for s in bad)
    params = {"stages": ", ".join(ctx.stages), "skipped": ", ".join(s.stage for s in bad)}
    return [Firing("skipped_stages", None, params, why, metric, evidence)], why


def definition_drift(ctx: Context) -> tuple[list[Firing], str]:
    if not ctx.drift:
        return [], "no [[definitions]] criteria checked against the data"
    bad = [d for d in ctx.drift
           if d.share is not None and d.n_judged >= DRIFT_MIN_N and d.share > DRIFT_HIGH]
    if not bad:
        return [], (f"no definition's criteria fail for more than {DRIFT_HIGH:.0%} of its stage's people "
                    f"(with at least {DRIFT_MIN_N} judged)")
    out = []
    for d in bad:
        worst = d.most_failed
        why = (f"{d.n_failed:,} of {d.n_judged:,} people in {d.stage} ({d.share:.1%}) do not meet the agreed "
               f"{d.term} definition" + (f"; most often failed: {worst.criterion}" if worst is not None else ""))
        metric = Metric(f"definitions:drift:{d.term}", f"{d.stage} entries not meeting the {d.term} definition",
                        "share", d.share, 0.0, "every entry meets the agreed definition", None, "down")
        evidence = (ctx.evidence(f"{d.term} definition drift", d.share, "share", d.n_judged, d.ci, None),)
        params = {"stages": ", ".join(ctx.stages), "skipped": d.stage, "stage": d.stage, "term": d.term}
        out.append(Firing("definition_drift", d.term, params, why, metric, evidence, label=d.term))
    return out, "definitions drifted: " + ", ".join(d.term for d in bad)


def unknown_source(ctx: Context) -> tuple[list[Firing], str]:
    row = next((d for d in ctx.analysis.sources.distribution if d.source == UNKNOWN), None)
    n = ctx.analysis.sources.n_people or ctx.analysis.n_people
    if row is None or row.share is None or row.share <= UNKNOWN_SOURCE_HIGH:
        return [], f"at most {UNKNOWN_SOURCE_HIGH:.0%} of people lack a lead source"
    why = f"{row.people:,} people ({row.share:.1%}) have no lead source"
    metric = Metric("sources:unknown_share", "people without a lead source", "share", row.share,
                    UNKNOWN_SOURCE_HIGH, f"below leadjourney's {UNKNOWN_SOURCE_HIGH:.0%} line", None, "down")
    evidence = (ctx.evidence("people without a lead source", row.share, "share", n,
                             wilson_interval(row.people, n), None),)
    return [Firing("unknown_source", None, {}, why, metric, evidence)], why


def below_benchmark(ctx: Context) -> tuple[list[Firing], str]:
    out, gate = [], ctx.index(ctx.signal)
    for d in ctx.analysis.friction.drop_offs:
        if d.segment is not None:
            continue  # segments: weak_sources
        a, b = d.from_stage, d.to_stage
        i = ctx.index(a)
        rule = ("below_benchmark_at_gate" if i == gate else "below_benchmark_before_gate" if i < gate
                else "below_benchmark_after_gate")
        metric, conv = ctx.conversion(a, b)
        why = f"{a} → {b} converts {d.rate:.1%}, {d.reason}"
        evidence = (ctx.evidence(f"{a} → {b} drop-off point", d.rate, "rate", conv.n,
                                 conv.ci, f"drop_off:{a}->{b}"), conv)
        params = {"from_stage": a, "to_stage": b, "stage": a, "metric": metric.label, "segment": "all sources",
                  "sla_days": DEFAULT_SLA_DAYS, "dark_days": ctx.analysis.dark_leads.dark_after_days}
        out.append(Firing(rule, f"{a}->{b}", params, why, metric, evidence, ctx.row(a, b), f"{a} → {b}"))
    return out, (f"{counted(len(out), 'transition')} below their benchmark" if out
                 else "no transition converts significantly below its benchmark")


def broken_nurture_steps(ctx: Context) -> tuple[list[Firing], str]:
    """A nurture sequence whose worst step loses significantly more people than its other steps."""
    email = ctx.analysis.campaigns.email
    if not email.nurture_status.shown:
        return [], f"nurture sequences {email.nurture_status.text()}"
    out = []
    for q in email.nurtures:
        step = q.step(q.worst_step) if q.broken and q.worst_step is not None else None
        if step is None or step.leave.rate is None or not q.status.judged:
            continue
        rest, n = q.rest_rate, q.rest_n  # the analysis's comparison, as tested
        why = (f"{step.leave.converted:,} of {step.leave.entered:,} people ({step.leave.rate:.1%}) who received step "
               f"{step.step} of {q.campaign} never received step {step.step + 1}, vs {rest or 0:.1%} at its other "
               f"steps (adjusted p {q.p_adjusted or 0:.2g})" + (f"; a sequence: {q.why}" if q.why else ""))
        metric = Metric(f"nurture:{q.campaign}:step={step.step}", f"{q.campaign} step {step.step} leave rate", "share",
                        step.leave.rate, rest, "the sequence's other steps' leave rate", None, "down")
        ci = (step.leave.ci_low, step.leave.ci_high) if step.leave.ci_low is not None and step.leave.ci_high is not None \
            else None
        evidence = (ctx.evidence(f"{q.campaign} step {step.step} leave rate", step.leave.rate, "share",
                                 step.leave.entered, ci, None),
                    ctx.evidence(f"{q.campaign} other steps' leave rate", rest, "share", n, None, None))
        params = {"campaign": q.campaign, "step": step.step, "next_step": step.step + 1,
                  "asset": f"its step-{step.step} e-mail", "wait_days": NURTURE_ALERT_DAYS,
                  "keep_share": f"{1 - (rest or 0) * 2:.0%}" if rest is not None and rest < 0.5 else "half"}
        out.append(Firing("broken_nurture_step", q.campaign, params, why, metric, evidence, label=q.campaign))
    return out, (f"{'broken nurture step' if len(out) == 1 else 'broken nurture steps'} in {', '.join(str(f.subject) for f in out)}" if out
                 else "no nurture step loses significantly more people than the sequence's other steps")


def weak_campaigns(ctx: Context) -> tuple[list[Firing], str]:
    """An e-mail campaign clicked significantly less per e-mail than the other campaigns."""
    email = ctx.analysis.campaigns.email
    if not email.status.shown:
        return [], f"e-mail campaigns {email.status.text()}"
    out = []
    for c in email.campaigns:
        t = c.message_click_rate
        if not c.weak or t.rate is None:
            continue
        rest, n = c.rest_rate, c.rest_n  # the analysis's comparison, as tested
        better = [d.campaign for d in email.campaigns if d is not c and d.message_click_rate.status.judged
                  and (d.message_click_rate.rate or 0) > (rest or 0)]
        why = (f"{c.campaign} is clicked in {t.rate:.1%} of the e-mails delivered vs {rest or 0:.1%} for the other "
               f"campaigns (adjusted p {c.p_adjusted or 0:.2g})")
        metric = Metric(f"email:{c.campaign}:clicks_per_email", f"{c.campaign} clicks per e-mail", "rate", t.rate, rest,
                        "the other campaigns' rate", None)
        ci = (t.ci_low, t.ci_high) if t.ci_low is not None and t.ci_high is not None else None
        evidence = (ctx.evidence(f"{c.campaign} clicks per e-mail", t.rate, "rate", t.entered, ci, None),
                    ctx.evidence("other campaigns' clicks per e-mail", rest, "rate", n, None, None))
        params = {"campaign": c.campaign, "better": f" ({', '.join(better[:3])})" if better else ""}
        out.append(Firing("weak_campaign", c.campaign, params, why, metric, evidence, label=c.campaign))
    return out, (f"{counted(len(out), 'e-mail campaign')} clicked significantly less than the others" if out
                 else "no e-mail campaign is clicked significantly less per e-mail than the others")


RULES: tuple[tuple[str, Rule], ...] = (
    ("slow speed-to-lead", slow_speed_to_lead),
    ("never contacted", never_contacted),
    ("weak sources", weak_sources),
    ("dark-lead concentration", dark_stages),
    ("long stall", stalls),
    ("skipped stages (definitions)", skipped_stages),
    ("definition drift", definition_drift),
    ("unknown lead source", unknown_source),
    ("drop-off below benchmark", below_benchmark),
    ("broken nurture step", broken_nurture_steps),
    ("weak e-mail campaign", weak_campaigns),
)


def fire(ctx: Context) -> tuple[list[Firing], list[Check]]:
    """Every rule's firings, and a check per rule saying why it fired or not."""
    firings, checks = [], []
    for name, rule in RULES:
        fired, reason = rule(ctx)
        firings += fired
        checks.append(Check(name, len(fired), reason))
    return firings, checks
