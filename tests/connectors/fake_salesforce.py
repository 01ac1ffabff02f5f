"""A fake Salesforce org on the test server: the real paths, OAuth token answer, SOQL paging and Bulk API 2.0.

Speaks just enough SOQL: ``SELECT fields FROM Object [WHERE a >= datetime AND Field = 'x'] [ORDER BY ...]``
and ``SELECT COUNT() ...``; ``/query`` leaves deleted records out, ``/queryAll`` keeps them; pages follow
``Sforce-Query-Options: batchSize=N`` and ``nextRecordsUrl`` (``/services/data/vXX.X/query/01g...-2000``).
Errors are Salesforce's bodies: ``[{"message": ..., "errorCode": "INVALID_SESSION_ID"}]``.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from apiserver import ApiServer, Reply, Request

VERSION = "60.0"
CLIENT_ID = "3MVG9fakeConsumerKey"
CLIENT_SECRET = "fake-consumer-secret-8C1F"
TOKEN_PREFIX = "00Dxx0000001gPL!AQ4AQFake"

# fields each object's describe lists: more than the connector may ask for (names, phones, addresses)
DESCRIBED: dict[str, tuple[str, ...]] = {
    "Lead": ("Id", "IsDeleted", "MasterRecordId", "FirstName", "LastName", "Name", "Phone", "MobilePhone", "Street",
             "City", "PostalCode", "Country", "Email", "Company", "Title", "Industry", "NumberOfEmployees",
             "LeadSource", "Status", "OwnerId", "IsConverted", "ConvertedDate", "ConvertedAccountId",
             "ConvertedContactId", "ConvertedOpportunityId", "CreatedDate", "LastModifiedDate", "SystemModstamp"),
    "LeadHistory": ("Id", "IsDeleted", "LeadId", "CreatedById", "CreatedDate", "Field", "DataType", "OldValue",
                    "NewValue"),
    "Contact": ("Id", "IsDeleted", "MasterRecordId", "AccountId", "FirstName", "LastName", "Name", "Phone",
                "MailingStreet", "Email", "LeadSource", "OwnerId", "CreatedDate", "SystemModstamp"),
    "Opportunity": ("Id", "IsDeleted", "AccountId", "Name", "StageName", "Amount", "CloseDate", "IsClosed", "IsWon",
                    "LeadSource", "CampaignId", "OwnerId", "CreatedDate", "SystemModstamp"),
    "OpportunityHistory": ("Id", "IsDeleted", "OpportunityId", "StageName", "Amount", "CloseDate", "CreatedDate",
                           "SystemModstamp"),
    "OpportunityContactRole": ("Id", "IsDeleted", "OpportunityId", "ContactId", "Role", "IsPrimary", "CreatedDate",
                               "SystemModstamp"),
    "Task": ("Id", "IsDeleted", "WhoId", "WhatId", "Subject", "ActivityDate", "Status", "OwnerId", "Description",
             "Type", "TaskSubtype", "CreatedDate", "SystemModstamp"),
    "Event": ("Id", "IsDeleted", "WhoId", "WhatId", "Subject", "Location", "ActivityDateTime", "ActivityDate",
              "Type", "EventSubtype", "OwnerId", "CreatedDate", "SystemModstamp"),
    "Campaign": ("Id", "IsDeleted", "Name", "Type", "Status", "StartDate", "CreatedDate", "SystemModstamp"),
    "CampaignMember": ("Id", "IsDeleted", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded",
                       "FirstRespondedDate", "FirstName", "LastName", "Email", "CreatedDate", "SystemModstamp"),
}
PERSONAL = {"FirstName", "LastName", "Name", "Phone", "MobilePhone", "Street", "City", "PostalCode",
            "MailingStreet", "Subject", "Description", "Location"}
_SOQL = re.compile(r"^SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
                   r"(?:\s+ORDER BY\s+(?P<order>.+))?$", re.IGNORECASE | re.DOTALL)
_COND = re.compile(r"^(\w+)\s*(>=|=)\s*(.+)$")


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json([{"message": message, "errorCode": code}], status, headers)


class FakeOrg:
    """Records per object (full records, as the org holds them) served over the real API paths."""

    def __init__(self, api: ApiServer, records: Mapping[str, list[dict[str, Any]]] | None = None,
                 currency: bool = False) -> None:
        self.api = api
        self.records: dict[str, list[dict[str, Any]]] = {name: [] for name in DESCRIBED}
        for name, rows in (records or {}).items():
            self.records[name] = list(rows)
        self.currency = currency  # a multi-currency org: Opportunity has CurrencyIsoCode
        self.tokens: list[str] = []
        self.cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.soql: list[str] = []  # every SOQL query asked, in order
        self._ids = itertools.count(1)
        base = rf"^/services/data/v{re.escape(VERSION)}"
        api.route("POST", r"^/services/oauth2/token$", self.token)
        api.route("GET", base + r"/(query|queryAll)/(?P<locator>[^/]+)$", self.query_more)
        api.route("GET", base + r"/(query|queryAll)/?$", self.query)
        api.route("GET", base + r"/sobjects/(\w+)/describe/?$", self.describe)
        api.route("POST", base + r"/jobs/query/?$", self.create_job)
        api.route("GET", base + r"/jobs/query/([^/]+)/results$", self.job_results)
        api.route("GET", base + r"/jobs/query/([^/]+)$", self.job_info)

    # --- auth -----------------------------------------------------------------------------------
    def token(self, req: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Reply.json({"error": "invalid_client", "error_description": "invalid client credentials"}, 400)
        if form.get("grant_type") == "password" and form.get("password") != "hunter2TOKEN":
            return Reply.json({"error": "invalid_grant", "error_description": "authentication failure"}, 400)
        token = f"{TOKEN_PREFIX}{len(self.tokens) + 1:04d}"
        self.tokens.append(token)
        return Reply.json({"access_token": token, "signature": "fakeSignature=", "scope": "api",
                           "instance_url": self.api.url, "id": f"{self.api.url}/id/00Dxx0000001gPLEAY/005xx000001Sv6A",
                           "token_type": "Bearer", "issued_at": "1717000000000"})

    def expire_sessions(self) -> None:
        self.tokens.append("revoked")  # every token issued so far is refused from now on

    def _refused(self, req: Request) -> Reply | None:
        auth = req.headers.get("Authorization", "")
        if not self.tokens or auth != f"Bearer {self.tokens[-1]}":
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    # --- REST -------------------------------------------------------------------------------------
    def describe(self, req: Request) -> Reply:
        if (refused := self._refused(req)) is not None:
            return refused
        name = req.path.rstrip("/").split("/")[-2]
        if name not in DESCRIBED:
            return error(404, "NOT_FOUND", "The requested resource does not exist")
        fields = [*DESCRIBED[name], *(["CurrencyIsoCode"] if self.currency and name == "Opportunity" else [])]
        return Reply.json({"name": name, "queryable": True, "fields": [{"name": f, "type": "string"} for f in fields]})

    def run(self, soql: str, include_deleted: bool) -> tuple[str, list[str], list[dict[str, Any]]]:
        """The object, the fields asked for and the matching records, ordered as asked."""
        self.soql.append(soql)
        m = _SOQL.match(" ".join(soql.split()))
        if not m:
            raise ValueError(f"unparsed SOQL: {soql}")
        obj, fields = m["obj"], [f.strip() for f in m["fields"].split(",")]
        rows = [r for r in self.records[obj] if include_deleted or not r.get("IsDeleted")]
        for cond in re.split(r"\s+AND\s+", m["where"] or "", flags=re.IGNORECASE):
            if not cond:
                continue
            c = _COND.match(cond.strip())
            if not c:
                raise ValueError(f"unparsed condition: {cond}")
            field, op, value = c.groups()
            if op == ">=":
                rows = [r for r in rows if r.get(field) and stamp(r[field]) >= stamp(value)]
            else:
                rows = [r for r in rows if r.get(field) == value.strip("'")]
        if m["order"]:
            keys = [k.strip() for k in m["order"].split(",")]
            rows.sort(key=lambda r: tuple(str(r.get(k) or "") for k in keys))
        return obj, fields, rows

    def shape(self, obj: str, fields: list[str], row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"attributes": {"type": obj, "url": f"/services/data/v{VERSION}/sobjects/{obj}/{row['Id']}"}}
        for f in fields:
            if "." in f:
                parent, child = f.split(".", 1)
                value = row.get(f)
                out[parent] = None if value is None else {
                    "attributes": {"type": "User", "url": f"/services/data/v{VERSION}/sobjects/User/x"}, child: value}
            else:
                out[f] = row.get(f)
        return out

    def query(self, req: Request) -> Reply:
        if (refused := self._refused(req)) is not None:
            return refused
        soql = req.arg("q") or ""
        try:
            obj, fields, rows = self.run(soql, include_deleted=req.path.rstrip("/").endswith("queryAll"))
        except (ValueError, KeyError) as exc:
            return error(400, "MALFORMED_QUERY", str(exc))
        if fields == ["COUNT()"]:
            return Reply.json({"totalSize": len(rows), "done": True, "records": []})
        shaped = [self.shape(obj, fields, r) for r in rows]
        options = req.headers.get("Sforce-Query-Options", "")
        size = int(m.group(1)) if (m := re.search(r"batchSize=(\d+)", options)) else 2000
        return self._page(f"01gxx{next(self._ids):010d}", shaped, 0, size)

    def _page(self, cursor: str, shaped: list[dict[str, Any]], offset: int, size: int) -> Reply:
        done = offset + size >= len(shaped)
        body: dict[str, Any] = {"totalSize": len(shaped), "done": done, "records": shaped[offset:offset + size]}
        if not done:
            self.cursors[cursor] = (shaped, size)
            body["nextRecordsUrl"] = f"/services/data/v{VERSION}/query/{cursor}-{offset + size}"
        return Reply.json(body)

    def query_more(self, req: Request) -> Reply:
        if (refused := self._refused(req)) is not None:
            return refused
        cursor, _, offset = req.path.rsplit("/", 1)[-1].rpartition("-")
        if cursor not in self.cursors:
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        shaped, size = self.cursors[cursor]
        return self._page(cursor, shaped, int(offset), size)

    # --- Bulk API 2.0 ------------------------------------------------------------------------------
    def create_job(self, req: Request) -> Reply:
        if (refused := self._refused(req)) is not None:
            return refused
        spec = req.json()
        try:
            obj, fields, rows = self.run(spec["query"], include_deleted=spec.get("operation") == "queryAll")
        except (ValueError, KeyError) as exc:
            return error(400, "INVALIDJOB", str(exc))
        job_id = f"750xx{next(self._ids):013d}"
        self.jobs[job_id] = {"fields": fields, "rows": rows, "polls": 0, "object": obj, "operation": spec["operation"]}
        return Reply.json(self._job(job_id, "UploadComplete"))

    def _job(self, job_id: str, state: str) -> dict[str, Any]:
        job = self.jobs[job_id]
        return {"id": job_id, "operation": job["operation"], "object": job["object"], "createdById": "005xx000001Sv6A",
                "createdDate": "2024-06-01T10:00:00.000+0000", "systemModstamp": "2024-06-01T10:00:01.000+0000",
                "state": state, "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(VERSION),
                "lineEnding": "LF", "columnDelimiter": "COMMA",
                **({"numberRecordsProcessed": len(job["rows"]), "retries": 0, "totalProcessingTime": 120}
                   if state == "JobComplete" else {})}

    def job_info(self, req: Request) -> Reply:
        if (refused := self._refused(req)) is not None:
            return refused
        job_id = req.path.rsplit("/", 1)[-1]
        job = self.jobs[job_id]
        job["polls"] += 1
        return Reply.json(self._job(job_id, "InProgress" if job["polls"] == 1 else "JobComplete"))

    def job_results(self, req: Request) -> Reply:
        if (refused := self._refused(req)) is not None:
            return refused
        job = self.jobs[req.path.rsplit("/", 2)[-2]]
        size = int(req.arg("maxRecords") or 10000)
        offset = int(req.arg("locator") or "0", 36)
        chunk = job["rows"][offset:offset + size]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow(job["fields"])
        for r in chunk:
            writer.writerow(["" if r.get(f) is None else ("true" if r.get(f) is True else "false" if r.get(f) is False
                                                          else r.get(f)) for f in job["fields"]])
        more = offset + size < len(job["rows"])
        locator = _base36(offset + size) if more else "null"
        return Reply(200, out.getvalue().encode(), {"Content-Type": "text/csv", "Sforce-Locator": locator,
                                                     "Sforce-NumberOfRecords": str(len(chunk))})


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
