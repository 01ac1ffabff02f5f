"""Names and numbers as people read them: ``enterprise_it`` -> "Enterprise IT", $825k, 14.8 h.

Every human-facing output (deck, documents, map, dashboard) names channels, touchpoint kinds,
personas and stages through :func:`display_name`; ``[labels]`` in leadjourney.toml overrides
any of them. Analysts' outputs (JSON, CSV, the event log) keep the raw values.

>>> display_name("enterprise_it"), display_name("email_click"), display_name("smb_founder")
('Enterprise IT', 'Email click', 'SMB founder')
>>> display_name("paid_social", {"paid_social": "LinkedIn & Meta ads"}), display_name("MQL")
('LinkedIn & Meta ads', 'MQL')
>>> segment_name("persona=midmarket_ops"), segment_name("source=seo"), segment_name(None)
('Midmarket Ops (persona)', 'SEO (source)', 'All leads')
>>> money(825_000, "USD"), money(6.04e6, "EUR"), money(None, "USD")
('$825k', '6.0M EUR', '-')
>>> minutes(4.5), minutes(888), minutes(None)
('4.5 min', '14.8 h', '-')
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime

# words written in capitals (or their own way) wherever they appear in a value
SPELLED = {w.lower(): w for w in (
    "IT", "SMB", "SEO", "SEM", "PPC", "MQL", "SQL", "SAL", "CRM", "AI", "SDR", "BDR", "AE", "VP", "CEO", "CTO",
    "CIO", "CFO", "COO", "CMO", "B2B", "B2C", "ROI", "SLA", "HR", "UX", "API", "SMS", "GA4", "UTM", "ABM", "PR",
    "RevOps", "SaaS", "LinkedIn", "HubSpot", "Salesforce", "Marketo", "Ops",
)}
SEGMENT_KINDS = {"persona": "persona", "source": "source", "owner": "owner"}


def display_name(value: str | None, labels: Mapping[str, str] | None = None) -> str:
    """A configured label, else the value with underscores as spaces, first letter capital, acronyms kept."""
    if value is None or value == "":
        return "-"
    if labels and value in labels:
        return labels[value]
    words = [w for w in re.split(r"[_\s]+", value.strip()) if w]
    out = []
    for i, word in enumerate(words):
        spelled = SPELLED.get(word.lower())
        if spelled is not None:
            out.append(spelled)
        elif i == 0:
            out.append(word[:1].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out)


def segment_name(segment: str | None, labels: Mapping[str, str] | None = None) -> str:
    """A friction segment ("persona=enterprise_it") for people: "Enterprise IT (persona)"; None: all leads."""
    if not segment:
        return "All leads"
    kind, _, value = segment.partition("=")
    if not value:
        return display_name(segment, labels)
    return f"{display_name(value, labels)} ({SEGMENT_KINDS.get(kind, kind)})"


def row_name(from_stage: str, to_stage: str, segment: str | None,
             labels: Mapping[str, str] | None = None) -> str:
    """A friction row for people, its segment after a comma (never a parenthesis inside a parenthesis,
    "MQL → SQL (Content syndication (source))").

    >>> row_name("MQL", "SQL", "source=content_syndication"), row_name("Lead", "MQL", None)
    ('MQL → SQL, Content syndication (source)', 'Lead → MQL, all leads')
    """
    who = segment_name(segment, labels) if segment else "all leads"
    return f"{display_name(from_stage, labels)} → {display_name(to_stage, labels)}, {who}"


def money(value: float | None, currency: str = "") -> str:
    """Money rounded for people: ``$30.1M``, ``$460k``, ``$950`` (USD as $, else ``30.1M EUR``); ``-`` for None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    sign, v = ("-" if value < 0 else ""), abs(value)
    if v >= 1e9:
        text = f"{v / 1e9:.1f}B"
    elif v >= 1e6:
        text = f"{v / 1e6:.1f}M"
    elif v >= 1e4:
        text = f"{v / 1e3:.0f}k"
    elif v >= 1e3:
        text = f"{v / 1e3:.1f}k"
    else:
        text = f"{v:.0f}"
    if currency.upper() == "USD":
        return f"{sign}${text}"
    return f"{sign}{text} {currency}".strip()


def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.155 -> "15.5%"; ``-`` for None."""
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def minutes(value: float | None) -> str:
    """A duration in minutes, in the unit people say: "4.5 min", "14.8 h", "3.2 d"."""
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f} min" if value < 10 and value != int(value) else f"{value:.0f} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} d"


def days(value: float | None) -> str:
    """A duration in days: "3.9 d"; ``-`` for None."""
    return "-" if value is None else f"{value:.1f} d"


def count(value: int | None) -> str:
    """A count with thousands separators."""
    return "-" if value is None else f"{value:,}"


def moment(value: str | None) -> str:
    """A stored ISO time as people read it: ``2026-12-07T12:33:30.123`` -> ``2026-12-07 12:33`` (not an id)."""
    if not value:
        return "-"
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


def counted(value: int, noun: str, plural: str | None = None) -> str:
    """A count and its noun, singular or plural: "1 persona lane", "4 drop-off points" (never "point(s)")."""
    return f"{value:,} {noun if value == 1 else plural or noun + 's'}"


_KEY_ARROW = re.compile(r"(?<=[\w)])\s?->\s?(?=[\w(])")


def arrows(text: str) -> str:
    """Stored prose for people (a finding's statement, a rule's reason): its transitions' "->", as keys and
    statements store them, as " → ". Never for an id someone types back (``conversion:MQL->SQL``).

    >>> arrows("paid_social converts MQL -> SQL at 7.3%; long stalls at MQL->SQL")
    'paid_social converts MQL → SQL at 7.3%; long stalls at MQL → SQL'
    """
    return _KEY_ARROW.sub(" → ", text)
