"""Wake-ups from PostgreSQL: a write by any process wakes the background loops at once, and a
lost listening connection is opened again (on SQLite the loops poll; commands wake them in-process)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from ledger.background import WorkerLoop
from ledger.bootstrap import build_ledger
from ledger.settings import Settings
from stores.wakeup import Waker, channel_of, connector, waker_for
from tests.conftest import STORES

on_postgres = pytest.mark.skipif("postgres" not in STORES, reason="notifications are PostgreSQL's; LEDGER_TEST_STORES excludes it")

WITHIN = 15.0  # seconds: a bound on a loaded machine, not a measured speed


class Rounds:
    """A step that remembers the head of the log it saw at each round."""

    def __init__(self, ledger) -> None:  # type: ignore[no-untyped-def]
        self.ledger = ledger
        self.seen: list[int] = []
        self.ran = threading.Event()

    def __call__(self) -> int:
        self.seen.append(self.ledger.head())
        self.ran.set()
        return 0


def _write(url: str) -> int:
    """An event written by another ledger, as another process would: its own connections."""
    other = build_ledger(Settings(environment="test", database_url=url, id_hash_key="test-id-hash-key"))
    try:
        other.issue_token("auditor", "audit-bureau", "auditor-wu")
        return other.head()
    finally:
        other.close()


def _listener_pids(url: str, channel: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = %s AND pid <> pg_backend_pid()", [f'LISTEN "{channel}"']).fetchall()
    return [r[0] for r in rows]


@pytest.fixture
def pg_ledger(postgres_url):
    ledger = build_ledger(Settings(environment="test", database_url=postgres_url, id_hash_key="test-id-hash-key"))
    try:
        yield ledger
    finally:
        ledger.close()


@on_postgres
def test_a_write_by_another_process_wakes_a_loop_that_would_otherwise_poll_hourly(pg_ledger, postgres_url):
    rounds = Rounds(pg_ledger)
    loop = WorkerLoop("test", rounds, interval=3600)
    waker = waker_for(pg_ledger, postgres_url, [loop], notified_interval=3600)
    assert isinstance(waker, Waker)
    loop.start()
    waker.start()
    try:
        assert waker.listening.wait(WITHIN)
        assert rounds.ran.wait(WITHIN)
        rounds.ran.clear()
        head = _write(postgres_url)
        assert rounds.ran.wait(WITHIN), "no round after the write"
        while rounds.seen[-1] < head:  # a wake-up may come from the listen itself; the write's follows
            rounds.ran.clear()
            assert rounds.ran.wait(WITHIN), f"no round saw the write at {head}: {rounds.seen}"
        assert waker.notifications >= 1
    finally:
        waker.stop()
        loop.stop(timeout=10)


@on_postgres
def test_a_lost_listening_connection_is_opened_again_and_wakes_the_loops_after_it(pg_ledger, postgres_url):
    rounds = Rounds(pg_ledger)
    loop = WorkerLoop("test", rounds, interval=3600)
    channel = channel_of(pg_ledger)
    assert channel is not None
    waker = Waker(connector(postgres_url), channel, [loop], notified_interval=3600, retry_base=0.1, max_backoff=1.0)
    loop.start()
    waker.start()
    try:
        assert waker.listening.wait(WITHIN)
        pids = _listener_pids(postgres_url, channel)
        assert len(pids) == 1, pids
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pids[0]])
        # It notices the loss, listens again on a new connection, and a write wakes the loop.
        deadline = time.monotonic() + WITHIN
        while not (waker.listening.is_set() and _listener_pids(postgres_url, channel) not in ([], pids)):
            assert time.monotonic() < deadline, "the waker did not listen again"
            time.sleep(0.05)
        head = _write(postgres_url)
        while not rounds.seen or rounds.seen[-1] < head:
            rounds.ran.clear()
            assert rounds.ran.wait(WITHIN), f"no round saw the write at {head} after the reconnect: {rounds.seen}"
    finally:
        waker.stop()
        loop.stop(timeout=10)


def test_on_sqlite_there_is_no_channel_and_no_waker(tmp_path):
    ledger = build_ledger(Settings(environment="test", database_url=f"sqlite:///{tmp_path}/l.db", id_hash_key="k"))
    try:
        assert channel_of(ledger) is None
        assert waker_for(ledger, f"sqlite:///{tmp_path}/l.db", [WorkerLoop("test", lambda: 0, interval=1)], notified_interval=5) is None
    finally:
        ledger.close()
