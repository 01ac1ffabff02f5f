"""The web and campaign touchpoints the map shows in its first two stages' lanes, copied from the analysis.

Awareness (the first stage's column): the top landing pages (visit -> form fill) and the top e-mail campaigns
(click rate); Consideration (the second stage's, MQL): the content assets consumed before it (lift over those who
never reached it) and the nurture sequences (leave rate at the step where most leave). Each figure comes from
:attr:`Analysis.web` / :attr:`Analysis.campaigns` as computed there, with its status: a part withheld (no data of
that kind, a selection the web journey is not computed for; no web sessions beside campaign data) is one point
carrying the reason. Nothing appears for a workspace without web sessions or campaign data.
"""

from __future__ import annotations

from leadjourney.analysis.report import Analysis
from leadjourney.analysis.status import MetricStatus, withheld
from leadjourney.analysis.web import NO_WEB
from leadjourney.config import Config
from leadjourney.journeymap.model import MarketingPoint

TOP = 3  # points per kind


def marketing_points(analysis: Analysis, config: Config) -> tuple[MarketingPoint, ...]:
    """The points of ``analysis`` (see the module docstring); () without web or campaign data."""
    stages = [s.stage for s in analysis.funnel.stages]
    if not stages:
        return ()
    lane_of = {s.name: s.lane for s in config.stages}
    first, second = stages[0], stages[1] if len(stages) > 1 else stages[0]
    out: list[MarketingPoint] = []

    def reason(stage: str, kind: str, name: str, status: MetricStatus) -> None:
        out.append(MarketingPoint(stage, lane_of.get(stage, ""), kind, name, "", None, 0, "", status=status))

    web = analysis.web
    if web.has_data:
        if not web.status.shown:
            reason(first, "landing page", "Landing pages", web.status)
        elif not web.landing_pages:
            reason(first, "landing page", "Landing pages", web.landing_status)
        # what the analysis flagged first (a VP must see the weak page), then the busiest
        for p in sorted(web.landing_pages, key=lambda x: not x.worse)[:TOP] if web.status.shown else ():
            t = p.to_form
            out.append(MarketingPoint(first, lane_of.get(first, ""), "landing page", p.page, "visit to form fill",
                                      t.rate, t.entered, "visits", t.ci_low, t.ci_high,
                                      flag="converts worse than the other pages" if p.worse else None,
                                      status=t.status))
    c = analysis.campaigns
    if not c.has_data:
        return tuple(out)
    if not web.has_data:  # campaigns without web sessions: the landing pages' place says what is missing
        out.insert(0, MarketingPoint(first, lane_of.get(first, ""), "landing page", "Landing pages", "", None, 0, "",
                                     status=withheld(NO_WEB)))
    e = c.email
    if not e.status.shown:
        reason(first, "e-mail campaign", "E-mail campaigns", e.status)
    for camp in sorted(e.campaigns, key=lambda x: (not x.weak, -x.emailed, x.campaign))[:TOP]:
        t = camp.click_rate
        out.append(MarketingPoint(first, lane_of.get(first, ""), "e-mail campaign", camp.campaign, "click rate",
                                  t.rate, t.entered, "people", t.ci_low, t.ci_high,
                                  flag="clicks less than the other campaigns" if camp.weak else None, status=t.status))
    milestone = c.content[0].milestone if c.content else None
    if not c.content_status.shown:
        reason(second, "content", "Content assets", c.content_status)
    for a in sorted([a for a in c.content if a.milestone == milestone], key=lambda x: not x.significant)[:TOP]:
        flag = ("consumed more by converters" if a.significant and (a.lift or 0) > 1
                else "consumed less by converters" if a.significant else None)
        out.append(MarketingPoint(second, lane_of.get(second, ""), "content", a.asset, f"lift before {a.milestone}",
                                  a.lift, a.converted + a.never, "people", a.ci_low, a.ci_high, lift=True, flag=flag,
                                  status=a.status))
    if e.status.shown and not e.nurture_status.shown:
        reason(second, "nurture", "Nurture sequences", e.nurture_status)
    for q in sorted(e.nurtures, key=lambda x: (not x.broken, -x.people, x.campaign))[:TOP]:
        step = q.step(q.worst_step) if q.worst_step is not None else None
        if step is None:
            reason(second, "nurture", q.campaign, q.status if not q.status.judged else withheld("no step judged yet"))
            continue
        t = step.leave
        out.append(MarketingPoint(second, lane_of.get(second, ""), "nurture", q.campaign,
                                  f"leave at step {q.worst_step}", t.rate, t.entered, "people", t.ci_low, t.ci_high,
                                  flag=f"broken at step {q.worst_step}" if q.broken else None,
                                  status=q.status if not q.status.judged else t.status, why=q.why))
    return tuple(out)
