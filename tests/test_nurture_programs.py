"""Which campaigns are nurture sequences, from a Marketo activity log shaped like the real export.

``marketo_activities.csv`` (``Lead ID``, ``Activity Date``, ``Activity Type`` spelled as Marketo does, ``Detail``
the e-mail as Marketo names a program's local asset, "Program.E-mail", ``Program Name``) holds four programs:

* "2024 Onboarding Nurture": four e-mails, each five days after the last at the person's own pace; the
  "Welcome" e-mail is resent to those who did not open it two days later (a resend, not a step); 5% leave after
  steps 1 and 3, 40% after step 2;
* "Q3 Product Launch": one announcement, resent to the non-openers three days later: a one-off blast;
* "Webinar Invite": an invitation and its reminder a week later, at each person's pace: two e-mails;
* "Monthly Newsletter": three issues, each sent to everyone on one day: a broadcast.

Only the onboarding nurture is a sequence (four steps, the resend none of them) until the config names
"Webinar Invite" as one.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import journeys_with, set_option
from leadjourney.analysis.campaigns import Campaigns
from leadjourney.analysis.nurture_programs import DECLARED
from leadjourney.analysis.report import analyze
from leadjourney.analysis.touchpoints import TouchpointInventory
from leadjourney.ingest import ingest
from leadjourney.reports.recommendations import recommend
from leadjourney.workspace import Workspace

N = 400
START = datetime(2024, 1, 1, 9, 0)
NURTURE, BLAST, INVITE, NEWSLETTER = ("2024 Onboarding Nurture", "Q3 Product Launch", "Webinar Invite",
                                      "Monthly Newsletter")
STEPS = ("Welcome", "Setup tips", "Case study", "Book a demo")
LEAVE = (0.05, 0.40, 0.05)  # after steps 1..3
ISSUES = (datetime(2024, 2, 6, 10), datetime(2024, 3, 5, 10), datetime(2024, 4, 2, 10))


def _scenario(root: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    leads, events, acts = [], [], []

    def mail(lid: str, program: str, email: str, at: datetime) -> bool:
        """Send Email, Email Delivered and maybe Open Email / Click Email; whether it was opened."""
        detail = f"{program}.{email}"
        acts.append([lid, at.strftime("%Y-%m-%d %H:%M:%S"), "Send Email", detail, program])
        acts.append([lid, (at + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"), "Email Delivered", detail,
                     program])
        opened = rng.random() < 0.4
        if opened:
            acts.append([lid, (at + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S"), "Open Email", detail, program])
            if rng.random() < 0.3:
                acts.append([lid, (at + timedelta(hours=3, minutes=2)).strftime("%Y-%m-%d %H:%M:%S"), "Click Email",
                             detail, program])
        return opened

    for i in range(N):
        lid = str(5000 + i)
        created = START + timedelta(days=rng.randrange(0, 30), minutes=rng.randrange(0, 600))
        leads.append([lid, created.strftime("%Y-%m-%d %H:%M:%S"), "Organic Search"])
        events.append([lid, "Lead", created.strftime("%Y-%m-%d %H:%M:%S")])
        if rng.random() < 0.5:  # whatever they open: engaging is planted to change nothing
            mql = created + timedelta(days=rng.uniform(1.5, 25))
            events.append([lid, "MQL", mql.strftime("%Y-%m-%d %H:%M:%S")])
        for step, email in enumerate(STEPS, start=1):
            at = created + timedelta(days=1 + 5 * (step - 1), hours=rng.randrange(0, 6))
            opened = mail(lid, NURTURE, email, at)
            if step == 1 and not opened:
                mail(lid, NURTURE, email, at + timedelta(days=2))  # the resend to non-openers
            if step <= len(LEAVE) and rng.random() < LEAVE[step - 1]:
                if rng.random() < 0.3:
                    acts.append([lid, (at + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M:%S"), "Unsubscribe Email",
                                 f"{NURTURE}.{email}", NURTURE])
                break
        if i % 2 and not mail(lid, BLAST, "Announcement", START + timedelta(days=45, hours=i % 5)):
            mail(lid, BLAST, "Announcement", START + timedelta(days=48, hours=i % 5))
        if i % 3 == 0:
            mail(lid, INVITE, "Invitation", created + timedelta(days=2))
            mail(lid, INVITE, "Reminder", created + timedelta(days=9))
        for issue, when in zip(("January", "February", "March"), ISSUES, strict=True):
            if when > created:
                mail(lid, NEWSLETTER, issue, when + timedelta(minutes=i % 50))
    for name, header, rows in (("leads.csv", ["lead_id", "created_at", "source"], leads),
                               ("stage_events.csv", ["lead_id", "stage", "entered_at"], events),
                               ("marketo_activities.csv", ["Lead ID", "Activity Date", "Activity Type", "Detail",
                                                           "Program Name"], acts)):
        with (root / name).open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)


SOURCES: list[dict[str, Any]] = [
    {"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads"},
    {"name": "stages", "path": "stage_events.csv", "format": "csv", "table": "stage_events"},
    {"name": "marketo", "path": "marketo_activities.csv", "format": "csv", "table": "touchpoints",
     "columns": {"lead_id": "Lead ID", "occurred_at": "Activity Date", "kind": "Activity Type", "asset": "Detail",
                 "campaign": "Program Name", "channel": {"value": "email"}}},
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("nurture_programs")
    _scenario(root)
    ws = Workspace.init(root)
    ws.set_sources(SOURCES)
    ingest(Workspace.open(root))
    return Workspace.open(root)


def _campaigns(ws: Workspace) -> Campaigns:
    with journeys_with(ws) as journeys:
        return Campaigns().fit(journeys)


def test_only_the_ordered_distinct_emails_make_a_nurture_and_a_resend_is_no_step(ws: Workspace) -> None:
    e = _campaigns(ws).email
    assert [q.campaign for q in e.nurtures] == [NURTURE]
    q = e.nurtures[0]
    assert [s.step for s in q.steps] == [1, 2, 3, 4]  # the Welcome resend is not a step
    assert q.people == N and q.steps[0].received == N
    assert "4 distinct e-mails, received in the same order by 100%" in q.why
    assert q.worst_step == 2 and q.broken
    two = q.step(2)
    assert two is not None and two.leave.ci_low is not None and two.leave.ci_high is not None
    assert two.leave.ci_low <= LEAVE[1] <= two.leave.ci_high
    assert sum(s.unsubscribed for s in q.steps) > 0
    assert set(e.not_nurtures) == {BLAST, INVITE, NEWSLETTER}
    assert e.not_nurtures[BLAST].startswith("1 distinct e-mail:")
    assert e.not_nurtures[INVITE].startswith("2 distinct e-mails:")
    assert "broadcast" in e.not_nurtures[NEWSLETTER]


def test_the_inventory_and_the_markdown_read_the_same_decision(ws: Workspace) -> None:
    with journeys_with(ws) as journeys:
        inventory = TouchpointInventory().fit(journeys)
    kinds = {r.item: r.kind for r in inventory.items if r.kind in ("nurture", "campaign")}
    assert kinds == {NURTURE: "nurture", BLAST: "campaign", INVITE: "campaign", NEWSLETTER: "campaign"}
    c = _campaigns(ws)
    md = "\n".join(c.to_markdown())
    assert "A sequence: 4 distinct e-mails" in md and "Not followed as sequences: Monthly Newsletter" in md


def test_a_program_named_in_the_config_is_a_nurture(ws: Workspace) -> None:
    ws = set_option(ws, "nurture_programs = []", f'nurture_programs = ["{INVITE}"]')
    try:
        e = _campaigns(ws).email
    finally:
        set_option(ws, f'nurture_programs = ["{INVITE}"]', "nurture_programs = []")
    seqs = {q.campaign: q for q in e.nurtures}
    assert set(seqs) == {NURTURE, INVITE}
    assert seqs[INVITE].why == DECLARED and [s.step for s in seqs[INVITE].steps] == [1, 2]
    assert INVITE not in e.not_nurtures


def test_engaged_vs_not_compares_like_with_like(ws: Workspace) -> None:
    """Opening changes nothing here, but people reaching MQL days after their first e-mail had little time to
    open one before: counted "not engaged", they made engaging look harmful. Compared after the same window
    and followed alike, the difference is the planted none."""
    c = {x.campaign: x for x in _campaigns(ws).email.campaigns}
    mql = next(v for v in c[NURTURE].conversion if v.milestone == "MQL")
    assert mql.status.judged and mql.window_days == 7 and mql.follow_days >= 28
    assert mql.ci_low is not None and mql.ci_high is not None and mql.ci_low <= 0.0 <= mql.ci_high
    # only people not at MQL a week after their first e-mail are compared
    assert 0 < mql.engaged.entered + mql.not_engaged.entered < N


def test_the_recommendation_says_why_it_is_a_sequence(ws: Workspace) -> None:
    recs = recommend(analyze(ws))
    step = next(r for r in recs.items if r.id == f"nurture_step:{NURTURE}")
    assert "step 2" in step.title and "a sequence: 4 distinct e-mails" in step.why[0]
    assert not any(r.id.startswith("nurture_step:") and r.id != step.id for r in recs.items)
