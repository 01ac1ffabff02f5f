"""Issue 16, "everywhere it belongs": the web and campaign analyses in the journey map, the touchpoint inventory,
the dashboard and the persona profiles, from one hand-made scenario with a planted truth.

The scenario's files are shaped like the exports they stand for:

* ``clickstream.csv``: a Snowplow atomic events export (``domain_userid``, ``domain_sessionid``,
  ``derived_tstamp``, ``page_url`` with a session token in the query, ``page_referrer``, ``mkt_*``);
* ``leads.csv`` (a CRM export: ``Job Title``, ``Employees``), ``stage_events.csv``;
* ``touchpoints.csv``: the web form's submissions, each carrying the visitor id (stitching);
* ``marketo_activities.csv``: a Marketo activity log (``Lead ID``, ``Activity Date``, ``Activity Type`` spelled
  "Send Email", "Email Delivered", "Open Email", "Click Email", "Visit Webpage"; ``Detail``; ``Program Name``).

Planted: every lead lands first on ``/pricing`` (CTOs: enterprise_it) or on a blog post whose path holds markup
(founders: smb_founder); anonymous visitors land mostly on the blog post, so it converts visits to forms worse.
The Marketo nurture "ROI Nurture" (four e-mails a week apart) loses most people after step 2; a campaign whose
name holds markup and quotes sends one e-mail. CTOs view "/roi-calculator" before MQL, founders "/case-study".
"""

from __future__ import annotations

import csv
import html
import io
import json
import random
import shutil
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import chromium_page, needs_browser, run_cli, set_option
from leadjourney.analysis import analyze
from leadjourney.analysis.campaigns import Campaigns
from leadjourney.analysis.journeys import Filters, open_journeys
from leadjourney.analysis.persona_profiles import PersonaProfiles
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.touchpoints import TouchpointInventory
from leadjourney.analysis.web import NO_WEB, SELECTION, WebJourney
from leadjourney.dashboard.app import create_app
from leadjourney.dashboard.campaigns_card import card_html
from leadjourney.dashboard.data import DashboardData
from leadjourney.ingest import ingest
from leadjourney.journeymap.build import build_map
from leadjourney.journeymap.layout import lay_out, overlaps
from leadjourney.journeymap.render import write_map
from leadjourney.journeymap.svg import to_svg
from leadjourney.journeymap.tables import write_touchpoints
from leadjourney.reports.personas_doc import personas_markdown
from leadjourney.workflows.analyze import analyze as analyze_workflow
from leadjourney.workflows.journey_map import journey_map
from leadjourney.workspace import Workspace

N = 240
ANONYMOUS = 160
START = datetime(2024, 3, 1, 9, 0)
BLOG = '/blog/<b>grow</b>-"fast"'
ODD_CAMPAIGN = 'Q1 <Webinar> "Live" & [more]'
NURTURE = "ROI Nurture"
MARKETO = {"send": "Send Email", "delivered": "Email Delivered", "open": "Open Email", "click": "Click Email"}


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def scenario(root: Path, seed: int = 16) -> dict[str, Any]:
    """The files in ``root``; returns the planted truth."""
    rng = random.Random(seed)
    clicks: list[dict[str, Any]] = []
    leads: list[dict[str, Any]] = []
    stages: list[dict[str, Any]] = []
    forms: list[dict[str, Any]] = []
    marketo: list[dict[str, Any]] = []
    truth: dict[str, Any] = {"landing": {"/pricing": [0, 0], BLOG: [0, 0]}, "mql": {"cto": 0, "founder": 0},
                             "calc_before_mql_cto": 0, "case_before_mql_founder": 0}

    def visit(visitor: str, session: str, at: datetime, page: str) -> None:
        clicks.append({"domain_userid": visitor, "domain_sessionid": session, "derived_tstamp": _ts(at),
                       "event": "page_view", "page_url": f"https://acme.io{page}?session_token=x{len(clicks)}",
                       "page_referrer": "https://www.google.com/", "mkt_source": "google", "mkt_medium": "organic",
                       "mkt_campaign": ""})

    def mail(lid: str, campaign: str, email: str, at: datetime) -> None:
        for event, delay in (("send", 0), ("delivered", 1)):
            marketo.append({"Lead ID": lid, "Activity Date": _ts(at + timedelta(minutes=delay)),
                            "Activity Type": MARKETO[event], "Detail": email, "Program Name": campaign})
        if rng.random() < 0.5:
            marketo.append({"Lead ID": lid, "Activity Date": _ts(at + timedelta(hours=2)),
                            "Activity Type": MARKETO["open"], "Detail": email, "Program Name": campaign})

    for i in range(N):
        lid, cto = f"L{i:04d}", i % 2 == 0
        created = START + timedelta(days=rng.randrange(0, 40), minutes=rng.randrange(0, 600))
        page = "/pricing" if cto else BLOG
        truth["landing"][page][0] += 1
        truth["landing"][page][1] += 1
        visitor = f"dvid-{lid}"
        visit(visitor, f"s-{lid}-1", created - timedelta(minutes=3), page)
        forms.append({"lead_id": lid, "occurred_at": _ts(created), "kind": "form_fill", "visitor_id": visitor})
        leads.append({"Lead ID": lid, "Created Date": _ts(created), "Lead Source": "Organic Search",
                      "Job Title": "CTO" if cto else "Founder", "Employees": 5000 if cto else 12})
        stages.append({"lead_id": lid, "stage": "Lead", "entered_at": _ts(created)})
        for step in range(1, 5):
            mail(lid, NURTURE, f"ROI Nurture.Email {step}", created + timedelta(days=7 * step))
            if rng.random() >= (0.2 if step == 2 else 0.95):
                break
        if i % 3 == 0:
            mail(lid, ODD_CAMPAIGN, "Invite", created + timedelta(days=2))
        converts = rng.random() < (0.6 if cto else 0.3)
        mql = created + timedelta(days=30)
        asset = "/roi-calculator" if cto else "/case-study"
        if rng.random() < 0.8:
            marketo.append({"Lead ID": lid, "Activity Date": _ts(created + timedelta(days=10)),
                            "Activity Type": "Visit Webpage", "Detail": asset, "Program Name": ""})
            if converts:
                truth["calc_before_mql_cto" if cto else "case_before_mql_founder"] += 1
        if converts:
            truth["mql"]["cto" if cto else "founder"] += 1
            stages.append({"lead_id": lid, "stage": "MQL", "entered_at": _ts(mql)})
    for k in range(ANONYMOUS):
        page = BLOG if k % 4 else "/pricing"
        truth["landing"][page][0] += 1
        visit(f"anon-{k:04d}", f"a-{k:04d}", START + timedelta(hours=k), page)
    _write(root / "clickstream.csv", clicks)
    _write(root / "leads.csv", leads)
    _write(root / "stage_events.csv", stages)
    _write(root / "touchpoints.csv", forms)
    _write(root / "marketo_activities.csv", marketo)
    return truth


SOURCES: list[dict[str, Any]] = [
    {"name": "leads", "path": "leads.csv", "format": "csv", "table": "leads",
     "columns": {"lead_id": "Lead ID", "created_at": "Created Date", "source": "Lead Source",
                 "job_title": "Job Title", "employee_count": "Employees"}},
    {"name": "stages", "path": "stage_events.csv", "format": "csv", "table": "stage_events"},
    {"name": "forms", "path": "touchpoints.csv", "format": "csv", "table": "touchpoints"},
    {"name": "marketo", "path": "marketo_activities.csv", "format": "csv", "table": "touchpoints",
     "columns": {"lead_id": "Lead ID", "occurred_at": "Activity Date", "kind": "Activity Type",
                 "asset": "Detail", "campaign": "Program Name"}},
    {"name": "snowplow", "path": "clickstream.csv", "format": "csv", "table": "web_sessions",
     "columns": {"visitor_id": "domain_userid", "session_id": "domain_sessionid", "occurred_at": "derived_tstamp",
                 "page": "page_url", "referrer": "page_referrer", "source": "mkt_source", "medium": "mkt_medium",
                 "campaign": "mkt_campaign"}},
]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Analysis, dict[str, Any]]:
    root = tmp_path_factory.mktemp("marketing") / "ws"
    ws = Workspace.init(root)
    truth = scenario(root)
    ws.set_sources(SOURCES)
    ws = Workspace.open(root)
    ingest(ws)
    return ws, analyze(ws), truth


def test_the_scenario_loads_with_web_and_campaign_results(planted: tuple[Workspace, Analysis, dict[str, Any]]) -> None:
    _, analysis, _ = planted
    pages = {p.page: p for p in analysis.web.landing_pages}
    assert set(pages) == {"/pricing", BLOG}, list(pages)
    assert pages[BLOG].worse
    assert any(q.campaign == NURTURE and q.worst_step == 2 for q in analysis.campaigns.email.nurtures)
    assert {c.campaign for c in analysis.campaigns.email.campaigns} == {NURTURE, ODD_CAMPAIGN}


# ---------------------------------------------------------------------------------------------- the journey map


def test_the_map_shows_landing_pages_campaigns_content_and_nurtures_with_the_analysis_numbers(
        planted: tuple[Workspace, Analysis, dict[str, Any]], tmp_path: Path) -> None:
    ws, analysis, _ = planted
    jm = build_map(analysis, [], config=ws.config)
    written = write_map(jm, tmp_path, ["svg", "drawio", "mermaid", "html", "miro-csv"])
    points = {(p.kind, p.name): p for p in jm.marketing}
    # Awareness (Lead): landing pages and campaigns; Consideration (MQL): content and nurtures
    assert {(k, p.stage, p.lane) for (k, _), p in points.items()} == {
        ("landing page", "Lead", "Awareness"), ("e-mail campaign", "Lead", "Awareness"),
        ("content", "MQL", "Consideration"), ("nurture", "MQL", "Consideration")}
    pages = {p.page: p for p in analysis.web.landing_pages}
    blog = points["landing page", BLOG]
    assert (blog.value, blog.n, blog.ci_low) == (pages[BLOG].to_form.rate, pages[BLOG].visits, pages[BLOG].to_form.ci_low)
    assert blog.flag and not points["landing page", "/pricing"].flag
    nurture = points["nurture", NURTURE]
    sequence = next(q for q in analysis.campaigns.email.nurtures if q.campaign == NURTURE)
    step = sequence.step(2)
    assert step is not None and nurture.metric == "leave at step 2" and nurture.value == step.leave.rate
    assert nurture.flag == "broken at step 2"
    calc = points["content", "/roi-calculator"]
    lift = next(a for a in analysis.campaigns.content if a.asset == "/roi-calculator" and a.milestone == "MQL")
    assert (calc.value, calc.lift, calc.ci_high) == (lift.lift, True, lift.ci_high)
    layout = lay_out(jm)
    assert overlaps(layout) == []
    drawn = layout.role("marketing")
    assert len(drawn) == len(jm.marketing)
    for box in drawn:
        for line in box.lines:
            left, top, right, bottom = line.rect()
            assert box.x - 1 <= left and right <= box.right + 1 and box.y - 1 <= top and bottom <= box.bottom + 1
    files = {p.suffix: p.read_text("utf-8") for p in written}
    miro = {r["Title"]: r for r in csv.DictReader(io.StringIO(files[".csv"])) if r["Type"] == "web-campaign"}
    assert float(miro[f"nurture: {NURTURE}"]["Value"]) == step.leave.rate
    assert miro[f"landing page: {BLOG}"]["Lane"] == "Awareness"
    for text in (files[".svg"], files[".html"]):  # data values escaped for markup
        assert "&lt;b&gt;grow&lt;/b&gt;" in text and "<b>grow" not in text
        assert "&lt;Webinar&gt;" in text and "<Webinar>" not in text
    details = files[".html"][files[".html"].index('<table class="marketing">'):]
    assert f"{nurture.value:.1%} leave at step 2" in details and "broken at step 2" in details
    tree = ET.fromstring(files[".drawio"])  # well-formed, and the names read back as written
    values = " ".join(c.get("value") or "" for c in tree.iter("mxCell"))
    assert html.unescape(values).count("<b>grow</b>") >= 1 and "<b>grow" not in values
    mermaid = files[".mmd"]
    assert "leave at step 2" in mermaid and "/roi-calculator" in mermaid
    assert "<Webinar>" not in mermaid and '"Live"' not in mermaid and "[more]" not in mermaid


def test_on_a_selection_the_web_part_is_withheld_with_its_reason_on_every_renderer(
        planted: tuple[Workspace, Analysis, dict[str, Any]], tmp_path: Path) -> None:
    ws, _, _ = planted
    run = journey_map(ws, Filters(personas=("enterprise_it",)), formats=["svg", "mermaid"], tables=False, out_dir=tmp_path)
    web = [p for p in run.journey_map.marketing if p.kind == "landing page"]
    assert len(web) == 1 and web[0].value is None and web[0].status.reason == SELECTION
    files = {p.suffix: p.read_text("utf-8") for p in run.files}
    assert "anonymous visitors belong to no selection" in files[".svg"].replace("\n", " ")
    assert "anonymous visitors belong to no selection" in files[".mmd"]
    assert any(p.kind == "nurture" and p.value is not None for p in run.journey_map.marketing)


def test_without_web_and_campaign_data_the_map_draws_no_such_band(
        planted: tuple[Workspace, Analysis, dict[str, Any]]) -> None:
    ws, analysis, _ = planted
    bare = replace(analysis, web=WebJourney(), campaigns=Campaigns())
    jm = build_map(bare, [], config=ws.config)
    assert jm.marketing == ()
    layout = lay_out(jm)
    assert not layout.role("marketing") and "WEB AND CAMPAIGNS" not in to_svg(layout)
    # campaigns without web sessions: the landing pages' place says what is missing
    points = build_map(replace(analysis, web=WebJourney()), [], config=ws.config).marketing
    assert points[0].kind == "landing page" and points[0].value is None and points[0].status.reason == NO_WEB
    assert any(p.kind == "nurture" and p.value is not None for p in points)


# ------------------------------------------------------------------------------------- the touchpoint inventory


def _from_files(root: Path) -> dict[str, Any]:
    """Independent counts from the scenario's files: MQL'd leads, CTO leads, the viewers of each asset."""
    with (root / "stage_events.csv").open(newline="") as fh:
        mql = {r["lead_id"] for r in csv.DictReader(fh) if r["stage"] == "MQL"}
    with (root / "leads.csv").open(newline="") as fh:
        cto = {r["Lead ID"] for r in csv.DictReader(fh) if r["Job Title"] == "CTO"}
    with (root / "marketo_activities.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    viewers: dict[str, set[str]] = {}
    for r in rows:
        if r["Activity Type"] == "Visit Webpage":
            viewers.setdefault(r["Detail"], set()).add(r["Lead ID"])
    campaign = {c: {r["Lead ID"] for r in rows if r["Program Name"] == c} for c in (NURTURE, ODD_CAMPAIGN)}
    return {"mql": mql, "cto": cto, "viewers": viewers, "campaign": campaign}


def test_the_inventory_gains_landing_page_page_view_campaign_nurture_and_content_rows(
        planted: tuple[Workspace, Analysis, dict[str, Any]], tmp_path: Path) -> None:
    ws, _, _ = planted
    files = _from_files(ws.root)
    with open_journeys(ws) as journeys:
        inventory = TouchpointInventory().fit(journeys)
    items = {(r.kind, r.item): r for r in inventory.items}
    assert {k for k, _ in items} == {"landing_page", "page_views", "nurture", "campaign", "content"}
    assert all(r.stage == "Lead" and r.lane == "Awareness" for r in inventory.items)  # all before their MQL
    everyone, mql, cto = N, files["mql"], files["cto"]
    pricing = items["landing_page", "/pricing"]
    assert (pricing.volume, pricing.unique_leads, pricing.n_without) == (len(cto), len(cto), everyone - len(cto))
    assert pricing.rate_with == pytest.approx(len(mql & cto) / len(cto))
    assert pricing.rate_without == pytest.approx(len(mql - cto) / (everyone - len(cto)))
    assert pricing.lift == pytest.approx(pricing.rate_with - pricing.rate_without)
    assert items["landing_page", BLOG].unique_leads == everyone - len(cto)  # anonymous visits count in none
    views = items["page_views", None]
    assert (views.volume, views.unique_leads, views.channel) == (everyone, everyone, "web")
    for name, kind in ((NURTURE, "nurture"), (ODD_CAMPAIGN, "campaign")):
        assert items[kind, name].unique_leads == len(files["campaign"][name])
    for asset, who in files["viewers"].items():
        row = items["content", asset]
        assert row.unique_leads == len(who) and row.rate_with == pytest.approx(len(who & mql) / len(who))
    assert not any(k == "content" and i and "Email" in i for k, i in items)  # e-mails sent or opened: not consumed
    assert len(inventory.rows) == len({(r.kind, r.channel, r.stage, r.automated) for r in inventory.rows})
    # the same columns in every file, the items after the touch types
    written = write_touchpoints(inventory, tmp_path)
    with written[1].open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == len(inventory.rows) + len(inventory.items) and not table[0]["item"]
    assert {r["item"] for r in table if r["kind"] == "landing_page"} == {"/pricing", BLOG}
    markdown = written[0].read_text("utf-8")
    assert "| Lead | Awareness | nurture | ROI Nurture | - | " in markdown
    assert "<b>grow" not in markdown


# ---------------------------------------------------------------------------------------------------- dashboard


@pytest.fixture(scope="module")
def saved(planted: tuple[Workspace, Analysis, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A copy of the planted workspace with `leadjourney analyze`'s saved analysis of all leads."""
    root = tmp_path_factory.mktemp("saved") / "ws"
    shutil.copytree(planted[0].root, root)
    ws = Workspace.open(root)
    analyze_workflow(ws, save=True)
    return ws


def _layout_text(ws: Workspace) -> str:
    client = create_app(ws).server.test_client()
    response = client.get("/_dash-layout")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_dashboard_card_says_how_to_fill_it_before_a_saved_analysis(
        planted: tuple[Workspace, Analysis, dict[str, Any]], tmp_path: Path) -> None:
    shutil.copytree(planted[0].root, tmp_path / "ws")
    text = _layout_text(Workspace.open(tmp_path / "ws"))
    layout = json.dumps(json.loads(text))
    assert "campaigns-card" in layout and "run <code>leadjourney analyze</code> to fill this card" in layout
    assert "`leadjourney" not in layout  # the command as code, not Markdown's backticks


def test_the_dashboard_card_shows_the_saved_whole_workspace_figures_escaped(saved: Workspace) -> None:
    data = DashboardData(saved, disk=False)
    found = data.saved_all_leads()
    assert found is not None
    a, taken_at = found
    card = card_html(found, data.freshness())
    assert f"from <code>leadjourney analyze</code> of {taken_at:%Y-%m-%d %H:%M} UTC" in card
    assert "`" not in card  # Markdown's code marks: shown as code, not as backticks
    assert "the filters above do not apply" in card and "before the last ingest" not in card
    page = {p.page: p for p in a.web.landing_pages}[BLOG]
    assert BLOG in html.unescape(card) and "<b>grow" not in card  # every value escaped
    assert f"<td>{page.visits:,}</td>" in card and "converts worse than the other pages" in card
    assert ODD_CAMPAIGN in html.unescape(card) and "<Webinar>" not in card
    sequence = next(q for q in a.campaigns.email.nurtures if q.campaign == NURTURE)
    step = sequence.step(2)
    assert step is not None and f"{step.leave.rate:.1%}" in card and "broken at step 2" in card
    assert "/roi-calculator" in card
    # the card is drawn with the page, the same whatever the selection
    layout = json.dumps(json.loads(_layout_text(saved)))
    assert "broken at step 2" in layout and "the filters above do not apply" in layout
    # an ingest after the saved analysis: the card says its numbers are older
    assert "before the last ingest" in card_html(found, taken_at + timedelta(minutes=1))


def test_the_static_export_carries_the_card(saved: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "dash.html"
    proc = run_cli("dashboard", str(saved.root), "--export", str(out), "--persona", "smb_founder")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text("utf-8")
    card = text[text.index('id="campaigns-card"'):]
    assert "the filters above do not apply" in card and "broken at step 2" in card
    assert BLOG in html.unescape(card) and "<b>grow" not in card


@needs_browser
def test_the_dashboard_card_in_chromium(saved: Workspace, tmp_path: Path) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, create_app(saved).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with chromium_page() as page:
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            card = page.locator("#campaigns-card")
            card.wait_for(timeout=30_000)
            card.scroll_into_view_if_needed()
            text = card.inner_text()
            assert "Campaigns and landing pages" in text and BLOG in text and "broken at step 2" in text
            assert card.locator("script, b").count() == 0  # data shown as text, never as markup
            card.screenshot(path=str(tmp_path / "campaigns_card.png"))
    finally:
        server.shutdown()
        thread.join()


# ------------------------------------------------------------------------------------------ persona profiles


def _profiles(ws: Workspace) -> PersonaProfiles:
    with open_journeys(ws) as journeys:
        return PersonaProfiles().fit(journeys)


def test_each_persona_shows_its_content_journey_before_mql(planted: tuple[Workspace, Analysis, dict[str, Any]]) -> None:
    ws, _, truth = planted
    profiles = _profiles(ws)
    cto = {c.milestone: c for c in profiles.profile("enterprise_it").content}
    founder = {c.milestone: c for c in profiles.profile("smb_founder").content}
    assert cto["MQL"].reached == truth["mql"]["cto"] and founder["MQL"].reached == truth["mql"]["founder"]
    cto_items = {(i.kind, i.item): i.people for i in cto["MQL"].items}
    assert cto_items == {("content", "/roi-calculator"): truth["calc_before_mql_cto"],
                         ("landing page", "/pricing"): truth["mql"]["cto"]}
    founder_items = {(i.kind, i.item): i.people for i in founder["MQL"].items}
    assert founder_items == {("content", "/case-study"): truth["case_before_mql_founder"],
                             ("landing page", BLOG): truth["mql"]["founder"]}
    assert not cto["won"].items and cto["won"].status.reason == "nobody of this persona reached won"
    text = profiles.to_markdown()
    assert "| MQL | " + f"{truth['mql']['cto']} | content | /roi-calculator | {truth['calc_before_mql_cto']} |" in text
    assert "<b>grow" not in text  # a page's markup escaped for Markdown
    doc = personas_markdown(profiles)
    assert f"content /roi-calculator ({truth['calc_before_mql_cto']} of {truth['mql']['cto']})" in doc
    assert "<b>grow" not in doc


def test_a_persona_milestone_under_min_n_is_withheld_with_the_reason(
        planted: tuple[Workspace, Analysis, dict[str, Any]], tmp_path: Path) -> None:
    ws, _, truth = planted
    shutil.copytree(ws.root, tmp_path / "ws")
    small, big = sorted(truth["mql"].values())
    ws = set_option(Workspace.open(tmp_path / "ws"), "min_n = 30", f"min_n = {small + 1}")
    assert small + 1 <= big
    profiles = _profiles(ws)
    founder = {c.milestone: c for c in profiles.profile("smb_founder").content}["MQL"]
    cto = {c.milestone: c for c in profiles.profile("enterprise_it").content}["MQL"]
    assert founder.items == () and founder.status.reason == (
        f"{small} of this persona reached MQL, fewer than min_n = {small + 1}")
    assert cto.items and cto.status.judged
    assert f"withheld: {small} of this persona reached MQL" in profiles.to_markdown()
