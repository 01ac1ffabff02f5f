"""Table geometry for the Word documents: column widths from content, and the page orientation a table needs.

Widths come from the text itself (Arial metrics, which LibreOffice's Liberation Sans shares): every
column is at least as wide as its longest word, so no word breaks mid-way ("Recommendat/ion"), and the
room left over goes to the columns with the most text. A table turns its chapter landscape when that
saves a good share of its height (the friction ranking: 11 columns).

>>> round(text_width("Recommendation", 9, bold=True))  # points
79
>>> widths = column_widths([["Rank", "Recommendation"], ["1", "Route every new MQL to an owner"]], 500, 9)
>>> [round(w) for w in widths]
[36, 157]
"""

from __future__ import annotations

from collections.abc import Sequence

PAD = 13.0  # points: a cell's left and right margins (0.075 in each) and a little air
CAP = 230.0  # points: a column's wish for one line of its longest cell, capped (about 3.2 in)
SAFETY = 1.04  # renderers differ a little in kerning and hinting: estimate wide
LINE = 1.22  # line height as a multiple of the font size
MAX_REFINED_CELLS, MAX_STEPS = 400, 40  # tables the widths are refined for (see _shortest), and how far
# Arial advance widths in ems (LibreOffice's Liberation Sans has the same metrics), lower case and punctuation
_REGULAR = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    .556, .556, .5, .556, .556, .278, .556, .556, .222, .222, .5, .222, .833, .556, .556, .556, .556, .333, .5,
    .278, .556, .5, .722, .5, .5, .5), strict=True))
_BOLD = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    .556, .611, .556, .611, .556, .333, .611, .611, .278, .278, .556, .278, .889, .611, .611, .611, .611, .389,
    .556, .333, .611, .556, .778, .556, .556, .5), strict=True))
_PUNCT = {" ": .278, ".": .278, ",": .278, ":": .278, ";": .278, "'": .191, "|": .26, "!": .278, "(": .333,
          ")": .333, "[": .278, "]": .278, "-": .333, "/": .278, "%": .889, "@": 1.015, "&": .667, "$": .556,
          "#": .556, "+": .584, "=": .584, "<": .584, ">": .584, "_": .556, "*": .389, "?": .556, '"': .355}
_CAPS = {"I": .278, "J": .5, "M": .833, "W": .944, "L": .556, "F": .611, "E": .667, "T": .611, "Z": .611}


def char_width(ch: str, bold: bool = False) -> float:
    """A character's advance in ems (Arial metrics; bold where they differ)."""
    if ch in _REGULAR:
        return (_BOLD if bold else _REGULAR)[ch]
    if ch.isdigit():
        return .556
    if ch.isupper():
        return _CAPS.get(ch, .722) + (.04 if bold and ch not in _CAPS else 0.0)
    if ch in _PUNCT:
        return _PUNCT[ch] * (1.1 if bold else 1.0)
    return 1.0 if ord(ch) > 0x2000 else .6  # arrows and symbols, then anything else


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of ``text`` on one line, in points, at ``size`` points."""
    return SAFETY * size * sum(char_width(c, bold) for c in text)


def longest_word(text: str, size: float, bold: bool = False) -> float:
    """The width of the widest word of ``text`` (words break at spaces only)."""
    return max((text_width(w, size, bold) for w in text.split()), default=0.0)


def column_widths(rows: Sequence[Sequence[str]], usable: float, size: float, header_rows: int = 1) -> list[float]:
    """Widths (points) for a table whose first ``header_rows`` rows are bold, within ``usable`` points.

    Each column gets at least its longest word (a header wraps between its words); the rest of the
    page goes to the columns with the most text, each up to what it needs to set its longest cell on one
    line (capped at :data:`CAP`). When even the longest words do not fit, widths shrink in proportion
    (the caller picks a wider page first)."""
    n = max((len(r) for r in rows), default=0)
    least, wish, volume = [PAD + size] * n, [PAD + size] * n, [0.0] * n
    for i, row in enumerate(rows):
        bold = i < header_rows
        for c, cell in enumerate(row):
            least[c] = max(least[c], PAD + longest_word(cell, size, bold))
            if not bold:
                wide = text_width(cell, size)
                wish[c] = max(wish[c], PAD + min(CAP, wide))
                volume[c] += wide
    wish = [max(w, m) for w, m in zip(wish, least, strict=True)]
    if sum(wish) <= usable:
        return wish
    if sum(least) >= usable:
        return [usable * m / sum(least) for m in least]
    widths, open_ = list(least), {c for c in range(n) if wish[c] > least[c]}
    while open_ and usable - sum(widths) > 0.5:  # share the room by text volume, never past a column's wish
        room = usable - sum(widths)
        weight = {c: volume[c] for c in open_} if any(volume[c] for c in open_) else dict.fromkeys(open_, 1.0)
        total = sum(weight.values())
        for c in sorted(open_):
            widths[c] = min(wish[c], widths[c] + room * weight[c] / total)
        open_ = {c for c in open_ if widths[c] < wish[c] - 0.01}
    return _shortest(rows, widths, least, wish, size, header_rows)


def _shortest(rows: Sequence[Sequence[str]], widths: list[float], least: Sequence[float], wish: Sequence[float],
              size: float, header_rows: int) -> list[float]:
    """Room moved, a step at a time, to where it makes the table shortest: sharing by text volume starved a
    column whose one long cell sets its row's height (the definitions' "In the data": "0 of 208 who entered
    SQL ..." in eight lines beside four-line cells). Each step takes the move that saves the most lines (the
    rows' tallest cells; as fractions between two moves that save as many, so a step towards a saved line
    counts); kept only when the table's height is no greater."""
    if len(rows) * len(widths) > MAX_REFINED_CELLS:
        return widths
    step = max(4.0, sum(widths) / 60)
    ink = [[(text_width(cell, size, i < header_rows), bool(cell.strip())) for cell in row]
           for i, row in enumerate(rows)]

    def tall(ws: Sequence[float]) -> tuple[int, float]:
        """The rows' lines (each as its tallest cell), then the same as fractions (a step towards a line)."""
        whole = sum(max((lines_of(cell, ws[c], size, i < header_rows) for c, cell in enumerate(row)), default=1)
                    for i, row in enumerate(rows))
        return whole, sum(max((w / max(ws[c] - PAD, size) if text else 1.0 for c, (w, text) in enumerate(row)),
                              default=1.0) for row in ink)

    start, best = list(widths), tall(widths)
    for _ in range(MAX_STEPS):
        choice = None
        for to in range(len(widths)):
            if widths[to] + step > wish[to] + 0.01:
                continue
            for frm in range(len(widths)):
                if frm == to or widths[frm] - step < least[frm] - 0.01:
                    continue
                trial = list(widths)
                trial[to] += step
                trial[frm] -= step
                t = tall(trial)
                if t < best:
                    best, choice = t, trial
        if choice is None:
            break
        widths = choice
    return widths if height(rows, widths, size, header_rows) <= height(rows, start, size, header_rows) else start


def fits(rows: Sequence[Sequence[str]], widths: Sequence[float], size: float, header_rows: int = 1) -> bool:
    """Every word of every cell fits its column (nothing breaks mid-word)."""
    return all(PAD + longest_word(cell, size, i < header_rows) <= widths[c] + 0.01
               for i, row in enumerate(rows) for c, cell in enumerate(row))


def lines_of(text: str, width: float, size: float, bold: bool = False) -> int:
    """How many lines ``text`` takes in a column ``width`` points wide (greedy word wrap)."""
    room = max(width - PAD, size)
    lines, used = 1, 0.0
    space = text_width(" ", size, bold)
    for word in text.split():
        w = text_width(word, size, bold)
        if used and used + space + w > room:
            lines += 1 + int(w // room)
            used = w % room
        else:
            used += (space if used else 0.0) + w
    return lines


def height(rows: Sequence[Sequence[str]], widths: Sequence[float], size: float, header_rows: int = 1) -> float:
    """The table's height in points: each row as tall as its tallest cell."""
    total = 0.0
    for i, row in enumerate(rows):
        tallest = max((lines_of(cell, widths[c], size, i < header_rows) for c, cell in enumerate(row)), default=1)
        total += tallest * size * LINE + 4.0
    return total


def wants_landscape(rows: Sequence[Sequence[str]], portrait: float, landscape: float, size: float,
                    header_rows: int = 1) -> bool:
    """A table is better on a landscape page when its words do not fit a portrait one, or when landscape
    makes it at least a third shorter (and it is more than a few lines tall)."""
    upright = column_widths(rows, portrait, size, header_rows)
    if not fits(rows, upright, size, header_rows):
        return True
    tall = height(rows, upright, size, header_rows)
    wide = height(rows, column_widths(rows, landscape, size, header_rows), size, header_rows)
    return tall > 12 * size * LINE and wide < tall * (2 / 3)
