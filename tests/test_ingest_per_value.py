"""Columns whose values repeat are typed once per distinct value (load.py): the same values, quarantine
entries and notes as typing each row, which a file whose values do not repeat gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import csv_text, csv_workspace, fetch

COPIES = 40  # each base row this often: every text column repeats (typed per value)

LEAD_HEADER = ["lead_id", "created_at", "source", "source_detail", "company", "country", "job_title", "status",
               "employee_count", "email"]
LEAD_ROWS = [  # one row per base lead, messy the way CRM exports are
    ["2024-03-05T10:00:00+01:00", "Paid Search", "Call +1 555 010 0199 now", "Acme", "unknown", "CTO", "Open",
     "1,200", "Ann@Example.com"],
    ["2024-03-05", "organic", "mail bob@example.com", "N/A", "Germany", "VP Sales", "Disqualified", "ten", ""],
    ["last tuesday", "EMAIL", "webinar", "Acme", "US", "n/a", "Closed Won", "", "bob@example.com"],
    ["03/05/2024 2:22 PM", "Referral", "", "Beta", " -- Select -- ", "Analyst", "Working", "40", "c@example.com"],
    ["", " (not set) ", "Spring promo", "Gamma", "FR", "", "", "-3", "not provided"],
]
TOUCH_HEADER = ["lead_id", "occurred_at", "channel", "kind", "campaign", "asset"]
TOUCH_ROWS = [
    ["2024-03-06 09:00", "email", "Email Open", "Spring promo", "/pricing"],
    ["2024-03-06T09:00:00Z", "Paid Search", "call", "unknown", "ring +44 20 7946 0958"],
    ["not a date", "organic", "Form Fill", "", "/contact"],
]


def _workspace(root: Path, copies: int) -> Any:
    """A workspace with each base row ``copies`` times (distinct lead ids: L<base>-<copy>)."""
    leads = [[f"L{b}-{c}", *row] for c in range(copies) for b, row in enumerate(LEAD_ROWS)]
    touches = [[f"L{b % len(LEAD_ROWS)}-{c}", *row] for c in range(copies) for b, row in enumerate(TOUCH_ROWS)]
    return csv_workspace(root, leads=csv_text(LEAD_HEADER, leads), touchpoints=csv_text(TOUCH_HEADER, touches))


def _by_base(ws: Any, sql: str) -> set[tuple[Any, ...]]:
    """Rows of ``sql`` (first column a lead id) with the lead id replaced by its base row."""
    return {(str(r[0]).split("-")[0], *r[1:]) for r in fetch(ws, sql)}


def test_repeated_values_load_as_each_row_typed_alone(tmp_path: Path) -> None:
    repeated, single = _workspace(tmp_path / "repeated", COPIES), _workspace(tmp_path / "single", 1)
    leads = ("SELECT lead_id, created_at, created_at_is_date, source, source_raw, source_detail, company, country, "
             "job_title, status, employee_count, email_hash IS NULL FROM leads")
    touches = "SELECT lead_id, occurred_at, occurred_at_is_date, channel, kind, actor, campaign, asset FROM touchpoints"
    for sql in (leads, touches):
        assert _by_base(repeated, sql) == _by_base(single, sql)
    assert len(fetch(repeated, "SELECT * FROM leads")) == COPIES * len(fetch(single, "SELECT * FROM leads"))
    masked = {r[0] for r in fetch(repeated, "SELECT DISTINCT source_detail FROM leads")}
    assert "Call [phone] now" in masked and "mail [email]" in masked  # free text scrubbed per value too

    quarantined = "SELECT record ->> 'lead_id', target_table, column_name, value, reason, action FROM quarantine"
    assert _by_base(repeated, quarantined) == _by_base(single, quarantined)
    reasons = {r[2:5] for r in fetch(repeated, "SELECT * FROM (" + quarantined + ")")}
    assert ("created_at", "last tuesday", "unparseable timestamp") in reasons
    assert ("employee_count", "ten", "not a whole number") in reasons

    notes = "SELECT target_table, note, column_name, value, n FROM ingest_notes WHERE value IS NOT NULL"
    once = {r[:4]: r[4] for r in fetch(single, notes)}
    assert {r[:4]: r[4] for r in fetch(repeated, notes)} == {k: n * COPIES for k, n in once.items()}
    assert ("leads", "placeholder", "country", "-- Select --") in once
    assert any(k[1:3] == ("utc_offset", "created_at") for k in once)
