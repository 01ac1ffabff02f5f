"""The derived web tables: who each anonymous visitor turned out to be, and one row per visit (session).

``web_stitches`` (visitor_id, person_id, via, identified_at): a visitor is *stitched* to a person when
a lead (``leads.visitor_id``), a touch such as a form fill or a login (``touchpoints.visitor_id``) or a
logged-in web event (``web_sessions.email_hash`` equal to a lead's salted e-mail hash) carries it. A
visitor identified as several people keeps the earliest identification (then the smallest person id):
one visitor, one person; a person may have many visitors (devices, browsers). Only people the analyses
count (``person_journeys``) are stitched to; unqualified contacts are not.

``web_visits``: one row per session (the file's session id, else a new session after
:data:`SESSION_GAP_MINUTES` without an event of the visitor): visitor_id, session_key, started_at,
ended_at, duration_seconds, pageviews, landing_page and exit_page (paths of the first and last page
viewed), source / medium / campaign of the visit (the first tagged event's, else the landing page's
utm_* tags, else the referrer's host as a ``referral``, else ``(direct)`` / ``(none)``), form_fill (a form
event on the site, or a form-fill touch of the stitched person during the visit or within
:data:`SESSION_GAP_MINUTES` after it), person_id (NULL: never identified).

Both are rebuilt by every ingest, after the identity pass, in SQL.
"""

from __future__ import annotations

import duckdb

from leadjourney.ingest.sql import lit
from leadjourney.ingest.urls import host_sql, path_sql

STITCHES = "web_stitches"
VISITS = "web_visits"
SESSION_GAP_MINUTES = 30  # GA4's and the clickstream convention: 30 minutes without an event end a visit
FORM_EVENTS = ("form_submit", "generate_lead", "sign_up")  # web events that are a form fill
PAGE_VIEW = "page_view"
# the columns of web_sessions a visit is made of
EVENT_COLUMNS = "visitor_id, occurred_at, event, page, referrer, source, medium, campaign"


def _utm(page: str, tag: str) -> str:
    return f"nullif(regexp_extract({page}, '[?&]utm_{tag}=([^&]*)', 1, 'i'), '')"


def refresh_web(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild ``web_stitches`` and ``web_visits`` from the canonical tables and ``person_journeys``."""
    con.execute(f"""
        CREATE OR REPLACE TABLE {STITCHES} AS
        WITH ids AS (
            SELECT t.visitor_id, l.person_id, t.occurred_at AS seen_at, 'touchpoint' AS via
            FROM touchpoints t JOIN leads l ON l.lead_id = t.lead_id WHERE t.visitor_id IS NOT NULL
            UNION ALL
            SELECT visitor_id, person_id, created_at, 'lead' FROM leads WHERE visitor_id IS NOT NULL
            UNION ALL
            SELECT w.visitor_id, l.person_id, w.occurred_at, 'email_hash'
            FROM web_sessions w JOIN leads l ON l.email_hash = w.email_hash WHERE w.email_hash IS NOT NULL
        )
        SELECT visitor_id, person_id, via, seen_at AS identified_at FROM ids
        WHERE person_id IN (SELECT person_id FROM person_journeys)
        QUALIFY row_number() OVER (PARTITION BY visitor_id ORDER BY seen_at NULLS LAST, person_id, via) = 1
    """)
    views = f"(event IS NULL OR event = {lit(PAGE_VIEW)})"
    forms = ", ".join(lit(e) for e in FORM_EVENTS)
    gap = f"INTERVAL {SESSION_GAP_MINUTES} MINUTE"
    referral = "(r.referrer_host IS NOT NULL AND r.referrer_host IS DISTINCT FROM l.landing_host)"
    con.execute(f"""
        CREATE OR REPLACE TABLE {VISITS} AS
        WITH events AS (SELECT {EVENT_COLUMNS} FROM web_sessions WHERE session_id IS NULL),
        numbered AS (
            SELECT *, CASE WHEN occurred_at - lag(occurred_at) OVER w <= {gap} THEN 0 ELSE 1 END AS new_visit
            FROM events WINDOW w AS (PARTITION BY visitor_id ORDER BY occurred_at)
        ), keyed AS (  -- only events without the file's session id are cut into visits by the gap (sorted)
            SELECT * EXCLUDE (new_visit), visitor_id || '#' || sum(new_visit) OVER (
                PARTITION BY visitor_id ORDER BY occurred_at ROWS UNBOUNDED PRECEDING) AS session_key
            FROM numbered
            UNION ALL
            SELECT {EVENT_COLUMNS}, session_id AS session_key FROM web_sessions WHERE session_id IS NOT NULL
        ), visits AS (
            SELECT visitor_id, session_key, min(occurred_at) AS started_at, max(occurred_at) AS ended_at,
                   count(*) FILTER ({views}) AS pageviews,
                   arg_min(page, occurred_at) FILTER ({views} AND page IS NOT NULL) AS first_page,
                   arg_max(page, occurred_at) FILTER ({views} AND page IS NOT NULL) AS last_page,
                   arg_min(referrer, occurred_at) AS first_referrer,
                   arg_min(source, occurred_at) FILTER (source IS NOT NULL) AS tagged_source,
                   arg_min(medium, occurred_at) FILTER (medium IS NOT NULL) AS tagged_medium,
                   arg_min(campaign, occurred_at) FILTER (campaign IS NOT NULL) AS tagged_campaign,
                   bool_or(event IN ({forms})) AS form_on_site
            FROM keyed GROUP BY visitor_id, session_key
        ), placed AS (
            SELECT v.*, s.person_id FROM visits v LEFT JOIN {STITCHES} s ON s.visitor_id = v.visitor_id
        ), forms AS (
            SELECT DISTINCT p.visitor_id, p.session_key FROM placed p
            JOIN person_touches t ON t.person_id = p.person_id AND t.kind = 'form_fill'
             AND t.occurred_at BETWEEN p.started_at AND p.ended_at + {gap}
        ), landings AS (  -- the parsing of URLs, once per distinct URL: visits share their pages
            SELECT first_page, {path_sql("first_page")} AS landing_page, {host_sql("first_page")} AS landing_host,
                   {_utm("first_page", "source")} AS utm_source, {_utm("first_page", "medium")} AS utm_medium,
                   {_utm("first_page", "campaign")} AS utm_campaign
            FROM (SELECT DISTINCT first_page FROM visits)
        ), exits AS (
            SELECT last_page, {path_sql("last_page")} AS exit_page FROM (SELECT DISTINCT last_page FROM visits)
        ), referrers AS (
            SELECT first_referrer, {host_sql("first_referrer")} AS referrer_host
            FROM (SELECT DISTINCT first_referrer FROM visits)
        )
        SELECT p.visitor_id, p.session_key, p.started_at, p.ended_at,
               CAST(epoch(p.ended_at) - epoch(p.started_at) AS DOUBLE) AS duration_seconds, p.pageviews,
               l.landing_page, e.exit_page,
               coalesce(tagged_source, l.utm_source, CASE WHEN {referral} THEN r.referrer_host END, '(direct)') AS source,
               coalesce(tagged_medium, l.utm_medium, CASE WHEN {referral} THEN 'referral' END, '(none)') AS medium,
               coalesce(tagged_campaign, l.utm_campaign) AS campaign,
               coalesce(p.form_on_site, FALSE) OR f.session_key IS NOT NULL AS form_fill,
               p.person_id
        FROM placed p LEFT JOIN forms f ON f.visitor_id = p.visitor_id AND f.session_key = p.session_key
        LEFT JOIN landings l ON l.first_page = p.first_page LEFT JOIN exits e ON e.last_page = p.last_page
        LEFT JOIN referrers r ON r.first_referrer = p.first_referrer
    """)
