"""The derived person_engagement table: equal to a computation by hand, rebuilt on change, used only
where it applies (the as-of date after every touch, the configured signal stage and silence), and
giving the same analysis as the live computation, for everyone and for a selection."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from conftest import (
    SharedGenerated,
    analyses_without_derived_table,
    analysis_with,
    copy_workspace,
    fetch,
    journeys_with,
    same_numbers,
    set_option,
)
from leadjourney.analysis import Filters, analyze, open_journeys
from leadjourney.engine import fetch_value
from leadjourney.ingest import ingest, person_engagement
from leadjourney.ingest.person_engagement import (
    FINGERPRINT_KEY,
    TABLE,
    Parameters,
    refresh_engagement_columns,
    refresh_person_engagement,
)
from leadjourney.ingest.person_journeys import TABLE as JOURNEYS
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)
DAYS = 30  # the default [analysis] dark_after_days
MQL = 1  # the signal stage's index among the default stages
COLUMNS = ("last_touch_at", "first_form_fill_at", "first_human_after_form_at", "first_human_after_stage_at",
           "re_at", "re_kind")


@pytest.fixture(scope="module")
def ws(shared_generated: SharedGenerated, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A copy of the run's shared 3,000-lead set (default dirt): these tests ingest again and edit the config."""
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)
    return copy_workspace(shared, tmp_path_factory.mktemp("engagement") / "ws")


def _by_hand(ws: Workspace) -> dict[int, tuple[Any, ...]]:
    """Per person_key, the table's columns computed in Python over the raw touches and stage entries."""
    touches: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    people = dict(fetch(ws, f"SELECT person_key, at_{MQL} FROM person_journeys"))
    keys = dict(fetch(ws, "SELECT person_id, person_key FROM person_journeys"))
    raw = fetch(ws, "SELECT l.person_id, t.occurred_at, t.kind, t.actor FROM touchpoints t JOIN leads l USING (lead_id)")
    for person, at, kind, actor in raw:
        if person in keys:
            touches[keys[person]].append((at, kind, actor))
    out = {}
    for key, stage_at in people.items():
        own = sorted(touches.get(key, []), key=lambda t: (t[0], t[1]))
        fills = [at for at, kind, _ in own if kind == "form_fill"]
        form = min(fills) if fills else None
        human = [at for at, _, actor in own if actor == "human"]
        after_form = min((at for at in human if form is not None and at >= form), default=None)
        after_stage = min((at for at in human if stage_at is not None and at >= stage_at), default=None)
        back = next(((b[0], b[1]) for a, b in pairwise(own)
                     if b[0] - a[0] >= timedelta(days=DAYS)), (None, None))
        out[key] = (own[-1][0] if own else None, form, after_form, after_stage, *back)
    return out


def test_the_table_equals_a_computation_by_hand(ws: Workspace) -> None:
    stored = {r[0]: tuple(r[1:]) for r in fetch(ws, f"SELECT person_key, {', '.join(COLUMNS)} FROM {TABLE}")}
    expected = _by_hand(ws)
    assert stored == expected
    for i, column in enumerate(COLUMNS):  # every column has values, and not everyone has one
        filled = sum(1 for row in expected.values() if row[i] is not None)
        assert filled > 0, column
    assert sum(1 for row in expected.values() if row[4] is not None) < len(expected)


def test_rebuilt_only_when_its_inputs_or_parameters_change(ws: Workspace) -> None:
    stamp = fetch(ws, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY])
    ingest(ws)  # nothing changed: no rebuild
    assert fetch(ws, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY]) == stamp
    stages = ws.config.stage_names
    with ws.connect() as con:
        assert refresh_person_engagement(con, Parameters.of(stages, DAYS)) is False
        assert refresh_person_engagement(con, Parameters.of(stages, 10)) is True  # another silence
        assert refresh_person_engagement(con, Parameters.of(stages, DAYS)) is True
    assert fetch(ws, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY]) == stamp


def test_person_journeys_carries_the_tables_columns_rebuilt_with_it(ws: Workspace) -> None:
    select = f"SELECT person_key, {', '.join(COLUMNS)} FROM {{}} ORDER BY person_key"
    assert fetch(ws, select.format(JOURNEYS)) == fetch(ws, select.format(TABLE))
    stages = ws.config.stage_names
    with ws.connect() as con:
        assert refresh_engagement_columns(con) is False  # nothing changed
        assert refresh_person_engagement(con, Parameters.of(stages, 10)) is True
        assert refresh_engagement_columns(con) is True  # the other silence's values
    assert fetch(ws, select.format(JOURNEYS)) == fetch(ws, select.format(TABLE))
    with ws.connect() as con:
        assert refresh_person_engagement(con, Parameters.of(stages, DAYS)) is True
        assert refresh_engagement_columns(con) is True
    assert fetch(ws, select.format(JOURNEYS)) == fetch(ws, select.format(TABLE))
    columns = [r[0] for r in fetch(ws, f"DESCRIBE {JOURNEYS}")]
    assert sorted(set(columns)) == sorted(columns)  # replaced, not added twice


@pytest.mark.parametrize("filters", [None, Filters(sources=("seo",)), Filters(date_from=date(2026, 3, 1))],
                         ids=["everyone", "copy", "view"])
def test_the_columns_in_person_journeys_give_the_joined_analysis(ws: Workspace, filters: Filters | None) -> None:
    with open_journeys(ws, filters, NOW) as journeys:
        assert journeys.engagement_in_people(journeys.as_of(), DAYS)
    before = analyze(ws, filters=filters, now=NOW).to_dict()
    with journeys_with(ws, filters, NOW, engagement_from="table") as journeys:  # read from the separate table
        assert not journeys.engagement_in_people(journeys.as_of(), DAYS)
        assert journeys._stored_engagement_serves(journeys.as_of(), DAYS)
    after = analysis_with(ws, filters, NOW, engagement_from="table")
    assert before["speed_to_lead"]["n_contacted"] > 0 and before["dark_leads"]["re_engaged"]["count"] > 0
    for key in ("speed_to_lead", "dark_leads", "friction"):
        assert same_numbers(after[key], before[key]), key


def _computed_live(ws: Workspace, now: datetime, filters: Filters | None = None, days: int = DAYS) -> bool:
    """Whether a run computes the engagement columns from the touches instead of reading the table."""
    calls = []
    live = person_engagement.person_engagement

    def spy(*args: Any) -> Any:
        calls.append(args)
        return live(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(person_engagement, "person_engagement", spy)
        with open_journeys(ws, filters, now) as journeys:
            engaged = fetch_value(journeys.engagement(journeys.as_of(), days).count())
            assert engaged == fetch_value(journeys.people().count())  # a row per selected person, either way
    return bool(calls)


def test_used_only_where_it_applies(ws: Workspace) -> None:
    assert not _computed_live(ws, NOW)
    assert not _computed_live(ws, NOW, Filters(sources=("seo",)))
    assert _computed_live(ws, datetime(2026, 5, 1))  # an as-of date before later touches
    assert _computed_live(ws, NOW, days=10)  # another silence than it was built for
    edited = set_option(ws, "dark_after_days = 30", "dark_after_days = 45")
    try:
        assert _computed_live(edited, NOW, days=45)
    finally:
        set_option(edited, "dark_after_days = 45", "dark_after_days = 30")


@pytest.mark.parametrize("filters", [None, Filters(sources=("seo",))], ids=["everyone", "selection"])
def test_the_stored_table_gives_the_live_analysis(ws: Workspace, filters: Filters | None) -> None:
    if filters is None:
        before, after = analyses_without_derived_table(ws, TABLE, FINGERPRINT_KEY, NOW)
    else:
        before = analyze(ws, filters=filters, now=NOW).to_dict()
        after = analysis_with(ws, filters, NOW, engagement_from="live")  # as if never built
        with journeys_with(ws, filters, NOW, engagement_from="live") as journeys:
            assert not journeys._stored_engagement_serves(journeys.as_of(), DAYS)
    assert before["speed_to_lead"]["n_contacted"] > 0 and before["dark_leads"]["re_engaged"]["count"] > 0
    for key in ("speed_to_lead", "dark_leads", "friction"):
        assert same_numbers(after[key], before[key]), key


def test_a_past_as_of_date_still_counts_only_earlier_touches(ws: Workspace) -> None:
    past = datetime(2026, 5, 1)
    result = analyze(ws, now=past).to_dict()
    latest = fetch(ws, "SELECT max(occurred_at) FROM touchpoints WHERE occurred_at <= ?", [past])[0][0]
    assert result["dark_leads"]["as_of"] <= past.isoformat() and latest <= past
    assert result["speed_to_lead"]["n"] < analyze(ws, now=NOW).to_dict()["speed_to_lead"]["n"]
