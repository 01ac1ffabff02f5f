"""The dashboard: its numbers equal ``analyze`` for the same filters, the export is offline, access is guarded.

Browser tests drive Debian's Chromium through Playwright (never a downloaded browser); they skip,
saying why, when either is missing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import ibis.backends.duckdb as duckdb_backend
import pytest

from conftest import SharedGenerated, chromium_page, copy_workspace, fetch, needs_browser
from conftest import run_cli as run
from leadjourney import engine
from leadjourney.analysis.findings import baseline, store
from leadjourney.analysis.journeys import Filters
from leadjourney.analysis.report import Analysis, analyze
from leadjourney.config import default_config_text, parse_config
from leadjourney.dashboard import (
    Auth,
    DashboardData,
    DashboardError,
    auth_from_env,
    check_bind,
    create_app,
)
from leadjourney.dashboard.app import _filters_from_query, parse_query, query_of, render
from leadjourney.dashboard.data import previous_period
from leadjourney.dashboard.security import hash_password, verify_password
from leadjourney.display import display_name
from leadjourney.errors import ConfigError, SelectionError
from leadjourney.workspace import Workspace

TOKEN = "s3cret-token-for-tests-0123"
SELECTIONS = [Filters(), Filters(sources=("seo",)), Filters(personas=("smb_founder",)), Filters(owners=("owner_05",)),
              Filters(date_from=date(2026, 4, 1), date_to=date(2026, 5, 31), sources=("paid_search", "seo"))]
BASELINE_TO = date(2026, 4, 30)  # the baseline snapshot: leads created until then


@pytest.fixture(scope="module")
def ws(shared_generated: SharedGenerated, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    shared, _ = shared_generated(n_leads=3000, seed=4, end=date(2026, 6, 30), days=120)
    ws = copy_workspace(shared, tmp_path_factory.mktemp("dashboard") / "ws")  # a baseline, the dashboard's cache
    store(ws, analyze(ws, filters=Filters(date_to=BASELINE_TO)), baseline=True)
    return ws


def expected(ws: Workspace, filters: Filters) -> dict[str, Any]:
    out = analyze(ws, filters=filters).to_dict()
    out.pop("computed_at")
    return out


@pytest.mark.parametrize("filters", SELECTIONS, ids=["all", "source", "persona", "owner", "dates+sources"])
def test_the_data_layer_returns_analyze_json_for_the_same_filters(ws: Workspace, filters: Filters) -> None:
    view = DashboardData(ws).view(filters)
    got = view.analysis.to_dict()
    got.pop("computed_at")
    want = expected(ws, filters)
    # the campaign analyses are `analyze`'s, not computed per dashboard selection: withheld there, so not shown
    assert "campaigns" not in got
    want.pop("campaigns", None)
    assert json.loads(json.dumps(got)) == json.loads(json.dumps(want))
    assert view.baseline is not None and view.baseline.filters.date_to == date(2026, 4, 30)
    assert view.sla_minutes == 5.0 and view.freshness is not None


def test_views_are_cached_per_filter_combination(ws: Workspace) -> None:
    data = DashboardData(ws, cache_size=1, disk=False)
    first = data.view(Filters(sources=("seo",)))
    assert data.view(Filters(sources=("seo",))) is first
    data.view(Filters())
    computed = data.computed
    again = data.view(Filters(sources=("seo",)))
    assert again is not first and again.analysis.funnel == first.analysis.funnel  # evicted: the cache keeps one
    assert data.computed == computed + 1  # the selection again; its matched baseline adds up cached segment counts


def pseudonym(ws: Workspace, owner: str) -> str:
    """An owner as the page shows them, computed independently: SHA-256 over the workspace's secret and the name."""
    salt = fetch(ws, "SELECT value FROM meta WHERE key = 'email_salt'")[0][0]
    return "owner-" + hashlib.sha256((salt + owner).encode()).hexdigest()[:8]


def test_computed_views_persist_on_disk_so_a_restart_is_instant(ws: Workspace) -> None:
    f = Filters(sources=("seo",), personas=("smb_founder",))
    data = DashboardData(ws)
    first = data.view(f)
    assert data.computed > 0 and list((ws.root / ".dashboard-cache").glob("*/*.json"))
    restarted = DashboardData(ws)
    view = restarted.view(f)
    assert restarted.computed == 0, "computed instead of read from the cache"
    assert view.analysis == first.analysis and view.baseline == first.baseline and view.trend == first.trend


@pytest.mark.slow  # heavy integration: make test-integration runs it
def test_warm_up_builds_and_compiles_each_shape_of_selection_and_keeps_nothing(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[Any] = []
    real = duckdb_backend.Backend.compile
    monkeypatch.setattr(duckdb_backend.Backend, "compile", lambda self, *a, **k: compiled.append(a) or real(self, *a, **k))

    def compiles(data: DashboardData, f: Filters) -> int:
        compiled.clear()
        data.view(f)
        return len(compiled)

    small, large = Filters(sources=("seo",), owners=("nobody",)), Filters(date_from=date(2026, 3, 2))
    for warm in (False, True):
        engine.forget_compiled()  # as in a new process
        data = DashboardData(ws, disk=False)
        data.view(Filters())
        if warm:
            data.warm_up()
            assert data.computed == 2  # the unfiltered view and the baseline's counts: its analyses are not kept
        counts = compiles(data, small), compiles(data, large)
        if warm:
            assert counts[0] <= 2 and counts[1] <= 2, counts  # the selection's own filter, no more
        else:
            assert min(counts) > 10, counts


def test_the_neighbours_are_every_selection_one_filter_change_away(ws: Workspace) -> None:
    data = DashboardData(ws, disk=False)
    sources, personas = data.source_options(), data.persona_options()
    owners, presets = [o.owners for o in data.owners()], [(a, b) for _, a, b in data.date_presets()]
    two = Filters(sources=tuple(sorted(sources[:2])), personas=(personas[0],))
    expected = ({replace(two, sources=tuple(sorted((*two.sources, s)))) for s in sources[2:]}
                | {replace(two, personas=tuple(sorted((personas[0], p)))) for p in personas[1:]}
                | {replace(two, date_from=a, date_to=b) for a, b in presets}
                | {replace(two, owners=o) for o in owners}
                | {replace(two, sources=(s,)) for s in two.sources})  # one of the two sources fewer
    found = data.neighbours(two)
    assert len(found) == len(set(found)) and set(found) == expected
    assert found[0] == replace(two, sources=tuple(sorted((*two.sources, sources[2]))))  # the largest source next


@pytest.mark.slow  # heavy integration: make test-integration runs it
def test_the_neighbours_of_the_shown_selection_are_computed_ahead(ws: Workspace) -> None:
    data = DashboardData(ws, disk=False)
    sources, personas = data.source_options(), data.persona_options()
    data.expect(Filters(sources=(sources[0],)))
    data.expect(Filters(sources=(sources[1],), personas=(personas[1],)))  # the page moved on: only these
    shown = Filters(sources=(sources[1],), personas=(personas[1],))
    ahead = data.neighbours(shown)
    data._compute_ahead(None)
    assert data.prefetched > 0 and data._wake.is_set() is False
    before = data.computed
    for f in ahead:
        assert data.view(f).filters == f
    assert data.computed == before  # every neighbour was ready
    assert Filters(sources=tuple(sorted(sources[:2]))) not in ahead  # the first selection's were dropped


@pytest.mark.slow  # heavy integration: make test-integration runs it
def test_precompute_makes_every_single_filter_change_a_cache_hit(ws: Workspace) -> None:
    data = DashboardData(ws, disk=False)
    warmed: list[Any] = []
    data.precompute(warm=warmed.append, max_pairs=8)
    selections, pairs = data.selections(), data.pairs()
    assert [v.filters for v in warmed] == selections + pairs[:8]
    sources, personas = data.source_options(), data.persona_options()
    assert pairs[:len(personas)] == [Filters(sources=(sources[0],), personas=(p,)) for p in personas]  # likeliest first
    by_kind = {"dates": [replace(f, sources=(), personas=(), owners=()) for f in selections if f.date_from],
               "source": [Filters(sources=f.sources) for f in selections if f.sources],
               "persona": [Filters(personas=f.personas) for f in selections if f.personas],
               "owner": [Filters(owners=f.owners) for f in selections if f.owners]}
    every_pair = {Filters(a.date_from or b.date_from, a.date_to or b.date_to, a.sources + b.sources,
                          a.personas + b.personas, a.owners + b.owners)
                  for k1, k2 in combinations(by_kind, 2) for a in by_kind[k1] for b in by_kind[k2]}
    every_pair |= {Filters(sources=tuple(sorted(a.sources + b.sources)), personas=tuple(sorted(a.personas + b.personas)),
                           owners=tuple(sorted(a.owners + b.owners)))
                   for kind in ("source", "persona", "owner") for a, b in combinations(by_kind[kind], 2)}
    assert len(pairs) == len(set(pairs)) and set(pairs) == every_pair  # each pair of values, once
    first = data.first_created()
    earlier = {previous_period(Filters(a, b)) for _, a, b in data.date_presets()}
    earlier = {p for p in earlier if p is not None and first is not None and p.date_from is not None
               and p.date_from >= first}  # the presets' previous periods within the data: their counts per segment
    # and once the baseline's counts per segment (for every match)
    assert data.computed == len(selections) + 8 + 1 + len(earlier)
    presets = [f for f in selections if f.date_from]
    everyone_as_of = data.view(Filters()).analysis.time_in_stage.as_of
    assert everyone_as_of is not None
    as_of = everyone_as_of.date()
    assert [(f.date_from, f.date_to) for f in presets] == [
        (date(2026, 5, 31), as_of), (date(2026, 4, 1), as_of), (date(2026, 1, 1), date(2026, 3, 31))]
    owners = [o.owners for o in data.owners()]
    assert {f.owners for f in selections if f.owners} == set(owners) and len(owners) >= 5
    assert {f.sources[0] for f in selections if f.sources} == set(data.source_options())
    computed = data.computed
    for f in selections + pairs[:8]:
        assert data.view(f).filters == f
    assert data.computed == computed, "computed instead of read from the cache"


def test_owners_show_as_pseudonyms_largest_first_and_resolve_server_side(ws: Workspace) -> None:
    rows = fetch(ws, "SELECT owner, count(*) FROM leads WHERE excluded_as IS NULL AND lead_id = person_id "
                     "AND owner IS NOT NULL GROUP BY owner ORDER BY 2 DESC, 1")
    data = DashboardData(ws)
    owners = data.owners()
    assert [(o.owners, o.people) for o in owners] == [((name,), n) for name, n in rows]
    assert [o.key for o in owners] == [pseudonym(ws, name) for name, _ in rows]
    name, key = rows[0][0], owners[0].key
    assert data.resolve(Filters(owners=(key,))) == Filters(owners=(name,))
    assert data.resolve(Filters(owners=(name,))) == Filters()  # a name in the URL is not honoured
    assert data.owner_keys(Filters(owners=(name,))) == Filters(owners=(key,))
    named = DashboardData(Workspace(ws.root, replace(ws.config, show_owners=True)), disk=False)
    assert [o.key for o in named.owners()] == [name for name, _ in rows]
    assert named.resolve(Filters(owners=(name,))) == Filters(owners=(name,))


def cli_analysis(ws: Workspace, *args: str) -> dict[str, Any]:
    proc = run("analyze", str(ws.root), "--json", *args)
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    out.pop("computed_at")
    return out


def test_the_period_comparison_matches_the_baseline_period_to_the_selection(ws: Workspace) -> None:
    view = DashboardData(ws).view(Filters(date_from=date(2026, 5, 1), sources=("seo",)))
    assert view.baseline is not None
    base = view.baseline.to_dict()
    full = cli_analysis(ws, "--to", BASELINE_TO.isoformat(), "--source", "seo")
    # what the comparison reads of the baseline side, computed alone: equal to analyze --json's
    assert {k: base[k] for k in ("filters", "n_people", "funnel")} == {k: full[k] for k in ("filters", "n_people", "funnel")}
    assert base["time_in_stage"]["as_of"] == full["time_in_stage"]["as_of"]
    stored = baseline(ws)
    assert stored is not None and DashboardData(ws).view(Filters()).baseline == stored  # its own selection: as stored
    assert base["n_people"] < stored.n_people
    components = render(view)
    compare_figure, compare_table = components[6], components[7]
    rows = {cells[0]: cells[1:] for cells in table_rows(compare_table)}
    mql_sql = next(t for t in base["funnel"]["transitions"] if (t["from"], t["to"]) == ("MQL", "SQL"))
    assert rows["MQL→SQL"][1] == f"{mql_sql['rate']:.1%} of {mql_sql['entered']:,}"
    title = compare_figure["layout"]["title"]["text"]
    assert f"baseline: created until {BASELINE_TO.isoformat()}" in title and f"n {base['n_people']:,}" in title
    assert "now: created from 2026-05-01" in title


def table_rows(markup: str) -> list[list[str]]:
    """The body rows of an HTML table as cell texts, read back with the standard library's parser."""
    from html.parser import HTMLParser

    rows: list[list[str]] = []

    class Rows(HTMLParser):
        body = cell = False

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            self.body = self.body or tag == "tbody"
            if self.body and tag == "tr":
                rows.append([])
            self.cell = self.body and tag == "td"
            if self.cell:
                rows[-1].append("")

        def handle_endtag(self, tag: str) -> None:
            self.cell = self.cell and tag != "td"

        def handle_data(self, data: str) -> None:
            if self.cell:
                rows[-1][-1] += data

    Rows(convert_charrefs=True).feed(markup)
    return rows


@pytest.mark.parametrize("filters", SELECTIONS, ids=["all", "source", "persona", "owner", "dates+sources"])
def test_figures_are_plain_dicts_that_plotly_validates_unchanged(ws: Workspace, filters: Filters) -> None:
    """The figures are built as dicts (fast); graph_objects validates each and gives back the same JSON."""
    import plotly.graph_objects as go
    from plotly.utils import PlotlyJSONEncoder

    def plain(fig: Any) -> Any:
        return json.loads(json.dumps(fig, cls=PlotlyJSONEncoder, sort_keys=True))

    view = DashboardData(ws).view(filters)
    figures_shown = [c for c in render(view, period="week", measure="drop-off") if isinstance(c, dict)]
    assert len(figures_shown) == 6
    for fig in figures_shown:
        assert plain(go.Figure(fig).to_plotly_json()) == plain(fig)


def test_tables_are_escaped_html_with_the_numbers(ws: Workspace) -> None:
    from leadjourney.dashboard.app import sources_table
    from leadjourney.dashboard.figures import html_table

    assert html_table(["a<b"], [["x & <i>y</i>"]], row_ids="r-") == (
        '<table><thead><tr><th>a&lt;b</th></tr></thead><tbody><tr id="r-x &amp; &lt;i&gt;y&lt;/i&gt;">'
        "<td>x &amp; &lt;i&gt;y&lt;/i&gt;</td></tr></tbody></table>")
    a = expected(ws, Filters())
    rows = table_rows(sources_table(Analysis.from_dict(a), "source"))
    by_source = {d["source"]: d["people"] for d in a["sources"]["distribution"]}
    assert [r[0] for r in rows] == [display_name(s) for s in sorted(by_source)]  # what people read
    assert [r[1] for r in rows] == [f"{by_source[s]:,}" for s in sorted(by_source)]


def test_components_show_the_analysis_numbers(ws: Workspace) -> None:
    f = Filters(personas=("enterprise_it",))
    a = expected(ws, f)
    kpis, funnel, *_ = render(DashboardData(ws).view(f))
    texts = dict(re.findall(r'id="(kpi-[^"]+)"[^>]*>([^<]*)<', kpis))
    assert texts["kpi-people"] == f"{a['n_people']:,}"
    mql_sql = next(t for t in a["funnel"]["transitions"] if (t["from"], t["to"]) == ("MQL", "SQL"))
    assert texts["kpi-rate-MQL-SQL"] == f"{mql_sql['rate']:.1%}"
    assert list(funnel["data"][0]["x"]) == [s["reached"] for s in a["funnel"]["stages"]]


def test_filters_round_trip_through_the_url() -> None:
    f = Filters(date(2026, 3, 1), date(2026, 3, 31), ("paid_search", "seo"), ("smb_founder",))
    assert parse_query(query_of(f)) == f
    assert query_of(Filters()) == ""
    assert parse_query("?from=not-a-date") == Filters()  # a link with a bad date shows all leads ...
    with pytest.raises(SelectionError, match="from: expected a date like 2026-06-30, found 'not-a-date'"):
        _filters_from_query({"from": ["not-a-date"]})  # ... because the date is refused, not dropped


def test_export_is_self_contained_and_embeds_plotly(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "snapshot.html"
    proc = run("dashboard", str(ws.root), "--export", str(out), "--source", "seo")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text("utf-8")
    assert "Plotly.newPlot" in text and re.search(r"plotly\.js v\d", text)
    markup = re.sub(r"(<script[^>]*>).*?</script>", r"\1</script>", text, flags=re.S)  # code may mention URLs
    assert re.findall(r"\b(?:src|href)\s*=", markup) == []
    assert f"{analyze(ws, filters=Filters(sources=('seo',))).n_people:,}" in text


def test_the_export_names_an_owner_by_pseudonym(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "owner.html"
    proc = run("dashboard", str(ws.root), "--export", str(out), "--owner", "owner_05")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text("utf-8")
    assert "owner_05" not in text and pseudonym(ws, "owner_05") in text
    assert f"{analyze(ws, filters=Filters(owners=('owner_05',))).n_people:,}" in text


def test_a_non_loopback_host_without_auth_refuses_to_start(ws: Workspace) -> None:
    proc = run("dashboard", str(ws.root), "--host", "0.0.0.0", env={"LEADJOURNEY_DASHBOARD_TOKEN": None},
               timeout=60)  # were it to start, it would serve until interrupted
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "refusing to serve on 0.0.0.0 without authentication" in proc.stderr
    assert "LEADJOURNEY_DASHBOARD_TOKEN" in proc.stderr
    check_bind("127.0.0.1", None, "X")
    check_bind("::1", None, "X")
    check_bind("0.0.0.0", Auth("token", TOKEN), "X")


def test_credentials_come_from_the_configured_environment_variable(ws: Workspace) -> None:
    assert auth_from_env(ws.config, {}) is None
    assert auth_from_env(ws.config, {"LEADJOURNEY_DASHBOARD_TOKEN": TOKEN}) == Auth("token", TOKEN)
    with pytest.raises(DashboardError, match="at least 16 characters"):
        auth_from_env(ws.config, {"LEADJOURNEY_DASHBOARD_TOKEN": "short"})
    hashed = hash_password("correct horse")
    auth = auth_from_env(ws.config, {"LEADJOURNEY_DASHBOARD_TOKEN": hashed})
    assert auth is not None and auth.check("correct horse") and not auth.check("wrong")
    import hashlib

    pbkdf2 = f"pbkdf2_sha256$1000${b'salt'.hex()}${hashlib.pbkdf2_hmac('sha256', b'pw', b'salt', 1000).hex()}"
    assert verify_password("pw", pbkdf2) and not verify_password("px", pbkdf2)
    config = parse_config(default_config_text().replace('auth_env = "LEADJOURNEY_DASHBOARD_TOKEN"',
                                                        'auth_env = "MY_TOKEN"'))
    assert config.dashboard_auth_env == "MY_TOKEN"
    with pytest.raises(ConfigError, match=r"dashboard\.auth_env"):
        parse_config(default_config_text().replace('auth_env = "LEADJOURNEY_DASHBOARD_TOKEN"', 'auth_env = "a b"'))


def test_the_login_wall_guards_every_route(ws: Workspace) -> None:
    client = create_app(ws, auth=Auth("token", TOKEN)).server.test_client()
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    for path in ("/_dash-layout", "/_dash-dependencies"):
        denied = client.get(path)
        assert denied.status_code == 401 and denied.get_json() == {"error": "authentication required"}
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.post("/login", data={"secret": "wrong"}).status_code == 401
    assert client.get("/_dash-layout", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    login = client.post("/login", data={"secret": TOKEN, "next": "/"})
    assert login.status_code == 302 and login.headers["Location"] == "/"
    assert client.get("/").status_code == 200 and client.get("/_dash-layout").status_code == 200


# --- in a real browser ------------------------------------------------------------------------------



@pytest.fixture(scope="module")
def served(ws: Workspace) -> Iterator[str]:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, create_app(ws).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def page(served: str) -> Iterator[Any]:
    with chromium_page() as page:
        yield page


def shown(page: Any, ws: Workspace, filters: Filters) -> dict[str, Any]:
    """Wait until the page shows ``filters``' people count, then check its numbers against analyze."""
    a = expected(ws, filters)
    page.wait_for_function("t => document.getElementById('kpi-people')?.innerText === t", arg=f"{a['n_people']:,}")
    rate = next(t["rate"] for t in a["funnel"]["transitions"] if (t["from"], t["to"]) == ("MQL", "SQL"))
    assert page.inner_text("#kpi-rate-MQL-SQL") == f"{rate:.1%}"
    page.wait_for_function("n => document.querySelector('#funnel .js-plotly-plot')?.data?.[0]?.x?.[0] === n",
                           arg=a["funnel"]["stages"][0]["reached"])
    reached = page.evaluate("() => Array.from(document.querySelector('#funnel .js-plotly-plot').data[0].x)")
    assert reached == [s["reached"] for s in a["funnel"]["stages"]]
    return a


def choose(page: Any, dropdown: str, value: str, attempts: int = 3) -> None:
    """Pick ``value`` in a dropdown as a user would: open it, search, click the option.

    Each step waits for the state it needs (the menu open, the option listed, the value shown), and
    a re-render that closed the menu meanwhile starts the pick again from a closed menu.
    """
    trigger = page.locator(f"#{dropdown}")
    for attempt in range(attempts):
        try:
            if trigger.get_attribute("aria-expanded") != "true":
                trigger.click()
            page.wait_for_function("id => document.getElementById(id)?.getAttribute('aria-expanded') === 'true'",
                                   arg=dropdown, timeout=10_000)
            menu = page.locator(f'[id="{trigger.get_attribute("aria-controls")}"]')
            menu.locator("input.dash-dropdown-search").fill(value, timeout=10_000)
            menu.get_by_role("option", name=value, exact=True).click(timeout=10_000)
            page.wait_for_function("([id, v]) => document.getElementById(id + '-value')?.innerText.includes(v)",
                                   arg=[dropdown, value], timeout=10_000)
        except Exception as exc:  # the page re-rendered under us: close whatever is open and start again
            page.keyboard.press("Escape")
            if attempt == attempts - 1:
                state = page.evaluate("id => document.getElementById(id)?.parentElement?.outerHTML.slice(0, 600)",
                                      dropdown)
                raise AssertionError(f"could not pick {value!r} in #{dropdown}; it reads: {state}") from exc
            continue
        page.keyboard.press("Escape")
        return


@needs_browser
def test_the_page_follows_the_filters_and_matches_analyze(ws: Workspace, served: str, page: Any,
                                                          tmp_path: Path) -> None:
    page.goto(served + "/")
    shown(page, ws, Filters())
    choose(page, "source", "SEO")  # the display name; the URL keeps the value
    shown(page, ws, Filters(sources=("seo",)))
    choose(page, "persona", "SMB founder")
    shown(page, ws, Filters(sources=("seo",), personas=("smb_founder",)))
    assert page.url.endswith("?source=seo&persona=smb_founder")
    page.goto(served + "/?from=2026-04-01&to=2026-05-31&source=paid_search")  # a shared link restores the view
    shown(page, ws, Filters(date(2026, 4, 1), date(2026, 5, 31), ("paid_search",)))
    page.goto(served + "/")
    shown(page, ws, Filters())
    page.wait_for_timeout(500)  # let the gauges finish their transition
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    page.screenshot(path="/tmp/dashboard.png", full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


@needs_browser
def test_the_login_wall_in_the_browser(ws: Workspace, page: Any) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, create_app(ws, auth=Auth("token", TOKEN)).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/?source=seo")
        assert "/login" in page.url
        page.fill("input[name=secret]", "wrong")
        page.click("button[type=submit]")
        assert page.is_visible("text=Wrong token or password.")
        page.fill("input[name=secret]", TOKEN)
        page.click("button[type=submit]")
        shown(page, ws, Filters(sources=("seo",)))
    finally:
        server.shutdown()
        thread.join()


@needs_browser
def test_the_exported_snapshot_renders_offline(ws: Workspace, page: Any, tmp_path: Path) -> None:
    out = tmp_path / "snapshot.html"
    assert run("dashboard", str(ws.root), "--export", str(out)).returncode == 0
    requests: list[str] = []
    page.context.set_offline(True)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert page.locator(".js-plotly-plot").count() == 6
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []


@pytest.mark.parametrize("filters", SELECTIONS[1:], ids=["source", "persona", "owner", "dates+sources"])
def test_the_trend_follows_the_filters_and_sums_to_the_funnel(ws: Workspace, filters: Filters) -> None:
    view = DashboardData(ws).view(filters)
    a = expected(ws, filters)
    for period in ("week", "month"):
        points = view.trend[period].points
        for t in a["funnel"]["transitions"]:  # the periods partition the selection's people
            rows = [p for p in points if (p.from_stage, p.to_stage) == (t["from"], t["to"])]
            assert sum(p.entered for p in rows) == t["entered"]
            assert sum(p.converted for p in rows) == t["converted"]
    *_, trend = render(view, period="week", measure="drop-off")
    names = [tr["name"] for tr in trend["data"]]
    assert [n for n in names if "→" in n and " " not in n] == [f"{t['from']}→{t['to']}" for t in a["funnel"]["transitions"]]
    assert sum(n.startswith("baseline ") for n in names) == len(a["funnel"]["transitions"])


@needs_browser
def test_the_owner_filter_shows_pseudonyms_and_matches_analyze(ws: Workspace, served: str, page: Any) -> None:
    owner = DashboardData(ws).owners()[2]
    (name,) = owner.owners
    page.goto(served + "/")
    shown(page, ws, Filters())
    choose(page, "owner", owner.key)
    a = shown(page, ws, Filters(owners=(name,)))
    assert page.url.endswith(f"?owner={owner.key}")
    cli = cli_analysis(ws, "--owner", name)
    assert page.inner_text("#kpi-people") == f"{cli['n_people']:,}" and cli == a
    owners_in_data = {r[0] for r in fetch(ws, "SELECT DISTINCT owner FROM leads WHERE owner IS NOT NULL")}
    text = page.content()
    assert [o for o in owners_in_data if o in text] == []  # no rep's name anywhere in the page
    page.goto(served + f"/?owner={name}")  # a name typed into the URL is not honoured, and not echoed
    shown(page, ws, Filters())
    assert "owner=" not in page.url


@needs_browser
def test_the_period_comparison_in_the_page_is_matched_to_the_selection(ws: Workspace, served: str, page: Any,
                                                                       tmp_path: Path) -> None:
    page.goto(served + "/?source=seo")
    shown(page, ws, Filters(sources=("seo",)))
    base = cli_analysis(ws, "--to", BASELINE_TO.isoformat(), "--source", "seo")
    for t in base["funnel"]["transitions"]:
        if t["rate"] is None:
            continue
        cells = page.locator(f"[id='compare-{t['from']}-{t['to']}'] td").all_inner_texts()
        assert cells[2] == f"{t['rate']:.1%} of {t['entered']:,}"
    title = page.evaluate("() => document.querySelector('#baseline .js-plotly-plot').layout.title.text")
    assert f"baseline: created until {BASELINE_TO.isoformat()}" in title and f"n {base['n_people']:,}" in title
    page.wait_for_timeout(500)
    page.screenshot(path=str(tmp_path / "dashboard-seo.png"), full_page=True)
    page.screenshot(path="/tmp/dashboard-seo.png", full_page=True)


@needs_browser
def test_a_shared_link_arrives_drawn_with_the_partial_plotly_bundle(ws: Workspace, served: str, page: Any) -> None:
    updates: list[Any] = []
    page.on("response", lambda r: updates.append(r) if "_dash-update-component" in r.url else None)
    page.goto(served + "/?source=seo")
    shown(page, ws, Filters(sources=("seo",)))
    page.wait_for_load_state("networkidle")
    sent = [json.loads(r.body())["response"] for r in updates]
    assert sent == [{"rendered": {"data": None}}]  # the layout came with the selection: the first update draws nothing
    assert page.evaluate("() => Plotly.version") == "4.1.0"  # the finance bundle, not Dash's full one
    client = create_app(ws).server.test_client()
    with client.get("/_leadjourney/static/plotly-finance-4.1.0.min.js") as bundle:
        assert bundle.status_code == 200 and "max-age=31536000" in bundle.headers["Cache-Control"]
    assert client.get("/_leadjourney/static/LICENSE-plotly.js.txt").status_code == 404


@needs_browser
def test_a_date_preset_sets_the_dates_and_matches_analyze(ws: Workspace, served: str, page: Any) -> None:
    label, first, last = DashboardData(ws).date_presets()[1]
    page.goto(served + "/")
    shown(page, ws, Filters())
    page.get_by_label(label).check()
    shown(page, ws, Filters(first, last))
    assert page.url.endswith(f"?from={first.isoformat()}&to={last.isoformat()}")
    page.goto(served + f"/?from={first.isoformat()}&to={last.isoformat()}")  # the link shows the preset chosen
    shown(page, ws, Filters(first, last))
    assert page.get_by_label(label).is_checked()


@needs_browser
def test_sorting_and_the_trend_controls_redraw_only_their_component(ws: Workspace, served: str, page: Any) -> None:
    page.goto(served + "/?persona=smb_founder")
    a = shown(page, ws, Filters(personas=("smb_founder",)))
    page.wait_for_load_state("networkidle")
    updates: list[Any] = []
    page.on("response", lambda r: updates.append(r) if "_dash-update-component" in r.url else None)
    choose(page, "sort", "source")
    first = display_name(sorted(d["source"] for d in a["sources"]["distribution"])[0])
    page.wait_for_function("s => document.querySelector('#sources-table tbody td')?.innerText === s", arg=first)
    page.get_by_label("by week").check()
    page.wait_for_function("() => document.querySelector('#trend .js-plotly-plot')?.layout?.title?.text"
                           "?.includes('by creation week')")
    page.wait_for_load_state("networkidle")
    assert [set(json.loads(r.body())["response"]) for r in updates] == [{"sources-table"}, {"trend"}]


@needs_browser
def test_a_filter_change_sends_the_components_but_not_the_controls_already_showing_it(ws: Workspace, served: str,
                                                                                       page: Any) -> None:
    page.goto(served + "/")
    shown(page, ws, Filters())
    page.wait_for_load_state("networkidle")
    updates: list[Any] = []
    page.on("response", lambda r: updates.append(r) if "_dash-update-component" in r.url else None)
    choose(page, "persona", "SMB founder")
    shown(page, ws, Filters(personas=("smb_founder",)))
    page.wait_for_load_state("networkidle")
    sent = [json.loads(r.body())["response"] for r in updates]
    assert [set(s) for s in sent] == [{"url", "kpis", "funnel", "time", "sources-bar", "sources-table", "speed",
                                       "baseline", "baseline-table", "dark", "friction", "trend"}]
    assert sent[0]["url"] == {"search": "?persona=smb_founder"}
    assert "<table>" in sent[0]["sources-table"]["children"]  # a table is one HTML string, not a component per cell


def test_the_friction_title_names_the_largest_segment_gap_beside_the_transitions_total(ws: Workspace) -> None:
    """The card read "recoverable $0/yr at the transitions" while a segment lost $63k/yr: a VP read "nothing to
    gain". The title now names the largest segment gap too, in display names."""
    from leadjourney.dashboard import figures
    from leadjourney.display import display_name, money, segment_name

    result = analyze(ws)
    fr = result.friction
    text = figures.friction_summary(result)
    assert f"recoverable {money(fr.total_recoverable(), fr.currency)}/{fr.per} at whole transitions" in text
    top = max((r for r in fr.rows if r.segment and r.recoverable_per_year), key=lambda r: r.recoverable_per_year or 0)
    assert (f"{money(top.recoverable_per_year, fr.currency)}/{fr.per} in the largest segment gap "
            f"({segment_name(top.segment)}, {display_name(top.from_stage)}→{display_name(top.to_stage)})") in text
