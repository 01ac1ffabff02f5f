"""How pulled HubSpot objects become canonical tables (DuckDB SQL over views named as the objects).

Stage values stay HubSpot's internal ones ("marketingqualifiedlead", "closedwon"): ingest maps them
through the ``[[stages]]`` aliases and ``[outcomes]`` words, matched ignoring case and punctuation.
A custom lifecycle stage (a numeric id) takes the label stored beside it; a deal stage takes its
pipeline's label. A contact or deal deleted in HubSpot (its latest version is the deletion) is left
out. Contacts merged into another (listed in its ``hs_merged_object_ids``) are left out: the
surviving contact holds their history, and their e-mail address finds the survivor.
"""

from __future__ import annotations

from leadjourney.connectors.base import CanonicalQuery

_MERGED = """merged AS (
    SELECT trim(m) AS id, min(survivor) AS survivor FROM (
        SELECT id AS survivor, unnest(string_split(hs_merged_object_ids, ';')) AS m FROM contacts
        WHERE coalesce(hs_merged_object_ids, '') <> '' AND archived = 'false') WHERE trim(m) <> '' GROUP BY 1
)"""
# who an e-mail address belongs to: the contact, or the one it was merged into
_PEOPLE = f"""{_MERGED}, people AS (
    SELECT lower(trim(c.email)) AS email, min(coalesce(m.survivor, c.id)) AS id
    FROM contacts c LEFT JOIN merged m ON m.id = c.id WHERE coalesce(c.email, '') <> '' GROUP BY 1
)"""


LEADS = f"""WITH {_MERGED}
SELECT c.id AS lead_id, c.createdate AS created_at, c.hs_analytics_source AS source,
       c.hs_analytics_source_data_1 AS source_detail, c.company AS company, c.industry AS industry,
       -- "25-50" (HubSpot's size ranges): the lower bound; a plain number as it is
       NULLIF(regexp_extract(c.numemployees, '^\\s*([0-9][0-9,]*)', 1), '') AS employee_count,
       c.country AS country, c.jobtitle AS job_title, c.hubspot_owner_id AS owner, c.hs_lead_status AS status,
       coalesce(c.lifecyclestage_label, c.lifecyclestage) AS current_stage, c.email AS email
FROM contacts c WHERE c.id NOT IN (SELECT id FROM merged) AND c.archived = 'false'"""

STAGE_EVENTS = f"""WITH {_MERGED}, history AS (
    SELECT id, unnest(from_json(lifecyclestage_history,
                                '[{{"value": "VARCHAR", "label": "VARCHAR", "timestamp": "VARCHAR"}}]')) AS h
    FROM contacts WHERE id NOT IN (SELECT id FROM merged) AND archived = 'false'
)
SELECT id AS lead_id, coalesce(h.label, h.value) AS stage, h.timestamp AS entered_at
FROM history WHERE coalesce(h.value, '') <> ''"""

OPPORTUNITIES = """WITH stages AS (
    SELECT pipeline_id, stage_id, any_value(stage_label) AS label, any_value(is_closed) AS is_closed,
           any_value(TRY_CAST(probability AS DOUBLE)) AS probability
    FROM pipelines WHERE object_type = 'deals' GROUP BY pipeline_id, stage_id
), deal AS (
    SELECT d.*, s.label, s.probability, lower(coalesce(s.is_closed, d.hs_is_closed, 'false')) = 'true' AS closed,
           -- when the deal last entered the stage it is in (its stage history)
           (SELECT max(h.timestamp) FROM unnest(from_json(d.dealstage_history,
                '[{"value": "VARCHAR", "timestamp": "VARCHAR"}]')) AS t(h) WHERE h.value = d.dealstage) AS entered
    FROM deals d LEFT JOIN stages s ON s.pipeline_id = d.pipeline AND s.stage_id = d.dealstage
    WHERE d.archived = 'false'
)
SELECT id AS opportunity_id, from_json(contact_ids, '["VARCHAR"]')[1] AS lead_id, createdate AS created_at,
       -- closed: the close date, else when it entered its closing stage; open: none (a forecast date is not a close)
       CASE WHEN closed THEN coalesce(NULLIF(closedate, ''), entered) END AS closed_at,
       amount, deal_currency_code AS currency,
       CASE WHEN NOT closed THEN NULL
            WHEN coalesce(hs_is_closed_won, '') <> '' THEN CAST(lower(hs_is_closed_won) = 'true' AS VARCHAR)
            ELSE CAST(coalesce(probability >= 1, false) AS VARCHAR) END AS is_won,
       coalesce(label, dealstage) AS stage
FROM deal"""


def _touches(obj: str, kind: str, when: str, where: str = "TRUE") -> str:
    return f"""SELECT u.contact_id AS lead_id, {when} AS occurred_at, CAST(NULL AS VARCHAR) AS channel,
       '{kind}' AS kind, 'human' AS actor, CAST(NULL AS VARCHAR) AS campaign, CAST(NULL AS VARCHAR) AS asset
FROM {obj} e, unnest(from_json(e.contact_ids, '["VARCHAR"]')) AS u(contact_id) WHERE {where}"""


CALLS = _touches("calls", "call", "e.hs_timestamp")
# e-mails the contact sent (INCOMING_EMAIL) are not a rep's touch: left out
EMAILS = _touches("emails", "sales_email", "e.hs_timestamp", "coalesce(e.hs_email_direction, '') <> 'INCOMING_EMAIL'")
MEETINGS = _touches("meetings", "meeting", "coalesce(e.hs_meeting_start_time, e.hs_timestamp)",
                    "coalesce(e.hs_meeting_outcome, '') <> 'CANCELED'")

# a submission belongs to the contact with its e-mail address (both hashed alike unless e-mails are kept)
FORM_FILLS = f"""WITH {_PEOPLE}
SELECT p.id AS lead_id, s.submitted_at AS occurred_at, CAST(NULL AS VARCHAR) AS channel, 'form_fill' AS kind,
       'automated' AS actor, CAST(NULL AS VARCHAR) AS campaign, s.form_name AS asset
FROM form_submissions s JOIN people p ON p.email = lower(trim(s.email))"""

# sent, opened, clicked: a machine's open or click (HubSpot's filteredEvent) is not the person's
EMAIL_EVENTS = f"""WITH {_PEOPLE}
SELECT p.id AS lead_id, e.created AS occurred_at, 'email' AS channel,
       CASE e.type WHEN 'SENT' THEN 'email_send' WHEN 'OPEN' THEN 'email_open' ELSE 'email_click' END AS kind,
       'automated' AS actor, e.campaign AS campaign, CAST(NULL AS VARCHAR) AS asset
FROM email_events e JOIN people p ON p.email = lower(trim(e.email))
WHERE e.type IN ('SENT', 'OPEN', 'CLICK') AND coalesce(e.filtered, 'false') <> 'true'"""

QUERIES = (
    CanonicalQuery("leads", "leads", LEADS, ("contacts",)),
    CanonicalQuery("stage_events", "stage_events", STAGE_EVENTS, ("contacts",)),
    CanonicalQuery("opportunities", "opportunities", OPPORTUNITIES, ("deals", "pipelines")),
    CanonicalQuery("calls", "touchpoints", CALLS, ("calls",)),
    CanonicalQuery("emails", "touchpoints", EMAILS, ("emails",)),
    CanonicalQuery("meetings", "touchpoints", MEETINGS, ("meetings",)),
    CanonicalQuery("form_fills", "touchpoints", FORM_FILLS, ("form_submissions", "contacts")),
    CanonicalQuery("email_events", "touchpoints", EMAIL_EVENTS, ("email_events", "contacts")),
)
