"""How pulled Salesforce objects become canonical tables, consistent with the salesforce_* export formats.

- ``leads`` (Lead): a converted lead's status reads "Converted"; ``current_stage`` is the status where it
  names a configured stage (as the Leads report format does).
- ``lead_stages`` (Lead, LeadHistory): the first stage at creation, then each Status change into a
  configured stage (a change to "Working - Contacted" is history, not a stage: skipped, as the Lead
  History format does); the status is written as the org spells it (ingest maps it, keeping the spelling).
- ``opportunity_stages`` (Lead, Opportunity, OpportunityContactRole, OpportunityHistory): a lead enters
  the Opportunity stage when its opportunity is created and the won stage (the one "closed won" is an
  alias of) at the close date of a won deal; opportunity stages named as configured stages enter those.
- ``opportunities``: the Close Date only once closed (before, it is a forecast), the outcome only once
  closed, the lead through ``Lead.ConvertedOpportunityId``, else a contact role on the deal whose contact
  a lead was converted into (the primary role first, then the earliest lead).
- ``activities`` (Lead, Task, Event): touches by people, on a lead or on the contact it became.
- ``campaign_touches`` (Lead, Campaign, CampaignMember): campaign membership, automated, dated by the
  first response (else when the member was added); the campaign's type is its channel and kind.

Deleted and merged-away records (``IsDeleted``) are left out, and so is whatever hangs off a deleted lead.
SQL runs over views named as the objects, plus ``stages`` and ``stage_aliases`` (the workspace's lifecycle).
"""

from __future__ import annotations

from leadjourney.connectors.base import CanonicalQuery
from leadjourney.connectors.salesforce.objects import FIELDS
from leadjourney.ingest.sql import ident, norm_key


def live(name: str) -> str:
    """The object's records not deleted, with every requested field present (NULL where the org had none)."""
    pads = ", ".join(f"NULL::VARCHAR AS {ident(f)}" for f in FIELDS[name])
    return (f"(SELECT * FROM (SELECT * FROM {ident(name)} UNION ALL BY NAME SELECT {pads} WHERE FALSE) "
            f"WHERE {_true('IsDeleted')} IS NOT TRUE)")


def _true(expr: str) -> str:
    return f"(lower({expr}) = 'true')"


def _stage_of(expr: str) -> str:
    """The configured stage a value names (matched as [[stages]] aliases are), else NULL."""
    return f"(SELECT stage FROM stage_aliases WHERE key = {norm_key(expr)})"


def _alias(key: str) -> str:
    return f"(SELECT stage FROM stage_aliases WHERE key = '{key}')"


OPPORTUNITY_STAGE = _alias("opportunity")
WON_STAGE = f"coalesce({_alias('closedwon')}, {_alias('won')})"  # as the Opportunities report format
LIVE_LEADS = f"live_leads AS {live('Lead')}"
# the lead a contact was converted from (the earliest, when several were)
CONTACT_LEAD = ("contact_lead AS (SELECT ConvertedContactId AS contact_id, Id AS lead_id FROM live_leads "
                "WHERE ConvertedContactId IS NOT NULL "
                "QUALIFY row_number() OVER (PARTITION BY ConvertedContactId ORDER BY CreatedDate, Id) = 1)")
# one lead per opportunity: the lead converted into it, else one converted into a contact with a role on it
OPPORTUNITY_LEAD = f"""opportunity_lead AS (
    SELECT opportunity_id, lead_id FROM (
        SELECT ConvertedOpportunityId AS opportunity_id, Id AS lead_id, 0 AS via, 0 AS role_rank, CreatedDate
        FROM live_leads WHERE ConvertedOpportunityId IS NOT NULL
        UNION ALL
        SELECT r.OpportunityId, l.Id, 1, CASE WHEN {_true('r.IsPrimary')} THEN 0 ELSE 1 END, l.CreatedDate
        FROM {live('OpportunityContactRole')} r JOIN live_leads l ON l.ConvertedContactId = r.ContactId
    ) QUALIFY row_number() OVER (PARTITION BY opportunity_id ORDER BY via, role_rank, CreatedDate, lead_id) = 1)"""

LEADS = f"""WITH {LIVE_LEADS}
SELECT Id AS lead_id, CreatedDate AS created_at, LeadSource AS source, Company AS company,
       Industry AS industry, NumberOfEmployees AS employee_count, Country AS country, Title AS job_title,
       coalesce("Owner.Name", OwnerId) AS owner,
       CASE WHEN {_true('IsConverted')} THEN 'Converted' ELSE Status END AS status,
       {_stage_of('Status')} AS current_stage, Email AS email
FROM live_leads"""

LEAD_STAGES = f"""WITH {LIVE_LEADS}
SELECT lead_id, stage, entered_at FROM (
    SELECT Id AS lead_id, (SELECT name FROM stages WHERE position = 0) AS stage, CreatedDate AS entered_at
    FROM live_leads
    UNION ALL
    SELECT h.LeadId, h.NewValue, h.CreatedDate  -- the org's spelling, kept as stage_raw by ingest
    FROM {live('LeadHistory')} h JOIN live_leads l ON l.Id = h.LeadId
    WHERE h.Field = 'Status' AND {_stage_of('h.NewValue')} IS NOT NULL
) WHERE stage IS NOT NULL"""

OPPORTUNITY_STAGES = f"""WITH {LIVE_LEADS}, {OPPORTUNITY_LEAD},
deals AS (SELECT o.*, ol.lead_id FROM {live('Opportunity')} o JOIN opportunity_lead ol ON ol.opportunity_id = o.Id)
SELECT lead_id, stage, entered_at FROM (
    SELECT lead_id, {OPPORTUNITY_STAGE} AS stage, CreatedDate AS entered_at FROM deals
    UNION ALL
    SELECT lead_id, {WON_STAGE}, CloseDate FROM deals WHERE {_true('IsClosed')} AND {_true('IsWon')}
    UNION ALL
    SELECT d.lead_id, arg_min(h.StageName, (h.CreatedDate, h.StageName)), min(h.CreatedDate)  -- ties: by spelling
    FROM {live('OpportunityHistory')} h
    JOIN deals d ON d.Id = h.OpportunityId
    JOIN stage_aliases s ON s.key = {norm_key('h.StageName')}
    WHERE s.stage IS DISTINCT FROM {OPPORTUNITY_STAGE} AND s.stage IS DISTINCT FROM {WON_STAGE}
    GROUP BY d.lead_id, s.stage
) WHERE stage IS NOT NULL"""

OPPORTUNITIES = f"""WITH {LIVE_LEADS}, {OPPORTUNITY_LEAD}
SELECT o.Id AS opportunity_id, ol.lead_id, o.CreatedDate AS created_at,
       CASE WHEN {_true('o.IsClosed')} THEN o.CloseDate END AS closed_at,
       o.Amount AS amount, o.CurrencyIsoCode AS currency,
       CASE WHEN {_true('o.IsClosed')} THEN o.IsWon END AS is_won, o.StageName AS stage
FROM {live('Opportunity')} o LEFT JOIN opportunity_lead ol ON ol.opportunity_id = o.Id"""

# Task kinds as the canonical touchpoint kinds name them (a rep's e-mail is a sales e-mail)
_TASK_KIND = """CASE lower(coalesce(TaskSubtype, Type)) WHEN 'call' THEN 'call' WHEN 'email' THEN 'sales_email'
    WHEN 'listemail' THEN 'sales_email' WHEN 'linkedin' THEN 'linkedin_message'
    ELSE coalesce(lower(coalesce(TaskSubtype, Type)), 'task') END"""
_EVENT_KIND = """CASE WHEN lower(Type) = 'call' THEN 'call' WHEN lower(Type) = 'email' THEN 'sales_email'
    WHEN lower(Type) LIKE '%demo%' THEN 'demo' ELSE 'meeting' END"""

ACTIVITIES = f"""WITH {LIVE_LEADS}, {CONTACT_LEAD},
who AS (SELECT Id AS who_id, Id AS lead_id FROM live_leads UNION ALL SELECT contact_id, lead_id FROM contact_lead)
SELECT who.lead_id, a.occurred_at, NULL AS channel, a.kind, 'human' AS actor, NULL AS campaign, NULL AS asset
FROM (
    SELECT WhoId, coalesce(ActivityDate, CreatedDate) AS occurred_at, {_TASK_KIND} AS kind FROM {live('Task')}
    UNION ALL
    SELECT WhoId, coalesce(ActivityDateTime, ActivityDate, CreatedDate), {_EVENT_KIND} FROM {live('Event')}
) a JOIN who ON who.who_id = a.WhoId"""

CAMPAIGN_TOUCHES = f"""WITH {LIVE_LEADS}, {CONTACT_LEAD},
who AS (SELECT Id AS who_id, Id AS lead_id FROM live_leads UNION ALL SELECT contact_id, lead_id FROM contact_lead)
SELECT who.lead_id, coalesce(m.FirstRespondedDate, m.CreatedDate) AS occurred_at, c.Type AS channel,
       coalesce(lower(regexp_replace(c.Type, '[^A-Za-z0-9]+', '_', 'g')), 'campaign') AS kind,
       'automated' AS actor, c.Name AS campaign, NULL AS asset
FROM {live('CampaignMember')} m
JOIN who ON who.who_id = coalesce(m.LeadId, m.ContactId)
LEFT JOIN {live('Campaign')} c ON c.Id = m.CampaignId"""

QUERIES: tuple[CanonicalQuery, ...] = (
    CanonicalQuery("leads", "leads", LEADS, ("Lead",)),
    CanonicalQuery("lead_stages", "stage_events", LEAD_STAGES, ("Lead", "LeadHistory")),
    CanonicalQuery("opportunity_stages", "stage_events", OPPORTUNITY_STAGES,
                   ("Lead", "Opportunity", "OpportunityContactRole", "OpportunityHistory")),
    CanonicalQuery("opportunities", "opportunities", OPPORTUNITIES, ("Lead", "Opportunity", "OpportunityContactRole")),
    CanonicalQuery("activities", "touchpoints", ACTIVITIES, ("Lead", "Task", "Event")),
    CanonicalQuery("campaign_touches", "touchpoints", CAMPAIGN_TOUCHES, ("Lead", "Campaign", "CampaignMember")),
)
