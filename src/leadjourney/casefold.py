"""Case as DuckDB has it, for engines whose own rules give other text.

Postgres lowers in its collation (``"C"``: ASCII letters only) and Spark in Java's rules (``İ`` to two
characters, a word-final sigma to ``ς``), where DuckDB maps each character to one: the same map
(:func:`lower_map`), applied with the engine's ``translate()``, gives DuckDB's text there
(:mod:`leadjourney.warehouse`, :mod:`leadjourney.spark`), and Python's (:func:`lower_text`) for configured values.
Their ``(?i)`` folds fewer letters than RE2's: :func:`case_insensitive` writes a pattern that needs no flag.
"""

from __future__ import annotations

import functools


@functools.cache
def lower_map(first: int = 0) -> tuple[str, str]:
    """Every character from code point ``first`` on that DuckDB's ``lower()`` changes, and what it makes of it,
    as ``translate()``'s two strings: asked of DuckDB itself, the engine whose numbers the others must give."""
    import duckdb

    with duckdb.connect() as con:  # its own: the module's default connection is anyone's
        rows = con.execute("SELECT chr(i::INTEGER), lower(chr(i::INTEGER)) FROM range(?, 196608) t(i) "
                           "WHERE i NOT BETWEEN 55296 AND 57343 AND lower(chr(i::INTEGER)) <> chr(i::INTEGER)",
                           [max(first, 1)]).fetchall()
    if any(len(low) != 1 for _, low in rows):
        raise AssertionError("DuckDB lowers a character to several: translate() cannot say it")
    return "".join(c for c, _ in rows), "".join(low for _, low in rows)


@functools.cache
def _lower_table() -> dict[int, int]:
    upper, lower = lower_map()
    return str.maketrans(upper, lower)


def lower_text(text: str) -> str:
    """``text`` lowered as DuckDB's ``lower()`` lowers it (Python's ``str.lower`` makes a word-final sigma ``ς`` and
    ``İ`` two characters): for configured values compared with lowered data."""
    return text.translate(_lower_table())


@functools.cache
def _folding() -> tuple[str, ...]:
    """The characters DuckDB's ``lower()`` or ``upper()`` changes: every member of a case-folding orbit of more than
    one character is one of them (the long s upper-cases to ``S``, the Kelvin sign lower-cases to ``k``)."""
    import duckdb

    with duckdb.connect() as con:
        rows = con.execute("SELECT chr(i::INTEGER) FROM range(1, 196608) t(i) WHERE i NOT BETWEEN 55296 AND 57343 "
                           "AND (lower(chr(i::INTEGER)) <> chr(i::INTEGER) OR upper(chr(i::INTEGER)) <> chr(i::INTEGER))"
                           ).fetchall()
    return tuple(str(r[0]) for r in rows)


@functools.cache
def _folding_set() -> frozenset[str]:
    return frozenset(_folding())


@functools.cache
def orbit(char: str) -> str:
    """``char`` and every character RE2's ``(?i)`` matches it with (``s``: itself, ``S`` and the long s), asked of RE2 in
    DuckDB."""
    import duckdb

    if char not in _folding_set():
        return char
    with duckdb.connect() as con:
        found = con.execute("SELECT list(c ORDER BY c) FROM unnest(?) t(c) WHERE regexp_full_match(c, ?)",
                            [list(_folding()), "(?i)" + ("\\" + char if char in _SPECIAL else char)]).fetchone()
    members = {char, *(found[0] or [])} if found else {char}
    return "".join(sorted(members))


_SPECIAL = set("\\^$.|?*+()[]{}-")


def any_case(pattern: str) -> str | None:
    """RE2's ``(?i)pattern`` as a case-sensitive pattern every engine reads alike: each letter outside a bracket
    becomes the bracket of its :func:`orbit`, and a bracket gains its letters' orbits (``sales`` ->
    ``[Ss\u017f][Aa][Ll][Ee][Ss\u017f]``). Java folds only ASCII letters under ``(?i)`` and Postgres a "C" column's only,
    so ``GESCHÄFTSFÜHRER`` matched ``(?i)geschäftsführer`` on DuckDB alone. Escapes (``\\d``, ``\\b``,
    ``\\p{L}``) are kept as written. None for a pattern with inline flags (``(?s)``, ``(?-i)``) or an unclosed
    bracket: it is left to the engine's ``(?i)``."""
    try:
        return _any_case(pattern)
    except ValueError:
        return None


def _any_case(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            end = _escape_end(pattern, i)
            out.append(pattern[i:end])
            i = end
        elif c == "[":
            end, rewritten = _bracket(pattern, i)
            out.append(rewritten)
            i = end
        elif pattern.startswith("(?", i):
            if pattern.startswith(("(?:", "(?P<"), i):
                end = pattern.index(">", i) + 1 if pattern.startswith("(?P<", i) else i + 3
                out.append(pattern[i:end])
                i = end
            else:
                raise ValueError(f"inline flags in {pattern!r}")
        else:
            members = orbit(c)
            out.append(f"[{members}]" if len(members) > 1 else c)
            i += 1
    return "".join(out)


def _escape_end(pattern: str, i: int) -> int:
    """Where the escape starting at ``pattern[i]`` (a backslash) ends: ``\\p{...}``, ``\\x{...}``, ``\\xHH``, or
    one character."""
    if i + 1 >= len(pattern):
        return i + 1
    nxt = pattern[i + 1]
    if nxt in "pPx" and i + 2 < len(pattern) and pattern[i + 2] == "{":
        return pattern.index("}", i) + 1
    if nxt in "pP":
        return i + 3
    if nxt == "x":
        return i + 4
    return i + 2


def _bracket(pattern: str, start: int) -> tuple[int, str]:
    """The bracket expression starting at ``pattern[start]``: where it ends, and it with its letters' orbits added."""
    i = start + 1
    head = "["
    if i < len(pattern) and pattern[i] == "^":
        head, i = "[^", i + 1
    items: list[str] = []
    added: set[str] = set()
    first = True
    while i < len(pattern) and (pattern[i] != "]" or first):
        first = False
        if pattern.startswith("[:", i):
            end = pattern.index(":]", i) + 2
            items.append(pattern[i:end])
            i = end
            continue
        if pattern[i] == "\\":
            end = _escape_end(pattern, i)
            items.append(pattern[i:end])
            i = end
            continue
        lo = pattern[i]
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            hi = pattern[i + 2]
            items.append(pattern[i:i + 3])
            if ord(hi) - ord(lo) <= 4096:
                added |= {m for code in range(ord(lo), ord(hi) + 1) for m in orbit(chr(code))}
                added -= {chr(code) for code in range(ord(lo), ord(hi) + 1)}
            i += 3
            continue
        items.append("\\]" if lo == "]" else lo)
        added |= set(orbit(lo)) - {lo}
        i += 1
    if i >= len(pattern):
        raise ValueError(f"an unclosed bracket in {pattern!r}")
    extra = "".join(("\\" + m if m in _SPECIAL else m) for m in sorted(added))
    return i + 1, head + "".join(items) + extra + "]"


def case_insensitive(pattern: str) -> str:
    """The pattern that matches as RE2's ``(?i)pattern`` on every engine: :func:`any_case`, or ``(?i)pattern``
    where it has inline flags of its own."""
    rewritten = any_case(pattern)
    return f"(?i){pattern}" if rewritten is None else rewritten


__all__ = ["any_case", "case_insensitive", "lower_map", "lower_text", "orbit"]
