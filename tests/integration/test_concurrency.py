"""Concurrent writers on PostgreSQL: the store's version check lets exactly one of them win.

These tests make their own database with the `postgres_url` fixture, whatever stores
LEDGER_TEST_STORES names, because only a server store has truly concurrent writers.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from ledger.application import Ledger
from ledger.bootstrap import build_ledger
from ledger.domain.errors import ConcurrentModification, TrancheAlreadyReleased
from ledger.domain.records import VolumeTally
from ledger.processes import MilestoneProcess
from ledger.settings import Settings
from tests.integration.helpers import FINANCE, T_MID_TERM, VOLUME, World

pytestmark = pytest.mark.postgres_only

THREADS = 8


@pytest.fixture
def ledgers(postgres_url) -> Iterator[Callable[[], Ledger]]:
    """Builds Ledger instances on one fresh PostgreSQL database; closes them all afterwards.

    The first is built as the service builds it. The others, one per racing writer, keep a
    small connection pool: the settings open 10 connections per ledger up front, and nine of
    those would take most of a default server's 100 connections."""
    built: list[Ledger] = []
    settings = Settings(environment="test", database_url=postgres_url, id_hash_key="k")

    def build() -> Ledger:
        if not built:
            app = build_ledger(settings)
        else:
            env = {**settings.eventstore_env(), "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "2"}
            app = Ledger(env, policy=settings.policy(), id_hash_key=settings.id_hash_key.encode())
        built.append(app)
        return app

    yield build
    for app in built:
        app.close()


def race(n: int, action: Callable[[int], object]) -> list[object]:
    """Runs action(i) in n threads started together; returns each result or the error raised."""
    barrier = threading.Barrier(n)
    outcomes: list[object] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = action(i)
        except Exception as e:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def kinds(outcomes: list[object]) -> Counter:
    return Counter("released" if not isinstance(o, Exception) else type(o).__name__ for o in outcomes)


def assert_released_once(world: World, outcomes: list[object]) -> None:
    counted = kinds(outcomes)
    assert counted["released"] == 1, counted
    assert set(counted) <= {"released", "TrancheAlreadyReleased", "ConcurrentModification"}, counted
    fund = world.fund()
    assert fund["disbursed"] == Decimal("1000.00")
    disbursed = [e for e in world.ledger.history(FINANCE, "fund", world.fund_id) if e["type"] == "Disbursed"]
    assert len(disbursed) == 1
    releases = [e for e in world.ledger.history(FINANCE, "contract", world.contract_id) if e["type"] == "TrancheReleased"]
    assert len(releases) == 1


def test_a_tranche_released_by_eight_ledgers_at_once_is_paid_exactly_once(ledgers):
    world = World.build(ledgers())
    world.evaluation("mid_term", 85)
    apps = [ledgers() for _ in range(THREADS)]
    outcomes = race(THREADS, lambda i: apps[i].release_tranche(FINANCE, world.contract_id, T_MID_TERM))
    assert_released_once(world, outcomes)
    for o in outcomes:
        if isinstance(o, Exception):
            assert isinstance(o, (TrancheAlreadyReleased, ConcurrentModification))


def test_a_tranche_released_by_eight_threads_of_one_ledger_is_paid_exactly_once(ledgers):
    app = ledgers()
    world = World.build(app)
    world.evaluation("mid_term", 85)
    outcomes = race(THREADS, lambda i: app.release_tranche(FINANCE, world.contract_id, T_MID_TERM))
    assert_released_once(world, outcomes)


def test_milestone_processes_racing_on_the_same_log_count_each_visit_once(ledgers):
    world = World.build(ledgers())
    case_id = world.case()
    for _ in range(5):
        world.visit(case_id)
    processes = [MilestoneProcess(ledgers()) for _ in range(4)]
    outcomes = race(len(processes), lambda i: processes[i].run_until_idle())
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert sum(outcomes) == 5  # the visits were taken from the log once between them
    for process in processes:  # whoever lost a race catches up, and finds nothing left to count
        process.run_until_idle()
    tally = world.ledger.repository.get(VolumeTally.create_id(contract_id=world.contract_id))
    assert tally.counts == {"visiting": 5}
    assert world.milestone(VOLUME)["status"] == "fulfilled"
    fulfilled = [e for e in world.ledger.history(FINANCE, "contract", world.contract_id) if e["type"] == "MilestoneFulfilled" and e["data"]["milestone_id"] == VOLUME]
    assert len(fulfilled) == 1
