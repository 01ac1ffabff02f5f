"""The dashboard's "Campaigns and landing pages" card: the whole workspace's figures, not the selection's.

Campaigns, nurtures and content are computed by `leadjourney analyze`, not for each dashboard selection
(:data:`~leadjourney.analysis.report.CAMPAIGNS_NOT_PER_SELECTION`), and the web journey only for all leads
(anonymous visitors belong to no selection). So the card shows the newest saved analysis of all leads
(:func:`~leadjourney.analysis.findings.latest_of_all_leads`), says so in its first line, and says when that
analysis is older than the last ingest; without one, it says which command fills it. Each figure is the result's,
with its interval and n, or its status's reason; every value escaped (:func:`figures.html_table`).
"""

from __future__ import annotations

from datetime import datetime

from leadjourney.analysis.rates import Transition
from leadjourney.analysis.report import Analysis
from leadjourney.dashboard.figures import html_table, pct, prose_html
from leadjourney.escape import html_text

TITLE = "Campaigns and landing pages"
TOP = 8  # rows per table
NO_SAVED = ("No saved analysis of all leads yet: run `leadjourney analyze` to fill this card (campaigns, nurtures, "
            "content and landing pages are computed for the whole workspace, not for each selection).")


def scope_line(taken_at: datetime, freshness: datetime | None) -> str:
    """What the card's numbers are: all leads, as of the saved analysis; the filters above do not apply."""
    stale = (" It was computed before the last ingest: run `leadjourney analyze` again for the newest data."
             if freshness is not None and taken_at < freshness else "")
    return (f"Whole workspace (all leads), from `leadjourney analyze` of {taken_at:%Y-%m-%d %H:%M} UTC: the filters "
            f"above do not apply to this card.{stale}")


def card_html(saved: tuple[Analysis, datetime] | None, freshness: datetime | None) -> str:
    """The card's content as one HTML string (its title, scope and tables)."""
    head = f"<h3>{html_text(TITLE)}</h3>"
    if saved is None:
        return f'{head}<p class="scope">{prose_html(NO_SAVED)}</p>'
    a, taken_at = saved
    parts = [head, f'<p class="scope">{prose_html(scope_line(taken_at, freshness))}</p>']
    parts += _landing_pages(a)
    parts += _campaigns(a)
    return "".join(parts)


def _note(text: str) -> str:
    return f'<p class="why">{prose_html(text[:1].upper() + text[1:])}.</p>'


def _rate(t: Transition) -> str:
    """A rate with its 95% interval, or its status's reason where it has no number."""
    if t.rate is None:
        return t.status.text() or "-"
    ci = "" if t.ci_low is None or t.ci_high is None else f" ({pct(t.ci_low)}-{pct(t.ci_high)})"
    return pct(t.rate) + ci


def _judged(flag: bool, flagged: str, t: Transition) -> str:
    return flagged if flag else t.status.text()


def _landing_pages(a: Analysis) -> list[str]:
    web = a.web
    out = ["<h4>Landing pages: visits → form fills → " + html_text(web.mql_stage or "next stage") + "</h4>"]
    if not web.has_data or not web.status.shown:
        return [*out, _note(web.status.text() or "no web sessions loaded")]
    if web.landing_status.text():
        out.append(_note(web.landing_status.text()))
    rows = [[p.page, f"{p.visits:,}", f"{p.to_form.converted:,}", _rate(p.to_form), _rate(p.to_mql),
             _judged(p.worse, "converts worse than the other pages", p.to_form)]
            for p in web.landing_pages[:TOP]]
    out.append(html_table(["landing page", "visits", "form fills", "visit → form (95% CI)",
                           f"form → {web.mql_stage or '-'} (95% CI)", "note"], rows))
    return out


def _campaigns(a: Analysis) -> list[str]:
    c = a.campaigns
    e = c.email
    out = ["<h4>E-mail campaigns (people)</h4>"]
    if not e.status.shown or e.status.text():
        out.append(_note(e.status.text() or "no e-mail campaigns"))
    if e.campaigns:
        rows = [[x.campaign, f"{x.emailed:,}", _rate(x.open_rate), _rate(x.click_rate),
                 _judged(x.weak, "clicks less than the other campaigns", x.message_click_rate)]
                for x in sorted(e.campaigns, key=lambda x: (-x.emailed, x.campaign))[:TOP]]
        out.append(html_table(["campaign", "e-mailed", "open rate (95% CI)", "click rate (95% CI)", "note"], rows))
    out.append("<h4>Nurture sequences: the step where most leave</h4>")
    if e.nurture_status.text() or not e.status.shown:
        out.append(_note(e.nurture_status.text() if e.status.shown else e.status.text() or "no nurtures"))
    if e.nurtures:
        rows = []
        for q in sorted(e.nurtures, key=lambda q: (not q.broken, -q.people, q.campaign))[:TOP]:
            step = q.step(q.worst_step) if q.worst_step is not None else None
            rows.append([q.campaign, f"{q.people:,}", "-" if q.worst_step is None else f"step {q.worst_step}",
                         "-" if step is None else _rate(step.leave),
                         "; ".join(x for x in (f"broken at step {q.worst_step}" if q.broken else q.status.text(),
                                               f"a sequence: {q.why}" if q.why else "") if x)])
        out.append(html_table(["nurture", "people", "most leave at", "leave rate (95% CI)", "note"], rows))
    out.append("<h4>Content consumed before converting (lift over those who never did; association, not cause)</h4>")
    if c.content_status.text():
        out.append(_note(c.content_status.text()))
    if c.content:
        rows = [[x.asset, x.milestone, f"{x.converted_consumed:,} of {x.converted:,}",
                 "-" if x.lift is None else f"{x.lift:.2f}x" + (
                     "" if x.ci_low is None or x.ci_high is None else f" ({x.ci_low:.2f}x-{x.ci_high:.2f}x)"),
                 "significant" if x.significant else x.status.text()]
                for x in c.content[:TOP]]
        out.append(html_table(["asset", "before", "converters who consumed it", "lift (95% CI)", "note"], rows))
    return out
