"""Caseload: cases, visits and workers by contractor, worker, township and village."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, Table, func, select

from projections.base import VISIT_EVENTS, BatchHandler, Handler, Projection, all_commute, dumps, fetch_many, fetch_one, found, insert_many, set_many, set_values, upsert

ENDED = {"Case.Declined": "declined", "Case.Withdrawn": "withdrawn", "Case.Closed": "closed"}


class Caseload(Projection):
    name = "caseload"
    # A confirmation sets its own visit's column; a delivery never reads it. A dispute, void or
    # failed check sets its own visit's columns and recounts its case from the visits that count,
    # and a delivery adds itself to its case's count and last visit: in either order a case ends
    # with the count and last visit of its counting visits. So every pair commutes.
    commuting = all_commute(*VISIT_EVENTS)

    def register(self) -> dict[str, Handler]:
        return {
            "Contractor.Registered": self.contractor_registered,
            "Contractor.Suspended": self.contractor_status("suspended"),
            "Contractor.Reinstated": self.contractor_status("active"),
            "Contractor.Debarred": self.contractor_status("debarred"),
            "Contractor.WorkerEnrolled": self.worker_enrolled,
            "Contractor.WorkerRemoved": self.worker_removed,
            "Case.Referred": self.case_referred,
            "Case.Accepted": self.case_accepted,
            **{kind: self.case_ended for kind in ENDED},
            "Visit.Delivered": self.visit_delivered,
            "Visit.Confirmed": self.visit_confirmed,
            "Visit.Voided": self.visit_voided,
            "Visit.Disputed": self.visit_disputed,
            "Visit.SpotChecked": self.visit_spot_checked,
        }

    def register_batch(self) -> dict[str, BatchHandler]:
        return {
            "Visit.Delivered": self.visits_delivered,
            "Visit.Confirmed": self.visits_changed,
            "Visit.Disputed": self.visits_changed,
            "Visit.Voided": self.visits_changed,
            "Visit.SpotChecked": self.visits_changed,
        }

    def owned_tables(self) -> list[Table]:
        return [self.t.contractors, self.t.workers, self.t.cases, self.t.visits]

    # --- contractors and workers ----------------------------------------------------------
    def contractor_registered(self, conn: Connection, e: Any, position: int) -> None:
        upsert(
            conn,
            self.t.contractors,
            {"contractor_id": str(e.originator_id), "name": e.name, "contractor_type": e.contractor_type, "status": "active"},
            ["contractor_id"],
        )

    def contractor_status(self, status: str) -> Handler:
        def handler(conn: Connection, e: Any, position: int) -> None:
            set_values(conn, self.t.contractors, {"contractor_id": str(e.originator_id)}, status=status)

        return handler

    def worker_enrolled(self, conn: Connection, e: Any, position: int) -> None:
        upsert(
            conn,
            self.t.workers,
            {
                "worker_id": e.worker_id,
                "contractor_id": str(e.originator_id),
                "name": e.name,
                "enrolled": True,
                "qualification": e.qualification,
                "enrolled_at": e.timestamp,
                "removed_at": None,
            },
            ["worker_id"],
            ["enrolled", "name", "qualification", "enrolled_at", "removed_at"],
        )

    def worker_removed(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.workers, {"worker_id": e.worker_id}, enrolled=False, removed_at=e.timestamp)

    # --- cases ----------------------------------------------------------------------------
    def case_referred(self, conn: Connection, e: Any, position: int) -> None:
        upsert(
            conn,
            self.t.cases,
            {
                "case_id": str(e.originator_id),
                "beneficiary_id": e.beneficiary_id,
                "contract_id": e.contract_id,
                "contractor_id": e.contractor_id,
                "township": e.township,
                "village": e.village,
                "self_care_level": e.self_care_level,
                "channel": e.channel,
                "services": dumps(e.services),
                "status": "referred",
                "visit_interval_days": e.visit_interval_days,
                "referred_at": e.timestamp,
                "visit_count": 0,
            },
            ["case_id"],
        )

    def case_accepted(self, conn: Connection, e: Any, position: int) -> None:
        case_id = str(e.originator_id)
        set_values(conn, self.t.cases, {"case_id": case_id}, status="accepted", accepted_at=e.timestamp)
        self._refresh_case(conn, case_id)

    def case_ended(self, conn: Connection, e: Any, position: int) -> None:
        kind = type(e).__qualname__
        set_values(conn, self.t.cases, {"case_id": str(e.originator_id)}, status=ENDED[kind], ended_at=e.timestamp, next_visit_due=None)

    # --- visits ---------------------------------------------------------------------------
    def visit_delivered(self, conn: Connection, e: Any, position: int) -> None:
        upsert(conn, self.t.visits, self._visit(e, position), ["visit_id"])
        self._refresh_case(conn, e.case_id)

    def visits_delivered(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        """New visits only add to their cases' figures: each case's count and last visit are carried
        on from its row in memory instead of recounted, compared as the store compares them (SQLite:
        the stored wall-clock text; PostgreSQL: the instant)."""
        insert_many(conn, self.t.visits, [self._visit(e, position) for e, position in events], ["visit_id"])
        cases = fetch_many(conn, self.t.cases, ["case_id"], [e.case_id for e, _ in events])
        naive = conn.dialect.name == "sqlite"
        figures: dict[str, tuple[int, datetime | None]] = {}
        for e, _ in events:
            case = found(cases, e.case_id)
            count, last = figures.get(e.case_id, (case["visit_count"], case["last_visit_at"]))
            started = e.started_at.replace(tzinfo=None) if naive else e.started_at
            figures[e.case_id] = (count + 1, started if last is None or started > last else last)
        rows = [{"case_id": case_id, **self._case_figures(cases[case_id], count, last)} for case_id, (count, last) in figures.items()]
        set_many(conn, self.t.cases, ["case_id"], rows)

    @staticmethod
    def _visit(e: Any, position: int) -> dict[str, Any]:
        return {
            "visit_id": str(e.originator_id),
            "case_id": e.case_id,
            "contract_id": e.contract_id,
            "contractor_id": e.contractor_id,
            "worker_id": e.worker_id,
            "beneficiary_id": e.beneficiary_id,
            "township": e.township,
            "village": e.village,
            "service_code": e.service_code,
            "started_at": e.started_at,
            "ended_at": e.ended_at,
            "counts": True,
            "confirmation": None,
            "voided": False,
            "spot_check": None,
            "delivered_position": position,
        }

    def visit_confirmed(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.visits, {"visit_id": str(e.originator_id)}, confirmation="confirmed")

    def visit_disputed(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.visits, {"visit_id": str(e.originator_id)}, confirmation="disputed")
        self._stop_counting(conn, e)

    def visit_voided(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.visits, {"visit_id": str(e.originator_id)}, voided=True)
        self._stop_counting(conn, e)

    def visit_spot_checked(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.visits, {"visit_id": str(e.originator_id)}, spot_check=e.result)
        if e.result != "verified":
            self._stop_counting(conn, e)

    def _stop_counting(self, conn: Connection, e: Any) -> None:
        visit = fetch_one(conn, self.t.visits, visit_id=str(e.originator_id))
        set_values(conn, self.t.visits, {"visit_id": str(e.originator_id)}, counts=False)
        self._refresh_case(conn, visit["case_id"])

    def visits_changed(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        """A run of confirmations, disputes, voids or spot checks (one type): the changed column,
        then the visits that stop counting and their cases."""
        kind = type(events[0][0]).__name__
        column, value = {"Confirmed": ("confirmation", "confirmed"), "Disputed": ("confirmation", "disputed"), "Voided": ("voided", True), "SpotChecked": ("spot_check", None)}[kind]
        set_many(conn, self.t.visits, ["visit_id"], [{"visit_id": str(e.originator_id), column: value if value is not None else e.result} for e, _ in events])
        stopping = [str(e.originator_id) for e, _ in events if kind in ("Disputed", "Voided") or (kind == "SpotChecked" and e.result != "verified")]
        if not stopping:
            return
        visits = fetch_many(conn, self.t.visits, ["visit_id"], stopping)
        case_ids = [found(visits, visit_id)["case_id"] for visit_id in stopping]
        set_many(conn, self.t.visits, ["visit_id"], [{"visit_id": visit_id, "counts": False} for visit_id in stopping])
        self._refresh_cases(conn, case_ids)

    def _refresh_case(self, conn: Connection, case_id: str) -> None:
        """Visit count, last visit and the next visit due follow the visits that still count."""
        v = self.t.visits
        count, last = conn.execute(select(func.count(), func.max(v.c.started_at)).where(v.c.case_id == case_id, v.c.counts.is_(True))).one()
        case = fetch_one(conn, self.t.cases, case_id=case_id)
        set_values(conn, self.t.cases, {"case_id": case_id}, **self._case_figures(case, count, last))

    def _refresh_cases(self, conn: Connection, case_ids: list[str]) -> None:
        """_refresh_case for many cases: each ends as its last refresh one by one would leave it."""
        v = self.t.visits
        wanted = list(dict.fromkeys(case_ids))
        figures = {
            row.case_id: (row.count, row.last)
            for row in conn.execute(select(v.c.case_id, func.count().label("count"), func.max(v.c.started_at).label("last")).where(v.c.case_id.in_(wanted), v.c.counts.is_(True)).group_by(v.c.case_id))
        }
        cases = fetch_many(conn, self.t.cases, ["case_id"], wanted)
        rows = [{"case_id": case_id, **self._case_figures(found(cases, case_id), *figures.get(case_id, (0, None)))} for case_id in wanted]
        set_many(conn, self.t.cases, ["case_id"], rows)

    @staticmethod
    def _case_figures(case: Any, count: int, last: datetime | None) -> dict[str, Any]:
        due = None
        if case["status"] == "accepted":
            since = _aware(last) or _aware(case["accepted_at"])
            due = since + timedelta(days=case["visit_interval_days"])
        return {"visit_count": count, "last_visit_at": last, "next_visit_due": due}


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
