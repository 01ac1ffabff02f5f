"""The persona profiles document for people: a narrative card per persona beside its tables.

Each card answers four questions in sentences: who they are, what they engage with, where they
stall, and what to change (the recommendations that target the persona, else where to start).
Numbers are the profiles' own (:class:`PersonaProfiles`); names go through :mod:`leadjourney.display`;
what "stalls" means is said once, in words, in a closing note (the tests' names are in the analyst's
personas.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from leadjourney.analysis.persona_content import ConsumedBefore
from leadjourney.analysis.persona_profiles import (
    Difference,
    PersonaProfile,
    PersonaProfiles,
    content_markdown,
    number,
    ratio_cell,
    summary_row,
    top_rows,
    transition_rows,
)
from leadjourney.display import display_name
from leadjourney.escape import markdown_text as md
from leadjourney.reports.people import humanize, plain, transition

if TYPE_CHECKING:
    from leadjourney.reports.recommendations import Recommendation



def personas_markdown(profiles: PersonaProfiles, labels: Mapping[str, str] | None = None,
                      recommendations: Sequence[Recommendation] = ()) -> str:
    """Summary table, then one card and its tables per persona, then the method note."""
    def name(value: str) -> str:
        return display_name(value, labels)

    stages = profiles.profiles[0].stages if profiles.profiles else []
    end_to_end = transition(stages[0].stage, stages[-1].stage, labels) if stages else "End to end"
    lines = ["# Buyer persona profiles", "",
             f"{profiles.n_people:,} people, grouped into personas by the rules agreed for this engagement"
             + (f"; data as of {profiles.as_of:%Y-%m-%d}" if profiles.as_of else "") + ". Each card says who "
             "the persona is, what they engage with, where they stall and what to change; the tables beside it "
             "hold the numbers.", "",
             f"| Persona | People | Share | Top source | {end_to_end} | Median employees | Differs in |",
             "|---|---:|---:|---|---:|---:|---:|"]
    lines += [summary_row(r, name) for r in profiles.summary()]
    for p in profiles.profiles:
        lines += ["", *_card(p, labels, recommendations), *_tables(p, labels)]
    lines += ["", "## About the numbers", "",
              f"A persona \"stalls\" where it converts significantly worse than the other personas together "
              f"(a statistical test at 95% confidence, allowing for the number of personas compared) or spends at "
              f"least {profiles.far:g}x the overall median time in a stage, with at least {profiles.min_n} people. "
              "Median times count the people still waiting where enough have moved on; else only those who moved "
              "on."]  # the test's name (two-proportion z-test, Holm) is in the analyst's personas.md
    return "\n".join(lines) + "\n"


def _card(p: PersonaProfile, labels: Mapping[str, str] | None,
          recommendations: Sequence[Recommendation]) -> list[str]:
    title = display_name(p.persona, labels)
    out = [f"## {md(title)}", ""]
    if not p.people:
        return [*out, f"Nobody in this selection is {md(title)}."]
    f = p.firmographics
    share = "" if p.share is None else f" ({p.share:.0%} of everyone)"
    titles = ", ".join(t.value for t in f.titles[:3]) or "unknown titles"
    industries = ", ".join(i.value for i in f.industries[:3]) or "unknown industries"
    size = ("of unknown size" if f.employees_median is None else
            f"of {f.employees_p10:,.0f}-{f.employees_p90:,.0f} employees (median {f.employees_median:,.0f})")
    via = ", ".join(f"{display_name(s.value, labels)} ({s.share:.0%})" for s in p.sources[:3] if s.share is not None)
    touch = ", ".join(f"{display_name(t.kind, labels)}" + (f" ({display_name(t.channel, labels)})" if t.channel
                                                          else "") + f" {t.per_person:.1f} per person"
                      for t in p.touchpoints[:3])
    out += [f"- **Who:** {p.people:,} people{share}, mostly {md(titles)} at {md(industries)} companies {size}.",
            f"- **What they engage with:** they arrive via {md(via) or 'unknown sources'}"
            + (f"; most touches: {md(touch)}." if touch else ".")]
    read = _read_before(p)
    if read:
        out.append(f"- **What they read before converting:** {md(read)}.")
    stalls = [d for d in p.differences if d.direction in ("lower", "longer")]
    gains = [d for d in p.differences if d.direction in ("higher", "shorter")]
    where = "; ".join(_stall(d, labels) for d in stalls) or "nowhere significantly worse than the others"
    out.append(f"- **Where they stall:** {where}"
               + (f" (better than the others: {'; '.join(_stall(d, labels) for d in gains)})" if gains else "")
               + ".")
    segment = f"persona={p.persona}"
    targeted = [r for r in recommendations if any(f.segment == segment for f in r.friction)]
    if targeted:
        change = "; ".join(f"#{r.rank} {humanize(r.title, labels)}" for r in targeted)
        out.append(f"- **What to change:** {md(change)} (see the recommendations).")
    elif stalls:
        first = stalls[0]
        out.append(f"- **What to change:** start at {md(transition(first.from_stage, first.to_stage, labels))}: "
                   f"ask Sales and Marketing why {md(title)} leads stall there (interview guide) before changing "
                   "scoring or routing for them.")
    else:
        out.append("- **What to change:** nothing specific to this persona; the journey-wide recommendations "
                   "apply.")
    return out


def slide_card(p: PersonaProfile, labels: Mapping[str, str] | None,
               recommendations: Sequence[Recommendation] = ()) -> tuple[str, list[tuple[str, str]]]:
    """A persona's card for a slide, in plain text: its name and (question, answer) lines, shorter than the
    document's card: who, how they arrive, where they stall (the first two), what to change (the first)."""
    title = display_name(p.persona, labels)
    if not p.people:
        return title, [("Who", "nobody in this selection")]
    share = "" if p.share is None else f", {p.share:.0%} of leads"
    titles = ", ".join(t.value for t in p.firmographics.titles[:2])
    via = ", ".join(f"{display_name(s.value, labels)} ({s.share:.0%})" for s in p.sources[:2] if s.share is not None)
    stalls = [d for d in p.differences if d.direction in ("lower", "longer")]
    segment = f"persona={p.persona}"
    targeted = [r for r in recommendations if any(f.segment == segment for f in r.friction)]
    if targeted:
        change = humanize(targeted[0].title, labels)
    elif stalls:
        change = (f"ask Sales and Marketing why they stall at "
                  f"{transition(stalls[0].from_stage, stalls[0].to_stage, labels)}")
    else:
        change = "the journey-wide recommendations"
    return title, [("Who", f"{p.people:,} people{share}" + (f"; mostly {titles}" if titles else "")),
                   ("Arrive via", via or "unknown sources"),
                   ("Stall", "; ".join(_stall(d, labels) for d in stalls[:2]) or "nowhere worse than the others"),
                   ("Change", change)]


def _read_before(p: PersonaProfile) -> str:
    """The content journey in one line: per milestone judged, its most consumed asset and landing page."""
    parts = []
    for c in p.content:
        if c.status.text() or not c.items:
            continue
        firsts: dict[str, ConsumedBefore] = {}
        for i in c.items:
            firsts.setdefault(i.kind, i)
        parts.append(f"before {c.milestone}, " + " and ".join(
            f"{i.kind} {i.item} ({i.people:,} of {c.reached:,})" for i in firsts.values()))
    return "; ".join(parts)


def _stall(d: Difference, labels: Mapping[str, str] | None) -> str:
    arrow = transition(d.from_stage, d.to_stage, labels)
    if d.kind == "conversion":
        return f"{arrow} converts {d.value:.1%} vs {d.other:.1%} for the others"
    return f"{d.value:.1f} days in {arrow} vs {d.other:.1f} overall"


def _tables(p: PersonaProfile, labels: Mapping[str, str] | None) -> list[str]:
    if not p.people:
        return []
    out = ["", *transition_rows(p, lambda a, b: transition(a, b, labels))]
    out += ["", "| Time in stage | Median (days) | Overall (days) | Ratio | People |", "|---|---:|---:|---:|---:|"]
    out += [f"| {md(transition(pt.from_stage, pt.to_stage, labels))} | {number(pt.median_days, '{:.1f}')} | "
            f"{number(pt.overall_days, '{:.1f}')} | {ratio_cell(pt)} | {pt.n:,} |" for pt in p.times]
    return [*out, "", *top_rows(p, lambda value: display_name(value, labels)), *map(plain, content_markdown(p))]
