"""What the campaign analyses read: the selected people's touchpoints with their e-mail event, and each person's
milestones (MQL, SQL, first opportunity, first won deal), as engine expressions.

E-mail events are spelled differently by every system; :data:`EMAIL_EVENTS` is the one place their spellings
(as ingest stores a touchpoint kind: lower case, punctuation as ``_``) map to the five events counted:

* the connectors write ``email_send``, ``email_delivered``, ``email_open``, ``email_click`` (Marketo's
  activities, HubSpot's marketing e-mail events) and the generator the same;
* a Marketo activity-log file says ``Send Email``, ``Email Delivered``, ``Open Email``, ``Click Email``,
  ``Unsubscribe Email``; a HubSpot e-mail events file ``SENT``, ``DELIVERED``, ``OPEN``, ``CLICK``,
  ``UNSUBSCRIBED``.

A touch by a person (``actor = 'human'``, a rep's e-mail) is never a campaign e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.engine import fetch_rows

SEND, DELIVERED, OPEN, CLICK, UNSUBSCRIBE = "send", "delivered", "open", "click", "unsubscribe"
EMAIL_EVENTS: dict[str, tuple[str, ...]] = {
    SEND: ("email_send", "email_sent", "send_email", "sent", "send", "email_send_success"),
    DELIVERED: ("email_delivered", "delivered", "email_delivery", "delivery"),
    OPEN: ("email_open", "email_opened", "open_email", "open", "opened"),
    CLICK: ("email_click", "email_clicked", "click_email", "click_link_in_email", "click", "clicked"),
    UNSUBSCRIBE: ("email_unsubscribe", "email_unsubscribed", "unsubscribe_email", "unsubscribe", "unsubscribed"),
}
# kinds whose asset was not consumed (an e-mail sent, delivered or merely opened; a status change whose
# "asset" is the new status)
NOT_CONSUMED: tuple[str, ...] = (*EMAIL_EVENTS[SEND], *EMAIL_EVENTS[DELIVERED], *EMAIL_EVENTS[OPEN],
                                 *EMAIL_EVENTS[UNSUBSCRIBE], "email_bounce", "email_bounced", "bounce",
                                 "program_status", "revenue_stage", "change_status_in_progression",
                                 "change_revenue_stage")
HUMAN = "human"
WON = "won"


def email_event(kind: ir.StringValue) -> ir.StringValue:
    """The e-mail event (``send`` ... ``unsubscribe``) a touchpoint kind is, NULL when it is none."""
    return ibis.cases(*[(kind.isin(list(spellings)), event) for event, spellings in EMAIL_EVENTS.items()],
                      else_=ibis.null("string"))


@dataclass(frozen=True)
class Milestone:
    """A moment a person may reach: a configured stage (``index``) or the first won deal (``index`` None)."""

    label: str
    at: str  # the column of :func:`milestones` holding when (NULL: not reached, or reached undated)
    reached: str  # the column saying whether


def conversion_milestones(stage_names: Sequence[str]) -> list[Milestone]:
    """MQL (the second stage), SQL (the stage named SQL, else the third) and won, as far as configured."""
    out = []
    if len(stage_names) > 1:
        out.append(Milestone(stage_names[1], "at_1", "has_1"))
    sql = stage_names.index("SQL") if "SQL" in stage_names else (2 if len(stage_names) > 2 else None)
    if sql is not None and sql > 1:
        out.append(Milestone(stage_names[sql], f"at_{sql}", f"has_{sql}"))
    out.append(Milestone(WON, "won_at", "has_won"))
    return out


def milestones(journeys: Journeys) -> ir.Table:
    """One row per selected person: person_id, ``has_i`` / ``at_i`` of the milestone stages, ``opp_at`` (their
    first opportunity's creation), ``has_opp``, ``won_at`` (their first won deal's close) and ``has_won``."""
    people = journeys.people()
    names = journeys.config.stage_names
    stages = [c for m in conversion_milestones(names) if m.label != WON for c in (m.at, m.reached)]
    leads = journeys.table("leads").select("lead_id", "person_id")
    opps = journeys.table("opportunities")
    opps = opps.join(leads, "lead_id")
    won = opps.is_won.fill_null(False)
    per = opps.group_by("person_id").aggregate(opp_at=opps.created_at.min(), won_at=opps.closed_at.min(where=won),
                                               opp_count=opps.count(), won_count=won.sum())
    p = people.select("person_id", *stages)
    j = p.left_join(per, p.person_id == per.person_id)
    return j.select(p, opp_at=j.opp_at, has_opp=j.opp_count.fill_null(0) > 0, won_at=j.won_at,
                    has_won=j.won_count.fill_null(0) > 0)


def person_touches(journeys: Journeys) -> ir.Table:
    """The selected people's touchpoints up to the as-of date: person_id, occurred_at, kind, actor, campaign,
    asset and ``event`` (:func:`email_event`; NULL for a touch by a person).

    Not materialized: each query reading it filters the few touches it needs before the join (a copy of every
    touch with its strings was most of what the campaign analyses cost, and 12 GB at 10M leads)."""

    def build() -> ir.Table:
        touches = journeys.table("touchpoints")
        touches = touches.filter(touches.occurred_at <= ibis.timestamp(journeys.as_of()))
        leads = journeys.table("leads").select("lead_id", "person_id")
        t = touches.join(leads, "lead_id")
        t = t.semi_join(journeys.people().select("person_id"), "person_id")
        automated = t.actor.isnull() | (t.actor != HUMAN)
        event = ibis.ifelse(automated, email_event(t.kind), ibis.null("string"))
        clean = names_clean(journeys)
        return t.select("person_id", "occurred_at", "kind", "actor", campaign=name_of(t.campaign, clean),
                        asset=name_of(t.asset, clean), event=event)

    return journeys.remembered(("campaign_touches", journeys.as_of()), build)  # type: ignore[no-any-return]


def mail_messages(journeys: Journeys) -> ir.Table:
    """Everyone's campaign e-mail events up to the as-of date (a person's e-mails, not a rep's), one row per
    campaign, person_id (and ``cpk``, the campaign and person as one integer: :func:`_keyed`), asset (the
    e-mail; NULL when blank) and ``named`` (the asset was given, blank or not):
    when the person first had any event of it (``first_at``), a send, a delivery, an open or a click
    (``opened_at``: a click means it was opened), a click, an unsubscribe (NULL: never); ``selected``: the
    person is one of the selection's (:meth:`Journeys.people`; marked once per lead here, where each
    query reading the selected rows semi-joined every row to the people). Kept for the run (a new selection
    releases it); a few rows per person instead of every event, which the e-mail and nurture analyses
    re-aggregate."""

    def build() -> ir.Table:
        t = journeys.table("touchpoints")
        kinds = [kind for spellings in EMAIL_EVENTS.values() for kind in spellings]
        t = t.filter((t.occurred_at <= ibis.timestamp(journeys.as_of())) & t.kind.isin(kinds)
                     & (t.actor.isnull() | (t.actor != HUMAN)) & t.campaign.notnull())
        leads = journeys.table("leads").select("lead_id", "person_id")
        # ``pk``: the person as a dense integer (see _keyed)
        leads = leads.mutate(pk=ibis.dense_rank().over(order_by="person_id").cast("int64"))
        # per lead and name as stored first: the join then reads a few rows per e-mail, not every event (joined
        # first, DuckDB built its hash table on the filtered events, which it underestimates: 1.5 GB at 1M
        # leads, out of its 4 GB budget at 10M)
        per_lead = _firsts(t, ["lead_id", "campaign", "asset"])
        clean = names_clean(journeys)
        if clean:  # a person's only lead's rows are theirs as they are: only the others are grouped again
            leads = _alone(leads)
        people = journeys.people().select(selected_id="person_id")  # one row per person
        leads = leads.left_join(people, leads.person_id == people.selected_id)
        leads = leads.select(*[c for c in leads.columns if c != "selected_id"], selected=leads.selected_id.notnull())
        j = per_lead.join(leads, "lead_id")
        m = j.select("person_id", "pk", "selected", *FIRSTS, campaign=name_of(j.campaign, clean),
                     asset=name_of(j.asset, clean), named=j.asset.notnull(), **({"alone": j.alone} if clean else {}))
        if not clean:
            m = m.filter(m.campaign.notnull())
            return _keyed(_per_person(m))
        keys = ["campaign", "person_id", "asset", "named", "selected", "pk"]
        alone = m.filter(m.alone).select(*keys, *FIRSTS)
        return _keyed(alone.union(_per_person(m.filter(~m.alone)), distinct=False))

    return journeys.cached(("campaign_mail", journeys.as_of()), build)


FIRSTS = ("first_at", "send_at", "delivered_at", "opened_at", "click_at", "unsub_at")


def _per_person(m: ir.Table) -> ir.Table:
    """Rows of :func:`mail_messages` (per lead) grouped by campaign, person_id, asset, named and selected (pk and
    selected follow from person_id): the first of each."""
    return m.group_by(["campaign", "person_id", "asset", "named", "selected", "pk"]).aggregate(
        **{c: m[c].min() for c in FIRSTS})


PERSONS = 2**32  # more people than a workspace holds: cpk = the campaign's number x PERSONS + the person's


def _keyed(rows: ir.Table) -> ir.Table:
    """``rows`` (campaign, ..., ``pk``) with ``cpk`` for ``pk``: the campaign (its rank among the rows' names)
    and the person as one integer, one-to-one with (campaign, person_id). The per-person windows and groups of
    the nurture analysis partition on it: on one integer DuckDB sorted 3.2M rows (1M leads) in 1.2 CPU s, on
    the name and the person 1.8-2.0 s (on the id text, more)."""
    names = rows.select("campaign").distinct()
    names = names.mutate(ck=ibis.dense_rank().over(order_by="campaign").cast("int64"))
    j = rows.join(names, "campaign")
    return j.select(*[c for c in rows.columns if c != "pk"], cpk=j.ck * PERSONS + j.pk)


def _alone(leads: ir.Table) -> ir.Table:
    """``leads`` (lead_id, person_id, ...) with ``alone``: the lead is its person's only one (its person_id is its
    own lead_id and no other lead names that person). Grouping every e-mail row by person again cost as much as
    grouping the events per lead (3.2M rows of strings at 1M leads); only the few other leads' rows need it."""
    shared = leads.filter(leads.person_id.notnull() & (leads.person_id != leads.lead_id))
    shared = shared.select(shared_id=shared.person_id).distinct()
    j = leads.left_join(shared, leads.person_id == shared.shared_id)
    return j.select(*[j[c] for c in leads.columns],
                    alone=(j.person_id == j.lead_id).fill_null(False) & j.shared_id.isnull())


def _firsts(t: ir.Table, keys: list[str]) -> ir.Table:
    """Per ``keys`` group of e-mail events ``t`` (``kind``: one of :data:`EMAIL_EVENTS`' spellings), the first
    ``occurred_at`` of any and of each (:data:`FIRSTS`). The kind's event (:func:`email_event`) is worked out
    once a touch, which the five firsts compare (testing each first on the kind's spellings cost a tenth more)."""
    t = t.mutate(ev=email_event(t.kind))
    at, ev = t.occurred_at, t.ev
    return t.group_by(keys).aggregate(first_at=at.min(), send_at=at.min(where=ev == SEND),
                                      delivered_at=at.min(where=ev == DELIVERED),
                                      opened_at=at.min(where=ev.isin([OPEN, CLICK])),
                                      click_at=at.min(where=ev == CLICK),
                                      unsub_at=at.min(where=ev == UNSUBSCRIBE))


def selected_mail(journeys: Journeys) -> ir.Table:
    """:func:`mail_messages` of the selected people."""
    mail = mail_messages(journeys)
    return mail.filter(mail.selected)


def names_clean(journeys: Journeys) -> bool:
    """Whether every campaign and asset name of the touchpoints is already as the analyses read it: trimmed
    and not blank (ingest stores them so). Checked once per run over the distinct names (a few dozen; the
    engine reads them from its dictionaries): then no name is trimmed touch by touch."""

    def check() -> bool:
        t = journeys.table("touchpoints")
        names = t.select(name=t.campaign).distinct().union(t.select(name=t.asset).distinct())
        n = names.name
        unclean = names.filter(n.notnull() & ((n.strip() != n) | (n == "")))
        return not fetch_rows(unclean.limit(1))

    return journeys.remembered("touch_names_clean", check)  # type: ignore[no-any-return]


def name_of(value: ir.StringValue, clean: bool) -> ir.StringValue:
    """A campaign or asset name as the analyses read it: :func:`blank_null`, or as stored when ``clean``
    (:func:`names_clean`)."""
    return value if clean else blank_null(value)


def blank_null(value: ir.StringValue) -> ir.StringValue:
    """``value`` trimmed, NULL when blank."""
    trimmed = value.strip()
    return ibis.ifelse(trimmed == "", ibis.null("string"), trimmed)
