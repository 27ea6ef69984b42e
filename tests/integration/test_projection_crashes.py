"""Crash safety of the read side: `ledger projections run` workers killed mid-stream, and runners
racing over the same log, leave read models equal to a clean rebuild from the first event, with
every event applied exactly once."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from ledger.application import Ledger
from ledger.domain.errors import LedgerError
from ledger.processes import MilestoneProcess
from projections.runner import NAMES, ProjectionRunner, Rebuilder
from projections.store import make_engine, migrate
from projections.tables import LIVE
from tests.integration.helpers import (
    EVALUATOR,
    FINANCE,
    PANEL,
    PURCHASER,
    T_VOLUME,
    World,
    recent,
    register_contractor,
    scores,
    sign_contract,
)

LEDGER_SCRIPT = Path(sys.executable).with_name("ledger")
LIVE_TABLES = {f.name: getattr(LIVE, f.name) for f in dataclasses.fields(LIVE) if f.name != "positions"}


# --- the stream ------------------------------------------------------------------------------
@dataclass
class PostedVisit:
    visit_id: str
    contractor: Any
    counts: bool = True
    voided: bool = False
    confirmation: str | None = None
    spot_checked: bool = False


@dataclass
class Stream:
    """Appends a varied stream through the application and remembers what it posted."""

    ledger: Ledger
    rng: random.Random
    worlds: list[World] = field(default_factory=list)
    cases: list[tuple[World, str, str]] = field(default_factory=list)  # world, case id, worker id
    visits: list[PostedVisit] = field(default_factory=list)
    confirmed: int = 0
    disputed: int = 0
    voided: int = 0
    failed_checks: int = 0

    @classmethod
    def start(cls, ledger: Ledger, *, contractors: int = 3, cases_each: int = 12, seed: int = 7) -> Stream:
        stream = cls(ledger, random.Random(seed))
        first = World.build(ledger, workers=3, fund_amount="200000.00")
        stream.worlds.append(first)
        for n in range(1, contractors):
            org = register_contractor(ledger, workers=3, name=f"Centre {n}")
            contract_id = sign_contract(ledger, org.contractor_id, first.fund_id)["contract_id"]
            stream.worlds.append(World(ledger=ledger, fund_id=first.fund_id, org=org, contract_id=contract_id))
        for world in stream.worlds:
            for i in range(cases_each):
                category = ("dibao", "extreme_poverty", "marginal")[i % 3]
                beneficiary_id = world.beneficiary(self_care_level=("self_reliant", "partly_lost")[i % 2], category=category)
                case_id = world.case(beneficiary_id, services=["visiting", "meals"])
                stream.cases.append((world, case_id, world.org.workers[i % len(world.org.workers)]))
            # A worker leaves, a beneficiary's category changes: events of more kinds.
            ledger.remove_worker(world.contractor, world.org.contractor_id, world.org.workers[-1], "left the organisation")
            stream.cases = [(w, c, wk if wk != world.org.workers[-1] else world.org.workers[0]) for w, c, wk in stream.cases]
        ledger.change_category(PURCHASER, first.beneficiary(category="dibao"), "extreme_poverty", "raise", "lost income")
        # An evaluation with its whole life.
        evaluation_id = ledger.open_evaluation(PURCHASER, contract_id=first.contract_id, stage="mid_term", panel=PANEL).ids["evaluation_id"]
        ledger.score_evaluation(EVALUATOR, evaluation_id, scores(85))
        ledger.conclude_evaluation(EVALUATOR, evaluation_id, report="report")
        return stream

    def add(self, visits: int) -> None:
        """Posts visits and, now and then, confirms, disputes, voids and spot-checks earlier ones;
        then lets the milestone process follow, and releases the volume tranches it fulfilled."""
        for _ in range(visits):
            world, case_id, worker_id = self.rng.choice(self.cases)
            hours = self.rng.randint(2, 24 * 60)
            visit_id = world.visit(case_id, service_code=self.rng.choice(["visiting", "meals"]), worker_id=worker_id, when=recent(hours))
            self.visits.append(PostedVisit(visit_id, world.contractor))
            roll = self.rng.random()
            if roll < 0.25:
                self._change(self.rng.choice(self.visits))
        MilestoneProcess(self.ledger).run_until_idle()
        for world in self.worlds:
            try:
                world.release(T_VOLUME, FINANCE)
            except LedgerError:
                pass  # not fulfilled yet, or already released

    def _change(self, v: PostedVisit) -> None:
        kind = self.rng.choice(["confirm", "confirm", "dispute", "void", "spot_check", "spot_check"])
        if kind == "confirm" and not v.voided and v.confirmation is None:
            self.ledger.confirm_visit(PURCHASER, v.visit_id, "follow_up_call")
            v.confirmation = "confirmed"
            self.confirmed += 1
        elif kind == "dispute" and not v.voided and v.confirmation != "disputed":
            self.ledger.dispute_visit(PURCHASER, v.visit_id, "nobody came", "follow_up_call")
            if v.confirmation == "confirmed":
                self.confirmed -= 1
            v.confirmation = "disputed"
            v.counts = False
            self.disputed += 1
        elif kind == "void" and not v.voided:
            self.ledger.void_visit(v.contractor, v.visit_id, "posted by mistake")
            v.voided = True
            v.counts = False
            self.voided += 1
        elif kind == "spot_check" and not v.spot_checked:
            result = self.rng.choice(["verified", "verified", "not_found", "falsified"])
            self.ledger.spot_check_visit(PURCHASER, v.visit_id, result, "unannounced visit")
            v.spot_checked = True
            if result != "verified":
                v.counts = False
                self.failed_checks += 1

    @property
    def delivered(self) -> int:
        return sum(v.counts for v in self.visits)


# --- reading the read side -------------------------------------------------------------------
def positions(engine: Engine) -> dict[str, int]:
    p = LIVE.positions
    with engine.connect() as conn:
        rows = dict(conn.execute(select(p.c.name, p.c.position)).all())
    return {name: int(rows.get(name, 0)) for name in NAMES}


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with engine.connect() as conn:
        for name, table in LIVE_TABLES.items():
            out[name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
    return out


def notification_ids(ledger: Ledger) -> list[int]:
    ids: list[int] = []
    start = 0
    while page := ledger.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False):
        ids += [n.id for n in page]
        start = page[-1].id
    return ids


def audit_positions(engine: Engine) -> list[int]:
    a = LIVE.audit_events
    with engine.connect() as conn:
        return list(conn.execute(select(a.c.position).order_by(a.c.position)).scalars())


def assert_equal_to_rebuild(ledger: Ledger, engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    live = dump(engine)
    for name in NAMES:
        Rebuilder(ledger, engine).rebuild(name)
    rebuilt = dump(engine)
    for name in LIVE_TABLES:
        assert len(live[name]) == len(rebuilt[name]), f"{name}: {len(live[name])} live rows, {len(rebuilt[name])} rebuilt"
        differing = [(a, b) for a, b in zip(live[name], rebuilt[name]) if a != b]
        assert not differing, f"{name}: {len(differing)} rows differ from a clean rebuild, e.g. live {differing[0][0]} != rebuilt {differing[0][1]}"
    head = ledger.head()
    assert positions(engine) == {name: head for name in NAMES}
    return live


def assert_figures(ledger: Ledger, engine: Engine, stream: Stream) -> None:
    ids = notification_ids(ledger)
    assert audit_positions(engine) == ids  # every event once, none skipped
    lines, visits, breakdown = LIVE.lines, LIVE.visits, LIVE.fund_breakdown
    with engine.connect() as conn:
        posted, delivered, confirmed, disputed, voided, failed = conn.execute(
            select(
                func.sum(lines.c.posted),
                func.sum(lines.c.delivered),
                func.sum(lines.c.confirmed),
                func.sum(lines.c.disputed),
                func.sum(lines.c.voided),
                func.sum(lines.c.failed_checks),
            )
        ).one()
        caseload_visits = conn.execute(select(func.count()).select_from(visits)).scalar_one()
        caseload_counting = conn.execute(select(func.count()).select_from(visits).where(visits.c.counts.is_(True))).scalar_one()
        fund_visits = conn.execute(select(func.sum(breakdown.c.visits)).where(breakdown.c.dimension == "township")).scalar_one()
    assert posted == len(stream.visits) == caseload_visits
    assert delivered == stream.delivered == caseload_counting == fund_visits
    assert (confirmed, disputed, voided, failed) == (stream.confirmed, stream.disputed, stream.voided, stream.failed_checks)


# --- the worker process ----------------------------------------------------------------------
class Worker:
    def __init__(self, store_url: str, id_hash_key: str, log: Path) -> None:
        env = {
            **os.environ,
            "LEDGER_DATABASE_URL": store_url,
            "LEDGER_ID_HASH_KEY": id_hash_key,
            "LEDGER_ENVIRONMENT": "test",
            "LEDGER_PROJECTIONS_INTERVAL_SECONDS": "0.05",
        }
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen([str(LEDGER_SCRIPT), "projections", "run"], env=env, cwd=log.parent, stdout=self._out, stderr=subprocess.STDOUT)

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"the worker exited with {self.proc.returncode}:\n{self.log.read_text()[-4000:]}")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._out.close()

    def terminate(self) -> int:
        os.kill(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self._out.close()
        return code


def wait_until(condition, worker: Worker | None, timeout: float, what: str, interval: float = 0.002) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if worker is not None:
            worker.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def assert_atomic_prefix(ledger: Ledger, engine: Engine, at: dict[str, int]) -> None:
    """After a crash the audit trail holds exactly the events up to its position."""
    expected = [i for i in notification_ids(ledger) if i <= at["audit"]]
    assert audit_positions(engine) == expected


# --- the tests -------------------------------------------------------------------------------
def test_killed_workers_leave_read_models_equal_to_a_clean_rebuild(settings, ledger, store_url, tmp_path):
    engine = make_engine(settings.sqlalchemy_url())
    try:
        migrate(engine)
        stream = Stream.start(ledger)
        stream.add(1500)
        assert ledger.head() > 1700
        rng = random.Random(11)

        kills = []
        for round_no in range(6):
            before, head = positions(engine), ledger.head()
            worker = Worker(store_url, settings.id_hash_key, tmp_path / f"worker-{round_no}.log")
            try:
                # Let it commit one to three batches past where the last one died, then kill it
                # a moment later: inside the next batch's transaction, or between two.
                commits, seen = rng.randint(1, 3), [before]

                def advanced() -> bool:
                    now = positions(engine)
                    if now != seen[-1]:
                        seen.append(now)
                    return len(seen) > commits or (len(seen) > 1 and min(now.values()) >= head)

                wait_until(advanced, worker, 120, f"worker {round_no} to advance")
                linger = time.monotonic() + rng.uniform(0, 0.3)
                while time.monotonic() < linger and min(positions(engine).values()) < head:
                    time.sleep(0.002)
            finally:
                worker.kill()
            after = positions(engine)
            kills.append((before, after, head))
            assert all(after[n] >= before[n] for n in NAMES)
            assert_atomic_prefix(ledger, engine, after)
            stream.add(rng.randint(120, 300))  # the next worker has work, old and new

        mid_stream = [k for k in kills if any(0 < k[1][n] < k[2] for n in NAMES)]
        assert len(mid_stream) >= 3, f"too few kills landed mid-stream: {kills}"
        print("kills (before, after, head):", *kills, sep="\n  ")

        worker = Worker(store_url, settings.id_hash_key, tmp_path / "worker-final.log")
        head = ledger.head()
        try:
            wait_until(lambda: positions(engine) == {n: head for n in NAMES}, worker, 300, "the final worker to reach the head", interval=0.05)
        finally:
            code = worker.terminate()
        assert code == 0, worker.log.read_text()[-4000:]

        assert_equal_to_rebuild(ledger, engine)
        assert_figures(ledger, engine, stream)
    finally:
        engine.dispose()


def test_racing_runners_apply_every_event_exactly_once(settings, ledger):
    engines = [make_engine(settings.sqlalchemy_url()) for _ in range(2)]
    try:
        migrate(engines[0])
        stream = Stream.start(ledger, contractors=2, cases_each=6, seed=3)
        stream.add(500)

        applied: Counter[tuple[str, int]] = Counter()
        by_runner: Counter[int] = Counter()
        record_lock = threading.Lock()
        runners = [ProjectionRunner(ledger, engine, batch_size=size) for engine, size in zip(engines, (37, 53))]
        for runner in runners:
            runner.ensure_positions()
            for projection in runner.projections:
                # A batch's events reach a projection in one call (runs of one type set-based).
                def spy(conn, events, _apply=projection.apply, _name=projection.name, _runner=id(runner)):  # type: ignore[no-untyped-def]
                    _apply(conn, events)
                    with record_lock:
                        for _, position in events:
                            applied[(_name, position)] += 1
                            by_runner[_runner] += 1

                projection.apply = spy  # type: ignore[method-assign]

        errors: list[BaseException] = []
        barrier = threading.Barrier(3)
        writing = threading.Event()
        writing.set()

        def run(runner: ProjectionRunner) -> None:
            try:
                barrier.wait()
                while runner.run_until_idle() or writing.is_set():
                    time.sleep(0.002)
            except BaseException as e:  # noqa: BLE001 - handed to the test
                errors.append(e)

        threads = [threading.Thread(target=run, args=(r,)) for r in runners]
        for t in threads:
            t.start()
        try:
            barrier.wait()
            stream.add(150)  # the log grows while they race
        finally:
            writing.clear()
            for t in threads:
                t.join(timeout=300)
        assert not any(t.is_alive() for t in threads)
        assert not errors, errors

        # Both runners stopped on an empty read; catch up any tail written at the very end.
        runners[0].run_until_idle()
        ids = notification_ids(ledger)
        assert all(by_runner[id(r)] > 0 for r in runners), "both runners should have won some batches"
        duplicates = {k: n for k, n in applied.items() if n != 1}
        assert not duplicates, f"applied more than once: {sorted(duplicates)[:10]}"
        assert sorted(pos for name, pos in applied if name == "audit") == ids

        assert_equal_to_rebuild(ledger, engines[0])
        assert_figures(ledger, engines[0], stream)
    finally:
        for engine in engines:
            engine.dispose()
