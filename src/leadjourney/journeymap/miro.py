"""The map as a CSV of cards for Miro's CSV import: one card per touchpoint, web or campaign
touchpoint, conversion and drop-off."""

from __future__ import annotations

import csv
import io

from leadjourney.display import money
from leadjourney.escape import csv_row
from leadjourney.journeymap import text as tx
from leadjourney.journeymap.model import JourneyMap

COLUMNS = ("Title", "Description", "Lane", "Stage", "Type", "Tag", "Color", "Value")
COLORS = {"stage": "#1F2A44", "conversion": "#4A6FA5", "drop-off": "#D32F2F", "touchpoint-automated": "#8FA3BF",
          "touchpoint-human": "#E08A1E", "dark-lead": "#607D8B", "note": "#B0BAC6",
          "web-campaign": "#7E9BC4"}


def to_miro_csv(journey_map: JourneyMap) -> str:
    """CSV text with a header row; ``Tag`` is the card's type (and finding status where known); text cells
    that a spreadsheet would run as a formula prefixed with ``'``."""
    jm = journey_map
    out: list[list[object]] = []
    for s in jm.stages:
        name = jm.name(s.name)
        out.append([name, f"{s.reached:,} people reached {name} ({s.imputed:,} without a CRM entry)",
                    s.lane, name, "stage", "stage", COLORS["stage"], s.reached])
    for c in jm.conversions:
        median = f"median {tx.days(c.median_days)} ({'Kaplan-Meier' if c.median_is_km else 'completed only'})"
        desc = (f"{tx.pct(c.rate)} ({c.converted:,} of {c.entered:,}), 95% CI {tx.ci(c.ci_low, c.ci_high)}, "
                f"{median}; {money(c.revenue_impact, jm.currency)}/{jm.money_per} recoverable "
                f"(friction #{c.friction_rank}; target: {c.target_source})")
        if c.target is not None and c.gap is not None:
            desc += f"; target {tx.pct(c.target)}, gap {100 * c.gap:+.1f} pp"
        tag = "conversion" + (f"; {c.mark.status}" if c.mark else "")
        out.append([f"{jm.transition(c.from_stage, c.to_stage)}: {tx.pct(c.rate)}", desc,
                    jm.lane_of(c.to_stage) or "", jm.name(c.to_stage), "conversion", tag, COLORS["conversion"], c.rate])
    for d in jm.drop_offs:
        desc = (f"{tx.pct(d.rate)} vs {tx.pct(d.compared_with)}: {d.reason}; "
                f"{money(d.revenue_impact, jm.currency)}/{jm.money_per} recoverable; "
                f"hypothesis: {d.hypothesis or '-'}")
        tag = "drop-off" + (f"; {d.mark.status}" if d.mark else "")
        out.append([f"DROP-OFF {jm.transition(d.from_stage, d.to_stage)} ({jm.segment_name(d.segment)})", desc,
                    jm.lane_of(d.from_stage) or "", jm.name(d.from_stage), "drop-off", tag, COLORS["drop-off"], d.rate])
    for lane in jm.lanes:
        for t in lane.touchpoints:
            kind = "touchpoint-automated" if t.automated else "touchpoint-human"
            stage = jm.name(t.stage)
            out.append([jm.touchpoint_name(t), f"{t.volume:,} touchpoints, {t.unique_leads:,} unique leads while in "
                        f"{stage}", lane.name, stage, "touchpoint", "automated" if t.automated else "human",
                        COLORS[kind], t.volume])
    for p in jm.marketing:
        figure = f"{p.value_text} {p.metric}; " if p.status.shown and p.value is not None else ""
        out.append([f"{p.kind}: {p.name}", figure + p.detail + (f"; {p.flag}" if p.flag and p.status.judged else ""),
                    p.lane, jm.name(p.stage), "web-campaign", p.kind, COLORS["web-campaign"],
                    "" if p.value is None else p.value])
    for lane in jm.lanes:
        if not lane.stages:  # an empty lane says which data would fill it
            out.append([f"{lane.name}: no data", jm.empty_lane_note(lane.name), lane.name, "", "note", "note",
                        COLORS["note"], ""])
    dark = jm.dark
    for stage, n in dark.by_stage.items():
        if n:
            out.append([f"{n:,} went dark at {jm.name(stage)}", f"open, no engagement for {dark.dark_after_days}+ days",
                        jm.lane_of(stage) or "", jm.name(stage), "dark-lead", "dark-lead", COLORS["dark-lead"], n])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(csv_row(row) for row in out)
    return buf.getvalue()
