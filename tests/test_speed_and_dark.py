"""Speed-to-lead and dark leads: a hand-made workspace, and the generator's planted journeys."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import SharedGenerated, csv_workspace
from leadjourney.analysis.dark_leads import DarkLeads
from leadjourney.analysis.journeys import Filters, Journeys, open_journeys
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.stats import wilson_interval
from leadjourney.generate import Dirt
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)

# ------------------------------------------------------------------ hand-made workspace

# A and A2 are one person (same e-mail; A is the earlier record). C and D come from paid search.
LEADS = """lead_id,created_at,source,status,email
A,2026-01-01T00:00:00Z,seo,open,a@example.com
A2,2026-01-02T08:00:00Z,seo,open,A@Example.com
B,2026-01-01T00:00:00Z,seo,open,b@example.com
C,2026-01-01T00:00:00Z,paid search,open,c@example.com
D,2026-01-01T00:00:00Z,paid search,open,d@example.com
E,2026-01-01T00:00:00Z,seo,disqualified,e@example.com
F,2026-01-01T00:00:00Z,seo,open,f@example.com
G,2026-01-01T00:00:00Z,seo,converted,g@example.com
"""
EVENTS = """lead_id,stage,entered_at
A,MQL,2026-01-02T09:00:00Z
A,SQL,2026-03-20T00:00:00Z
B,MQL,2026-01-10T12:00:00Z
C,MQL,2026-02-01T00:00:00Z
D,MQL,2026-03-30T00:00:00Z
E,MQL,2026-01-05T00:00:00Z
G,MQL,2026-01-03T00:00:00Z
G,SQL,2026-01-04T00:00:00Z
G,Opportunity,2026-01-05T00:00:00Z
G,Customer,2026-01-06T00:00:00Z
"""
# A: first human touch 2 min after MQL, on the merged record A2 (A's own call is at 30 min);
#    silent 2026-01-10 -> 2026-03-15 (64 d), re-engaged by A2's webinar, then SQL on 2026-03-20.
# B: a human call at the very instant of the MQL entry (tie: 0 min), silent since -> dark.
# C: never contacted (MQL two months before as-of), dark.  D: MQL 2 days before as-of: too recent.
# E: contacted after 26 h, then disqualified (not open: never dark).  F: no MQL; silent 45 d, then two
#    touches in the same second (re-engaged by the alphabetically first kind), silent 45 d again.
# G: contacted after exactly 60 min; converted.  As-of = F's last touch, 2026-04-01 00:00.
TOUCHES = """lead_id,occurred_at,kind,actor
A,2026-01-01T10:00:00Z,form_fill,automated
A2,2026-01-02T09:02:00Z,sales_email,human
A,2026-01-02T09:30:00Z,call,human
A,2026-01-10T00:00:00Z,page_view,automated
A2,2026-03-15T00:00:00Z,webinar,automated
B,2026-01-10T11:00:00Z,form_fill,automated
B,2026-01-10T12:00:00Z,email_open,automated
B,2026-01-10T12:00:00Z,call,human
C,2026-02-01T00:00:00Z,form_fill,automated
D,2026-03-30T00:00:00Z,form_fill,automated
E,2026-01-04T00:00:00Z,form_fill,automated
E,2026-01-06T02:00:00Z,call,human
F,2026-01-01T00:00:00Z,page_view,automated
F,2026-02-15T00:00:00Z,email_click,automated
F,2026-02-15T00:00:00Z,content_download,automated
F,2026-04-01T00:00:00Z,page_view,automated
G,2026-01-03T01:00:00Z,call,human
"""
AS_OF = datetime(2026, 4, 1)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return csv_workspace(tmp_path_factory.mktemp("small") / "ws", leads=LEADS, stage_events=EVENTS,
                         touchpoints=TOUCHES)



@pytest.fixture(scope="module")
def small_journeys(small: Workspace) -> Iterator[Journeys]:
    with open_journeys(small, now=NOW) as journeys:
        yield journeys


def test_speed_to_lead_by_hand(small_journeys: Journeys) -> None:
    s = SpeedToLead().fit(small_journeys)
    assert s.signal == "mql" and s.signal_stage == "MQL" and s.as_of == AS_OF
    # signals: A, B, C, D, E, G; contacted after A 2 min (merged record), B 0 (tie), E 1560, G 60
    assert (s.n, s.n_contacted, s.n_never_contacted, s.n_too_recent, s.n_judged) == (6, 4, 1, 1, 5)
    assert s.mean_minutes == pytest.approx((0 + 2 + 60 + 1560) / 4)
    assert s.median_minutes == pytest.approx(31.0)
    assert s.p90_minutes == pytest.approx(60 + 0.7 * 1500)  # linear interpolation, as numpy's default
    assert s.judged_after_days == 7.0  # p95 (1335 min) is shorter than the minimum window
    assert (s.n_within_5_min, s.n_within_1_hour) == (2, 3)  # bounds inclusive: G's 60 min is within the hour
    assert s.share_within_5_min == pytest.approx(0.4) and s.within_5_min_ci == pytest.approx(wilson_interval(2, 5))
    assert s.share_within_1_hour == pytest.approx(0.6)
    assert s.never_contacted_share == pytest.approx(0.2)
    assert s.never_contacted_ci == pytest.approx(wilson_interval(1, 5))
    counts = {row["bucket"]: row["count"] for row in s.distribution}
    assert counts == {"<=5 min": 2, "5-60 min": 1, "1-24 h": 0, "1-7 d": 1, ">7 d": 0, "never": 1,
                      "too recent to judge": 1}
    assert s.caveat() is None


def test_speed_to_lead_from_form_fill(small_journeys: Journeys) -> None:
    s = SpeedToLead(signal="form_fill").fit(small_journeys)
    # form fills: A 01-01 10:00 (-> A2's sales e-mail 23 h 02 min later), B (-> 60 min), C never, D too recent,
    # E (-> 50 h); F and G never filled a form: no signal
    assert (s.n, s.n_contacted, s.n_never_contacted, s.n_too_recent) == (5, 3, 1, 1)
    assert s.signal_stage is None
    assert s.median_minutes == pytest.approx(23 * 60 + 2)
    assert s.mean_minutes == pytest.approx((60 + 1382 + 3000) / 3)


def test_speed_to_lead_when_nobody_was_contacted(small: Workspace) -> None:
    with open_journeys(small, Filters(sources=("paid_search",)), NOW) as journeys:
        s = SpeedToLead().fit(journeys)
    assert (s.n, s.n_contacted, s.n_never_contacted, s.n_too_recent, s.n_judged) == (2, 0, 1, 1, 1)
    assert s.median_minutes is None and s.mean_minutes is None and s.p90_minutes is None
    assert s.never_contacted_share == 1.0 and s.share_within_5_min == 0.0
    assert s.caveat() is not None and "human" in s.caveat()  # type: ignore[operator]
    with open_journeys(small, Filters(date_from=date(2027, 1, 1)), NOW) as journeys:
        empty = SpeedToLead().fit(journeys)
    assert empty.n == 0 and empty.never_contacted_share is None and empty.never_contacted_ci is None
    json.dumps(empty.to_dict())


def test_dark_leads_by_hand(small_journeys: Journeys) -> None:
    d = DarkLeads().fit(small_journeys)
    assert d.dark_after_days == 30 and d.as_of == AS_OF
    # open: A (merged with A2), B, C, D, F; E is disqualified and G converted
    assert (d.n_open, d.n_dark) == (5, 2)  # B and C
    assert d.dark_share == pytest.approx(0.4) and d.dark_ci == pytest.approx(wilson_interval(2, 5))
    assert d.by_stage == {"Lead": 0, "MQL": 2, "SQL": 0, "Opportunity": 0, "Customer": 0}
    assert d.median_days_silent == pytest.approx((80.5 + 59.0) / 2)
    # A re-engaged by the webinar on its merged record, then SQL; F by the first kind of its tie
    assert d.n_re_engaged == 2
    assert d.re_engaged_by == {"content_download": 1, "webinar": 1}
    # where they were when they came back: A had entered MQL (2026-01-02), F only Lead
    assert d.re_engaged_by_stage == {"Lead": 1, "MQL": 1, "SQL": 0, "Opportunity": 0, "Customer": 0}
    assert d.n_re_engaged_then_advanced == 1
    assert d.n_still_dark_after_re_engaging == 0


def test_dark_threshold_is_an_option(small_journeys: Journeys) -> None:
    d = DarkLeads(dark_after_days=60).fit(small_journeys)
    # B silent 80.5 d and C 59 d; A's 64-day silence and F's two 45-day ones: only A's counts
    assert (d.n_dark, d.by_stage["MQL"]) == (1, 1)
    assert d.n_re_engaged == 1 and d.re_engaged_by == {"webinar": 1}


def test_to_dict_keys(small_journeys: Journeys) -> None:
    speed = json.loads(json.dumps(SpeedToLead().fit(small_journeys).to_dict()))
    assert set(speed) == {
        "signal", "signal_stage", "as_of", "n", "n_contacted", "n_judged", "n_too_recent", "judged_after_days",
        "never_contacted", "mean_minutes", "median_minutes", "p90_minutes", "p95_minutes", "within_5_min",
        "within_1_hour", "distribution", "benchmarks", "caveat", "status", "status_reason",
    }
    assert set(speed["never_contacted"]) == {"count", "share", "ci"}
    assert speed["benchmarks"]["optimal_minutes"] == 5 and speed["benchmarks"]["average_b2b_hours"] == 42
    assert "Chili Piper" in speed["benchmarks"]["average_b2b_source"]
    assert "Workato" in speed["benchmarks"]["share_ever_contacted_source"]
    dark = json.loads(json.dumps(DarkLeads().fit(small_journeys).to_dict()))
    assert set(dark) == {"as_of", "dark_after_days", "n_open", "dark", "median_days_silent", "by_stage", "re_engaged",
                         "status", "status_reason"}
    assert set(dark["re_engaged"]) == {"count", "by_kind", "by_stage", "then_advanced", "dark_again"}


def test_unknown_signal_is_refused() -> None:
    with pytest.raises(ValueError, match="form_fill"):
        SpeedToLead(signal="first_visit")


# ------------------------------------------------------------------ the generator's truth


@pytest.fixture(scope="module")
def clean(shared_generated: SharedGenerated) -> tuple[Workspace, dict[str, Any], dict[str, Any]]:
    ws, data = shared_generated(n_leads=8000, seed=5, end=date(2026, 6, 30), days=150, dirt=Dirt.none())
    truth = json.loads(data.ground_truth_path.read_text())["realized"]
    leads = pq.read_table(data.out_dir / "ground_truth_leads.parquet").to_pydict()
    return ws, truth, leads


@pytest.fixture(scope="module")
def clean_journeys(clean: tuple[Workspace, dict[str, Any], dict[str, Any]]) -> Iterator[Journeys]:
    with open_journeys(clean[0], now=NOW) as journeys:
        yield journeys


def _seconds(values: list[datetime | None]) -> np.ndarray:
    """Seconds since the epoch of the truth file's instants (UTC), NaN where there is none."""
    return np.array([_naive_seconds(v.replace(tzinfo=None)) if v is not None else np.nan for v in values])


def _naive_seconds(moment: datetime) -> float:
    """Seconds since the epoch of a naive UTC datetime."""
    return (moment - datetime(1970, 1, 1)).total_seconds()


def test_speed_to_lead_equals_the_planted_response_times(clean, clean_journeys: Journeys) -> None:  # type: ignore[no-untyped-def]
    _, truth, t = clean
    s = SpeedToLead().fit(clean_journeys)
    planted = truth["speed_to_lead"]
    assert (s.n, s.n_contacted, s.n_within_5_min) == (planted["mqls"], planted["contacted"], planted["within_5_min"])
    assert s.n_never_contacted + s.n_too_recent == planted["never_contacted"]
    assert s.median_minutes == pytest.approx(planted["median_hours"] * 60, abs=1e-3)

    mql, human = _seconds(t["mql_at"]), _seconds(t["first_human_touch_at"])
    done = ~np.isnan(human)
    minutes = (human[done] - mql[done]) / 60
    assert s.mean_minutes == pytest.approx(float(minutes.mean()), rel=1e-9)
    assert s.median_minutes == pytest.approx(float(np.median(minutes)), rel=1e-9)
    assert s.p90_minutes == pytest.approx(float(np.quantile(minutes, 0.9)), rel=1e-9)
    assert s.n_within_1_hour == int((minutes <= 60).sum())
    window = max(7.0, float(np.quantile(minutes, 0.95)) / 1440)
    assert s.judged_after_days == pytest.approx(window)
    never = np.array(t["never_contacted"])
    cutoff_s = _naive_seconds(s.as_of - timedelta(days=window))  # type: ignore[operator]
    old_never = never & (mql <= cutoff_s)
    assert s.n_never_contacted == int(old_never.sum())
    judged = int((done | old_never).sum())  # the too-recent ones aside
    assert s.n_judged == judged
    assert s.never_contacted_share == pytest.approx(old_never.sum() / judged)
    assert s.never_contacted_ci == pytest.approx(wilson_interval(int(old_never.sum()), judged))
    assert s.share_within_5_min == pytest.approx(planted["within_5_min"] / judged)


def test_speed_to_lead_from_form_fill_on_generated_data(clean, clean_journeys: Journeys) -> None:  # type: ignore[no-untyped-def]
    _, truth, t = clean
    s = SpeedToLead(signal="form_fill").fit(clean_journeys)
    created, human = _seconds(t["created_at"]), _seconds(t["first_human_touch_at"])
    done = ~np.isnan(human)
    assert s.n == truth["leads"]  # every lead fills a form when it is created
    assert s.n_contacted == truth["speed_to_lead"]["contacted"]
    assert s.median_minutes == pytest.approx(float(np.median((human[done] - created[done]) / 60)), rel=1e-9)


def test_dark_leads_equal_the_planted_silences(clean, clean_journeys: Journeys) -> None:  # type: ignore[no-untyped-def]
    _, truth, t = clean
    d = DarkLeads().fit(clean_journeys)
    planted = truth["dark"]
    went_dark, back = _seconds(t["went_dark_at"]), _seconds(t["re_engaged_at"])
    status, furthest = np.array(t["status"]), np.array(t["furthest_stage"])
    open_ = (status == "open") & (furthest != "Customer")
    assert d.n_open == int(open_.sum())
    cutoff = _naive_seconds(d.as_of - timedelta(days=30))  # type: ignore[operator]
    dark = open_ & ~np.isnan(went_dark) & np.isnan(back) & (went_dark <= cutoff)
    assert d.n_dark == int(dark.sum())
    assert d.n_dark <= planted["still_dark"]
    assert d.by_stage == {s: int((dark & (furthest == s)).sum()) for s in ("Lead", "MQL", "SQL", "Opportunity",
                                                                          "Customer")}
    assert d.dark_ci is not None and d.dark_ci[0] <= d.n_dark / d.n_open <= d.dark_ci[1]
    # re-engagement: every planted return, by the planted kind; advanced when a stage came after it
    assert d.n_re_engaged == planted["re_engaged"]
    assert d.re_engaged_by == dict(Counter(k for k in t["re_engaged_by"] if k is not None))
    assert d.n_re_engaged_then_advanced == planted["re_engaged_then_advanced"]
    stages = np.column_stack([_seconds(t[c]) for c in ("lead_at", "mql_at", "sql_at", "opportunity_at",
                                                       "customer_at")])
    latest = np.nanmax(stages, axis=1)
    assert d.n_re_engaged_then_advanced == int((~np.isnan(back) & (back < latest)).sum())
    assert d.n_still_dark_after_re_engaging == 0  # the generator plants one silence per lead
