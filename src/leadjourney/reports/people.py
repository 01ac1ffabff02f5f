"""The documents' words for people: raw values and statistics jargon turned into what a VP reads.

The analysis writes for analysts ("persona=enterprise_it", "adjusted p 1.6e-13", "`friction:1`
ASSUMED"); the package's documents name things through :mod:`leadjourney.display` and keep the
p-values and finding ids in an appendix for the analyst.

>>> humanize("weak sources: paid_social, email; persona=enterprise_it stalls", {"email": "E-mail"})
'weak sources: Paid social, E-mail; Enterprise IT (persona) stalls'
>>> without_p("significantly below the other sources (adjusted p 0.049)")
('significantly below the other sources', 'adjusted p 0.049')
>>> status_word("ASSUMED"), status_word(None)
('Assumed', '-')
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from leadjourney.display import display_name, segment_name

_SEGMENT = re.compile(r"\b(persona|source|owner)=([A-Za-z0-9_\-]+)")
_SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
_P_VALUE = re.compile(r"\s*\((?:adjusted )?p [^)]*\)")
JARGON = {"Kaplan-Meier median": "median (those still waiting counted)"}  # the method's name -> what it means
_MIN_N = re.compile(r"fewer than min_n = ([\d,]+)")


def plain(text: str) -> str:
    """A status for people: "fewer than min_n = 30" (the setting's name) reads "fewer than the 30 needed".

    >>> plain("too few to judge: 24 people, fewer than min_n = 30")
    'too few to judge: 24 people, fewer than the 30 needed'
    """
    return _MIN_N.sub(r"fewer than the \1 needed", text)


def humanize(text: str, labels: Mapping[str, str] | None = None) -> str:
    """``text`` with segments ("persona=x"), snake_case values and the values ``labels`` names (whole words)
    written as people read them."""
    for term, words in JARGON.items():
        text = text.replace(term, words)
    text = plain(text)  # before the snake_case pass, which would read "min_n" as "Min n"
    keys = "|".join(re.escape(v) for v in sorted(labels or {}, key=len, reverse=True))
    named = rf"|(?<![\w=])(?:{keys})(?![\w=])" if keys else ""
    pattern = re.compile(f"{_SEGMENT.pattern}{named}|{_SNAKE.pattern}")  # one pass: nothing renamed twice

    def person(m: re.Match[str]) -> str:
        word = m.group(0)
        return segment_name(word, labels) if "=" in word else display_name(word, labels)

    text = pattern.sub(person, text)
    return text


def without_p(reason: str) -> tuple[str, str]:
    """A reason without its "(adjusted p ...)" part, and that part (for the analyst's appendix)."""
    found = _P_VALUE.search(reason)
    if not found:
        return reason, ""
    return (reason[:found.start()] + reason[found.end():]).strip(), found.group(0).strip(" ()")


def status_word(status: str | None) -> str:
    """A finding's status as a word in a sentence: "Assumed", "Confirmed", "Corrected"; ``-`` for none."""
    return status.capitalize() if status else "-"


def stage(value: str, labels: Mapping[str, str] | None = None) -> str:
    """A stage name for people (MQL stays MQL; "sales_accepted" reads "Sales accepted")."""
    return display_name(value, labels)


def transition(from_stage: str, to_stage: str, labels: Mapping[str, str] | None = None) -> str:
    return f"{stage(from_stage, labels)} → {stage(to_stage, labels)}"
