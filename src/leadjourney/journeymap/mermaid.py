"""The map as a Mermaid flowchart: one subgraph per lane, conversion edges labelled, drop-offs red."""

from __future__ import annotations

import re

from leadjourney.display import money
from leadjourney.escape import mermaid_label
from leadjourney.journeymap import text as tx
from leadjourney.journeymap.model import JourneyMap

CLASSES = {
    "stage": "fill:#1F2A44,stroke:#1F2A44,color:#FFFFFF,font-weight:bold",
    "touchAuto": "fill:#FFFFFF,stroke:#8FA3BF,stroke-dasharray:4 3,color:#1F2A44",
    "touchHuman": "fill:#FFF3E0,stroke:#E08A1E,color:#1F2A44",
    "dropoff": "fill:#FDECEA,stroke:#D32F2F,stroke-width:2px,color:#B71C1C",
    "dark": "fill:#ECEFF1,stroke:#607D8B,stroke-dasharray:4 3,color:#37474F",
    "marketing": "fill:#FFFFFF,stroke:#7E9BC4,color:#1F2A44",
    "marketingFlag": "fill:#FFFFFF,stroke:#D32F2F,stroke-width:2px,color:#B71C1C",
    "more": "fill:#FFFFFF,stroke:#B0BAC6,stroke-dasharray:4 3,color:#5F6B7A",
}


def _id(prefix: str, name: str) -> str:
    return prefix + "_" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def to_mermaid(journey_map: JourneyMap, *, max_touchpoints: int = 5) -> str:
    """Mermaid ``flowchart LR`` text; ``max_touchpoints`` per lane, the rest as "+k more"."""
    jm = journey_map
    out = ["---", f'title: "{mermaid_label(jm.title)}"', "---", "flowchart LR"]
    reached = {s.name: s for s in jm.stages}
    for i, lane in enumerate(jm.lanes):
        out.append(f'  subgraph {_id("lane", f"{i}_{lane.name}")}["{mermaid_label(lane.name)}"]')
        out.append("    direction TB")
        for name in lane.stages:
            s = reached[name]
            out.append(f'    {_id("stage", name)}["{mermaid_label(jm.name(name))}<br/>{s.reached:,} people"]:::stage')
        for j, t in enumerate(lane.touchpoints[:max_touchpoints]):
            cls = "touchAuto" if t.automated else "touchHuman"
            label = f"{jm.touchpoint_name(t)} ({jm.name(t.stage)}): {t.volume:,}"
            out.append(f'    {_id("tp", f"{i}_{j}")}(["{mermaid_label(label)}"]):::{cls}')
        for j, p in enumerate(q for q in jm.marketing if q.stage in lane.stages):
            figure = f"{p.value_text} {p.metric} · " if p.status.shown and p.value is not None else ""
            label = f"{p.kind}: {p.name} · {figure}{p.detail}" + (f" · {p.flag}" if p.flag and p.status.judged else "")
            cls = "marketingFlag" if p.flag and p.status.judged else "marketing"
            out.append(f'    {_id("mk", f"{i}_{j}")}["{mermaid_label(label)}"]:::{cls}')
        hidden = lane.touchpoints[max_touchpoints:]
        if hidden:
            out.append(f'    {_id("tp", f"{i}_more")}["{mermaid_label(f"+{len(hidden)} more touchpoints")}"]:::more')
        if not lane.stages and not lane.touchpoints:
            out.append(f'    {_id("empty", str(i))}["{mermaid_label(jm.empty_lane_note(lane.name))}"]:::more')
        out.append("  end")
    for c in jm.conversions:
        median = f"median {tx.days(c.median_days)}{'' if c.median_is_km else '*'}"
        label = f"{tx.pct(c.rate)} (95% CI {tx.ci(c.ci_low, c.ci_high)}) · {median}"
        out.append(f'  {_id("stage", c.from_stage)} -->|"{mermaid_label(label)}"| {_id("stage", c.to_stage)}')
    for k, d in enumerate(jm.drop_offs):
        node = _id("drop", f"{k}_{d.key}_{d.label}")
        label = (f"DROP-OFF {jm.transition(d.from_stage, d.to_stage)} · {jm.segment_name(d.segment)}: {tx.pct(d.rate)} vs "
                 f"{tx.pct(d.compared_with)} · {money(d.revenue_impact, jm.currency)}/{jm.money_per} recoverable")
        out.append(f'  {node}["{mermaid_label(label)}"]:::dropoff')
        out.append(f"  {_id('stage', d.from_stage)} -.-> {node}")
    if jm.dark.n_open:
        dark = jm.dark
        label = f"{dark.n_dark:,} dark ({tx.pct(dark.share)}); {dark.n_re_engaged:,} re-engaged"
        out.append(f'  dark_path[("{mermaid_label(label)}")]:::dark')
        for name, n in dark.by_stage.items():
            if n:
                out.append(f'  {_id("stage", name)} -.->|"{n:,} went dark"| dark_path')
    out += [f"  classDef {name} {css}" for name, css in CLASSES.items()]
    return "\n".join(out) + "\n"
