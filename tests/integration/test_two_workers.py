"""Two `ledger projections run` workers over the same log, one SIGKILLed mid-run while the log
grows: the survivor carries every projection to the head and the read models equal a clean
rebuild, every event applied once (the probe of issue 6; the one-worker kills and in-process
races are in test_projection_crashes)."""

from __future__ import annotations

import random

from projections.runner import NAMES
from projections.store import make_engine, migrate
from tests.integration.test_projection_crashes import (
    Stream,
    Worker,
    assert_equal_to_rebuild,
    assert_figures,
    positions,
    wait_until,
)


def test_two_workers_with_one_killed_mid_run_leave_read_models_equal_to_a_clean_rebuild(settings, ledger, store_url, tmp_path):
    engine = make_engine(settings.sqlalchemy_url())
    try:
        migrate(engine)
        stream = Stream.start(ledger, contractors=2, cases_each=6, seed=5)
        stream.add(150)
        head = ledger.head()
        workers = [Worker(store_url, settings.id_hash_key, tmp_path / f"worker-{n}.log") for n in range(2)]
        victim, survivor = workers
        try:
            # Kill one while both are inside the stream: some projections moved, none at the head.
            wait_until(lambda: max(positions(engine).values()) > 0, victim, 120, "the workers to start projecting")
            wait_until(lambda: sum(positions(engine).values()) >= len(NAMES) * head // 4, victim, 120, "a quarter of the work")
            at_kill = positions(engine)
            victim.kill()
            assert min(at_kill.values()) < head, f"the kill came after the work was done: {at_kill} of {head}"

            stream.add(random.Random(9).randint(50, 100))  # the log grows after the kill
            head = ledger.head()
            wait_until(lambda: positions(engine) == {n: head for n in NAMES}, survivor, 300, "the survivor to reach the head", interval=0.05)
        finally:
            for worker in workers:
                if worker.proc.poll() is None:
                    worker.terminate()
        assert_equal_to_rebuild(ledger, engine)
        assert_figures(ledger, engine, stream)
        print(f"killed one of two workers at {at_kill} of {head} events; the survivor reached the head")
    finally:
        engine.dispose()
