"""A projection that cannot apply an event stops there alone, says so durably, retries with a
growing pause, and resumes by itself once the schema or the code is fixed: the log is never edited,
and the rows end equal to a clean rebuild."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from ledger.application import Ledger
from ledger.domain import limits
from projections.readside import ReadSide
from projections.runner import NAMES, ProjectionRunner, Rebuilder
from projections.stalls import ProjectionStalled, Stall
from projections.store import make_engine
from projections.tables import LIVE
from tests.integration.helpers import PURCHASER, World
from tests.integration.test_projection_crashes import assert_equal_to_rebuild, audit_positions, dump, notification_ids
from tests.schema_faults import narrow_column, widen_column

LEDGER_SCRIPT = Path(sys.executable).with_name("ledger")
NARROW = 20  # characters the worker-name column holds while "broken"
LONG_NAME = "Worker with a rather long name"  # fits every limit of the ledger, not the narrowed column


def stall_of(runner: ProjectionRunner, name: str) -> Stall:
    stall = runner.progress()[name].stall
    assert stall is not None, runner.progress()[name]
    return stall


def until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(timezone.utc)).total_seconds()) + 0.02)


def test_a_projection_that_cannot_apply_an_event_stops_alone_and_resumes_once_the_schema_is_fixed(ledger: Ledger, engine: Engine) -> None:
    narrow_column(engine, "caseload_workers", "name", NARROW)
    world = World.build(ledger, workers=2)
    enrolled = ledger.enrol_worker(world.contractor, world.org.contractor_id, name=LONG_NAME, qualification="carer")
    bad_position = enrolled.position
    case_id = world.case(world.beneficiary())  # events after the stall: every projection has more to do
    world.visit(case_id)
    head = ledger.head()
    stalls: list[tuple[str, Stall]] = []
    # Retries 1 s apart, then 2 s: a loaded machine never retries before the first checks run.
    runner = ProjectionRunner(ledger, engine, retry_seconds=1.0, max_retry_seconds=2.0, on_stall=lambda n, s: stalls.append((n, s)))
    runner.ensure_positions()

    runner.run_until_idle()

    # The others reached the head; caseload kept every event before the bad one and stopped there.
    progress = runner.progress()
    assert {n: p.position for n, p in progress.items() if n != "caseload"} == {n: head for n in NAMES if n != "caseload"}
    assert progress["caseload"].position < bad_position
    stall = stall_of(runner, "caseload")
    assert (stall.position, stall.event_type, stall.aggregate_id, stall.attempts) == (bad_position, "Contractor.WorkerEnrolled", world.org.contractor_id, 1)
    assert stall.error in ("StringDataRightTruncation", "IntegrityError") and stall.message
    with engine.connect() as conn:
        assert sorted(conn.execute(select(LIVE.workers.c.name)).scalars()) == ["Worker 1", "Worker 2"]
    assert stalls == [("caseload", stall)]

    # Not retried before its time; shown as stalled, never as a mere lag; not ready.
    assert runner.run_once() == 0 and stall_of(runner, "caseload").attempts == 1
    read_side = ReadSide(ledger, engine, interval=0.01, retry_seconds=0.2, max_retry_seconds=0.4)
    states = {p["name"]: p for p in read_side.status(30)["projections"]}
    assert {n: p["state"] for n, p in states.items()} == {n: "stalled" if n == "caseload" else "running" for n in NAMES}
    assert states["caseload"]["stalled"]["position"] == bad_position
    assert states["caseload"]["lag_events"] == len([i for i in notification_ids(ledger) if i > progress["caseload"].position])
    ready, detail = read_side.readiness(30)
    assert not ready and detail["reasons"] == [f"caseload is stalled at position {bad_position} (Contractor.WorkerEnrolled): {stall.error}"]
    with pytest.raises(ProjectionStalled):
        read_side.wait_for(head, ["caseload"], timeout=5)  # at once, not after the 5 s
    assert read_side.wait_for(head, ["audit", "funds"], timeout=0)

    # Retries back off: 1 s, then 2 s, capped at 2 s; the stall keeps its start.
    for attempts, pause in ((2, 2.0), (3, 2.0)):
        until(stall_of(runner, "caseload").retry_at)
        started = time.time()
        runner.run_once()
        again = stall_of(runner, "caseload")
        assert (again.attempts, again.since, again.position) == (attempts, stall.since, bad_position)
        assert pause - 0.05 <= again.retry_at.timestamp() - started <= pause + 0.5

    # The service's own loop reports each attempt once, not every round.
    reports: list[Exception] = []
    read_side.on_error = reports.append
    until(stall_of(runner, "caseload").retry_at)  # the runner's last pause; the loop's own are 0.2-0.4 s
    before = stall_of(runner, "caseload").attempts
    thread = threading.Thread(target=read_side.run_forever)
    thread.start()
    time.sleep(1.0)
    read_side.stop()
    thread.join(timeout=10)
    retried = stall_of(runner, "caseload").attempts - before
    assert 1 <= retried <= 4 and len(reports) == retried, (retried, reports)
    assert all(isinstance(r, ProjectionStalled) and f"position {bad_position}" in str(r) for r in reports)

    # The fix is a schema change, not an edit of the log: the next retry resumes by itself.
    widen_column(engine, "caseload_workers", "name", 200)
    until(stall_of(runner, "caseload").retry_at)
    runner.run_until_idle()
    resumed = runner.progress()["caseload"]
    assert (resumed.position, resumed.stall, resumed.attempts) == (head, None, 0)
    assert read_side.readiness(30)[0]
    with engine.connect() as conn:
        assert sorted(conn.execute(select(LIVE.workers.c.name)).scalars()) == sorted([LONG_NAME, "Worker 1", "Worker 2"])
    assert_equal_to_rebuild(ledger, engine)


def _legacy_worker_name(ledger: Ledger, world: World, name: str) -> int:
    """Appends a WorkerEnrolled the way an older version accepted it, past today's checks."""
    contractor = ledger.repository.get(uuid.UUID(world.org.contractor_id))
    contractor._worker_enrolled(worker_id=str(uuid.uuid4()), name=name, qualification="carer", by=PURCHASER)
    ledger.save(contractor)
    return ledger.head()


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_rebuild_that_meets_an_event_it_cannot_apply_fails_clearly_and_leaves_the_live_tables_serving(ledger: Ledger, engine: Engine, settings, tmp_path: Path) -> None:
    world = World.build(ledger, workers=1)
    runner = ProjectionRunner(ledger, engine)
    runner.ensure_positions()
    runner.run_until_idle()
    served = dump(engine)
    # PostgreSQL holds what limits.WORKER_NAME allows: a log written before the limits may hold more.
    bad_position = _legacy_worker_name(ledger, world, "名" * (limits.WORKER_NAME.max_length + 1))

    with pytest.raises(ProjectionStalled) as refused:
        Rebuilder(ledger, engine).rebuild("caseload")
    assert refused.value.stall.position == bad_position and refused.value.stall.error == "StringDataRightTruncation"
    assert dump(engine) == served

    env = dict(os.environ, LEDGER_DATABASE_URL=settings.database_url, LEDGER_ID_HASH_KEY=settings.id_hash_key, LEDGER_ENVIRONMENT="test")
    done = subprocess.run([str(LEDGER_SCRIPT), "projections", "rebuild", "caseload"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("ledger: error:")]
    assert len(error) == 1 and f"position {bad_position} (Contractor.WorkerEnrolled of {world.org.contractor_id})" in error[0], done.stderr
    assert dump(engine) == served

    # The live runner stalls on it too; a fixed handler (here: one that shortens the name) resumes it.
    runner.run_until_idle()
    assert stall_of(runner, "caseload").position == bad_position
    shown = subprocess.run([str(LEDGER_SCRIPT), "projections", "status"], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    caseload_shown = next(p for p in json.loads(shown.stdout)["projections"] if p["name"] == "caseload")
    assert caseload_shown["state"] == "stalled" and caseload_shown["stalled"]["position"] == bad_position, shown.stdout
    caseload = next(p for p in runner.projections if p.name == "caseload")
    broken = caseload.handlers["Contractor.WorkerEnrolled"]

    def fixed(conn: Any, event: Any, position: int) -> None:
        event.__dict__["name"] = event.name[:200]
        broken(conn, event, position)

    caseload.handlers["Contractor.WorkerEnrolled"] = fixed
    runner.retry_now()
    runner.run_until_idle()
    assert runner.progress()["caseload"].stall is None and runner.positions() == {n: ledger.head() for n in NAMES}
    assert audit_positions(engine) == notification_ids(ledger)


def unreachable_store(engine: Engine, tmp_path: Path) -> Engine:
    """The same kind of store where none answers: a closed port, or a folder that does not exist."""
    if engine.dialect.name == "postgresql":
        return make_engine(engine.url.set(port=1).render_as_string(hide_password=False))
    return make_engine(f"sqlite:///{tmp_path}/missing/ledger.db")


def test_a_store_that_does_not_answer_is_an_outage_reported_once_not_a_stall(ledger: Ledger, engine: Engine, tmp_path: Path) -> None:
    World.build(ledger, workers=1)
    reports: list[Exception] = []
    read_side = ReadSide(ledger, engine, interval=0.02, on_error=reports.append)
    read_side.runner.ensure_positions()
    good, dead = read_side.runner.engine, unreachable_store(engine, tmp_path)
    read_side.runner.engine = dead
    thread = threading.Thread(target=read_side.run_forever)
    thread.start()
    try:
        time.sleep(1.5)  # some 75 rounds at the base interval; the pauses double instead
        assert len(reports) == 1, reports  # once when it starts, not every round
        read_side.runner.engine = good  # the store is back
        deadline = time.monotonic() + 10
        while read_side.runner.positions() != {n: ledger.head() for n in NAMES} and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        read_side.stop()
        thread.join(timeout=10)
        dead.dispose()
    assert read_side.runner.positions() == {n: ledger.head() for n in NAMES}
    assert all(p.stall is None for p in read_side.runner.progress().values())
    assert len(reports) == 1
