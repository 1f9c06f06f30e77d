"""Fair use of the query workers: which general queries may start, per web worker.

Bounded lookups never come here (they are evaluated in the web worker, kg.sparql.lookup); every other query takes
a query worker for up to the time limit, so the workers are shared out by client (the remote address):

- a client may have at most `per_client` queries running; one more is refused at once with 429 and Retry-After;
- one worker is reserved for clients with nothing else running: a client that already has a query running may
  start another only while two or more workers are free, so one heavy client can never take the last worker
  from everyone else (a cheap query from anyone else still starts at once);
- a query that finds no worker it may use waits up to `queue_timeout` seconds (while no more than `slots` others
  wait), then is refused with 503 "busy"
  (never "time limit": it did not run, and no worker is killed for it). Time spent waiting is not charged to
  the query's time limit, which starts when a worker receives it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ServiceBusy, TooManyRequests


class Admission:
    """Admission to `slots` query workers (thread-safe); see the module docstring."""

    def __init__(self, slots: int, per_client: int, queue_timeout: float, retry_after: float) -> None:
        self.slots = max(1, slots)
        self.per_client = max(1, per_client)
        self.queue_timeout = queue_timeout
        self.retry_after = max(1, math.ceil(retry_after))
        self._cond = threading.Condition()
        self._running: dict[str, int] = {}
        self._total = 0
        self._waiting = 0
        self.refused = {"client_limit": 0, "busy": 0}

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {"slots": self.slots, "running": self._total, "waiting": self._waiting, "clients": len(self._running)}

    def _may_start(self, client: str) -> bool:
        free = self.slots - self._total
        return free >= 1 if self._running.get(client, 0) == 0 else free >= 2

    @contextmanager
    def enter(self, client: str) -> Iterator[None]:
        """Hold a worker slot for client while the block runs; raises TooManyRequests or ServiceBusy."""
        with self._cond:
            running = self._running.get(client, 0)
            if running >= self.per_client:
                self.refused["client_limit"] += 1
                raise TooManyRequests(
                    f"this client ({client}) already has {running} queries running; the limit is {self.per_client} at a time",
                    self.retry_after,
                )
            if not self._may_start(client) and self._waiting >= self.slots:
                self.refused["busy"] += 1  # as many queries wait as there are workers: this one would only wait longer
                raise ServiceBusy(
                    f"busy: all {self.slots} query workers are in use and {self._waiting} queries are waiting; try again shortly",
                    self.retry_after,
                )
            deadline = time.monotonic() + self.queue_timeout
            self._waiting += 1
            try:
                while not self._may_start(client):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self.refused["busy"] += 1
                        raise ServiceBusy(
                            f"busy: all {self.slots} query workers are in use; the query waited {self.queue_timeout:g} s "
                            "and never ran; try again shortly",
                            self.retry_after,
                        )
                    self._cond.wait(remaining)
            finally:
                self._waiting -= 1
            self._running[client] = self._running.get(client, 0) + 1
            self._total += 1
        try:
            yield
        finally:
            with self._cond:
                self._total -= 1
                left = self._running[client] - 1
                if left:
                    self._running[client] = left
                else:
                    del self._running[client]
                self._cond.notify_all()
