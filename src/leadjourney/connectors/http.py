"""HTTP for connectors: retries on 429 and 5xx honouring Retry-After, timeouts, bounded waits.

Every connector's requests go through a :class:`requests.Session` with a :class:`RetryingAdapter`
mounted (simple-salesforce takes the session; plain REST connectors use it directly), so a
throttled or failing API is retried the same way everywhere.

>>> retry_after_seconds("7"), retry_after_seconds(None), retry_after_seconds("soon")
(7.0, None, None)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from leadjourney.errors import PullError
from leadjourney.redaction import redact

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a request is retried."""

    attempts: int = 5  # tries in all, the first included
    backoff_seconds: float = 1.0  # the first wait without Retry-After, doubled each time
    max_wait_seconds: float = 300.0  # a Retry-After longer than this is not waited for: the pull stops
    timeout_seconds: float = 60.0  # connect and read timeout of each request


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds, or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryingAdapter(HTTPAdapter):
    """Retries connection errors, timeouts, 429 and 5xx; waits Retry-After when given, else backs off."""

    def __init__(self, policy: RetryPolicy, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.policy = policy
        self.sleep = sleep
        self.retries = 0  # retries made, for the pull report

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout_seconds
        for attempt in range(1, self.policy.attempts + 1):
            backoff = self.policy.backoff_seconds * 2 ** (attempt - 1)
            try:
                response = super().send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == self.policy.attempts:
                    raise
                wait = backoff
            else:
                if response.status_code not in RETRY_STATUSES or attempt == self.policy.attempts:
                    return response
                asked = retry_after_seconds(response.headers.get("Retry-After"))
                wait = backoff if asked is None else asked
                if wait > self.policy.max_wait_seconds:
                    return response  # the caller reports the status and the wait asked for
                response.close()
            self.retries += 1
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def session(policy: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep) -> requests.Session:
    """A session whose http and https requests are retried by one :class:`RetryingAdapter`."""
    s = requests.Session()
    adapter = RetryingAdapter(policy or RetryPolicy(), sleep)
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s


def fetch_json(s: requests.Session, method: str, url: str, *, what: str, secrets: Sequence[str] = (),
               **kwargs: Any) -> Any:
    """The JSON body of a request, or a PullError naming ``what`` (e.g. "salesforce Lead page 3").

    Statuses 429 and 5xx are retried by the session's adapter; a body cut short (a truncated page,
    a connection reset mid-body, JSON that does not parse) is fetched again, as often. 401/403 say
    the credentials were refused. Secrets never reach the message.
    """
    return _fetch(s, method, url, what, secrets, lambda r: r.json(), **kwargs)


def fetch_text(s: requests.Session, method: str, url: str, *, what: str, secrets: Sequence[str] = (),
               **kwargs: Any) -> str:
    """The text body of a request (a CSV file), retried and reported as :func:`fetch_json` does."""
    return str(_fetch(s, method, url, what, secrets, lambda r: r.text, **kwargs))


def _fetch(s: requests.Session, method: str, url: str, what: str, secrets: Sequence[str],
           parse: Callable[[requests.Response], Any], **kwargs: Any) -> Any:
    adapter = s.get_adapter(url)
    policy = adapter.policy if isinstance(adapter, RetryingAdapter) else RetryPolicy()
    sleep = adapter.sleep if isinstance(adapter, RetryingAdapter) else time.sleep
    for attempt in range(1, policy.attempts + 1):
        try:
            response = s.request(method, url, **kwargs)
            if response.status_code in (401, 403):
                raise PullError(redact(f"{what}: the credentials were refused ({response.status_code}: "
                                       f"{_short(response.text)})", secrets))
            if response.status_code >= 400:
                asked = response.headers.get("Retry-After")
                wait = f"; the API asks to wait {asked} s" if asked else ""
                raise PullError(redact(f"{what}: HTTP {response.status_code} after {policy.attempts} tries{wait}: "
                                       f"{_short(response.text)}", secrets))
            return parse(response)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError,
                requests.ConnectionError, requests.Timeout, ValueError) as exc:
            if attempt == policy.attempts:
                raise PullError(redact(f"{what}: no complete answer after {policy.attempts} tries: "
                                       f"{type(exc).__name__}: {_short(str(exc))}", secrets)) from None
            if isinstance(adapter, RetryingAdapter):
                adapter.retries += 1
            sleep(policy.backoff_seconds * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def retries_made(s: requests.Session) -> int:
    """How many retries the session's adapter made."""
    adapter = s.get_adapter("https://")
    return adapter.retries if isinstance(adapter, RetryingAdapter) else 0
