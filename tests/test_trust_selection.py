"""Numbers an analyst can defend (issue 13, items 6 and 7).

Findings belong to the selection they were computed for: an analysis of another selection never touches
them, and a sign-off never moves to a number the stakeholder did not see. A selection naming a value the
data does not have, a workspace with nothing ingested, or a selection of nobody is an error, and nothing
is stored.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

from conftest import csv_text, csv_workspace, fetch, min_n_config, run_cli
from leadjourney.analysis import Filters, analyze
from leadjourney.analysis.findings import CONFIRMED, CORRECTED, list_findings, set_status, store
from leadjourney.errors import LeadJourneyError
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

NOW = datetime(2026, 3, 1)
MQL_SQL = "conversion:MQL->SQL"

# A CRM contacts export: "Organic Search" and "Google Ads" are stored as the channels seo and paid_search.
LEADS = csv_text(
    ["lead_id", "created_at", "source", "owner", "job_title", "employee_count"],
    [[f"L{i:02}", f"2026-01-{5 + i % 10:02}T09:30:00Z", "Organic Search" if i <= 10 else "Google Ads",
      "Dana Reyes" if i % 2 else "Sam Patel", "Founder" if i % 3 == 0 else "Marketing Manager",
      "20" if i % 3 == 0 else "250"] for i in range(1, 21)])


def events(sql: tuple[int, ...]) -> str:
    """Everyone became an MQL two days in; the people in ``sql`` an SQL five days in."""
    rows = [[f"L{i:02}", "MQL", f"2026-01-{7 + i % 10:02}T10:00:00Z"] for i in range(1, 21)]
    rows += [[f"L{i:02}", "SQL", f"2026-01-{10 + i % 10:02}T10:00:00Z"] for i in sql]
    return csv_text(["lead_id", "stage", "entered_at"], rows)


SQL = (1, 2, 3, 4, 5, 6, 11, 12)  # MQL -> SQL: all leads 8 of 20 (40 %), seo 6 of 10 (60 %)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """Twenty people: sign-offs are tested with min_n = 1 (at 30, no rate here is judged, so none is a finding)."""
    return csv_workspace(tmp_path / "ws", min_n_config(1), leads=LEADS, stage_events=events(SQL))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line (its entry point, one-line errors and exit codes), run in this process."""
    return run_cli(*args)


def stored(ws: Workspace) -> tuple[int, int]:
    """(snapshots, findings) rows in the workspace."""
    return (fetch(ws, "SELECT count(*) FROM snapshots")[0][0], fetch(ws, "SELECT count(*) FROM findings")[0][0])


def by_id(ws: Workspace) -> dict[str, object]:
    return {f.finding_id: f for f in list_findings(ws)}


# --- 6: findings belong to their selection; a sign-off stays on the number signed ---------------------------


def test_a_filtered_analyze_leaves_the_confirmed_finding_as_signed(ws: Workspace) -> None:
    """The bug: `analyze --source seo` replaced the CONFIRMED all-leads number and kept it CONFIRMED."""
    store(ws, analyze(ws, now=NOW))
    set_status(ws, MQL_SQL, CONFIRMED, "VP Sales, kickoff")
    before = list_findings(ws)
    signed = by_id(ws)[MQL_SQL]
    assert signed.value == pytest.approx(0.4) and "8 of 20" in signed.statement  # type: ignore[attr-defined]
    seo = analyze(ws, filters=Filters(sources=("seo",)), now=NOW)
    assert next(t for t in seo.funnel.transitions if t.from_stage == "MQL").rate == pytest.approx(0.6)
    store(ws, seo)
    assert list_findings(ws) == before  # every all-leads finding as it was: numbers, status, note
    assert fetch(ws, "SELECT count(*) FROM snapshots") == [(2,)]


def test_cli_findings_of_another_selection_are_kept_apart(ws: Workspace) -> None:
    """Through the real command line: the seo analysis stores its own findings; all leads' stay as confirmed."""
    assert cli("analyze", str(ws.root), "--json").returncode == 0
    assert cli("findings", "-w", str(ws.root), "confirm", MQL_SQL, "--note", "RevOps").returncode == 0
    proc = cli("analyze", str(ws.root), "--source", "seo", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(cli("findings", "-w", str(ws.root), "--json").stdout)
    mql = next(f for f in listed if f["finding_id"] == MQL_SQL)
    assert (mql["status"], mql["value"], mql["note"]) == ("CONFIRMED", pytest.approx(0.4), "RevOps")
    assert mql["selection_label"] == "all leads" and mql["changed_since_signoff"] is False
    seo = json.loads(cli("findings", "-w", str(ws.root), "--source", "seo", "--json").stdout)
    mql_seo = next(f for f in seo if f["finding_id"] == MQL_SQL)
    assert (mql_seo["status"], mql_seo["value"]) == ("ASSUMED", pytest.approx(0.6))
    assert mql_seo["selection"]["sources"] == ["seo"]
    everything = json.loads(cli("findings", "-w", str(ws.root), "--all", "--json").stdout)
    assert len(everything) == len(listed) + len(seo)
    from leadjourney.reports.status import gather

    facts = gather(ws)  # the engagement status counts all leads' findings, the ones `findings confirm ID` moves
    assert facts.findings == {"CONFIRMED": 1, "ASSUMED": len(listed) - 1}
    assert facts.first_assumed in {f["finding_id"] for f in listed if f["status"] == "ASSUMED"}


def test_a_signoff_survives_a_changed_number_with_the_new_one_beside_it(ws: Workspace) -> None:
    store(ws, analyze(ws, now=NOW))
    set_status(ws, MQL_SQL, CONFIRMED, "VP Sales, kickoff")
    set_status(ws, "conversion:Lead->MQL", CORRECTED, "RevOps: 12 MQLs were backfilled")
    (ws.root / "stage_events.csv").write_text(events((*SQL, 13)), "utf-8")  # one more SQL arrives
    ingest(ws)
    store(ws, analyze(ws, now=NOW))
    f = by_id(ws)[MQL_SQL]
    assert (f.status, f.note, f.value) == (CONFIRMED, "VP Sales, kickoff", pytest.approx(0.4))  # type: ignore[attr-defined]
    assert "8 of 20" in f.statement  # type: ignore[attr-defined]
    assert f.current_value == pytest.approx(0.45) and "9 of 20" in f.current_statement  # type: ignore[attr-defined]
    assert f.changed_since_signoff  # type: ignore[attr-defined]
    corrected = by_id(ws)["conversion:Lead->MQL"]  # the same number: signed and current agree
    assert corrected.status == CORRECTED and not corrected.changed_since_signoff  # type: ignore[attr-defined]
    assumed = by_id(ws)["time:MQL->SQL"]  # an ASSUMED finding simply takes the new numbers
    assert assumed.status == "ASSUMED" and assumed.n == 20  # type: ignore[attr-defined]
    shown = cli("findings", "-w", str(ws.root))
    assert "changed since sign-off" in shown.stdout and "9 of 20" in shown.stdout and "8 of 20" in shown.stdout
    set_status(ws, MQL_SQL, CONFIRMED, "VP Sales, re-confirmed")  # signing again signs the number shown now
    f = by_id(ws)[MQL_SQL]
    assert f.value == pytest.approx(0.45) and not f.changed_since_signoff  # type: ignore[attr-defined]


def test_old_workspaces_findings_are_migrated_to_their_selection(ws: Workspace) -> None:
    """Rows without a selection belong to all leads; one overwritten by a filtered run keeps its sign-off,
    its number withheld, and the filtered numbers become that selection's ASSUMED finding."""
    store(ws, analyze(ws, now=NOW))
    store(ws, analyze(ws, filters=Filters(sources=("seo",)), now=NOW), findings=False)
    with ws.connect() as con:  # the table as the previous version kept it, after the overwrite
        con.execute("DROP TABLE findings")
        con.execute("""CREATE TABLE findings (finding_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL,
                       statement VARCHAR NOT NULL, value DOUBLE, n BIGINT, status VARCHAR NOT NULL, note VARCHAR,
                       snapshot_id BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL)""")
        con.execute("""INSERT INTO findings VALUES
            ('conversion:Lead->MQL', 'conversion', 'Lead -> MQL converts 100.0%', 1.0, 20, 'CONFIRMED', 'CMO', 1,
             TIMESTAMP '2026-03-01 00:00:00'),
            ('conversion:MQL->SQL', 'conversion', 'MQL -> SQL converts 60.0% (6 of 10)', 0.6, 10, 'CONFIRMED',
             'VP Sales', 2, TIMESTAMP '2026-03-01 00:00:00'),
            ('time:MQL->SQL', 'time_in_stage', 'median 3 days', 3.0, 10, 'ASSUMED', NULL, 2,
             TIMESTAMP '2026-03-01 00:00:00')""")
    found = by_id(ws)
    kept = found["conversion:Lead->MQL"]
    assert (kept.status, kept.note, kept.value, kept.changed_since_signoff) == (  # type: ignore[attr-defined]
        CONFIRMED, "CMO", 1.0, False)
    overwritten = found[MQL_SQL]
    assert (overwritten.status, overwritten.note, overwritten.value) == (CONFIRMED, "VP Sales", None)  # type: ignore[attr-defined]
    assert "withheld" in overwritten.statement and overwritten.changed_since_signoff  # type: ignore[attr-defined]
    assert "time:MQL->SQL" not in found  # its numbers were seo's
    from leadjourney.analysis.findings import selection_key

    seo = {f.finding_id: f for f in list_findings(ws, selection_key(Filters(sources=("seo",))))}
    assert (seo[MQL_SQL].status, seo[MQL_SQL].value) == ("ASSUMED", 0.6)
    assert set(seo) == {MQL_SQL, "time:MQL->SQL"}
    store(ws, analyze(ws, now=NOW))  # the next all-leads run records the current number beside the sign-off
    assert by_id(ws)[MQL_SQL].current_value == pytest.approx(0.4)  # type: ignore[attr-defined]


# --- 7: a selection of nothing is an error, and nothing is stored --------------------------------------------


def test_cli_analyze_source_in_the_wrong_case_exits_non_zero_listing_seo(ws: Workspace) -> None:
    before = stored(ws)
    proc = cli("analyze", str(ws.root), "--source", "SEO")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "did you mean seo?" in lines[0] and "paid_search, seo" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert stored(ws) == before and not (ws.out_dir / "analysis.json").exists()


@pytest.mark.parametrize("command", ["analyze", "map", "report", "personas", "touchpoints", "paths", "eventlog",
                                     "recommend", "definitions"])
def test_every_command_refuses_an_unknown_source(ws: Workspace, command: str) -> None:
    where = ["-w", str(ws.root)] if command == "definitions" else [str(ws.root)]
    proc = cli(command, *where, "--source", "nosuch")
    assert proc.returncode == 1, proc.stdout
    assert "no source 'nosuch' in the data" in proc.stderr and "seo" in proc.stderr
    assert stored(ws) == (0, 0) and not any(ws.out_dir.rglob("*.*"))


def test_unknown_persona_and_owner_are_errors_in_the_python_api_too(ws: Workspace) -> None:
    from leadjourney.errors import SelectionError

    with pytest.raises(SelectionError, match=r"no persona 'SMB Founder'.*did you mean smb_founder\?.*unassigned"):
        analyze(ws, filters=Filters(personas=("SMB Founder",)), now=NOW)
    with pytest.raises(SelectionError, match=r"no source 'nosuch' in the data; valid sources.*: paid_search, seo$"):
        analyze(ws, filters=Filters(sources=("nosuch",)), now=NOW)
    with pytest.raises(SelectionError, match=r"no owner 'dana reyes'.*did you mean owner-[0-9a-f]{8}\?") as err:
        analyze(ws, filters=Filters(owners=("dana reyes",)), now=NOW)
    assert "Dana" not in str(err.value)  # owners are listed as pseudonyms, as the dashboard shows them
    pseudonym = str(err.value).split("did you mean ")[1][:14]
    by_name = analyze(ws, filters=Filters(owners=("Dana Reyes",)), now=NOW)
    by_pseudonym = analyze(ws, filters=Filters(owners=(pseudonym,)), now=NOW)
    assert by_pseudonym.n_people == by_name.n_people == 10
    assert by_pseudonym.filters.owners == ("Dana Reyes",)


def test_analyze_before_ingest_says_to_ingest_and_stores_nothing(tmp_path: Path) -> None:
    from leadjourney.errors import NoDataError

    ws = Workspace.init(tmp_path / "empty")
    with pytest.raises(NoDataError, match="run `leadjourney ingest` first"):
        analyze(ws)
    for command in ("analyze", "map", "report"):
        proc = cli(command, str(ws.root))
        assert proc.returncode == 1 and "run `leadjourney ingest` first" in proc.stderr, (command, proc.stderr)
    assert stored(ws) == (0, 0) and not any(ws.out_dir.rglob("*.*"))


def test_a_valid_selection_of_nobody_is_an_error_naming_it(ws: Workspace) -> None:
    from leadjourney.errors import EmptySelectionError

    with pytest.raises(EmptySelectionError, match=r"no people in the selection created 2030-01-01 to 2030-12-31, "
                                                  r"source seo \(of 20 in the workspace\)"):
        analyze(ws, filters=Filters(date(2030, 1, 1), date(2030, 12, 31), ("seo",)), now=NOW)
    proc = cli("analyze", str(ws.root), "--from", "2030-01-01", "--baseline")
    assert proc.returncode == 1 and "no people in the selection created from 2030-01-01" in proc.stderr
    assert stored(ws) == (0, 0)


def test_a_selection_error_is_a_documented_leadjourney_error() -> None:
    import leadjourney
    from leadjourney import errors

    for name in ("SelectionError", "NoDataError", "EmptySelectionError"):
        cls = getattr(leadjourney, name)
        assert issubclass(cls, LeadJourneyError) and name in (errors.__doc__ or "")


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_the_map_and_recommendations_carry_their_own_selections_signoffs(ws: Workspace, tmp_path: Path) -> None:
    """A map of seo never shows the all-leads sign-off on seo's number; the all-leads map marks a confirmed
    number that has changed since as stale ("CONFIRMED?")."""
    from leadjourney.reports.recommendations import statuses_of
    from leadjourney.workflows.journey_map import journey_map

    store(ws, analyze(ws, now=NOW))
    set_status(ws, MQL_SQL, CONFIRMED, "VP Sales, kickoff")
    store(ws, analyze(ws, filters=Filters(sources=("seo",)), now=NOW))
    seo = journey_map(ws, tables=False, filters=Filters(sources=("seo",)), formats=("html",), out_dir=tmp_path / "seo", now=NOW)
    mark = seo.journey_map.conversion("MQL->SQL").mark
    assert mark is not None and (mark.status, mark.stated) == ("ASSUMED", pytest.approx(0.6)) and not mark.stale
    everyone = journey_map(ws, tables=False, formats=("html",), out_dir=tmp_path / "all", now=NOW)
    mark = everyone.journey_map.conversion("MQL->SQL").mark
    assert mark is not None and mark.status == CONFIRMED and not mark.stale
    # recommendations cite the statuses of their own selection's findings
    assert statuses_of(ws, seo.analysis)[MQL_SQL] == "ASSUMED"
    assert statuses_of(ws, everyone.analysis)[MQL_SQL] == CONFIRMED
    (ws.root / "stage_events.csv").write_text(events((*SQL, 13)), "utf-8")  # one more SQL arrives
    ingest(ws)
    store(ws, analyze(ws, now=NOW))
    mark = journey_map(ws, tables=False, formats=("html",), out_dir=tmp_path / "later", now=NOW).journey_map.conversion("MQL->SQL").mark
    assert mark is not None and mark.status == CONFIRMED and mark.stale  # signed 40 %, the map shows 45 %
    assert (mark.stated, mark.current) == (pytest.approx(0.4), pytest.approx(0.45))


def test_every_workflow_of_the_python_api_checks_its_selection(ws: Workspace, tmp_path: Path) -> None:
    """The map, the report package, recommendations, the definitions document and the persona report refuse an
    unknown source from Python too (the CLI checked it before; a notebook calls these directly)."""
    from leadjourney.analysis.personas import personas_report
    from leadjourney.errors import SelectionError
    from leadjourney.reports.definitions import definitions_document
    from leadjourney.reports.package import build_report
    from leadjourney.reports.recommendations import make_recommendations
    from leadjourney.workflows.journey_map import journey_map

    nosuch = Filters(sources=("nosuch",))
    out = tmp_path / "map"
    calls = [lambda: journey_map(ws, tables=False, filters=nosuch, formats=("html",), out_dir=out, now=NOW),
             lambda: build_report(ws, filters=nosuch, now=NOW),
             lambda: make_recommendations(ws, filters=nosuch, now=NOW),
             lambda: definitions_document(ws, filters=nosuch, now=NOW),
             lambda: personas_report(ws, filters=nosuch, now=NOW)]
    for call in calls:
        with pytest.raises(SelectionError, match=r"no source 'nosuch' in the data; valid sources.*seo"):
            call()
    assert not out.exists()
