"""Persona rules from the config: assignment, the --persona filter, and (transition, persona) friction."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import SharedGenerated, copy_workspace, csv_text
from leadjourney.analysis import Filters, analyze
from leadjourney.analysis.journeys import Journeys
from leadjourney.cli.app import app
from leadjourney.config import parse_config
from leadjourney.errors import ConfigError
from leadjourney.generate import Dirt
from leadjourney.ingest import ingest
from leadjourney.workspace import Workspace

NOW = datetime(2026, 7, 1)

RULES = """
[[personas]]
name = "big"
min_employees = 1000
industries = ["Software", "banking"]

[[personas]]
name = "tech"
job_title = "\\\\b(cto|engineer)"
max_employees = 50
match = "any"
"""


def _config(extra: str) -> str:
    base = Path(__file__).resolve().parents[1] / "src" / "leadjourney" / "default_config.toml"
    text = base.read_text("utf-8")
    start = text.index("[[personas]]")
    end = text.index("[dedupe]")
    return text[:start] + extra + "\n" + text[end:]


def test_assignment_first_match_all_any_and_missing_fields(ws: Workspace) -> None:
    ws.config_path.write_text(_config(RULES), "utf-8")
    rows = [
        ("a", 5000, "Software", "VP Sales"),  # big: both rules hold
        ("b", 5000, "Retail", "CTO"),  # not big (industry); tech by title (any)
        ("c", 10, "Banking", "Owner"),  # not big (size); tech by size (any)
        ("d", None, "BANKING", "Engineer II"),  # size unknown: not big; tech by title
        ("e", None, None, None),  # nothing known: unassigned
        ("f", 1000, "software", "cto"),  # both match: the first persona wins
    ]
    path = ws.root / "leads.csv"
    path.write_text(csv_text(["lead_id", "created_at", "employee_count", "industry", "job_title"],
                             [(i, "2026-01-01", n, ind, t) for i, n, ind, t in rows]), "utf-8")
    ws = Workspace.open(ws.root)
    ws.set_sources([{"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads"}])
    ingest(Workspace.open(ws.root))
    ws = Workspace.open(ws.root)
    with ws.connect(read_only=True) as con:
        people = Journeys(ibis.duckdb.from_connection(con), ws.config).people()
        got = {r["person_id"]: r["persona"] for r in people.to_pyarrow().to_pylist()}
    assert got == {"a": "big", "b": "tech", "c": "tech", "d": "tech", "e": "unassigned", "f": "big"}


@pytest.mark.parametrize(("rules", "key"), [
    ('[[personas]]\nname = "x"\n', "personas[0]"),
    ('[[personas]]\nname = "x"\njob_title = "("\n', "personas[0].job_title"),
    ('[[personas]]\nname = "x"\nmin_employees = 10\nmax_employees = 5\n', "personas[0].max_employees"),
    ('[[personas]]\nname = "x"\nmin_employees = 1\nmatch = "some"\n', "personas[0].match"),
    ('[[personas]]\nname = "unassigned"\nmin_employees = 1\n', "personas[0].name"),
])
def test_invalid_persona_rules_name_the_key(rules: str, key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{key}:")):
        parse_config(_config(rules))


@pytest.fixture(scope="module")
def clean(shared_generated: SharedGenerated,
          tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any], Path]:
    """A copy of the run's shared clean 8,000-lead set (also the analysis tests'): `analyze` from the CLI
    writes its files and cache into the workspace."""
    shared, data = shared_generated(n_leads=8000, seed=5, end=date(2026, 6, 30), days=150, dirt=Dirt.none())
    ws = copy_workspace(shared, tmp_path_factory.mktemp("personas") / "ws")
    return ws, json.loads(data.ground_truth_path.read_text()), data.out_dir / "ground_truth_leads.parquet"


def test_default_rules_recover_the_planted_personas(clean) -> None:  # type: ignore[no-untyped-def]
    ws, truth, truth_file = clean
    planted = pq.read_table(truth_file, columns=["persona"]).column("persona").to_pylist()
    result = analyze(ws, now=NOW)
    shares = {d.source: d.people for d in result.personas.distribution}
    assert shares == {name: planted.count(name) for name in set(planted)}
    for persona in ("enterprise_it", "smb_founder"):
        one = analyze(ws, filters=Filters(personas=(persona,)), now=NOW)
        assert {s.stage: s.reached for s in one.funnel.stages} == truth["realized"]["reached_by_persona"][persona]
        assert one.to_dict()["filters"]["personas"] == [persona]
        for t in one.funnel.transitions:
            rate = truth["realized"]["conversion_by_persona"][persona][f"{t.from_stage}->{t.to_stage}"]
            assert t.ci_low <= rate <= t.ci_high


def test_friction_ranks_transition_persona_segments(clean) -> None:  # type: ignore[no-untyped-def]
    ws, _, _ = clean
    result = analyze(ws, now=NOW)
    rows = [r for r in result.friction.rows if (r.segment or "").startswith("persona=")]
    personas = {r.segment for r in rows}
    assert personas == {"persona=enterprise_it", "persona=midmarket_ops", "persona=smb_founder"}
    by_segment = {(r.from_stage, r.to_stage, r.segment): r for r in rows}
    for c in result.personas.conversion:
        if c.entered:
            row = by_segment[(c.from_stage, c.to_stage, f"persona={c.source}")]
            assert (row.entered, row.dropped) == (c.entered, c.entered - c.converted)
    # ranked by recoverable revenue; rows without a figure (too few to judge) last
    judged = [r.recoverable_per_year for r in result.friction.rows if r.recoverable_per_year is not None]
    assert judged == sorted(judged, reverse=True)
    assert [r.recoverable_per_year is None for r in result.friction.rows] == sorted(
        r.recoverable_per_year is None for r in result.friction.rows)


def test_cli_persona_filter_and_unknown_persona(clean) -> None:  # type: ignore[no-untyped-def]
    ws, truth, _ = clean
    runner = CliRunner()
    ok = runner.invoke(app, ["analyze", str(ws.root), "--persona", "smb_founder", "--json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout[ok.stdout.index("{"):])
    assert data["funnel"]["stages"][0]["reached"] == truth["realized"]["reached_by_persona"]["smb_founder"]["Lead"]
    bad = runner.invoke(app, ["analyze", str(ws.root), "--persona", "cfo"])
    assert bad.exit_code != 0
    assert "no persona 'cfo'" in str(bad.exception or bad.output)


@pytest.mark.parametrize(("line", "message"), [
    ('"MQL->Customer" = 0.3', 'targets."MQL->Customer": not a transition between consecutive stages'),
    ('"MQL->SQL" = 30', 'targets."MQL->SQL": expected a conversion rate between 0 and 1'),
])
def test_invalid_targets_name_the_key(line: str, message: str) -> None:
    text = _config("").replace('# "MQL->SQL" = 0.30', line)
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(text)


def test_targets_accept_spaced_keys() -> None:
    config = parse_config(_config("").replace('# "MQL->SQL" = 0.30', '"MQL -> SQL" = 0.3'))
    assert config.targets == {"MQL->SQL": 0.3}


def test_owner_filter_counts_only_that_owners_leads(clean) -> None:  # type: ignore[no-untyped-def]
    ws, _, truth_file = clean
    owners = pq.read_table(truth_file.parent / "leads.parquet", columns=["lead_id", "owner"])
    truth = pq.read_table(truth_file).join(owners, "lead_id")
    picked = ("owner_05", "owner_11")
    mine = truth.filter(pc.is_in(truth["owner"], pa.array(picked)))
    result = analyze(ws, filters=Filters(owners=picked), now=NOW)
    reached = {s.stage: s.reached for s in result.funnel.stages}
    expected = {stage: mine.filter(pc.is_valid(mine[f"{column}_at"])).num_rows
                for stage, column in (("Lead", "lead"), ("MQL", "mql"), ("SQL", "sql"),
                                      ("Opportunity", "opportunity"), ("Customer", "customer"))}
    assert 0 < reached["Lead"] < truth.num_rows
    assert reached == expected
    assert result.to_dict()["filters"]["owners"] == list(picked)
    cli = CliRunner().invoke(app, ["analyze", str(ws.root), "--owner", "owner_05", "--json"])
    assert cli.exit_code == 0, cli.output
    data = json.loads(cli.stdout[cli.stdout.index("{"):])
    assert data["funnel"]["stages"][0]["reached"] == mine.filter(pc.equal(mine["owner"], "owner_05")).num_rows
