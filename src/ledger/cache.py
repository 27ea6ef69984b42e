"""Aggregates kept in memory between requests, invalidated by the log itself.

The cache follows the log: `refresh()` (at most every `interval` seconds, one thread at a time)
reads the ids of the aggregates changed after the last position it saw and evicts them. It is
an optimisation only, never trusted for a rule: a command passes the versions it validated
against (its read set) to the save, which refuses under the store's lock if any has a newer
event (see stores/postgres.py and stores/sqlite.py). A copy goes in and a copy comes out, so a command that
mutates what it loaded and then fails leaves the cached object as it was.

A load races the log: an aggregate read from the store just before a change whose eviction then
runs before the load puts it in the cache would stay stale. So a put says the position the cache
had seen when the load started, and is dropped if that aggregate changed since (or if the
changes since are too old to know).
"""

from __future__ import annotations

import copy as _copy
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

ChangedSince = Callable[[int, int], list[tuple[int, UUID]]]


class AggregateCache:
    POLL_LIMIT = 5000  # rows per poll query; more changes than a few polls' worth empty the cache
    REMEMBERED_CHANGES = 20000  # recent (position, id) pairs kept to judge racing loads

    def __init__(self, changed_since: ChangedSince, start: int, maxsize: int, interval: float) -> None:
        self._changed_since = changed_since
        self._maxsize = maxsize
        self._interval = interval
        self._entries: OrderedDict[UUID, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._poll_lock = threading.Lock()
        self._last_poll = float("-inf")
        self.seen = start
        self._recent: deque[tuple[int, UUID]] = deque()
        self._changed_at: dict[UUID, int] = {}
        self._remembered_from = start  # changes at or before this position are forgotten
        self.hits = self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._maxsize > 0

    def __len__(self) -> int:
        return len(self._entries)

    # --- following the log ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Evicts what changed in the log since the last poll, if the last poll is old enough."""
        if not self.enabled or time.monotonic() - self._last_poll < self._interval:
            return
        if not self._poll_lock.acquire(blocking=False):
            return  # another thread is polling right now: its answer is as fresh as ours would be
        try:
            self._last_poll = time.monotonic()
            for _ in range(4):
                rows = self._changed_since(self.seen, self.POLL_LIMIT)
                if not rows:
                    return
                self._forget_changed(rows)
                if len(rows) < self.POLL_LIMIT:
                    return
            # Far behind: start afresh rather than read the whole backlog.
            with self._lock:
                self._entries.clear()
                self._remembered_from = self.seen
        finally:
            self._poll_lock.release()

    def _forget_changed(self, rows: list[tuple[int, UUID]]) -> None:
        with self._lock:
            for position, aggregate_id in rows:
                self._entries.pop(aggregate_id, None)
                self._recent.append((position, aggregate_id))
                self._changed_at[aggregate_id] = position
            self.seen = max(self.seen, rows[-1][0])
            while len(self._recent) > self.REMEMBERED_CHANGES:
                position, aggregate_id = self._recent.popleft()
                if self._changed_at.get(aggregate_id) == position:
                    del self._changed_at[aggregate_id]
                self._remembered_from = position

    # --- entries -------------------------------------------------------------------------------
    def fresh(self) -> bool:
        """Whether the last poll of the log is recent enough that no refresh is due."""
        return self.enabled and time.monotonic() - self._last_poll < self._interval

    def get(self, aggregate_id: UUID, *, copy: bool = True) -> Any | None:
        """A private copy of the cached aggregate (or, for a caller that only reads it, the
        cached object itself), or None."""
        if not self.enabled:
            return None
        with self._lock:
            aggregate = self._entries.get(aggregate_id)
            if aggregate is None:
                self.misses += 1
                return None
            self._entries.move_to_end(aggregate_id)
            self.hits += 1
        return _copy.deepcopy(aggregate) if copy else aggregate

    def put(self, aggregate: Any, loaded_after: int) -> None:
        """Keeps a copy of an aggregate loaded from the store once the cache had seen position
        `loaded_after`, unless it changed since."""
        if not self.enabled:
            return
        kept = _copy.deepcopy(aggregate)
        with self._lock:
            if loaded_after < self._remembered_from or self._changed_at.get(aggregate.id, -1) > loaded_after:
                return
            self._entries[aggregate.id] = kept
            self._entries.move_to_end(aggregate.id)
            while len(self._entries) > self._maxsize:
                self._entries.popitem(last=False)

    def evict(self, aggregate_ids: Iterable[UUID]) -> None:
        with self._lock:
            for aggregate_id in aggregate_ids:
                self._entries.pop(aggregate_id, None)
