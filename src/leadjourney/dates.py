"""The one parser of a date given by a person: the CLI's options, the monitor's as-of and the dashboard's filters.

>>> parse_date("2026-06-30", "--from")
datetime.date(2026, 6, 30)
>>> parse_date("2026-06-30T00:00:00", "from")  # what a date picker may send
datetime.date(2026, 6, 30)
>>> parse_date(None, "--to") is None
True
"""

from __future__ import annotations

from datetime import date, datetime

from leadjourney.errors import LeadJourneyError, OptionError


def parse_date(text: str | date | None, what: str, error: type[LeadJourneyError] = OptionError) -> date | None:
    """``text`` (YYYY-MM-DD, or an ISO date-time: its day) as a date; None for None or ''; otherwise ``error``
    naming ``what`` (the option or field) and the value."""
    if text is None or text == "":
        return None
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text).date()
    except ValueError:
        raise error(f"{what}: expected a date like 2026-06-30, found {text!r}") from None
