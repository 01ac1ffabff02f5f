"""Salesforce REST and Bulk API 2.0 calls over the framework's retrying session.

Login is the OAuth 2.0 client-credentials flow (or the username-password flow when a username is
configured): ``POST {login_url}/services/oauth2/token``. Queries go to ``/services/data/vXX.X/queryAll``
and page through ``nextRecordsUrl``; large objects go through a Bulk API 2.0 query job (``jobs/query``,
results paged by the ``Sforce-Locator`` header, CSV bodies). An expired session (401
INVALID_SESSION_ID) logs in again once; an exhausted daily API limit (REQUEST_LIMIT_EXCEEDED) stops
the pull with a one-line error naming it. Requests are built here rather than through simple-salesforce's
methods, which write every URL as ``https://host`` and do not re-read a page cut short.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from leadjourney.connectors.base import Row
from leadjourney.connectors.http import RetryingAdapter, RetryPolicy, fetch_json
from leadjourney.errors import PullError
from leadjourney.redaction import redact

SYSTEM = "salesforce"


@dataclass(frozen=True)
class Login:
    """Where and how to log in; the secrets come from environment variables."""

    login_url: str
    client_id: str
    client_secret: str
    username: str | None = None  # with password: the username-password flow
    password: str | None = None  # the password followed by the user's security token, if the org asks one
    instance_url: str | None = None  # overrides the instance the token answer names

    @property
    def secrets(self) -> list[str]:
        return [s for s in (self.client_secret, self.password) if s]


def strip_attributes(record: Mapping[str, Any]) -> dict[str, Any]:
    """A REST record without Salesforce's ``attributes`` (type and URL), nested ones included.

    >>> strip_attributes({"attributes": {"type": "Lead"}, "Id": "00Q1", "Owner": {"attributes": {}, "Name": "Kim"}})
    {'Id': '00Q1', 'Owner': {'Name': 'Kim'}}
    """
    return {k: strip_attributes(v) if isinstance(v, Mapping) else v for k, v in record.items() if k != "attributes"}


class SalesforceApi:
    """One logged-in org: SOQL queries, counts, describes and Bulk API 2.0 query jobs."""

    def __init__(self, http: requests.Session, login: Login, version: str, page_size: int,
                 poll_seconds: float = 2.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = http
        self.poll_seconds = poll_seconds
        self.login = login
        self.version = version
        self.page_size = page_size
        self.sleep = sleep
        self.token: str | None = None
        self.instance = ""

    @property
    def base(self) -> str:
        """``{instance}/services/data/vXX.X``, logging in first when not yet."""
        if self.token is None:
            self.connect()
        return f"{self.instance}/services/data/v{self.version}"

    @property
    def secrets(self) -> list[str]:
        return [*self.login.secrets, *([self.token] if self.token else [])]

    def connect(self) -> None:
        """Get an access token (and the instance URL) from the token endpoint."""
        url = f"{self.login.login_url.rstrip('/')}/services/oauth2/token"
        data = {"grant_type": "client_credentials", "client_id": self.login.client_id,
                "client_secret": self.login.client_secret}
        if self.login.username:
            data.update(grant_type="password", username=self.login.username, password=self.login.password or "")
        what = f"{SYSTEM} login at {url}"
        try:
            r = self.http.post(url, data=data, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise PullError(redact(f"{what}: no answer: {type(exc).__name__}: {exc}", self.secrets)) from None
        try:
            body = r.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if r.status_code in (400, 401, 403):
            why = f"{body.get('error', r.status_code)}: {body.get('error_description', '')}".strip(": ")
            raise PullError(redact(f"{what}: the credentials were refused ({why})", self.secrets))
        if r.status_code >= 300 or not body.get("access_token"):
            raise PullError(redact(f"{what}: HTTP {r.status_code}, no access token in the answer", self.secrets))
        self.token = str(body["access_token"])
        self.instance = (self.login.instance_url or str(body.get("instance_url") or "")).rstrip("/")
        if not self.instance:
            raise PullError(f"{what}: the answer names no instance_url; set connectors.salesforce.instance_url")

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        if self.token is None:
            self.connect()
        return {"Authorization": f"Bearer {self.token}", "Accept": accept}

    def call(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        """A JSON answer; an expired session logs in again once; a used-up API limit is named."""
        extra = kwargs.pop("headers", {})
        for attempt in (1, 2):
            try:
                return fetch_json(self.http, method, url, what=what, secrets=self.secrets,
                                  headers={**self._headers(), **extra}, **kwargs)
            except PullError as exc:
                self._explain(exc, what)
                if attempt == 1 and "INVALID_SESSION_ID" in str(exc):
                    self.connect()
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _explain(self, exc: PullError, what: str) -> None:
        if "REQUEST_LIMIT_EXCEEDED" in str(exc):
            raise PullError(f"{what}: the org's API request limit is used up (REQUEST_LIMIT_EXCEEDED); run the pull "
                            f"again once the limit resets: it resumes after the last page kept") from None

    def query_pages(self, soql: str, what: str) -> Iterator[list[Row]]:
        """The records of a SOQL query (deleted ones included), one REST page at a time."""
        url: str = f"{self.base}/queryAll"
        params: dict[str, str] | None = {"q": soql}
        number = 1
        while True:
            body = self.call("GET", url, f"{what} page {number}", params=params,
                             headers={"Sforce-Query-Options": f"batchSize={self.page_size}"})
            yield [strip_attributes(r) for r in body.get("records") or []]
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return
            url, params, number = f"{self.instance}{next_url}", None, number + 1

    def count(self, soql: str, what: str) -> int:
        """``totalSize`` of a ``SELECT COUNT() ...`` query."""
        return int(self.call("GET", f"{self.base}/queryAll", what, params={"q": soql})["totalSize"])

    def describe(self, name: str) -> set[str]:
        """The names of the object's fields in this org."""
        body = self.call("GET", f"{self.base}/sobjects/{name}/describe", f"{SYSTEM} {name} describe")
        return {str(f["name"]) for f in body.get("fields") or []}

    def bulk_query(self, soql: str, what: str, folder: Path) -> list[Path]:
        """Run a Bulk API 2.0 query job (queryAll) and save its result pages as CSV files in ``folder``."""
        job = self.call("POST", f"{self.base}/jobs/query", f"{what} bulk job",
                        json={"operation": "queryAll", "query": soql, "contentType": "CSV",
                              "columnDelimiter": "COMMA", "lineEnding": "LF"})
        job_id = str(job["id"])
        wait = self.poll_seconds
        while job.get("state") != "JobComplete":
            if job.get("state") in ("Failed", "Aborted"):
                raise PullError(f"{what}: Bulk API 2.0 job {job_id} {str(job['state']).lower()}: "
                                f"{job.get('errorMessage') or 'no reason given'}")
            self.sleep(wait)
            wait = min(wait * 2, 30.0)
            job = self.call("GET", f"{self.base}/jobs/query/{job_id}", f"{what} bulk job {job_id}")
        files: list[Path] = []
        locator: str | None = None
        while True:
            params = {"maxRecords": str(self.page_size), **({"locator": locator} if locator else {})}
            text, locator = self._results(f"{self.base}/jobs/query/{job_id}/results", params,
                                          f"{what} bulk results {len(files) + 1}")
            path = folder / f"results-{len(files) + 1:06d}.csv"
            path.write_text(text, "utf-8")
            files.append(path)
            if not locator or locator == "null":
                return files

    def _results(self, url: str, params: dict[str, str], what: str) -> tuple[str, str | None]:
        """One CSV page of a job's results and the locator of the next; a body cut short is fetched again."""
        adapter = self.http.get_adapter(url)
        policy = adapter.policy if isinstance(adapter, RetryingAdapter) else RetryPolicy()
        relogged = False
        for attempt in range(1, policy.attempts + 1):
            try:
                r = self.http.get(url, params=params, headers=self._headers("text/csv"))
                if r.status_code == 401 and "INVALID_SESSION_ID" in r.text and not relogged:
                    relogged = True
                    self.connect()
                    continue
                if r.status_code >= 400:
                    exc = PullError(redact(f"{what}: HTTP {r.status_code}: {' '.join(r.text.split())[:300]}",
                                           self.secrets))
                    self._explain(exc, what)
                    raise exc
                return r.text, r.headers.get("Sforce-Locator")
            except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError, requests.Timeout) as exc:
                if attempt == policy.attempts:
                    raise PullError(redact(f"{what}: no complete answer after {policy.attempts} tries: "
                                           f"{type(exc).__name__}", self.secrets)) from None
                self.sleep(policy.backoff_seconds * 2 ** (attempt - 1))
        raise PullError(f"{what}: no complete answer after {policy.attempts} tries")
