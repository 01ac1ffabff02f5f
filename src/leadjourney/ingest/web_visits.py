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
:data:`SESSION_GAP_MINUTES` after it), person_id (NULL: never identified). Events at the same instant (exports in
whole seconds) are told apart by their value: the smallest page lands, the largest exits, the smallest tag wins.

Both are rebuilt by every ingest, after the identity pass, from Ibis expressions (:func:`web_stitches`,
:func:`web_visits`): compiled to DuckDB's SQL by ingest, run by Spark for an export Spark builds the
derived tables of (:func:`leadjourney.table_export.derive_in_spark`), and by Postgres when it loads one
(:func:`leadjourney.warehouse.build_tables`).
"""

from __future__ import annotations

import duckdb
import ibis
import ibis.expr.types as ir

from leadjourney.ingest.sql import compiled_sql
from leadjourney.ingest.urls import url_host, url_path, url_utm

STITCHES = "web_stitches"
VISITS = "web_visits"
SESSION_GAP_MINUTES = 30  # GA4's and the clickstream convention: 30 minutes without an event end a visit
FORM_EVENTS = ("form_submit", "generate_lead", "sign_up")  # web events that are a form fill
PAGE_VIEW = "page_view"
TAGS = ("source", "medium", "campaign")
# an event's instant as a string that sorts as the instant does (fixed width: year 1000-9999, microseconds)
INSTANT_FORMAT = "%Y%m%d%H%M%S%f"
INSTANT_WIDTH = 20
# the columns of web_sessions a visit is made of
EVENT_COLUMNS = ("visitor_id", "occurred_at", "event", "page", "referrer", "source", "medium", "campaign")
# what each table is computed from (the tables ingest has built before it: person_journeys, person_touches)
STITCHES_READ = ("touchpoints", "leads", "web_sessions", "person_journeys")
VISITS_READ = ("web_sessions", STITCHES, "person_touches", "person_journeys")


def web_stitches(backend: ibis.BaseBackend) -> ir.Table:
    """``web_stitches``' query over ``touchpoints``, ``leads``, ``web_sessions`` and ``person_journeys``."""
    leads, sessions = backend.table("leads"), backend.table("web_sessions")
    touches = backend.table("touchpoints")
    owners = leads.select("lead_id", "person_id")
    by_touch = (touches.filter(touches.visitor_id.notnull())
                .select("lead_id", "visitor_id", seen_at="occurred_at").join(owners, "lead_id")
                .select("visitor_id", "person_id", "seen_at", via=ibis.literal("touchpoint")))
    by_lead = leads.filter(leads.visitor_id.notnull()).select(
        "visitor_id", "person_id", seen_at="created_at", via=ibis.literal("lead"))
    hashes = leads.filter(leads.email_hash.notnull()).select("email_hash", "person_id")
    by_email = (sessions.filter(sessions.email_hash.notnull())
                .select("visitor_id", "email_hash", seen_at="occurred_at").join(hashes, "email_hash")
                .select("visitor_id", "person_id", "seen_at", via=ibis.literal("email_hash")))
    ids = by_touch.union(by_lead).union(by_email)
    ids = ids.filter(ids.person_id.isin(backend.table("person_journeys").person_id))
    first = ibis.row_number().over(group_by="visitor_id",
                                   order_by=[ibis.asc("seen_at", nulls_first=False), "person_id", "via"])
    ranked = ids.mutate(rank=first)
    return ranked.filter(ranked.rank == 0).select("visitor_id", "person_id", "via", identified_at="seen_at")


def visit_rows(backend: ibis.BaseBackend) -> ir.Table:
    """The visits cut from ``web_sessions`` (visitor_id, session_key, their times, pages, referrer, tags and
    form events): what :func:`web_visits` reads five times (a table of its own on Spark, which would compute
    its windows again for each)."""
    sessions = backend.table("web_sessions")
    gap = ibis.interval(minutes=SESSION_GAP_MINUTES)
    # only events without the file's session id are cut into visits by the gap (sorted)
    events = sessions.filter(sessions.session_id.isnull()).select(*EVENT_COLUMNS)
    previous = events.occurred_at.lag().over(group_by="visitor_id", order_by="occurred_at")
    numbered = events.mutate(new_visit=ibis.ifelse(previous + gap >= events.occurred_at, 0, 1))
    count = numbered.new_visit.sum().over(ibis.cumulative_window(group_by="visitor_id", order_by="occurred_at"))
    cut = numbered.select(*EVENT_COLUMNS, session_key=numbered.visitor_id + "#" + count.cast("string"))
    filed = sessions.filter(sessions.session_id.notnull()).select(*EVENT_COLUMNS, session_key="session_id")
    keyed = cut.union(filed)

    # a visit's first (last) page, referrer and tags: the smallest (largest) of "instant + value", so that events
    # at the same instant (clickstreams exported in whole seconds) are told by their value, not by the order an
    # engine meets them: the smallest page lands, the largest exits, the smallest referrer and tag win. The
    # instant, formatted once per event, is a plain string min/max away from its value (an arg_min on a
    # (time, value) struct or an ordered first cost 2-3x more at 50M events); NULL values give NULL keys
    s = keyed.mutate(instant=keyed.occurred_at.strftime(INSTANT_FORMAT))
    views = s.event.isnull() | (s.event == PAGE_VIEW)
    s = s.mutate(views=views, page_key=ibis.ifelse(views, s.instant + s.page, ibis.null("string")),
                 **{f"{column}_key": s.instant + s[column] for column in ("referrer", *TAGS)})
    visits = s.group_by("visitor_id", "session_key").aggregate(
        started_at=s.occurred_at.min(), ended_at=s.occurred_at.max(), pageviews=s.count(where=s.views),
        first_page=s.page_key.min(), last_page=s.page_key.max(), first_referrer=s.referrer_key.min(),
        **{f"tagged_{tag}": s[f"{tag}_key"].min() for tag in TAGS},
        form_on_site=s.event.isin(FORM_EVENTS).any())
    picked = ("first_page", "last_page", "first_referrer", *(f"tagged_{tag}" for tag in TAGS))
    visits = visits.mutate(**{name: visits[name].substr(INSTANT_WIDTH) for name in picked})
    return visits


def web_visits(backend: ibis.BaseBackend, visits: ir.Table | None = None) -> ir.Table:
    """``web_visits``' query over ``web_sessions``, ``web_stitches``, ``person_touches`` and ``person_journeys``
    (a form fill's person id; ``visits``: :func:`visit_rows`, already built)."""
    visits = visit_rows(backend) if visits is None else visits
    gap = ibis.interval(minutes=SESSION_GAP_MINUTES)
    stitches = backend.table(STITCHES).select("visitor_id", "person_id")
    placed = visits.left_join(stitches, "visitor_id").drop("visitor_id_right")
    touches = backend.table("person_touches")
    filled = touches.filter(touches.kind == "form_fill").select("person_key", filled_at="occurred_at")
    ids = backend.table("person_journeys").select("person_key", "person_id")
    filled = filled.join(ids, "person_key").select("person_id", "filled_at")  # the few form fills' people
    forms = placed.join(filled, [placed.person_id == filled.person_id,
                                 filled.filled_at.between(placed.started_at, placed.ended_at + gap)])
    forms = forms.select(form_visitor="visitor_id", form_session="session_key").distinct()
    # the parsing of URLs, once per distinct URL: visits share their pages
    landings = visits.select("first_page").distinct()
    landings = landings.mutate(
        landing_page=url_path(landings.first_page), landing_host=url_host(landings.first_page),
        **{f"utm_{tag}": url_utm(landings.first_page, tag) for tag in ("source", "medium", "campaign")})
    exits = visits.select("last_page").distinct()
    exits = exits.mutate(exit_page=url_path(exits.last_page))
    referrers = visits.select("first_referrer").distinct()
    referrers = referrers.mutate(referrer_host=url_host(referrers.first_referrer))

    v = (placed.left_join(forms, [placed.visitor_id == forms.form_visitor, placed.session_key == forms.form_session])
         .left_join(landings, placed.first_page == landings.first_page)
         .left_join(exits, placed.last_page == exits.last_page)
         .left_join(referrers, placed.first_referrer == referrers.first_referrer))
    referral = v.referrer_host.notnull() & (v.landing_host.isnull() | (v.referrer_host != v.landing_host))
    return v.select(
        "visitor_id", "session_key", "started_at", "ended_at",
        duration_seconds=(v.ended_at.epoch_seconds() - v.started_at.epoch_seconds()).cast("float64"),
        pageviews=v.pageviews, landing_page=v.landing_page, exit_page=v.exit_page,
        source=ibis.coalesce(v.tagged_source, v.utm_source, ibis.cases((referral, v.referrer_host)), "(direct)"),
        medium=ibis.coalesce(v.tagged_medium, v.utm_medium, ibis.cases((referral, "referral")), "(none)"),
        campaign=ibis.coalesce(v.tagged_campaign, v.utm_campaign),
        form_fill=v.form_on_site.fill_null(False) | v.form_session.notnull(),
        person_id=v.person_id)


def refresh_web(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild ``web_stitches`` and ``web_visits`` from the canonical tables, ``person_journeys`` and
    ``person_touches``."""
    for table, read, build in ((STITCHES, STITCHES_READ, web_stitches), (VISITS, VISITS_READ, web_visits)):
        query = compiled_sql(con, table, SESSION_GAP_MINUTES, read, build)
        con.execute(f"CREATE OR REPLACE TABLE {table} AS {query}")
