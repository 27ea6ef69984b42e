"""The rollups projection: counters per cell that a void, dispute, failed spot check or a case's end
takes back from the bucket they were added to; and its batch handlers (runs of one event type,
one statement per table) leave exactly the rows its per-event handlers leave."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, MetaData, select

from ledger.application import Ledger
from projections.base import event_type
from projections.rollups import Rollups
from projections.runner import ProjectionRunner
from projections.tables import LIVE, define
from tests.integration.helpers import PURCHASER, World, national_id

PLACES = [("East Town", "Hill Village"), ("East Town", "River Village"), ("West Town", "Lake Village")]
LEVELS = ["self_reliant", "partly_lost", "fully_lost"]


def _beneficiary(ledger: Ledger, township: str, village: str, level: str) -> str:
    return ledger.register_beneficiary(
        PURCHASER,
        national_id=national_id(),
        name="Li Si",
        household_id=f"hh-{uuid.uuid4().hex[:6]}",
        category="dibao",
        township=township,
        village=village,
        self_care_level=level,
    ).ids["beneficiary_id"]


def _at(days_ago: int) -> tuple[datetime, datetime]:
    start = (datetime.now(timezone.utc) - timedelta(days=days_ago)).replace(microsecond=0)
    return start, start + timedelta(hours=1)


def _mixed_history(ledger: Ledger) -> tuple[World, dict[str, Any]]:
    """Cases in three villages at three levels, visits by two workers over weeks, and every way
    a visit stops counting or a case ends; returns what was posted."""
    w = World.build(ledger, workers=2)
    cases, visits = {}, {}
    for n in range(9):
        township, village = PLACES[n % 3]
        level = LEVELS[n % 3]
        case_id = w.case(_beneficiary(ledger, township, village, level), accept=n != 8)  # the last stays referred
        cases[case_id] = {"place": (township, village), "level": level, "open": n != 8}
        if n == 8:
            continue
        for k in range(3):
            worker, when = w.org.workers[(n + k) % 2], _at(2 + 3 * k + n)
            visit_id = w.visit(case_id, worker_id=worker, when=when)
            visits[visit_id] = {"case": case_id, "worker": worker, "place": (township, village), "started_at": when[0], "counts": True}
    ordered = sorted(visits, key=lambda v: visits[v]["started_at"], reverse=True)
    newest, second, third, fourth = ordered[:4]
    ledger.void_visit(w.contractor, newest, "posted twice")  # the newest: a cell's last visit moves back
    ledger.dispute_visit(PURCHASER, second, "nobody came", "follow_up_call")
    ledger.void_visit(w.contractor, second, "withdrawn after the dispute")  # stops counting once, not twice
    ledger.spot_check_visit(PURCHASER, third, "verified", "")  # still counts
    ledger.spot_check_visit(PURCHASER, fourth, "falsified", "")
    for visit_id in (newest, second, fourth):
        visits[visit_id]["counts"] = False
    closed = next(c for c, v in cases.items() if v["open"])
    ledger.close_case(w.contractor, closed, "services complete")
    cases[closed]["open"] = False
    return w, {"cases": cases, "visits": visits}


def _rows(engine: Engine, tables: Any) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {table.name.split("__")[0]: [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))] for table in Rollups(tables).owned_tables()}


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)


def test_the_counters_follow_what_was_posted_and_take_back_from_the_original_bucket(ledger: Ledger, engine: Engine):
    w, posted = _mixed_history(ledger)
    runner = ProjectionRunner(ledger, engine, names=["rollups"])
    runner.ensure_positions()
    runner.run_until_idle()
    t = LIVE
    with engine.connect() as conn:
        cells = {(r.worker_id, r.township, r.village): (r.visits, _aware(r.last_visit_at)) for r in conn.execute(select(t.rollup_cells))}
        open_cases = {(r.township, r.village, r.self_care_level): r.open for r in conn.execute(select(t.rollup_open_cases))}
        worker_cases = {(r.worker_id, r.case_id): r.visits for r in conn.execute(select(t.rollup_worker_cases))}
        workers = {r.worker_id: r.open_cases for r in conn.execute(select(t.rollup_workers)) if r.open_cases}

    expected_cells: dict[tuple[str, str, str], tuple[int, datetime | None]] = {}
    for v in posted["visits"].values():
        key = (v["worker"], *v["place"])
        count, last = expected_cells.get(key, (0, None))
        if v["counts"]:
            count, last = count + 1, max(last or v["started_at"], v["started_at"])
        expected_cells[key] = (count, last)
    assert cells == expected_cells

    expected_open = {(*c["place"], c["level"]): 0 for c in posted["cases"].values()}
    for c in posted["cases"].values():
        expected_open[(*c["place"], c["level"])] += c["open"]
    assert open_cases == expected_open
    assert sum(open_cases.values()) == 7  # nine referred, one left referred, one closed

    expected_pairs: dict[tuple[str, str], int] = {}
    for v in posted["visits"].values():
        expected_pairs[(v["worker"], v["case"])] = expected_pairs.get((v["worker"], v["case"]), 0) + v["counts"]
    assert worker_cases == expected_pairs

    # A worker's open cases: open cases it has visits in that still count (one closed after its visits).
    expected_workers: dict[str, int] = {}
    for (worker, case_id), n in expected_pairs.items():
        if n > 0 and posted["cases"][case_id]["open"]:
            expected_workers[worker] = expected_workers.get(worker, 0) + 1
    assert workers == expected_workers and sum(workers.values()) >= 2


def test_runs_of_events_through_the_batch_handlers_leave_the_rows_the_per_event_handlers_leave(ledger: Ledger, engine: Engine):
    _mixed_history(ledger)
    runner = ProjectionRunner(ledger, engine, names=["rollups"], batch_size=7)  # batches end mid-run too
    runner.ensure_positions()
    runner.run_until_idle()

    batch_md = MetaData()
    batch_tables = define(batch_md, "__batch")
    projection = Rollups(batch_tables)
    batch_md.create_all(engine, tables=projection.owned_tables())
    try:
        handlers = projection.register_batch()
        notifications = ledger.recorder.select_notifications(start=1, limit=100_000)
        events = [(ledger.mapper.to_domain_event(n), n.id) for n in notifications]
        runs = 0
        with engine.begin() as conn:
            for kind, run in groupby(events, key=lambda pair: event_type(pair[0])):
                if kind in handlers:
                    handlers[kind](conn, list(run))
                    runs += 1
        assert runs < sum(1 for e, _ in events if event_type(e) in handlers)  # some runs held several events
        assert _rows(engine, batch_tables) == _rows(engine, LIVE)
        assert _rows(engine, LIVE)["rollup_cells"]
    finally:
        batch_md.drop_all(engine, tables=projection.owned_tables())
