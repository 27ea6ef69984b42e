"""One background loop, shared by the read side, the chain keeper and the milestone follower.

A round runs one step; a step that did work runs again at once, one that found nothing waits for
a wake-up (a command in this process, a PostgreSQL notification) or the polling interval, the
safety net. While steps keep failing (a store outage) the pause doubles up to `max_backoff`; a
wake-up then (a command that succeeded: the store may be back) cuts the pause short, but never
below the first pause, so a stream of commands does not start a stream of failing rounds. The
first error of a streak and the recovery are each reported once, never every round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Step = Callable[[], int]  # how much work the round did; 0 when there was none


class WorkerLoop:
    def __init__(
        self,
        name: str,
        step: Step,
        *,
        interval: float,
        max_backoff: float = 30.0,
        on_error: Callable[[Exception], None] | None = None,
        on_recovered: Callable[[int], None] | None = None,
    ) -> None:
        self.name = name
        self.step = step
        self.interval = interval  # the idle poll; longer while notifications wake the loop
        self.retry_base = interval  # the first pause after a failure, whatever the poll
        self.max_backoff = max(max_backoff, interval)
        self.on_error = on_error or (lambda exc: None)
        self.on_recovered = on_recovered or (lambda failures: None)
        self.failures = 0  # rounds failed in a row
        self._streak = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one round ------------------------------------------------------------------------
    def run_once(self) -> int:
        """One step, its failure counted and reported instead of raised; returns its work."""
        try:
            done = self.step()
        except Exception as exc:  # the log is intact; the next round tries again
            with self._streak:
                self.failures += 1
                first = self.failures == 1
            if first:
                self.on_error(exc)
            return 0
        with self._streak:
            failures, self.failures = self.failures, 0
        if failures:
            self.on_recovered(failures)
        return done

    def run_until_idle(self) -> int:
        """Steps until one finds nothing (or fails); returns the work done."""
        total = 0
        while (done := self.run_once()) and not self._stop.is_set():
            total += done
        return total

    def next_wait(self) -> float:
        """The poll interval while healthy; doubling with each failed round, up to max_backoff."""
        if not self.failures:
            return self.interval
        return min(self.max_backoff, self.retry_base * 2 ** min(self.failures, 16))

    # --- running --------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def run_forever(self) -> None:
        """Rounds in the calling thread until stop()."""
        while not self._stop.is_set():
            if self.run_once():
                continue
            if self.failures:
                failed_at = time.monotonic()
                if self._wake.wait(self.next_wait()):
                    self._stop.wait(max(0.0, self.retry_base - (time.monotonic() - failed_at)))
            else:
                self._wake.wait(self.interval)
            self._wake.clear()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()
