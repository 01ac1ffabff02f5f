"""What each canonical column holds, and what a file must provide."""

from __future__ import annotations

# re-exported: the loaders import it from here
from leadjourney.ingest.personal import is_personal_column as is_personal_column

# kind of each canonical column a source may provide; decides parsing and validation
KINDS: dict[str, dict[str, str]] = {
    "leads": {
        "lead_id": "id", "created_at": "timestamp", "source": "channel", "source_detail": "text",
        "company": "text", "industry": "text", "employee_count": "integer", "country": "text",
        "job_title": "text", "owner": "text", "status": "status", "disqualify_reason": "text",
        "current_stage": "stage", "email": "email",
        "email_hash": "email_hash",  # already hashed with the workspace's salt (a pull's raw store does)
        "visitor_id": "id",  # the web visitor the lead was identified as (stitches web sessions)
    },
    "stage_events": {"lead_id": "id", "stage": "stage", "entered_at": "timestamp"},
    "touchpoints": {
        "lead_id": "id", "occurred_at": "timestamp", "channel": "channel", "kind": "kind",
        "actor": "actor", "campaign": "text", "asset": "text",
        "visitor_id": "id",  # the web visitor a form fill or login identified (stitches web sessions)
    },
    "opportunities": {
        "opportunity_id": "id", "lead_id": "id", "created_at": "timestamp", "closed_at": "timestamp",
        "amount": "money", "currency": "text", "is_won": "boolean", "stage": "text",
    },
    "web_traffic": {
        "day": "timestamp", "source": "text", "medium": "text", "campaign": "text", "landing_page": "text",
        "sessions": "integer", "engaged_sessions": "integer", "key_events": "integer",
    },
    "web_sessions": {
        "visitor_id": "id", "session_id": "id", "occurred_at": "timestamp", "event": "kind", "page": "text",
        "referrer": "text", "source": "text", "medium": "text", "campaign": "text",
        "email": "email",  # a login's user id as an e-mail: only its salted hash is stored
        "email_hash": "email_hash",
    },
}

# columns a file must have (after mapping); a lead without a created date is dated by its
# earliest stage event, else kept undated (identity pass)
REQUIRED: dict[str, tuple[str, ...]] = {
    "leads": ("lead_id",),
    "stage_events": ("lead_id", "stage", "entered_at"),
    "touchpoints": ("lead_id", "occurred_at"),
    "opportunities": ("opportunity_id",),
    "web_traffic": ("day", "sessions"),
    "web_sessions": ("visitor_id", "occurred_at"),
}

# columns whose value must be present for the row to load
NOT_NULL: dict[str, tuple[str, ...]] = {
    "leads": ("lead_id",),
    "stage_events": ("lead_id", "stage"),
    "touchpoints": ("lead_id", "occurred_at"),
    "opportunities": ("opportunity_id",),
    "web_traffic": ("day",),
    "web_sessions": ("visitor_id", "occurred_at"),
}

# columns whose value, when given but unreadable, rejects the row (a blank one does not)
REJECT_UNREADABLE: dict[str, tuple[str, ...]] = {"leads": ("created_at",)}

# the key that must be unique within a table
KEYS: dict[str, str] = {"leads": "lead_id", "opportunities": "opportunity_id"}

# touchpoint kinds done by a person when the file does not say who acted
HUMAN_KINDS = ("call", "sales_email", "meeting", "demo", "linkedin_message", "sms")
