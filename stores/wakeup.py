"""Wake-ups from PostgreSQL: the event store NOTIFYs a channel in every transaction that inserts
events (eventsourcing's PostgresApplicationRecorder); one dedicated connection LISTENs on it and
wakes this process's background loops, whichever process wrote.

While the connection listens the loops poll only as a safety net (`notified_interval`); when it
is lost they go back to their own interval, and it reconnects with pauses that double up to
`max_backoff`, its first failure and its recovery each logged once. On SQLite there is no
channel: the loops poll, and commands in the same process wake them directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
import structlog
from psycopg import sql

from ledger.background import WorkerLoop

log = structlog.get_logger("ledger.wakeup")

Connect = Callable[[], psycopg.Connection[Any]]


def channel_of(ledger: Any) -> str | None:
    """The channel the ledger's event store notifies, or None (SQLite)."""
    return getattr(ledger.recorder, "channel_name", None)


class Waker:
    def __init__(
        self,
        connect: Connect,
        channel: str,
        loops: Sequence[WorkerLoop],
        *,
        notified_interval: float = 5.0,
        retry_base: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self.connect = connect
        self.channel = channel
        self.loops = list(loops)
        self.notified_interval = notified_interval
        self.retry_base = retry_base
        self.max_backoff = max_backoff
        self.notifications = 0  # received since start, for status and tests
        self._own_intervals = {id(loop): loop.interval for loop in self.loops}
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wakeup", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
        self._listen(False)

    def _wake_all(self) -> None:
        for loop in self.loops:
            loop.wake()

    def _listen(self, on: bool) -> None:
        for loop in self.loops:
            own = self._own_intervals[id(loop)]
            loop.interval = max(own, self.notified_interval) if on else own
        if on:
            self.listening.set()
        else:
            self.listening.clear()

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with self.connect() as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
                    self._listen(True)
                    self._wake_all()  # whatever was written while no one listened
                    log.info("wakeup_listening", channel=self.channel, loops=[loop.name for loop in self.loops], failed_attempts=failures)
                    failures = 0
                    while not self._stop.is_set():
                        # A bounded wait, so stop() is noticed; a lost server raises here.
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.notifications += 1
                            self._wake_all()
            except Exception as exc:  # the loops poll meanwhile; reconnect after a pause
                self._listen(False)
                failures += 1
                if failures == 1:
                    log.warning("wakeup_not_listening", channel=self.channel, error=type(exc).__name__, message=str(exc)[:300])
                    # A loop waiting out the long notified interval polls now, and at its own
                    # interval from then on: a lost listener often means a lost store.
                    self._wake_all()
                self._stop.wait(min(self.max_backoff, self.retry_base * 2 ** min(failures, 16)))


def connector(database_url: str, connect_timeout: float = 2.0) -> Connect:
    """New autocommit connections (LISTEN takes effect at once), with TCP keepalives so a
    vanished server is noticed even when no notification comes."""
    conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(
            conninfo,
            autocommit=True,
            connect_timeout=max(1, round(connect_timeout)),
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )

    return connect


def waker_for(ledger: Any, database_url: str, loops: Sequence[WorkerLoop], *, notified_interval: float, connect_timeout: float = 2.0) -> Waker | None:
    """A waker for these loops on the ledger's PostgreSQL store; None on SQLite."""
    channel = channel_of(ledger)
    if channel is None or not loops or not database_url.startswith(("postgresql", "postgres")):
        return None
    url = database_url if not database_url.startswith("postgres://") else "postgresql://" + database_url[len("postgres://") :]
    return Waker(connector(url, connect_timeout), channel, loops, notified_interval=notified_interval)
