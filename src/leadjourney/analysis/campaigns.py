"""Campaigns and content: the marketing-automation half of the journey, as one result.

Four parts, each computed in the engine from the selected people's touchpoints
(:mod:`leadjourney.analysis.marketing`) and withheld with its one-line reason when its input is missing:
e-mail engagement by campaign with its downstream conversion, and nurture sequences step by step
(:mod:`leadjourney.analysis.email_campaigns`); content consumed before converting, and sales touches before an
opportunity and a win (:mod:`leadjourney.analysis.content`). ``Analysis.campaigns``; the section appears in
the outputs only when some part has data.

>>> c = Campaigns().fit(journeys)                     # doctest: +SKIP
>>> [q.worst_step for q in c.email.nurtures if q.broken]   # doctest: +SKIP
[3]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir

from leadjourney.analysis.content import (
    NO_HUMAN,
    TOUCH_BUCKETS,
    AssetLift,
    SalesTouches,
    content_lift,
    sales_touches,
)
from leadjourney.analysis.email_campaigns import EmailCampaign, EmailEngagement
from leadjourney.analysis.journeys import Journeys
from leadjourney.analysis.marketing import (
    conversion_milestones,
    milestones,
    person_touches,
    selected_mail,
)
from leadjourney.analysis.rates import Transition
from leadjourney.analysis.status import MetricStatus, for_count, withheld
from leadjourney.display import percent
from leadjourney.engine import fetch_rows, fetch_value
from leadjourney.escape import markdown_text as md
from leadjourney.tabular import Tabular

NO_TOUCHES = "no touchpoints loaded"
NO_EMAIL = ("no e-mail touchpoints loaded (kinds such as email_send, email_open, email_click; Marketo's "
            "\"Send Email\", HubSpot's SENT)")
NO_CAMPAIGN = ("no e-mail touchpoint carries a campaign (map a campaign column: Marketo's program, HubSpot's "
               "e-mail campaign)")
NO_ASSET = "no touchpoint carries a consumed asset (map an asset column: the e-mail, form, page or download)"
TOP = 15  # rows shown per table in Markdown (JSON has them all)


@dataclass
class Campaigns(Tabular):
    """E-mail campaigns, nurtures, content and sales touches for one selection (see the module docstring). Its
    table (``to_arrow()`` / ``to_pandas()``) is the e-mail campaigns."""

    table_from = "email_campaigns"

    email: EmailEngagement = field(default_factory=EmailEngagement)
    content: list[AssetLift] = field(default_factory=list)
    content_status: MetricStatus = field(default_factory=lambda: withheld(NO_TOUCHES))
    sales: list[SalesTouches] = field(default_factory=list)
    sales_status: MetricStatus = field(default_factory=lambda: withheld(NO_TOUCHES))

    @property
    def email_campaigns(self) -> list[EmailCampaign]:
        return self.email.campaigns

    @property
    def has_data(self) -> bool:
        return self.email.status.shown or self.content_status.shown or self.sales_status.shown

    @classmethod
    def not_computed(cls, reason: str) -> Campaigns:
        """Every part withheld for ``reason`` (for a caller that does not show them, e.g. the dashboard)."""
        out = cls(content_status=withheld(reason), sales_status=withheld(reason))
        out.email.withhold(reason)
        return out

    def fit(self, journeys: Journeys) -> Campaigns:
        inputs = journeys.inputs
        if inputs is None or not inputs.touchpoints:
            self.email.withhold(NO_TOUCHES)
            return self
        config = journeys.config
        self.email.engaged_by = config.engaged_by
        touches = person_touches(journeys)
        ms = journeys.cached("campaign_milestones", lambda: milestones(journeys))
        if _any(selected_mail(journeys)):
            self.email.fit(journeys, touches, ms)
        else:
            self.email.withhold(NO_CAMPAIGN if _any(touches.filter(touches.event.notnull())) else NO_EMAIL)
        marks = conversion_milestones(config.stage_names)
        min_n = config.min_n
        self.content = content_lift(touches, ms, marks, min_n)  # [] when no touch carries a consumed asset
        self.content_status = (withheld(NO_ASSET) if not self.content
                               else for_count(max(a.converted + a.never for a in self.content), min_n))
        if not _any(touches.filter(touches.actor == "human")):
            self.sales_status = withheld(NO_HUMAN)
            return self
        has_opportunities = bool(fetch_value(journeys.table("opportunities").count()))
        self.sales = sales_touches(touches, ms, min_n, has_opportunities)
        self.sales_status = next((s.status for s in self.sales if s.status.shown), self.sales[0].status)
        return self

    # ------------------------------------------------------------------------------------------ renderers

    def to_dict(self) -> dict[str, Any]:
        return {"email": self.email.to_dict(),
                "content": {**_status(self.content_status), "rows": [a.to_dict() for a in self.content]},
                "sales_touches": {**_status(self.sales_status), "rows": [s.to_dict() for s in self.sales]}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Campaigns:
        content, sales = d.get("content") or {}, d.get("sales_touches") or {}
        return cls(EmailEngagement.from_dict(d.get("email") or {}),
                   [AssetLift.from_dict(r) for r in content.get("rows") or ()], MetricStatus.of(content),
                   [SalesTouches.from_dict(r) for r in sales.get("rows") or ()], MetricStatus.of(sales))

    def to_markdown(self) -> list[str]:
        """The "Campaigns and content" section of the analysis (lines)."""
        lines = ["", "## Campaigns and content", ""]
        e = self.email
        lines += ["### E-mail engagement by campaign (people)", ""]
        lines += _note(e.status)
        if e.campaigns:
            lines += ["| Campaign | E-mailed | Delivered | Opened | Clicked | Unsubscribed | Open rate | Click rate | "
                      "95% interval | Click-to-open | Clicks per e-mail | 95% interval | vs other campaigns |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|"]
            for c in e.campaigns[:TOP]:
                vs = "**clicks less**" if c.weak else (md(c.message_click_rate.status.text()) or (
                    "not significant" if c.p_adjusted is not None else "not tested"))
                lines.append(f"| {md(c.campaign)} | {c.emailed:,} | {c.delivered:,} | {c.opened:,} | {c.clicked:,} | "
                             f"{c.unsubscribed:,} | {percent(c.open_rate.rate)} | {percent(c.click_rate.rate)} | "
                             f"{_ci(c.click_rate)} | {percent(c.click_to_open.rate)} | {percent(c.message_click_rate.rate)} | "
                             f"{_ci(c.message_click_rate)} | {vs} |")
            lines += ["", "People: rates over those delivered to when the campaign has delivery events, else over those "
                      "e-mailed; opened counts a click too. Clicks per e-mail: each person x e-mail of the campaign, "
                      "the measure campaigns are compared on (a person's click rate grows with the e-mails sent). "
                      "Weak: significantly below the other campaigns' (two-proportion z-test, Holm-corrected).", "",
                      f"Downstream conversion of people engaged (by {'a click' if e.engaged_by == 'click' else 'an open or a click'}) "
                      f"within {e.window_days} days of their first e-mail of the campaign vs not, like with like: only "
                      "people not at the milestone by then, converting within the same follow-up after it (the "
                      "milestone's maturity days), and only people e-mailed long enough ago for it. Association, not "
                      "cause (people on their way to buy open more e-mail).", "",
                      "| Campaign | Milestone | Engaged | → rate | 95% interval | Not engaged | → rate | 95% interval | "
                      "Difference (95% interval) | Note |", "|---|---|---:|---:|---|---:|---:|---|---|---|"]
            for c in e.campaigns[:TOP]:
                for v in c.conversion:
                    diff = "-" if v.difference is None else (f"{v.difference * 100:+.1f} pts ({(v.ci_low or 0) * 100:+.1f} "
                                                             f"to {(v.ci_high or 0) * 100:+.1f}); within "
                                                             f"{v.follow_days} days")
                    lines.append(f"| {md(c.campaign)} | {md(v.milestone)} | {v.engaged.entered:,} | {percent(v.engaged.rate)} | "
                                 f"{_ci(v.engaged)} | {v.not_engaged.entered:,} | {percent(v.not_engaged.rate)} | "
                                 f"{_ci(v.not_engaged)} | {diff} | {md(v.status.text())} |")
        lines += ["", "### Nurture sequences (step n: the sequence's n-th distinct e-mail; a resend is no step)", ""]
        lines += _note(e.nurture_status)
        for q in e.nurtures[:TOP]:
            worst = "-" if q.worst_step is None else f"step {q.worst_step}"
            flag = " **(broken: significantly more leave here than at its other steps)**" if q.broken else ""
            lines += [f"**{md(q.campaign)}**: {q.people:,} people; most leave at {worst}{flag}."
                      + (f" {md(q.status.text()).capitalize()}." if q.status.text() else "")
                      + (f" A sequence: {md(q.why)}." if q.why else ""), "",
                      "| Step | Received | In flight | Continued | Left | Leave rate | 95% interval | Unsubscribed |",
                      "|---:|---:|---:|---:|---:|---:|---|---:|"]
            for s in q.steps:
                rate = "(last step)" if s.last else percent(s.leave.rate)
                lines.append(f"| {s.step} | {s.received:,} | {s.in_flight:,} | {s.continued:,} | {s.leave.converted:,} | "
                             f"{rate} | {'-' if s.last else _ci(s.leave)} | {s.unsubscribed:,} |")
            lines.append("")
        if e.not_nurtures:
            lines += ["Not followed as sequences: " + "; ".join(
                f"{md(c)} ({md(why)})" for c, why in list(e.not_nurtures.items())[:TOP]) + ".", ""]
        lines += ["", "### Content consumed before converting vs by those who never converted", ""]
        lines += _note(self.content_status)
        if self.content:
            lines += ["Lift: the share of people reaching the milestone who consumed the asset before, over the share "
                      "of those who never reached it who consumed it (95% Katz interval, Holm-corrected p). "
                      "Association, not cause.", "",
                      "| Milestone | Asset | Converted: consumed before | Never converted: consumed | Lift | 95% interval | "
                      "Note |", "|---|---|---:|---:|---:|---|---|"]
            by: dict[str, list[AssetLift]] = {}
            for a in self.content:
                by.setdefault(a.milestone, []).append(a)
            for rows in by.values():
                for a in rows[:TOP]:
                    note = "**significant**" if a.significant else md(a.status.text())
                    lines.append(f"| {md(a.milestone)} | {md(a.asset)} | {a.converted_consumed:,} of {a.converted:,} "
                                 f"({percent(a.converted_share)}) | {a.never_consumed:,} of {a.never:,} "
                                 f"({percent(a.never_share)}) | {_x(a.lift)} | {_x(a.ci_low)} - {_x(a.ci_high)} | {note} |")
        lines += ["", "### Sales touches (by a person) before an opportunity and before closed-won", ""]
        lines += _note(self.sales_status)
        if any(s.status.shown for s in self.sales):
            lines += ["| Before | People | Median | Mean | p90 | Touches: " + " / ".join(b for b, _ in TOUCH_BUCKETS) +
                      " | Note |", "|---|---:|---:|---:|---:|---|---|"]
            for touch in self.sales:
                dist = " / ".join(f"{touch.distribution.get(b, 0):,}" for b, _ in TOUCH_BUCKETS)
                lines.append(f"| {md(touch.before)} | {touch.people:,} | {_num(touch.median)} | {_num(touch.mean)} | "
                             f"{_num(touch.p90)} | {dist} | {md(touch.status.text())} |")
        return lines

    def headlines(self) -> list[str]:
        """A few lines for the terminal (the tables are in out/analysis.md)."""
        out = []
        weak = [c.campaign for c in self.email.campaigns if c.weak]
        if self.email.campaigns:
            out.append(f"E-mail campaigns: {len(self.email.campaigns):,}"
                       + (f"; clicking significantly less than the others: {', '.join(weak[:4])}" if weak else ""))
        elif not self.email.status.shown:
            out.append(f"E-mail campaigns {self.email.status.text()}.")
        for q in self.email.nurtures:
            if q.broken and q.worst_step is not None:
                step = q.step(q.worst_step)
                rate = "" if step is None else f" ({percent(step.leave.rate)} leave there)"
                out.append(f"Nurture '{q.campaign}' breaks at step {q.worst_step}{rate}.")
        lifted = [a for a in self.content if a.significant and (a.lift or 0) > 1]
        if lifted:
            out.append("Content consumed more by converters: " + "; ".join(
                f"{a.asset} before {a.milestone} {_x(a.lift)}" for a in lifted[:4]))
        for s in self.sales:
            if s.status.shown:
                out.append(f"Sales touches before {s.before}: median {_num(s.median)}, p90 {_num(s.p90)} "
                           f"({s.people:,} people)" + (f"; {s.status.text()}" if s.status.text() else ""))
        return out


def _any(rows: ir.Table) -> bool:
    """Whether ``rows`` has a row (the engine stops at the first: no count over every touch)."""
    return bool(fetch_rows(rows.select(rows.columns[0]).limit(1)))


def _status(status: MetricStatus) -> dict[str, Any]:
    return {"status": status.status.value, "status_reason": status.reason}


def _note(status: MetricStatus) -> list[str]:
    return [f"{status.text().capitalize()}.", ""] if status.text() else []



def _ci(t: Transition) -> str:
    return "-" if t.ci_low is None or t.ci_high is None else f"{t.ci_low:.1%} - {t.ci_high:.1%}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"

