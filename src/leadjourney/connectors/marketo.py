"""Marketo: leads and activities by the Bulk Extract API, deleted leads by the paging REST API.

Why bulk for leads and activities: it is the only incremental way to read leads (an ``updatedAt``
or ``createdAt`` window), it spends the daily export allocation (500 MB by default) instead of the
50,000 REST calls a day that a paged activity read of a large instance would use up (300 records a
call), and one job engine serves both. Each date window (31 days at most, Marketo's limit) is one
job: create, enqueue, poll its status, download the CSV file; the file is sorted by the cursor and
handed over in pages, windows in ascending order, so a pull stopped anywhere resumes at the last
stored window's high-water mark. Deleted leads (few) come from the paging API
(``/rest/v1/activities/deletedleads.json``), window by window, as "Delete Lead" activities.

Marketo reports most errors inside HTTP 200 bodies (``"success": false``): 601/602 (token
invalid/expired) fetch a new token once; 606/615 (rate and concurrency limits) and the transient
604/608/611/713 wait and retry like a 429; anything else stops the pull with the code and message.
Only the fields the analysis needs are requested: no names, phones or addresses; e-mail is hashed
by the raw store. Activity attributes are kept only where named in ``_ATTRIBUTES`` (a form fill's
"Form Fields" and a visit's "Client IP Address" never reach the disk).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from leadjourney.connectors.base import CanonicalQuery, ObjectSpec, Row
from leadjourney.connectors.http import RetryPolicy, fetch_json, fetch_text, session
from leadjourney.connectors.settings import ConnectorSettings
from leadjourney.errors import ConfigError, PullError
from leadjourney.ingest.sql import lit, norm_key
from leadjourney.redaction import env_secret

OWN = ("base_url", "client_id_env", "client_secret_env", "lead_filter", "window_days", "poll_seconds",
       "job_timeout_minutes")
LEAD_FIELDS = ("id", "createdAt", "updatedAt", "leadSource", "company", "industry", "numberOfEmployees",
               "country", "title", "leadStatus", "email")
# activity type name (as /rest/v1/activities/types.json spells it) -> touchpoint kind (None: used otherwise)
ACTIVITY_KINDS: dict[str, str | None] = {
    "Send Email": "email_send", "Email Delivered": "email_delivered", "Open Email": "email_open",
    "Click Email": "email_click", "Fill Out Form": "form_fill", "Visit Webpage": "page_view",
    "Change Status in Progression": "program_status", "Change Revenue Stage": "revenue_stage",
    "Merge Leads": None,
}
# the activity attributes kept (column -> attribute names, as Marketo spells them); every other one is dropped
_ATTRIBUTES = {"new_status": ("New Status", "New Stage"), "old_status": ("Old Status", "Old Stage"),
               "success": ("Success",), "merge_ids": ("Merge Ids", "Merge IDs")}
_RETRY_CODES = {"604", "606", "608", "611", "615", "713"}  # timeouts, rate/concurrency limits, transient
_TOKEN_CODES = {"601", "602"}
_MAX_WINDOW_DAYS = 31
_DONE = {"Completed"}
_FAILED = {"Failed", "Cancelled"}


def connect(settings: ConnectorSettings) -> MarketoConnector:
    return MarketoConnector(settings)


class MarketoConnector:
    """A Marketo instance's REST endpoint, e.g. https://123-ABC-456.mktorest.com."""

    system = "marketo"

    def __init__(self, settings: ConnectorSettings, *, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, now: datetime | None = None) -> None:
        settings.check(OWN)
        self.settings = settings
        self.base = settings.text("base_url").rstrip("/")
        self.client_id = env_secret(settings.text("client_id_env", "MARKETO_CLIENT_ID"), settings.key("client_id_env"))
        self.client_secret = env_secret(settings.text("client_secret_env", "MARKETO_CLIENT_SECRET"),
                                        settings.key("client_secret_env"))
        self.lead_filter = settings.text("lead_filter", "updatedAt")
        if self.lead_filter not in ("updatedAt", "createdAt"):
            raise settings.fail("lead_filter", f"expected updatedAt or createdAt, found {self.lead_filter!r}")
        self.window = timedelta(days=settings.number("window_days", _MAX_WINDOW_DAYS))
        if not timedelta(days=1) <= self.window <= timedelta(days=_MAX_WINDOW_DAYS):
            raise settings.fail("window_days", f"expected 1 to {_MAX_WINDOW_DAYS} (Marketo's limit)")
        self.poll = float(settings.number("poll_seconds", 30))
        self.job_timeout = 60.0 * settings.number("job_timeout_minutes", 120)
        self.page_size = settings.page_size(10_000)
        self.sleep = sleep
        self.now = now
        self.http = session(policy, sleep)
        self.token: str | None = None
        self.types: dict[int, str] | None = None

    @property
    def objects(self) -> tuple[ObjectSpec, ...]:
        return (ObjectSpec("leads", key=("id",), cursor=self.lead_filter, personal=("email",)),
                ObjectSpec("activities", key=("marketoGUID",), cursor="activityDate"))

    # -- the API -----------------------------------------------------------------------------------------
    def _secrets(self) -> list[str]:
        return [s for s in (self.client_id, self.client_secret, self.token) if s]

    def _authenticate(self) -> None:
        body = fetch_json(self.http, "GET", f"{self.base}/identity/oauth/token", what="marketo sign-in",
                          secrets=self._secrets(), params={"grant_type": "client_credentials",
                                                            "client_id": self.client_id,
                                                            "client_secret": self.client_secret})
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            why = body.get("error_description") or body.get("error") if isinstance(body, dict) else body
            raise PullError(f"marketo sign-in: the credentials were refused ({why})")
        self.token = str(token)

    def call(self, method: str, path: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        """A REST call's body; Marketo's in-body errors retried (rate limits) or refreshed (tokens) or raised."""
        refreshed = False
        attempts = self.http.get_adapter(self.base).policy.attempts  # type: ignore[attr-defined]
        for attempt in range(1, attempts + 1):
            if self.token is None:
                self._authenticate()
            body = fetch_json(self.http, method, f"{self.base}{path}", what=what, secrets=self._secrets(),
                              headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
            if not isinstance(body, dict):
                raise PullError(f"{what}: expected a JSON object, found {type(body).__name__}")
            if body.get("success", True):
                return body
            errors = body.get("errors") or [{}]
            code, message = str(errors[0].get("code", "")), str(errors[0].get("message", ""))
            if code in _TOKEN_CODES and not refreshed:
                self.token, refreshed = None, True
                continue
            if code in _TOKEN_CODES:
                raise PullError(f"{what}: the credentials were refused ({code}: {message})")
            if code in _RETRY_CODES and attempt < attempts:
                self.sleep(20.0 if code in ("606", "615") else 5.0 * attempt)  # Marketo's limit window is 20 s
                continue
            raise PullError(f"{what}: Marketo error {code}: {message}" +
                            (f" (still after {attempts} tries)" if code in _RETRY_CODES else ""))
        raise AssertionError("unreachable")  # pragma: no cover

    def activity_types(self) -> dict[int, str]:
        """The instance's activity type ids of the kinds pulled, by name (ids differ between instances)."""
        if self.types is None:
            body = self.call("GET", "/rest/v1/activities/types.json", what="marketo activity types")
            found = {int(t["id"]): str(t["name"]) for t in body.get("result") or [] if t.get("name") in ACTIVITY_KINDS}
            if not found:
                raise PullError("marketo activity types: none of the pulled kinds exist here "
                                f"({', '.join(ACTIVITY_KINDS)})")
            self.types = found
        return self.types

    # -- the connector protocol -------------------------------------------------------------------------
    def count(self, obj: ObjectSpec, since: str | None) -> int | None:
        return None  # a bulk job would have to run to know

    def pages(self, obj: ObjectSpec, since: str | None) -> Iterator[list[Row]]:
        for start, end in self.windows(self._start(since)):
            yield from self._export(obj, start, end)

    def _start(self, since: str | None) -> datetime:
        text = since or self.settings.start()
        if text is None:
            raise ConfigError(f"{self.settings.key('start')}: required for the first pull (Marketo extracts "
                              f"date windows from there), e.g. start = \"2024-01-01\"")
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)

    def windows(self, start: datetime) -> list[tuple[datetime, datetime]]:
        """[start, end] date windows of at most ``window_days`` up to now, ascending."""
        now = self.now or datetime.now(UTC)
        out = []
        while start < now:
            end = min(start + self.window, now)
            out.append((start, end))
            start = end
        return out

    def _export(self, obj: ObjectSpec, start: datetime, end: datetime) -> Iterator[list[Row]]:
        kind = "leads" if obj.name == "leads" else "activities"
        span = f"{_iso(start)}..{_iso(end)}"
        what = f"marketo {obj.name} {span}"
        spec: dict[str, Any] = {"format": "CSV", "filter": {
            (self.lead_filter if kind == "leads" else "createdAt"): {"startAt": _iso(start), "endAt": _iso(end)}}}
        if kind == "leads":
            spec["fields"] = list(LEAD_FIELDS)
        else:
            spec["filter"]["activityTypeIds"] = sorted(self.activity_types())
        created = self.call("POST", f"/bulk/v1/{kind}/export/create.json", what=f"{what}: create job", json=spec)
        job = str(created["result"][0]["exportId"])
        self.call("POST", f"/bulk/v1/{kind}/export/{job}/enqueue.json", what=f"{what}: enqueue job {job}")
        status = self._wait(kind, job, what)
        found: list[dict[str, Any]] = []
        if int(status.get("numberOfRecords") or 0):
            found = list(csv.DictReader(io.StringIO(self._file(kind, job, what))))
        if kind == "activities":
            found = [self._activity(r) for r in found] + self._deleted(start, end)
        rows: list[Row] = list(found)
        rows.sort(key=lambda r: (r.get(obj.cursor) or "", r.get(obj.key[0]) or ""))
        for i in range(0, len(rows), self.page_size):
            yield rows[i:i + self.page_size]

    def _wait(self, kind: str, job: str, what: str) -> dict[str, Any]:
        waited = 0.0
        while True:
            body = self.call("GET", f"/bulk/v1/{kind}/export/{job}/status.json", what=f"{what}: job {job} status")
            status = body["result"][0]
            state = str(status.get("status"))
            if state in _DONE:
                return dict(status)
            if state in _FAILED:
                raise PullError(f"{what}: export job {job} {state.lower()}: {status.get('errorMsg') or 'no reason given'}")
            if waited >= self.job_timeout:
                raise PullError(f"{what}: export job {job} still {state} after {waited / 60:.0f} min "
                                f"(connectors.marketo.job_timeout_minutes); run the pull again later")
            self.sleep(self.poll)
            waited += max(self.poll, 1.0)

    def _file(self, kind: str, job: str, what: str) -> str:
        """The job's CSV; the token is refreshed once if the file request is refused as expired."""
        url = f"{self.base}/bulk/v1/{kind}/export/{job}/file.json"
        for attempt in (1, 2):
            try:
                return fetch_text(self.http, "GET", url, what=f"{what}: file of job {job}", secrets=self._secrets(),
                                  headers={"Authorization": f"Bearer {self.token}"})
            except PullError:
                if attempt == 2:
                    raise
                self._authenticate()
        raise AssertionError("unreachable")  # pragma: no cover

    def _activity(self, row: dict[str, str]) -> dict[str, Any]:
        """A CSV activity row with its type name and only the attributes the mapping reads."""
        attrs = _attributes(row.get("attributes"))
        return {"marketoGUID": row.get("marketoGUID"), "leadId": row.get("leadId"),
                "activityDate": _iso_text(row.get("activityDate")), "activityTypeId": row.get("activityTypeId"),
                "activityType": self.activity_types().get(int(row.get("activityTypeId") or 0)),
                "campaignId": row.get("campaignId"), "primaryAttributeValue": row.get("primaryAttributeValue"),
                **{column: next((attrs[n] for n in names if attrs.get(n)), None) for column, names in _ATTRIBUTES.items()}}

    def _deleted(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Leads deleted in [start, end], as "Delete Lead" activities (the person's name is not kept)."""
        body = self.call("GET", "/rest/v1/activities/pagingtoken.json", what="marketo paging token",
                         params={"sinceDatetime": _iso(start)})
        token, out, page = body["nextPageToken"], [], 0
        while True:
            page += 1
            body = self.call("GET", "/rest/v1/activities/deletedleads.json",
                             what=f"marketo deleted leads from {_iso(start)} page {page}",
                             params={"nextPageToken": token, "batchSize": 300})
            found = body.get("result") or []
            out += [{"marketoGUID": str(r.get("marketoGUID") or f"deleted-{r.get('id')}"), "leadId": str(r["leadId"]),
                     "activityDate": _iso_text(r.get("activityDate")), "activityType": "Delete Lead",
                     **dict.fromkeys(_ATTRIBUTES)} for r in found if _iso_text(r.get("activityDate")) <= _iso(end)]
            token = body.get("nextPageToken") or token
            late = any(_iso_text(r.get("activityDate")) > _iso(end) for r in found)
            if not body.get("moreResult") or late:
                return out

    def canonical(self) -> tuple[CanonicalQuery, ...]:
        stages = sorted(self.settings.stages)
        mapped = f"{norm_key('new_stage')} IN ({', '.join(lit(s) for s in stages) or 'NULL'})"
        kinds = " ".join(f"WHEN {lit(name)} THEN {lit(kind)}" for name, kind in ACTIVITY_KINDS.items() if kind)
        return (
            CanonicalQuery("leads", "leads", _LEADS.format(cursor=f'"{self.lead_filter}"'),
                           ("leads", "activities")),
            CanonicalQuery("touchpoints", "touchpoints", _TOUCHES.format(kinds=kinds, mapped=mapped),
                           ("activities",)),
            CanonicalQuery("stage_events", "stage_events", _STAGES.format(mapped=mapped), ("activities",)),
        )


# merged-away lead id -> the lead it was merged into (the "Merge Leads" activity on the survivor)
_MERGED = """(SELECT DISTINCT CAST(unnest(regexp_extract_all(merge_ids, '\\d+')) AS VARCHAR) AS loser,
                 "leadId" AS survivor FROM activities WHERE "activityType" = 'Merge Leads')"""
_DELETED = """(SELECT "leadId" FROM activities WHERE "activityType" = 'Delete Lead' AND "leadId" IS NOT NULL)"""
_GONE = f"""(SELECT * FROM {_DELETED} UNION SELECT loser FROM {_MERGED} WHERE loser IS NOT NULL)"""
_LEADS = """SELECT "id" AS lead_id, "createdAt" AS created_at, "leadSource" AS source, "company" AS company,
    "industry" AS industry, "numberOfEmployees" AS employee_count, "country" AS country, "title" AS job_title,
    "leadStatus" AS status, "email" AS email
FROM leads WHERE "id" NOT IN """ + _GONE
_ACTS = f"""(SELECT a.*, coalesce(m.survivor, a."leadId") AS lead_id,
        new_status AS new_stage
    FROM (SELECT * FROM activities WHERE "activityType" NOT IN ('Merge Leads', 'Delete Lead')) a
    LEFT JOIN {_MERGED} m ON m.loser = a."leadId"
    WHERE a."leadId" NOT IN {_DELETED})"""
_EMAIL = "'Send Email', 'Email Delivered', 'Open Email', 'Click Email'"
_TOUCHES = """SELECT lead_id, "activityDate" AS occurred_at,
    CASE WHEN "activityType" IN (""" + _EMAIL + """) THEN 'email' END AS channel,
    CASE "activityType" {kinds} END AS kind,
    'automated' AS actor,
    CASE WHEN "activityType" IN (""" + _EMAIL + """) AND strpos("primaryAttributeValue", '.') > 0
         THEN split_part("primaryAttributeValue", '.', 1)
         WHEN "activityType" IN ('Change Status in Progression') THEN "primaryAttributeValue" END AS campaign,
    CASE WHEN "activityType" IN (""" + _EMAIL + """) AND strpos("primaryAttributeValue", '.') > 0
         THEN substr("primaryAttributeValue", strpos("primaryAttributeValue", '.') + 1)
         WHEN "activityType" IN ('Change Status in Progression') THEN new_stage
         ELSE "primaryAttributeValue" END AS asset
FROM """ + _ACTS + """ WHERE NOT ("activityType" IN ('Change Status in Progression', 'Change Revenue Stage')
    AND {mapped})"""
_STAGES = """SELECT lead_id, new_stage AS stage, "activityDate" AS entered_at FROM """ + _ACTS + """
WHERE "activityType" IN ('Change Status in Progression', 'Change Revenue Stage') AND {mapped}"""


def _attributes(text: str | None) -> dict[str, str]:
    """The bulk file's attributes column: a JSON object (or the REST API's list of name/value pairs)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if isinstance(value, list):
        return {str(a.get("name")): str(a.get("value")) for a in value if isinstance(a, dict)}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()} \
        if isinstance(value, dict) else {}


def _iso_text(text: Any) -> str:
    """An API timestamp ("2024-03-05T10:00:00Z", "+0000" or "+00:00") as :func:`_iso` writes it."""
    try:
        return _iso(datetime.fromisoformat(str(text).replace("Z", "+00:00")))
    except ValueError:
        return str(text)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

