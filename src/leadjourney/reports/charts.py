"""Charts for the documents and the deck, drawn with Pillow (no browser): the funnel with intervals."""

from __future__ import annotations

import io
from collections.abc import Mapping

from PIL import Image, ImageDraw

from leadjourney.analysis.funnel import Funnel
from leadjourney.display import display_name
from leadjourney.journeymap.text import drawable, font, measure, truncate, wrap

INK, MUTED, BAR, WHISKER, GRID = "#202124", "#5F6368", "#1A73E8", "#174EA6", "#DADCE0"
UNJUDGED_BAR, UNJUDGED_WHISKER = "#C6CACF", "#9AA0A6"  # a rate shown but not judged (too few, too young)
WIDTH = 1200
NOTE_SIZE, NOTE_LINE = 15.0, 21.0


def funnel_notes(funnel: Funnel, labels: Mapping[str, str] | None = None) -> list[str]:
    """The chart's footnotes: each rate not judged, with its status in the words every renderer uses."""
    return [f"* {display_name(t.from_stage, labels)} to {display_name(t.to_stage, labels)}: {t.status.text()}"
            for t in funnel.transitions if not t.status.judged]


def funnel_png(funnel: Funnel, scale: float = 2.0, labels: Mapping[str, str] | None = None,
               notes: bool = True) -> bytes:
    """Each transition's conversion rate as a bar, its 95% Wilson interval as a whisker, labelled; stage names
    by their display names (``[labels]``). A rate not judged (too few people, too young) is grey, marked "*",
    with its status under the chart (``notes``; else the slide or page says it in its own text, see
    :func:`funnel_notes`); a withheld one has no bar."""
    rows = funnel.transitions
    row_h, top, left, right = 78.0, 70.0, 300.0, 250.0
    lines = [line for note in (funnel_notes(funnel, labels) if notes else [])
             for line in wrap(note, WIDTH - 48, NOTE_SIZE)]
    plot_bottom = top + row_h * max(1, len(rows)) + 50
    height = plot_bottom + (NOTE_LINE * len(lines) + 14 if lines else 0)
    img = Image.new("RGB", (round(WIDTH * scale), round(height * scale)), "#FFFFFF")
    draw = ImageDraw.Draw(img)

    def s(v: float) -> float:
        return v * scale

    plot_w = WIDTH - left - right
    draw.text((s(24), s(40)), drawable(f"Conversion by stage, 95% interval ({funnel.n_people:,} people, {display_name(funnel.mode).lower()})"),
              font=font(s(24)), fill=INK, anchor="ls")
    for pct in (0, 25, 50, 75, 100):
        x = left + plot_w * pct / 100
        draw.line((s(x), s(top - 8), s(x), s(plot_bottom - 40)), fill=GRID, width=max(1, round(scale)))
        draw.text((s(x), s(plot_bottom - 16)), f"{pct}%", font=font(s(15)), fill=MUTED, anchor="ms")
    for i, t in enumerate(rows):
        y = top + i * row_h + row_h / 2
        _transition_label(draw, display_name(t.from_stage, labels), display_name(t.to_stage, labels), s(24), s(y),
                          s(left - 40), s(20))
        if t.rate is None:
            draw.text((s(left), s(y)), drawable(t.status.text() or "nobody entered"), font=font(s(17)), fill=MUTED,
                      anchor="lm")
            continue
        judged = t.status.judged
        draw.rectangle((s(left), s(y - 18), s(left + plot_w * t.rate), s(y + 18)),
                       fill=BAR if judged else UNJUDGED_BAR)
        if t.ci_low is not None and t.ci_high is not None:
            x0, x1 = left + plot_w * t.ci_low, left + plot_w * t.ci_high
            w = max(2, round(2 * scale))
            whisker = WHISKER if judged else UNJUDGED_WHISKER
            draw.line((s(x0), s(y), s(x1), s(y)), fill=whisker, width=w)
            for x in (x0, x1):
                draw.line((s(x), s(y - 12), s(x), s(y + 12)), fill=whisker, width=w)
        ci = "" if t.ci_low is None else f"  ({t.ci_low:.1%}-{t.ci_high:.1%})"
        draw.text((s(left + plot_w + 16), s(y - 9)), f"{t.rate:.1%}{'' if judged else '*'}{ci}", font=font(s(19)),
                  fill=INK if judged else MUTED, anchor="lm")
        draw.text((s(left + plot_w + 16), s(y + 14)), f"{t.converted:,} of {t.entered:,}", font=font(s(15)),
                  fill=MUTED, anchor="lm")
    for i, line in enumerate(lines):
        draw.text((s(24), s(plot_bottom + 8 + NOTE_LINE * (i + 0.5))), drawable(line), font=font(s(NOTE_SIZE)),
                  fill=MUTED, anchor="lm")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _transition_label(draw: ImageDraw.ImageDraw, from_stage: str, to_stage: str, x: float, y: float,
                      width: float, size: float) -> None:
    """"From → To" at (x, y), the arrow drawn (the bundled font has no arrow glyph), the names shortened
    with "…" only when the pair cannot fit ``width``."""
    gap = size * 1.6  # the arrow and the space around it
    room = max(0.0, (width - gap) / 2)
    f = font(size)
    first = from_stage if measure(from_stage, size) + gap + measure(to_stage, size) <= width else \
        truncate(from_stage, room, size)
    second = to_stage if measure(first, size) + gap + measure(to_stage, size) <= width else \
        truncate(to_stage, width - gap - measure(first, size), size)
    draw.text((x, y), drawable(first), font=f, fill=INK, anchor="lm")
    x0 = x + measure(first, size) + size * 0.3
    x1 = x0 + size * 1.0
    w = max(1, round(size / 10))
    draw.line((x0, y, x1, y), fill=INK, width=w)
    draw.polygon([(x1 + size * 0.1, y), (x1 - size * 0.3, y - size * 0.25), (x1 - size * 0.3, y + size * 0.25)],
                 fill=INK)
    draw.text((x + measure(first, size) + gap, y), drawable(second), font=f, fill=INK, anchor="lm")
