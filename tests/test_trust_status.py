"""Numbers an analyst can defend: withheld metrics, stages without data and too-few rates, said the same
way in every renderer.

The workspace is a HubSpot contacts export (real header names and lifecycle spellings) with no
touchpoints, as real MQL-funnel exports come, and a config that adds a "Demo" stage nothing was
loaded for: speed-to-lead and dark leads must be withheld, Demo left out, and Opportunity -> Customer
(20 people) marked too few to judge.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadjourney.analysis import Analysis, analyze
from leadjourney.analysis.findings import findings_of
from leadjourney.analysis.journeys import Filters
from leadjourney.analysis.rates import compare
from leadjourney.cli.app import app
from leadjourney.config import default_config_text
from leadjourney.dashboard import figures
from leadjourney.dashboard.comparison import period_deltas
from leadjourney.ingest import ingest
from leadjourney.journeymap import build_map, lay_out, to_html
from leadjourney.workspace import Workspace

NOW = datetime(2024, 12, 1)
HEADER = ["Record ID", "First Name", "Last Name", "Email", "Create Date", "Lifecycle Stage", "Lead Status",
          "Original Source", "Job Title", "Number of Employees", "Became a Lead Date",
          "Became a Marketing Qualified Lead Date", "Became a Sales Qualified Lead Date",
          "Became an Opportunity Date", "Became a Customer Date"]
STAGE_VALUES = ["Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer"]
DEMO = '''
[[stages]]
name = "Demo"
lane = "Decision"
aliases = ["demo", "demo booked"]
optional = false
'''
WITHHELD = "withheld: needs touchpoints; none loaded"


def _reached(i: int) -> int:
    """The furthest stage index of contact i: 200 leads, 120 MQL, 40 SQL, 20 Opportunity, 5 Customer."""
    if i % 40 == 0:
        return 4
    if i % 10 == 0:
        return 3
    if i % 5 == 0:
        return 2
    return 1 if i % 5 == 1 or i % 5 == 2 else 0


def hubspot_export(n: int = 200) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    start = datetime(2024, 1, 1, 9, 30)
    for i in range(n):
        created = start + timedelta(days=i, hours=i % 7)
        top = _reached(i)
        source = "Referrals" if i in (10, 20) else ("Organic Search" if i % 4 else "Paid Search")
        dates = [(created + timedelta(days=d)).strftime("%Y-%m-%d %H:%M") if k <= top else ""
                 for k, d in enumerate((0, 3, 7, 14, 30))]
        writer.writerow([str(5000 + i), "Test", f"Contact-{i}", f"contact{i}@example.com",
                         created.strftime("%Y-%m-%d %H:%M"), STAGE_VALUES[top], "Open", source,
                         "Operations Manager", "250", *dates])
    return out.getvalue()


def _config() -> str:
    text = default_config_text()
    anchor = '[[stages]]\nname = "Opportunity"'
    assert anchor in text
    text = text.replace(anchor, DEMO.strip() + "\n\n" + anchor)
    old = 'transitions = ["MQL->SQL", "SQL->Opportunity"]'
    assert old in text
    return text.replace(old, 'transitions = ["MQL->SQL", "SQL->Demo"]')


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("hubspot") / "ws"
    ws = Workspace.init(root)
    ws.config_path.write_text(_config(), "utf-8")
    (root / "contacts.csv").write_text(hubspot_export(), "utf-8")
    ws = Workspace.open(root)
    ws.set_sources([{"name": "hubspot", "path": "contacts.csv", "format": "hubspot_contacts"}])
    ingest(ws)
    return Workspace.open(root)


@pytest.fixture(scope="module")
def result(hubspot: Workspace):  # type: ignore[no-untyped-def]
    return analyze(hubspot, now=NOW)


def _pairs(rows: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(r.from_stage, r.to_stage) for r in rows]


def test_engagement_metrics_are_withheld_without_touchpoints(result) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(result.to_json())
    speed, dark = data["speed_to_lead"], data["dark_leads"]
    assert (speed["status"], speed["status_reason"]) == ("withheld", "needs touchpoints; none loaded")
    assert (dark["status"], dark["status_reason"]) == ("withheld", "needs touchpoints; none loaded")
    # no invented "100 % never contacted" or "100 % dark"
    assert speed["never_contacted"]["share"] is None and speed["never_contacted"]["count"] == 0
    assert dark["dark"]["share"] is None and dark["median_days_silent"] is None
    ids = {f.finding_id for f in findings_of(result)}
    assert not any(i.startswith(("speed_to_lead", "dark_leads")) for i in ids)
    for row in result.friction.rows:
        assert "speed-to-lead" not in row.hypothesis and "never contacted" not in row.hypothesis
        assert "dark" not in row.hypothesis


def test_a_stage_without_data_is_reported_and_left_out(result) -> None:  # type: ignore[no-untyped-def]
    assert result.funnel.stages_without_data == ("Demo",)
    chain = [("Lead", "MQL"), ("MQL", "SQL"), ("SQL", "Opportunity"), ("Opportunity", "Customer")]
    assert _pairs(result.funnel.transitions) == chain
    # the counts are the export's, not imputed through Demo
    assert [(t.entered, t.converted) for t in result.funnel.transitions] == [(200, 120), (120, 40), (40, 20), (20, 5)]
    assert all("Demo" not in (r.from_stage, r.to_stage) for r in result.time_in_stage.rows)
    assert all("Demo" not in (r.from_stage, r.to_stage) for r in result.friction.rows)
    assert json.loads(result.to_json())["funnel"]["stages_without_data"][0]["stage"] == "Demo"


def test_too_few_people_are_shown_never_judged(result) -> None:  # type: ignore[no-untyped-def]
    last = result.funnel.transitions[-1]
    assert last.status.status == "too_few" and last.status.reason == "20 people, fewer than min_n = 30"
    assert [t.status.judged for t in result.funnel.transitions[:3]] == [True, True, True]
    referrals = [c for c in result.sources.conversion if c.source == "referral"]
    assert referrals and all(c.p_value is None and not c.significant for c in referrals)
    assert all(c.status.status in ("too_few", "withheld") for c in referrals)
    for d in result.friction.drop_offs:
        t = next(t for t in result.funnel.transitions if (t.from_stage, t.to_stage) == (d.from_stage, d.to_stage))
        assert t.status.judged
    assert not any(f.finding_id == "conversion:Opportunity->Customer" for f in findings_of(result))


def test_a_small_selection_is_never_red_against_the_baseline() -> None:
    # the dashboard once drew "0.0 % SQL->Opportunity (0 of 2)" as a red -14.3 pp drop
    c = compare(2, 0, 0.143, 700, points=5.0, min_n=30)
    assert not c.below and c.status.text() == "too few to judge: 2 people, fewer than min_n = 30"
    assert compare(400, 20, 0.143, 700, points=5.0, min_n=30).below
    base = Analysis.from_dict({"funnel": {"transitions": [{"from": "SQL", "to": "Opportunity", "rate": 0.143,
                                                           "entered": 700, "converted": 100, "ci_low": None,
                                                           "ci_high": None}]}})
    now = Analysis.from_dict({"funnel": {"transitions": [{"from": "SQL", "to": "Opportunity", "rate": 0.0, "entered": 2,
                                                          "converted": 0, "ci_low": None, "ci_high": None}]}})
    row = period_deltas(now, base, points=5.0, min_n=30)[0]
    assert not row.red and row.note.startswith("too few to judge")
    assert figures.period_comparison([row], points=5.0)["data"][0]["marker"]["color"] == [figures.GREY]


def test_the_same_status_in_every_renderer(hubspot: Workspace, result) -> None:  # type: ignore[no-untyped-def]
    too_few = "too few to judge: 20 people, fewer than min_n = 30"
    # JSON
    data = json.loads(result.to_json())
    last = data["funnel"]["transitions"][-1]
    assert (last["status"], last["status_reason"]) == ("too_few", "20 people, fewer than min_n = 30")
    # Markdown
    md = result.to_markdown()
    assert too_few in md and f"Speed-to-lead {WITHHELD}." in md and f"Dark leads {WITHHELD}." in md
    assert "Demo" in md and "no stage entries loaded" in md
    # terminal, through the real CLI at 80 columns
    out = CliRunner().invoke(app, ["analyze", str(hubspot.root)], env={"COLUMNS": "80"}, terminal_width=80)
    assert out.exit_code == 0, out.output
    flat = " ".join(out.output.split())
    assert too_few in flat and f"Speed-to-lead {WITHHELD}." in flat and f"Dark leads {WITHHELD}." in flat
    assert "Demo: no stage entries loaded" in flat
    # the map: the card says it, it is never red, the caveats say what is withheld
    jm = build_map(result, [], config=hubspot.config)
    card = jm.conversion("Opportunity->Customer")
    assert card.status.text() == too_few
    html = to_html(lay_out(jm), jm)
    assert too_few in html and f"Dark leads {WITHHELD}" in html and f"Speed-to-lead {WITHHELD}" in html
    assert 'conversion-dropoff' not in html.split('id="conversion-Opportunity->Customer"')[-1][:300]
    # the dashboard's figures, from the JSON loaded back as the dashboard does
    page = Analysis.from_dict(data)
    labels = {kid: label for kid, label, _ in figures.kpis(page)}
    assert labels["kpi-rate-Opportunity-Customer"].endswith(too_few)
    assert figures.dark_text(page) == f"Dark leads {WITHHELD}"
    cells = [r for r in figures.friction_rows(page, top=100) if r["transition"] == "Opportunity→Customer"]
    assert cells and all(too_few in str(list(r.values())) for r in cells if r["segment"] == "all")
    assert figures.speed_to_lead(page, 5.0)["layout"]["title"]["text"] == f"Speed-to-lead {WITHHELD}"


def test_a_selection_shares_the_workspace_inputs(hubspot: Workspace) -> None:
    """Withheld and left-out are decided from the workspace, so every selection says the same."""
    seo = analyze(hubspot, filters=Filters(sources=("seo",)), now=NOW)
    assert seo.funnel.stages_without_data == ("Demo",)
    assert seo.speed_to_lead.status.text() == WITHHELD


def test_caveat_counts_undated_conversions(tmp_path: Path) -> None:
    """The Kaplan-Meier caveat is worded from the actual counts, undated conversions included."""
    text = hubspot_export(120)
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows[1:]:  # half of the SQL dates lost, as exports lose them
        if row[12] and int(row[0]) % 2:
            row[12] = ""
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL).writerows(rows)
    root = tmp_path / "ws"
    Workspace.init(root)
    (root / "contacts.csv").write_text(out.getvalue(), "utf-8")
    ws = Workspace.open(root)
    ws.set_sources([{"name": "hubspot", "path": "contacts.csv", "format": "hubspot_contacts"}])
    ingest(ws)
    res = analyze(Workspace.open(root), now=NOW)
    t = next(t for t in res.funnel.transitions if (t.from_stage, t.to_stage) == ("MQL", "SQL"))
    row = next(r for r in res.time_in_stage.rows if (r.from_stage, r.to_stage) == ("MQL", "SQL"))
    undated = t.converted - row.n_completed
    assert undated > 0 and row.caveat is not None
    assert f"in all {t.converted:,} of the {t.entered:,} who entered converted, {undated:,} of them" in row.caveat


def test_the_monitor_says_the_same(hubspot: Workspace, result) -> None:  # type: ignore[no-untyped-def]
    from leadjourney.analysis.findings import store
    from leadjourney.monitor import run_monitor

    store(hubspot, result, baseline=True, findings=False)
    run = run_monitor(hubspot, "month", datetime(2024, 8, 20).date())
    verdicts = {(v.rule, v.metric): v for v in run.verdicts}
    speed = verdicts[("speed_to_lead", "mean_minutes")]
    assert speed.status == "withheld" and speed.evidence.endswith(f"speed-to-lead {WITHHELD}")
    demo = verdicts[("conversion_decline", "SQL->Demo")]
    assert demo.status == "withheld" and "Demo has no stage entries loaded" in demo.evidence
    assert not speed.raised and not demo.raised


def test_the_documents_say_the_same(hubspot: Workspace, result) -> None:  # type: ignore[no-untyped-def]
    from leadjourney.reports.faq import faq_markdown
    from leadjourney.reports.friction_doc import friction_markdown

    doc = " ".join(friction_markdown(result, [], "USD").split())
    assert "too few to judge: 20 people, fewer than min_n = 30" in doc
    assert f"Speed-to-lead {WITHHELD}." in doc and f"Dark leads {WITHHELD}." in doc
    assert "Demo: no stage entries loaded" in doc
    faq = " ".join(faq_markdown(result, [], None, "USD", "ws").split())
    assert f"Speed-to-lead {WITHHELD}." in faq and f"Dark leads {WITHHELD}." in faq


def young_export(n: int = 300) -> str:
    """A HubSpot export whose last month is still converting: every second MQL becomes an SQL 24 days later,
    so the contacts of the last 24 days that will convert have not yet."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(HEADER)
    start = datetime(2024, 1, 1, 9, 30)
    last = start + timedelta(days=n - 1)
    for i in range(n):
        created = start + timedelta(days=i)
        mql = created + timedelta(days=1)
        sql = mql + timedelta(days=24) if i % 2 == 0 and mql + timedelta(days=24) <= last else None
        stage = STAGE_VALUES[2] if sql else STAGE_VALUES[1]
        dates = [created, mql, sql]
        writer.writerow([str(7000 + i), "Test", f"Contact-{i}", f"young{i}@example.com",
                         created.strftime("%Y-%m-%d %H:%M"), stage, "Open", "Organic Search", "Operations Manager",
                         "250", *[d.strftime("%Y-%m-%d %H:%M") if d else "" for d in dates], "", ""])
    return out.getvalue()


@pytest.fixture(scope="module")
def young_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("young") / "ws"
    Workspace.init(root)
    (root / "contacts.csv").write_text(young_export(), "utf-8")
    ws = Workspace.open(root)
    ws.set_sources([{"name": "hubspot", "path": "contacts.csv", "format": "hubspot_contacts"}])
    ingest(ws)
    return Workspace.open(root)


def test_a_young_rate_says_so_in_every_renderer(young_ws: Workspace) -> None:
    """MQL->SQL observed so far is a floor (the last 24 days' contacts have not converted yet): the funnel marks
    it too young to judge with its projected final rate, in JSON, Markdown, the terminal, the map, the dashboard
    and the friction document; no finding is made of it; the trend's young months and the monitor wait for the
    same number of days."""
    from leadjourney.analysis.journeys import open_journeys
    from leadjourney.analysis.maturity import cohort_maturity
    from leadjourney.analysis.trend import ConversionTrend
    from leadjourney.reports.friction_doc import friction_markdown

    result = analyze(young_ws, now=NOW)
    t = next(t for t in result.funnel.transitions if (t.from_stage, t.to_stage) == ("MQL", "SQL"))
    assert t.status.status == "young" and t.projected is not None and t.projected.rate is not None
    assert t.projected.rate >= t.rate + 0.01  # type: ignore[operator]
    # the projection recovers the export's final rate: every second MQL converts
    assert t.projected.ci_low <= 0.5 <= t.projected.ci_high  # type: ignore[operator]
    young = f"too young to judge: {t.status.reason}"
    assert young.startswith("too young to judge: still converting: ")
    data = json.loads(result.to_json())
    row = next(x for x in data["funnel"]["transitions"] if (x["from"], x["to"]) == ("MQL", "SQL"))
    assert (row["status"], row["status_reason"]) == ("young", t.status.reason)
    assert row["projected"]["rate"] == pytest.approx(t.projected.rate)
    assert young in " ".join(result.to_markdown().split())
    out = CliRunner().invoke(app, ["analyze", str(young_ws.root)], env={"COLUMNS": "80"}, terminal_width=80)
    assert out.exit_code == 0, out.output
    assert " ".join(t.status.reason.split()) in " ".join(out.output.split())  # type: ignore[union-attr]
    jm = build_map(result, [], config=young_ws.config)
    assert jm.conversion("MQL->SQL").status.text() == young
    html = to_html(lay_out(jm), jm)
    assert young in " ".join(html.split())
    labels = {kid: label for kid, label, _ in figures.kpis(Analysis.from_dict(data))}
    assert labels["kpi-rate-MQL-SQL"].endswith(young)
    assert young in " ".join(friction_markdown(result, [], "USD").split())
    assert not any(f.finding_id == "conversion:MQL->SQL" for f in findings_of(result))
    # the trend's youngest months and the monitor wait the same days: one maturity rule
    with open_journeys(young_ws, now=NOW) as journeys:
        need = cohort_maturity(journeys)["MQL->SQL"]
        trend = ConversionTrend(period="month").fit(journeys)
    last = [p for p in trend.points if (p.from_stage, p.to_stage) == ("MQL", "SQL")][-1]
    assert last.status.status in ("young", "too_few") and last.young
    assert f"{need.days} days" in trend.to_dict()["maturity"]["MQL->SQL"]["reason"]
    from leadjourney.analysis.findings import store
    from leadjourney.monitor import run_monitor

    store(young_ws, result, baseline=True, findings=False)
    run = run_monitor(young_ws, "month", datetime(2024, 10, 27).date())
    verdict = next(v for v in run.verdicts if (v.rule, v.metric) == ("conversion_decline", "MQL->SQL"))
    assert need.reason in verdict.evidence


def test_a_baseline_still_converting_is_compared_observed_with_observed() -> None:
    """The dashboard showed "40.2% of 2,970 | 40.2% of 2,970 | +3.3 pp": the selection's projected final
    against a baseline taken from the same young leads. Against a matured baseline the projection is used."""
    from leadjourney.analysis.projection import Projection

    young = {"from": "Lead", "to": "MQL", "rate": 1194 / 2970, "entered": 2970, "converted": 1194, "ci_low": None,
             "ci_high": None, "status": "young", "status_reason": "still converting"}
    now = Analysis.from_dict({"funnel": {"transitions": [young]}})
    projection = {"Lead->MQL": Projection(2970, 1194, 1545, 95.0, 0.434, 0.42, 0.462)}
    same = period_deltas(now, Analysis.from_dict({"funnel": {"transitions": [young]}}), points=5.0, min_n=30,
                         projected=projection)[0]
    assert same.delta_pp == pytest.approx(0.0) and not same.projected and not same.red
    matured = {**young, "rate": 0.45, "entered": 3000, "converted": 1350, "status": "ok", "status_reason": None}
    older = period_deltas(now, Analysis.from_dict({"funnel": {"transitions": [matured]}}), points=5.0, min_n=30,
                          projected=projection)[0]
    assert older.projected and older.delta_pp == pytest.approx((0.434 - 0.45) * 100)
    judged = Analysis.from_dict({"funnel": {"transitions": [{**young, "status": "ok", "status_reason": None}]}})
    plain = period_deltas(judged, Analysis.from_dict({"funnel": {"transitions": [matured]}}), points=5.0,
                          min_n=30, projected=projection)[0]  # a rate the analysis judges is compared as observed
    assert not plain.projected and plain.delta_pp == pytest.approx((1194 / 2970 - 0.45) * 100)
