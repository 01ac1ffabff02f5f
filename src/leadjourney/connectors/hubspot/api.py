"""HubSpot's REST API as the connector uses it: CRM search, batch reads, associations, pipelines, forms.

Every request goes through the framework's session (:mod:`leadjourney.connectors.http`): 429 and
5xx retried honouring Retry-After, truncated bodies fetched again, refused credentials and
exhausted retries raised as one-line :class:`PullError` with the token redacted.

Incremental reads use the CRM search API sorted by the last-modified property, ascending. Each
page moves the window: the next request asks for records modified at or after the last one seen
(skipping the ids already seen at that instant), so the search's 10,000-result cap is never reached
and a record modified during the pull moves ahead instead of shifting the pages under the reader.
Only when a whole page shares one instant is that instant paged with ``after``.

>>> iso_ms("2024-03-05T10:00:00Z"), iso_ms("2024-03-05"), iso_ms("1709632800000")
('2024-03-05T10:00:00.000Z', '2024-03-05T00:00:00.000Z', '2024-03-05T10:00:00.000Z')
>>> epoch_ms("2024-03-05T10:00:00.000Z")
1709632800000
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import requests

from leadjourney.connectors.http import fetch_json
from leadjourney.errors import PullError

SEARCH_CAP = 10_000  # the search API answers at most this many results per query (400 beyond)
SEARCH_LIMIT = 200  # the most results per search page
HISTORY_BATCH = 50  # batch reads asking for property histories take at most 50 ids
ASSOCIATION_BATCH = 1000  # v4 association batch reads take up to 1,000 ids
SUBMISSIONS_LIMIT = 50  # form submissions per page
EVENTS_LIMIT = 1000  # marketing e-mail events per page
EVENTS_HELD = 10_000  # events held in memory per time window; a busier window is split in two


def iso_ms(value: str) -> str:
    """A HubSpot time (ISO with or without milliseconds, a date, or epoch milliseconds) as ISO UTC with ms."""
    text = value.strip()
    if text.isdigit():
        when = datetime.fromtimestamp(int(text) / 1000, UTC)
    elif len(text) == 10:
        when = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    else:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def epoch_ms(value: str) -> int:
    """Epoch milliseconds of a HubSpot time (what search filters on dates take)."""
    when = datetime.fromisoformat(iso_ms(value).replace("Z", "+00:00"))
    return int(when.timestamp() * 1000)


class HubSpotApi:
    """Authenticated calls to one HubSpot account (a private app's access token)."""

    def __init__(self, base_url: str, token: str, http: requests.Session) -> None:
        self.base = base_url.rstrip("/")
        self.token = token
        self.http = http
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.search_cap = SEARCH_CAP
        self.events_held = EVENTS_HELD

    def call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        return fetch_json(self.http, method, self.base + path, what=f"hubspot {what}", secrets=[self.token], **kwargs)

    # --- CRM search ---------------------------------------------------------------------------------

    def _search(self, object_type: str, filters: list[dict[str, Any]], sort: str, properties: Sequence[str],
                limit: int, after: str | None, what: str) -> dict[str, Any]:
        body: dict[str, Any] = {"filterGroups": [{"filters": filters}] if filters else [],
                                "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                                "properties": list(properties), "limit": limit}
        if after is not None:
            body["after"] = after
        answer: dict[str, Any] = self.call("POST", f"/crm/v3/objects/{object_type}/search", what, json=body)
        return answer

    def count(self, object_type: str, cursor: str, since: str | None) -> int:
        """How many records were modified at or after ``since`` (the search's ``total``)."""
        filters = [] if since is None else [_filter(cursor, "GTE", since)]
        return int(self._search(object_type, filters, cursor, [cursor], 1, None, f"{object_type} count")
                   .get("total") or 0)

    def search(self, object_type: str, cursor: str, since: str | None, properties: Sequence[str],
               limit: int = SEARCH_LIMIT) -> Iterator[list[dict[str, Any]]]:
        """Records modified at or after ``since``, page by page, ascending by ``cursor`` (see the module)."""
        props = list(dict.fromkeys([*properties, cursor]))
        lower, op = since, "GTE"
        seen: set[str] = set()  # ids already yielded at the instant ``lower``
        number = 0
        while True:
            number += 1
            filters = [] if lower is None else [_filter(cursor, op, lower)]
            page = self._search(object_type, filters, cursor, props, limit, None, f"{object_type} page {number}")
            results = page.get("results") or []
            fresh = [r for r in results if not (r["id"] in seen and _when(r, cursor) == _ms(lower))]
            if fresh:
                yield fresh
            if not (page.get("paging") or {}).get("next") or not results:
                return
            last = _when(results[-1], cursor)
            if _when(results[0], cursor) == last:
                # a whole page modified at one instant: page through that instant, then go past it
                yield from self._instant(object_type, cursor, last, props, limit, seen | {r["id"] for r in results})
                lower, op, seen = last, "GT", set()
            else:
                lower, op = last, "GTE"
                seen = {r["id"] for r in results if _when(r, cursor) == last}

    def _instant(self, object_type: str, cursor: str, instant: str, props: Sequence[str], limit: int,
                 seen: set[str]) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        fetched = 0
        while True:
            if fetched + limit > self.search_cap:
                raise PullError(f"hubspot {object_type}: more than {self.search_cap:,} records were modified at "
                                f"{instant}; the search API cannot page past them (pull with a later start)")
            page = self._search(object_type, [_filter(cursor, "EQ", instant)], cursor, props, limit, after,
                                f"{object_type} records modified at {instant}")
            results = page.get("results") or []
            fetched += len(results)
            fresh = [r for r in results if r["id"] not in seen]
            seen.update(r["id"] for r in results)
            if fresh:
                yield fresh
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after or not results:
                return

    # --- batch reads and associations -----------------------------------------------------------------

    def batch_read(self, object_type: str, ids: Sequence[str], properties: Sequence[str],
                   history: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
        """Records by id with ``history`` properties' past values; ids deleted meanwhile are left out."""
        size = HISTORY_BATCH if history else 100
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), size):
            body: dict[str, Any] = {"inputs": [{"id": i} for i in ids[start:start + size]],
                                    "properties": list(properties)}
            if history:
                body["propertiesWithHistory"] = list(history)
            answer = self.call("POST", f"/crm/v3/objects/{object_type}/batch/read",
                               f"{object_type} batch read", json=body)
            for record in answer.get("results") or []:
                out[str(record["id"])] = record
        return out

    def associated(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]:
        """The ``to_type`` ids associated with each of ``ids`` (v4 associations), smallest id first."""
        out: dict[str, list[str]] = {i: [] for i in ids}
        for start in range(0, len(ids), ASSOCIATION_BATCH):
            body = {"inputs": [{"id": i} for i in ids[start:start + ASSOCIATION_BATCH]]}
            answer = self.call("POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/read",
                               f"{from_type} to {to_type} associations", json=body)
            for item in answer.get("results") or []:
                found = out.setdefault(str(item["from"]["id"]), [])
                found.extend(str(t["toObjectId"]) for t in item.get("to") or [])
        return {k: sorted(set(v), key=lambda x: (len(x), x)) for k, v in out.items()}

    def archived(self, object_type: str) -> Iterator[dict[str, Any]]:
        """The records of ``object_type`` deleted (archived) in HubSpot, with when (``archivedAt``)."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {"archived": "true", "limit": 100, "properties": "hs_object_id",
                                      **({"after": after} if after else {})}
            answer = self.call("GET", f"/crm/v3/objects/{object_type}", f"deleted {object_type}", params=params)
            yield from answer.get("results") or []
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    # --- pipelines and forms --------------------------------------------------------------------------

    def pipelines(self, object_type: str) -> list[dict[str, Any]]:
        answer = self.call("GET", f"/crm/v3/pipelines/{object_type}", f"{object_type} pipelines")
        return list(answer.get("results") or [])

    def forms(self) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"after": after} if after else {})}
            answer = self.call("GET", "/marketing/v3/forms", "forms", params=params)
            yield from answer.get("results") or []
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def submissions(self, form_id: str, since: str | None) -> Iterator[dict[str, Any]]:
        """A form's submissions at or after ``since``; the API lists them newest first."""
        floor = None if since is None else epoch_ms(since)
        after: str | None = None
        number = 0
        while True:
            number += 1
            params: dict[str, Any] = {"limit": SUBMISSIONS_LIMIT, **({"after": after} if after else {})}
            answer = self.call("GET", f"/form-integrations/v1/submissions/forms/{form_id}",
                               f"form {form_id} submissions page {number}", params=params)
            for item in answer.get("results") or []:
                if floor is not None and int(item["submittedAt"]) < floor:
                    return
                yield item
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    # --- marketing e-mail events (the e-mail events API) ----------------------------------------------

    def email_events(self, start_ms: int, end_ms: int, types: Sequence[str]) -> Iterator[list[dict[str, Any]]]:
        """Events of ``types`` created in [start_ms, end_ms], oldest first, in batches of a time window.

        The API lists a window's events newest first; a window holding more than ``events_held`` is split
        in two (the pages read so far are dropped), so memory stays bounded however busy the account.
        """
        held: list[dict[str, Any]] = []
        for page in self._event_pages(start_ms, end_ms):
            held.extend(e for e in page if e.get("type") in types)
            if len(held) > self.events_held and end_ms - start_ms > 1000:
                middle = start_ms + (end_ms - start_ms) // 2
                yield from self.email_events(start_ms, middle, types)
                yield from self.email_events(middle + 1, end_ms, types)
                return
        if held:
            yield sorted(held, key=lambda e: (int(e["created"]), str(e["id"])))

    def _event_pages(self, start_ms: int, end_ms: int) -> Iterator[list[dict[str, Any]]]:
        offset: str | None = None
        while True:
            params: dict[str, Any] = {"startTimestamp": start_ms, "endTimestamp": end_ms, "limit": EVENTS_LIMIT,
                                      **({"offset": offset} if offset else {})}
            answer = self.call("GET", "/email/public/v1/events", "marketing e-mail events", params=params)
            yield list(answer.get("events") or [])
            offset = answer.get("offset")
            if not answer.get("hasMore") or not offset:
                return

    def email_campaign(self, campaign_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.call("GET", f"/email/public/v1/campaigns/{campaign_id}",
                                           f"marketing e-mail {campaign_id}")
        return answer


def _filter(prop: str, op: str, when: str) -> dict[str, Any]:
    return {"propertyName": prop, "operator": op, "value": str(epoch_ms(when))}


def _when(record: dict[str, Any], cursor: str) -> str:
    return iso_ms(str(record["properties"][cursor]))


def _ms(value: str | None) -> str | None:
    return None if value is None else iso_ms(value)
