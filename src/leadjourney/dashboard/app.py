"""The Dash app: filters (date range, source, persona, owner) kept in the URL, and the components that follow them.

Every value a request sends is checked before anything is computed (:func:`selection_of`): a filter value the
page does not offer, a date that is not one, too many values or an unknown control is refused with a 400 and a
one-line JSON error; a link (the URL's query) asking for one shows all leads, saying why in the page. Every
error leadjourney raises in a request goes through one handler (:func:`_refused`): ``{"error": "<one line>"}``,
400 for what the request asked, 500 for anything else.

Owners appear as pseudonyms (``owner-`` and 8 hex digits) unless ``[privacy] show_owners``: the page and
its URLs carry only what :meth:`DashboardData.owners` shows, and the server maps it back
(:meth:`DashboardData.resolve`) before analyzing.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import dash
from dash import Input, Output, State, ctx, dcc, html
from flask import Response, has_request_context, jsonify, request, send_from_directory

from leadjourney.analysis.journeys import Filters
from leadjourney.analysis.kpis import period_days
from leadjourney.analysis.report import Analysis
from leadjourney.analysis.trend import PERIODS
from leadjourney.dashboard import campaigns_card, figures
from leadjourney.dashboard.comparison import Delta
from leadjourney.dashboard.data import DashboardData, View, check_count
from leadjourney.dashboard.security import (
    LOGOUT_PATH,
    Auth,
    FailureLimit,
    install_login_wall,
    trust_proxy,
)
from leadjourney.dates import parse_date
from leadjourney.display import display_name
from leadjourney.errors import LeadJourneyError, OptionError, SelectionError
from leadjourney.workspace import Workspace

STATIC = Path(__file__).parent / "static"
# plotly.js's "finance" partial bundle (bar, funnel, indicator, scatter, ...: every trace the page draws), 1.3 MB
# where Dash's full bundle is 4.8 MB: parsing it is most of a first render. dcc.Graph uses a window.Plotly
# already there instead of loading its own.
PLOTLY_JS = "plotly-finance-4.1.0.min.js"
STATIC_PATH = "/_leadjourney/static/"
MENU_HEIGHT = 420  # px of a filter's open menu: its options in rows of two or three, most of them in view
MAX_REQUEST_BYTES = 2**20  # a callback's request body at most (the page's own are a few kB)
# .card{contain:layout style}: plotly.js measures its container while the other figures redraw; contained cards keep
# each forced layout to the card (about 15% less of a filter change's redraws at 1M; the page looks the same)

CSS = """
body{margin:0;background:#f4f6f9;font-family:system-ui,-apple-system,sans-serif;color:#1f2d3d}
.header{background:#1f3a5f;color:#fff;padding:14px 24px;display:flex;justify-content:space-between;align-items:center}
.header h1{margin:0;font-size:20px;font-weight:600}.header .fresh{font-size:13px;opacity:.85}
.filters{display:flex;gap:16px;padding:12px 24px;background:#fff;border-bottom:1px solid #dde3ea;align-items:flex-start;flex-wrap:wrap}
.filters label{font-size:12px;color:#52606d;display:block;margin-bottom:4px}.filters .f{min-width:200px}.filters .narrow{min-width:0}
.kpis{padding:16px 24px 0}.kpis p{margin:0}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:12px}
.kpi{background:#fff;border-radius:8px;padding:10px 14px;box-shadow:0 1px 3px #0001;border-top:3px solid #2c6fbb}
.kpi .v{font-size:26px;font-weight:600;color:#1f3a5f;font-variant-numeric:tabular-nums}
.kpi .l{font-size:12px;color:#52606d;text-transform:uppercase;letter-spacing:.04em}
.kpi .d{font-size:12px;color:#52606d;margin-bottom:4px}.kpi .why{color:#7b8794}
.kpi .c{font-size:12px;margin-top:2px}.kpi .up{color:#1e8449}.kpi .down{color:#c0392b}.kpi .flat{color:#52606d}
.kpi .na{color:#7b8794;font-style:italic}.kpi-note,.kpi-noise{font-size:12px;color:#52606d}
.kpi-notes{display:flex;flex-wrap:wrap;column-gap:24px;margin-top:6px}
.dash-dropdown-content:has(.dash-dropdown-search){min-width:min(460px,90vw)}
.dash-dropdown-content .dash-dropdown-options{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));column-gap:4px}
.dash-dropdown-content .dash-dropdown-option{display:flex;align-items:center;gap:6px;padding:5px 8px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px;padding:16px 24px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0001;padding:8px;min-width:0;contain:layout style}
.wide{grid-column:1 / -1}table{border-collapse:collapse;font-size:12px;width:100%}
td,th{padding:4px 8px;border-bottom:1px solid #eef2f7;text-align:left}th{background:#eef2f7}
.presets{font-size:13px;padding:9px 0}.presets label{display:inline;margin-right:10px;color:#1f2d3d}
.header a{color:#fff;font-size:13px;margin-left:16px}.refused{background:#fdecea;color:#c0392b;padding:8px 24px}
.campaigns h3{margin:4px 8px;font-size:16px}.campaigns h4{margin:12px 8px 4px;font-size:13px}
.campaigns .scope,.campaigns .why{margin:2px 8px 6px;font-size:12px;color:#52606d}
.campaigns code{font-family:inherit;background:#eef1f4;border-radius:3px;padding:0 3px}
.sort{display:flex;gap:8px;align-items:center;font-size:12px;padding:0 8px 8px}.sort .Select{min-width:180px}details summary{cursor:pointer;font-weight:600;padding:6px}
"""


def page_title(engagement: str) -> str:
    """The dashboard's title: the engagement's name, with "lead journey" unless the name already says it."""
    return engagement if "journey" in engagement.lower() else f"{engagement}: lead journey"


def create_app(ws: Workspace, *, data: DashboardData | None = None, auth: Auth | None = None,
               behind_proxy: bool = False, login_limit: FailureLimit | None = None) -> dash.Dash:
    """The dashboard for one workspace; with ``auth`` every request goes through the login wall (failed sign-ins
    limited by ``login_limit``). ``behind_proxy``: one reverse proxy (TLS) in front sets X-Forwarded-For/-Proto/
    -Host, which are then trusted (the client's address for the rate limits, https for the Secure cookie)."""
    data = data or DashboardData(ws)
    app = dash.Dash(__name__, title=page_title(ws.config.name), serve_locally=True,
                    update_title="", assets_ignore=".*")
    app.index_string = (app.index_string.replace("{%css%}", "{%css%}<style>" + CSS + "</style>")
                        .replace("{%renderer%}", f'{{%renderer%}}<script src="{STATIC_PATH}{PLOTLY_JS}"></script>'))
    app.server.add_url_rule(STATIC_PATH + "<name>", "leadjourney_static", _static)
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.server.register_error_handler(LeadJourneyError, _refused)
    if behind_proxy:
        trust_proxy(app.server)
    if auth is not None:
        install_login_wall(app.server, auth, login_limit)
    # a function: freshness and options are read on every page load
    app.layout = lambda: _layout(data, signed_in=auth is not None)
    _callbacks(app, data)
    return app


def _refused(exc: LeadJourneyError) -> tuple[Response, int]:
    """The one shape of a request's error, ``{"error": "<one line>"}``: 400 when the request asked for what the
    page does not offer (a selection, a control, an option), 500 when the workspace could not answer."""
    asked = isinstance(exc, SelectionError | OptionError)
    return jsonify(error=" ".join(str(exc).split())), 400 if asked else 500


def _preset_of(data: DashboardData, f: Filters) -> str | None:
    """The date preset whose days the selection has, if any."""
    return next((label for label, a, b in data.date_presets() if (a, b) == (f.date_from, f.date_to)), None)


def _static(name: str) -> Response:
    """The vendored plotly.js bundle (versioned name: cached for a year)."""
    if name != PLOTLY_JS:
        return Response("not found", status=404)
    return send_from_directory(STATIC, name, max_age=365 * 24 * 3600)


def filters_of(date_from: str | None, date_to: str | None, sources: list[str] | None,
               personas: list[str] | None, owners: list[str] | None = None) -> Filters:
    """The page's filters (owners as the page shows them: see :meth:`DashboardData.resolve`)."""
    return Filters(_date("from", date_from), _date("to", date_to), tuple(sorted(sources or ())), tuple(sorted(personas or ())),
                   tuple(sorted(owners or ())))


def selection_of(data: DashboardData, date_from: object, date_to: object, sources: object, personas: object,
                 owners: object) -> Filters:
    """The page's filters as a request sent them, checked (:meth:`DashboardData.check`) before anything is
    computed: a :class:`SelectionError` for anything the page does not offer."""
    for what, values in (("source", sources), ("persona", personas), ("owner", owners)):
        check_count(what, values)
    for day in (date_from, date_to):
        if day is not None and not isinstance(day, str):
            raise SelectionError("dates: expected YYYY-MM-DD")
    f = filters_of(date_from, date_to, sources, personas, owners)  # type: ignore[arg-type]
    data.check(f)
    return f


def selection_of_query(data: DashboardData, search: object) -> Filters:
    """:func:`selection_of` for the page's query string."""
    if search is not None and not isinstance(search, str):
        raise SelectionError("url: expected a query string")
    args = parse_qs((search or "").lstrip("?"))
    return selection_of(data, _first(args.get("from")), _first(args.get("to")), args.get("source"),
                        args.get("persona"), args.get("owner"))


def _control(what: str, value: object, allowed: list[str], default: str) -> str:
    """A control's value (sort, trend period or measure): one it offers, or its default when unset."""
    if value is None:
        return default
    if value not in allowed:
        raise SelectionError(f"{what}: expected one of {', '.join(allowed)}")
    return str(value)


def query_of(f: Filters) -> str:
    pairs = [("from", f.date_from.isoformat()) if f.date_from else None,
             ("to", f.date_to.isoformat()) if f.date_to else None]
    items = [p for p in pairs if p] + [("source", s) for s in f.sources] + [("persona", p) for p in f.personas]
    items += [("owner", o) for o in f.owners]
    return "?" + urlencode(items) if items else ""


def _filters_from_query(args: dict[str, list[str]]) -> Filters:
    return filters_of(_first(args.get("from")), _first(args.get("to")), args.get("source"), args.get("persona"),
                      args.get("owner"))


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def parse_query(search: str) -> Filters:
    """The filters a link asks for; all leads when it asks for a date that is none."""
    try:
        return _filters_from_query(parse_qs(search.lstrip("?")))
    except SelectionError:
        return Filters()


def _date(what: str, text: str | None) -> date | None:
    """A filter's day (the date picker sends YYYY-MM-DD, perhaps with a time); anything else is refused."""
    return parse_date(text[:40] if isinstance(text, str) and len(text) > 40 else text, what, SelectionError)


def _page_query() -> str | None:
    """The page's query string, from the Referer of the layout request (None outside one, or without it)."""
    if not has_request_context() or not request.referrer:
        return None
    return urlsplit(request.referrer).query


def _layout(data: DashboardData, *, signed_in: bool = False) -> html.Div:
    """The page; with the page's URL known, already showing its selection (no empty first draw, no round trip).
    A URL asking for what the page does not offer shows all leads, and why."""
    fresh = data.freshness()
    labels = data.ws.config.labels
    query = _page_query()
    shown, parts, refused = None, None, None
    if query is not None:
        try:
            f = data.resolve(selection_of_query(data, query))
        except SelectionError as exc:
            f, refused = Filters(), f"The link's selection was not applied (all leads shown): {exc}"
        shown = data.owner_keys(f)
        parts = render(data.view(f))

    def part(i: int) -> dict[str, Any]:
        return {} if parts is None else {"children" if i in _CHILDREN else "figure": parts[i]}

    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="rendered", data=None if shown is None else query_of(shown)),
        html.Div([html.H1(page_title(data.ws.config.name)),
                  html.Span(f"Data as of last ingest: {fresh:%Y-%m-%d %H:%M} UTC" if fresh else "No data ingested yet",
                            id="freshness", className="fresh"),
                  *([html.A("Sign out", href=LOGOUT_PATH, id="logout")] if signed_in else [])], className="header"),
        *([html.Div(refused, className="refused", id="refused")] if refused else []),
        html.Div([
            html.Div([html.Label("Leads created"),
                      dcc.DatePickerRange(id="dates", clearable=True, display_format="YYYY-MM-DD",
                                          updatemode="bothdates",  # one update per range, not one per click
                                          start_date=_iso(shown.date_from) if shown else None,
                                          end_date=_iso(shown.date_to) if shown else None)], className="f"),
            html.Div([html.Label("Quick range"),
                      dcc.RadioItems(id="preset", inline=True, className="presets",
                                     options=[label for label, _, _ in data.date_presets()],
                                     value=_preset_of(data, shown) if shown else None)], className="f narrow"),
            html.Div([html.Label("Lead source"),
                      dcc.Dropdown(id="source", options=_named(data.source_options(), labels), multi=True,
                                   maxHeight=MENU_HEIGHT,
                                   value=list(shown.sources) if shown else [], placeholder="All sources")],
                     className="f"),
            html.Div([html.Label("Persona"),
                      dcc.Dropdown(id="persona", options=_named(data.persona_options(), labels), multi=True,
                                   maxHeight=MENU_HEIGHT,
                                   value=list(shown.personas) if shown else [], placeholder="All personas")],
                     className="f"),
            html.Div([html.Label("Owner" + ("" if data.ws.config.show_owners else " (pseudonymized)")),
                      dcc.Dropdown(id="owner", options=[o.key for o in data.owners()], multi=True, maxHeight=MENU_HEIGHT,
                                   value=list(shown.owners) if shown else [], placeholder="All owners")],
                     className="f"),
        ], className="filters"),
        _html_block("kpis", part(0), className="kpis"),
        html.Div([
            html.Div(dcc.Graph(id="funnel", config={"displaylogo": False}, **part(1)), className="card"),
            html.Div(dcc.Graph(id="time", config={"displaylogo": False}, **part(2)), className="card"),
            html.Div([dcc.Graph(id="sources-bar", config={"displaylogo": False}, **part(3)),
                      html.Div([html.Span("Sort sources by"),
                                dcc.Dropdown(id="sort", value="people", clearable=False, style={"width": "200px"},
                                             options=_sort_options(data))],
                               className="sort"),
                      _html_block("sources-table", part(4))], className="card wide"),
            html.Div([dcc.Graph(id="trend", config={"displaylogo": False}, **part(10)),
                      html.Div([dcc.RadioItems(id="trend-period", value="month", inline=True,
                                               options=[{"label": "by month", "value": "month"},
                                                        {"label": "by week", "value": "week"}]),
                                dcc.RadioItems(id="trend-measure", value="conversion", inline=True,
                                               options=list(figures.MEASURES))], className="sort")],
                     className="card wide"),
            html.Div(dcc.Graph(id="speed", config={"displaylogo": False}, **part(5)), className="card"),
            html.Div([dcc.Graph(id="baseline", config={"displaylogo": False}, **part(6)),
                      _html_block("baseline-table", part(7), className="compare")], className="card"),
            html.Div(html.Details([html.Summary(id="dark", **part(8)), _html_block("friction", part(9))]),
                     className="card wide"),
            # the whole workspace's, whatever the filters (campaigns_card says so): drawn with the page
            html.Div(_html_block("campaigns", {"children": campaigns_card.card_html(data.saved_all_leads(), fresh)}),
                     className="card wide campaigns", id="campaigns-card"),
        ], className="grid"),
    ])


_CHILDREN = {0, 4, 7, 8, 9}  # render()'s outputs that are children (the others are figures)


def _named(values: Sequence[str], labels: Mapping[str, str]) -> list[dict[str, str]]:
    """Dropdown options: the display name shown, the raw value kept (in the URL and the callbacks)."""
    return [{"label": display_name(v, labels), "value": v} for v in values]


def _html_block(component_id: str, content: dict[str, Any], **extra: Any) -> dcc.Markdown:
    """A table as one component whose content is an HTML string (:func:`figures.html_table`, every cell escaped).

    An html.Table of Tr/Td components costs the browser about 0.5 ms per cell on each update (every cell is a
    Dash component); the string is one prop, parsed into plain elements: a filter change draws ~100 ms sooner.
    """
    return dcc.Markdown(id=component_id, dangerously_allow_html=True, dedent=False, **content, **extra)


def _callbacks(app: dash.Dash, data: DashboardData) -> None:
    """The filters' callback: the URL sets them on load (a shared link), they set the URL after that.

    Sorting the sources table and switching the trend's period or measure have their own callbacks,
    which redraw only their component.
    """
    @app.callback(
        Output("url", "search"), Output("dates", "start_date"), Output("dates", "end_date"),
        Output("source", "value"), Output("persona", "value"), Output("owner", "value"),
        Output("kpis", "children"), Output("funnel", "figure"), Output("time", "figure"),
        Output("sources-bar", "figure"), Output("sources-table", "children"), Output("speed", "figure"),
        Output("baseline", "figure"), Output("baseline-table", "children"), Output("dark", "children"),
        Output("friction", "children"), Output("trend", "figure"), Output("rendered", "data"), Output("preset", "value"),
        Input("url", "search"), Input("dates", "start_date"), Input("dates", "end_date"), Input("source", "value"),
        Input("persona", "value"), Input("owner", "value"), Input("preset", "value"),
        State("sort", "value"), State("trend-period", "value"), State("trend-measure", "value"),
        State("rendered", "data"),
    )
    def _update(search: str | None, date_from: str | None, date_to: str | None, sources: list[str] | None,
                personas: list[str] | None, owners: list[str] | None, preset: str | None, sort_by: str | None,
                period: str | None, measure: str | None, rendered: str | None) -> tuple[Any, ...]:
        sort_by, period, measure = _controls(data, sort_by, period, measure)
        if ctx.triggered_id in (None, "url"):
            try:
                shown = selection_of_query(data, search)
            except SelectionError:  # a link asking for what the page does not offer: all leads (the layout says why)
                shown = Filters()
        else:
            shown = selection_of(data, date_from, date_to, sources, personas, owners)
            if ctx.triggered_id == "preset":
                days = {label: (a, b) for label, a, b in data.date_presets()}.get(preset or "")
                shown = replace(shown, date_from=days[0], date_to=days[1]) if days else shown
        f = data.resolve(shown)
        shown = data.owner_keys(f)  # unknown owners dropped
        if ctx.triggered_id in (None, "url") and rendered is not None and rendered == query_of(shown) == (search or ""):
            return (dash.no_update,) * 17 + (None, dash.no_update)  # the first call: the layout shows this already
        controls = (query_of(shown), _iso(f.date_from), _iso(f.date_to), list(f.sources), list(f.personas),
                    list(shown.owners), _preset_of(data, f))
        asked = (search or "", date_from, date_to, sources, personas, owners, preset)
        # a control already showing its value is left alone: setting it again re-renders it in the browser
        url, start, end, *segments, preset_shown = (dash.no_update if new == old else new
                                                     for new, old in zip(controls, asked, strict=True))
        shown_view = data.view(f)
        data.expect(f)  # its neighbours next, in the background
        return (url, start, end, *segments,
                *render(shown_view, sort_by, period, measure),
                dash.no_update if rendered is None else None, preset_shown)

    @app.callback(Output("sources-table", "children", allow_duplicate=True), Input("sort", "value"),
                  State("url", "search"), prevent_initial_call=True)
    def _sort(sort_by: str | None, search: str | None) -> str:
        sort_by, _, _ = _controls(data, sort_by, None, None)
        view = data.view(data.resolve(selection_of_query(data, search)))
        return sources_table(view.analysis, sort_by, view.labels)

    @app.callback(Output("trend", "figure", allow_duplicate=True), Input("trend-period", "value"),
                  Input("trend-measure", "value"), State("url", "search"), prevent_initial_call=True)
    def _trend(period: str | None, measure: str | None, search: str | None) -> Any:
        _, period, measure = _controls(data, None, period, measure)
        view = data.view(data.resolve(selection_of_query(data, search)))
        return trend_figure(view, period, measure)


def _controls(data: DashboardData, sort_by: object, period: object, measure: object) -> tuple[str, str, str]:
    """The sort, trend period and trend measure a request sent, checked (:func:`_control`)."""
    return (_control("sort", sort_by, _sort_options(data), "people"),
            _control("trend period", period, list(PERIODS), "month"),
            _control("trend measure", measure, list(figures.MEASURES), "conversion"))


def _sort_options(data: DashboardData) -> list[str]:
    return ["source", "people", "share", *(f"{a}→{b}" for a, b in _pairs(data))]


_RENDERED: OrderedDict[tuple[int, str, str, str], tuple[View, tuple[Any, ...]]] = OrderedDict()
_RENDERED_LOCK = threading.Lock()


def render(view: View, sort_by: str = "people", period: str = "month", measure: str = "conversion") -> tuple[Any, ...]:
    """Every component's content for one view (the filter callback's outputs after the filters).

    Kept for the last 64 (view, controls): going back to a selection sends the components already built.
    """
    key = (id(view), sort_by, period, measure)
    with _RENDERED_LOCK:
        hit = _RENDERED.get(key)
        if hit is not None and hit[0] is view:
            return hit[1]
    out = _render(view, sort_by, period, measure)
    with _RENDERED_LOCK:
        _RENDERED[key] = (view, out)
        while len(_RENDERED) > 64:
            _RENDERED.popitem(last=False)
    return out


def _render(view: View, sort_by: str, period: str, measure: str) -> tuple[Any, ...]:
    a, labels = view.analysis, view.labels
    kpis = figures.kpi_tiles(view.tiles, period_days(a), labels)
    friction = figures.friction_rows(a, labels=labels)
    return (
        kpis, figures.funnel(a, labels), figures.time_in_stage(a, labels), figures.sources(a, labels=labels),
        sources_table(a, sort_by, labels),
        figures.speed_to_lead(a, view.sla_minutes),
        figures.period_comparison(view.comparison, a, view.baseline, points=view.decline_points),
        comparison_table(view.comparison),
        f"Friction ranking (top {len(friction)}) · {figures.friction_summary(a)} · " + figures.dark_text(a),
        figures.html_table(list(friction[0]) if friction else [], [[str(v) for v in r.values()] for r in friction]),
        trend_figure(view, period, measure),
    )


def sources_table(a: Analysis, sort_by: str = "people", labels: Mapping[str, str] | None = None) -> str:
    columns = figures.source_columns(a)
    return figures.html_table([figures.column_header(c, labels) for c in columns],
                              [figures.source_cells(r, columns, labels) for r in figures.source_rows(a, sort_by)])


def comparison_table(rows: Sequence[Delta]) -> str:
    """Per transition: now and baseline rates with their n (people who entered), and the change."""
    body = [[r.transition, f"{figures.pct(r.current)} of {r.current_n:,}", f"{figures.pct(r.baseline)} of {r.baseline_n:,}",
             "-" if r.delta_pp is None else f"{r.delta_pp:+.1f} pp", r.note] for r in rows]
    return figures.html_table(["transition", "now", "baseline", "change", "note"], body, row_ids="compare-")


def trend_figure(view: View, period: str = "month", measure: str = "conversion") -> Any:
    """The drop-off trend for one view; by-source benchmarks apply when exactly one source is selected."""
    source = view.filters.sources[0] if len(view.filters.sources) == 1 else None
    return figures.trend(view.trend.get(period), view.baseline, view.benchmarks, measure=measure, source=source)


def _pairs(data: DashboardData) -> list[tuple[str, str]]:
    names = data.ws.config.stage_names
    return list(itertools.pairwise(names))
