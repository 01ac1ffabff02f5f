"""Lead stage definitions: criteria config, drift and SLA in the engine, sign-offs, the document and CLI."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import csv_workspace, generated_sources
from conftest import run_cli as run
from leadjourney.analysis.definitions import DefinitionCheck, approve, sign_offs
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.speed_to_lead import SpeedToLead
from leadjourney.analysis.stats import wilson_interval
from leadjourney.config import default_config_text, parse_config
from leadjourney.errors import ConfigError, LeadJourneyError
from leadjourney.generate import Dirt, generate
from leadjourney.ingest import ingest
from leadjourney.reports.definitions import definitions_document
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)


def with_definitions(blocks: str) -> str:
    """The default template with its [[definitions]] replaced by ``blocks``."""
    text = default_config_text()
    start = text.index("[[definitions]]")
    end = text.index("# Sources: one [[sources]] block per file.")
    return text[:start] + blocks + "\n" + text[end:]


def test_template_prefills_the_playbook_terms() -> None:
    cfg = parse_config(default_config_text())
    terms = [d.term for d in cfg.definitions]
    assert terms[:6] == ["Lead", "MQL", "SQL", "Opportunity", "Handoff", "Speed-to-Lead SLA"]
    assert {"Touchpoint", "Drop-off point", "Dark lead"} <= set(terms)
    by_term = {d.term: d for d in cfg.definitions}
    assert [c.text for c in by_term["SQL"].criteria] == ["human_touches >= 1"]
    assert by_term["SQL"].stage == "SQL" and by_term["Speed-to-Lead SLA"].sla_minutes == 5
    assert all(d.definition for d in cfg.definitions)
    # the commented examples in the template are valid criteria
    text = default_config_text().replace("# criteria = [", "criteria = [")
    examples = parse_config(text).definitions
    assert [c.text for c in examples[1].criteria] == ["employee_count >= 50", "touches >= 3"]


# ------------------------------------------------------------------ invalid criteria name the key

OK = 'term = "MQL"\ndefinition = "x"\nstage = "MQL"\n'


@pytest.mark.parametrize(("block", "message"), [
    ('criteria = ["employe_count >= 50"]',
     "definitions[1].criteria[0]: unknown field 'employe_count'; fields: employee_count, industry,"),
    ('criteria = ["touches >= 3", "industry >= 5"]',
     "definitions[1].criteria[1]: '>=' does not apply to industry; use =, !=, in, not in, matches"),
    ('criteria = ["touches >= lots"]', "definitions[1].criteria[0]: expected a number, a quoted text"),
    ('criteria = ["source in \'seo\'"]', "definitions[1].criteria[0]: 'in' takes a list"),
    ('criteria = ["industry = 5"]', "definitions[1].criteria[0]: industry compares with quoted text, found 5"),
    ('criteria = ["job_title matches \'(\'"]', "definitions[1].criteria[0]: invalid regular expression"),
    ('criteria = ["status = \'won\'"]', "definitions[1].criteria[0]: status is one of open, disqualified, converted"),
    ('criteria = ["persona = \'cfo\'"]', "definitions[1].criteria[0]: no such persona"),
    ('criteria = ["touches"]', "definitions[1].criteria[0]: cannot read 'touches'"),
    ('criteria = "touches >= 3"', "definitions[1].criteria: expected a list of strings"),
    ('stage = "Nurture"', "definitions[1].stage: 'Nurture' is not a configured stage"),
    ('sla_minutes = 0', "definitions[1].sla_minutes: must be positive"),
    ('stages = "MQL"', "definitions[1].stages: unknown field"),
])
def test_invalid_definitions_name_the_key(block: str, message: str) -> None:
    second = 'term = "SQL"\ndefinition = "y"\n' + block + "\n"
    if block.startswith("criteria") and "stage" not in block:
        second = 'term = "SQL"\ndefinition = "y"\nstage = "SQL"\n' + block + "\n"
    text = with_definitions(f"[[definitions]]\n{OK}\n[[definitions]]\n{second}")
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text, origin="acme/leadjourney.toml")


@pytest.mark.parametrize(("blocks", "message"), [
    ('[[definitions]]\nterm = "SQL"\ndefinition = "y"\ncriteria = ["touches >= 1"]\n',
     "definitions[0].criteria: criteria apply to a stage"),
    (f'[[definitions]]\n{OK}\n[[definitions]]\nterm = "m q l"\ndefinition = "again"\n',
     "definitions[1].term: term 'm q l' is empty or used twice"),
    ('[[definitions]]\nterm = "SQL"\n', "definitions[0].definition: is required"),
    ('[definitions]\nterm = "MQL"', "definitions: expected [[definitions]] blocks"),
])
def test_incomplete_definitions_name_the_key(blocks: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(with_definitions(blocks))


def test_definitions_must_be_blocks() -> None:
    with pytest.raises(ConfigError, match=re.escape("definitions[0]: expected a [[definitions]] block")):
        parse_config('definitions = ["MQL"]\n' + with_definitions(""))


def test_criteria_values_are_brought_to_the_stored_form() -> None:
    cfg = parse_config(with_definitions(
        '[[definitions]]\nterm = "MQL"\ndefinition = "x"\nstage = "marketing qualified lead"\n'
        'criteria = ["source in [\'Organic Search\', \'PPC\']", "has_touch = \'Form Fill\'", '
        '"industry != \\"Retail\\"", "employee_count >= 50.5", "persona in [\'SMB_Founder\']"]\n'))
    d = cfg.definitions[0]
    assert d.stage == "MQL"
    assert [(c.field, c.op, c.values) for c in d.criteria] == [
        ("source", "in", ("seo", "paid_search")), ("has_touch", "=", ("form_fill",)),
        ("industry", "!=", ("retail",)), ("employee_count", ">=", (50.5,)), ("persona", "in", ("smb_founder",))]


# ------------------------------------------------------------------ hand-made workspace

DEFINITIONS = """
[[definitions]]
term = "Lead"
definition = "Any person who has provided contact information through an inbound channel."

[[definitions]]
term = "MQL"
definition = "Fits the ICP and engaged."
stage = "MQL"
criteria = ["employee_count >= 50", "touches >= 2", "has_touch = 'form_fill'", "source in ['seo', 'Paid Search']"]

[[definitions]]
term = "SQL"
definition = "Accepted by Sales after a conversation."
stage = "sql"
criteria = ["human_touches >= 1", "industry != 'retail'", "job_title matches '\\\\b(vp|head)\\\\b'"]

[[definitions]]
term = "Opportunity"
definition = "A deal in a market we serve."
stage = "Opportunity"
criteria = ["country in ['US', 'de']", "status != 'disqualified'"]

[[definitions]]
term = "Speed-to-Lead SLA"
definition = "A person calls back within 30 minutes."
sla_minutes = 30
"""

# P1 meets everything.  P2: 20 employees.  P3: one touch before MQL (its page view comes after), and at
# SQL no human touch yet (the call comes a day later), a retail company.  P4: size unknown, no form fill,
# a referral.  P5: its form fill is at the instant of the MQL entry (counts); at SQL no industry and not a
# VP/head.  P6 + P6b are one person: P6b's form fill counts for P6.  P7: MQL entry undated.  P8: no MQL.
# P9: a student (excluded).  Opportunity: P1 (US, open); P2 undated (DE, disqualified) is judged too:
# its criteria are lead fields only.
LEADS = """lead_id,created_at,source,status,email,employee_count,industry,job_title,country
P1,2026-01-01T00:00:00Z,seo,open,p1@example.com,100,Software,VP Sales,US
P2,2026-01-01T00:00:00Z,seo,disqualified,p2@example.com,20,Software,VP Ops,DE
P3,2026-01-01T00:00:00Z,paid search,open,p3@example.com,500,Retail,Head of IT,US
P4,2026-01-01T00:00:00Z,referral,open,p4@example.com,,Software,VP IT,US
P5,2026-01-01T00:00:00Z,seo,open,p5@example.com,60,,Engineer,US
P6,2026-01-01T00:00:00Z,seo,open,p6@example.com,80,Software,CTO,US
P6b,2026-01-15T00:00:00Z,seo,open,P6@Example.com,80,Software,CTO,US
P7,2026-01-01T00:00:00Z,seo,open,p7@example.com,10,Software,CTO,US
P8,2026-01-01T00:00:00Z,seo,open,p8@example.com,10,Software,CTO,US
P9,2026-01-01T00:00:00Z,seo,open,p9@example.com,10,Software,Student,US
"""
EVENTS = """lead_id,stage,entered_at
P1,MQL,2026-02-01T00:00:00Z
P1,SQL,2026-03-01T00:00:00Z
P1,Opportunity,2026-03-10T00:00:00Z
P2,MQL,2026-02-01T00:00:00Z
P2,Opportunity,
P3,MQL,2026-02-01T00:00:00Z
P3,SQL,2026-03-01T00:00:00Z
P4,MQL,2026-02-01T00:00:00Z
P5,MQL,2026-02-01T00:00:00Z
P5,SQL,2026-03-01T00:00:00Z
P6,MQL,2026-02-01T00:00:00Z
P7,MQL,
P9,MQL,2026-02-01T00:00:00Z
"""
TOUCHES = """lead_id,occurred_at,kind,actor
P1,2026-01-10T00:00:00Z,form_fill,automated
P1,2026-01-20T00:00:00Z,page_view,automated
P1,2026-02-02T00:00:00Z,call,human
P2,2026-01-05T00:00:00Z,form_fill,automated
P2,2026-01-06T00:00:00Z,email_open,automated
P2,2026-02-01T00:10:00Z,call,human
P3,2026-01-05T00:00:00Z,Form Fill,automated
P3,2026-02-02T00:00:00Z,page_view,automated
P3,2026-03-02T00:00:00Z,call,human
P4,2026-01-05T00:00:00Z,page_view,automated
P4,2026-01-06T00:00:00Z,email_open,automated
P4,2026-01-07T00:00:00Z,email_click,automated
P4,2026-02-01T00:30:00Z,call,human
P5,2026-01-15T00:00:00Z,page_view,automated
P5,2026-02-01T00:00:00Z,form_fill,automated
P5,2026-02-15T00:00:00Z,call,human
P6,2026-01-10T00:00:00Z,page_view,automated
P6b,2026-01-20T00:00:00Z,form_fill,automated
P6b,2026-02-01T00:20:00Z,sales_email,human
P9,2026-01-05T00:00:00Z,page_view,automated
"""


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return csv_workspace(tmp_path_factory.mktemp("definitions") / "ws", with_definitions(DEFINITIONS),
                         leads=LEADS, stage_events=EVENTS, touchpoints=TOUCHES)


@pytest.fixture(scope="module")
def hand_check(hand: Workspace) -> DefinitionCheck:
    with open_journeys(hand, now=NOW) as journeys:
        return DefinitionCheck().fit(journeys)


def _failed(check: DefinitionCheck, term: str) -> dict[str, int]:
    row = next(r for r in check.drift if r.term == term)
    return {c.criterion: c.n_failed for c in row.criteria}


def test_mql_drift_by_hand(hand_check: DefinitionCheck) -> None:
    assert hand_check.as_of == datetime(2026, 3, 10)
    assert [r.term for r in hand_check.drift] == ["MQL", "SQL", "Opportunity"]
    mql = hand_check.drift[0]
    assert (mql.stage, mql.n_entered, mql.n_undated, mql.n_judged, mql.n_failed) == ("MQL", 7, 1, 6, 3)
    assert mql.share == pytest.approx(3 / 6) and mql.ci == pytest.approx(wilson_interval(3, 6))
    assert mql.examples == ["P2", "P3", "P4"]
    assert _failed(hand_check, "MQL") == {
        "employee_count >= 50": 2,  # P2 (20), P4 (unknown)
        "touches >= 2": 1,  # P3
        "has_touch = 'form_fill'": 1,  # P4
        "source in ['seo', 'Paid Search']": 1,  # P4 (referral); P3's paid search matches
    }
    assert mql.most_failed is not None and mql.most_failed.criterion == "employee_count >= 50"


def test_sql_and_lead_field_drift_by_hand(hand_check: DefinitionCheck) -> None:
    sql = hand_check.drift[1]
    assert (sql.stage, sql.n_entered, sql.n_judged, sql.n_failed, sql.examples) == ("SQL", 3, 3, 2, ["P3", "P5"])
    assert _failed(hand_check, "SQL") == {
        "human_touches >= 1": 1,  # P3: its call is after the SQL entry
        "industry != 'retail'": 2,  # P3 (Retail), P5 (unknown industry never meets a criterion)
        "job_title matches '\\b(vp|head)\\b'": 1,  # P5 (Engineer)
    }
    assert sql.most_failed is not None and sql.most_failed.criterion == "industry != 'retail'"
    opp = hand_check.drift[2]  # lead fields only: the undated entry (P2) is judged as well
    assert (opp.n_entered, opp.n_undated, opp.n_judged, opp.n_failed, opp.examples) == (2, 1, 2, 1, ["P2"])
    assert _failed(hand_check, "Opportunity") == {"country in ['US', 'de']": 0, "status != 'disqualified'": 1}


def test_sla_by_hand_counts_like_speed_to_lead(hand: Workspace, hand_check: DefinitionCheck) -> None:
    (sla,) = hand_check.sla
    # MQL signals P1-P6 (P7 undated); human touch after 1440, 10, 1 day+, 30 (bound inclusive), 2 weeks,
    # 20 min (on the merged record P6b)
    assert (sla.term, sla.sla_minutes, sla.signal, sla.signal_stage) == ("Speed-to-Lead SLA", 30, "mql", "MQL")
    assert (sla.n_judged, sla.n_within) == (6, 3)
    assert sla.share == pytest.approx(0.5) and sla.ci == pytest.approx(wilson_interval(3, 6))
    with open_journeys(hand, now=NOW) as journeys:
        speed = SpeedToLead().fit(journeys)
    assert (sla.n_judged, sla.n_never_contacted, sla.median_minutes) == (
        speed.n_judged, speed.n_never_contacted, speed.median_minutes)
    summary = {row["term"]: row for row in hand_check.summary()}
    assert summary["MQL"]["count"] == 3 and summary["Speed-to-Lead SLA"]["count"] == 3
    assert hand_check.caveat() is None


def test_filters_narrow_the_people_checked(hand: Workspace) -> None:
    with open_journeys(hand, Filters(sources=("paid_search",)), now=NOW) as journeys:
        check = DefinitionCheck().fit(journeys)
    assert [(r.term, r.n_judged, r.n_failed) for r in check.drift] == [("MQL", 1, 1), ("SQL", 1, 1),
                                                                       ("Opportunity", 0, 0)]


def test_document_sign_offs_and_wording_changes(hand: Workspace, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        approve(hand, "mql", "Jane Doe", "marketing", "kickoff", now=datetime(2026, 3, 12, 9))
        approve(hand, "MQL", "Sam Lee", "Sales", now=datetime(2026, 3, 13, 9))
        approve(hand, "M.Q.L.", "Ria Roy", "rev ops", now=datetime(2026, 3, 14, 9))
        approve(hand, "SQL", "Sam Lee", "Sales", now=datetime(2026, 3, 13, 10))
    assert "Jane Doe" not in caplog.text and "Sam Lee" not in caplog.text  # names are never logged
    doc = definitions_document(hand, now=NOW)
    terms = {t.definition.term: t for t in doc.terms}
    assert terms["MQL"].signed_off and terms["MQL"].missing == []
    assert [(s.role, s.approved_by) for s in terms["MQL"].approvals] == [
        ("Marketing", "Jane Doe"), ("Sales", "Sam Lee"), ("RevOps", "Ria Roy")]
    assert terms["SQL"].missing == ["Marketing", "RevOps"] and not doc.signed_off
    assert terms["MQL"].drift is not None and terms["MQL"].drift.n_failed == 3
    assert terms["Speed-to-Lead SLA"].sla is not None and terms["Lead"].drift is None
    md = doc.to_markdown()
    assert "| MQL | Fits the ICP and engaged. | 3 of 6 who entered MQL (50.0%) did not meet" in md
    assert "Jane Doe 2026-03-12" in md and "Examples: P2, P3, P4." in md
    data = json.loads(doc.to_json())
    assert data["terms"][1]["approvals"][0] == {"role": "Marketing", "approved_by": "Jane Doe",
                                                "approved_at": "2026-03-12T09:00:00", "note": "kickoff"}
    assert data["terms"][1]["drift"]["most_failed"] == "employee_count >= 50"

    # a new wording needs new approvals; the old ones are listed as such
    changed = Workspace(hand.root, parse_config(hand.config_path.read_text("utf-8").replace(
        "Fits the ICP and engaged.", "Fits the ICP and engaged twice.")))
    mql = next(t for t in definitions_document(changed, now=NOW).terms if t.definition.term == "MQL")
    assert mql.approvals == [] and len(mql.earlier) == 3 and mql.missing == ["Marketing", "Sales", "RevOps"]
    assert len(sign_offs(hand)) == 4

    with pytest.raises(LeadJourneyError, match="no definition of 'Nurture'"):
        approve(hand, "Nurture", "Jane Doe", "Marketing")
    with pytest.raises(LeadJourneyError, match="--role: expected one of Marketing, Sales, RevOps, Executive"):
        approve(hand, "MQL", "Jane Doe", "Legal")


# ------------------------------------------------------------------ generated data vs pyarrow

@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    root = tmp_path_factory.mktemp("definitions_gen") / "ws"
    ws = Workspace.init(root)
    ws.config_path.write_text(with_definitions("""
[[definitions]]
term = "MQL"
definition = "ICP fit and engaged"
stage = "MQL"
criteria = ["employee_count >= 50", "touches >= 3", "has_touch = 'form_fill'"]

[[definitions]]
term = "SQL"
definition = "Sales talked to them"
stage = "SQL"
criteria = ["human_touches >= 1"]

[[definitions]]
term = "MQL contacted"
definition = "Sales reached out before the MQL (never, by construction)"
stage = "MQL"
criteria = ["human_touches >= 1"]

[[definitions]]
term = "SLA 5"
definition = "5 minutes"
sla_minutes = 5

[[definitions]]
term = "SLA 60"
definition = "an hour"
sla_minutes = 60
"""), "utf-8")
    ws = Workspace.open(root)
    data = generate(root / "data", n_leads=3000, seed=11, end=date(2026, 6, 30), days=120, dirt=Dirt.none())
    ws.set_sources(generated_sources(data, root))
    ingest(ws)
    return Workspace.open(root), data.out_dir


def _independent_mql_failures(out: Path) -> dict[str, Any]:
    """The MQL criteria counted from the generated Parquet files with pyarrow alone."""
    truth = pq.read_table(out / "ground_truth_leads.parquet", columns=["lead_id", "mql_at"])
    mqls = truth.filter(pc.is_valid(truth["mql_at"]))
    leads = pq.read_table(out / "leads.parquet", columns=["lead_id", "employee_count"])
    touches = pq.read_table(out / "touchpoints.parquet", columns=["lead_id", "occurred_at", "kind"])
    joined = touches.join(mqls, "lead_id")
    before = joined.filter(pc.less_equal(joined["occurred_at"], joined["mql_at"].cast(joined["occurred_at"].type)))
    per = before.group_by("lead_id").aggregate([("occurred_at", "count"), ("kind", "list")])
    counts = dict(zip(per["lead_id"].to_pylist(), per["occurred_at_count"].to_pylist(), strict=True))
    kinds = dict(zip(per["lead_id"].to_pylist(), per["kind_list"].to_pylist(), strict=True))
    size = dict(zip(leads["lead_id"].to_pylist(), leads["employee_count"].to_pylist(), strict=True))
    ids = mqls["lead_id"].to_pylist()
    small = {i for i in ids if size[i] is None or size[i] < 50}
    few = {i for i in ids if counts.get(i, 0) < 3}
    no_form = {i for i in ids if "form_fill" not in kinds.get(i, [])}
    failed = sorted(small | few | no_form)
    return {"n": len(ids), "small": len(small), "few": len(few), "no_form": len(no_form),
            "failed": len(failed), "examples": failed[:5]}


def test_generated_drift_equals_an_independent_count(generated: tuple[Workspace, Path]) -> None:
    ws, out = generated
    with open_journeys(ws, now=NOW) as journeys:
        check = DefinitionCheck().fit(journeys)
    mql, sql, never = check.drift
    expected = _independent_mql_failures(out)
    assert (mql.n_entered, mql.n_undated, mql.n_judged) == (expected["n"], 0, expected["n"])
    assert _failed(check, "MQL") == {"employee_count >= 50": expected["small"], "touches >= 3": expected["few"],
                                     "has_touch = 'form_fill'": 0}  # the generator's form fill at creation
    assert expected["no_form"] == 0 and 0 < expected["small"] < expected["n"] and expected["few"] > 0
    assert (mql.n_failed, mql.examples) == (expected["failed"], expected["examples"])
    # planted: every SQL had a human touch between MQL and SQL; nobody is touched by a person before the MQL
    assert sql.n_judged > 0 and sql.n_failed == 0 and sql.most_failed is None
    assert never.n_judged == expected["n"] and never.n_failed == never.n_judged


def test_generated_sla_matches_speed_to_lead(generated: tuple[Workspace, Path]) -> None:
    ws, _ = generated
    with open_journeys(ws, now=NOW) as journeys:
        check = DefinitionCheck().fit(journeys)
        speed = SpeedToLead().fit(journeys)
    five, hour = check.sla
    assert (five.n_judged, five.n_within) == (speed.n_judged, speed.n_within_5_min)
    assert (hour.n_judged, hour.n_within) == (speed.n_judged, speed.n_within_1_hour)
    assert five.share == pytest.approx(speed.share_within_5_min)
    assert np.isclose(hour.share or 0, speed.share_within_1_hour or 0)


def test_without_touchpoints_behaviour_criteria_carry_a_caveat(generated: tuple[Workspace, Path]) -> None:
    ws, _ = generated
    with open_journeys(ws, Filters(date_from=date(2030, 1, 1)), now=NOW) as journeys:
        check = DefinitionCheck().fit(journeys)
    assert check.n_touchpoints == 0 and "no touchpoints" in (check.caveat() or "")
    assert all(r.n_entered == 0 and r.share is None for r in check.drift)


# ------------------------------------------------------------------ the CLI, end to end

def test_cli_sign_off_round_trip(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    with ws.connect() as con:  # a workspace made before sign-offs existed
        con.execute("DROP TABLE definition_signoffs")
    proc = run("definitions", "-w", str(ws.root), "approve", "MQL", "--by", "Jane Doe", "--role", "marketing",
               "--note", "kickoff call")
    assert proc.returncode == 0, proc.stderr
    assert "MQL: approved for Marketing" in proc.stdout and "still missing: Sales, RevOps" in proc.stdout
    assert "Jane Doe" not in proc.stdout + proc.stderr  # the name goes into the document only
    for name, role in (("Sam Lee", "Sales"), ("Ria Roy", "RevOps")):
        proc = run("definitions", "approve", "mql", "--by", name, "--role", role, "-w", str(ws.root))
        assert proc.returncode == 0, proc.stderr
    assert "still missing: nobody: signed off" in proc.stdout

    proc = run("definitions", "-w", str(ws.root), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    terms = {t["term"]: t for t in data["terms"]}
    assert terms["MQL"]["signed_off"] and terms["MQL"]["missing"] == []
    assert [a["approved_by"] for a in terms["MQL"]["approvals"]] == ["Jane Doe", "Sam Lee", "Ria Roy"]
    assert terms["MQL"]["approvals"][0]["note"] == "kickoff call"
    assert terms["SQL"]["missing"] == ["Marketing", "Sales", "RevOps"] and not data["signed_off"]
    assert terms["SQL"]["drift"]["n_entered"] == 0  # no data yet: nothing to drift
    assert json.loads((ws.out_dir / "definitions.json").read_text())["terms"] == data["terms"]
    assert "Jane Doe" in (ws.out_dir / "definitions.md").read_text()

    proc = run("definitions", "-w", str(ws.root))
    assert proc.returncode == 0, proc.stderr
    assert "Definition Alignment Document" in proc.stdout and "1 of 9 terms signed off" in proc.stdout
    assert "written" in proc.stdout and "definitions.md" in proc.stdout

    bad = run("definitions", "-w", str(ws.root), "approve", "Nurture", "--by", "X", "--role", "Sales")
    assert bad.returncode == 1 and "no definition of 'Nurture'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    bad = run("definitions", "-w", str(ws.root), "approve", "MQL", "--by", "X", "--role", "Legal")
    assert bad.returncode == 1 and "--role: expected one of Marketing, Sales, RevOps" in bad.stderr


def test_cli_names_the_key_of_bad_criteria(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    text = ws.config_path.read_text("utf-8").replace('criteria = ["human_touches >= 1"]',
                                                     'criteria = ["human_touch >= 1"]')
    ws.config_path.write_text(text, "utf-8")
    proc = run("definitions", "-w", str(ws.root))
    assert proc.returncode == 1
    assert "definitions[2].criteria[0]: unknown field 'human_touch'; fields: employee_count" in proc.stderr


def test_sign_offs_table_is_in_the_schema(ws: Workspace) -> None:
    with ws.connect() as con:
        columns = [r[0] for r in con.execute("DESCRIBE definition_signoffs").fetchall()]
    assert columns == ["term", "approved_by", "role", "approved_at", "note", "wording_sha256"]
