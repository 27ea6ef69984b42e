"""Projections applied in set-based runs leave exactly the rows that applying the same events one
by one leaves, whatever the batch boundaries; and an event that fails in the middle of a run
stops its projection exactly there, every event before it kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select

from ledger.application import Ledger
from projections.runner import NAMES, PROJECTIONS, ProjectionRunner
from projections.store import make_engine, migrate
from projections.tables import LIVE, Tables, define
from tests.integration.helpers import PURCHASER, World, recent
from tests.integration.test_projection_crashes import Stream
from tests.schema_faults import narrow_column


@pytest.fixture
def engine(settings) -> Iterator[Engine]:
    engine = make_engine(settings.sqlalchemy_url())
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def read_model(engine: Engine, tables: Tables) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every projection table, by the live table's name, in key order."""
    out = {}
    with engine.connect() as conn:
        for f in dataclasses.fields(tables):
            if f.name == "positions":
                continue
            table = getattr(tables, f.name)
            out[f.name] = [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
    return out


def one_by_one(ledger: Ledger, engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The rows the per-event handlers alone leave: every event of the log handed to each
    projection's handler in turn, into tables of their own."""
    md = MetaData()
    tables = define(md, "__one")
    md.create_all(engine)
    projections = [cls(tables, ledger.policy) for cls in PROJECTIONS]
    start = 0
    with engine.begin() as conn:
        while page := ledger.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False):
            for notification in page:
                event = ledger.mapper.to_domain_event(notification)
                for projection in projections:
                    projection.handle(conn, event, notification.id)
            start = page[-1].id
    try:
        return read_model(engine, tables)
    finally:
        md.drop_all(engine)


def in_runs(ledger: Ledger, engine: Engine, batch_size: int) -> dict[str, list[tuple[Any, ...]]]:
    md = MetaData()
    tables = define(md, f"__runs{batch_size}")
    md.create_all(engine)
    try:
        runner = ProjectionRunner(ledger, engine, tables=tables, batch_size=batch_size)
        runner.ensure_positions()
        runner.run_until_idle()
        assert {name: p.stall for name, p in runner.progress().items()} == {name: None for name in NAMES}
        assert runner.replayed == 0  # no batch handler failed and hid behind the event-by-event replay
        return read_model(engine, tables)
    finally:
        md.drop_all(engine)


def mixed_history(ledger: Ledger) -> None:
    """Visits with confirmations, disputes, voids and spot checks among them, and deliveries that
    raise or update flags in the middle of a run, visits given in another time zone: one worker's crowded day (overlaps, then more
    than the day's limit), a line past its contracted quantity, a visit before its beneficiary's
    deregistration."""
    stream = Stream.start(ledger, contractors=2, cases_each=6, seed=3)
    stream.add(60)
    world, case_id, worker_id = stream.cases[0]
    day = datetime.now(timezone.utc).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=2)
    for n in range(ledger.policy.max_visits_per_worker_day + 3):
        start = day + timedelta(minutes=50 * n)
        world.visit(case_id, worker_id=worker_id, when=(start, start + timedelta(minutes=60)))
    # A visit given in China Standard Time: its wall clock is later, its instant earlier.
    cst = timezone(timedelta(hours=8))
    tz_case = world.case(world.beneficiary())
    world.visit(tz_case, when=(day.replace(hour=10), day.replace(hour=11)))
    world.visit(tz_case, when=(day.replace(hour=15, tzinfo=cst), day.replace(hour=16, tzinfo=cst)))
    for n in range(105):  # the first contract's line (100 visits) overflows
        first_world, some_case, some_worker = next(c for c in stream.cases[n % 6 :] if c[0] is world)
        first_world.visit(some_case, worker_id=some_worker, when=recent(24 * (n + 3)))
    stream.add(20)
    beneficiary_id = world.beneficiary()
    late_case = world.case(beneficiary_id)
    soon = datetime.now(timezone.utc) + timedelta(minutes=3)
    world.visit(late_case, when=(soon, soon + timedelta(minutes=5)))
    ledger.deregister_beneficiary(PURCHASER, beneficiary_id, "deceased", "reported by the village")
    stream.add(20)


def test_projections_applied_in_runs_leave_exactly_the_rows_of_events_applied_one_by_one(ledger: Ledger, engine: Engine) -> None:
    mixed_history(ledger)

    expected = one_by_one(ledger, engine)

    kinds = {row[1] for row in expected["flags"]}
    assert {"overlapping_visits", "worker_day_limit", "over_contracted_quantity", "deregistered_beneficiary"} <= kinds
    for batch_size in (1000, 7):  # one batch, and runs cut at many places
        assert in_runs(ledger, engine, batch_size) == expected, f"batch_size {batch_size}"


def test_an_event_failing_in_the_middle_of_a_run_stops_its_projection_exactly_there(ledger: Ledger, engine: Engine) -> None:
    world = World.build(ledger, workers=2)
    case_id = world.case(services=["visiting", "meals"])
    positions = []
    for service in ("meals", "meals", "visiting", "meals"):
        world.visit(case_id, service_code=service)
        positions.append(ledger.head())
    narrow_column(engine, "caseload_visits", "service_code", 6)  # "visiting" no longer fits
    runner = ProjectionRunner(ledger, engine)
    runner.ensure_positions()

    runner.run_until_idle()

    progress = runner.progress()
    assert progress["caseload"].position == positions[1]
    assert progress["caseload"].stall is not None and progress["caseload"].stall.position == positions[2]
    assert progress["caseload"].stall.event_type == "Visit.Delivered"
    assert {n: p.position for n, p in progress.items() if n != "caseload"} == {n: ledger.head() for n in NAMES if n != "caseload"}
    with engine.connect() as conn:
        kept = list(conn.execute(select(LIVE.visits.c.service_code).order_by(LIVE.visits.c.delivered_position)).scalars())
    assert kept == ["meals", "meals"]
    assert runner.replayed >= 1  # the failing batch went event by event (again, if its retry came due)
