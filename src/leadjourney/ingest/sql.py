"""Small SQL builders shared by the ingest modules."""

from __future__ import annotations

from collections.abc import Mapping


def ident(name: str) -> str:
    """Quote a column name for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """Quote a string literal for DuckDB."""
    return "'" + text.replace("'", "''") + "'"


def blank_to_null(expr: str) -> str:
    return f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def norm_key(expr: str) -> str:
    """SQL twin of :func:`leadjourney.config.normalize_key`."""
    return f"lower(regexp_replace(CAST({expr} AS VARCHAR), '[^A-Za-z0-9]+', '', 'g'))"


def alias_case(expr: str, aliases: Mapping[str, str], default: str) -> str:
    """``CASE`` mapping the normalized ``expr`` through ``aliases`` (normalized key -> value)."""
    if not aliases:
        return default
    branches = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in sorted(aliases.items()))
    return f"(CASE {norm_key(expr)} {branches} ELSE {default} END)"
