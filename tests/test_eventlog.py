"""The event log export: XES that parses, one trace per person, counts equal to the tables, escaping."""

from __future__ import annotations

import csv
import hashlib
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from conftest import fetch, generated_workspace
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.generate import Dirt
from leadjourney.journeymap.eventlog import export_event_log
from leadjourney.workspace import Workspace
from test_touchpoints import EVENTS, LEADS, NOW, TOUCHES, hand_workspace

NS = "{http://www.xes-standard.org/}"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return hand_workspace(tmp_path_factory.mktemp("small") / "ws")


def _attrs(element: ET.Element) -> dict[str, str]:
    """An XES element's own attributes, key -> value."""
    return {a.attrib["key"]: a.attrib["value"] for a in element if a.tag in (f"{NS}string", f"{NS}date")}


def _traces(path: Path) -> dict[str, list[dict[str, str]]]:
    root = ET.parse(path).getroot()
    assert root.tag == f"{NS}log" and root.attrib["xes.version"] == "1849-2016"
    prefixes = {e.attrib["prefix"] for e in root.findall(f"{NS}extension")}
    assert prefixes == {"concept", "time", "lifecycle", "org"}
    traces = root.findall(f"{NS}trace")
    out = {_attrs(t)["concept:name"]: [_attrs(e) for e in t.findall(f"{NS}event")] for t in traces}
    assert len(out) == len(traces)  # one trace per person
    return out


def _expected_events(ws: Workspace) -> Counter[str]:
    """Events per person from the tables: dated first entries per stage, and every touchpoint (as-of: all)."""
    rows = fetch(ws, """
        SELECT person_id, count(*) FROM (
            SELECT l.person_id, e.stage FROM stage_events e JOIN leads l USING (lead_id)
            WHERE e.entered_at IS NOT NULL GROUP BY 1, 2
            UNION ALL
            SELECT l.person_id, t.kind FROM touchpoints t JOIN leads l USING (lead_id)
        ) GROUP BY 1""")
    return Counter({str(p): int(n) for p, n in rows})


def test_xes_by_hand(small: Workspace, tmp_path: Path) -> None:
    with open_journeys(small, now=NOW) as journeys:
        result = export_event_log(journeys, tmp_path / "log.xes", fmt="xes")
    traces = _traces(result.path)
    expected = _expected_events(small)
    assert set(traces) == set("ABCDEFG") and sum(expected.values()) == 38
    assert {case: len(events) for case, events in traces.items()} == expected
    assert (result.cases, result.events, result.stage_events, result.touchpoints) == (7, 38, 18, 20)
    a = traces["A"]
    assert [e["concept:name"] for e in a] == [
        "Entered Lead", "form_fill", "email_open", "Entered MQL", "call", "sales_email", "call",
        "Entered SQL", "email_open", "webinar", "Entered Opportunity",
    ]  # time order; at the MQL instant, the stage entry first
    for events in traces.values():
        stamps = [datetime.fromisoformat(e["time:timestamp"]) for e in events]
        assert stamps == sorted(stamps) and all(s.utcoffset() is not None and not s.utcoffset() for s in stamps)
        assert all(e["lifecycle:transition"] == "complete" for e in events)
    assert a[0]["time:timestamp"] == "2026-01-01T00:00:00.000+00:00"
    # org:resource on human touches only: the person's owner, pseudonymized (A2's e-mail belongs to A, Ann's)
    resources = {(e["concept:name"], e.get("org:resource")) for events in traces.values() for e in events
                 if e.get("actor") == "human"}
    ann = pseudonym(small, "Ann")
    assert resources == {("call", ann), ("sales_email", ann), ("demo", ann), ("meeting", ann)}
    assert "Ann" not in result.path.read_text("utf-8")
    assert not any("org:resource" in e for events in traces.values() for e in events if e.get("actor") != "human")
    assert traces["C"][1] == {"concept:name": "form_fill", "time:timestamp": "2026-01-02T00:00:00.000+00:00",
                              "lifecycle:transition": "complete", "channel": "paid_search", "actor": "automated",
                              "event_type": "touchpoint"}


def test_xes_in_several_batches_is_the_same_log(small: Workspace, tmp_path: Path) -> None:
    with open_journeys(small, now=NOW) as journeys:
        export_event_log(journeys, tmp_path / "one.xes", fmt="xes")
        export_event_log(journeys, tmp_path / "many.xes", fmt="xes", people_per_batch=2)
    assert _traces(tmp_path / "many.xes") == _traces(tmp_path / "one.xes")


def test_csv_by_hand(small: Workspace, tmp_path: Path) -> None:
    with open_journeys(small, Filters(sources=("seo",)), NOW) as journeys:
        result = export_event_log(journeys, tmp_path / "log.csv")
    with result.path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["case_id", "activity", "timestamp", "lifecycle", "resource", "channel", "actor",
                             "event_type"]
    seo = {"A", "B", "D", "E", "G"}
    expected = _expected_events(small)
    assert Counter(r["case_id"] for r in rows) == {k: v for k, v in expected.items() if k in seo}
    assert (result.format, result.cases, result.events) == ("csv", 5, len(rows))
    assert result.stage_events == sum(r["event_type"] == "stage" for r in rows) == 4 + 2 + 5 + 3 + 2
    call = next(r for r in rows if r["activity"] == "call" and r["timestamp"] == "2026-01-05T00:00:00.000Z")
    assert (call["case_id"], call["resource"], call["actor"], call["lifecycle"]) == (
        "A", pseudonym(small, "Ann"), "human", "complete")


def test_special_characters_are_escaped(tmp_path: Path) -> None:
    owner = 'O\'Brien & <Sons> "Sales"'
    leads = LEADS.replace("A,2026-01-01T00:00:00Z,seo,open,a@example.com,Ann",
                          f'"A&<1>",2026-01-01T00:00:00Z,seo,open,a@example.com,"{owner.replace(chr(34), 2 * chr(34))}"')
    events = EVENTS.replace("A,", '"A&<1>",')
    touches = TOUCHES.replace("A,", '"A&<1>",').replace(",seo,automated", ',"Web<&>""x""",automated')
    ws = hand_workspace(tmp_path / "ws", leads, events, touches)
    with ws.connect() as con:  # ingest drops control characters; another loader might not
        for table, key in (("touchpoints", "lead_id"), ("person_touches", "person_key")):
            con.execute(f"UPDATE {table} SET channel = 'dir' || chr(1) || 'ect' "
                        f"WHERE {key} = (SELECT {key} FROM person_journeys WHERE person_id = 'F')")
    with open_journeys(ws, now=NOW) as journeys:
        xes = export_event_log(journeys, tmp_path / "log.xes", fmt="xes")
        table = export_event_log(journeys, tmp_path / "log.csv", fmt="csv")
    traces = _traces(xes.path)
    assert "A&<1>" in traces and len(traces) == 7
    events_of_a = traces["A&<1>"]
    assert {e.get("org:resource") for e in events_of_a if e.get("actor") == "human"} == {pseudonym(ws, owner)}
    assert {e.get("channel") for e in events_of_a if e["concept:name"] == "form_fill"} == {'web<&>"x"'}
    assert traces["F"][-1]["channel"] == "direct"  # the control character (not allowed in XML 1.0) is dropped
    raw = xes.path.read_text("utf-8")
    assert "&amp;" in raw and "&lt;" in raw and "&quot;" in raw and "Brien" not in raw
    with table.path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["case_id"] == "A&<1>"]
    assert {r["resource"] for r in rows if r["actor"] == "human"} == {pseudonym(ws, owner)}


def pseudonym(ws: Workspace, owner: str) -> str:
    """The owner as the export shows it, computed independently: owner- and 8 hex digits of SHA-256 over
    the workspace's secret salt and the name."""
    salt = fetch(ws, "SELECT value FROM meta WHERE key = 'email_salt'")[0][0]
    assert len(salt) >= 32  # a random secret, not empty
    return "owner-" + hashlib.sha256((salt + owner).encode()).hexdigest()[:8]


def test_unknown_format_is_refused(small: Workspace, tmp_path: Path) -> None:
    with open_journeys(small, now=NOW) as journeys, pytest.raises(ValueError, match="csv, xes"):
        export_event_log(journeys, tmp_path / "log.json", fmt="json")


# ------------------------------------------------------------------ the generator's files


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    root = tmp_path_factory.mktemp("clean") / "ws"
    ws, data = generated_workspace(root, n_leads=2000, seed=9, end=date(2026, 6, 30), days=120, dirt=Dirt.none())
    return ws, data.out_dir


def test_counts_equal_the_generated_files(clean: tuple[Workspace, Path], tmp_path: Path) -> None:
    ws, out_dir = clean
    truth: dict[str, Any] = pq.read_table(out_dir / "ground_truth_leads.parquet").to_pydict()
    touches = pq.read_table(out_dir / "touchpoints.parquet", columns=["lead_id"]).to_pydict()["lead_id"]
    stage_columns = ("lead_at", "mql_at", "sql_at", "opportunity_at", "customer_at")
    stages_per_lead = Counter({lead: sum(truth[c][i] is not None for c in stage_columns)
                               for i, lead in enumerate(truth["lead_id"])})
    expected = stages_per_lead + Counter(touches)
    with open_journeys(ws, now=NOW) as journeys:
        xes = export_event_log(journeys, tmp_path / "log.xes", fmt="xes")
        table = export_event_log(journeys, tmp_path / "log.csv")
    traces = _traces(xes.path)
    assert {case: len(events) for case, events in traces.items()} == expected
    assert (xes.cases, xes.touchpoints, xes.stage_events) == (2000, len(touches), sum(stages_per_lead.values()))
    with table.path.open(newline="") as f:
        assert Counter(r["case_id"] for r in csv.DictReader(f)) == expected
    assert (table.cases, table.events) == (xes.cases, xes.events)
