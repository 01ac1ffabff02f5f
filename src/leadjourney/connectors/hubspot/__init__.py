"""HubSpot connector: contacts with lifecycle-stage history, deals with stage history, calls, e-mails,
meetings, form submissions and marketing e-mail events, over HubSpot's REST API with a private app's access token.

``[connectors.hubspot]`` options (besides the common ones): ``access_token_env`` (the environment
variable holding the token, default ``HUBSPOT_ACCESS_TOKEN``) and ``base_url`` (default
``https://api.hubapi.com``; tests point it at a local server).

The REST API is called through the framework's session rather than hubspot-api-client: the client's
generated sub-clients each build their own urllib3 pool with urllib3's own retries, so neither the
framework's retry adapter (429/5xx, Retry-After, bounded waits) nor its truncated-body refetch and
redacted one-line errors could apply, and form submissions are not in the client at all.
"""

from __future__ import annotations

from collections.abc import Iterator

from leadjourney.connectors.base import CanonicalQuery, ObjectSpec, Row
from leadjourney.connectors.http import RetryPolicy, session
from leadjourney.connectors.hubspot.api import SEARCH_LIMIT, HubSpotApi
from leadjourney.connectors.hubspot.canonical import QUERIES
from leadjourney.connectors.hubspot.objects import (
    CONTACTS,
    DEALS,
    EMAIL_EVENTS,
    ENGAGEMENT_PROPERTIES,
    FORM_SUBMISSIONS,
    OBJECTS,
    PIPELINES,
    contact_pages,
    deal_pages,
    email_event_pages,
    engagement_pages,
    pipeline_pages,
    submission_pages,
)
from leadjourney.connectors.settings import ConnectorSettings
from leadjourney.redaction import env_secret

OPTIONS = ("access_token_env", "base_url")
DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"


class HubSpotConnector:
    """The pull workflow's view of one HubSpot account."""

    system = "hubspot"
    objects: tuple[ObjectSpec, ...] = OBJECTS

    def __init__(self, api: HubSpotApi, page_size: int = SEARCH_LIMIT) -> None:
        self.api = api
        self.page_size = min(page_size, SEARCH_LIMIT)

    def count(self, obj: ObjectSpec, since: str | None) -> int | None:
        if obj in (CONTACTS, DEALS) or obj.name in ENGAGEMENT_PROPERTIES:
            return self.api.count(obj.name, obj.cursor, since)
        if obj == PIPELINES:
            return sum(len(page) for page in pipeline_pages(self.api, since))
        return None  # form submissions, e-mail events: only by reading them

    def pages(self, obj: ObjectSpec, since: str | None) -> Iterator[list[Row]]:
        if obj == PIPELINES:
            return pipeline_pages(self.api, since)
        if obj == CONTACTS:
            return contact_pages(self.api, since, self.page_size)
        if obj == DEALS:
            return deal_pages(self.api, since, self.page_size)
        if obj == FORM_SUBMISSIONS:
            return submission_pages(self.api, since)
        if obj == EMAIL_EVENTS:
            return email_event_pages(self.api, since)
        return engagement_pages(self.api, obj.name, since, self.page_size)

    def canonical(self) -> tuple[CanonicalQuery, ...]:
        return QUERIES


def connect(settings: ConnectorSettings, policy: RetryPolicy | None = None) -> HubSpotConnector:
    """The connector for ``[connectors.hubspot]``: the token from the environment variable it names."""
    settings.check(OPTIONS)
    token = env_secret(settings.text("access_token_env", DEFAULT_TOKEN_ENV), settings.key("access_token_env"))
    base = settings.text("base_url", DEFAULT_BASE_URL)
    if not base.startswith(("https://", "http://")):
        raise settings.fail("base_url", f"expected an http(s) URL, found {base!r}")
    api = HubSpotApi(base, token, session(policy))
    return HubSpotConnector(api, settings.page_size(SEARCH_LIMIT))
