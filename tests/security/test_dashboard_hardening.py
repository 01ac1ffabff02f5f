"""The dashboard's hardening (issue 14, items 2-4), through the real Flask/Dash app (its test client):

* after signing in, only a path on this site is followed (no open redirect);
* a request's filter values are checked before any query: a flood of bogus values is refused at once, and the
  caches (memory and disk) and the background's queue stay bounded over many valid selections;
* failed sign-ins are rate-limited per client and in all, and logged; /logout ends the session; the cookie is
  Secure over HTTPS (directly or through a trusted proxy); a login form posted from another site is refused.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conftest import csv_text, csv_workspace, min_n_config, run_cli
from leadjourney.analysis.journeys import Filters
from leadjourney.dashboard import Auth, DashboardData, DashboardError, check_bind, create_app
from leadjourney.dashboard.app import MAX_REQUEST_BYTES
from leadjourney.dashboard.cache import CACHE_DIR, DiskCache
from leadjourney.dashboard.data import MAX_AHEAD, MAX_VALUES_PER_FILTER
from leadjourney.dashboard.security import safe_next
from leadjourney.dashboard.throttle import FailureLimit
from leadjourney.workspace import Workspace

TOKEN = "s3cret-token-for-tests-0123"
SOURCES = ("seo", "paid_search", "referral", "events")
LEADS = csv_text(["lead_id", "created_at", "source", "owner"],
                 [(f"L{i}", f"2026-01-{1 + i % 28:02d}T09:00:00Z", SOURCES[i % 4], f"Owner {i % 3}")
                  for i in range(48)])
EVENTS = csv_text(["lead_id", "stage", "entered_at"],
                  [(f"L{i}", "MQL", f"2026-01-{1 + i % 28:02d}T12:00:00Z") for i in range(0, 48, 2)])


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return csv_workspace(tmp_path_factory.mktemp("hardening") / "ws", min_n_config(), leads=LEADS,
                         stage_events=EVENTS)


def guarded(ws: Workspace, **options: Any) -> FlaskClient:
    """A test client of a new dashboard app behind its login wall (with the token)."""
    return create_app(ws, data=DashboardData(ws, disk=False), auth=Auth("token", TOKEN), **options).server.test_client()


@pytest.fixture(scope="module")
def wall(ws: Workspace) -> Flask:
    """One dashboard behind its login wall, for the tests that sign in without failing (each with its own client)."""
    return create_app(ws, data=DashboardData(ws, disk=False), auth=Auth("token", TOKEN)).server


# --- item 2: no open redirect after login ------------------------------------------------------------------

# (the ``next`` value as it reaches the server, after the query string's own decoding)
HOSTILE_NEXT = ["//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/%09/evil.example",
                "%2F%2Fevil.example", "/%2F%2Fevil.example", "/%5Cevil.example", "/%255Cevil.example",
                "/%2509/evil.example", "https://evil.example", "http:/evil.example", "javascript:alert(1)",
                "/\x00/evil.example", "/\r\nSet-Cookie: a=b", " /evil.example", "///evil.example", "evil.example",
                "/\u3000evil.example", "/é"]
SAFE_NEXT = ["/", "/?source=seo&persona=smb_founder", "/?source=paid%20search", "/_dash-layout", "/#top"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_a_login_never_redirects_off_the_site(wall: Flask, target: str) -> None:
    client = wall.test_client()
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200 and 'name="next" value="/"' in page.get_data(as_text=True)
    signed_in = client.post("/login", data={"secret": TOKEN, "next": target})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/"


def test_the_issue_s_redirect_as_typed_in_the_address_bar(wall: Flask) -> None:
    client = wall.test_client()
    page = client.get("/login?next=/%09/evil.example/x")  # the query string decodes to "/<tab>/evil.example/x"
    assert 'name="next" value="/"' in page.get_data(as_text=True)
    assert client.post("/login?next=/%09/evil.example/x", data={"secret": TOKEN}).headers["Location"] == "/"


@pytest.mark.parametrize("target", SAFE_NEXT)
def test_a_login_returns_to_the_page_asked_for(wall: Flask, target: str) -> None:
    assert safe_next(target) == target
    signed_in = wall.test_client().post("/login", data={"secret": TOKEN, "next": target})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == target


def test_the_wall_sends_the_whole_page_address_to_the_login(wall: Flask) -> None:
    client = wall.test_client()
    wall = client.get("/?source=seo&persona=smb_founder", headers={"Accept": "text/html"})
    assert wall.status_code == 302
    assert wall.headers["Location"] == "/login?next=" + quote("/?source=seo&persona=smb_founder", safe="")
    page = client.get(wall.headers["Location"]).get_data(as_text=True)
    assert 'value="/?source=seo&amp;persona=smb_founder"' in page
    back = client.post("/login", data={"secret": TOKEN, "next": "/?source=seo&persona=smb_founder"})
    assert back.headers["Location"] == "/?source=seo&persona=smb_founder"


# --- item 4: rate limits, logout, Secure cookie, same-origin login -----------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failed_sign_ins_are_limited_per_client_and_logged(ws: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    limit = FailureLimit(per_client=5, overall=50, window=60, clock=clock)
    client = guarded(ws, login_limit=limit)
    with caplog.at_level(logging.WARNING, logger="leadjourney.dashboard.security"):
        codes = [client.post("/login", data={"secret": f"wrong-{i:04d}-guess-xxxx"}).status_code for i in range(200)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}  # 5 guesses checked, not 200
    failures = [r for r in caplog.records if "failed sign-in" in r.getMessage()]
    assert len(failures) == 5 and "127.0.0.1" in failures[-1].getMessage() and "wrong-" not in caplog.text
    blocked = client.post("/login", data={"secret": TOKEN})
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    other = guarded(ws, login_limit=limit)
    other_client = {"REMOTE_ADDR": "10.0.0.7"}
    assert other.post("/login", data={"secret": TOKEN}, environ_base=other_client).status_code == 302
    clock.now += 61  # the window passed
    assert client.post("/login", data={"secret": TOKEN}).status_code == 302


def test_failed_bearer_tokens_count_too(ws: Workspace) -> None:
    client = guarded(ws, login_limit=FailureLimit(per_client=3, overall=50, window=60, clock=Clock()))
    codes = [client.get("/_dash-layout", headers={"Authorization": f"Bearer wrong-{i}"}).status_code
             for i in range(6)]
    assert codes == [401] * 3 + [429] * 3
    right = client.get("/_dash-layout", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 429 and right.get_json() == {"error": "too many failed sign-ins; try again later"}


def test_failed_sign_ins_are_limited_in_all(ws: Workspace) -> None:
    limit = FailureLimit(per_client=5, overall=20, window=60, clock=Clock())
    client = guarded(ws, login_limit=limit)
    for i in range(20):  # one guess each from 20 addresses
        denied = client.post("/login", data={"secret": "wrong-guess-000000"}, environ_base={"REMOTE_ADDR": f"10.1.0.{i}"})
        assert denied.status_code == 401
    fresh = client.post("/login", data={"secret": TOKEN}, environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert fresh.status_code == 429


def test_one_client_flooding_is_stopped_by_its_own_limit_not_everyone_s(ws: Workspace) -> None:
    """A client's refused attempts do not count in all, and an IPv6 host counts as its /64: one attacker, even
    rotating addresses in its network, cannot exhaust the limit in all and lock the real user out."""
    limit = FailureLimit(per_client=5, overall=20, window=60, clock=Clock())
    client = guarded(ws, login_limit=limit)
    codes = [client.post("/login", data={"secret": "wrong-guess-000000"},
                         environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{i:x}"}).status_code for i in range(200)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    user = client.post("/login", data={"secret": TOKEN}, environ_base={"REMOTE_ADDR": "2001:db8:9::1"})
    assert user.status_code == 302


def test_the_client_list_of_the_limit_is_bounded() -> None:
    limit = FailureLimit(per_client=2, overall=10**6, window=60, max_clients=100, clock=Clock())
    for i in range(1000):
        limit.failed(f"10.3.{i // 256}.{i % 256}")
    assert len(limit._clients) == 100


def test_logout_ends_the_session(wall: Flask) -> None:
    client = wall.test_client()
    assert client.post("/login", data={"secret": TOKEN}).status_code == 302
    assert client.get("/_dash-layout").status_code == 200
    header = client.get("/_dash-layout").get_json()["props"]["children"][2]["props"]["children"]
    assert {"children": "Sign out", "id": "logout", "href": "/logout"} in [c["props"] for c in header]
    out = client.get("/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert client.get("/_dash-layout").status_code == 401


def session_cookie(response: TestResponse) -> str:
    cookies = [v for v in response.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert len(cookies) == 1, response.headers
    return cookies[0]


def test_the_session_cookie_is_secure_over_https_only(ws: Workspace, wall: Flask) -> None:
    plain = session_cookie(wall.test_client().post("/login", data={"secret": TOKEN}))
    assert "HttpOnly" in plain and "SameSite=Strict" in plain and "Secure" not in plain
    https = wall.test_client().post("/login", data={"secret": TOKEN}, base_url="https://localhost")
    assert "Secure" in session_cookie(https)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    proxied = guarded(ws, behind_proxy=True).post("/login", data={"secret": TOKEN}, headers=forwarded)
    assert "Secure" in session_cookie(proxied)
    ignored = wall.test_client().post("/login", data={"secret": TOKEN}, headers=forwarded)  # no proxy trusted
    assert "Secure" not in session_cookie(ignored)


def test_behind_a_proxy_the_limit_counts_each_forwarded_client(ws: Workspace) -> None:
    client = guarded(ws, behind_proxy=True, login_limit=FailureLimit(per_client=2, overall=50, clock=Clock()))
    for _ in range(2):
        client.post("/login", data={"secret": "wrong-guess-000000"}, headers={"X-Forwarded-For": "203.0.113.1"})
    assert client.post("/login", data={"secret": TOKEN},
                       headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    assert client.post("/login", data={"secret": TOKEN},
                       headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 302


def test_serving_behind_a_proxy_needs_a_credential(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADJOURNEY_DASHBOARD_TOKEN", raising=False)
    proc = run_cli("dashboard", str(ws.root), "--behind-proxy")  # on 127.0.0.1, but the proxy serves others
    assert proc.returncode != 0 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "refusing to serve behind a proxy without authentication" in proc.stderr
    assert "LEADJOURNEY_DASHBOARD_TOKEN" in proc.stderr
    with pytest.raises(DashboardError, match="behind a proxy without authentication"):
        check_bind("127.0.0.1", None, "LEADJOURNEY_DASHBOARD_TOKEN", behind_proxy=True)
    check_bind("127.0.0.1", Auth("token", TOKEN), "LEADJOURNEY_DASHBOARD_TOKEN", behind_proxy=True)


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Origin": "https://localhost"},
                                     {"Referer": "http://evil.example/login"}], ids=["origin", "null", "scheme",
                                                                                       "referer"])
def test_a_login_posted_from_another_site_is_refused(wall: Flask, headers: dict[str, str]) -> None:
    refused = wall.test_client().post("/login", data={"secret": TOKEN}, headers=headers)
    assert refused.status_code == 403 and "Sign-in refused" in refused.get_data(as_text=True)
    assert not [v for v in refused.headers.getlist("Set-Cookie") if v.startswith("session=")]


def test_a_login_posted_from_the_dashboard_itself_is_accepted(wall: Flask) -> None:
    client = wall.test_client()
    same = client.post("/login", data={"secret": TOKEN}, headers={"Origin": "http://localhost",
                                                                    "Referer": "http://localhost/login"})
    assert same.status_code == 302


# --- item 3: one request cannot exhaust the dashboard -----------------------------------------------------

def callback(client: FlaskClient, app: Any, changed: str, values: dict[str, Any]) -> TestResponse:
    """POST the filters' callback as the page does (``_dash-update-component``), with ``values`` by
    ``"<id>.<property>"`` (the others None); ``changed`` is the input that triggered it."""
    output = next(k for k in app.callback_map if "kpis.children" in k)
    spec = app.callback_map[output]

    def props(items: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in items]

    outputs = [dict(zip(("id", "property"), o.split("."), strict=True)) for o in output.strip(".").split("...")]
    body = {"output": output, "outputs": outputs, "inputs": props(spec["inputs"]), "state": props(spec["state"]),
            "changedPropIds": [changed]}
    return client.post("/_dash-update-component", json=body)


def cache_files(ws: Workspace) -> list[Path]:
    return list((ws.root / CACHE_DIR).glob("*/*.json"))


@pytest.fixture
def bounded(ws: Workspace) -> DashboardData:
    """Small bounds, so a few selections reach them; the first view computed (as at start)."""
    for f in cache_files(ws):
        f.unlink()
    data = DashboardData(ws, cache_size=3, memory_bytes=10**9, disk_files=5)
    data.view(Filters())
    return data


def test_a_flood_of_bogus_sources_is_refused_before_any_query(ws: Workspace, bounded: DashboardData) -> None:
    app = create_app(ws, data=bounded)
    client = app.server.test_client()
    computed, files = bounded.computed, sorted(cache_files(ws))
    bogus = [f"bogus-source-{i:05d}" for i in range(20_000)]
    refused = callback(client, app, "source.value", {"source.value": bogus})
    assert refused.status_code == 400
    assert refused.get_json() == {"error": f"source: 20,000 values asked; a selection holds at most "
                                           f"{MAX_VALUES_PER_FILTER} sources"}
    by_url = callback(client, app, "url.search", {"url.search": "?" + "&".join(f"source={b}" for b in bogus)})
    assert by_url.status_code == 200  # a link asking for it: all leads (from the cache), the URL cleared
    assert by_url.get_json()["response"]["url"]["search"] == "" and by_url.get_json()["response"]["source"] == {"value": []}
    few = callback(client, app, "source.value", {"source.value": ["seo", "bogus-1"]})
    assert few.status_code == 400 and few.get_json()["error"].startswith("no source 'bogus-1' among the filter's")
    for values, message in [({"persona.value": ["nobody"]}, "no persona 'nobody'"),
                            ({"owner.value": ["Owner 1"]}, "an owner the filter does not offer"),
                            ({"source.value": "seo"}, "source: expected a list"),
                            ({"source.value": [{"$ne": 1}]}, "source: expected a list"),
                            ({"source.value": ["x" * 5000]}, "longer than 200 characters"),
                            ({"trend-measure.value": "revenue"}, "trend measure: expected one of"),
                            ({"dates.start_date": 20260101}, "dates: expected")]:
        answer = callback(client, app, "source.value", values)
        assert answer.status_code == 400 and message in answer.get_json()["error"], (values, answer.get_json())
        assert "Owner 1" not in answer.get_json()["error"]  # an owner's name is never echoed
    huge = callback(client, app, "source.value", {"source.value": ["y" * 100] * 20_000})
    assert huge.status_code == 413 and len(json.dumps(["y" * 100] * 20_000)) > MAX_REQUEST_BYTES
    assert bounded.computed == computed and sorted(cache_files(ws)) == files
    assert bounded._ahead == bounded.neighbours(Filters())[:MAX_AHEAD]  # all leads' (the link's fallback) only


def test_every_request_error_has_one_shape_and_a_bad_date_is_refused_not_dropped(
        ws: Workspace, bounded: DashboardData) -> None:
    """A date that is not one was silently dropped (all dates shown as if asked); now, like any value the page
    does not offer, it is a 400 with the one shape, ``{"error": "<one line>"}``, and a link asking for it shows
    all leads with the reason in the page. An error that is not the request's fault: 500, the same shape."""
    from leadjourney.dashboard.app import _refused
    from leadjourney.errors import WorkspaceError

    app = create_app(ws, data=bounded)
    client = app.server.test_client()
    for values, message in [({"dates.start_date": "2026-02-30"}, "from: expected a date like 2026-06-30, found "
                                                                 "'2026-02-30'"),
                            ({"dates.end_date": "yesterday"}, "to: expected a date like 2026-06-30, found 'yesterday'")]:
        answer = callback(client, app, "dates.start_date", values)
        assert (answer.status_code, answer.get_json()) == (400, {"error": message}), answer.get_data(as_text=True)
    layout = client.get("/_dash-layout", headers={"Referer": "http://localhost/?from=not-a-date&source=seo"})
    text = layout.get_data(as_text=True)
    assert layout.status_code == 200
    assert "was not applied (all leads shown): from: expected a date like 2026-06-30, found 'not-a-date'" in text
    with app.server.test_request_context():
        response, status = _refused(WorkspaceError("database\nunusable"))
        assert (status, response.get_json()) == (500, {"error": "database unusable"})


def test_a_link_with_bogus_values_shows_all_leads_and_why(ws: Workspace, bounded: DashboardData) -> None:
    client = create_app(ws, data=bounded).server.test_client()
    computed = bounded.computed
    for query in ("source=bogus&source=seo", "&".join(f"source=s{i}" for i in range(20_000))):
        layout = client.get("/_dash-layout", headers={"Referer": f"http://localhost/?{query}"})
        assert layout.status_code == 200
        text = layout.get_data(as_text=True)
        assert "was not applied (all leads shown): " in text and ("no source 'bogus'" in text or "20,000" in text)
        everyone = len(LEADS.splitlines()) - 1
        shown = text.replace("\\u003c", "<").replace("\\u003e", ">").replace('\\"', '"')  # the tiles' HTML
        assert f'id="kpi-people">{everyone:,}<' in shown  # everyone's count
    named = client.get("/_dash-layout", headers={"Referer": "http://localhost/?owner=Owner%201"}).get_data(as_text=True)
    assert "an owner the filter does not offer" in named and "Owner 1" not in named  # a name is not echoed
    assert bounded.computed == computed


@pytest.mark.slow  # end to end, several seconds: make test-integration
def test_many_valid_selections_keep_the_caches_and_the_queue_bounded(ws: Workspace, bounded: DashboardData) -> None:
    app = create_app(ws, data=bounded)
    client = app.server.test_client()
    first = date(2026, 1, 1)
    for i in range(10):  # ten date ranges nobody asked before, then every source with one of them
        answer = callback(client, app, "dates.start_date", {"dates.start_date": str(first + timedelta(days=i)),
                                                            "dates.end_date": "2026-01-31"})
        assert answer.status_code == 200 and "kpis" in answer.get_json()["response"]
        assert len(bounded._ahead) <= MAX_AHEAD
    chosen = callback(client, app, "source.value", {"source.value": list(SOURCES), "dates.start_date": "2026-01-05"})
    assert chosen.status_code == 200, chosen.get_json()
    assert bounded.computed >= 11
    assert len(bounded._views) <= 3 and len(bounded._entries) <= 6
    generation = bounded.generation()
    assert bounded.disk is not None and bounded.disk.usage(generation)[0] <= 5 == len(cache_files(ws))
    assert len(bounded.neighbours(bounded.resolve(Filters(sources=SOURCES)))) <= 4 * MAX_VALUES_PER_FILTER
    # what the caches still hold is right: the last selection again, from them, equals a fresh computation
    again = bounded.view(Filters(date_from=date(2026, 1, 5), sources=tuple(sorted(SOURCES))))
    fresh = DashboardData(ws, disk=False).view(Filters(date_from=date(2026, 1, 5), sources=tuple(sorted(SOURCES))))
    assert again.analysis.n_people == fresh.analysis.n_people > 0


def test_the_memory_cache_holds_at_most_its_bytes(ws: Workspace) -> None:
    data = DashboardData(ws, cache_size=1000, memory_bytes=60_000, disk=False)
    for day in range(1, 8):
        data.view(Filters(date_from=date(2026, 1, day)))
    assert data._entries.bytes <= 60_000 and data._views.bytes <= 60_000
    assert 0 < len(data._views) < 7


def test_the_disk_cache_holds_at_most_its_files_and_bytes(tmp_path: Path) -> None:
    disk = DiskCache(tmp_path / CACHE_DIR, max_files=10, max_bytes=2_000)
    for i in range(40):
        disk.put("g1", f"k{i}", {"value": "x" * 180, "i": i})
        files, size = disk.usage("g1")
        assert files <= 10 and size <= 2_000
    assert disk.get("g1", "k39") == {"value": "x" * 180, "i": 39} and disk.get("g1", "k0") is None
    reopened = DiskCache(tmp_path / CACHE_DIR, max_files=3, max_bytes=2_000)  # counts the files already there
    reopened.put("g1", "new", {"i": -1})
    assert reopened.usage("g1")[0] == 3 and reopened.get("g1", "new") == {"i": -1}
