"""Group commit: concurrent saves written together, in one transaction under one table lock.

Every insert into the event store takes the table's EXCLUSIVE lock, so inserts are serialised
anyway; one transaction per save made each wait for the previous commit's round trips. Here the
first thread to arrive while no commit is in progress becomes the leader: it takes everything
queued so far and commits it as one batch; the others wait, and each gets its own answer (its
notification ids, or its own error). A thread that arrives while a batch is being committed is
in the next batch, led by the first of them to wake.

The batch writer (the store adapter) decides per item: an item whose read set changed, or
whose events conflict with the log or with an earlier item of the batch, fails alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Item:
    stored_events: Sequence[Any]
    read_set: Sequence[tuple[Any, int]]
    result: Sequence[int] | None = None
    error: BaseException | None = None
    done: bool = False
    kwargs: dict[str, Any] = field(default_factory=dict)


class GroupCommit:
    def __init__(self, write_batch: Callable[[list[Item]], None]) -> None:
        """write_batch sets each item's result or error; an exception it raises fails them all."""
        self._write_batch = write_batch
        self._cond = threading.Condition()
        self._queue: list[Item] = []
        self._busy = False
        self.batches = self.items = 0  # figures for benchmarks and tests

    def submit(self, item: Item) -> Sequence[int] | None:
        with self._cond:
            self._queue.append(item)
            while not item.done and self._busy:
                self._cond.wait()
            if item.done:
                return _answer(item)
            self._busy = True
            batch, self._queue = self._queue, []
        try:
            self._write_batch(batch)
        except BaseException as e:
            for other in batch:
                other.result = None
                if other.error is None:
                    other.error = e
        finally:
            with self._cond:
                for other in batch:
                    other.done = True
                self.batches += 1
                self.items += len(batch)
                self._busy = False
                self._cond.notify_all()
        return _answer(item)


def _answer(item: Item) -> Sequence[int] | None:
    if item.error is not None:
        raise item.error
    return item.result
