"""The derived person_touches table: built at ingest, rebuilt only on change, equal to the live query."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import ibis
import pytest

from conftest import (
    SharedGenerated,
    analyses_without_derived_table,
    copy_workspace,
    fetch,
    same_numbers,
    set_option,
)
from leadjourney.ingest import ingest
from leadjourney.ingest.person_touches import (
    COLUMNS,
    FINGERPRINT_KEY,
    TABLE,
    person_touches,
    refresh_person_touches,
)
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)


@pytest.fixture(scope="module")
def dirty(shared_generated: SharedGenerated, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Default dirt: duplicates (merged people), exclusions, mixed zones. A copy of the run's shared 3,000-lead
    set: these tests ingest again and edit the config."""
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)
    return copy_workspace(shared, tmp_path_factory.mktemp("touches") / "ws")


def _gaps_by_hand(ws: Workspace) -> dict[tuple[str, datetime, str], float | None]:
    """Per person: touches sorted by (time, kind), each with seconds since the one before (Python, not SQL)."""
    rows = fetch(ws, """
        SELECT l.person_id, t.occurred_at, t.kind FROM touchpoints t JOIN leads l USING (lead_id)
        WHERE l.person_id IN (SELECT person_id FROM leads WHERE excluded_as IS NULL AND lead_id = person_id)
    """)
    rows.sort(key=lambda r: (r[0], r[1], r[2] or ""))
    out: dict[tuple[str, datetime, str], float | None] = {}
    previous: tuple[str, datetime] | None = None
    for person, at, kind in rows:
        gap = (at - previous[1]).total_seconds() if previous and previous[0] == person else None
        out.setdefault((person, at, kind), gap)  # the first of identical (time, kind) keys keeps the gap
        previous = (person, at)
    return out


def test_gaps_equal_a_computation_by_hand(dirty: Workspace) -> None:
    stored = fetch(dirty, f"SELECT j.person_id, t.occurred_at, t.kind, min(t.gap_seconds) FROM {TABLE} t "
                          "JOIN person_journeys j USING (person_key) GROUP BY ALL")
    expected = _gaps_by_hand(dirty)
    assert len(stored) == len(expected)
    for person, at, kind, gap in stored:
        want = expected[(person, at, kind)]
        assert gap == pytest.approx(want) if want is not None else gap is None


def test_rebuilt_only_when_identities_or_touches_change(dirty: Workspace) -> None:
    stamp = fetch(dirty, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY])
    ingest(dirty)  # nothing changed: same fingerprint, no rebuild
    assert fetch(dirty, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY]) == stamp
    with dirty.connect() as con:
        assert refresh_person_touches(con) is False
    people = fetch(dirty, f"SELECT count(DISTINCT person_key) FROM {TABLE}")[0][0]
    ws = set_option(dirty, 'policy = "merge"', 'policy = "keep"')  # duplicates become their own people
    ingest(ws)
    assert fetch(ws, "SELECT value FROM meta WHERE key = ?", [FINGERPRINT_KEY]) != stamp
    assert fetch(ws, f"SELECT count(DISTINCT person_key) FROM {TABLE}")[0][0] > people
    with ws.connect(read_only=True) as con:
        live = person_touches(ibis.duckdb.from_connection(con)).count().to_pyarrow().as_py()
    assert fetch(ws, f"SELECT count(*) FROM {TABLE}")[0][0] == live
    set_option(ws, 'policy = "keep"', 'policy = "merge"')
    ingest(Workspace.open(ws.root))


def test_a_workspace_without_the_table_gives_the_same_analysis(dirty: Workspace) -> None:
    before, after = analyses_without_derived_table(dirty, TABLE, FINGERPRINT_KEY, NOW)
    for key in ("speed_to_lead", "dark_leads", "funnel", "friction"):
        assert same_numbers(after[key], before[key]), key


def test_a_table_of_the_previous_layout_is_read_then_rebuilt(dirty: Workspace, tmp_path: Path) -> None:
    """A workspace ingested before person_touches lost person_id (v2: person_id, person_key, ...): analyses read
    its touches under their keys as before, and the next ingest rebuilds the table without the id."""
    from leadjourney.analysis import analyze
    from leadjourney.analysis.definitions import DefinitionCheck
    from leadjourney.analysis.journeys import open_journeys
    from leadjourney.analysis.persona_profiles import PersonaProfiles
    from leadjourney.analysis.touchpoints import TouchpointInventory
    from leadjourney.ingest.person_changes import CONFIG_KEY
    from leadjourney.journeymap.eventlog import export_event_log

    def run(name: str) -> tuple[dict[str, object], str]:
        with open_journeys(dirty, now=NOW) as journeys:
            log = export_event_log(journeys, tmp_path / f"{name}.xes", fmt="xes").path.read_text("utf-8")
            parts = {"definitions": DefinitionCheck().fit(journeys).to_dict(),  # behaviour criteria: touches
                     "touchpoints": TouchpointInventory().fit(journeys).to_dict(),
                     "profiles": PersonaProfiles().fit(journeys).to_dict()}
        return {**analyze(dirty, now=NOW).to_dict(), **parts}, log

    assert any(c.is_behaviour for d in dirty.config.definitions for c in d.criteria)
    before, log = run("new")
    with dirty.connect() as con:  # as version 2 left it: the id first, its fingerprint and config digest
        con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT j.person_id, t.* FROM {TABLE} t "
                    "JOIN person_journeys j USING (person_key)")
        con.execute("UPDATE meta SET value = regexp_replace(value, '^v[0-9]+:', 'v2:') WHERE key = ?", [FINGERPRINT_KEY])
        con.execute("UPDATE meta SET value = 'an older version' WHERE key = ?", [CONFIG_KEY])
    assert fetch(dirty, f"SELECT count(DISTINCT person_id) FROM {TABLE}")[0][0] > 1000
    after, old_log = run("old")
    assert old_log == log and "<trace>" in log
    for key in ("speed_to_lead", "dark_leads", "definitions", "touchpoints", "profiles", "funnel"):
        assert same_numbers(after[key], before[key]), key
    ingest(dirty)
    columns = [r[0] for r in fetch(dirty, f"SELECT column_name FROM (DESCRIBE {TABLE})")]
    assert columns == list(COLUMNS)
    assert same_numbers(analyze(dirty, now=NOW).to_dict()["dark_leads"], before["dark_leads"])
