"""The one background loop of the follower, the read side and the chain keeper."""

from __future__ import annotations

import threading

from ledger.background import WorkerLoop


class Steps:
    """A step that fails while `failing` is set, and counts its calls."""

    def __init__(self, work: list[int] | None = None) -> None:
        self.calls = 0
        self.failing = False
        self.work = list(work or [])
        self.called = threading.Event()

    def __call__(self) -> int:
        self.calls += 1
        self.called.set()
        if self.failing:
            raise ConnectionError("the store does not answer")
        return self.work.pop(0) if self.work else 0


def test_a_failure_streak_is_reported_once_and_its_recovery_once():
    errors: list[Exception] = []
    recoveries: list[int] = []
    step = Steps()
    loop = WorkerLoop("test", step, interval=0.1, on_error=errors.append, on_recovered=recoveries.append)
    step.failing = True
    for _ in range(5):
        assert loop.run_once() == 0
    assert len(errors) == 1 and isinstance(errors[0], ConnectionError) and loop.failures == 5
    step.failing = False
    loop.run_once()
    assert recoveries == [5] and loop.failures == 0
    step.failing = True
    loop.run_once()
    assert len(errors) == 2  # a new streak is reported again


def test_the_pause_after_failures_doubles_up_to_the_longest_backoff_and_the_poll_returns_after_recovery():
    step = Steps()
    loop = WorkerLoop("test", step, interval=0.5, max_backoff=4.0)
    assert loop.next_wait() == 0.5
    step.failing = True
    pauses = []
    for _ in range(5):
        loop.run_once()
        pauses.append(loop.next_wait())
    assert pauses == [1.0, 2.0, 4.0, 4.0, 4.0]
    loop.interval = 5.0  # notifications arrive: the poll is only a safety net, the retries stay quick
    loop.run_once()
    assert loop.next_wait() == 4.0
    step.failing = False
    loop.run_once()
    assert loop.next_wait() == 5.0


def test_a_step_that_did_work_runs_again_until_it_finds_none():
    step = Steps(work=[3, 2, 1])
    loop = WorkerLoop("test", step, interval=3600)
    assert loop.run_until_idle() == 6 and step.calls == 4


def test_a_wake_up_ends_the_wait_of_a_loop_that_would_poll_only_hourly():
    step = Steps()
    loop = WorkerLoop("test", step, interval=3600)
    loop.start()
    try:
        assert step.called.wait(10)
        step.called.clear()
        loop.wake()
        assert step.called.wait(10), "the wake-up did not run a round"
    finally:
        loop.stop(timeout=10)
    assert loop.stopped


def test_a_wake_up_in_a_long_outage_retries_soon_instead_of_after_the_longest_pause():
    step = Steps()
    step.failing = True
    loop = WorkerLoop("test", step, interval=0.05, max_backoff=3600)
    loop.failures = 20  # far into an outage: the next pause is close to an hour
    loop.start()
    try:
        assert step.called.wait(10)
        step.called.clear()
        assert loop.next_wait() > 3000  # close to an hour
        step.failing = False  # the store is back; a command that succeeded wakes the loop
        loop.wake()
        assert step.called.wait(10), "the wake-up did not cut the pause short"
    finally:
        loop.stop(timeout=10)
    assert loop.failures == 0
