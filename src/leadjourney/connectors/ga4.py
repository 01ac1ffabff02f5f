"""GA4: sessions, engaged sessions and key events by day x source/medium x campaign x landing page.

One Data API report (``runReport`` of google-analytics-data over its REST transport), ordered by date
and paged by offset/limit, so pages come in ascending date order. Incremental by date: GA4 keeps
revising a day's figures for about 72 hours, so each pull re-reads the last ``overlap_days`` days
before the high-water date; a row re-read with other figures is stored as a new version
(``ObjectSpec.version``), the latest kept. The framework's retrying adapter is mounted on the
client's session (429 honouring Retry-After, 5xx, timeouts); a page cut short is fetched again.

Credentials: a service-account JSON key file whose path is in the environment variable named by
``credentials_env`` (GOOGLE_APPLICATION_CREDENTIALS by default); ``anonymous = true`` sends none (a
local emulator). ``api_endpoint`` points the client elsewhere (the REST transport accepts http://).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import requests
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import (
    DateRange,
    Dimension,
    Metric,
    OrderBy,
    RunReportRequest,
    RunReportResponse,
)
from google.api_core import exceptions as google_errors
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account
from google.protobuf.json_format import ParseError

from leadjourney.connectors.base import CanonicalQuery, ObjectSpec, Row
from leadjourney.connectors.http import RetryingAdapter, RetryPolicy
from leadjourney.connectors.settings import ConnectorSettings
from leadjourney.errors import ConfigError, PullError
from leadjourney.redaction import env_secret

OWN = ("property_id", "credentials_env", "anonymous", "api_endpoint", "overlap_days")
SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
DIMENSIONS = ("date", "sessionSource", "sessionMedium", "sessionCampaignName", "landingPagePlusQueryString")
METRICS = ("sessions", "engagedSessions", "keyEvents")
FIRST_DAY = "2015-08-14"  # the earliest date the Data API accepts
MAX_LIMIT = 250_000  # rows per request, the API's maximum

TRAFFIC_SQL = """SELECT strftime(strptime("date", '%Y%m%d'), '%Y-%m-%d') AS day, "sessionSource" AS source,
    "sessionMedium" AS medium, "sessionCampaignName" AS campaign, "landingPagePlusQueryString" AS landing_page,
    "sessions" AS sessions, "engagedSessions" AS engaged_sessions, "keyEvents" AS key_events
FROM traffic"""


def connect(settings: ConnectorSettings) -> Ga4Connector:
    return Ga4Connector(settings)


class Ga4Connector:
    """One GA4 property's traffic report."""

    system = "ga4"

    def __init__(self, settings: ConnectorSettings, *, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, today: date | None = None) -> None:
        settings.check(OWN)
        self.settings = settings
        self.property = settings.text("property_id")
        if not self.property.removeprefix("properties/").isdigit():
            raise settings.fail("property_id", f"expected the property's number, e.g. \"123456789\", found "
                                               f"{self.property!r}")
        self.property = self.property.removeprefix("properties/")
        self.overlap = timedelta(days=settings.number("overlap_days", 3))
        self.page_size = min(settings.page_size(100_000), MAX_LIMIT)
        self.today = today
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        options = {"api_endpoint": settings.text("api_endpoint", "analyticsdata.googleapis.com")}
        self.client = BetaAnalyticsDataClient(credentials=self._credentials(), transport="rest",
                                              client_options=options)
        adapter = RetryingAdapter(self.policy, sleep)
        session: requests.Session = self.client._transport._session  # type: ignore[attr-defined]
        session.mount("https://", adapter)
        session.mount("http://", adapter)

    def _credentials(self) -> Credentials:
        anonymous = self.settings.options.get("anonymous", False)
        if not isinstance(anonymous, bool):
            raise self.settings.fail("anonymous", f"expected true or false, found {anonymous!r}")
        if anonymous:
            return AnonymousCredentials()  # type: ignore[no-untyped-call]
        option = self.settings.key("credentials_env")
        path = env_secret(self.settings.text("credentials_env", "GOOGLE_APPLICATION_CREDENTIALS"), option)
        try:
            return service_account.Credentials.from_service_account_file(  # type: ignore[no-any-return,no-untyped-call]
                path, scopes=[SCOPE])
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"{option}: the service-account key file it names could not be read "
                              f"({type(exc).__name__})") from None

    @property
    def objects(self) -> tuple[ObjectSpec, ...]:
        return (ObjectSpec("traffic", key=DIMENSIONS, cursor="date", version=METRICS, overlap=self.overlap),)

    def _request(self, since: str | None, offset: int, limit: int) -> RunReportRequest:
        first = _iso_day(since or self.settings.start() or FIRST_DAY)
        return RunReportRequest(
            property=f"properties/{self.property}",
            dimensions=[Dimension(name=d) for d in DIMENSIONS],
            metrics=[Metric(name=m) for m in METRICS],
            date_ranges=[DateRange(start_date=first, end_date=(self.today or date.today()).isoformat())],
            order_bys=[OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name=d)) for d in DIMENSIONS],
            offset=offset, limit=limit)

    def _run(self, request: RunReportRequest, what: str) -> RunReportResponse:
        """One runReport call; a body cut short is fetched again, API errors become one-line PullErrors."""
        for attempt in range(1, self.policy.attempts + 1):
            try:
                return self.client.run_report(request=request, timeout=self.policy.timeout_seconds)
            except google_errors.GoogleAPICallError as exc:
                refused = "the credentials were refused" if exc.code in (401, 403) else "HTTP"
                raise PullError(f"{what}: {refused} {exc.code}: {_short(exc.message)}") from None
            except GoogleAuthError as exc:  # a token could not be had (or renewed after a 401)
                raise PullError(f"{what}: the credentials were refused ({_short(exc)})") from None
            except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError, requests.Timeout,
                    ParseError, ValueError) as exc:
                if attempt == self.policy.attempts:
                    raise PullError(f"{what}: no complete answer after {attempt} tries: {type(exc).__name__}") from None
                self.sleep(self.policy.backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def count(self, obj: ObjectSpec, since: str | None) -> int | None:
        return int(self._run(self._request(since, 0, 1), "ga4 traffic count").row_count)

    def pages(self, obj: ObjectSpec, since: str | None) -> Iterator[list[Row]]:
        offset, page = 0, 0
        while True:
            page += 1
            response = self._run(self._request(since, offset, self.page_size), f"ga4 traffic page {page}")
            dims = [h.name for h in response.dimension_headers]
            mets = [h.name for h in response.metric_headers]
            rows: list[Row] = [
                {**{n: v.value for n, v in zip(dims, r.dimension_values, strict=True)},
                 **{n: v.value for n, v in zip(mets, r.metric_values, strict=True)}}
                for r in response.rows]
            if rows:
                yield rows
            offset += len(rows)
            if not rows or offset >= response.row_count:
                return

    def canonical(self) -> tuple[CanonicalQuery, ...]:
        return (CanonicalQuery("web_traffic", "web_traffic", TRAFFIC_SQL, ("traffic",)),)


def _iso_day(text: str) -> str:
    """A high-water date (GA4 writes 20240305) or a start date (2024-03-05) as the API's YYYY-MM-DD."""
    text = text[:10]
    if len(text) >= 8 and text[:8].isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:8]}"
    return text


def _short(text: Any, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."
