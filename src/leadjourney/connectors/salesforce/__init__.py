"""The Salesforce connector: leads, their status history, opportunities, activities and campaigns.

Pulled incrementally by ``SystemModstamp`` (the history objects by ``CreatedDate``) with
``WHERE cursor >= since ORDER BY cursor, Id`` over the REST query API; an object with more than
``bulk_threshold`` records to fetch goes through a Bulk API 2.0 query job instead. Modules:
:mod:`.objects` (objects and fields), :mod:`.client` (login, REST and Bulk calls),
:mod:`.canonical` (the mapping into canonical tables).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from simple_salesforce.format import format_soql

from leadjourney.connectors.base import CanonicalQuery, ObjectSpec, Row
from leadjourney.connectors.http import RetryPolicy, session
from leadjourney.connectors.salesforce.canonical import QUERIES
from leadjourney.connectors.salesforce.client import SYSTEM, Login, SalesforceApi
from leadjourney.connectors.salesforce.objects import OBJECTS, available, condition
from leadjourney.connectors.settings import ConnectorSettings
from leadjourney.ingest.sql import ident, lit
from leadjourney.redaction import env_secret

OPTIONS = ("login_url", "instance_url", "api_version", "client_id_env", "client_secret_env", "username_env",
           "password_env", "bulk_threshold", "bulk_poll_seconds")
LOGIN_URL = "https://login.salesforce.com"
API_VERSION = "60.0"
PAGE_SIZE = 2000  # the REST query API's largest batch
BULK_THRESHOLD = 50_000


def soql_since(since: str) -> str:
    """A stored high-water mark (or a ``start`` date) as a SOQL datetime literal, in UTC.

    >>> soql_since("2024-03-05T09:55:00.000+0100"), soql_since("2024-01-01")
    ('2024-03-05T08:55:00+00:00', '2024-01-01T00:00:00+00:00')
    """
    when = datetime.fromisoformat(since.replace("Z", "+00:00"))
    return str(format_soql("{}", when if when.tzinfo else when.replace(tzinfo=UTC)))


class SalesforceConnector:
    """A Salesforce org, as the pull workflow drives it."""

    system = SYSTEM
    objects = OBJECTS

    def __init__(self, api: SalesforceApi, bulk_threshold: int = BULK_THRESHOLD) -> None:
        self.api = api
        self.bulk_threshold = bulk_threshold
        self._fields: dict[str, tuple[str, ...]] = {}

    def fields(self, obj: ObjectSpec) -> tuple[str, ...]:
        if obj.name not in self._fields:
            self._fields[obj.name] = available(obj.name, self.api.describe(obj.name))
        return self._fields[obj.name]

    def where(self, obj: ObjectSpec, since: str | None) -> str:
        parts = [c for c in (condition(obj.name), f"{obj.cursor} >= {soql_since(since)}" if since else "") if c]
        return f" WHERE {' AND '.join(parts)}" if parts else ""

    def soql(self, obj: ObjectSpec, since: str | None, *, ordered: bool = True) -> str:
        order = f" ORDER BY {obj.cursor}, Id" if ordered else ""  # Bulk API 2.0 jobs are sorted here instead
        return f"SELECT {', '.join(self.fields(obj))} FROM {obj.name}{self.where(obj, since)}{order}"

    def count(self, obj: ObjectSpec, since: str | None) -> int | None:
        return self.api.count(f"SELECT COUNT() FROM {obj.name}{self.where(obj, since)}", f"{SYSTEM} {obj.name} count")

    def pages(self, obj: ObjectSpec, since: str | None) -> Iterator[list[Row]]:
        what = f"{SYSTEM} {obj.name}"
        if self.bulk_threshold and (self.count(obj, since) or 0) > self.bulk_threshold:
            yield from self._bulk_pages(obj, since, what)
        else:
            yield from self.api.query_pages(self.soql(obj, since), what)

    def _bulk_pages(self, obj: ObjectSpec, since: str | None, what: str) -> Iterator[list[Row]]:
        """A Bulk API 2.0 job's results, sorted by cursor and Id (a job's order is its own), page by page."""
        with tempfile.TemporaryDirectory(prefix="leadjourney-sf-") as folder:
            files = [p for p in self.api.bulk_query(self.soql(obj, since, ordered=False), what, Path(folder))
                     if p.stat().st_size]
            if not files:
                return
            paths = ", ".join(lit(str(p)) for p in files)
            con = duckdb.connect()
            try:
                result = con.execute(
                    f"SELECT * FROM read_csv([{paths}], header = true, all_varchar = true, delim = ',', "
                    f"quote = '\"', escape = '\"', union_by_name = true) "
                    f"ORDER BY {ident(obj.cursor)}, {ident('Id')}")
                names = [d[0] for d in result.description or []]
                while batch := result.fetchmany(self.api.page_size):
                    yield [dict(zip(names, row, strict=True)) for row in batch]
            finally:
                con.close()

    def canonical(self) -> tuple[CanonicalQuery, ...]:
        return QUERIES


def connect(settings: ConnectorSettings, sleep: Callable[[float], None] = time.sleep,
            policy: RetryPolicy | None = None) -> SalesforceConnector:
    """The connector ``[connectors.salesforce]`` describes; secrets read from the environment it names."""
    settings.check(OPTIONS)
    username = _secret(settings, "username_env", "") if settings.has("username_env") else None
    login = Login(
        login_url=settings.text("login_url", LOGIN_URL),
        client_id=_secret(settings, "client_id_env", "SALESFORCE_CLIENT_ID"),
        client_secret=_secret(settings, "client_secret_env", "SALESFORCE_CLIENT_SECRET"),
        username=username,
        password=_secret(settings, "password_env", "SALESFORCE_PASSWORD") if username else None,
        instance_url=settings.text("instance_url") if settings.has("instance_url") else None,
    )
    api = SalesforceApi(session(policy, sleep=sleep), login, settings.text("api_version", API_VERSION),
                        min(settings.page_size(PAGE_SIZE), PAGE_SIZE),
                        poll_seconds=settings.number("bulk_poll_seconds", 2), sleep=sleep)
    return SalesforceConnector(api, settings.number("bulk_threshold", BULK_THRESHOLD))



def _secret(settings: ConnectorSettings, option: str, default: str) -> str:
    """The secret in the environment variable ``option`` names (``default`` when the option is absent)."""
    return env_secret(settings.text(option, default), settings.key(option))
