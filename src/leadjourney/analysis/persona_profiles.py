"""Persona profiles: who each persona is, how it arrives, converts, waits and is touched.

A profile per configured persona (and ``unassigned`` when anyone is): people and share,
top sources, the funnel with Wilson intervals, time in stage, top touchpoints,
firmographics, and where its journey differs from the others:

* conversion: :class:`~leadjourney.analysis.sources.Sources` by persona, each persona
  tested against all the others at every transition (z-test, Holm-corrected); the
  significant ones are differences;
* time: the persona's median time in stage (the Kaplan-Meier median where reached, else
  the median of completed transitions, as :class:`~leadjourney.analysis.time_in_stage.TimeInStage`
  computes them) at least ``far`` times the overall median, or at most ``1 / far`` of it,
  with at least ``min_n`` people in the transition.

Every aspect is one grouped query over a per-person table materialized once; Python only
sees one row per persona (and value, or hour of duration for the Kaplan-Meier curve).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.persona_content import ContentJourney, content_journeys
from leadjourney.analysis.rates import StageCount
from leadjourney.analysis.sources import UNKNOWN, Sources, SourceTransition
from leadjourney.analysis.stats import km_median
from leadjourney.analysis.status import MetricStatus, withheld
from leadjourney.analysis.time_in_stage import KM_RESOLUTION_HOURS
from leadjourney.config import UNASSIGNED_PERSONA
from leadjourney.display import percent
from leadjourney.engine import column_array, fetch, fetch_rows
from leadjourney.errors import OptionError
from leadjourney.escape import markdown_text as md
from leadjourney.tabular import Tabular

TOP = 5  # values listed per persona (sources, industries, titles, touchpoints)
FAR = 1.5  # a median at least this many times the overall one (or at most its inverse) differs
MIN_N = 30  # people in a transition before its time is called different ([analysis] min_n when fitted)


# ------------------------------------------------------------------ shared engine helpers


def person_table(journeys: Journeys) -> ir.Table:
    """One row per selected person: persona, source, firmographics and the wide stage columns
    (a projection of :meth:`Journeys.wide`, which the engine holds already)."""
    wide = journeys.wide()
    return wide.select("person_id", "person_key", "persona", "source", "status", "top", "industry", "job_title",
                       "employee_count",
                       *[c for c in wide.columns if c.startswith(("has_", "at_"))])


def top_values(table: ir.Table, key: str, fields: dict[str, ir.Value], top: int,
               people: dict[Any, int]) -> dict[tuple[Any, str], list[Share]]:
    """The ``top`` most common non-null values of each field per ``key``: {(key, field): [Share]}.

    Shares are of ``people[key]``; one query (grouped counts, ranked in the engine).
    """
    parts = []
    for name, value in fields.items():
        t = table.select(key=table[key], value=value.cast("string"))
        t = t.filter(t.value.notnull())
        parts.append(t.group_by(["key", "value"]).aggregate(n=t.count()).mutate(field=ibis.literal(name)))
    counts = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    rank = ibis.row_number().over(group_by=["key", "field"], order_by=[ibis.desc("n"), "value"])
    rows = fetch_rows(counts.mutate(rank=rank).filter(lambda t: t["rank"] < top))
    out: dict[tuple[Any, str], list[Share]] = {}
    for r in sorted(rows, key=lambda r: (str(r["key"]), r["field"], r["rank"])):
        total = people.get(r["key"], 0)
        out.setdefault((r["key"], r["field"]), []).append(
            Share(r["value"], int(r["n"]), int(r["n"]) / total if total else None))
    return out


def time_pairs(n_stages: int) -> list[tuple[int, int]]:
    """The transitions :class:`TimeInStage` reports: consecutive stages, then first to last."""
    pairs = [(i, i + 1) for i in range(n_stages - 1)]
    if n_stages > 2:
        pairs.append((0, n_stages - 1))
    return pairs


def durations(table: ir.Table, key: str, pairs: list[tuple[int, int]], as_of: datetime) -> ir.Table:
    """key, pair, days, event: completed transitions (event 1) and people still waiting (event 0).

    The same definitions as :class:`TimeInStage`: waiting people are open (not disqualified),
    have not reached the later stage, and are censored at ``as_of``.
    """
    parts = []
    for p, (a, b) in enumerate(pairs):
        start, end = table[f"at_{a}"], table[f"at_{b}"]
        days = (end.epoch_seconds() - start.epoch_seconds()) / 86400.0
        waited = (ibis.timestamp(as_of).epoch_seconds() - start.epoch_seconds()) / 86400.0
        done = table.filter(start.notnull() & end.notnull() & (end >= start))
        waiting = table.filter(
            start.notnull() & (table.top < b).fill_null(True) & (table.status != "disqualified").fill_null(True)
            & (start <= ibis.timestamp(as_of))
        )
        parts.append(done.select(key=done[key], pair=ibis.literal(p), days=days.name("days"), event=ibis.literal(1)))
        parts.append(waiting.select(key=waiting[key], pair=ibis.literal(p), days=waited.name("days"),
                                    event=ibis.literal(0)))
    return parts[0].union(*parts[1:], distinct=False)


@dataclass(frozen=True)
class TimeFigures:
    """Completed median, counts and the Kaplan-Meier median of one transition for one group."""

    n_completed: int
    n_censored: int
    completed_median: float | None
    km_median: float | None

    @property
    def median(self) -> float | None:
        """The Kaplan-Meier median where reached, else the completed median."""
        return self.km_median if self.km_median is not None else self.completed_median

    @property
    def basis(self) -> str | None:
        if self.km_median is not None:
            return "kaplan_meier"
        return "completed" if self.completed_median is not None else None


def time_figures(table: ir.Table, key: str, pairs: list[tuple[int, int]],
                 as_of: datetime) -> tuple[dict[tuple[Any, int], TimeFigures], dict[int, TimeFigures]]:
    """Per (key, pair) and overall per pair: time figures from two grouped queries."""
    both = durations(table, key, pairs, as_of)
    hours = KM_RESOLUTION_HOURS
    binned = both.mutate(t=(both.days * 24 / hours).floor())
    curve = fetch(binned.group_by(["key", "pair", "t"]).aggregate(
        events=binned.event.sum(), censored=(1 - binned.event).sum()))
    done = both.filter(both.event == 1)
    per_key = done.group_by(["key", "pair"]).aggregate(median=done.days.quantile(0.5))
    overall = done.group_by("pair").aggregate(median=done.days.quantile(0.5)).mutate(key=ibis.null("string"))
    medians = {(r["key"], int(r["pair"])): r["median"]
               for r in fetch_rows(per_key.union(overall.select("key", "pair", "median")))}
    keys = curve.column("key").to_pylist()
    pair_col = column_array(curve, "pair", int)
    t = column_array(curve, "t")
    events, censored = column_array(curve, "events", np.int64), column_array(curve, "censored", np.int64)
    groups: dict[tuple[Any, int], list[int]] = {}
    for i, k in enumerate(keys):  # one row per (key, pair, hour): aggregated rows, not people
        groups.setdefault((k, int(pair_col[i])), []).append(i)
    per: dict[tuple[Any, int], TimeFigures] = {}
    for (k, p), idx in groups.items():
        per[(k, p)] = _figures(t[idx], events[idx], censored[idx], medians.get((k, p)), hours)
    total: dict[int, TimeFigures] = {}
    for p in range(len(pairs)):
        sel = pair_col == p
        if not sel.any():
            continue
        times, inverse = np.unique(t[sel], return_inverse=True)
        total[p] = _figures(times, np.bincount(inverse, events[sel]), np.bincount(inverse, censored[sel]),
                            medians.get((None, p)), hours)
    return per, total


def _figures(t: np.ndarray, events: np.ndarray, censored: np.ndarray, completed: float | None,
             hours: float) -> TimeFigures:
    km = km_median(t, events, censored) if len(t) else None
    return TimeFigures(int(events.sum()), int(censored.sum()), completed,
                       None if km is None else km * hours / 24)


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Share:
    value: str
    people: int
    share: float | None  # of the persona's people


@dataclass(frozen=True)
class TouchpointShare:
    """One touchpoint kind x channel for a persona, by volume per person."""

    kind: str
    channel: str | None
    volume: int
    per_person: float  # volume / the persona's people


@dataclass(frozen=True)
class PersonaTime:
    """A persona's median time in one transition, next to the overall median."""

    from_stage: str
    to_stage: str
    n_completed: int
    n_censored: int
    median_days: float | None
    basis: str | None  # "kaplan_meier", "completed", or None without a completed transition
    overall_days: float | None
    ratio: float | None  # median_days / overall_days
    differs: bool  # ratio >= far or <= 1 / far, with at least min_n people

    @property
    def n(self) -> int:
        return self.n_completed + self.n_censored


@dataclass(frozen=True)
class Firmographics:
    industries: list[Share]
    titles: list[Share]
    employees_known: int  # people with a known company size
    employees_p10: float | None
    employees_median: float | None
    employees_p90: float | None


@dataclass(frozen=True)
class Difference:
    """Where a persona's journey differs from the others: a conversion rate or a time in stage."""

    kind: str  # "conversion" or "time"
    from_stage: str
    to_stage: str
    value: float  # the persona's rate, or median days
    other: float  # the other personas' rate, or the overall median days
    n: int  # people of the persona in the transition
    direction: str  # "higher"/"lower" (conversion), "longer"/"shorter" (time)
    p_adjusted: float | None = None  # conversion only

    def text(self) -> str:
        arrow = f"{self.from_stage} → {self.to_stage}"
        if self.kind == "conversion":
            return (f"converts {arrow} at {self.value:.1%} vs {self.other:.1%} for the others "
                    f"({self.direction}, adj. p {self.p_adjusted:.2g}, n={self.n:,})")
        return (f"spends {self.value:.1f} d in {arrow} vs {self.other:.1f} d overall "
                f"({self.value / self.other:.1f}x, {self.direction}, n={self.n:,})")


@dataclass
class PersonaProfile:
    persona: str
    people: int
    share: float | None
    sources: list[Share]
    stages: list[StageCount]
    transitions: list[SourceTransition]  # conversion with Wilson interval and the test vs the others
    times: list[PersonaTime]
    touchpoints: list[TouchpointShare]
    firmographics: Firmographics
    differences: list[Difference]
    content: list[ContentJourney] = field(default_factory=list)  # consumed before each milestone
    content_status: MetricStatus = field(default_factory=lambda: withheld("not computed"))

    def narrative(self) -> str:
        """One sentence a board can read: who they are, where they come from, how they differ."""
        if not self.people:
            return f"Nobody in the selection matches {self.persona}."
        f = self.firmographics
        who = ", ".join(t.value for t in f.titles[:3]) or "unknown titles"
        where = ", ".join(i.value for i in f.industries[:3]) or "unknown industries"
        size = ("of unknown size" if f.employees_median is None else
                f"of {f.employees_p10:,.0f}-{f.employees_p90:,.0f} employees (median {f.employees_median:,.0f})")
        via = ", ".join(f"{s.value} ({s.share:.0%})" for s in self.sources[:2] if s.share is not None)
        share = "" if self.share is None else f" ({self.share:.0%})"
        text = (f"{self.people:,} people{share}: mostly {who} at {where} companies {size}, "
                f"arriving via {via or 'unknown sources'}.")
        if not self.differences:
            return text + " Their journey does not differ significantly from the others."
        return text + " Compared with the others it " + "; ".join(d.text() for d in self.differences[:3]) + "."

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["transitions"] = [t.to_dict() for t in self.transitions]
        out["differences"] = [{**asdict(d), "text": d.text()} for d in self.differences]
        out["content"] = [c.to_dict() for c in self.content]
        out["content_status"] = {"status": self.content_status.status.value, "reason": self.content_status.reason}
        out["narrative"] = self.narrative()
        return out


@dataclass
class PersonaProfiles(Tabular):
    """A profile per persona, and where each persona's journey differs from the others.

    >>> profiles = PersonaProfiles().fit(journeys)        # doctest: +SKIP
    >>> profiles.profile("smb_founder").differences[0].text()   # doctest: +SKIP
    'spends 3.1 d in MQL → SQL vs 5.4 d overall (0.6x, shorter, n=1,809)'
    """

    table_from = "profiles"  # to_arrow() / to_pandas(): one row per item

    top: int = TOP
    far: float = FAR
    min_n: int | None = None  # None: [analysis] min_n
    as_of: datetime | None = None
    n_people: int = 0
    profiles: list[PersonaProfile] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.far <= 1:
            raise OptionError(f"far must be above 1 (a ratio of medians), not {self.far}")

    def fit(self, journeys: Journeys, personas: Sources | None = None,
            people: ir.Table | None = None) -> PersonaProfiles:
        """Compute the profiles; ``personas`` (a fitted ``Sources(by="persona")``, whose counting mode
        the funnels follow) and ``people`` (:func:`person_table`) are reused when a caller has them."""
        self.as_of = self.as_of or journeys.as_of()
        if self.min_n is None:
            self.min_n = journeys.config.min_n
        if personas is None:
            personas = Sources(by="persona").fit(journeys)
        elif personas.by != "persona":
            raise ValueError(f"expected Sources(by='persona'), got by={personas.by!r}")
        table = people if people is not None else person_table(journeys)
        config = journeys.config
        names = [p.name for p in config.personas]
        present = {d.source: d for d in personas.distribution}
        names += sorted(n for n in present if n not in names)  # unassigned (and any other) after the rules
        self.n_people = personas.n_people

        sizes = {d.source: d.people for d in personas.distribution}
        tops = top_values(table, "persona", {
            "source": table.source.fill_null(UNKNOWN), "industry": table.industry, "title": table.job_title,
        }, self.top, sizes)
        employees = {r["persona"]: r for r in fetch_rows(table.group_by("persona").aggregate(
            known=table.employee_count.count(),
            p10=table.employee_count.quantile(0.1), p50=table.employee_count.quantile(0.5),
            p90=table.employee_count.quantile(0.9),
        ))}
        touches = self._touchpoints(journeys, table, sizes)
        journeys_of, content_status = content_journeys(journeys, table, self.min_n)
        pairs = time_pairs(len(config.stages))
        timing = table.select("persona", "status", "top", *[c for c in table.columns if c.startswith("at_")])
        per_time, overall_time = time_figures(timing, "persona", pairs, self.as_of)

        self.profiles = []
        for name in names:
            share = present.get(name)
            n = share.people if share else 0
            if name == UNASSIGNED_PERSONA and not n:
                continue
            e = employees.get(name, {})
            firmographics = Firmographics(
                tops.get((name, "industry"), []), tops.get((name, "title"), []), int(e.get("known") or 0),
                e.get("p10"), e.get("p50"), e.get("p90"))
            stages = personas.stages.get(name) or [StageCount(s.name, s.lane, 0, 0) for s in config.stages]
            transitions = [r for r in personas.conversion if r.source == name] or self._empty(config.stage_names)
            times = [self._time(config.stage_names, a, b, per_time.get((name, p)), overall_time.get(p))
                     for p, (a, b) in enumerate(pairs)]
            self.profiles.append(PersonaProfile(
                persona=name, people=n, share=share.share if share else None,
                sources=tops.get((name, "source"), []), stages=stages, transitions=transitions, times=times,
                touchpoints=touches.get(name, []), firmographics=firmographics,
                differences=self._differences(transitions, times),
                content=journeys_of.get(name, []), content_status=content_status,
            ))
        return self

    # ------------------------------------------------------------------ pieces

    def _touchpoints(self, journeys: Journeys, table: ir.Table,
                     sizes: dict[str, int]) -> dict[str, list[TouchpointShare]]:
        assert self.as_of is not None
        touches = journeys.touchpoints(self.as_of)
        joined = touches.select("person_key", "kind", "channel").join(table.select("person_key", "persona"), "person_key")
        grouped = joined.group_by(["persona", "kind", "channel"]).aggregate(volume=joined.count())
        rank = ibis.row_number().over(group_by="persona", order_by=[ibis.desc("volume"), "kind", "channel"])
        rows = fetch_rows(grouped.mutate(rank=rank).filter(lambda t: t["rank"] < self.top))
        out: dict[str, list[TouchpointShare]] = {}
        for r in sorted(rows, key=lambda r: (r["persona"], r["rank"])):
            out.setdefault(r["persona"], []).append(TouchpointShare(
                r["kind"] if r["kind"] is not None else "unknown", r["channel"], int(r["volume"]),
                int(r["volume"]) / sizes[r["persona"]]))
        return out

    def _time(self, names: list[str], a: int, b: int, mine: TimeFigures | None,
              overall: TimeFigures | None) -> PersonaTime:
        mine = mine or TimeFigures(0, 0, None, None)
        base = overall.median if overall else None
        ratio = mine.median / base if mine.median is not None and base else None
        differs = (ratio is not None and mine.n_completed + mine.n_censored >= (self.min_n or MIN_N)
                   and (ratio >= self.far or ratio <= 1 / self.far))
        return PersonaTime(names[a], names[b], mine.n_completed, mine.n_censored, mine.median, mine.basis,
                           base, ratio, differs)

    @staticmethod
    def _empty(names: list[str]) -> list[SourceTransition]:
        return [SourceTransition("", a, b, 0, 0, None, None, None, 0, 0, None)
                for a, b in itertools.pairwise(names)]

    @staticmethod
    def _differences(transitions: list[SourceTransition], times: list[PersonaTime]) -> list[Difference]:
        out = [Difference("conversion", t.from_stage, t.to_stage, t.rate, t.rest_rate, t.entered,
                          t.direction or "equal", t.p_adjusted)
               for t in transitions if t.significant and t.rate is not None and t.rest_rate is not None]
        out.sort(key=lambda d: d.p_adjusted or 0.0)
        out += sorted((Difference("time", t.from_stage, t.to_stage, t.median_days, t.overall_days, t.n,
                                  "longer" if (t.ratio or 0) > 1 else "shorter")
                       for t in times if t.differs and t.median_days is not None and t.overall_days is not None),
                      key=lambda d: -abs(np.log(d.value / d.other)) if d.value and d.other else 0.0)
        return out

    # ------------------------------------------------------------------ access and rendering

    def profile(self, persona: str) -> PersonaProfile:
        for p in self.profiles:
            if p.persona == persona:
                return p
        raise KeyError(f"no persona {persona!r} (known: {', '.join(p.persona for p in self.profiles)})")

    def summary(self) -> list[dict[str, Any]]:
        """One row per persona: people, share, top source, first-to-last conversion, differences."""
        rows = []
        for p in self.profiles:
            first, last = (p.stages[0], p.stages[-1]) if p.stages else (None, None)
            rows.append({
                "persona": p.persona, "people": p.people, "share": p.share,
                "top_source": p.sources[0].value if p.sources else None,
                "end_to_end": last.reached / first.reached if first and last and first.reached else None,
                "employees_median": p.firmographics.employees_median,
                "differences": len(p.differences),
            })
        return rows

    def _end_to_end_label(self) -> str:
        stages = self.profiles[0].stages if self.profiles else []
        return f"{stages[0].stage} → {stages[-1].stage}" if stages else "End to end"

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "n_people": self.n_people,
            "far": self.far,
            "min_n": self.min_n,
            "summary": self.summary(),
            "profiles": [p.to_dict() for p in self.profiles],
        }

    def to_markdown(self) -> str:
        as_of = f"; data as of {self.as_of:%Y-%m-%d}" if self.as_of else ""
        lines = ["# Buyer personas", "",
                 f"{self.n_people:,} people, assigned by the `[[personas]]` rules in leadjourney.toml{as_of}. "
                 "A persona differs from the others where its conversion is significantly different "
                 f"(z-test vs all other personas, Holm-corrected) or its median time in stage is at least "
                 f"{self.far:g}x (or at most 1/{self.far:g}) the overall median with n ≥ {self.min_n}.", "",
                 f"| Persona | People | Share | Top source | {self._end_to_end_label()} | Median employees | Differences |",
                 "|---|---:|---:|---|---:|---:|---:|"]
        lines += [summary_row(r, _raw) for r in self.summary()]
        for p in self.profiles:
            lines += ["", *_profile_markdown(p)]
        return "\n".join(lines) + "\n"


def _raw(value: str) -> str:
    return value


def _arrow(from_stage: str, to_stage: str) -> str:
    return f"{from_stage} → {to_stage}"


def summary_row(r: dict[str, Any], name: Callable[[str], str]) -> str:
    """One persona of :meth:`PersonaProfiles.summary` as a Markdown table row; ``name`` shows a raw value (the
    raw value itself for analysts, its display name for people)."""
    return (f"| {md(name(r['persona']))} | {r['people']:,} | {percent(r['share'])} | "
            f"{md(name(r['top_source'])) if r['top_source'] else '-'} | {percent(r['end_to_end'])} | "
            f"{number(r['employees_median'])} | {r['differences']} |")


def transition_rows(p: PersonaProfile, arrow: Callable[[str, str], str]) -> list[str]:
    """The persona's transitions table (``arrow`` names a transition), against the other personas."""
    out = ["| Transition | Entered | Converted | Rate | 95% interval | vs the others |", "|---|---:|---:|---:|---|---|"]
    for t in p.transitions:
        mark = (f"**{t.direction}** ({percent(t.rest_rate)})" if t.significant
                else md(t.note or ("no significant difference" if t.p_value is not None else "-")))
        ci = "-" if t.ci_low is None else f"{t.ci_low:.1%} - {t.ci_high:.1%}"
        out.append(f"| {md(arrow(t.from_stage, t.to_stage))} | {t.entered:,} | {t.converted:,} | {percent(t.rate)} | "
                   f"{ci} | {mark} |")
    return out


def ratio_cell(pt: PersonaTime) -> str:
    """A time's ratio to the overall median, bold where it differs."""
    return "-" if pt.ratio is None else (f"**{pt.ratio:.2f}x**" if pt.differs else f"{pt.ratio:.2f}x")


def top_rows(p: PersonaProfile, name: Callable[[str], str]) -> list[str]:
    """The top sources (shown through ``name``), industries and titles side by side, then the top touchpoints."""
    f = p.firmographics
    out = ["| Top sources | Share | Top industries | Share | Top titles | Share |", "|---|---:|---|---:|---|---:|"]
    for i in range(max(len(p.sources), len(f.industries), len(f.titles))):
        cells = []
        for items, shown in ((p.sources, name), (f.industries, _raw), (f.titles, _raw)):
            cells += [md(shown(items[i].value)), percent(items[i].share)] if i < len(items) else ["", ""]
        out.append("| " + " | ".join(cells) + " |")
    if p.touchpoints:
        out += ["", "| Top touchpoint | Channel | Volume | Per person |", "|---|---|---:|---:|"]
        out += [f"| {md(name(t.kind))} | {md(name(t.channel)) if t.channel else '-'} | {t.volume:,} | "
                f"{t.per_person:.2f} |" for t in p.touchpoints]
    return out


def _profile_markdown(p: PersonaProfile) -> list[str]:
    lines = [f"## {md(p.persona)}", "", md(p.narrative())]
    if not p.people:
        return lines
    lines += ["", *transition_rows(p, _arrow)]
    lines += ["", "| Time in stage | Median (d) | Basis | Overall (d) | Ratio | n |", "|---|---:|---|---:|---:|---:|"]
    for pt in p.times:
        basis = {"kaplan_meier": "Kaplan-Meier", "completed": "completed only"}.get(pt.basis or "", "-")
        lines.append(f"| {md(pt.from_stage)} → {md(pt.to_stage)} | {number(pt.median_days, '{:.1f}')} | {basis} | "
                     f"{number(pt.overall_days, '{:.1f}')} | {ratio_cell(pt)} | {pt.n:,} |")
    f = p.firmographics
    lines += ["", f"Company size: {number(f.employees_p10)} - {number(f.employees_p90)} employees (p10-p90), median "
              f"{number(f.employees_median)}; known for {f.employees_known:,} of {p.people:,}.", "", *top_rows(p, _raw)]
    lines += content_markdown(p)
    if p.differences:
        lines += ["", "Where its journey differs:", ""] + [f"- {md(d.text())}" for d in p.differences]
    return lines


def content_markdown(p: PersonaProfile) -> list[str]:
    """The persona's content journey: what its people consumed most before each milestone."""
    lines = ["", "Content journey (content assets and landing pages consumed before each milestone; association, "
             "not cause):", ""]
    if p.content_status.text():
        return [*lines, f"{md(p.content_status.text()).capitalize()}."]
    lines += ["| Before | Reached | Kind | Content asset or landing page | People | Share |", "|---|---:|---|---|---:|---:|"]
    for c in p.content:
        if c.status.text():
            lines.append(f"| {md(c.milestone)} | {c.reached:,} | - | {md(c.status.text())} | - | - |")
        elif not c.items:
            lines.append(f"| {md(c.milestone)} | {c.reached:,} | - | nothing consumed before it | - | - |")
        for i in c.items:
            lines.append(f"| {md(c.milestone)} | {c.reached:,} | {md(i.kind)} | {md(i.item)} | {i.people:,} | "
                         f"{percent(i.share)} |")
    return lines


def number(value: float | None, fmt: str = "{:,.0f}") -> str:
    """A number in ``fmt``; ``-`` for None."""
    return "-" if value is None else fmt.format(value)
