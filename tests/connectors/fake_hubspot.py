"""A fake HubSpot account behind the real v3/v4 paths, bodies, paging and error shapes (on 127.0.0.1).

Served: POST /crm/v3/objects/{type}/search (filterGroups on a date property in epoch ms, one
ascending sort, ``limit`` <= 200, ``after`` offsets, 400 past 10,000 results), POST
/crm/v3/objects/{type}/batch/read (``propertiesWithHistory``, at most 50 ids then; 207 with an
OBJECT_NOT_FOUND error for deleted ids), POST /crm/v4/associations/{from}/{to}/batch/read,
GET /crm/v3/pipelines/{type}, GET /marketing/v3/forms, GET
/form-integrations/v1/submissions/forms/{id} (newest first). Requests without the Bearer token get
HubSpot's 401 body. Property values are strings, times ISO 8601 with milliseconds, as HubSpot sends.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apiserver import ApiServer, Reply, Request

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
MODIFIED = {"contacts": "lastmodifieddate"}  # every other object: hs_lastmodifieddate
DEFAULTS = {"contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")}
ALWAYS = ("hs_object_id", "createdate")


def ms(when: str) -> int:
    return int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)


def error(status: int, message: str, category: str, headers: dict[str, str] | None = None, **extra: Any) -> Reply:
    body = {"status": "error", "message": message, "correlationId": "8c7a5e9e-1f0b-4c8e-9c3a-0d4f1e2b3a4c",
            "category": category, **extra}
    return Reply.json(body, status, headers)


def rate_limited(retry_after: str | None = "1") -> Reply:
    """HubSpot's 429: the rolling ten-second limit, its X-HubSpot-RateLimit headers (Retry-After when asked)."""
    headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Max": "190",
               "X-HubSpot-RateLimit-Remaining": "0", "X-HubSpot-RateLimit-Daily": "650000",
               "X-HubSpot-RateLimit-Daily-Remaining": "612345"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return Reply.json({"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                       "errorType": "RATE_LIMIT", "correlationId": "3f2e1d0c-aaaa-bbbb-cccc-0123456789ab",
                       "policyName": "TEN_SECONDLY_ROLLING", "groupName": "publicapi:private-app:1234567"},
                      429, headers)


@dataclass
class Record:
    id: str
    props: dict[str, str | None]
    history: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # newest first, as HubSpot lists it
    contacts: list[str] = field(default_factory=list)  # associated contact ids


@dataclass
class FakeHubSpot:
    """The account's records; tests edit them between pulls like users edit the CRM."""

    objects: dict[str, dict[str, Record]] = field(default_factory=dict)
    pipelines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    forms: list[dict[str, Any]] = field(default_factory=list)
    submissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    email_events: list[dict[str, Any]] = field(default_factory=list)  # the e-mail events API's events
    campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)  # marketing e-mails by campaign id
    deleted: dict[str, dict[str, tuple[Record, str]]] = field(default_factory=dict)  # type -> id -> (record, when)
    hidden: set[str] = field(default_factory=set)  # ids the search still finds but batch reads no longer do
    search_cap: int = 10_000

    def add(self, object_type: str, rec: Record) -> Record:
        self.objects.setdefault(object_type, {})[rec.id] = rec
        return rec

    def delete(self, object_type: str, rid: str, when: str) -> None:
        """Delete a record as a user does in HubSpot: it is archived (restorable for 90 days)."""
        self.deleted.setdefault(object_type, {})[rid] = (self.objects[object_type].pop(rid), when)

    def serve(self, api: ApiServer) -> None:
        types = "contacts|deals|calls|emails|meetings"
        api.route("POST", rf"^/crm/v3/objects/({types})/search$", self._authorized(self.search))
        api.route("POST", rf"^/crm/v3/objects/({types})/batch/read$", self._authorized(self.batch_read))
        api.route("POST", r"^/crm/v4/associations/\w+/contacts/batch/read$", self._authorized(self.associations))
        api.route("GET", rf"^/crm/v3/objects/({types})$", self._authorized(self.listing))
        api.route("GET", r"^/crm/v3/pipelines/(deals|contacts)$", self._authorized(self.pipeline_list))
        api.route("GET", r"^/marketing/v3/forms$", self._authorized(self.form_list))
        api.route("GET", r"^/form-integrations/v1/submissions/forms/[\w-]+$", self._authorized(self.form_submissions))
        api.route("GET", r"^/email/public/v1/events$", self._authorized(self.event_list))
        api.route("GET", r"^/email/public/v1/campaigns/\d+$", self._authorized(self.campaign))

    @staticmethod
    def _authorized(handler: Any) -> Any:
        def check(req: Request) -> Reply:
            if req.headers.get("Authorization") != f"Bearer {TOKEN}":
                return error(401, "Authentication credentials not found. This API supports OAuth 2.0 authentication "
                             "and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
                             "oauth-overview", "INVALID_AUTHENTICATION")
            return handler(req)
        return check

    # --- CRM objects ------------------------------------------------------------------------------

    @staticmethod
    def _type(req: Request) -> str:
        return req.path.split("/")[4]

    def _shape(self, object_type: str, rec: Record, asked: list[str]) -> dict[str, Any]:
        names = asked or list(DEFAULTS.get(object_type, ALWAYS))
        modified = MODIFIED.get(object_type, "hs_lastmodifieddate")
        props = {n: rec.props.get(n) for n in dict.fromkeys([*names, *ALWAYS, modified])}
        props["hs_object_id"] = rec.id
        return {"id": rec.id, "properties": props, "createdAt": rec.props.get("createdate"),
                "updatedAt": rec.props.get(modified), "archived": False}

    def search(self, req: Request) -> Reply:
        object_type, body = self._type(req), req.json()
        limit, after = int(body.get("limit", 10)), int(body.get("after") or 0)
        if limit > 200:
            return error(400, "Limit must be less than or equal to 200.", "VALIDATION_ERROR")
        if after + limit > self.search_cap:
            return error(400, f"The search endpoints are limited to {self.search_cap} total results for any "
                         "given query.", "VALIDATION_ERROR")
        rows = [r for r in self.objects.get(object_type, {}).values() if self._matches(r, body)]
        (sort,) = body["sorts"]
        key = sort["propertyName"]
        rows.sort(key=lambda r: (ms(r.props[key] or "1970-01-01T00:00:00Z"), int(r.id)),
                  reverse=sort.get("direction") == "DESCENDING")
        page = rows[after:after + limit]
        out: dict[str, Any] = {"total": len(rows),
                               "results": [self._shape(object_type, r, body.get("properties") or []) for r in page]}
        if after + limit < len(rows):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return Reply.json(out)

    def listing(self, req: Request) -> Reply:
        """GET /crm/v3/objects/{type}: by id; ``archived=true`` lists the deleted ones with ``archivedAt``."""
        object_type = req.path.rsplit("/", 1)[1]
        limit, after = min(int(req.arg("limit") or 10), 100), int(req.arg("after") or 0)
        asked = [p for p in (req.arg("properties") or "").split(",") if p]
        if req.arg("archived") == "true":
            found = [(rec, when) for rec, when in self.deleted.get(object_type, {}).values()]
        else:
            found = [(rec, None) for rec in self.objects.get(object_type, {}).values()]
        found.sort(key=lambda x: int(x[0].id))
        out: dict[str, Any] = {"results": []}
        for rec, when in found[after:after + limit]:
            item = self._shape(object_type, rec, asked)
            if when is not None:
                item.update(archived=True, archivedAt=when)
            out["results"].append(item)
        if after + limit < len(found):
            out["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
        return Reply.json(out)

    @staticmethod
    def _matches(rec: Record, body: dict[str, Any]) -> bool:
        groups = body.get("filterGroups") or []
        if not groups:
            return True
        for group in groups:
            ok = True
            for f in group["filters"]:
                value = rec.props.get(f["propertyName"])
                have, want = (ms(value) if value else None), int(f["value"])
                ok = ok and have is not None and {"GTE": have >= want, "GT": have > want, "EQ": have == want,
                                                  "LT": have < want, "LTE": have <= want}[f["operator"]]
            if ok:
                return True
        return False

    def batch_read(self, req: Request) -> Reply:
        object_type, body = self._type(req), req.json()
        history = body.get("propertiesWithHistory") or []
        inputs = [str(i["id"]) for i in body["inputs"]]
        if history and len(inputs) > 50:
            return error(400, "The maximum number of inputs supported in a batch request for property histories "
                         "is 50. Please reduce the number of items and try again.", "VALIDATION_ERROR")
        if len(inputs) > 100:
            return error(400, "The maximum number of inputs is 100.", "VALIDATION_ERROR")
        known = self.objects.get(object_type, {})
        found = [known[i] for i in inputs if i in known and i not in self.hidden]
        missing = [i for i in inputs if i not in known or i in self.hidden]
        results = []
        for rec in found:
            item = self._shape(object_type, rec, body.get("properties") or [])
            if history:
                item["propertiesWithHistory"] = {
                    h: [{**e, "sourceType": "CRM_UI", "sourceId": "userId:2411931"} for e in rec.history.get(h, [])]
                    for h in history}
            results.append(item)
        out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": "2024-06-01T10:00:00.000Z",
                               "completedAt": "2024-06-01T10:00:00.100Z"}
        if missing:
            out["numErrors"] = 1
            out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND",
                              "message": f"Could not get some {object_type.upper()[:-1]} objects, they may be "
                                         "deleted or not exist. Check that ids are valid.",
                              "context": {"ids": missing}}]
            return Reply.json(out, 207)
        return Reply.json(out)

    def associations(self, req: Request) -> Reply:
        object_type = req.path.split("/")[4]
        known = self.objects.get(object_type, {})
        results, lonely = [], []
        for i in (str(x["id"]) for x in req.json()["inputs"]):
            rec = known.get(i)
            if rec is None or not rec.contacts:
                lonely.append(i)
                continue
            results.append({"from": {"id": i}, "to": [
                {"toObjectId": int(c), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": None}]}
                for c in rec.contacts]})
        out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": "2024-06-01T10:00:00.000Z",
                               "completedAt": "2024-06-01T10:00:00.050Z"}
        if lonely:
            out["numErrors"] = len(lonely)
            out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "subCategory": "crm.associations."
                              "NO_ASSOCIATIONS_FOUND", "message": f"No contact is associated with {object_type} {i}.",
                              "context": {"fromObjectId": [i], "toObjectType": ["0-1"]}} for i in lonely]
            return Reply.json(out, 207)
        return Reply.json(out)

    # --- pipelines and forms ------------------------------------------------------------------------

    def pipeline_list(self, req: Request) -> Reply:
        return Reply.json({"results": self.pipelines.get(req.path.rsplit("/", 1)[1], [])})

    def form_list(self, req: Request) -> Reply:
        limit, after = int(req.arg("limit") or 20), int(req.arg("after") or 0)
        out: dict[str, Any] = {"results": self.forms[after:after + limit]}
        if after + limit < len(self.forms):
            out["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
        return Reply.json(out)

    def form_submissions(self, req: Request) -> Reply:
        form_id = req.path.rsplit("/", 1)[1]
        limit = int(req.arg("limit") or 20)
        if limit > 50:
            return error(400, "limit must be at most 50", "VALIDATION_ERROR")
        token = req.arg("after")
        start = int(base64.b64decode(token).decode()) if token else 0
        rows = sorted(self.submissions.get(form_id, []), key=lambda s: -s["submittedAt"])
        out: dict[str, Any] = {"results": rows[start:start + limit]}
        if start + limit < len(rows):
            nxt = base64.b64encode(str(start + limit).encode()).decode()
            out["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
        return Reply.json(out)

    def event_list(self, req: Request) -> Reply:
        lo, hi = int(req.arg("startTimestamp") or 0), int(req.arg("endTimestamp") or 2**62)
        limit, offset = min(int(req.arg("limit") or 100), 1000), req.arg("offset")
        rows = sorted((e for e in self.email_events if lo <= e["created"] <= hi), key=lambda e: -e["created"])
        start = int(base64.b64decode(offset).decode()) if offset else 0
        more = start + limit < len(rows)
        nxt = base64.b64encode(str(start + limit).encode()).decode() if more else None
        return Reply.json({"hasMore": more, "offset": nxt, "events": rows[start:start + limit]})

    def campaign(self, req: Request) -> Reply:
        found = self.campaigns.get(req.path.rsplit("/", 1)[1])
        if found is None:
            return error(404, "Campaign not found", "OBJECT_NOT_FOUND")
        return Reply.json(found)


def email_event(event_id: str, kind: str, when: str, recipient: str, campaign: int, filtered: bool = False) -> dict[str, Any]:
    """An event as the e-mail events API sends it (browser, location and user agent included)."""
    return {"appId": 113, "appName": "Batch", "created": ms(when), "emailCampaignId": campaign, "id": event_id,
            "portalId": 62515, "recipient": recipient, "sentBy": {"created": ms(when), "id": f"sent-{event_id}"},
            "type": kind, "filteredEvent": filtered, "deviceType": "COMPUTER",
            "browser": {"family": "Chrome", "name": "Chrome 120", "type": "Browser"},
            "location": {"city": "Berlin", "country": "Germany", "state": "Berlin"},
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}


def stage(stage_id: str, label: str, order: int, closed: bool, probability: str,
          updated: str = "2023-01-10T08:00:00.000Z") -> dict[str, Any]:
    return {"id": stage_id, "label": label, "displayOrder": order,
            "metadata": {"isClosed": "true" if closed else "false", "probability": probability},
            "createdAt": "2023-01-01T08:00:00.000Z", "updatedAt": updated, "archived": False}


def pipeline(pipeline_id: str, label: str, stages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": pipeline_id, "label": label, "displayOrder": 0, "stages": stages,
            "createdAt": "2023-01-01T08:00:00.000Z", "updatedAt": "2023-01-10T08:00:00.000Z", "archived": False}

