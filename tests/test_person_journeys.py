"""The derived person_journeys table: equal to a computation by hand, rebuilt on change, and
replaced by the live query when the configured stages no longer match it."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from conftest import (
    SharedGenerated,
    analyses_without_derived_table,
    copy_workspace,
    fetch,
    same_numbers,
    set_option,
)
from leadjourney.analysis import Filters, Journeys, analyze, open_journeys
from leadjourney.config import UNASSIGNED_PERSONA, Persona
from leadjourney.ingest import ingest
from leadjourney.ingest import person_engagement as engagement
from leadjourney.ingest.person_journeys import FINGERPRINT_KEY, TABLE, refresh_person_journeys
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)
STAGES = ["Lead", "MQL", "SQL", "Opportunity", "Customer"]


@pytest.fixture(scope="module")
def dirty(shared_generated: SharedGenerated, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Default dirt: duplicates (merged people), exclusions, undated and skipped stages. A copy of the run's shared
    3,000-lead set: these tests ingest again and edit the config."""
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)
    return copy_workspace(shared, tmp_path_factory.mktemp("journeys") / "ws")


def _by_hand(ws: Workspace) -> dict[str, tuple[int | None, list[bool], list[datetime | None]]]:
    """Per person (their own record, not excluded): furthest stage, entered per stage, first dated entry."""
    people = {r[0] for r in fetch(ws, "SELECT person_id FROM leads WHERE excluded_as IS NULL AND lead_id = person_id")}
    out = {p: (None, [False] * len(STAGES), [None] * len(STAGES)) for p in people}
    rows = fetch(ws, "SELECT l.person_id, e.stage, e.entered_at FROM stage_events e JOIN leads l USING (lead_id)")
    for person, stage, at in rows:
        if person not in out or stage not in STAGES:
            continue
        top, has, first = out[person]
        i = STAGES.index(stage)
        has[i] = True
        if at is not None and (first[i] is None or at < first[i]):
            first[i] = at
        out[person] = (i if top is None or i > top else top, has, first)
    return out


def _reads_stored_table(journeys: Journeys) -> bool:
    return getattr(journeys._person_journeys()[0].op(), "name", None) == TABLE


def test_the_table_equals_a_computation_by_hand(dirty: Workspace) -> None:
    columns = ", ".join(["person_id", "top", *[f"has_{i}" for i in range(5)], *[f"at_{i}" for i in range(5)]])
    stored = {r[0]: (r[1], [bool(h) for h in r[2:7]], list(r[7:12])) for r in fetch(dirty, f"SELECT {columns} FROM {TABLE}")}
    expected = _by_hand(dirty)
    assert stored == expected
    assert sum(1 for top, _, _ in expected.values() if top is None) < len(expected)  # not all empty


def test_rebuilt_only_when_its_inputs_change(dirty: Workspace) -> None:
    stamp = fetch(dirty, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY])
    ingest(dirty)  # nothing changed: no rebuild
    assert fetch(dirty, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY]) == stamp
    personas = dirty.config.personas
    with dirty.connect() as con:
        assert refresh_person_journeys(con, STAGES, personas) is False
        assert refresh_person_journeys(con, STAGES[:-1], personas) is True  # other stages: other columns
        assert fetch(dirty, f"SELECT count(*) FROM (DESCRIBE {TABLE}) WHERE column_name LIKE 'has_%'")[0][0] == 4
        assert refresh_person_journeys(con, STAGES, personas[:1]) is True  # other personas: another column
        assert refresh_person_journeys(con, STAGES, personas) is True
        # as ingest does after a rebuild: the engagement columns again (the module's other tests read them)
        assert engagement.refresh_engagement_columns(con) is True
    assert fetch(dirty, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY]) == stamp


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_stages_edited_after_ingest_use_the_live_query(dirty: Workspace) -> None:
    before = analyze(dirty, now=NOW)
    with open_journeys(dirty, now=NOW) as journeys:  # the stages it was built for
        assert _reads_stored_table(journeys)
    customer = '[[stages]]\nname = "Customer"'
    ws = set_option(dirty, customer, f'[[stages]]\nname = "Demo"\nlane = "Decision"\noptional = true\n\n{customer}')
    try:
        # a stage added since, with no entries: left out, so the stages are the ones the table was built for
        with open_journeys(ws, now=NOW) as journeys:
            assert journeys.inputs is not None and journeys.inputs.stages_without_data == ("Demo",)
            assert _reads_stored_table(journeys)
        edited = analyze(ws, now=NOW)
        assert [s.stage for s in edited.funnel.stages] == ["Lead", "MQL", "SQL", "Opportunity", "Customer"]
        assert edited.funnel.stages_without_data == ("Demo",)
        assert {s.stage: s.reached for s in edited.funnel.stages} == {s.stage: s.reached for s in before.funnel.stages}
    finally:
        ws = set_option(ws, '[[stages]]\nname = "Demo"\nlane = "Decision"\noptional = true\n\n', "")
    # a stage removed since: not what was built, so the same query runs live
    customer = '[[stages]]\nname = "Customer"\nlane = "Decision"\naliases = ["customer", "closed won", "won"]\noptional = false\n'
    ws = set_option(ws, customer, "")
    try:
        with open_journeys(ws, now=NOW) as journeys:
            assert not _reads_stored_table(journeys)
        edited = analyze(ws, now=NOW)
        assert [s.stage for s in edited.funnel.stages] == ["Lead", "MQL", "SQL", "Opportunity"]
        reached = {s.stage: s.reached for s in before.funnel.stages}
        assert {s.stage: s.reached for s in edited.funnel.stages} == {k: v for k, v in reached.items()
                                                                      if k != "Customer"}
    finally:
        set_option(ws, "# Channel normalization", customer + "\n# Channel normalization")


def test_won_deals_are_counted_per_person_by_hand(dirty: Workspace) -> None:
    person_of = dict(fetch(dirty, "SELECT lead_id, person_id FROM leads"))
    deals: dict[str, list[float]] = {}
    for lead, amount, won in fetch(dirty, "SELECT lead_id, amount, is_won FROM opportunities"):
        if won and amount is not None and lead in person_of:
            deals.setdefault(person_of[lead], []).append(amount)
    stored = {r[0]: (r[1], r[2]) for r in fetch(dirty, f"SELECT person_id, won_deals, won_amount FROM {TABLE}")}
    people = set(stored)
    expected = {p: (len(v), pytest.approx(sum(v))) for p, v in deals.items() if p in people}
    assert expected and {p: v for p, v in stored.items() if v[0] is not None} == expected


def test_the_stored_persona_is_the_first_rule_a_person_matches(dirty: Workspace) -> None:
    personas = dirty.config.personas
    assert len(personas) >= 2
    rows = fetch(dirty, f"SELECT job_title, industry, employee_count, persona FROM {TABLE}")
    expected = [_persona_by_hand(personas, title, industry, size) for title, industry, size, _ in rows]
    assert [r[3] for r in rows] == expected
    assert set(expected) >= {p.name for p in personas}  # every persona occurs


def _persona_by_hand(personas: tuple[Persona, ...], title: str | None, industry: str | None,
                     size: int | None) -> str:
    for p in personas:
        rules = []
        if p.job_title:
            rules.append(title is not None and re.search(p.job_title, title, re.IGNORECASE) is not None)
        if p.industries:
            rules.append(industry is not None and industry.lower() in {i.lower() for i in p.industries})
        if p.min_employees is not None or p.max_employees is not None:
            rules.append(size is not None and (p.min_employees is None or size >= p.min_employees)
                         and (p.max_employees is None or size <= p.max_employees))
        if (all if p.match == "all" else any)(rules):
            return p.name
    return UNASSIGNED_PERSONA


def test_personas_edited_after_ingest_are_assigned_live(dirty: Workspace) -> None:
    with open_journeys(dirty, now=NOW) as journeys:
        _, stored = journeys._select_people()
        assert stored  # built for these rules: the stored column
    first = dirty.config.personas[0]
    before = analyze(dirty, now=NOW, filters=Filters(personas=(first.name,)))
    old = f'name = "{first.name}"'
    ws = set_option(dirty, old, 'name = "renamed"')
    try:
        with open_journeys(ws, now=NOW) as journeys:
            _, stored = journeys._select_people()
            assert not stored
        after = analyze(ws, now=NOW, filters=Filters(personas=("renamed",)))
        assert after.n_people == before.n_people > 0
        assert same_numbers(after.to_dict()["funnel"], before.to_dict()["funnel"])
    finally:
        set_option(ws, 'name = "renamed"', old)


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_a_workspace_without_the_table_gives_the_same_analysis(dirty: Workspace) -> None:
    before, after = analyses_without_derived_table(dirty, TABLE, FINGERPRINT_KEY, NOW)
    assert fetch(dirty, f"SELECT count(*) FROM {TABLE}")[0][0] > 0
    for key in ("funnel", "time_in_stage", "sources", "personas", "speed_to_lead", "dark_leads", "friction"):
        assert same_numbers(after[key], before[key]), key


def test_both_derived_tables_give_a_person_the_same_key(dirty: Workspace) -> None:
    keys = dict(fetch(dirty, f"SELECT person_id, person_key FROM {TABLE}"))
    assert sorted(keys.values()) == list(range(len(keys)))  # dense, one per person
    # person_touches carries the key only: each key's touches are its person's (counted from the records)
    touched = dict(fetch(dirty, "SELECT person_key, count(*) FROM person_touches GROUP BY ALL"))
    records = fetch(dirty, "SELECT l.person_id, count(*) FROM touchpoints t JOIN leads l USING (lead_id) "
                           f"WHERE l.person_id IN (SELECT person_id FROM {TABLE}) GROUP BY ALL")
    assert touched and touched == {keys[person]: n for person, n in records}


def test_ingest_stores_the_people_in_creation_order(dirty: Workspace) -> None:
    """A date-range selection reads only the row groups of its dates: the rows are kept sorted by created_at."""
    stored = [r[0] for r in fetch(dirty, f"SELECT created_at FROM {TABLE}")]  # in storage order
    assert len(stored) > 1000 and stored == sorted(stored, key=lambda at: (at is None, at))
    columns = {r[0] for r in fetch(dirty, f"DESCRIBE {TABLE}")}
    assert {"last_touch_at", "first_form_fill_at", "re_at"} <= columns  # the engagement columns, added by ingest
