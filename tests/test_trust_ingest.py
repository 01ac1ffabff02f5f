"""Issue 13, data in: won/lost outcomes, placeholders, undated leads and mixed UTC offsets.

The files under tests/data/real_exports are shaped like real exports (Salesforce reports,
HubSpot contacts and deals, a Marketo lead list): their header names and value spellings.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import csv_as_parquet, csv_workspace, dicts, fetch, set_option
from leadjourney.analysis import analyze
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.trend import ConversionTrend
from leadjourney.config import default_config_text, parse_config
from leadjourney.errors import ConfigError, IngestError
from leadjourney.ingest import ingest
from leadjourney.quality import run_quality
from leadjourney.workspace import Workspace

REAL = Path(__file__).parent / "data" / "real_exports"
NOW = datetime(2024, 9, 1)


def _workspace(root: Path, sources: list[dict[str, Any]]) -> Workspace:
    """A workspace ingesting copies of the named real-export files."""
    ws = Workspace.init(root, exist_ok=True)
    for s in sources:
        shutil.copy(REAL / s["path"], root / s["path"])
    ws.set_sources(sources)
    ingest(ws)
    return Workspace.open(root)


def _opps(ws: Workspace) -> dict[str, tuple[Any, ...]]:
    rows = fetch(ws, "SELECT opportunity_id, is_won, closed_at, closed_at_is_date FROM opportunities")
    return {r[0]: r[1:] for r in rows}


def _notes(ws: Workspace, note: str) -> dict[tuple[str, str], int]:
    rows = fetch(ws, "SELECT column_name, value, sum(n) FROM ingest_notes WHERE note = ? GROUP BY ALL", [note])
    return {(r[0], r[1]): int(r[2]) for r in rows}


# ------------------------------------------------------------------------------------------- won / lost

SF_LEADS = {"name": "sf_leads", "path": "sf_leads_won_lost.csv", "format": "salesforce_leads"}
SF_OPPS = {"name": "sf_opps", "path": "sf_opportunities_deal_stage.csv", "format": "salesforce_opportunities",
           "columns": {"stage": "deal_stage"}}


@pytest.fixture(scope="module")
def won_lost(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _workspace(tmp_path_factory.mktemp("wonlost") / "ws", [SF_LEADS, SF_OPPS])


def test_salesforce_won_lost_stages_close_deals_and_keep_their_close_dates(won_lost: Workspace) -> None:
    assert _opps(won_lost) == {
        "006WL0000000001": (True, datetime(2024, 4, 30), True),
        "006WL0000000002": (False, datetime(2024, 5, 15), True),
        "006WL0000000003": (None, None, None),  # open: its Close Date is a forecast
    }
    # the open deal's forecast close date is counted, not silently lost
    assert _notes(won_lost, "forecast_close_date") == {("closed_at", None): 1}


def test_a_won_deal_enters_its_lead_into_customer(won_lost: Workspace) -> None:
    rows = fetch(won_lost, "SELECT lead_id, entered_at FROM stage_events WHERE stage = 'Customer' AND origin = 'sf_opps'")
    assert rows == [("00QWL0000000001", datetime(2024, 4, 30))]
    won = fetch(won_lost, "SELECT person_id, won_deals, won_amount FROM person_journeys WHERE won_deals > 0")
    assert won == [("00QWL0000000001", 1, 25000.0)]


def test_lead_status_won_and_lost_are_outcomes(won_lost: Workspace) -> None:
    rows = dict(fetch(won_lost, "SELECT lead_id, status FROM leads"))
    assert rows == {
        "00QWL0000000001": "converted",
        "00QWL0000000002": "disqualified",
        "00QWL0000000003": "open",
        "00QWL0000000004": "open",
    }


def test_won_lost_mapped_file_passes_the_close_date_check(won_lost: Workspace) -> None:
    report = run_quality(won_lost, now=NOW)
    assert report.result("close_dates_without_outcome").count == 0


def test_hubspot_deal_stages_as_generic_csv(tmp_path: Path) -> None:
    deals = {"name": "deals", "path": "hubspot_deals.csv", "format": "csv", "table": "opportunities",
             "columns": {"opportunity_id": "Record ID", "stage": "Deal Stage", "amount": "Amount",
                         "created_at": "Create Date", "closed_at": "Close Date", "lead_id": "Associated Contact IDs"}}
    ws = _workspace(tmp_path / "ws", [deals])
    assert {k: v[0] for k, v in _opps(ws).items()} == {
        "9001": True, "9002": False, "9003": None, "9004": True, "9005": None,
    }
    # nothing quarantined: an open stage is no unreadable outcome
    assert fetch(ws, "SELECT count(*) FROM quarantine") == [(0,)]
    # the open deal 9003 carries a close date but no outcome: the check shows it
    report = run_quality(ws, now=NOW)
    assert report.result("close_dates_without_outcome").examples == ["9003"]


def test_generic_is_won_column_reads_won_and_lost_words(tmp_path: Path) -> None:
    opps = ("opportunity_id,lead_id,created_at,closed_at,amount,is_won\n"
            "O1,L1,2024-01-01,2024-02-01,100,Won\n"
            "O2,L1,2024-01-01,2024-02-01,100,Lost\n"
            "O3,L1,2024-01-01,2024-02-01,100,Closed Won\n"
            "O4,L1,2024-01-01,2024-02-01,100,closedlost\n"
            "O5,L1,2024-01-01,,100,\n")
    ws = csv_workspace(tmp_path / "ws", opportunities=opps)
    assert {k: v[0] for k, v in _opps(ws).items()} == {"O1": True, "O2": False, "O3": True, "O4": False, "O5": None}


def test_unmapped_outcome_spellings_are_visible_then_configurable(tmp_path: Path) -> None:
    opps = {**SF_OPPS, "name": "opps", "path": "sf_opportunities_unmapped_outcomes.csv"}
    ws = _workspace(tmp_path / "ws", [SF_LEADS, opps])
    assert {v[0] for v in _opps(ws).values()} == {None}  # "Signed" / "Dead" read as open
    check = run_quality(ws, now=NOW).result("close_dates_without_outcome")
    # a file with close dates where no deal closed: every deal of it is flagged
    assert check.count == 3 and check.severity == "high"
    ws = set_option(ws, 'won_values = ["Closed Won", "Won",', 'won_values = ["Signed", "Closed Won", "Won",')
    ws = set_option(ws, 'lost_values = ["Closed Lost", "Lost",', 'lost_values = ["Dead", "Closed Lost", "Lost",')
    ingest(ws)
    assert {k: v[:2] for k, v in _opps(ws).items()} == {
        "006MM0000000001": (True, datetime(2024, 4, 30)),
        "006MM0000000002": (False, datetime(2024, 5, 15)),
        "006MM0000000003": (None, None),
    }
    assert run_quality(ws, now=NOW).result("close_dates_without_outcome").count == 0


# ------------------------------------------------------------------------------------------ placeholders

MARKETO = {"name": "marketo", "path": "marketo_leads_placeholders.csv", "format": "csv", "table": "leads",
           "columns": {"lead_id": "Id", "created_at": "Created At", "source": "Lead Source",
                       "source_detail": "Lead Source Detail", "industry": "Industry", "job_title": "Job Title",
                       "country": "Country", "employee_count": "Number of Employees", "status": "Lead Status",
                       "company": "Company Name"}}


@pytest.fixture(scope="module")
def marketo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("marketo") / "ws"
    Workspace.init(root)
    (root / "leadjourney.toml").write_text(
        (root / "leadjourney.toml").read_text().replace(
            '# [missing.placeholder_columns]\n# industry = ["Other"]',
            '[missing.placeholder_columns]\nindustry = ["Other"]'))
    return _workspace(root, [MARKETO])


def test_placeholders_are_stored_as_missing(marketo: Workspace) -> None:
    rows = {r["lead_id"]: r for r in dicts(marketo, "SELECT * FROM leads")}
    assert {k: r["source"] for k, r in rows.items()} == {
        "5001": "seo", "5002": None, "5003": None, "5004": None, "5005": "paid_search", "5006": None,
    }
    assert {k: r["source_raw"] for k, r in rows.items() if r["source"] is None} == dict.fromkeys(
        ("5002", "5003", "5004", "5006"))
    assert rows["5002"]["industry"] is None and rows["5002"]["job_title"] is None
    assert rows["5002"]["country"] is None and rows["5002"]["employee_count"] is None
    assert rows["5003"]["employee_count"] is None and rows["5004"]["status"] is None
    assert rows["5005"]["industry"] is None  # per-column addition
    assert rows["5005"]["country"] == "NA"  # Namibia is no placeholder
    assert rows["5001"]["source_detail"] is None and rows["5006"]["source_detail"] is None
    # no row or value quarantined for a placeholder
    assert fetch(marketo, "SELECT count(*) FROM quarantine") == [(0,)]


def test_placeholders_are_counted_per_column_and_spelling(marketo: Workspace) -> None:
    assert _notes(marketo, "placeholder") == {
        ("source", "unknown"): 1, ("source", "Unknown"): 1, ("source", "Select"): 1,
        ("source_detail", "Select"): 1, ("source_detail", "n/a"): 1, ("source_detail", "-"): 1,
        ("source_detail", "--select--"): 1, ("source_detail", "(not set)"): 1,
        ("industry", "Select"): 1, ("industry", "n/a"): 1, ("industry", "-"): 1, ("industry", "Other"): 1,
        ("job_title", "Select"): 1, ("job_title", "(not set)"): 1, ("job_title", "none"): 1,
        ("country", "Select"): 2,
        ("employee_count", "#N/A"): 1, ("employee_count", "N/A"): 1, ("employee_count", "--"): 1,
        ("status", "null"): 1, ("status", "not provided"): 1,
    }


def test_quality_report_lists_placeholders(marketo: Workspace) -> None:
    report = run_quality(marketo, now=NOW)
    check = report.result("placeholder_values")
    assert check.count == 22 and check.share is None and check.entity == "values"
    assert check.examples[0] == "marketo_leads_placeholders.csv: leads.country = 'Select' (2)"
    assert {"file": "marketo_leads_placeholders.csv", "table": "leads", "column": "job_title",
            "value": "(not set)", "n": 1} in check.details
    data = json.loads(report.to_json())
    assert next(r for r in data["results"] if r["name"] == "placeholder_values")["details"] == check.details
    md = report.to_markdown()
    assert "## Placeholder values treated as missing" in md
    assert "| marketo_leads_placeholders.csv | leads.industry | `Select` | 1 |" in md
    assert report.result("leads_without_source").count == 4


# ---------------------------------------------------------------------------------------- undated leads

@pytest.fixture(scope="module")
def undated(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return _workspace(tmp_path_factory.mktemp("undated") / "ws", [
        {"name": "leads", "path": "sf_leads_no_created_date.csv", "format": "salesforce_leads"},
        {"name": "history", "path": "sf_lead_history_no_created.csv", "format": "salesforce_lead_history"},
    ])


def test_a_lead_list_without_created_dates_loads(undated: Workspace) -> None:
    rows = fetch(undated, "SELECT lead_id, created_at, created_at_is_date, created_at_from FROM leads ORDER BY 1")
    assert rows == [
        ("00QND0000000001", datetime(2024, 4, 10, 9, 0), False, "stage_event"),
        ("00QND0000000002", datetime(2024, 4, 15), True, "stage_event"),
        ("00QND0000000003", None, None, None),
    ]
    assert fetch(undated, "SELECT count(*) FROM quarantine") == [(0,)]
    # their Lead entry is not invented: a created date taken from MQL would make Lead -> MQL last zero days
    assert fetch(undated, "SELECT lead_id, entered_at FROM stage_events WHERE stage = 'Lead' ORDER BY 1") == [
        ("00QND0000000001", None), ("00QND0000000002", None), ("00QND0000000003", None)]
    people = dict(fetch(undated, "SELECT person_id, created_at FROM person_journeys"))
    assert people["00QND0000000003"] is None and len(people) == 3


def test_quality_counts_dated_from_events_and_undated(undated: Workspace) -> None:
    report = run_quality(undated, now=NOW)
    assert report.result("created_from_stage_event").examples == ["00QND0000000001", "00QND0000000002"]
    assert report.result("undated_leads").examples == ["00QND0000000003"]


def test_undated_leads_count_in_the_whole_funnel_not_in_a_date_range(undated: Workspace) -> None:
    everyone = analyze(undated, now=NOW)
    assert everyone.n_people == 3
    april = analyze(undated, filters=Filters(date_from=date(2024, 4, 1), date_to=date(2024, 4, 30)), now=NOW)
    assert april.n_people == 2


def test_created_from_events_follows_the_events(undated: Workspace, tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [
        {"name": "leads", "path": "sf_leads_no_created_date.csv", "format": "salesforce_leads"},
        {"name": "history", "path": "sf_lead_history_no_created.csv", "format": "salesforce_lead_history"},
    ])
    (ws.root / "sf_lead_history_no_created.csv").write_text(
        '"Lead ID","Field / Event","Old Value","New Value","Edit Date"\n'
        '"00QND0000000001","Lead Status","Open - Not Contacted","MQL","4/20/2024, 9:00 AM"\n')
    ingest(ws)
    assert fetch(ws, "SELECT lead_id, created_at FROM leads WHERE created_at IS NOT NULL") == [
        ("00QND0000000001", datetime(2024, 4, 20, 9, 0))]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_a_created_date_from_events_at_one_instant_is_timed_when_one_of_them_is(tmp_path: Path,
                                                                             order: tuple[int, int]) -> None:
    # the earliest instant read twice: as a date (midnight) and as a time; which the engine meets first must not
    # decide whether the lead's created date is a date or a time
    events = ["A1,MQL,2024-04-15", "A1,SQL,2024-04-15 00:00:00"]
    ws = csv_workspace(tmp_path / "ws", leads="lead_id,created_at\nA1,\n",
                       stage_events="lead_id,stage,entered_at\n" + "\n".join(events[i] for i in order) + "\n")
    assert fetch(ws, "SELECT created_at, created_at_is_date, created_at_from FROM leads") == [
        (datetime(2024, 4, 15), False, "stage_event")]


def test_a_blank_created_date_loads_undated_but_an_unreadable_one_is_rejected(tmp_path: Path) -> None:
    ws = csv_workspace(tmp_path / "ws", leads="lead_id,created_at\nA1,2024-01-01\nA2,\nA3,n/a\nA4,someday\n")
    assert fetch(ws, "SELECT lead_id, created_at_from FROM leads ORDER BY 1") == [
        ("A1", "file"), ("A2", None), ("A3", None)]
    assert fetch(ws, "SELECT source_row, reason, action FROM quarantine") == [
        (5, "unparseable timestamp", "row_rejected")]


# ------------------------------------------------------------------------------------ mixed UTC offsets

def test_mixed_utc_offsets_are_applied_and_reported(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [{"name": "hs", "path": "hubspot_contacts_dst.csv", "format": "hubspot_contacts"}])
    created = dict(fetch(ws, "SELECT lead_id, created_at FROM leads"))
    assert created["7001"] == datetime(2024, 3, 20, 9, 0)  # +01:00 (CET)
    assert created["7003"] == datetime(2024, 4, 2, 8, 0)  # +02:00 (CEST)
    assert _notes(ws, "utc_offset") == {
        ("created_at", "+01:00"): 2, ("created_at", "+02:00"): 3,
        ("entered_at", "+01:00"): 1, ("entered_at", "+02:00"): 1,
    }
    check = run_quality(ws, now=NOW).result("mixed_utc_offsets")
    assert check.severity == "low" and check.count == 7
    assert check.examples[0] == "hubspot_contacts_dst.csv: leads.created_at +02:00 (3)"
    assert "| hubspot_contacts_dst.csv | leads.created_at | `+01:00` | 2 |" in run_quality(ws, now=NOW).to_markdown()


def test_one_offset_is_not_mixed(tmp_path: Path) -> None:
    ws = csv_workspace(tmp_path / "ws", leads="lead_id,created_at\nA1,2024-01-01T10:00:00Z\nA2,2024-01-02T10:00:00Z\n"
                                              "A3,2024-01-03 10:00\nA4,2024-01-04\n")
    assert _notes(ws, "utc_offset") == {("created_at", "Z"): 2}
    assert run_quality(ws, now=NOW).result("mixed_utc_offsets").count == 0


# ------------------------------------------------------------------------------------ older workspaces

def test_a_workspace_from_before_opens_checks_and_migrates(tmp_path: Path) -> None:
    ws = csv_workspace(tmp_path / "ws", leads="lead_id,created_at\nA1,2024-01-01\n")
    with ws.connect() as con:  # as an earlier leadjourney left it
        con.execute("DROP TABLE ingest_notes")
        con.execute("ALTER TABLE leads DROP COLUMN created_at_from")
    report = run_quality(ws, now=NOW)
    assert report.result("undated_leads").count == 0 and report.result("placeholder_values").count == 0
    ingest(ws, force=True)
    assert fetch(ws, "SELECT lead_id, created_at_from FROM leads") == [("A1", "file")]


# ------------------------------------------------------------------------------------------- the options

def test_outcome_and_placeholder_options_are_validated(tmp_path: Path) -> None:
    cfg = parse_config(default_config_text())
    assert "Closed Won" in cfg.won_values and "Closed Lost" in cfg.lost_values
    assert {"unknown", "n/a", "(not set)", "select", "--select--", "not provided", "#n/a"} <= set(cfg.placeholders)
    with pytest.raises(ConfigError, match=r"outcomes\.lost_values: 'won' also in won_values"):
        parse_config(default_config_text().replace('lost_values = ["Closed Lost",', 'lost_values = ["WON", "Closed Lost",'))
    ws = csv_workspace(tmp_path / "ws", leads="lead_id,created_at\nA1,2024-01-01\n")
    ws = set_option(ws, '# [missing.placeholder_columns]\n# industry = ["Other"]',
                    '[missing.placeholder_columns]\nindustri = ["Other"]')
    with pytest.raises(IngestError, match=r"missing\.placeholder_columns\.industri: not a canonical column"):
        ingest(ws)


def test_parquet_deals_read_outcomes_like_csv(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = Workspace.init(root)
    csv_as_parquet(REAL / "hubspot_deals.csv", root / "deals.parquet")
    ws.set_sources([{"name": "deals", "path": "deals.parquet", "format": "parquet", "table": "opportunities",
                     "columns": {"opportunity_id": "Record ID", "stage": "Deal Stage", "closed_at": "Close Date"}}])
    ingest(ws)
    assert {k: v[0] for k, v in _opps(ws).items()} == {
        "9001": True, "9002": False, "9003": None, "9004": True, "9005": None,
    }


def test_the_creation_trend_leaves_undated_leads_out(undated: Workspace) -> None:
    with open_journeys(undated, now=NOW) as journeys:
        points = ConversionTrend(period="month").fit(journeys).points
    assert {(p.period, p.from_stage, p.entered) for p in points if p.from_stage == "Lead"} == {
        (date(2024, 4, 1), "Lead", 2)}


def test_a_closed_deal_in_an_unknown_stage_is_not_counted_lost(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = Workspace.init(root)
    (root / "opps.csv").write_text(
        '"Opportunity ID","Lead ID","Amount","Created Date","Close Date","Stage","Closed"\n'
        '"006CS0000000001","00QCS0000000001","1000","3/1/2024, 9:00 AM","4/1/2024","Closed Won","1"\n'
        '"006CS0000000002","00QCS0000000002","1000","3/1/2024, 9:00 AM","4/2/2024","Closed - Signed","1"\n'
        '"006CS0000000003","00QCS0000000003","1000","3/1/2024, 9:00 AM","4/3/2024","Closed Lost","1"\n')
    ws.set_sources([{"name": "opps", "path": "opps.csv", "format": "salesforce_opportunities"}])
    ingest(ws)
    assert {k: v[:2] for k, v in _opps(ws).items()} == {
        "006CS0000000001": (True, datetime(2024, 4, 1)),
        "006CS0000000002": (None, datetime(2024, 4, 2)),  # closed, outcome unknown: withheld, and flagged
        "006CS0000000003": (False, datetime(2024, 4, 3)),
    }
    assert run_quality(ws, now=NOW).result("close_dates_without_outcome").examples == ["006CS0000000002"]
