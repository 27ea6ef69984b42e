"""Projection catch-up, the milestone follower and full rebuilds, timed in-process over a stored
history, beside a plain sequential read of the same log (select_notifications pages of 1,000,
raw and decoded into domain events). Rates are events of the log per second: catch-up moves
every projection together over each event; a rebuild rate is for one projection at a time."""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.common import PostgresBackends, Store


def plain_read(ledger: Any, decode: bool) -> float:
    """Events per second of reading the whole log in pages of 1,000 (and decoding each event)."""
    t0, last, n = time.perf_counter(), None, 0
    while page := ledger.recorder.select_notifications(start=last, limit=1000, inclusive_of_start=last is None):
        if decode:
            for notification in page:
                ledger.mapper.to_domain_event(notification)
        n += len(page)
        last = page[-1].id
    return n / (time.perf_counter() - t0)


class _Progress:
    """A line on stderr every 10 s, so a long catch-up shows it is alive."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.last = what, total, time.perf_counter()

    def __call__(self, *args: Any) -> None:
        done = args[1] if len(args) == 3 else args[0]  # the rebuilder passes (name, done, head)
        if time.perf_counter() - self.last > 10:
            print(f"  … {self.what}: {done:,} of {self.total:,}", file=sys.stderr, flush=True)
            self.last = time.perf_counter()


def _timed(work: Any, backends: PostgresBackends) -> tuple[float, float, float | None]:
    """(seconds, this process's CPU seconds, the database backends' CPU seconds)."""
    backends.start()
    cpu0, t0 = time.process_time(), time.perf_counter()
    work()
    return time.perf_counter() - t0, time.process_time() - cpu0, backends.seconds() if backends.db_name else None


def _in_workers(store: Store, groups: list[list[str]], head: int, read_side: Any, progress: _Progress, backends: PostgresBackends) -> tuple[float, float | None]:
    """Catch-up by `ledger projections run NAME… --no-chain` processes, one per group, as in the
    documented deployment; returns their CPU seconds (each process's, summed) and their database
    backends' (read before the workers stop, which ends those backends)."""
    from bench.common import SEPARATE_ENV, Worker

    env = store.env(**SEPARATE_ENV)
    workers = [Worker(f"projections {','.join(g)}", ["projections", "run", *g, "--no-chain"], env) for g in groups]
    try:
        while True:
            positions = read_side.runner.positions()
            progress(sum(positions.values()))
            if min(positions.values()) >= head:
                return sum(w.cpu() for w in workers), backends.seconds() if backends.db_name else None
            dead = [w.name for w in workers if w.proc.poll() is not None]
            if dead:
                raise RuntimeError(f"worker exited: {dead}")
            time.sleep(0.2)
    finally:
        for w in workers:
            w.stop()


def run(store: Store, *, rebuild: list[str] | None = None, worker_groups: list[list[str]] | None = None) -> dict[str, Any]:
    """Catches the read models and the follower up with the stored log (in this process, or in
    one worker process per group of `worker_groups`), then rebuilds the named projections (all
    when None), each from the first event."""
    from ledger.bootstrap import build_ledger, build_milestones
    from ledger.collector import tune_collector
    from projections.chain.audit import TamperEvidence
    from projections.readside import ReadSide
    from projections.runner import NAMES, Rebuilder
    from projections.store import make_engine

    settings = store.settings()
    ledger = build_ledger(settings)
    engine = make_engine(settings.sqlalchemy_url(), settings.timeouts())
    if settings.tune_collector:
        tune_collector()  # as `ledger projections run` and `ledger follow` do
    backends = PostgresBackends(store.db_name)
    try:
        head = ledger.head()
        read_side = ReadSide(ledger, engine)
        read_side.prepare()
        raw = plain_read(ledger, decode=False)
        decoded = plain_read(ledger, decode=True)
        # The follower first, as in the service: the milestones it records are events the read
        # models then take with the rest.
        milestones = build_milestones(ledger)
        follow_behind = head - milestones.position()
        f_seconds, f_cpu, _ = _timed(milestones.run_until_idle, backends)
        head = ledger.head()
        behind = head - min(read_side.runner.positions().values(), default=0)
        n_projections = len(read_side.runner.projections)
        progress = _Progress(f"catch-up ({n_projections} projections, events applied)", behind * n_projections)
        if worker_groups:
            backends.start()
            t0 = time.perf_counter()
            cpu, pg = _in_workers(store, worker_groups, head, read_side, progress, backends)
            seconds = time.perf_counter() - t0
        else:
            seconds, cpu, pg = _timed(lambda: read_side.runner.run_until_idle(progress), backends)
        # The hash chain catches up too, so a server started next does not spend its first minute on it.
        chain = TamperEvidence(ledger, engine, settings.signing_key_file())
        chain.prepare()
        chain_behind = head - chain.keeper.head().position
        c_seconds, _, _ = _timed(chain.keeper.catch_up, backends)
        rebuilt: dict[str, float] = {}
        for name in rebuild if rebuild is not None else list(NAMES):
            r_seconds, _, _ = _timed(lambda n=name: Rebuilder(ledger, engine).rebuild(n, _Progress(f"rebuild {n}", head)), backends)
            rebuilt[name] = head / r_seconds
        return {
            "events": head,
            "plain_read_events_per_s": raw,
            "plain_read_decoded_events_per_s": decoded,
            "catch_up_events": behind,
            "catch_up_seconds": seconds,
            "catch_up_events_per_s": behind / seconds if seconds and behind else None,  # None: nothing was behind (a kept store)
            "catch_up_cpu_ms_per_event": 1000 * cpu / behind if behind else None,
            "catch_up_postgres_cpu_ms_per_event": 1000 * pg / behind if behind and pg is not None else None,
            "follower_events": follow_behind,
            "follower_seconds": f_seconds,
            "follower_events_per_s": follow_behind / f_seconds if f_seconds and follow_behind else None,
            "follower_cpu_ms_per_event": 1000 * f_cpu / follow_behind if follow_behind else None,
            "chain_events_per_s": chain_behind / c_seconds if c_seconds and chain_behind > 0 else None,
            "rebuild_events_per_s": rebuilt,
            "projections": list(NAMES),
            "catch_up_worker_groups": worker_groups,
        }
    finally:
        engine.dispose()
        ledger.close()
