"""The HubSpot objects pulled, and how each API answer becomes flat records for the raw store.

Only the properties named here are requested: never names, phone numbers, addresses or message
bodies (personal data is not pulled at all); e-mail addresses only to link people and form
submissions, hashed by the raw store unless ``[privacy] keep_emails``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from leadjourney.connectors.base import ObjectSpec, Row
from leadjourney.connectors.hubspot.api import HubSpotApi, epoch_ms, iso_ms

CONTACT_PROPERTIES = (
    "hs_object_id", "createdate", "lastmodifieddate", "email", "hs_analytics_source", "hs_analytics_source_data_1",
    "hs_lead_status", "lifecyclestage", "company", "industry", "numemployees", "country", "jobtitle",
    "hubspot_owner_id", "hs_merged_object_ids",
)
DEAL_PROPERTIES = (
    "hs_object_id", "createdate", "hs_lastmodifieddate", "amount", "deal_currency_code", "closedate", "dealstage",
    "pipeline", "hs_is_closed", "hs_is_closed_won", "hubspot_owner_id",
)
# engagements: when, which way, how it went; never the subject, body, notes or recording
ENGAGEMENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "calls": ("hs_timestamp", "hs_call_direction", "hs_call_status", "hs_call_disposition", "hubspot_owner_id"),
    "emails": ("hs_timestamp", "hs_email_direction", "hs_email_status", "hubspot_owner_id"),
    "meetings": ("hs_timestamp", "hs_meeting_start_time", "hs_meeting_outcome", "hubspot_owner_id"),
}
MODIFIED = "hs_lastmodifieddate"  # every CRM object's last-modified property but contacts'

PIPELINES = ObjectSpec("pipelines", key=("object_type", "pipeline_id", "stage_id"), cursor="updated_at")
CONTACTS = ObjectSpec("contacts", key=("id",), cursor="lastmodifieddate", personal=("email",))
DEALS = ObjectSpec("deals", key=("id",), cursor=MODIFIED)
ENGAGEMENTS = tuple(ObjectSpec(name, key=("id",), cursor=MODIFIED) for name in ENGAGEMENT_PROPERTIES)
FORM_SUBMISSIONS = ObjectSpec("form_submissions", key=("form_id", "conversion_id", "submitted_at"),
                              cursor="submitted_at", personal=("email",))
EMAIL_EVENTS = ObjectSpec("email_events", key=("id",), cursor="created", personal=("email",))
EMAIL_EVENT_KINDS = {"SENT": "email_send", "OPEN": "email_open", "CLICK": "email_click"}
OBJECTS = (PIPELINES, CONTACTS, DEALS, *ENGAGEMENTS, FORM_SUBMISSIONS, EMAIL_EVENTS)
SUBMISSION_PAGE = 500


def pipeline_pages(api: HubSpotApi, since: str | None) -> Iterator[list[Row]]:
    """Every stage of the deal pipelines changed at or after ``since``: its label and whether it closes a deal."""
    rows: list[Row] = []
    for pipeline in api.pipelines("deals"):
        for stage in pipeline.get("stages") or []:
            meta = stage.get("metadata") or {}
            updated = iso_ms(str(stage.get("updatedAt") or pipeline.get("updatedAt") or stage["createdAt"]))
            rows.append({"object_type": "deals", "pipeline_id": str(pipeline["id"]),
                         "pipeline_label": pipeline.get("label"), "stage_id": str(stage["id"]),
                         "stage_label": stage.get("label"), "is_closed": meta.get("isClosed"),
                         "probability": meta.get("probability"), "archived": stage.get("archived", False),
                         "updated_at": updated})
    since_ms = None if since is None else iso_ms(since)
    fresh = sorted((r for r in rows if since_ms is None or r["updated_at"] >= since_ms), key=lambda r: r["updated_at"])
    if fresh:
        yield fresh


def contact_pages(api: HubSpotApi, since: str | None, limit: int) -> Iterator[list[Row]]:
    """Contacts modified since, with their lifecycle-stage history (a batch read per search page).

    A custom lifecycle stage's value is a numeric id: its label (from the lifecycle pipeline, read
    once per pull) is stored beside it, in the history entries and as ``lifecyclestage_label``.
    """
    labels: dict[str, str] | None = None
    for page in _with_deleted(api, "contacts", CONTACTS.cursor, since,
                              api.search("contacts", CONTACTS.cursor, since, [], limit)):
        if labels is None:
            labels = {str(s["id"]): str(s.get("label")) for p in api.pipelines("contacts")
                      for s in p.get("stages") or [] if str(s["id"]).isdigit() and s.get("label")}
        ids = [str(r["id"]) for r in page if not r.get("archived")]
        full = api.batch_read("contacts", ids, CONTACT_PROPERTIES, history=("lifecyclestage",)) if ids else {}
        rows: list[dict[str, Any]] = [
            _deleted(r, CONTACT_PROPERTIES, "lifecyclestage_history") if r.get("archived") else
            _record(r, full[r["id"]], CONTACT_PROPERTIES, CONTACTS.cursor, "lifecyclestage")
            for r in page if r.get("archived") or r["id"] in full]  # a contact deleted since the search is left out
        for row in rows:
            row["lifecyclestage_label"] = labels.get(str(row.get("lifecyclestage")))
            for entry in row.get("lifecyclestage_history") or []:
                entry["label"] = labels.get(str(entry["value"]))
        yield list(rows)


def deal_pages(api: HubSpotApi, since: str | None, limit: int) -> Iterator[list[Row]]:
    """Deals modified since, with their stage history and associated contacts."""
    for page in _with_deleted(api, "deals", MODIFIED, since, api.search("deals", MODIFIED, since, [], limit)):
        ids = [str(r["id"]) for r in page if not r.get("archived")]
        full = api.batch_read("deals", ids, DEAL_PROPERTIES, history=("dealstage",)) if ids else {}
        contacts = api.associated("deals", "contacts", ids) if ids else {}
        yield [_deleted(r, DEAL_PROPERTIES, "dealstage_history", "contact_ids") if r.get("archived") else
               {**_record(r, full[r["id"]], DEAL_PROPERTIES, MODIFIED, "dealstage"), "contact_ids": contacts[r["id"]]}
               for r in page if r.get("archived") or r["id"] in full]


def engagement_pages(api: HubSpotApi, object_type: str, since: str | None, limit: int) -> Iterator[list[Row]]:
    """Calls, e-mails or meetings modified since, with the contacts each is associated with."""
    props = ENGAGEMENT_PROPERTIES[object_type]
    for page in api.search(object_type, MODIFIED, since, props, limit):
        contacts = api.associated(object_type, "contacts", [str(r["id"]) for r in page])
        yield [{**_record(r, r, props, MODIFIED), "contact_ids": contacts[str(r["id"])]} for r in page]


def submission_pages(api: HubSpotApi, since: str | None) -> Iterator[list[Row]]:
    """Form submissions since, oldest first across every form (the API lists each form's newest first).

    Only the submitted e-mail address is kept (to find the contact); every other field is dropped.
    """
    rows: list[Row] = []
    for form in api.forms():
        for item in api.submissions(str(form["id"]), since):
            values = {str(v.get("name")): v.get("value") for v in item.get("values") or []}
            rows.append({"form_id": str(form["id"]), "form_name": form.get("name"),
                         "conversion_id": item.get("conversionId"), "submitted_at": iso_ms(str(item["submittedAt"])),
                         "email": values.get("email")})
    rows.sort(key=lambda r: (r["submitted_at"], r["form_id"]))
    for start in range(0, len(rows), SUBMISSION_PAGE):
        yield rows[start:start + SUBMISSION_PAGE]


def email_event_pages(api: HubSpotApi, since: str | None) -> Iterator[list[Row]]:
    """Marketing e-mails sent, opened and clicked since, oldest first, with the e-mail's name.

    Kept: the event's id, type, time, recipient (hashed), whether HubSpot filtered it as a machine
    open or click, and the e-mail's id and name; not the browser, location or user agent.
    """
    names: dict[str, str | None] = {}
    now = int(datetime.now(UTC).timestamp() * 1000)
    for batch in api.email_events(0 if since is None else epoch_ms(since), now, tuple(EMAIL_EVENT_KINDS)):
        rows: list[Row] = []
        for e in batch:
            campaign = None if e.get("emailCampaignId") is None else str(e["emailCampaignId"])
            if campaign is not None and campaign not in names:
                names[campaign] = api.email_campaign(campaign).get("name")
            rows.append({"id": str(e["id"]), "type": e["type"], "created": iso_ms(str(e["created"])),
                         "email": e.get("recipient"), "filtered": bool(e.get("filteredEvent", False)),
                         "campaign_id": campaign, "campaign": names.get(campaign) if campaign else None})
        yield rows


def _with_deleted(api: HubSpotApi, object_type: str, cursor: str, since: str | None,
                  pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """The search's pages with the records deleted since merged in, in cursor order.

    A deletion is a version of the record whose cursor is when it was deleted and ``archived`` is
    true: the latest version wins, so a deleted record drops out of the canonical tables (and comes
    back if it is restored, which modifies it later).
    """
    floor = None if since is None else iso_ms(since)
    gone: list[dict[str, Any]] = sorted(({"id": str(r["id"]), cursor: iso_ms(str(r["archivedAt"])), "archived": True}
                   for r in api.archived(object_type) if r.get("archivedAt")), key=lambda r: (r[cursor], r["id"]))
    gone = [g for g in gone if floor is None or g[cursor] >= floor]
    for page in pages:
        top = max(iso_ms(str(r["properties"][cursor])) for r in page)
        now = [g for g in gone if g[cursor] <= top]
        gone = gone[len(now):]
        yield page + now  # the deletions are stored as they are; the page's order is the raw store's concern
    if gone:
        yield gone


def _deleted(row: dict[str, Any], props: tuple[str, ...], *lists: str) -> dict[str, Any]:
    """A deletion with every column a live record has (empty), so the canonical SQL always finds them."""
    return {**dict.fromkeys(props), **{name: [] for name in lists}, **row}


def _record(hit: dict[str, Any], full: dict[str, Any], props: tuple[str, ...], cursor: str,
            history: str | None = None) -> dict[str, Any]:
    """One flat record: the id, the chosen properties, the cursor as the search saw it, a history as a list."""
    values = full.get("properties") or {}
    row: dict[str, Any] = {"id": str(hit["id"]), **{p: values.get(p) for p in props}, "archived": False}
    # the search's cursor, not the batch read's: a record changed in between is read again next time,
    # and the high-water mark never runs ahead of records not fetched yet
    row[cursor] = iso_ms(str(hit["properties"][cursor]))
    if history is not None:
        entries = (full.get("propertiesWithHistory") or {}).get(history) or []
        row[f"{history}_history"] = [{"value": e.get("value"), "timestamp": iso_ms(str(e["timestamp"]))}
                                     for e in entries if e.get("timestamp")]
    return row
