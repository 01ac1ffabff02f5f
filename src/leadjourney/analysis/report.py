"""One analysis run: the metrics for a selection, as one result with its renderers."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from leadjourney.analysis.benchmarks import (
    DEFAULT_BENCHMARKS,
    Benchmark,
    benchmark_for,
    benchmarks_in_effect,
)
from leadjourney.analysis.campaigns import Campaigns
from leadjourney.analysis.dark_leads import DarkLeads
from leadjourney.analysis.friction import DropOff, Friction, money
from leadjourney.analysis.funnel import WITHOUT_DATA, Funnel, check_mode
from leadjourney.analysis.journeys import Filters, Journeys
from leadjourney.analysis.pipeline import Pipeline
from leadjourney.analysis.sources import Sources
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.status import withheld
from leadjourney.analysis.time_in_stage import TimeInStage
from leadjourney.analysis.web import WebJourney
from leadjourney.backends import connect_backend
from leadjourney.display import minutes
from leadjourney.errors import WorkspaceError
from leadjourney.escape import markdown_text as md
from leadjourney.progress import Progress, silent
from leadjourney.tabular import Tabular
from leadjourney.workspace import Workspace

SCHEMA_VERSION = 1  # of the JSON contract: bump on any breaking change
T = TypeVar("T")
NO_PIPELINE = "stored before pipeline figures were computed"  # an analysis JSON without its pipeline part


@dataclass
class Analysis(Tabular):
    """The baseline metrics for one selection of leads."""

    table_from = "funnel"  # to_arrow() / to_pandas(): one row per item

    workspace: str
    computed_at: str
    filters: Filters
    n_people: int
    funnel: Funnel
    time_in_stage: TimeInStage
    sources: Sources
    personas: Sources
    speed_to_lead: SpeedToLead
    dark_leads: DarkLeads
    friction: Friction
    benchmarks: tuple[Benchmark, ...] = DEFAULT_BENCHMARKS
    web: WebJourney = field(default_factory=WebJourney)  # the web journey; in the outputs only when data exists
    pipeline: Pipeline = field(default_factory=lambda: Pipeline(status=withheld(NO_PIPELINE)))
    campaigns: Campaigns = field(default_factory=Campaigns)  # campaigns and content; ditto

    def bench(self, metric: str, transition: str | None = None, source: str | None = None) -> list[Benchmark]:
        """The benchmarks in effect for one number (the config's [[benchmarks]] applied)."""
        return benchmark_for(metric, transition, source, benchmarks=self.benchmarks)

    def to_dict(self) -> dict[str, Any]:
        funnel = self.funnel.to_dict()
        for t in funnel["transitions"]:
            t["benchmarks"] = [b.key for b in self.bench("conversion_rate", f"{t['from']}->{t['to']}")]
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "workspace": self.workspace,
            "computed_at": self.computed_at,
            "filters": self.filters.to_dict(),
            "n_people": self.n_people,
            "funnel": funnel,
            "time_in_stage": self.time_in_stage.to_dict(),
            "sources": self.sources.to_dict(),
            "personas": self.personas.to_dict(),
            "speed_to_lead": self.speed_to_lead.to_dict(),
            "dark_leads": self.dark_leads.to_dict(),
            "drop_offs": [d.to_dict() for d in self.friction.drop_offs],
            "friction": self.friction.to_dict(),
            "benchmarks": [b.to_dict() for b in self.benchmarks],
            "pipeline": self.pipeline.to_dict(),
        }
        if self.web.has_data:
            out["web_journey"] = self.web.to_dict()
        if self.campaigns.has_data:
            out["campaigns"] = self.campaigns.to_dict()
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Analysis:
        """The inverse of :meth:`to_dict`: a stored analysis (a snapshot, the dashboard's cache) as the result
        it was. JSON stored by older versions loads too: a part it does not have (friction, personas, a
        status, ...) is the part's default, an empty result."""
        version = d.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise WorkspaceError(f"a stored analysis has schema_version {version}; this leadjourney reads up to "
                                 f"{SCHEMA_VERSION}: upgrade leadjourney")
        n_people = int(d.get("n_people") or 0)

        def part(key: str, load: Callable[[Mapping[str, Any]], T], default: T) -> T:
            return load(d[key]) if d.get(key) is not None else default

        friction = part("friction", Friction.from_dict,
                        Friction(drop_offs=[DropOff.from_dict(x) for x in d.get("drop_offs") or ()]))
        benchmarks = d.get("benchmarks")
        return cls(
            workspace=str(d.get("workspace", "")),
            computed_at=str(d.get("computed_at", "")),
            filters=Filters.from_dict(d.get("filters") or {}),
            n_people=n_people,
            funnel=Funnel.from_dict(d.get("funnel") or {}, n_people=n_people),
            time_in_stage=part("time_in_stage", TimeInStage.from_dict, TimeInStage()),
            sources=part("sources", Sources.from_dict, Sources()),
            personas=part("personas", Sources.from_dict, Sources(by="persona")),
            speed_to_lead=part("speed_to_lead", SpeedToLead.from_dict, SpeedToLead()),
            dark_leads=part("dark_leads", DarkLeads.from_dict, DarkLeads()),
            friction=friction,
            benchmarks=DEFAULT_BENCHMARKS if benchmarks is None else tuple(Benchmark.from_dict(b) for b in benchmarks),
            web=part("web_journey", WebJourney.from_dict, WebJourney()),
            pipeline=part("pipeline", Pipeline.from_dict, Pipeline(status=withheld(NO_PIPELINE))),
            campaigns=part("campaigns", Campaigns.from_dict, Campaigns()),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Analysis:
        """:meth:`from_dict` of :meth:`to_json`'s text."""
        return cls.from_dict(json.loads(text))

    def to_markdown(self) -> str:
        f = self.funnel
        lines = [
            "# Journey baseline",
            "",
            f"{self.n_people:,} people (leads counted once per person, unqualified contacts excluded); "
            f"funnel counted in `{f.mode}` mode{f' ({f.window_days}-day window)' if f.mode == 'cohort' else ''}; data as of {self.time_in_stage.as_of:%Y-%m-%d %H:%M} UTC. "
            "All findings are ASSUMED until stakeholders confirm them.",
            "",
            "## Funnel",
            "",
            "| Stage | Lane | Reached | of which without a CRM entry |",
            "|---|---|---:|---:|",
        ]
        lines += [f"| {md(s.stage)} | {md(s.lane)} | {s.reached:,} | {s.imputed:,} |" for s in f.stages]
        lines += [f"| {md(s)} | - | - | - |" for s in f.stages_without_data]
        if f.stages_without_data:
            lines += ["", *[f"- {md(s)}: {WITHOUT_DATA}." for s in f.stages_without_data]]
        lines += ["", "| Transition | Entered | Converted | Rate | 95% interval | Benchmark | Note |",
                  "|---|---:|---:|---:|---|---|---|"]
        for t in f.transitions:
            rate = "-" if t.rate is None else f"{t.rate:.1%}"
            ci = "-" if t.ci_low is None else f"{t.ci_low:.1%} - {t.ci_high:.1%}"
            bench = "; ".join(b.text() for b in self.bench("conversion_rate", f"{t.from_stage}->{t.to_stage}"))
            lines.append(f"| {md(t.from_stage)} → {md(t.to_stage)} | {t.entered:,} | {t.converted:,} | {rate} | {ci} | "
                         f"{md(bench)} | {md(t.status.text())} |")
        lines += [
            "", "## Time in stage (days)", "",
            "| Transition | Completed | Still waiting | Mean | Median | p90 | Kaplan-Meier median | Caveat |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in self.time_in_stage.rows:
            km = "not reached" if not r.km_median_reached else _days(r.km_median_days)
            lines.append(
                f"| {md(r.from_stage)} → {md(r.to_stage)} | {r.n_completed:,} | {r.n_censored:,} | {_days(r.mean_days)} | "
                f"{_days(r.median_days)} | {_days(r.p90_days)} | {km} | {md(_joined(r.caveat, r.status.text()))} |"
            )
        lines += self._friction_markdown()
        lines += self._sources_markdown() + self._speed_markdown() + self._dark_markdown()
        if self.web.has_data:
            lines += self.web.to_markdown()
        if self.campaigns.has_data:
            lines += self.campaigns.to_markdown()
        return "\n".join(lines) + "\n"

    def _friction_markdown(self, top: int = 10) -> list[str]:
        fr = self.friction
        lines = ["", "## Drop-off points", ""]
        if fr.drop_offs:
            lines += [f"- **{md(d.from_stage)} → {md(d.to_stage)}**{' (' + md(d.segment) + ')' if d.segment else ''}: "
                      f"{d.rate:.1%}, {md(d.reason)}" for d in fr.drop_offs]
        else:
            lines.append("No transition converts significantly below its benchmark or the other sources.")
        cur, per = fr.currency, fr.per
        lines += ["", "## Friction ranking", ""]
        lines += friction_preamble(fr)
        lines += [
            "", f"| Rank | Transition | Segment | Rate | Target (source) | Drop-off % | Time in stage (d) | "
            f"Recoverable / {per} | Value of all drop-offs / {per} (upper bound) | Root-cause hypothesis |",
            "|---:|---|---|---:|---|---:|---:|---:|---:|---|",
        ]
        for r in fr.rows[:top]:
            rate = "-" if r.rate is None else f"{r.rate:.1%}"
            target = (f"{r.target_rate:.1%} ({r.target_source})" if r.target_rate is not None
                      else r.target_source)
            recoverable = (money(r.recoverable_per_year, cur) if r.recoverable_per_year is not None
                           else f"- ({r.status.text()})")
            lines.append(f"| {r.rank} | {md(r.from_stage)} → {md(r.to_stage)} | {md(r.segment or 'all')} | {rate} | {md(target)} | "
                         f"{r.drop_off_rate:.1%} | {_days(r.median_days)} | {md(recoverable)} | "
                         f"{money(r.value_of_all_dropoffs_per_year, cur)} | {md(r.hypothesis)} |")
        return lines

    def _sources_markdown(self) -> list[str]:
        return self._segment_markdown(self.sources, "Lead sources") + self._segment_markdown(self.personas, "Personas")

    @staticmethod
    def _segment_markdown(seg: Sources, title: str) -> list[str]:
        by = seg.by.capitalize()
        lines = ["", f"## {title}", "", f"| {by} | People | Share |", "|---|---:|---:|"]
        lines += [f"| {md(d.source)} | {d.people:,} | {d.share:.1%} |" for d in seg.distribution]
        lines += ["", f"Conversion by {seg.by}, each {seg.by} against all others (two-proportion z-test, "
                  "Holm-corrected within each transition; not tested with too few people or a missing source):", "",
                  f"| Transition | {by} | Entered | Rate | 95% interval | vs rest | adj. p |",
                  "|---|---|---:|---:|---|---|---:|"]
        for c in seg.conversion:
            if c.entered == 0:
                continue
            mark = (f"**{c.direction}**" if c.significant
                    else md(c.status.text() if not c.status.judged else (c.note or "not significant")))
            p = "-" if c.p_adjusted is None else f"{c.p_adjusted:.3g}"
            lines.append(f"| {md(c.from_stage)} → {md(c.to_stage)} | {md(c.source)} | {c.entered:,} | {c.rate:.1%} | "
                         f"{c.ci_low:.1%} - {c.ci_high:.1%} | {mark} | {p} |")
        return lines

    def _speed_markdown(self) -> list[str]:
        s = self.speed_to_lead.to_dict()
        never, within5 = s["never_contacted"], s["within_5_min"]
        lines = ["", f"## Speed-to-lead (from {s['signal']} to the first human touch)", ""]
        status = self.speed_to_lead.status
        if not status.shown:
            return [*lines, f"Speed-to-lead {status.text()}."]
        if not s["n_judged"]:
            return [*lines, "No one to judge in this selection."]
        lines += [
            f"- {s['n']:,} people with a signal; {s['n_judged']:,} old enough to judge "
            f"({s['n_too_recent']:,} too recent).",
            f"- Median {minutes(s['median_minutes'])}, mean {minutes(s['mean_minutes'])}, p90 {minutes(s['p90_minutes'])}.",
            f"- Within 5 minutes: {within5['share']:.1%}; never contacted: {never['share']:.1%} "
            f"({never['count']:,}).",
            "- Benchmarks: " + "; ".join(
                f"{b.label}: {b.text()}" for b in self.bench("response_time") + self.bench("contacted_share")),
        ]
        if s["caveat"]:
            lines.append(f"- Caveat: {s['caveat']}")
        if not status.judged:
            lines.append(f"- {status.text().capitalize()}.")
        return lines

    def _dark_markdown(self) -> list[str]:
        status = self.dark_leads.status
        if not status.shown:
            return ["", "## Dark leads", "", f"Dark leads {status.text()}."]
        d = self.dark_leads.to_dict()
        dark, again = d["dark"], d["re_engaged"]
        share = "-" if dark["share"] is None else f"{dark['share']:.1%}"
        lines = ["", f"## Dark leads (open, no engagement for {d['dark_after_days']} days)", "",
                 f"- {dark['count']:,} of {d['n_open']:,} open people are dark ({share}).",
                 "- Where they went dark (furthest stage): "
                 + ", ".join(f"{md(stage)} {n:,}" for stage, n in d["by_stage"].items()),
                 f"- Re-engaged after a dark spell: {again['count']:,} ("
                 + ", ".join(f"{k} {n:,}" for k, n in again["by_kind"].items())
                 + f"); {again['then_advanced']:,} then moved to a later stage."]
        if not status.judged:
            lines.append(f"- {status.text().capitalize()}.")
        return lines


def friction_preamble(fr: Friction) -> list[str]:
    """The money lines every human renderer prints above the friction ranking: bookings beside the
    recoverable total, the upper bound, the deal size (with the default's warning) and the period."""
    cur, per = fr.currency, fr.per
    lines = []
    if fr.deal_size_warning:
        lines.append(f"**Warning: {fr.deal_size_warning}.**")
        lines.append("")
    bookings = (money(fr.bookings_per_year, cur) if fr.bookings_per_year is not None
                else "- (no won deals with amounts in this selection)")
    lines += [
        f"- Current bookings: **{bookings} / {per}** (won deals' amounts in this selection).",
        f"- Recoverable revenue: **{money(fr.total_recoverable(), cur)} / {per}** over the transitions "
        f"(segment rows overlap their transition and are not added). Recoverable = max(0, target rate - rate) x "
        f"entered x probability of becoming a customer after the transition x deal size; the target is named "
        f"beside each figure ([targets] in the config wins, else the average benchmark's low end; for a segment, "
        f"the other segments' rate); no target: 0.",
        f"- Value of all drop-offs (upper bound, not a forecast): {money(fr.total_value_of_all_dropoffs(), cur)} / "
        f"{per}: every lost person (in flight set aside) x deal size x later win probability, the playbook's formula.",
        f"- Deal size {money(fr.deal_size, cur)} ({fr.deal_size_source}); figures {fr.period_text}.",
        "- Rows with too few people to judge are listed without a recoverable figure and ranked last.",
    ]
    return lines


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def analyze(ws: Workspace, *, filters: Filters | None = None, mode: str = "stage_reach",
            window_days: int = 90, now: datetime | None = None, progress: Progress | None = None,
            check: bool = True) -> Analysis:
    """Compute the baseline metrics for the workspace (or a filtered selection), on the ``[engine]`` backend
    (the DuckDB file, or Spark over the Parquet export: :func:`~leadjourney.backends.connect_backend`).

    ``check`` (the default): the selection is checked first (:meth:`Journeys.check`): an unknown filter value,
    a workspace with nothing ingested, or a selection of no one raises a
    :class:`~leadjourney.errors.SelectionError` instead of an analysis of zero people; a bad ``mode`` an
    :class:`~leadjourney.errors.OptionError` before anything is read.
    """
    check_mode(mode)
    with connect_backend(ws) as backend:
        journeys = Journeys(backend, ws.config, filters or Filters(), now)
        try:
            if check:
                journeys.check()
            return analyze_journeys(journeys, str(ws.root), mode=mode, window_days=window_days, progress=progress)
        finally:
            journeys.release()


CAMPAIGNS_NOT_PER_SELECTION = "computed by `leadjourney analyze`, not for each dashboard selection"


def analyze_journeys(journeys: Journeys, workspace: str, *, mode: str = "stage_reach", window_days: int = 90,
                     progress: Progress | None = None, campaigns: bool = True) -> Analysis:
    """:func:`analyze` on an open selection, so later steps (the map, profiles) reuse what it cached.
    ``campaigns=False``: the campaign analyses are withheld (:data:`CAMPAIGNS_NOT_PER_SELECTION`)."""
    say = progress or silent
    say("funnel", 0, 5)
    funnel = Funnel(mode=mode, window_days=window_days).fit(journeys)
    say("time in stage", 1, 5)
    times = TimeInStage().fit(journeys).with_counts(funnel)
    say("sources and personas", 2, 5)
    segment_mode = "ordered" if mode == "ordered" else "stage_reach"
    sources = Sources(mode=segment_mode).fit(journeys)
    personas = Sources(mode=segment_mode, by="persona").fit(journeys)
    say("speed-to-lead", 3, 5)
    speed = SpeedToLead(as_of=times.as_of).fit(journeys)
    say("dark leads", 4, 5)
    dark = DarkLeads(as_of=times.as_of).fit(journeys)
    friction = Friction().fit(journeys, funnel, sources, times, speed, dark, personas)
    web = WebJourney().fit(journeys)
    pipeline = Pipeline(as_of=times.as_of).fit(journeys)
    marketing = Campaigns().fit(journeys) if campaigns else Campaigns.not_computed(CAMPAIGNS_NOT_PER_SELECTION)
    say("done", 5, 5)
    return Analysis(
        workspace=workspace,
        computed_at=(journeys.now or datetime.now(UTC).replace(tzinfo=None)).isoformat(timespec="seconds"),
        filters=journeys.filters,
        n_people=funnel.n_people,
        funnel=funnel,
        time_in_stage=times,
        sources=sources,
        personas=personas,
        speed_to_lead=speed,
        dark_leads=dark,
        friction=friction,
        benchmarks=benchmarks_in_effect(journeys.config),
        web=web,
        pipeline=pipeline,
        campaigns=marketing,
    )


def _joined(*notes: str | None) -> str:
    return "; ".join(n for n in notes if n)
