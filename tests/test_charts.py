"""The funnel chart of the documents and the deck: display names, and rates not judged said as elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from conftest import DATA, csv_workspace
from leadjourney.analysis import analyze
from leadjourney.reports.charts import BAR, UNJUDGED_BAR, funnel_png


def _colours(png: bytes) -> set[str]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {"#{:02X}{:02X}{:02X}".format(*rgb) for _, rgb in image.getcolors(maxcolors=1 << 20) or []}


def test_rates_too_few_to_judge_are_grey_starred_and_say_why(tmp_path: Path, drawn_texts: list[str]) -> None:
    """A handful of leads (min_n = 30): every rate is too few to judge. The chart drew them as blue bars with
    nothing said, and stage names raw while [labels] renamed them in the documents beside it."""
    ws = csv_workspace(tmp_path / "ws", **{t: (DATA / f"canonical_{t}.csv").read_text("utf-8")
                                           for t in ("leads", "stage_events", "touchpoints", "opportunities")})
    funnel = analyze(ws).funnel
    shown = [t for t in funnel.transitions if t.rate is not None]
    assert shown and not any(t.status.judged for t in shown)
    drawn = drawn_texts
    png = funnel_png(funnel, scale=1.0, labels={"MQL": "Marketing qualified"})
    assert "Marketing qualified" in drawn and "MQL" not in drawn
    for t in shown:
        assert any(text.startswith(f"{t.rate:.1%}*") for text in drawn)
        assert any(text.startswith("* ") and t.status.text()[:20] in text for text in drawn)
    colours = _colours(png)
    assert UNJUDGED_BAR in colours and BAR not in colours


def test_judged_rates_are_blue_without_notes(tmp_path: Path, drawn_texts: list[str]) -> None:
    from conftest import min_n_config

    ws = csv_workspace(tmp_path / "ws", min_n_config(1), **{
        t: (DATA / f"canonical_{t}.csv").read_text("utf-8") for t in ("leads", "stage_events", "touchpoints",
                                                                          "opportunities")})
    funnel = analyze(ws).funnel
    judged = [t for t in funnel.transitions if t.status.judged and t.rate]
    assert judged
    drawn = drawn_texts
    png = funnel_png(funnel, scale=1.0)
    assert BAR in _colours(png)
    assert all(any(text.startswith(f"{t.rate:.1%} ") or text == f"{t.rate:.1%}" for text in drawn) for t in judged)


def test_on_a_slide_the_footnotes_are_slide_text_and_the_chart_reads_at_9_points(
        tmp_path: Path, drawn_texts: list[str]) -> None:
    """The deck placed the chart with its footnotes inside: the notes made the picture taller, so it shrank
    with them. Without them the picture's smallest text (15 px) is 9 pt or more where the slide places it,
    below the title and above the notes, which go under it as slide text at 11 pt."""
    from leadjourney.reports.charts import funnel_notes
    from leadjourney.reports.deck_layout import FOOTNOTE_PT
    from leadjourney.reports.pptx_writer import picture_fit

    ws = csv_workspace(tmp_path / "ws", **{t: (DATA / f"canonical_{t}.csv").read_text("utf-8")
                                           for t in ("leads", "stage_events", "touchpoints", "opportunities")})
    funnel = analyze(ws).funnel
    notes = funnel_notes(funnel)
    assert len(notes) >= 3 and all(n.startswith("* ") for n in notes)
    with_notes = Image.open(io.BytesIO(funnel_png(funnel))).size
    drawn_texts.clear()
    png = funnel_png(funnel, notes=False)
    assert not any(text.startswith("* ") for text in drawn_texts)  # said on the slide instead
    size = Image.open(io.BytesIO(png)).size
    assert size[1] < with_notes[1]
    emu_per_px, foot_h = picture_fit(size[0] // 2, size[1] // 2, notes)  # drawn at scale 2: logical pixels
    assert 15 * emu_per_px / 12700 >= 9 and foot_h >= 12700 * FOOTNOTE_PT * len(notes)
