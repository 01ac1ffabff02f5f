"""Failed attempts counted in a sliding window, per client and in all: the login wall's rate limit."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

PER_CLIENT = 5  # failed sign-ins one client may make per window
OVERALL = 50  # failed sign-ins all clients together may make per window
WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000  # clients remembered at most (the longest quiet forgotten first)


class FailureLimit:
    """At most ``per_client`` failures per client and ``overall`` in all within ``window`` seconds; past either,
    :meth:`retry_after` says how long to wait. Thread-safe; memory bounded by ``max_clients``."""

    def __init__(self, per_client: int = PER_CLIENT, overall: int = OVERALL, window: float = WINDOW_SECONDS, *,
                 max_clients: int = MAX_CLIENTS, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_client, self.overall, self.window = per_client, overall, window
        self.max_clients = max_clients
        self.clock = clock
        self._lock = threading.Lock()
        self._all: deque[float] = deque(maxlen=overall)
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(self._all, self.overall, now)]
            mine = self._clients.get(client)
            if mine is not None:
                waits.append(self._wait(mine, self.per_client, now))
        return max(waits)

    def failed(self, client: str) -> int:
        """Count a failure of ``client``; how many it made in the window."""
        now = self.clock()
        with self._lock:
            self._all.append(now)
            mine = self._clients.pop(client, None) or deque(maxlen=self.per_client)
            mine.append(now)
            self._clients[client] = mine  # the most recent last
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
            return sum(1 for t in mine if now - t < self.window)

    def forget(self, client: str) -> None:
        """``client`` signed in: its failures no longer count against it (they still count in all)."""
        with self._lock:
            self._clients.pop(client, None)

    def _wait(self, times: deque[float], limit: int, now: float) -> float:
        recent = [t for t in times if now - t < self.window]
        return 0.0 if len(recent) < limit else max(0.0, self.window - (now - recent[-limit]))
