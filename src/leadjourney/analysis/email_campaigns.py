"""E-mail engagement by campaign, and nurture sequences step by step, counted in the engine.

Reads :func:`~leadjourney.analysis.marketing.selected_mail` (the selected people's campaign e-mails, one row
per person and e-mail with the first time of each event) and :func:`~leadjourney.analysis.marketing.milestones`. Counts are of *people* (a person opening three
e-mails of a campaign is one opener), so each rate has a Wilson interval (:mod:`leadjourney.analysis.rates`).

* **Engagement**: per campaign, the people e-mailed (any event of it), sent, delivered, opened (an open or a
  click: a click means the e-mail was opened, images blocked or not), clicked, unsubscribed; rates over the
  people it was delivered to when the campaign has delivery events, else over those e-mailed. A campaign whose
  per-e-mail click rate (a person x an e-mail of it, delivered -> clicked: a person's click rate grows with the
  number of e-mails a campaign sends, so campaigns are compared per e-mail) is significantly below the other
  campaigns' (two-proportion z-test, Holm-corrected) is ``weak``.
* **Downstream conversion**: per campaign and milestone (MQL, SQL, won), engaged (``[analysis] engaged_by``: an
  open or a click, or a click) within ``[analysis] engaged_window_days`` of the person's first e-mail of it vs
  not, like with like (:func:`comparable_counts`): only people not at the milestone by the end of that window,
  conversion counted within the same follow-up after it for everyone (the milestone's maturity days), and only
  people e-mailed long enough ago. Counting "engaged before reaching it" instead made fast converters, who had
  no time to open anything, the "not engaged" ones (on the demo, -20 points for a nurture planted to change
  nothing). The difference with its Newcombe interval. Association, not cause: people already on their way to
  buy open more e-mail.
* **Nurture sequences**: only the campaigns :mod:`leadjourney.analysis.nurture_programs` takes for sequences
  (declared in ``[analysis] nurture_programs``, or 3+ distinct e-mails received in order at each person's pace;
  each carries the one-line why); their steps are its distinct e-mails in order (a resend is no step). Per step: people who received it, who received the
  next, who left there (not received the next, and the step at least ``[analysis] nurture_wait_days`` before
  the as-of date: else still in flight, not judged), who unsubscribed after it. The step where most leave
  (the highest leave rate before the last step) is ``broken`` when its leave rate is significantly above the
  sequence's other steps' (two-proportion z-test, Holm-corrected over the sequences).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.marketing import (
    WON,
    Milestone,
    conversion_milestones,
    names_clean,
    selected_mail,
)
from leadjourney.analysis.maturity import Maturity, cohort_maturity
from leadjourney.analysis.nurture_programs import MIN_STEPS, nurture_programs, person_steps
from leadjourney.analysis.rates import StageCount, Transition, transition_between
from leadjourney.analysis.readback import build
from leadjourney.analysis.sources import holm, two_proportion_z
from leadjourney.analysis.status import OK, MetricStatus, for_count, withheld
from leadjourney.analysis.touchpoints import newcombe_interval
from leadjourney.engine import fetch_rows
from leadjourney.tabular import Tabular

ALPHA = 0.05
MAX_STEPS = 12  # steps counted per sequence (a longer newsletter is no nurture)
NO_SEQUENCE = (f"no campaign is a sequence: none sent the same people {MIN_STEPS} or more distinct e-mails in order "
               "at their own pace, and none is named in [analysis] nurture_programs")


@dataclass(frozen=True)
class EngagedConversion:
    """Conversion to one milestone of a campaign's engaged vs not engaged people (association, not cause)."""

    milestone: str
    engaged: Transition
    not_engaged: Transition
    difference: float | None = None  # engaged rate - not engaged rate
    ci_low: float | None = None  # 95% Newcombe interval of the difference
    ci_high: float | None = None
    status: MetricStatus = OK
    window_days: int = 0  # engaged: within this many days of their first e-mail of the campaign
    follow_days: int = 0  # converted: within this many days after that window (the same for everyone)

    def to_dict(self) -> dict[str, Any]:
        return {"milestone": self.milestone, "engaged": self.engaged.to_dict(),
                "not_engaged": self.not_engaged.to_dict(), "difference": self.difference, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "window_days": self.window_days, "follow_days": self.follow_days,
                **_status(self.status)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EngagedConversion:
        return build(cls, d, engaged=Transition.from_dict(d["engaged"]),
                     not_engaged=Transition.from_dict(d["not_engaged"]), status=MetricStatus.of(d))


@dataclass(frozen=True)
class EmailCampaign:
    campaign: str
    emailed: int  # people with any e-mail event of it
    sent: int
    delivered: int
    opened: int  # opened or clicked
    clicked: int
    unsubscribed: int
    base: str  # "delivered" or "emailed": what the rates are over
    open_rate: Transition
    click_rate: Transition
    click_to_open: Transition
    unsubscribe_rate: Transition
    delivery_rate: Transition  # sent -> delivered (withheld without delivery events)
    message_click_rate: Transition  # e-mails (a person x an e-mail of it) delivered (else sent) -> clicked
    conversion: tuple[EngagedConversion, ...] = ()
    weak: bool = False  # per-e-mail click rate significantly below the other campaigns'
    p_adjusted: float | None = None
    rest_rate: float | None = None  # the other judged campaigns' per-e-mail click rate, pooled (what it is tested on)
    rest_n: int = 0  # their e-mails

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("campaign", "emailed", "sent", "delivered", "opened", "clicked",
                                             "unsubscribed", "base", "weak", "p_adjusted", "rest_rate", "rest_n")}
        for k in ("open_rate", "click_rate", "click_to_open", "unsubscribe_rate", "delivery_rate", "message_click_rate"):
            out[k] = getattr(self, k).to_dict()
        out["conversion"] = [c.to_dict() for c in self.conversion]
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EmailCampaign:
        rates = {k: Transition.from_dict(d[k]) for k in ("open_rate", "click_rate", "click_to_open",
                                                           "unsubscribe_rate", "delivery_rate",
                                                           "message_click_rate")}
        return build(cls, d, **rates, conversion=tuple(EngagedConversion.from_dict(c) for c in d.get("conversion") or ()))


@dataclass(frozen=True)
class NurtureStep:
    step: int
    received: int
    in_flight: int  # received it within nurture_wait_days of the as-of date and not the next yet: not judged
    continued: int  # received the next step
    unsubscribed: int  # unsubscribed after this step, before the next
    leave: Transition  # judged (received - in flight) -> left (judged - continued)
    last: bool = False  # the sequence's last step: everyone leaves there

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "received": self.received, "in_flight": self.in_flight,
                "continued": self.continued, "unsubscribed": self.unsubscribed, "leave": self.leave.to_dict(),
                "last": self.last}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NurtureStep:
        return build(cls, d, leave=Transition.from_dict(d["leave"]))


@dataclass(frozen=True)
class NurtureSequence:
    campaign: str
    people: int  # received step 1
    steps: tuple[NurtureStep, ...]
    worst_step: int | None = None  # the step where most leave (highest judged leave rate before the last step)
    broken: bool = False  # its leave rate significantly above the sequence's other steps'
    p_adjusted: float | None = None
    status: MetricStatus = OK
    rest_rate: float | None = None  # the leave rate of its other steps before the last, pooled (the test's other side)
    rest_n: int = 0  # the people judged at those steps
    why: str = ""  # why the campaign is followed as a sequence (:mod:`leadjourney.analysis.nurture_programs`)

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "people": self.people, "steps": [s.to_dict() for s in self.steps],
                "worst_step": self.worst_step, "broken": self.broken, "p_adjusted": self.p_adjusted,
                "rest_rate": self.rest_rate, "rest_n": self.rest_n, "why": self.why, **_status(self.status)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NurtureSequence:
        return build(cls, d, steps=tuple(NurtureStep.from_dict(s) for s in d.get("steps") or ()),
                     status=MetricStatus.of(d))

    def step(self, n: int) -> NurtureStep | None:
        return next((s for s in self.steps if s.step == n), None)


@dataclass
class EmailEngagement(Tabular):
    """Both e-mail parts for one selection; ``status`` withheld when there is no e-mail with a campaign. Its table
    is the campaigns."""

    table_from = "campaigns"

    status: MetricStatus = field(default_factory=lambda: withheld("not computed"))
    engaged_by: str = "open"
    campaigns: list[EmailCampaign] = field(default_factory=list)
    nurtures: list[NurtureSequence] = field(default_factory=list)
    nurture_status: MetricStatus = OK
    not_nurtures: dict[str, str] = field(default_factory=dict)  # campaign -> why it is no sequence
    window_days: int = 7  # [analysis] engaged_window_days
    follow: list[Maturity] = field(default_factory=list)  # per milestone: the follow-up after the window

    def withhold(self, reason: str) -> EmailEngagement:
        """Both parts withheld: their input is missing."""
        self.status = self.nurture_status = withheld(reason)
        return self

    def fit(self, journeys: Journeys, touches: ir.Table, milestones: ir.Table) -> EmailEngagement:
        self.status = OK
        mail = selected_mail(journeys)
        min_n = journeys.config.min_n
        marks = conversion_milestones(journeys.config.stage_names)
        self.window_days = journeys.config.engaged_window_days
        self.follow = follow_up(journeys, marks)
        self._engagement(mail, milestones, marks, min_n, journeys.as_of(), names_clean(journeys))
        self._nurtures(mail, lambda: touches.filter(touches.event.notnull() & touches.campaign.notnull()), journeys,
                       min_n)
        return self

    def _engagement(self, mail: ir.Table, ms: ir.Table, marks: list[Milestone], min_n: int, as_of: datetime,
                    clean: bool) -> None:
        """Per campaign, its people's engagement and conversion, and its e-mails' clicks. ``clean``: the names are
        as stored (:func:`~leadjourney.analysis.marketing.names_clean`), so no asset is blank and ``mail`` has one
        row per campaign, person and e-mail already (else an unnamed e-mail may have a row for a blank name and
        one for none: merged here)."""
        engaged_at = mail.click_at if self.engaged_by == "click" else mail.opened_at
        delivered, clicked = mail.delivered_at.notnull(), mail.click_at.notnull()
        # its e-mails (a person x an e-mail of it): counted with its people when ``mail`` is one row per e-mail
        emails = {"m_n": mail.count(), "m_delivered": delivered.sum(), "m_clicked": clicked.sum(),
                  "m_del_clicked": (delivered & clicked).sum()} if clean else {}
        per = mail.group_by(["campaign", "person_id"]).aggregate(
            first_at=mail.first_at.min(), sent=mail.send_at.notnull().any(), delivered=delivered.any(),
            opened=mail.opened_at.notnull().any(), clicked=clicked.any(), unsub=mail.unsub_at.notnull().any(),
            engaged_at=engaged_at.min(), **emails)
        j = per.join(ms, per.person_id == ms.person_id)
        sums: dict[str, ir.Value] = {"emailed": j.count(), "sent": j.sent.sum(), "delivered": j.delivered.sum(),
                                     "opened": j.opened.sum(), "clicked": j.clicked.sum(), "unsub": j.unsub.sum(),
                                     "del_opened": (j.delivered & j.opened).sum(),
                                     "del_clicked": (j.delivered & j.clicked).sum(),
                                     "del_unsub": (j.delivered & j.unsub).sum(), "sent_del": (j.sent & j.delivered).sum(),
                                     **{k: j[k].sum() for k in emails}}
        sums.update(comparable_counts(j, marks, self.window_days, [f.days for f in self.follow], as_of))
        rows = fetch_rows(j.group_by("campaign").aggregate(**sums).order_by([ibis.desc("emailed"), "campaign"]))
        if clean:
            messages = {r["campaign"]: {k.removeprefix("m_"): r[k] for k in emails} for r in rows}
        else:
            msg = mail.group_by(["campaign", "person_id", "asset"]).aggregate(delivered=delivered.any(),
                                                                              clicked=clicked.any())
            messages = {r["campaign"]: r for r in fetch_rows(msg.group_by("campaign").aggregate(
                n=msg.count(), delivered=msg.delivered.sum(), clicked=msg.clicked.sum(),
                del_clicked=(msg.delivered & msg.clicked).sum()))}
        out = [self._campaign(r, messages[r["campaign"]], marks, min_n) for r in rows]
        tested = [(i, c) for i, c in enumerate(out) if c.message_click_rate.status.judged]
        total_n = sum(c.message_click_rate.entered for _, c in tested)
        total_k = sum(c.message_click_rate.converted for _, c in tested)
        zs: list[tuple[int, float, float]] = []
        for i, c in tested:
            t = c.message_click_rate
            rest_n, rest_k = total_n - t.entered, total_k - t.converted
            out[i] = replace(c, rest_rate=rest_k / rest_n if rest_n else None, rest_n=rest_n)
            z, p = two_proportion_z(t.converted, t.entered, rest_k, rest_n)
            if p is not None:
                zs.append((i, z, p))
        for (i, z, _), p_adj in zip(zs, holm([p for _, _, p in zs]), strict=True):
            out[i] = replace(out[i], p_adjusted=p_adj, weak=z < 0 and p_adj < ALPHA)
        self.campaigns = out
        self.status = for_count(sum(c.emailed for c in out), min_n, "people e-mailed")

    def _campaign(self, r: Mapping[str, Any], messages: Mapping[str, Any], marks: list[Milestone],
                  min_n: int) -> EmailCampaign:
        n = {k: int(v or 0) for k, v in r.items() if k != "campaign"}
        m = {k: int(v or 0) for k, v in messages.items() if k != "campaign"}
        by_delivery = n["delivered"] > 0
        base, base_n = ("delivered", n["delivered"]) if by_delivery else ("emailed", n["emailed"])
        opened = n["del_opened"] if by_delivery else n["opened"]
        clicked = n["del_clicked"] if by_delivery else n["clicked"]
        unsub = n["del_unsub"] if by_delivery else n["unsub"]

        def rate(a: str, an: int, b: str, bn: int) -> Transition:
            return transition_between(StageCount(a, "", an, 0), StageCount(b, "", bn, 0), min_n)

        if by_delivery and n["sent"]:
            delivery = rate("sent", n["sent"], "delivered", n["sent_del"])
        else:
            delivery = Transition("sent", "delivered", n["sent"], 0, None, None, None,
                                  withheld("no delivery events for this campaign" if not by_delivery
                                           else "no send events for this campaign"))
        msg_base, msg_clicked = (m["delivered"], m["del_clicked"]) if by_delivery else (m["n"], m["clicked"])
        message_click = _counted(rate(f"e-mails {base}", msg_base, "clicked", msg_clicked), min_n, "e-mails")
        conversion = []
        for i, mark in enumerate(marks):
            eng = rate("engaged", n[f"n_e{i}"], mark.label, n[f"k_e{i}"])
            not_ = rate("not engaged", n[f"n_n{i}"], mark.label, n[f"k_n{i}"])
            conv = EngagedConversion(mark.label, eng, not_, window_days=self.window_days,
                                     follow_days=self.follow[i].days)
            if eng.rate is not None and not_.rate is not None:
                low, high = newcombe_interval(eng.converted, eng.entered, not_.converted, not_.entered)
                status = not_.status if eng.status.judged else eng.status
                conv = replace(conv, difference=eng.rate - not_.rate, ci_low=low, ci_high=high, status=status)
            else:
                conv = replace(conv, status=withheld(_why_not_compared(eng, not_, self.window_days,
                                                                       self.follow[i].days)))
            conversion.append(conv)
        return EmailCampaign(str(r["campaign"]), n["emailed"], n["sent"], n["delivered"], n["opened"], n["clicked"],
                             n["unsub"], base, rate(base, base_n, "opened", opened), rate(base, base_n, "clicked", clicked),
                             rate("opened", opened, "clicked", clicked),
                             rate(base, base_n, "unsubscribed", unsub), delivery, message_click, tuple(conversion))

    def _nurtures(self, mail: ir.Table, events: Callable[[], ir.Table], journeys: Journeys, min_n: int) -> None:
        wait = journeys.config.nurture_wait_days
        programs = nurture_programs(journeys)
        self.not_nurtures = {c: p.why for c, p in sorted(programs.items()) if not p.nurture}
        steps = person_steps(mail, events, journeys)
        if steps is None:
            self.nurtures = []
            self.nurture_status = withheld(NO_SEQUENCE)
            return
        s = steps.filter(steps.step <= MAX_STEPS)  # unsub_at: their first unsubscribe from the campaign
        cutoff = ibis.timestamp(journeys.as_of() - timedelta(days=wait))
        unsub_here = s.unsub_at.notnull() & (s.unsub_at >= s.occurred_at) & (s.next_at.isnull() | (s.unsub_at < s.next_at))
        rows = fetch_rows(s.group_by(["campaign", "step"]).aggregate(
            received=s.count(), continued=s.next_at.notnull().sum(),
            in_flight=(s.next_at.isnull() & (s.occurred_at > cutoff)).sum(), unsub=unsub_here.sum()))
        by: dict[str, list[Mapping[str, Any]]] = {}
        for r in rows:
            by.setdefault(str(r["campaign"]), []).append(r)
        sequences = [self._sequence(c, sorted(rs, key=lambda r: int(r["step"])), min_n, programs[c].why)
                     for c, rs in by.items() if len(rs) > 1]
        sequences.sort(key=lambda q: (-q.people, q.campaign))
        sequences = [_with_rest(q) for q in sequences]
        tested = [(i, z, p) for i, q in enumerate(sequences) for z, p in [_worst_test(q)] if p is not None]
        for (i, z, _), p_adj in zip(tested, holm([p for _, _, p in tested]), strict=True):
            sequences[i] = replace(sequences[i], p_adjusted=p_adj, broken=z > 0 and p_adj < ALPHA)
        self.nurtures = sequences
        self.nurture_status = (for_count(max(q.people for q in sequences), min_n, "people in a sequence") if sequences
                               else withheld(NO_SEQUENCE))

    @staticmethod
    def _sequence(campaign: str, rows: list[Mapping[str, Any]], min_n: int, why: str) -> NurtureSequence:
        steps = []
        last = max(int(r["step"]) for r in rows)
        for r in rows:
            received, continued = int(r["received"]), int(r["continued"] or 0)
            in_flight = int(r["in_flight"] or 0)
            judged = received - in_flight
            leave = transition_between(StageCount(f"step {r['step']}", "", judged, 0),
                                       StageCount("left", "", judged - continued, 0), min_n)
            steps.append(NurtureStep(int(r["step"]), received, in_flight, continued, int(r["unsub"] or 0), leave,
                                     int(r["step"]) == last))
        candidates = [s for s in steps if not s.last and s.leave.status.judged and s.leave.rate is not None]
        worst = max(candidates, key=lambda s: (s.leave.rate or 0.0, -s.step), default=None)
        first = steps[0].received
        return NurtureSequence(campaign, first, tuple(steps), worst.step if worst else None,
                               status=for_count(first, min_n, "people in the sequence"), why=why)

    def to_dict(self) -> dict[str, Any]:
        return {**_status(self.status), "engaged_by": self.engaged_by, "window_days": self.window_days,
                "follow": [m.to_dict() for m in self.follow],
                "campaigns": [c.to_dict() for c in self.campaigns],
                "nurtures": {**_status(self.nurture_status), "rows": [q.to_dict() for q in self.nurtures],
                             "not_sequences": dict(self.not_nurtures)}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EmailEngagement:
        nurtures = d.get("nurtures") or {}
        return cls(MetricStatus.of(d), str(d.get("engaged_by") or "open"),
                   [EmailCampaign.from_dict(c) for c in d.get("campaigns") or ()],
                   [NurtureSequence.from_dict(q) for q in nurtures.get("rows") or ()], MetricStatus.of(nurtures),
                   {str(k): str(v) for k, v in (nurtures.get("not_sequences") or {}).items()},
                   int(d.get("window_days", 7)), [Maturity.from_dict(m) for m in d.get("follow") or ()])


def _others(q: NurtureSequence) -> tuple[int, int]:
    """People left and judged at the sequence's other steps before the last (the worst step's comparison)."""
    others = [s for s in q.steps if not s.last and s.step != q.worst_step]
    return sum(s.leave.converted for s in others), sum(s.leave.entered for s in others)


def _with_rest(q: NurtureSequence) -> NurtureSequence:
    """``q`` with the pooled leave rate of its other steps before the last."""
    if q.worst_step is None:
        return q
    k, n = _others(q)
    return replace(q, rest_rate=k / n if n else None, rest_n=n)


def _worst_test(q: NurtureSequence) -> tuple[float, float | None]:
    """z and p of the worst step's leave rate against the sequence's other steps (before the last) pooled."""
    worst = q.step(q.worst_step) if q.worst_step is not None else None
    k, n = _others(q)
    if worst is None or not n:
        return 0.0, None
    return two_proportion_z(worst.leave.converted, worst.leave.entered, k, n)


def _counted(t: Transition, min_n: int, what: str) -> Transition:
    """``t`` with its status counted in ``what`` instead of people; withheld stays withheld."""
    return t if not t.status.shown else replace(t, status=for_count(t.entered, min_n, what))


def _status(status: MetricStatus) -> dict[str, Any]:
    return {"status": status.status.value, "status_reason": status.reason}


def follow_up(journeys: Journeys, marks: list[Milestone]) -> list[Maturity]:
    """Per milestone, how long after the engagement window its conversion is counted, the same for everyone: the
    days a creation cohort needs before the transition into it is judged (:mod:`leadjourney.analysis.maturity`;
    won: the transition into the last stage)."""
    names = journeys.config.stage_names
    maturity = cohort_maturity(journeys)
    out = []
    for m in marks:
        i = len(names) - 1 if m.label == WON else int(m.at.removeprefix("at_"))
        key = f"{names[i - 1]}->{names[i]}" if i > 0 else None
        out.append(maturity.get(key or "", Maturity(journeys.config.maturity_days, "maturity_days")))
    return out


def comparable_counts(j: ir.Table, marks: list[Milestone], window_days: int, follow_days: list[int],
                      as_of: datetime) -> dict[str, ir.Value]:
    """Engaged vs not, like with like (``j``: a person x campaign with ``first_at`` and ``engaged_at``, and their
    milestones). Engaged: by ``window_days`` after their first e-mail of it (everyone gets the same time to
    engage); compared: only people not at the milestone by then (conversion before engaging would count against
    engaging) and e-mailed long enough ago to be followed ``follow_days`` more; converted: within those days.
    Per milestone i: ``n_e{i}``/``k_e{i}`` engaged and converted of them, ``n_n{i}``/``k_n{i}`` the others."""
    landmark = j.first_at + ibis.interval(days=window_days)
    engaged = j.engaged_at.notnull() & (j.engaged_at <= landmark)
    sums: dict[str, ir.Value] = {}
    for i, m in enumerate(marks):
        at, has = j[m.at], j[m.reached].fill_null(False)
        end = landmark + ibis.interval(days=follow_days[i])
        eligible = (end <= ibis.timestamp(as_of)) & ibis.ifelse(at.isnull(), ~has, at > landmark)
        hit = at.notnull() & (at <= end)
        sums[f"n_e{i}"] = (eligible & engaged).sum()
        sums[f"k_e{i}"] = (eligible & engaged & hit).sum()
        sums[f"n_n{i}"] = (eligible & ~engaged).sum()
        sums[f"k_n{i}"] = (eligible & ~engaged & hit).sum()
    return sums


def _why_not_compared(engaged: Transition, not_engaged: Transition, window_days: int, follow_days: int) -> str:
    """The one-line reason an engaged vs not comparison is withheld."""
    if not engaged.entered and not not_engaged.entered:
        return (f"nobody was e-mailed it {window_days + follow_days}+ days before the as-of date and not yet there "
                f"{window_days} days later: too recent to follow up alike")
    return ("nobody engaged within the window" if not engaged.entered
            else "everyone compared engaged within the window")
