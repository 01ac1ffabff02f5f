"""A picture too big to read on one page, cut into page-sized tiles along its quiet lines.

A journey map shrunk to a page's width sets its text at 4 pt; cut into tiles that each fill a page
at a legible scale, it reads like the original. Cuts go where they cross the least of the picture: a
run of identical rows (or columns), the gap between boxes; where no line is free all the way (a
title spanning the map), the line crossing fewest pixels, between lines of text rather than through.

>>> from PIL import Image
>>> im = Image.new("RGB", (100, 300), "white")
>>> for y in (40, 140, 240):  # three "lines of text": no two rows alike
...     for k in range(30): im.paste((200 * (k % 2), 0, 0), (0, y + k, 100, y + k + 1))
>>> [Image.open(io.BytesIO(t)).size for t in tiles(_png(im), 100, 160)]
[(100, 100), (100, 100), (100, 100)]
"""

from __future__ import annotations

import io
import math
from itertools import pairwise

import numpy as np
from PIL import Image

QUIET_RUN = 4  # a cut's cost counts the lines around it: a gap must be this wide to cost nothing


def _png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _changes(im: Image.Image, axis: int) -> list[int]:
    """For each row (axis 0) or column (axis 1): how many of its pixels differ from the line before it
    (0: a gap line, the same colours as its neighbour all the way)."""
    data = np.asarray(im.convert("RGB"), dtype=np.int16)
    moved = np.abs(np.diff(data, axis=axis)).sum(axis=2) > 24  # anti-aliasing noise aside
    counts = moved.sum(axis=1 - axis)
    return [int(counts.max()) + 1, *(int(c) for c in counts)]


def _cost(changes: list[int], i: int) -> int:
    """What a cut at ``i`` crosses: the changes over the run of lines around it."""
    lo, hi = max(0, i - QUIET_RUN // 2), min(len(changes), i + QUIET_RUN // 2 + 1)
    return sum(changes[lo:hi])


def _cuts(changes: list[int], limit: int) -> list[int]:
    """Cut positions splitting the picture into equal-ish pieces no longer than ``limit``, each where it
    crosses the least (a gap between boxes; between lines of text at worst), nearest its ideal place; one
    or two more pieces when that lets the cuts cross less."""
    n = len(changes)
    fewest = math.ceil(n / limit)
    best: tuple[int, list[int]] | None = None
    for k in range(fewest, fewest + 3):
        cuts, prev, total = [], 0, 0
        for j in range(1, k):
            target = round(n * j / k)
            lo, hi = max(prev + 1, n - (k - j) * limit), min(prev + limit, n - 1)
            at = min(range(lo, hi + 1), key=lambda i: (_cost(changes, i), abs(i - target)))
            total += _cost(changes, at)
            cuts.append(at)
            prev = at
        if best is None or total < best[0]:
            best = (total, cuts)
        if total == 0:
            break
    return best[1] if best else []


def tiles(content: bytes, max_w: int, max_h: int) -> list[bytes]:
    """``content`` (a PNG) as PNG tiles no wider than ``max_w`` and no taller than ``max_h`` pixels,
    row by row, left to right; the picture itself when it fits."""
    with Image.open(io.BytesIO(content)) as im:
        im.load()
        if im.width <= max_w and im.height <= max_h:
            return [content]
        ys = [0, *(_cuts(_changes(im, 0), max_h) if im.height > max_h else []), im.height]
        out = []
        for y0, y1 in pairwise(ys):  # each strip cut across where it is quietest itself
            strip = im.crop((0, y0, im.width, y1))
            xs = [0, *(_cuts(_changes(strip, 1), max_w) if im.width > max_w else []), im.width]
            out += [_png(strip.crop((x0, 0, x1, y1 - y0))) for x0, x1 in pairwise(xs)]
        return out
