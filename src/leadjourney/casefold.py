"""DuckDB's ``lower()`` as a character map, for engines whose own ``lower()`` gives other text.

Postgres lowers in its collation (``"C"``: ASCII letters only) and Spark in Java's rules (``İ`` to two
characters, a word-final sigma to ``ς``), where DuckDB maps each character to one: the same map, applied with
the engine's ``translate()``, gives DuckDB's text there (:mod:`leadjourney.warehouse`, :mod:`leadjourney.spark`).
"""

from __future__ import annotations

import functools


@functools.cache
def lower_map(first: int = 0) -> tuple[str, str]:
    """Every character from code point ``first`` on that DuckDB's ``lower()`` changes, and what it makes of it,
    as ``translate()``'s two strings: asked of DuckDB itself, the engine whose numbers the others must give."""
    import duckdb

    rows = duckdb.execute("SELECT chr(i::INTEGER), lower(chr(i::INTEGER)) FROM range(?, 196608) t(i) "
                          "WHERE i NOT BETWEEN 55296 AND 57343 AND lower(chr(i::INTEGER)) <> chr(i::INTEGER)",
                          [max(first, 1)]).fetchall()
    if any(len(low) != 1 for _, low in rows):
        raise AssertionError("DuckDB lowers a character to several: translate() cannot say it")
    return "".join(c for c, _ in rows), "".join(low for _, low in rows)


__all__ = ["lower_map"]
