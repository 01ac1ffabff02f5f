"""Deal outcomes and placeholder values: the config's word lists as SQL.

A deal is won when its stage or won value is one of ``[outcomes] won_values`` or an alias of
the stage won deals enter (the one "closed won" maps to); lost when one of ``lost_values``;
otherwise open (NULL). Values match ignoring case, spaces and punctuation, as stage aliases do.
"""

from __future__ import annotations

from leadjourney.config import Config, normalize_key
from leadjourney.ingest.sql import lit, norm_key

# spellings of true/false: an outcome in a won column, meaningless as a lead status
BOOLEAN_WORDS = frozenset({"true", "t", "yes", "y", "1", "false", "f", "no", "n", "0"})


def won_stage(config: Config) -> str | None:
    """The stage a won deal enters: the one "closed won" (else "won") is an alias of."""
    aliases = config.stage_aliases()
    return aliases.get("closedwon") or aliases.get("won")


def won_keys(config: Config) -> frozenset[str]:
    """Normalized spellings meaning won: won_values and the won stage's aliases."""
    stage = won_stage(config)
    from_stage = {k for k, v in config.stage_aliases().items() if v == stage} if stage else set()
    return frozenset({normalize_key(v) for v in config.won_values} | from_stage) - {""}


def lost_keys(config: Config) -> frozenset[str]:
    """Normalized spellings meaning lost (a spelling meaning won too counts as won)."""
    return frozenset(normalize_key(v) for v in config.lost_values) - won_keys(config) - {""}


def _in(key: str, keys: frozenset[str]) -> str:
    return f"{key} IN ({', '.join(lit(k) for k in sorted(keys))})" if keys else "FALSE"


def outcome_sql(expr: str, config: Config, *, words_only: bool = False) -> str:
    """SQL: TRUE when the value ``expr`` means won, FALSE when lost, else NULL (open or unknown)."""
    won, lost = won_keys(config), lost_keys(config)
    if words_only:
        won, lost = won - BOOLEAN_WORDS, lost - BOOLEAN_WORDS
    key = norm_key(expr)
    return f"(CASE WHEN {_in(key, won)} THEN TRUE WHEN {_in(key, lost)} THEN FALSE END)"


def closed_sql(expr: str, config: Config) -> str:
    """SQL: the stage value ``expr`` says the deal is closed (won, lost, or a "Closed ..." stage)."""
    return f"({outcome_sql(expr, config)} IS NOT NULL OR lower(trim(CAST({expr} AS VARCHAR))) LIKE 'closed%')"


def placeholder_sql(expr: str, spellings: tuple[str, ...]) -> str:
    """SQL: the text value ``expr`` is one of the (lower-cased, trimmed) placeholder ``spellings``."""
    if not spellings:
        return "FALSE"
    text = f"CAST({expr} AS VARCHAR)"
    longest = max(len(s) for s in spellings)  # a cheap test first: most values are longer than any placeholder
    return (f"(length({text}) <= {longest + 4} "
            f"AND lower(trim({text})) IN ({', '.join(lit(s) for s in spellings)}))")
