"""Projections applied in set-based runs leave exactly the rows that applying the same events one
by one leaves, whatever the batch boundaries; and an event that fails in the middle of a run
stops its projection exactly there, every event before it kept."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, MetaData, Table, select

from ledger.application import Ledger
from projections.base import BatchHandler, Handler, Projection, commute
from projections.runner import NAMES, PROJECTIONS, ProjectionRunner
from projections.tables import LIVE, Tables, define
from tests.integration.helpers import PURCHASER, World, recent
from tests.integration.test_projection_crashes import Stream
from tests.schema_faults import narrow_column


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


def _visit(n: int) -> Any:
    from ledger.domain.actors import Actor
    from ledger.domain.visits import Visit

    start = datetime(2026, 11, 2, 1, tzinfo=timezone.utc) + timedelta(hours=2 * n)
    by = Actor("coordinator", "contractor", "org-1", f"corr-{n}")
    return Visit.deliver(
        case_id="case-1",
        contract_id="contract-1",
        contractor_id="org-1",
        beneficiary_id="b-1",
        worker_id="w-1",
        service_code="visiting",
        started_at=start,
        ended_at=start + timedelta(hours=1),
        location="1号",
        notes=None,
        evidence_hash=None,
        township="城关镇",
        village="东风村",
        by=by,
    )


def _log_of_visits() -> list[tuple[Any, int]]:
    """a.D a.C b.D c.D c.V d.D b.C, at positions 1 to 7."""
    from ledger.domain.actors import Actor

    by = Actor("officer", "purchaser", None, "corr")
    a, b, c, d = (_visit(n) for n in range(4))
    log = []
    for visit, then in ((a, "confirm"), (b, None), (c, "void"), (d, None)):
        log.append(visit.collect_events()[0])
        if then == "confirm":
            visit.confirm("follow_up_call", by)
        elif then == "void":
            visit.void("录入错误", by)
        log.extend(visit.collect_events())
    b.confirm("follow_up_call", by)
    log.extend(b.collect_events())
    return [(e, position) for position, e in enumerate(log, start=1)]


class _DeliveriesAndConfirmations(Projection):
    """Deliveries and confirmations in runs, commuting; voids one by one."""

    name = "runs"
    commuting = commute(("Visit.Delivered", "Visit.Confirmed"))

    def register(self) -> dict[str, Handler]:
        return dict.fromkeys(("Visit.Delivered", "Visit.Confirmed", "Visit.Voided"), lambda conn, e, position: None)

    def register_batch(self) -> dict[str, BatchHandler]:
        return dict.fromkeys(("Visit.Delivered", "Visit.Confirmed"), lambda conn, run: None)

    def owned_tables(self) -> list[Table]:
        return []


def test_a_run_gathers_its_type_across_types_it_commutes_with_but_never_past_its_own_aggregate_or_a_barrier() -> None:
    runs = _DeliveriesAndConfirmations(define(MetaData(), "__runs"))._runs(_log_of_visits())

    assert [(kind, [p for _, p in run]) for kind, run in runs] == [
        ("Visit.Delivered", [1, 3, 4]),  # b's and c's deliveries pass a's confirmation
        ("Visit.Confirmed", [2]),
        ("Visit.Voided", [5]),  # does not commute with deliveries: d waits behind it
        ("Visit.Delivered", [6]),
        ("Visit.Confirmed", [7]),  # b's confirmation passes d's delivery, not the void: a run of its own
    ]


def test_events_of_mixed_types_make_one_run_in_log_order() -> None:
    from projections.flags import RedFlags

    runs = RedFlags(define(MetaData(), "__runs"))._runs(_log_of_visits())

    assert [(kind, [p for _, p in run]) for kind, run in runs] == [("Visit.Delivered", [1, 2, 3, 4, 5, 6, 7])]


def test_a_flag_names_a_bounded_number_of_events_however_many_visits_share_its_evidence(ledger: Ledger, engine: Engine) -> None:
    from projections.flags import EVIDENCE_LIMIT

    world = World.build(ledger, workers=3)
    case_id = world.case()
    for n in range(EVIDENCE_LIMIT + 10):  # one photo posted with every visit
        world.visit(case_id, worker_id=world.org.workers[n % 3], when=recent(3 * n + 2), evidence_hash="sha256:" + "ab" * 32)

    expected = one_by_one(ledger, engine)

    # flags rows: flag_id, kind, contractor_id, contract_id, subject_id, raised_position, raised_at, updated_position, detail, evidence
    shared = sorted((row for row in expected["flags"] if row[1] == "shared_evidence_hash"), key=lambda row: row[5])
    assert len(shared) == EVIDENCE_LIMIT + 9
    last = shared[-1]
    named = json.loads(last[9])
    assert len(named) == EVIDENCE_LIMIT and named[-1]["position"] == last[5]  # the earliest, then the visit itself
    assert named[0]["position"] == json.loads(shared[0][9])[0]["position"]
    assert json.loads(last[8])["visits"] == EVIDENCE_LIMIT + 10
    for batch_size in (1000, 7):
        assert in_runs(ledger, engine, batch_size) == expected, f"batch_size {batch_size}"


def test_red_flags_follow_changes_of_visits_between_deliveries_as_event_by_event_application_does(ledger: Ledger, engine: Engine) -> None:
    """One run of visit events of every type: a void frees its worker's time for a later visit
    at the same hour, confirmed visits disputed or voided after a release leave the release above
    the confirmed value, disputes and failed checks add to their contractor's summary, and a line
    goes past its quantity, gets a void, and goes past it again."""
    from ledger.processes import MilestoneProcess

    lines = {
        "lines": [{"service_code": "visiting", "quantity": 6, "unit_price": "50.00"}],
        "milestones": [{"milestone_id": "m", "kind": "service_volume", "service_code": "visiting", "quantity": 3}],
        "tranches": [{"tranche_id": "t", "milestone_id": "m", "amount": "150.00"}],
    }
    world = World.build(ledger, workers=2, **lines)
    case_id = world.case()
    day = datetime.now(timezone.utc).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=2)

    def hour(n: float, worker: int = 0) -> str:
        start = day + timedelta(hours=n)
        return world.visit(case_id, worker_id=world.org.workers[worker], when=(start, start + timedelta(minutes=50)))

    first = [hour(n) for n in range(3)]
    for visit_id in first:
        ledger.confirm_visit(PURCHASER, visit_id, "follow_up_call")
    MilestoneProcess(ledger).run_until_idle()
    world.release("t")
    ledger.void_visit(world.contractor, first[0], "录入错误")
    hour(0)  # the hour the void freed: no overlap
    hour(0.5)  # overlaps the visit just posted
    ledger.dispute_visit(PURCHASER, first[1], "nobody came", "follow_up_call")
    later = [hour(4 + n, worker=1) for n in range(4)]  # past the line's quantity
    ledger.spot_check_visit(PURCHASER, later[0], "not_found", "no trace of the visit")
    ledger.confirm_visit(PURCHASER, later[1], "follow_up_call")
    ledger.spot_check_visit(PURCHASER, later[1], "verified", "all in order")
    ledger.void_visit(world.contractor, later[2], "录入错误")
    ledger.dispute_visit(PURCHASER, later[3], "nobody came", "follow_up_call")
    hour(9, worker=1)
    hour(10, worker=1)

    expected = one_by_one(ledger, engine)

    kinds = {row[1] for row in expected["flags"]}
    assert {"overlapping_visits", "over_contracted_quantity", "paid_above_confirmed", "disputes_and_failed_checks"} <= kinds
    overlaps = [row for row in expected["flags"] if row[1] == "overlapping_visits"]
    assert len(overlaps) == 1  # the visit at the freed hour overlaps nothing
    for batch_size in (1000, 3):
        assert in_runs(ledger, engine, batch_size) == expected, f"batch_size {batch_size}"
