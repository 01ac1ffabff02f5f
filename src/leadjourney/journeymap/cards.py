"""The cards of the map, each laid out inside a given rectangle: text fitted to the card's width."""

from __future__ import annotations

from collections.abc import Sequence

from leadjourney.display import money
from leadjourney.journeymap import text as tx
from leadjourney.journeymap.boxes import Box, TextLine
from leadjourney.journeymap.model import (
    ConversionPoint,
    DropOffPoint,
    JourneyMap,
    Mark,
    MarketingPoint,
    PersonaLane,
    PersonaPoint,
    StageNode,
    TouchpointCard,
)
from leadjourney.journeymap.theme import MUTED, PURPLE, RED, style

PAD = 12.0
BADGE_SIZE = 10.0
LINE = 16.0  # line pitch of a card's 12-13 px text
STATUS_MAX_LINES = 12  # a conversion's status (why its rate is not judged) wraps to this many lines
STAGE_NAME_PX, STAGE_NAME_MIN_PX = 18, 12  # a stage's name shrinks to fit its box before it is ever cut
DROP_MAX_LINES = 4  # a drop-off's name wraps to this many lines (then, and only then, is it cut)


def shows_badge(mark: Mark | None) -> bool:
    """A card carries a badge only for a stakeholder's verdict (CONFIRMED, CORRECTED); the unconfirmed
    (ASSUMED) are counted once in the header's banner instead of tagging every card."""
    return mark is not None and mark.status != "ASSUMED"


def badge(owner: str, mark: Mark, right: float, y: float) -> Box:
    """A small status tag (ASSUMED / CONFIRMED / CORRECTED, with ``?`` when stale), right-aligned."""
    label = mark.status + ("?" if mark.stale else "")
    w = tx.measure(label, BADGE_SIZE, True) + 10
    box = Box(f"{owner}-badge-{mark.finding_id}", right - w, y, w, 16,
              "badge-stale" if mark.stale else f"badge-{mark.status}", "badge",
              tooltip=mark_text(mark), data={"finding": mark.finding_id, "status": mark.status})
    box.lines.append(TextLine(label, right - w / 2, y + 12, BADGE_SIZE, True, anchor="middle"))
    return box


def mark_text(mark: Mark | None) -> str:
    if mark is None:
        return ""
    out = f"{mark.status} ({mark.finding_id})"
    if mark.note:
        out += f": {mark.note}"
    if mark.stale:
        out += f"; stated when the value was {mark.stated:.4g}, now {mark.current:.4g}: re-confirm"
    return out


def stage_box(stage: StageNode, cx: float, y: float, w: float, parent: str, name: str | None = None) -> Box:
    """A stage on the spine; ``name`` is its display name (default: the stage's own)."""
    name = name or stage.name
    box = Box(f"stage-{stage.name}", cx - w / 2, y, w, 74, "stage", "stage", parent=parent,
              data={"stage": stage.name, "reached": str(stage.reached), "imputed": str(stage.imputed)},
              tooltip=f"{name} ({stage.lane}): {stage.reached:,} people reached it; "
                      f"{stage.imputed:,} of them have no CRM entry for it")
    inner = w - 2 * PAD
    size = tx.fitting_size(name, inner, STAGE_NAME_PX, STAGE_NAME_MIN_PX, True)  # "Opportunity" whole, not cut
    if tx.measure(name, size, True) <= inner:
        box.lines.append(TextLine(name, cx, y + 28, size, True, anchor="middle"))
    else:  # too long even at the smallest size: two lines (the second cut only past that)
        for k, line in enumerate(tx.wrap(name, inner, size, True, max_lines=2)):
            box.lines.append(TextLine(line, cx, y + 20 + 14 * k, size, True, anchor="middle"))
    box.lines.append(TextLine(tx.truncate(f"{stage.reached:,} people", inner, 14), cx, y + 50, 14, anchor="middle"))
    if stage.imputed:
        box.lines.append(TextLine(tx.truncate(f"{stage.imputed:,} imputed", inner, 12), cx, y + 66, 12,
                                  color="#C5CEE0", anchor="middle"))
    return box


def conversion_card(c: ConversionPoint, x: float, y: float, w: float, *, jm: JourneyMap, red: bool) -> list[Box]:
    """The conversion point: rate, bar with 95% interval (and target), median time, recoverable revenue."""
    currency, per, show_targets = jm.currency, jm.money_per, jm.has_targets
    card = Box(f"conversion-{c.key}", x, y, w, 0, "conversion-dropoff" if red else "conversion", "conversion",
               tooltip=conversion_tooltip(c, jm), data=_conversion_data(c))
    extra: list[Box] = []
    inner = w - 2 * PAD
    left = x + PAD
    title_room = inner
    if c.mark and shows_badge(c.mark):
        extra.append(badge(card.id, c.mark, x + w - PAD, y + 9))
        title_room -= extra[-1].w + 6
    title, size = tx.fit(jm.transition(c.from_stage, c.to_stage), title_room, 14, 11, True)
    card.lines.append(TextLine(title, left, y + 22, size, True))
    rate = tx.pct(c.rate)
    card.lines.append(TextLine(rate, left, y + 54, 26, True, color=RED if red else None))
    of_x = left + tx.measure(rate, 26, True) + 10
    of = f"{c.converted:,} of {c.entered:,}"
    if tx.measure(of, 10) > x + w - PAD - of_x:  # a narrow card: "1,572/3,960" rather than "1,572 of 3,9…"
        of = f"{c.converted:,}/{c.entered:,}"
    of, size = tx.fit(of, x + w - PAD - of_x, 12, 10)
    card.lines.append(TextLine(of, of_x, y + 54, size, color=MUTED))
    extra += _rate_bar(card.id, c, left, y + 62, inner, red)
    ci = f"95% CI {tx.ci(c.ci_low, c.ci_high)}" if c.status.judged else c.status.text()
    at = y + 90
    for line in tx.wrap(ci, inner, 12, max_lines=STATUS_MAX_LINES):  # a status says why in full: wrapped, not cut
        card.lines.append(TextLine(line, left, at, 12, color=None if c.status.judged else MUTED))
        at += LINE - 1
    base = at + 3
    # the method in the tooltip; "*": of those who moved on only, as the map's subtitle says (the card's
    # "(completed only)" repeated that in an analyst's words)
    median = f"median {tx.days(c.median_days)}" + ("" if c.median_is_km else "*")
    room = inner
    if c.time_mark and shows_badge(c.time_mark):
        extra.append(badge(card.id, c.time_mark, x + w - PAD, base - 12))
        room -= extra[-1].w + 6
    for k, line in enumerate(tx.wrap(median, room, 12, max_lines=2)):
        base += (LINE - 1) if k else 0
        card.lines.append(TextLine(line, left, base, 12))
    if show_targets:
        base += 18
        gap = c.gap
        target = ("no ideal-state target" if c.target is None
                  else f"target {tx.pct(c.target)} · gap {100 * gap:+.1f} pp" if gap is not None
                  else f"target {tx.pct(c.target)}")
        card.lines.append(TextLine(tx.truncate(target, inner, 12, True), left, base, 12, True, color=PURPLE))
    if c.revenue_impact:  # $0 (at or above its target) is left out, as the deck's friction table does; the
        base += 18        # friction rank and the target's source are in the tooltip
        lost = f"recoverable {money(c.revenue_impact, currency)}/{per}"
        for k, line in enumerate(tx.wrap(lost, inner, 12, red, max_lines=3)):
            base += (LINE - 1) if k else 0
            card.lines.append(TextLine(line, left, base, 12, red, color=RED if red else None))
    card.h = base - y + 12
    return [card, *extra]


def _rate_bar(owner: str, c: ConversionPoint, x: float, y: float, w: float, red: bool) -> list[Box]:
    out = [Box(f"{owner}-track", x, y, w, 8, "rate-track", "bar")]
    if c.rate is not None:
        out.append(Box(f"{owner}-rate", x, y, max(2.0, w * c.rate), 8, "rate-bar-red" if red else "rate-bar", "bar"))
    if c.ci_low is not None and c.ci_high is not None:
        lo, hi = x + w * c.ci_low, x + w * c.ci_high
        out += [Box(f"{owner}-ci", lo, y + 3, max(1.0, hi - lo), 2, "ci", "bar"),
                Box(f"{owner}-ci-lo", lo - 1, y - 2, 2, 12, "ci", "bar"),
                Box(f"{owner}-ci-hi", hi - 1, y - 2, 2, 12, "ci", "bar")]
    if c.target is not None:
        out.append(Box(f"{owner}-target", x + w * c.target - 1.5, y - 5, 3, 18, "target", "target",
                       tooltip=f"ideal-state target {tx.pct(c.target)}", data={"target": repr(c.target)}))
    return out


def conversion_tooltip(c: ConversionPoint, jm: JourneyMap) -> str:
    currency, per = jm.currency, jm.money_per
    lines = [f"{jm.transition(c.from_stage, c.to_stage)}: {tx.pct(c.rate)} ({c.converted:,} of {c.entered:,})",
             *([] if c.status.judged else [c.status.text()]),
             f"95% interval {tx.ci(c.ci_low, c.ci_high)}",
             f"median time {tx.days(c.median_days)} " + ("(Kaplan-Meier)" if c.median_is_km else "(completed only)")]
    if c.time_caveat:
        lines.append(c.time_caveat)
    if c.revenue_impact is not None:
        lines.append(f"friction #{c.friction_rank}: {money(c.revenue_impact, currency)} / {per} recoverable "
                     f"({c.target_source}); hypothesis: {c.hypothesis}")
    if c.target is not None and c.gap is not None:
        lines.append(f"ideal-state target {tx.pct(c.target)}, gap {100 * c.gap:+.1f} percentage points")
    lines += [mark_text(m) for m in (c.mark, c.time_mark) if m]
    return "\n".join(lines)


def _conversion_data(c: ConversionPoint) -> dict[str, str]:
    return {"key": c.key, "status": c.status.status.value, "entered": str(c.entered), "converted": str(c.converted), "rate": repr(c.rate),
            "ci-low": repr(c.ci_low), "ci-high": repr(c.ci_high), "median-days": repr(c.median_days),
            "median-is-km": str(c.median_is_km).lower(), "revenue-impact": repr(c.revenue_impact)}


def drop_off_card(d: DropOffPoint, x: float, y: float, w: float, *, jm: JourneyMap, index: int) -> list[Box]:
    """A drop-off: its segment's display name and the comparison, each wrapped (never cut) to the card's width."""
    currency, per = jm.currency, jm.money_per
    card = Box(f"dropoff-{d.key}-{d.segment or 'all'}", x, y, w, 0, "dropoff", "dropoff",
               tooltip=drop_off_tooltip(d, jm),
               data={"key": d.key, "segment": d.segment or "", "rate": repr(d.rate),
                     "revenue-impact": repr(d.revenue_impact), "index": str(index)})
    marker = Box(f"{card.id}-marker", x + 10, y + 12, 12, 10, "marker", "marker", shape="triangle")
    extra = [marker]
    room = w - 28 - PAD
    if d.mark and shows_badge(d.mark):
        extra.append(badge(card.id, d.mark, x + w - PAD, y + 8))
        room -= extra[-1].w + 6
    at = y + 21
    for line in tx.wrap(f"DROP-OFF · {jm.segment_name(d.segment)}", room, 13, True, max_lines=DROP_MAX_LINES):
        card.lines.append(TextLine(line, x + 28, at, 13, True))
        at += LINE
    at += 2
    detail = f"{tx.pct(d.rate)} vs {tx.pct(d.compared_with)} {d.compared_with_label}" + (
        f" · {money(d.revenue_impact, currency)}/{per} recoverable" if d.revenue_impact else "")
    for line in tx.wrap(detail, w - 2 * PAD, 12, max_lines=DROP_MAX_LINES):
        card.lines.append(TextLine(line, x + PAD, at, 12))
        at += LINE - 1
    card.h = at - y - 4
    return [card, *extra]


def drop_off_tooltip(d: DropOffPoint, jm: JourneyMap) -> str:
    currency, per = jm.currency, jm.money_per
    lines = [f"Drop-off {jm.transition(d.from_stage, d.to_stage)} ({jm.segment_name(d.segment)}): "
             f"{tx.pct(d.rate)}, {d.reason}"]
    if d.revenue_impact is not None:
        lines.append(f"friction #{d.friction_rank}: {money(d.revenue_impact, currency)} / {per} recoverable")
    else:
        lines.append(f"recoverable revenue: {d.revenue_status.text()}")
    if d.hypothesis:
        lines.append(f"hypothesis: {d.hypothesis}")
    if d.mark:
        lines.append(mark_text(d.mark))
    return "\n".join(lines)


def more_drop_offs(key: str, hidden: Sequence[DropOffPoint], x: float, y: float, w: float, jm: JourneyMap) -> Box:
    """The drop-offs past the card limit, named (wrapped) in one dashed card; the details in its tooltip."""
    box = Box(f"dropoff-{key}-more", x, y, w, 0, "dropoff-more", "dropoff-more",
              tooltip="\n".join(drop_off_tooltip(d, jm) for d in hidden),
              data={"key": key, "segments": ",".join(d.segment or "" for d in hidden)})
    box.lines.append(TextLine(tx.truncate(f"+{len(hidden)} more drop-off points", w - 2 * PAD, 13, True),
                              x + PAD, y + 21, 13, True))
    at = y + 39
    for line in tx.wrap(", ".join(jm.segment_name(d.segment) for d in hidden), w - 2 * PAD, 12,
                        max_lines=DROP_MAX_LINES):
        box.lines.append(TextLine(line, x + PAD, at, 12))
        at += LINE - 1
    box.h = at - y - 4
    return box


def touchpoint_card(t: TouchpointCard, x: float, y: float, w: float, *, max_volume: int, parent: str,
                    index: int, jm: JourneyMap) -> list[Box]:
    """A touchpoint; its bar's length is its volume against ``max_volume`` (the busiest of its lane)."""
    kind = "human" if not t.automated else "auto"
    via = f" via {jm.name(t.channel)}" if t.channel else ""
    card = Box(f"touch-{t.lane}-{index}", x, y, w, 50, f"touch-{kind}", "touchpoint", parent=parent,
               tooltip=(f"{jm.name(t.kind)}{via} while in {jm.name(t.stage)} ({t.lane}): "
                        f"{t.volume:,} touchpoints, {t.unique_leads:,} unique leads; "
                        f"{'automated' if t.automated else 'human'}"
                        + (f"; conversion lift {100 * t.lift:+.1f} pp (95% CI {100 * t.lift_ci_low:+.1f} to "
                           f"{100 * t.lift_ci_high:+.1f}), association not cause"
                           if t.lift is not None and t.lift_ci_low is not None and t.lift_ci_high is not None
                           else "")),
               data={"lane": t.lane, "stage": t.stage, "kind": t.kind, "channel": t.channel or "",
                     "automated": str(t.automated).lower(), "volume": str(t.volume)})
    tag = "AUTO" if t.automated else "HUMAN"
    tag_w = tx.measure(tag, 10, True)
    card.lines += [
        TextLine(tx.truncate(jm.touchpoint_name(t), w - 14 - tag_w - 18, 13, True), x + 14, y + 19, 13, True),
        TextLine(tag, x + w - 8, y + 18, 10, True, color=style(f"stripe-{kind}").fill, anchor="end"),
        TextLine(tx.truncate(f"{t.volume:,} touches · {t.unique_leads:,} leads", w - 22, 12), x + 14, y + 36, 12),
    ]
    bar_w = max(2.0, (w - 28) * t.volume / max_volume) if max_volume else 2.0
    return [card, Box(f"{card.id}-stripe", x, y, 5, 50, f"stripe-{kind}", "stripe", parent=parent),
            Box(f"{card.id}-bar", x + 14, y + 41, bar_w, 4, f"bar-{kind}", "bar", parent=parent,
                data={"volume": str(t.volume), "scale": str(max_volume), "lane": t.lane})]


def more_touchpoints(lane: str, slot: int, hidden: Sequence[TouchpointCard], x: float, y: float, w: float,
                     parent: str, jm: JourneyMap) -> Box:
    shown = hidden[:40]
    tip = "\n".join(f"{jm.touchpoint_name(t)} ({jm.name(t.stage)}): {t.volume:,}" for t in shown)
    if len(hidden) > len(shown):
        tip += f"\n... and {len(hidden) - len(shown)} more"
    box = Box(f"touch-{lane}-more-{slot}", x, y, w, 50, "touch-more", "touch-more", parent=parent, tooltip=tip,
              data={"lane": lane, "hidden": str(len(hidden))})
    box.lines += [TextLine(tx.truncate(f"+{len(hidden)} more touchpoints", w - 2 * PAD, 13, True),
                           x + PAD, y + 20, 13, True),
                  TextLine(tx.truncate(f"{sum(t.volume for t in hidden):,} touches", w - 2 * PAD, 12),
                           x + PAD, y + 38, 12)]
    return box


def persona_cell(lane: PersonaLane, p: PersonaPoint, x: float, y: float, w: float, jm: JourneyMap) -> Box:
    style_name = f"persona-{p.differs}" if p.differs else "persona"
    box = Box(f"persona-{lane.name}-{p.key}", x, y, w, 46, style_name, "persona",
              tooltip=(f"{jm.name(lane.name)}, {jm.transition(p.from_stage, p.to_stage)}: {tx.pct(p.rate)} of {p.entered:,} "
                       f"(95% CI {tx.ci(p.ci_low, p.ci_high)}), median {tx.days(p.median_days)}"
                       + (f"; {p.differs} than the others" if p.differs else "")),
              data={"persona": lane.name, "key": p.key, "rate": repr(p.rate), "differs": p.differs or ""})
    rate = tx.pct(p.rate)
    box.lines.append(TextLine(rate, x + PAD, y + 20, 14, True))
    if p.differs:
        dx = x + PAD + tx.measure(rate, 14, True) + 8
        box.lines.append(TextLine(tx.truncate(f"{p.differs} than the others", x + w - PAD - dx, 12, True),
                                  dx, y + 20, 12, True))
    star = "" if p.median_is_km else "*"
    detail = f"CI {tx.ci(p.ci_low, p.ci_high)} · median {tx.days(p.median_days)}{star} · n {p.entered:,}"
    box.lines.append(TextLine(tx.truncate(detail, w - 2 * PAD, 12), x + PAD, y + 37, 12))
    return box


def marketing_card(p: MarketingPoint, x: float, y: float, w: float, *, parent: str, index: int) -> Box:
    """A web or campaign touchpoint: kind and name, its figure (red with the flag when significant), and its
    interval and n, or the reason it is withheld (wrapped, never cut)."""
    flagged = p.flag is not None and p.status.judged
    tip = f"{p.kind}: {p.name}\n" + (f"{p.metric}: {p.value_text}" if p.status.shown and p.value is not None else "")
    tip += ("" if not p.status.shown or p.value is None else "\n") + p.detail + (f"\n{p.flag}" if flagged else "")
    tip += f"\n{p.kind}: {p.why}" if p.why else ""
    box = Box(f"marketing-{p.stage}-{index}", x, y, w, 0, "marketing-flag" if flagged else "marketing", "marketing",
              parent=parent, tooltip=tip,
              data={"kind": p.kind, "name": p.name, "stage": p.stage, "value": repr(p.value), "n": str(p.n),
                    "status": p.status.status.value, "flag": p.flag or ""})
    inner = w - 2 * PAD
    at = y + 18 - (LINE - 1)
    for line in tx.wrap(f"{p.kind.upper()} · {p.name}", inner, 12, True, max_lines=3):  # a campaign's whole name
        at += LINE - 1
        box.lines.append(TextLine(line, x + PAD, at, 12, True))
    if p.status.shown and p.value is not None:
        at += LINE + 2
        figure = f"{p.value_text} {p.metric}"
        box.lines.append(TextLine(tx.truncate(figure, inner, 13, True), x + PAD, at, 13, True,
                                  color=RED if flagged else None))
        if flagged and p.flag:
            at += LINE - 1
            box.lines.append(TextLine(tx.truncate(p.flag, inner, 12, True), x + PAD, at, 12, True, color=RED))
    for line in tx.wrap(p.detail, inner, 12, max_lines=STATUS_MAX_LINES):
        at += LINE - 1
        box.lines.append(TextLine(line, x + PAD, at, 12, color=None if p.status.judged else MUTED))
    box.h = at - y + 10
    return box
