"""A fake Marketo instance on the test's ApiServer: the real paths, auth flow, bulk jobs and paging tokens.

Bodies copy the shape of Marketo's (requestId, success, result, errors with string codes, nextPageToken,
moreResult; bulk job status objects; CSV files). Errors come inside HTTP 200 bodies as Marketo sends them.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apiserver import ApiServer, Reply, Request

CLIENT_ID = "3a1f0c2e-6b1d-4c3e-9f3a-7d2b1e0c9a11"
CLIENT_SECRET = "mkto-SECRET-k3Jd8s0Qx"
# ids as a real instance numbers them (they differ between instances: the connector matches names)
TYPES = [
    {"id": 1, "name": "Visit Webpage", "primaryAttribute": {"name": "Webpage ID", "dataType": "integer"}},
    {"id": 2, "name": "Fill Out Form", "primaryAttribute": {"name": "Webform ID", "dataType": "integer"}},
    {"id": 6, "name": "Send Email", "primaryAttribute": {"name": "Mailing ID", "dataType": "integer"}},
    {"id": 7, "name": "Email Delivered", "primaryAttribute": {"name": "Mailing ID", "dataType": "integer"}},
    {"id": 10, "name": "Open Email", "primaryAttribute": {"name": "Mailing ID", "dataType": "integer"}},
    {"id": 11, "name": "Click Email", "primaryAttribute": {"name": "Mailing ID", "dataType": "integer"}},
    {"id": 12, "name": "New Lead", "primaryAttribute": {"name": "Lead ID", "dataType": "integer"}},
    {"id": 13, "name": "Change Data Value", "primaryAttribute": {"name": "Attribute Name", "dataType": "integer"}},
    {"id": 32, "name": "Merge Leads", "primaryAttribute": {"name": "Lead ID", "dataType": "integer"}},
    {"id": 104, "name": "Change Status in Progression", "primaryAttribute": {"name": "Program ID", "dataType": "integer"}},
    {"id": 10011, "name": "Change Revenue Stage", "primaryAttribute": {"name": "Model ID", "dataType": "integer"}},
]
ACTIVITY_COLUMNS = ["marketoGUID", "leadId", "activityDate", "activityTypeId", "campaignId",
                    "primaryAttributeValueId", "primaryAttributeValue", "attributes"]


def _request_id() -> str:
    return f"{uuid.uuid4().hex[:4]}#{uuid.uuid4().hex[:11]}"


def ok(result: Any = None, **extra: Any) -> Reply:
    body = {"requestId": _request_id(), "success": True, **extra}
    if result is not None:
        body["result"] = result
    return Reply.json(body)


def error(code: str, message: str) -> Reply:
    """A Marketo API error: HTTP 200, success false."""
    return Reply.json({"requestId": _request_id(), "success": False, "errors": [{"code": code, "message": message}]})


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class FakeMarketo:
    """What the instance holds (the ground truth a test plants) and what it has been asked."""

    leads: list[dict[str, Any]] = field(default_factory=list)
    activities: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)  # deletedleads.json records
    tokens: set[str] = field(default_factory=set)
    expired: set[str] = field(default_factory=set)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls_until_done: int = 1  # status calls answered "Processing" before "Completed"
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))  # type: ignore[type-arg]

    def serve(self, api: ApiServer) -> FakeMarketo:
        api.route("GET", r"^/identity/oauth/token$", self.token)
        api.route("GET", r"^/rest/v1/activities/types\.json$", self.authed(lambda req: ok(TYPES)))
        api.route("GET", r"^/rest/v1/activities/pagingtoken\.json$", self.authed(self.paging_token))
        api.route("GET", r"^/rest/v1/activities/deletedleads\.json$", self.authed(self.deleted_leads))
        api.route("POST", r"^/bulk/v1/(leads|activities)/export/create\.json$", self.authed(self.create))
        api.route("POST", r"^/bulk/v1/(leads|activities)/export/[^/]+/enqueue\.json$", self.authed(self.enqueue))
        api.route("GET", r"^/bulk/v1/(leads|activities)/export/[^/]+/status\.json$", self.authed(self.status))
        api.route("GET", r"^/bulk/v1/(leads|activities)/export/[^/]+/file\.json$", self.authed(self.file))
        return self

    # -- auth ---------------------------------------------------------------------------------------------
    def token(self, req: Request) -> Reply:
        if req.arg("grant_type") != "client_credentials":
            return Reply.json({"error": "invalid_request", "error_description": "Missing grant type"}, 400)
        if (req.arg("client_id"), req.arg("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return Reply.json({"error": "unauthorized", "error_description": "Bad client credentials"}, 401)
        token = f"cdf01657-110d-4155-99a7-f986b2ff13a0:int{next(self.counter)}"
        self.tokens.add(token)
        return Reply.json({"access_token": token, "token_type": "bearer", "expires_in": 3599, "scope": "api@acme.com"})

    def expire_tokens(self) -> None:
        self.expired |= self.tokens

    def authed(self, handler: Any) -> Any:
        def check(req: Request) -> Reply:
            header = req.headers.get("Authorization", "")
            token = header.removeprefix("Bearer ")
            if token in self.expired:
                return error("602", "Access token expired")
            if not header.startswith("Bearer ") or token not in self.tokens:
                return error("601", "Access token invalid")
            return handler(req)  # type: ignore[no-any-return]

        return check

    # -- paging API: deleted leads --------------------------------------------------------------------------
    def paging_token(self, req: Request) -> Reply:
        since = req.arg("sinceDatetime")
        if not since:
            return error("1003", "sinceDatetime is required")
        return ok(nextPageToken=base64.b32encode(json.dumps({"since": since, "at": 0}).encode()).decode())

    def deleted_leads(self, req: Request) -> Reply:
        state = json.loads(base64.b32decode(req.arg("nextPageToken") or ""))
        size = int(req.arg("batchSize") or 300)
        todo = sorted((d for d in self.deleted if _when(d["activityDate"]) >= _when(state["since"])),
                      key=lambda d: (d["activityDate"], d["id"]))
        page = todo[state["at"]:state["at"] + size]
        more = len(todo) > state["at"] + size
        token = base64.b32encode(json.dumps({**state, "at": state["at"] + len(page)}).encode()).decode()
        return ok(page, nextPageToken=token, moreResult=more)

    # -- bulk extract -----------------------------------------------------------------------------------------
    def create(self, req: Request) -> Reply:
        kind = req.path.split("/")[3]
        spec = req.json()
        filters = spec.get("filter", {})
        ranges = [(k, v) for k, v in filters.items() if k in ("createdAt", "updatedAt")]
        if len(ranges) != 1:
            return error("1003", "Exactly one date range filter (createdAt or updatedAt) is required")
        name, span = ranges[0]
        if (_when(span["endAt"]) - _when(span["startAt"])).days > 31:
            return error("1003", f"Invalid date range: {name} range cannot exceed 31 days")
        job = str(uuid.uuid4())
        self.jobs[job] = {"kind": kind, "spec": spec, "status": "Created", "polls": 0,
                          "createdAt": "2024-04-01T08:00:00-07:00"}
        return ok([{"exportId": job, "format": "CSV", "status": "Created", "createdAt": self.jobs[job]["createdAt"]}])

    def enqueue(self, req: Request) -> Reply:
        job = self.jobs.get(req.path.split("/")[5])
        if job is None:
            return error("1029", "Export job not found")
        job["status"] = "Queued"
        return ok([{"exportId": req.path.split("/")[5], "format": "CSV", "status": "Queued",
                    "createdAt": job["createdAt"], "queuedAt": "2024-04-01T08:00:01-07:00"}])

    def status(self, req: Request) -> Reply:
        job_id = req.path.split("/")[5]
        job = self.jobs[job_id]
        job["polls"] += 1
        rows = self.rows(job)
        if job["polls"] <= self.polls_until_done:
            return ok([{"exportId": job_id, "format": "CSV", "status": "Processing", "createdAt": job["createdAt"],
                        "queuedAt": "2024-04-01T08:00:01-07:00", "startedAt": "2024-04-01T08:00:05-07:00"}])
        job["status"] = "Completed"
        text = self.csv(job)
        return ok([{"exportId": job_id, "format": "CSV", "status": "Completed", "createdAt": job["createdAt"],
                    "queuedAt": "2024-04-01T08:00:01-07:00", "startedAt": "2024-04-01T08:00:05-07:00",
                    "finishedAt": "2024-04-01T08:01:10-07:00", "numberOfRecords": len(rows),
                    "fileSize": len(text.encode()), "fileChecksum": "sha256:00"}])

    def file(self, req: Request) -> Reply:
        job = self.jobs[req.path.split("/")[5]]
        if job["status"] != "Completed":
            return error("1029", "Export file not available")
        return Reply(200, self.csv(job).encode(), {"Content-Type": "text/plain; charset=UTF-8"})

    def rows(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        spec = job["spec"]
        (name, span), = [(k, v) for k, v in spec["filter"].items() if k in ("createdAt", "updatedAt")]
        lo, hi = _when(span["startAt"]), _when(span["endAt"])
        if job["kind"] == "leads":
            return [r for r in self.leads if lo <= _when(r[name]) <= hi]
        types = set(spec["filter"].get("activityTypeIds") or [])
        return [a for a in self.activities if lo <= _when(a["activityDate"]) <= hi
                and (not types or a["activityTypeId"] in types)]

    def csv(self, job: dict[str, Any]) -> str:
        out = io.StringIO()
        if job["kind"] == "leads":
            fields = job["spec"].get("fields") or list(self.leads[0])
            writer = csv.DictWriter(out, fields, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: ("null" if v is None else v) for k, v in r.items()} for r in self.rows(job))
        else:
            writer = csv.DictWriter(out, ACTIVITY_COLUMNS, lineterminator="\n")
            writer.writeheader()
            for a in self.rows(job):
                writer.writerow({**a, "attributes": json.dumps(a.get("attributes") or {})})
        return out.getvalue()


def lead(i: int, created: str, updated: str | None = None, **values: Any) -> dict[str, Any]:
    """A lead as the instance holds it (names and a phone too: the connector must not ask for them)."""
    return {"id": 1000 + i, "createdAt": created, "updatedAt": updated or created, "firstName": f"First{i}",
            "lastName": f"Last{i}", "phone": f"+1 555 0{i:03d}", "email": f"person{i}@Example.com",
            "leadSource": "Web", "company": f"Company {i}", "industry": "Software", "numberOfEmployees": 250,
            "country": "United States", "title": "Marketing Manager", "leadStatus": "Open", **values}


def activity(guid: int, lead_id: int, when: str, type_id: int, primary: str, **attributes: Any) -> dict[str, Any]:
    return {"marketoGUID": str(guid), "leadId": lead_id, "activityDate": when, "activityTypeId": type_id,
            "campaignId": 5000 + type_id, "primaryAttributeValueId": 700 + guid, "primaryAttributeValue": primary,
            "attributes": attributes}
