"""What each canonical column holds, and what a file must provide."""

from __future__ import annotations

import re

# kind of each canonical column a source may provide; decides parsing and validation
KINDS: dict[str, dict[str, str]] = {
    "leads": {
        "lead_id": "id", "created_at": "timestamp", "source": "channel", "source_detail": "text",
        "company": "text", "industry": "text", "employee_count": "integer", "country": "text",
        "job_title": "text", "owner": "text", "status": "status", "disqualify_reason": "text",
        "current_stage": "stage", "email": "email",
    },
    "stage_events": {"lead_id": "id", "stage": "stage", "entered_at": "timestamp"},
    "touchpoints": {
        "lead_id": "id", "occurred_at": "timestamp", "channel": "channel", "kind": "kind",
        "actor": "actor", "campaign": "text", "asset": "text",
    },
    "opportunities": {
        "opportunity_id": "id", "lead_id": "id", "created_at": "timestamp", "closed_at": "timestamp",
        "amount": "money", "currency": "text", "is_won": "boolean", "stage": "text",
    },
}

# columns a file must have (after mapping); a lead without a created date is dated by its
# earliest stage event, else kept undated (identity pass)
REQUIRED: dict[str, tuple[str, ...]] = {
    "leads": ("lead_id",),
    "stage_events": ("lead_id", "stage", "entered_at"),
    "touchpoints": ("lead_id", "occurred_at"),
    "opportunities": ("opportunity_id",),
}

# columns whose value must be present for the row to load
NOT_NULL: dict[str, tuple[str, ...]] = {
    "leads": ("lead_id",),
    "stage_events": ("lead_id", "stage"),
    "touchpoints": ("lead_id", "occurred_at"),
    "opportunities": ("opportunity_id",),
}

# columns whose value, when given but unreadable, rejects the row (a blank one does not)
REJECT_UNREADABLE: dict[str, tuple[str, ...]] = {"leads": ("created_at",)}

# the key that must be unique within a table
KEYS: dict[str, str] = {"leads": "lead_id", "opportunities": "opportunity_id"}

# touchpoint kinds done by a person when the file does not say who acted
HUMAN_KINDS = ("call", "sales_email", "meeting", "demo", "linkedin_message", "sms")

# file columns never copied into leads.extra or quarantine records: personal data stays out by default
_PERSONAL = re.compile(
    r"(?i)(e-?mail|phone|mobile|fax|salutation|street|address|postal|zip|birth|linkedin|twitter|ip.?address)"
)
_BUSINESS_NAME = re.compile(
    r"(?i)(company|account|campaign|opportunity|deal|product|asset|page|form|event|list|file|stage|source)"
)


def is_personal_column(name: str) -> bool:
    """Whether a file column probably holds personal data (a person's name, e-mail, phone, address).

    >>> [is_personal_column(n) for n in ("Contact Name", "Company Name", "Phone Number", "Industry")]
    [True, False, True, False]
    """
    if _PERSONAL.search(name):
        return True
    return "name" in name.lower() and not _BUSINESS_NAME.search(name)
