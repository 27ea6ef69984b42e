"""Rollups: the caseload's counters kept per cell, so its reads cost what the answer holds, not
what the log holds (issue 8).

- rollup_cells: per (contractor, worker, township, village), the visits that still count and the
  last of them. Any caseload grouping or filter is a sum or a max over these few rows.
- rollup_open_cases: per (contractor, township, village, self-care level), the open (accepted) cases.
- rollup_worker_cases: per (worker, case), the visits that still count.
- rollup_workers: per worker, the open cases it has visits in that still count, moved when a
  (worker, case) count leaves or reaches zero on an open case, and when a case opens or ends.
- rollup_visits and rollup_cases keep each visit's and case's bucket, so a void, dispute, failed
  spot check or a case's end takes its count back from the bucket it was added to.

Every handler takes a run of consecutive events of one type, sums the counter changes per key in
Python and writes each table with one statement (executemany); the per-event handlers are runs of
one, so both paths give the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, case, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from projections.base import VISIT_EVENTS, Handler, Projection, add_to_many, all_commute, insert_many

BatchHandler = Callable[[Connection, list[tuple[Any, int]]], None]  # (event, position) pairs, in log order

CASE_ENDS = ("Case.Declined", "Case.Withdrawn", "Case.Closed")
CELL = ("contractor_id", "worker_id", "township", "village")
OPEN = ("contractor_id", "township", "village", "self_care_level")

# Statements are built once per shape (as in projections/base.py): compiling one per run would cost more than the run.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _cached(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


def _insert(conn: Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


def insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """Inserts the rows whose keys are not there yet, in one statement."""
    insert_many(conn, table, rows, keys)


def add_many(conn: Connection, table: Table, keys: tuple[str, ...], deltas: dict[tuple[Any, ...], dict[str, int]]) -> None:
    """Adds each key's summed deltas to its counters, creating the row at zero first, in one statement."""
    add_to_many(conn, table, list(keys), [{**dict(zip(keys, key, strict=True)), **values} for key, values in deltas.items()])


def _visit_id(e: Any) -> str:
    return str(e.originator_id)


class Rollups(Projection):
    name = "rollups"
    # A delivery adds its visit to its cell (visits, latest start) and its (worker, case) count; a
    # visit that stops counting takes itself out of both and its cell's latest start is found
    # again from the visits that count. Counts only add up, the latest start comes out the same
    # in either order, and a worker's open cases move with the (worker, case) count reaching or
    # leaving zero, whose changes add up to the same whatever the order. So every pair commutes
    # (the confirmations are not this projection's).
    commuting = all_commute(*VISIT_EVENTS)

    def register_batch(self) -> dict[str, BatchHandler]:
        """Event type -> handler of a RUN of consecutive events of that type."""
        return {
            "Case.Referred": self.cases_referred,
            "Case.Accepted": self.cases_accepted,
            **{kind: self.cases_ended for kind in CASE_ENDS},
            "Visit.Delivered": self.visits_delivered,
            "Visit.Disputed": self.visits_stopped,
            "Visit.Voided": self.visits_stopped,
            "Visit.SpotChecked": self.visits_spot_checked,
        }

    def register(self) -> dict[str, Handler]:
        return {kind: self._one(batch) for kind, batch in self.register_batch().items()}

    @staticmethod
    def _one(batch: BatchHandler) -> Handler:
        def handler(conn: Connection, event: Any, position: int) -> None:
            batch(conn, [(event, position)])

        return handler

    def owned_tables(self) -> list[Table]:
        t = self.t
        return [t.rollup_visits, t.rollup_cases, t.rollup_cells, t.rollup_open_cases, t.rollup_worker_cases, t.rollup_workers]

    # --- cases ----------------------------------------------------------------------------
    def cases_referred(self, conn: Connection, run: list[tuple[Any, int]]) -> None:
        cases = [
            {
                "case_id": str(e.originator_id),
                "contractor_id": e.contractor_id,
                "township": e.township,
                "village": e.village,
                "self_care_level": e.self_care_level,
                "accepted": False,
            }
            for e, _ in run
        ]
        insert_new(conn, self.t.rollup_cases, cases, ["case_id"])
        # A group with cases shows even while none is open: its counters start at zero.
        add_many(conn, self.t.rollup_open_cases, OPEN, {tuple(c[k] for k in OPEN): {"open": 0} for c in cases})

    def cases_accepted(self, conn: Connection, run: list[tuple[Any, int]]) -> None:
        self._open(conn, [str(e.originator_id) for e, _ in run], True)

    def cases_ended(self, conn: Connection, run: list[tuple[Any, int]]) -> None:
        self._open(conn, [str(e.originator_id) for e, _ in run], False)

    def _open(self, conn: Connection, case_ids: list[str], accepted: bool) -> None:
        """Opens or closes the cases, counting only those whose state changes."""
        c = self.t.rollup_cases
        known = {r.case_id: r for r in conn.execute(select(c).where(c.c.case_id.in_(set(case_ids))))}
        changed: dict[str, Any] = {}
        for case_id in case_ids:
            r = known.get(case_id)
            if r is not None and r.accepted != accepted and case_id not in changed:
                changed[case_id] = r
        if not changed:
            return
        stmt = _cached(("open", c), lambda: update(c).where(c.c.case_id == bindparam("w_case_id")).values(accepted=bindparam("v_accepted")))
        conn.execute(stmt, [{"w_case_id": case_id, "v_accepted": accepted} for case_id in changed])
        deltas: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: {"open": 0})
        for r in changed.values():
            deltas[tuple(getattr(r, k) for k in OPEN)]["open"] += 1 if accepted else -1
        add_many(conn, self.t.rollup_open_cases, OPEN, dict(deltas))
        # Each worker with visits that count in a case that opened or ended gains or loses it.
        wc = self.t.rollup_worker_cases
        workers: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: {"open_cases": 0})
        for r in conn.execute(select(wc.c.worker_id).where(wc.c.case_id.in_(list(changed)), wc.c.visits > 0)):
            workers[(r.worker_id,)]["open_cases"] += 1 if accepted else -1
        add_many(conn, self.t.rollup_workers, ("worker_id",), dict(workers))

    # --- visits ---------------------------------------------------------------------------
    def visits_delivered(self, conn: Connection, run: list[tuple[Any, int]]) -> None:
        visits = [
            {
                "visit_id": _visit_id(e),
                "case_id": e.case_id,
                "contractor_id": e.contractor_id,
                "worker_id": e.worker_id,
                "township": e.township,
                "village": e.village,
                "started_at": e.started_at,
                "counts": True,
            }
            for e, _ in run
        ]
        insert_new(conn, self.t.rollup_visits, visits, ["visit_id"])
        cells: dict[tuple[Any, ...], dict[str, Any]] = {}
        worker_cases: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: {"visits": 0})
        for v in visits:
            key = tuple(v[k] for k in CELL)
            cell = cells.setdefault(key, {"visits": 0, "last_visit_at": v["started_at"]})
            cell["visits"] += 1
            cell["last_visit_at"] = max(cell["last_visit_at"], v["started_at"])
            worker_cases[(v["worker_id"], v["case_id"])]["visits"] += 1
        self._add_to_cells(conn, cells)
        self._add_worker_visits(conn, dict(worker_cases))

    def _add_to_cells(self, conn: Connection, cells: dict[tuple[Any, ...], dict[str, Any]]) -> None:
        """Adds visits to each cell and moves its last visit later if a new one is."""
        table = self.t.rollup_cells

        def build() -> Any:
            stmt = _insert(conn)(table).values({c: bindparam(c) for c in (*CELL, "visits", "last_visit_at")})
            new, old = stmt.excluded.last_visit_at, table.c.last_visit_at
            later = case((or_(old.is_(None), new > old), new), else_=old)
            return stmt.on_conflict_do_update(index_elements=list(CELL), set_={"visits": table.c.visits + stmt.excluded.visits, "last_visit_at": later})

        rows = [{**dict(zip(CELL, key)), **values} for key, values in cells.items()]
        conn.execute(_cached(("cells", conn.dialect.name, table), build), rows)

    def visits_spot_checked(self, conn: Connection, run: list[tuple[Any, int]]) -> None:
        self.visits_stopped(conn, [(e, p) for e, p in run if e.result != "verified"])

    def visits_stopped(self, conn: Connection, run: list[tuple[Any, int]]) -> None:
        """A voided, disputed or failed visit stops counting in the cell it was counted in (once:
        a visit already stopped stays stopped)."""
        if not run:
            return
        v = self.t.rollup_visits
        ids = {_visit_id(e) for e, _ in run}
        stopping = list(conn.execute(select(v).where(v.c.visit_id.in_(ids), v.c.counts.is_(True))))
        if not stopping:
            return
        stmt = _cached(("stop", v), lambda: update(v).where(v.c.visit_id == bindparam("w_visit_id")).values(counts=False))
        conn.execute(stmt, [{"w_visit_id": r.visit_id} for r in stopping])
        cells: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: {"visits": 0})
        worker_cases: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: {"visits": 0})
        for r in stopping:
            cells[tuple(getattr(r, k) for k in CELL)]["visits"] -= 1
            worker_cases[(r.worker_id, r.case_id)]["visits"] -= 1
        add_many(conn, self.t.rollup_cells, CELL, dict(cells))
        self._add_worker_visits(conn, dict(worker_cases))
        self._find_last_visits(conn, list(cells))

    def _add_worker_visits(self, conn: Connection, deltas: dict[tuple[Any, ...], dict[str, int]]) -> None:
        """Adds to the (worker, case) visit counts; a count that reaches or leaves zero on an open
        case moves that worker's open cases."""
        if not deltas:
            return
        wc, c = self.t.rollup_worker_cases, self.t.rollup_cases
        stored = {(r.worker_id, r.case_id): r.visits for r in conn.execute(select(wc).where(tuple_(wc.c.worker_id, wc.c.case_id).in_(list(deltas))))}
        case_ids = {case_id for _, case_id in deltas}
        open_cases = {r.case_id for r in conn.execute(select(c.c.case_id).where(c.c.case_id.in_(case_ids), c.c.accepted.is_(True)))}
        workers: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: {"open_cases": 0})
        for (worker_id, case_id), delta in deltas.items():
            before = stored.get((worker_id, case_id), 0)
            after = before + delta["visits"]
            if case_id in open_cases and (before > 0) != (after > 0):
                workers[(worker_id,)]["open_cases"] += 1 if after > 0 else -1
        add_many(conn, wc, ("worker_id", "case_id"), deltas)
        add_many(conn, self.t.rollup_workers, ("worker_id",), dict(workers))

    def _find_last_visits(self, conn: Connection, keys: list[tuple[Any, ...]]) -> None:
        """A cell's last visit, again, from the visits that still count (through the worker's index)."""
        cell, v = self.t.rollup_cells, self.t.rollup_visits

        def build() -> Any:
            last = select(func.max(v.c.started_at)).where(and_(*[v.c[k] == cell.c[k] for k in CELL]), v.c.counts.is_(True)).scalar_subquery()
            return update(cell).where(*[cell.c[k] == bindparam(f"w_{k}") for k in CELL]).values(last_visit_at=last)

        conn.execute(_cached(("last", cell), build), [{f"w_{k}": value for k, value in zip(CELL, key)} for key in keys])
