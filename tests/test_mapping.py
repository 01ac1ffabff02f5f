"""Issue 15, mapping without reshaping: constants, row filters, value maps, joined ids, lists without
dates, and a stage list that is one edit.

The files under tests/data/real_exports are shaped like real exports: a Salesforce "Closed Won
Opportunities" report (no Stage column), a process-mining event log (XES attribute names, a START
and a COMPLETE row per activity), a HubSpot contact list exported without date columns, a Marketo
lead list with its own source spellings, trade-show badge scans keyed by account and contact.
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import fetch, run_cli
from leadjourney.analysis import analyze
from leadjourney.analysis.journeys import Filters
from leadjourney.config import default_config_text, parse_config
from leadjourney.errors import ConfigError, EmptySelectionError, IngestError
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

REAL = Path(__file__).parent / "data" / "real_exports"
NOW = datetime(2024, 9, 1)


def _workspace(root: Path, sources: list[dict[str, Any]], config: str | None = None) -> Workspace:
    ws = Workspace.init(root, exist_ok=True)
    if config is not None:
        ws.config_path.write_text(config, "utf-8")
    for s in sources:
        shutil.copy(REAL / s["path"], root / s["path"])
    Workspace.open(root).set_sources(sources)
    ws = Workspace.open(root)
    ingest(ws)
    return Workspace.open(root)


def _rows(name: str) -> list[dict[str, str]]:
    with (REAL / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# ------------------------------------------------------------------------------------------------ constants

WON = {"name": "won", "path": "sf_closed_won_opportunities.csv", "format": "salesforce_opportunities"}


def test_a_closed_won_report_without_a_stage_column_needs_only_a_constant(tmp_path: Path) -> None:
    bare = _workspace(tmp_path / "bare", [WON])
    # without the constant the report's deals have no outcome: no Customer entries
    assert fetch(bare, "SELECT count(*) FROM opportunities WHERE is_won") == [(0,)]
    assert fetch(bare, "SELECT count(*) FROM stage_events WHERE stage = 'Customer'") == [(0,)]

    ws = _workspace(tmp_path / "ws", [{**WON, "columns": {"stage": {"value": "Closed Won"}}}])
    report = _rows(WON["path"])
    assert fetch(ws, "SELECT opportunity_id, is_won, stage FROM opportunities ORDER BY 1") == [
        (r["Opportunity ID"], True, "Closed Won") for r in report]
    customers = fetch(ws, "SELECT lead_id, CAST(entered_at AS DATE) FROM stage_events WHERE stage = 'Customer' "
                          "ORDER BY 1")
    expected = [(r["Converted Lead: Lead ID"], datetime.strptime(r["Close Date"], "%m/%d/%Y").date())
                for r in report if r["Converted Lead: Lead ID"]]
    assert customers == sorted(expected) and len(customers) == 2
    assert fetch(ws, "SELECT count(*) FROM quarantine") == [(0,)]


def test_a_won_deals_file_loads_as_customer_entries_with_a_constant_stage(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [{
        "name": "won", "path": WON["path"], "format": "csv", "table": "stage_events",
        "columns": {"lead_id": "Converted Lead: Lead ID", "entered_at": "Close Date",
                    "stage": {"value": "Customer"}},
    }])
    report = _rows(WON["path"])
    assert fetch(ws, "SELECT lead_id, stage FROM stage_events WHERE origin = 'won' ORDER BY 1") == [
        (r["Converted Lead: Lead ID"], "Customer") for r in report if r["Converted Lead: Lead ID"]]
    # the deal without a lead is not silently dropped: quarantined, naming its row and column
    assert fetch(ws, "SELECT source_row, column_name, reason FROM quarantine") == [(4, "lead_id", "missing value")]


# ------------------------------------------------------------------------------------------------ row filters

LOG = {"name": "log", "path": "process_mining_event_log.csv", "format": "csv", "table": "stage_events",
       "where": "`lifecycle:transition` = 'COMPLETE'",
       "columns": {"lead_id": "case:concept:name", "stage": "concept:name", "entered_at": "time:timestamp"}}
STAGE_OF = {"Lead": "Lead", "Marketing Qualified Lead": "MQL", "Sales Qualified Lead": "SQL"}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)


def test_an_event_log_loads_its_completions_and_counts_the_rows_left_out(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [LOG])
    log = _rows(LOG["path"])
    completed = sorted((r["case:concept:name"], STAGE_OF[r["concept:name"]], _utc(r["time:timestamp"]))
                       for r in log if r["lifecycle:transition"] == "COMPLETE")
    assert fetch(ws, "SELECT lead_id, stage, entered_at FROM stage_events WHERE origin = 'log' ORDER BY ALL") == \
        completed
    # L-1002's MQL only started: it has not reached MQL
    assert ("L-1002", "MQL") not in {(lead, stage) for lead, stage, _ in completed}
    left_out = sum(r["lifecycle:transition"] != "COMPLETE" for r in log)
    assert fetch(ws, "SELECT column_name, sum(n) FROM ingest_notes WHERE note = 'filtered_out' GROUP BY 1") == [
        ("lifecycle:transition", left_out)]
    assert fetch(ws, "SELECT rows_read, rows_loaded FROM ingests WHERE origin = 'log'") == [(len(log), len(completed))]


def test_ingest_says_how_many_rows_the_filter_left_out(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    shutil.copy(REAL / LOG["path"], ws.root / LOG["path"])
    ws.set_sources([LOG])
    result = run_cli("ingest", str(ws.root))
    assert result.returncode == 0, result.stderr
    left_out = sum(r["lifecycle:transition"] != "COMPLETE" for r in _rows(LOG["path"]))
    assert f"{left_out} row(s) left out by the source's where (on lifecycle:transition), not loaded" in \
        " ".join(result.stdout.split())


def test_filter_forms_select_the_rows_sql_would(tmp_path: Path) -> None:
    """IN, NOT, LIKE, IS NULL, a numeric comparison and a bare header name, each against Python's reading."""
    cases = {
        "a": ("concept_name IN ('Lead', 'Sales Qualified Lead') AND NOT `lifecycle:transition` = 'START'",
              lambda r: r["concept:name"] in ("Lead", "Sales Qualified Lead") and r["lifecycle:transition"] != "START"),
        "b": ("`org:resource` LIKE 'SDR%' OR `org:resource` ILIKE 'CHAT'",
              lambda r: r["org:resource"].startswith("SDR") or r["org:resource"].lower() == "chat"),
        "c": ("`case:concept:name` IS NOT NULL AND `lifecycle:transition` <> 'START'",
              lambda r: r["lifecycle:transition"] != "START"),
    }
    sources = [{**LOG, "name": name, "where": text} for name, (text, _) in cases.items()]
    ws = _workspace(tmp_path / "ws", sources)
    log = _rows(LOG["path"])
    for name, (_, keep) in cases.items():
        expected = sum(keep(r) for r in log)
        loaded = fetch(ws, "SELECT rows_loaded FROM ingests WHERE origin = ?", [name])[0][0]
        assert loaded == expected, name


@pytest.mark.parametrize("text", [
    "lifecycle = 'COMPLETE'; DROP TABLE leads",
    "lifecycle = 'COMPLETE' -- the rest",
    "lower(lifecycle) = 'complete'",
    "lifecycle = (SELECT 'COMPLETE')",
    "'lifecycle' = 'COMPLETE'",
    "lifecycle = 'COMPLETE' OR 1 = 1",
    "lifecycle",
    "lifecycle = 'COMPLETE",
    "",
])
def test_a_filter_that_is_not_a_simple_condition_is_a_config_error(text: str) -> None:
    config = default_config_text() + f"""
[[sources]]
name = "log"
path = "log.csv"
format = "csv"
table = "stage_events"
where = {_toml(text)}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(config)
    message = str(caught.value)
    assert message.startswith("leadjourney.toml: sources[0].where: source 'log': ") and "\n" not in message


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize(("where", "named"), [
    ("lifecycle_state = 'COMPLETE'", "lifecycle_state"),
    # a quoted name is a name, whatever it holds: it cannot close the quote and add SQL
    ('`case" = 1 OR "x` = \'1\'', 'case" = 1 OR "x'),
])
def test_a_filter_naming_a_column_the_file_lacks_stops_the_ingest(tmp_path: Path, where: str, named: str) -> None:
    ws = Workspace.init(tmp_path / "ws")
    shutil.copy(REAL / LOG["path"], ws.root / LOG["path"])
    ws.set_sources([{**LOG, "where": where}])
    with pytest.raises(IngestError) as caught:
        ingest(Workspace.open(ws.root))
    message = str(caught.value)
    assert f"source 'log': where names column {named!r}, which the file does not have" in message
    assert "'lifecycle:transition'" in message  # the columns it has
    assert fetch(ws, "SELECT count(*) FROM ingests") == [(0,)]


# ------------------------------------------------------------------------------------------------ value maps

MAP = {"Website - Demo Request": "seo", "Google AdWords": "paid_search", "LinkedIn Sponsored": "paid_social"}


def test_a_value_map_replaces_listed_values_and_passes_the_rest(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [{
        "name": "mk", "path": "marketo_leads_source_values.csv", "format": "csv", "table": "leads",
        "columns": {"lead_id": "Id", "created_at": "Created At", "source": {"column": "Lead Source", "map": MAP}},
    }])
    by_key = {k.strip().lower(): v for k, v in MAP.items()}
    loaded = dict(fetch(ws, "SELECT lead_id, source FROM leads"))
    for r in _rows("marketo_leads_source_values.csv"):
        mapped = by_key.get(r["Lead Source"].strip().lower())
        if mapped is not None:  # matched ignoring case and surrounding spaces
            assert loaded[r["Id"]] == mapped, r
    # not in the map: the value as the file wrote it, normalized like any source (an alias, else lower-cased)
    assert loaded["1204"] == "events" and loaded["1206"] == "podcast sponsorship"


# ------------------------------------------------------------------------------------------------ joined ids

BADGES = {"name": "badges", "path": "tradeshow_badge_scans.csv", "format": "csv", "table": "leads",
          "columns": {"lead_id": {"columns": ["Account", "Contact"], "separator": ":"}, "created_at": "Scanned"}}
MEETINGS = {"name": "meetings", "path": "tradeshow_meetings.csv", "format": "csv", "table": "touchpoints",
            "columns": {"lead_id": {"columns": ["Account", "Contact"], "separator": ":"},
                        "occurred_at": "Meeting Date", "kind": "Meeting Type"}}


def test_ids_joined_from_several_columns_link_files_and_keep_names_out(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [BADGES, MEETINGS])
    scans = _rows(BADGES["path"])
    people = {(r["Account"], r["Contact"]) for r in scans if r["Contact"]}
    assert fetch(ws, "SELECT count(DISTINCT lead_id) FROM leads") == [(len(people),)]  # same name, two accounts
    # each meeting reaches its person's lead through the same joined id
    assert fetch(ws, "SELECT count(*) FROM touchpoints t SEMI JOIN leads l ON l.lead_id = t.lead_id") == [(2,)]
    # a name in an id would be personal data in clear: the id is a salted hash
    stored = fetch(ws, "SELECT lead_id FROM leads UNION ALL SELECT lead_id FROM touchpoints "
                       "UNION ALL SELECT lead_id FROM stage_events")
    assert all(re.fullmatch(r"p-[0-9a-f]{16}", str(r[0])) for r in stored)
    assert not any("Roe" in str(v) or "Patel" in str(v) for row in fetch(ws, "SELECT * FROM leads") for v in row)
    # the scan without a contact has no id: quarantined, not loaded under the account alone
    assert fetch(ws, "SELECT source_row, column_name, reason FROM quarantine") == [(5, "lead_id", "missing value")]


def test_ids_joined_from_columns_that_are_not_personal_stay_readable(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [{
        "name": "deals", "path": WON["path"], "format": "csv", "table": "opportunities",
        "columns": {"opportunity_id": {"columns": ["Account Name", "Opportunity Name"], "separator": " / "}},
    }])
    assert fetch(ws, "SELECT opportunity_id FROM opportunities ORDER BY 1") == sorted(
        (f"{r['Account Name']} / {r['Opportunity Name']}",) for r in _rows(WON["path"]))


# ------------------------------------------------------------------------------------------------ no dates

HS = {"name": "hs", "path": "hubspot_contacts_no_dates.csv", "format": "hubspot_contacts"}


def test_a_contact_list_without_dates_loads_and_nothing_invents_a_date(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws", [HS])
    contacts = _rows(HS["path"])
    assert fetch(ws, "SELECT count(*), count(created_at) FROM leads") == [(len(contacts), 0)]
    assert fetch(ws, "SELECT count(*) FROM quarantine") == [(0,)]
    # the current lifecycle stage is reached, its date unknown
    stage_of = {"Marketing Qualified Lead": "MQL", "Sales Qualified Lead": "SQL"}
    reached = {(r["Record ID"], stage_of[r["Lifecycle Stage"]]) for r in contacts if r["Lifecycle Stage"] in stage_of}
    assert set(fetch(ws, "SELECT lead_id, stage FROM stage_events WHERE stage <> 'Lead'")) == reached
    # no timestamp anywhere: not in the tables, not in the per-person index
    assert fetch(ws, "SELECT count(entered_at) FROM stage_events") == [(0,)]
    for table in ("leads", "stage_events", "person_journeys"):
        for row in fetch(ws, f"SELECT * FROM {table}"):
            assert not any(isinstance(v, datetime | date) for v in row), (table, row)
    result = analyze(ws, now=NOW)
    assert [s.reached for s in result.funnel.stages][:3] == [4, 2, 1]
    for row in result.time_in_stage.rows:  # every duration withheld, with its reason
        assert row.median_days is None and row.status.reason == "no dated conversion", row
    # a date range selects nobody rather than guessing when these people arrived
    with pytest.raises(EmptySelectionError):
        analyze(ws, filters=Filters(date_from=date(2024, 1, 1), date_to=date(2024, 12, 31)), now=NOW)


# ------------------------------------------------------------------------------------------------ config forms

@pytest.mark.parametrize(("entry", "message"), [
    ('stage = { vlaue = "Customer" }', "sources[0].columns.stage.vlaue: source 'x': unknown field; did you mean 'value'?"),
    ('stage = { value = "Customer", column = "Stage" }', "give exactly one of column (a file column), columns"),
    ('lead_id = { columns = ["Account"] }', "sources[0].columns.lead_id.columns: source 'x': list at least two"),
    ('source = { column = "Lead Source", map = { "Web" = 1 } }', "'Web' maps to 1; expected text"),
    ('source = { column = "Lead Source", separator = "-" }', "separator joins columns = [...]"),
    ('stage = { value = ["a"] }', "sources[0].columns.stage.value: source 'x': expected text or a number"),
    ("stage = 5", "expected a column name or a table like"),
])
def test_column_rules_are_checked_with_the_key_named(entry: str, message: str) -> None:
    config = default_config_text() + f"""
[[sources]]
name = "x"
path = "x.csv"
format = "csv"
table = "stage_events"
[sources.columns]
{entry}
"""
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(config)


def test_a_rule_for_a_column_the_table_does_not_have_is_named(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    shutil.copy(REAL / HS["path"], ws.root / HS["path"])
    ws.set_sources([{**HS, "columns": {"stage": {"value": "Customer"}}}])
    with pytest.raises(IngestError, match=re.escape("source 'hs': [sources.columns] stage is not a column of leads")):
        ingest(Workspace.open(ws.root))


# ------------------------------------------------------------------------------------------------ stage list

def _without_opportunity(text: str) -> str:
    block = '[[stages]]\nname = "Opportunity"\n'
    start = text.index(block)
    end = text.index("[[stages]]", start + len(block))
    return text[:start] + text[end:]


def test_removing_a_stage_names_every_line_that_still_names_it() -> None:
    text = _without_opportunity(default_config_text())
    text = text.replace('# transitions = ["MQL->SQL", "SQL->Opportunity"]',
                        'transitions = ["MQL->SQL", "SQL->Opportunity"]')
    text = text.replace("[targets]\n", '[targets]\n"SQL->Opportunity" = 0.4\n"MQL->SQL" = 0.3\n')
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    message = str(caught.value)
    assert "\n" not in message
    assert "[[stages]] are Lead, MQL, SQL, Customer (transitions: Lead->MQL, MQL->SQL, SQL->Customer)" in message
    lines = text.splitlines()
    found = re.findall(r"(definitions\[\d+\]\.stage|monitor\.transitions|targets\.\"[^\"]+\"): [^;]*?\(line (\d+)\)",
                       message)
    assert [k for k, _ in found] == ["definitions[3].stage", "monitor.transitions", 'targets."SQL->Opportunity"']
    for key, line in found:  # each line number points at the line to change
        assert "Opportunity" in lines[int(line) - 1], (key, lines[int(line) - 1])


def test_with_the_template_a_stage_is_removed_in_two_named_places_and_the_rest_follows() -> None:
    text = _without_opportunity(default_config_text())
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert re.search(r"change each line that names another: definitions\[3\]\.stage: 'Opportunity' is not a "
                     r"configured stage \(line \d+\)$", str(caught.value))
    fixed = text.replace('stage = "Opportunity"\n', "")
    config = parse_config(fixed)
    assert config.stage_names == ["Lead", "MQL", "SQL", "Customer"]
    assert config.monitor.transitions == ("MQL->SQL", "SQL->Customer")  # the default gates, out of MQL and SQL
    assert next(d for d in config.definitions if d.term == "Opportunity").stage is None


def test_renaming_a_stage_is_one_edit() -> None:
    """MQL renamed (its aliases keep "mql"): definitions, targets and monitor transitions that say MQL follow."""
    text = default_config_text().replace('name = "MQL"', 'name = "Marketing Qualified"')
    text = text.replace("[targets]\n", '[targets]\n"MQL -> SQL" = 0.3\n')
    assert parse_config(text).monitor.transitions == ("Marketing Qualified->SQL", "SQL->Opportunity")
    text = text.replace('# transitions = ["MQL->SQL", "SQL->Opportunity"]', 'transitions = ["MQL->SQL"]')
    config = parse_config(text)
    assert config.monitor.transitions == ("Marketing Qualified->SQL",)
    assert next(d for d in config.definitions if d.term == "MQL").stage == "Marketing Qualified"
    assert config.targets == {"Marketing Qualified->SQL": 0.3}


def test_a_misspelt_source_field_is_named_not_ignored() -> None:
    config = default_config_text() + """
[[sources]]
name = "log"
path = "log.csv"
format = "csv"
table = "stage_events"
wehre = "lifecycle = 'COMPLETE'"
"""
    with pytest.raises(ConfigError, match=re.escape("sources[0].wehre: unknown field; did you mean 'where'?")):
        parse_config(config)
