"""The parts every connector shares: retries over real HTTP, the raw page store, the pull workflow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import requests
from apiserver import ApiServer, Reply

from leadjourney.connectors.base import CanonicalQuery, ObjectSpec, Row
from leadjourney.connectors.http import RetryPolicy, fetch_json, retries_made, session
from leadjourney.connectors.pull import pull
from leadjourney.connectors.raw import MANIFEST, RawStore, email_hash
from leadjourney.errors import ConfigError, PullError
from leadjourney.workspace import SALT_KEY, Workspace

pytestmark = pytest.mark.servers  # real HTTP servers on 127.0.0.1: make test-integration


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_a_429_is_retried_after_the_seconds_retry_after_asks(api: ApiServer) -> None:
    api.route("GET", "/things", lambda req: Reply.json({"ok": True}))
    api.fail("GET", "/things", Reply(429, b"slow down", {"Retry-After": "7"}), times=2)
    waits = Sleeps()
    s = session(RetryPolicy(attempts=4, backoff_seconds=0.5), sleep=waits)
    assert s.get(f"{api.url}/things").json() == {"ok": True}
    assert waits == [7.0, 7.0]
    assert len(api.requests("/things")) == 3
    assert retries_made(s) == 2


def test_a_500_backs_off_and_the_last_failure_is_returned(api: ApiServer) -> None:
    api.fail("GET", "/things", Reply(500, b"boom"), times=10)
    waits = Sleeps()
    r = session(RetryPolicy(attempts=3, backoff_seconds=0.5), sleep=waits).get(f"{api.url}/things")
    assert r.status_code == 500
    assert waits == [0.5, 1.0]
    assert len(api.requests("/things")) == 3


def test_a_retry_after_longer_than_the_limit_is_not_waited_for(api: ApiServer) -> None:
    api.fail("GET", "/things", Reply(429, b"", {"Retry-After": "3600"}), times=5)
    waits = Sleeps()
    r = session(RetryPolicy(max_wait_seconds=60), sleep=waits).get(f"{api.url}/things")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3600"
    assert waits == []


def test_a_timeout_is_retried(api: ApiServer) -> None:
    api.route("GET", "/things", lambda req: Reply.json([1]))
    api.fail("GET", "/things", Reply(200, b"[]", delay=1.0), times=1)
    waits = Sleeps()
    r = session(RetryPolicy(timeout_seconds=0.3, backoff_seconds=0.1), sleep=waits).get(f"{api.url}/things")
    assert r.json() == [1]
    assert waits == [0.1]


def test_a_4xx_other_than_429_is_not_retried(api: ApiServer) -> None:
    api.fail("GET", "/things", Reply(401, b"bad token"), times=5)
    r = session(sleep=Sleeps()).get(f"{api.url}/things")
    assert r.status_code == 401
    assert len(api.requests("/things")) == 1


def test_a_truncated_body_is_fetched_again_and_refused_credentials_are_named(api: ApiServer) -> None:
    api.route("GET", "/page", lambda req: Reply.json({"records": list(range(50))}))
    api.fail("GET", "/page", Reply(200, b'{"records": [' + b"1, " * 200 + b"2]}", truncate=True), times=1)
    s = session(RetryPolicy(backoff_seconds=0), sleep=Sleeps())
    assert fetch_json(s, "GET", f"{api.url}/page", what="toy page 1") == {"records": list(range(50))}
    assert len(api.requests("/page")) == 2
    api.fail("GET", "/who", Reply(401, b'[{"message": "Session expired or invalid token tok-SECRET-123"}]'), times=1)
    with pytest.raises(PullError, match=r"^toy who: the credentials were refused \(401") as caught:
        fetch_json(s, "GET", f"{api.url}/who", what="toy who", secrets=["tok-SECRET-123"])
    assert "SECRET" not in str(caught.value)
    api.fail("GET", "/busy", Reply(503, b"down"), times=10)
    with pytest.raises(PullError, match=r"toy busy: HTTP 503 after 5 tries"):
        fetch_json(s, "GET", f"{api.url}/busy", what="toy busy")


LEAD = ObjectSpec("Lead", key=("Id",), cursor="SystemModstamp", personal=("Email",))


def _rows(*items: tuple[str, str, str]) -> list[Row]:
    return [{"Id": i, "SystemModstamp": m, "Email": e, "Owner": {"Name": "Kim"}, "attributes": {"type": "Lead"}}
            for i, m, e in items]


def test_the_store_keeps_the_latest_version_and_rereading_adds_nothing(tmp_path: Path) -> None:
    store = RawStore(tmp_path, "salesforce", salt="s", keep_emails=False)
    store.begin(LEAD, None)
    assert store.store_page(LEAD, _rows(("1", "2024-01-01T10:00:00Z", "A@x.com"), ("2", "2024-01-02T10:00:00Z", "b@x.com"))) == 2
    assert store.store_page(LEAD, _rows(("1", "2024-01-03T10:00:00Z", "a@x.com"))) == 1
    again = RawStore(tmp_path, "salesforce", salt="s", keep_emails=False)
    again.begin(LEAD, "2024-01-02T09:55:00Z")  # the overlap re-reads the records at the mark
    assert again.store_page(LEAD, _rows(("2", "2024-01-02T10:00:00Z", "b@x.com"),
                                        ("1", "2024-01-03T10:00:00Z", "a@x.com"))) == 0
    assert again.object_state("Lead").high_water == "2024-01-03T10:00:00Z"
    rows = duckdb.sql(again.latest_sql(LEAD) + ' ORDER BY "Id"').fetchall()  # type: ignore[operator]
    cols = [d[0] for d in duckdb.sql(again.latest_sql(LEAD)).description]  # type: ignore[arg-type]
    got = [dict(zip(cols, r, strict=True)) for r in rows]
    assert [(r["Id"], r["SystemModstamp"]) for r in got] == [("1", "2024-01-03T10:00:00Z"), ("2", "2024-01-02T10:00:00Z")]
    assert got[0]["Email"] == email_hash("a@x.com", "s") and "@" not in got[1]["Email"]  # never in clear
    assert got[0]["Owner.Name"] == "Kim" and "attributes.type" not in cols


def test_a_part_a_crash_left_unlisted_is_discarded(tmp_path: Path) -> None:
    store = RawStore(tmp_path, "salesforce", salt="s", keep_emails=True)
    store.begin(LEAD, None)
    store.store_page(LEAD, _rows(("1", "2024-01-01T10:00:00Z", "a@x.com")))
    manifest = json.loads((store.dir / MANIFEST).read_text())
    store.store_page(LEAD, _rows(("2", "2024-01-02T10:00:00Z", "b@x.com")))
    (store.dir / MANIFEST).write_text(json.dumps(manifest))  # as if the process died before listing part 2
    again = RawStore(tmp_path, "salesforce", salt="s", keep_emails=True)
    assert [p.name for p in again.discard_unlisted()] == ["part-000002.parquet"]
    assert again.object_state("Lead").high_water == "2024-01-01T10:00:00Z"
    again.begin(LEAD, "2024-01-01T10:00:00Z")
    assert again.store_page(LEAD, _rows(("1", "2024-01-01T10:00:00Z", "a@x.com"),
                                        ("2", "2024-01-02T10:00:00Z", "b@x.com"))) == 1


class ToyCrm:
    """A connector over a tiny REST API served by the test (the shape of a real one: cursor paging)."""

    system = "salesforce"
    objects = (LEAD,)

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = session(RetryPolicy(backoff_seconds=0), sleep=lambda s: None)

    def count(self, obj: ObjectSpec, since: str | None) -> int | None:
        return int(self.http.get(f"{self.url}/count", params={"since": since or ""}).json()["count"])

    def pages(self, obj: ObjectSpec, since: str | None) -> Iterator[list[Row]]:
        after = ""
        while True:
            body = self.http.get(f"{self.url}/leads", params={"since": since or "", "after": after}).json()
            yield body["records"]
            if not body["next"]:
                return
            after = body["next"]

    def canonical(self) -> tuple[CanonicalQuery, ...]:
        return (CanonicalQuery("leads", "leads", 'SELECT "Id" AS lead_id, "CreatedDate" AS created_at, '
                               '"Email" AS email, "LeadSource" AS source FROM "Lead"', ("Lead",)),)


def _serve_leads(api: ApiServer, leads: list[dict[str, str]]) -> None:
    def page(req) -> Reply:  # type: ignore[no-untyped-def]
        since, offset = req.arg("since", ""), int(req.arg("after") or 0)
        todo = sorted((r for r in leads if r["SystemModstamp"] >= since), key=lambda r: (r["SystemModstamp"], r["Id"]))
        more = len(todo) > offset + 2
        return Reply.json({"records": todo[offset:offset + 2], "next": str(offset + 2) if more else None})

    api.route("GET", "/leads", page)
    api.route("GET", "/count", lambda req: Reply.json(
        {"count": sum(r["SystemModstamp"] >= (req.arg("since") or "") for r in leads)}))


def _lead(i: int, modstamp: str) -> dict[str, str]:
    return {"Id": f"00Q{i:03d}", "SystemModstamp": modstamp, "CreatedDate": f"2024-01-0{i % 9 + 1}T09:00:00.000+0000",
            "Email": f"Person{i}@Example.com", "LeadSource": "Web"}


def test_pull_maps_registers_and_a_rerun_adds_nothing(tmp_path: Path, api: ApiServer) -> None:
    ws = Workspace.init(tmp_path / "acme")
    ws.config_path.write_text(ws.config_path.read_text() + '\n[connectors.salesforce]\nstart = "2024-01-01"\n')
    ws = Workspace.open(ws.root)
    leads = [_lead(i, f"2024-02-0{i % 5 + 1}T10:00:00Z") for i in range(1, 6)]
    _serve_leads(api, leads)
    dry = pull(ws, "salesforce", dry_run=True, connector=ToyCrm(api.url))
    assert [(o.name, o.since, o.count) for o in dry.objects] == [("Lead", "2024-01-01", 5)]
    assert not (ws.root / "pulls").exists()
    first = pull(ws, "salesforce", connector=ToyCrm(api.url))
    assert (first.objects[0].fetched, first.objects[0].stored) == (5, 5)
    assert first.tables == {"leads": 5} and first.registered == ["salesforce_leads"]
    ws = Workspace.open(ws.root)
    assert ws.config.source("salesforce_leads").path == "pulls/salesforce/leads.parquet"
    written = duckdb.sql(f"SELECT * FROM read_parquet('{ws.root}/pulls/salesforce/leads.parquet')")
    assert "email_hash" in written.columns and "email" not in written.columns
    again = pull(ws, "salesforce", connector=ToyCrm(api.url))
    assert again.objects[0].since == "2024-02-05T09:55:00Z"  # the high-water mark less 5 minutes' overlap
    assert again.objects[0].stored == 0 and again.registered == [] and again.sources == ["salesforce_leads"]
    leads.append(_lead(9, "2024-02-06T00:00:00Z"))
    leads[0] = {**leads[0], "SystemModstamp": "2024-02-07T00:00:00Z", "LeadSource": "PPC"}
    third = pull(ws, "salesforce", connector=ToyCrm(api.url))
    assert third.objects[0].stored == 2
    sources = duckdb.sql(f"SELECT lead_id, source FROM read_parquet('{ws.root}/pulls/salesforce/leads.parquet') "
                         "ORDER BY lead_id").fetchall()
    assert len(sources) == 6 and sources[0] == ("00Q001", "PPC")


def test_pull_refuses_a_system_without_its_table(tmp_path: Path, api: ApiServer) -> None:
    ws = Workspace.init(tmp_path / "acme")
    with pytest.raises(ConfigError, match=r"no \[connectors.salesforce\] table"):
        pull(ws, "salesforce", connector=ToyCrm(api.url))


def test_a_workspace_salt_is_what_the_pull_hashes_with(tmp_path: Path, api: ApiServer) -> None:
    ws = Workspace.init(tmp_path / "acme")
    ws.config_path.write_text(ws.config_path.read_text() + "\n[connectors.salesforce]\n")
    ws = Workspace.open(ws.root)
    _serve_leads(api, [_lead(1, "2024-02-01T10:00:00Z")])
    pull(ws, "salesforce", connector=ToyCrm(api.url))
    from leadjourney.ingest import ingest

    ingest(Workspace.open(ws.root))
    with ws.connect() as con:
        got = con.execute("SELECT email_hash, email FROM leads").fetchall()
    assert got == [(email_hash("person1@example.com", ws.meta(SALT_KEY) or ""), None)]
    assert requests.get(f"{api.url}/count").ok
