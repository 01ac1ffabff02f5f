"""Which e-mail campaigns are nurture sequences, why, and which step each e-mail of one is: one decision that the
nurture analysis (:mod:`leadjourney.analysis.email_campaigns`) and the touchpoint inventory both read.

Decided once per run from everyone's campaign e-mails (not a selection's: a campaign is a sequence or not
whoever is looked at), as received: its sends, or its deliveries when it has no send events. A campaign is a
nurture sequence when

* it is **declared** one: named in ``[analysis] nurture_programs`` (a Marketo engagement program or a program of
  the Nurture channel, a HubSpot sequence; the exports loaded here do not carry the program's type); or
* its **e-mails show it**: at least :data:`MIN_STEPS` distinct e-mails (by name), each sent at the person's own
  pace (no e-mail sent to :data:`BROADCAST` of its people on one day, as a newsletter or a blast is), and
  received in the campaign's order by :data:`ORDERED` of the people sent two or more of them.

A resend of the same e-mail is the same step; a one-off blast (one e-mail), or an announcement and its
reminder (two), is no sequence. The steps are the campaign's distinct e-mails in their order (each e-mail's
place: the median of its rank among the campaign's e-mails each person received, by first receipt); a
declared sequence whose e-mails carry no names (or one) counts a person's n-th e-mail as step n.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.marketing import DELIVERED, SEND, mail_messages
from leadjourney.engine import fetch_rows

MIN_STEPS = 3  # distinct e-mails a campaign needs to be taken for a sequence from its e-mails alone
ORDERED = 0.9  # share of the people sent two or more of them who received them in the campaign's order
BROADCAST = 0.5  # an e-mail sent to this share of its people on one day went to everyone at once
DECLARED = "named in [analysis] nurture_programs"


@dataclass(frozen=True)
class Program:
    """One e-mail campaign: whether it is a nurture sequence and why (or why not)."""

    campaign: str
    nurture: bool
    why: str
    emails: int  # distinct e-mails (by name) it sent
    by_email: bool  # its steps are its distinct e-mails in order (else a person's n-th e-mail)


def received(mail: ir.Table) -> ir.Table:
    """The e-mails of ``mail`` (campaign, person_id, asset, occurred_at, event) people received: a campaign's
    sends, or its deliveries when it has no send events."""
    got = mail.filter(mail.campaign.notnull() & mail.event.isin([SEND, DELIVERED]))
    has_send = got.group_by("campaign").aggregate(has_send=(got.event == SEND).any())
    got = got.join(has_send, "campaign")
    return got.filter(ibis.ifelse(got.has_send, got.event == SEND, got.event == DELIVERED)).select(
        "campaign", "person_id", "asset", "occurred_at")


def first_receipts(journeys: Journeys) -> ir.Table:
    """Everyone's first receipt of each named campaign e-mail up to the as-of date: campaign, cpk (the campaign
    and person as an integer), asset, first_at (a resend is the same e-mail); kept for the run. Read from
    :func:`~leadjourney.analysis.marketing.mail_messages`: the rows whose asset was given, a campaign's sends
    among them, or its deliveries when it has none."""

    def build() -> ir.Table:
        m = mail_messages(journeys)
        m = m.filter(m.named & (m.send_at.notnull() | m.delivered_at.notnull()))
        got = _received_at(m)
        return got.filter(got.asset.notnull() & got.first_at.notnull()).select(
            "campaign", "cpk", "asset", "first_at")

    return journeys.cached(("nurture_first_receipts", journeys.as_of()), build)


def _received_at(messages: ir.Table) -> ir.Table:
    """``messages`` (rows of :func:`~leadjourney.analysis.marketing.mail_messages`) with ``first_at`` their
    first receipt: the send when the campaign has send events among them, else the delivery (NULL: neither)."""
    has_send = messages.group_by("campaign").aggregate(has_send=messages.send_at.notnull().any())
    m = messages.join(has_send, "campaign")
    return m.select("campaign", "person_id", "cpk", "asset",
                    first_at=ibis.ifelse(m.has_send, m.send_at, m.delivered_at))


def email_steps(journeys: Journeys) -> ir.Table:
    """Per campaign and named e-mail: its ``step`` (1, 2, ... in the campaign's order), ``people`` who received
    it and ``busiest_day`` (the most of them it reached on one day); kept for the run."""

    def build() -> ir.Table:
        first = first_receipts(journeys)
        w = ibis.window(group_by="cpk", order_by=["first_at", "asset"])
        ranked = first.mutate(rank=ibis.row_number().over(w))
        place = ranked.group_by(["campaign", "asset"]).aggregate(place=ranked["rank"].median(),
                                                                 seen=ranked.first_at.min(), people=ranked.count())
        days = first.group_by(["campaign", "asset", first.first_at.date().name("day")]).aggregate(n=first.count())
        busiest = days.group_by(["campaign", "asset"]).aggregate(busiest_day=days.n.max())
        order = ibis.window(group_by="campaign", order_by=["place", "seen", "asset"])
        place = place.join(busiest, ["campaign", "asset"])
        return place.select("campaign", "asset", "people", "busiest_day", step=ibis.row_number().over(order) + 1)

    return journeys.cached(("nurture_email_steps", journeys.as_of()), build)


def _campaigns(journeys: Journeys) -> ir.Table:
    """Every campaign that e-mailed anyone up to the as-of date (named e-mails or not)."""
    m = mail_messages(journeys)
    return m.filter(m.send_at.notnull() | m.delivered_at.notnull()).select("campaign").distinct()


def nurture_programs(journeys: Journeys) -> dict[str, Program]:
    """Every e-mail campaign of the workspace (by name) with its :class:`Program`; once per run."""
    declared = tuple(journeys.config.nurture_programs)
    return journeys.remembered(("nurture_programs", journeys.as_of(), declared),  # type: ignore[no-any-return]
                               lambda: _decide(journeys, declared))


def nurture_names(journeys: Journeys) -> list[str]:
    """The campaigns that are nurture sequences."""
    return sorted(c for c, p in nurture_programs(journeys).items() if p.nurture)


def _decide(journeys: Journeys, declared: tuple[str, ...]) -> dict[str, Program]:
    steps = email_steps(journeys)
    first = first_receipts(journeys)
    s = first.join(steps.select("campaign", "asset", "step"), ["campaign", "asset"])
    w = ibis.window(group_by="cpk", order_by=["first_at", "step"])
    s = s.mutate(prev=s.step.lag().over(w))
    per = s.group_by(["campaign", "cpk"]).aggregate(emails=s.count(),
                                                          back=(s.prev.notnull() & (s.step < s.prev)).sum())
    two = per.emails >= 2
    order = per.group_by("campaign").aggregate(multi=two.sum(), ordered=(two & (per.back == 0)).sum())
    shape = steps.group_by("campaign").aggregate(
        emails=steps.count(), broadcast=(steps.busiest_day >= BROADCAST * steps.people).sum())
    campaigns = _campaigns(journeys)
    j = campaigns.left_join(shape, "campaign").drop("campaign_right")
    j = j.left_join(order, "campaign").drop("campaign_right")
    out = {}
    for r in fetch_rows(j):
        campaign = str(r["campaign"])
        emails, broadcast = int(r["emails"] or 0), int(r["broadcast"] or 0)
        multi, ordered = int(r["multi"] or 0), int(r["ordered"] or 0)
        if campaign in declared:
            nurture, why = True, DECLARED
        else:
            nurture, why = _inferred(emails, broadcast, multi, ordered)
        out[campaign] = Program(campaign, nurture, why, emails, emails >= 2)
    return out


def _inferred(emails: int, broadcast: int, multi: int, ordered: int) -> tuple[bool, str]:
    """Whether a campaign's e-mails make it a sequence, and the one-line why."""
    if emails == 0:
        return False, ("its e-mails carry no names, so a resend cannot be told from a step (name it in "
                       "[analysis] nurture_programs if it is a nurture)")
    if emails < MIN_STEPS:
        return False, (f"{emails} distinct e-mail{'s' if emails > 1 else ''}: a one-off send or an announcement "
                       f"and its reminder (a sequence has {MIN_STEPS} or more; resends are no steps)")
    if broadcast * 2 > emails:
        return False, (f"{broadcast} of its {emails} e-mails went to most of their people on one day: a "
                       "broadcast, not a sequence at each person's pace")
    share = ordered / multi if multi else 0.0
    if share < ORDERED:
        return False, (f"its {emails} e-mails reach people in no one order ({share:.0%} of the {multi:,} "
                       f"sent two or more got them in order; a sequence needs {ORDERED:.0%})")
    return True, (f"{emails} distinct e-mails, received in the same order by {share:.0%} of the {multi:,} people "
                  "sent two or more")


def person_steps(mail: ir.Table, rows: Callable[[], ir.Table], journeys: Journeys) -> ir.Table | None:
    """The nurture sequences' steps of the people in ``mail`` (their
    :func:`~leadjourney.analysis.marketing.mail_messages`): campaign, person_id, cpk, step, occurred_at (their first
    receipt of it), next_at (when they received their next step) and unsub_at (their first unsubscribe from
    the campaign, any of its e-mails in ``mail``; NULL: none); None when no campaign is a sequence.
    ``rows()``: their campaign e-mail events one by one (campaign, person_id, asset, occurred_at, event), read
    only for a declared sequence whose e-mails carry no names (a person's n-th e-mail is step n)."""
    programs = nurture_programs(journeys)
    by_email = sorted(c for c, p in programs.items() if p.nurture and p.by_email)
    by_count = sorted(c for c, p in programs.items() if p.nurture and not p.by_email)
    parts = []
    if by_email:
        sent = mail.filter(mail.campaign.isin(by_email) & (mail.send_at.notnull() | mail.delivered_at.notnull()))
        got = _received_at(sent)  # per campaign: the sequences' rows only, before the first receipt is picked
        g = got.filter(got.first_at.notnull())
        g = g.join(email_steps(journeys).select("campaign", "asset", "step"), ["campaign", "asset"])
        # one row per campaign, person and step already: a named e-mail has one row per person in ``mail``
        # and one step
        parts.append(g.select("campaign", "person_id", "cpk", "step", occurred_at=g.first_at))
    if by_count:  # declared, its e-mails unnamed: a person's n-th e-mail is step n
        got = received(rows())
        g = got.filter(got.campaign.isin(by_count))
        # their cpk: every person with such an e-mail has rows of the campaign in ``mail`` (the same events,
        # grouped)
        g = g.join(mail.select("campaign", "person_id", "cpk").distinct(), ["campaign", "person_id"])
        w = ibis.window(group_by="cpk", order_by=["occurred_at"])
        parts.append(g.select("campaign", "person_id", "cpk", step=(ibis.row_number().over(w) + 1).cast("int64"),
                              occurred_at=g.occurred_at))
    if not parts:
        return None
    steps = ibis.union(*parts) if len(parts) > 1 else parts[0]
    # the unsubscribes ride in the same window as rows without a step (and without a receipt: whether they sort
    # first or last, a step's next receipt is the next step's, NULL after the last), read as the partition's
    # first; a left join of the steps to the unsubscribes per person instead built its hash table on the steps
    # (2.4M rows at 1M leads), whether anyone unsubscribed or not
    timestamp = steps.occurred_at.type()
    unsubs = mail.filter(mail.unsub_at.notnull() & mail.campaign.isin(sorted({*by_email, *by_count})))
    unsubs = unsubs.select("campaign", "person_id", "cpk", step=ibis.null(steps.step.type()),  # int32 on Spark
                           occurred_at=ibis.null(timestamp), unsub=unsubs.unsub_at.cast(timestamp))
    steps = steps.mutate(unsub=ibis.null(timestamp)).union(unsubs, distinct=False)
    w = ibis.window(group_by="cpk", order_by=["step"])
    steps = steps.mutate(next_at=steps.occurred_at.lead().over(w), unsub_at=steps.unsub.min().over(w))
    return steps.filter(steps.step.notnull()).drop("unsub")
