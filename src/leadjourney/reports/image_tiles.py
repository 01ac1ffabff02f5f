"""A picture too big to read on one page, cut into page-sized tiles along its quiet lines.

A journey map shrunk to a page's width sets its text at 4 pt; cut into tiles that each fill a page
at a legible scale, it reads like the original. Cuts go where the picture has a run of identical
rows (or columns): the gaps between boxes, never through a line of text. Without such a gap near
the limit, the cut falls at the limit.

>>> from PIL import Image
>>> im = Image.new("RGB", (100, 300), "white")
>>> for y in (40, 140, 240):  # three "lines of text": no two rows alike
...     for k in range(30): im.paste((8 * k, 0, 0), (0, y + k, 100, y + k + 1))
>>> [Image.open(io.BytesIO(t)).size for t in tiles(_png(im), 100, 160)]
[(100, 105), (100, 100), (100, 95)]
"""

from __future__ import annotations

import io
import math
from itertools import pairwise

from PIL import Image

QUIET_RUN = 4  # identical lines in a row that make a gap worth cutting in


def _png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _quiet(im: Image.Image, axis: int) -> list[bool]:
    """For each row (axis 0) or column (axis 1): is it identical to the one before it?"""
    data = im.convert("RGB")
    n = data.height if axis == 0 else data.width
    lines = [data.crop((0, i, data.width, i + 1) if axis == 0 else (i, 0, i + 1, data.height)).tobytes()
             for i in range(n)]
    return [i > 0 and lines[i] == lines[i - 1] for i in range(n)]


def _runs(quiet: list[bool]) -> list[int]:
    """The middle of each run of at least :data:`QUIET_RUN` identical lines."""
    mids, start = [], None
    for i, q in enumerate([*quiet, False]):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if i - start >= QUIET_RUN:
                mids.append((start + i) // 2)
            start = None
    return mids


def _cuts(quiet: list[bool], limit: int) -> list[int]:
    """Cut positions splitting the picture into equal-ish pieces no longer than ``limit``, each cut in the
    quiet run nearest its ideal place; one or two more pieces when that lets every cut fall in a quiet run,
    else cuts at the ideal places."""
    n, runs = len(quiet), _runs(quiet)
    fewest = math.ceil(n / limit)
    tries = []
    for k in range(fewest, fewest + 3):
        cuts, prev, clean = [], 0, True
        for j in range(1, k):
            target = round(n * j / k)
            lo, hi = max(prev + 1, n - (k - j) * limit), prev + limit
            near = [m for m in runs if lo <= m <= hi]
            clean = clean and bool(near)
            prev = min(near, key=lambda m: abs(m - target)) if near else min(hi, max(lo, target))
            cuts.append(prev)
        if clean:
            return cuts
        tries.append(cuts)
    return tries[0]


def tiles(content: bytes, max_w: int, max_h: int) -> list[bytes]:
    """``content`` (a PNG) as PNG tiles no wider than ``max_w`` and no taller than ``max_h`` pixels,
    row by row, left to right; the picture itself when it fits."""
    with Image.open(io.BytesIO(content)) as im:
        im.load()
        if im.width <= max_w and im.height <= max_h:
            return [content]
        xs = [0, *(_cuts(_quiet(im, 1), max_w) if im.width > max_w else []), im.width]
        ys = [0, *(_cuts(_quiet(im, 0), max_h) if im.height > max_h else []), im.height]
        return [_png(im.crop((x0, y0, x1, y1)))
                for y0, y1 in pairwise(ys) for x0, x1 in pairwise(xs)]
