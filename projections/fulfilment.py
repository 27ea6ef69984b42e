"""Contract fulfilment: service lines, milestones, tranches, money and evaluations per contract."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Table

from projections.base import VISIT_EVENTS, BatchHandler, Handler, Projection, all_commute, bump, bump_many, dumps, fen, fetch_many, fetch_one, found, insert_many, set_many, set_values, upsert

STATUS = {
    "Contract.Suspended": "suspended",
    "Contract.Resumed": "active",
    "Contract.Terminated": "terminated",
    "Contract.Accepted": "accepted",
    "Contract.Settled": "settled",
}


class Fulfilment(Projection):
    name = "fulfilment"
    # Each visit event sets its own visit's row (reading only that row) and adds to its line's
    # counters, which no visit handler reads: every pair commutes.
    commuting = all_commute(*VISIT_EVENTS)

    def register(self) -> dict[str, Handler]:
        return {
            "Contract.Signed": self.signed,
            "Contract.MilestoneFulfilled": self.milestone_fulfilled,
            "Contract.TrancheReleased": self.tranche_released,
            "Contract.TrancheReduced": self.tranche_reduced,
            "Contract.TrancheWithheld": self.tranche_withheld,
            **{kind: self.status_changed for kind in STATUS},
            "Fund.Decommitted": self.decommitted,
            "Visit.Delivered": self.visit_delivered,
            "Visit.Confirmed": self.visit_confirmed,
            "Visit.Disputed": self.visit_disputed,
            "Visit.Voided": self.visit_voided,
            "Visit.SpotChecked": self.visit_spot_checked,
            "Evaluation.Opened": self.evaluation_opened,
            "Evaluation.Scored": self.evaluation_scored,
            "Evaluation.Concluded": self.evaluation_concluded,
            "Evaluation.Appealed": self.evaluation_appealed,
            "Evaluation.AppealResolved": self.appeal_resolved,
        }

    def register_batch(self) -> dict[str, BatchHandler]:
        return {
            "Visit.Delivered": self.visits_delivered,
            **{kind: self.visits_changed for kind in ("Visit.Confirmed", "Visit.Disputed", "Visit.Voided", "Visit.SpotChecked")},
        }

    def owned_tables(self) -> list[Table]:
        t = self.t
        return [t.contracts, t.lines, t.milestones, t.tranches, t.evaluations, t.fulfilment_visits]

    # --- contracts ------------------------------------------------------------------------
    def signed(self, conn: Connection, e: Any, position: int) -> None:
        contract_id = str(e.originator_id)
        upsert(
            conn,
            self.t.contracts,
            {
                "contract_id": contract_id,
                "contract_no": e.contract_no,
                "title": e.title,
                "contractor_id": e.contractor_id,
                "fund_id": e.fund_id,
                "status": "active",
                "start_date": e.start_date,
                "end_date": e.end_date,
                "signed_at": e.timestamp,
                "budget_fen": fen(e.budget),
                "committed_fen": fen(e.budget),
                "released_fen": 0,
                "withheld_fen": 0,
            },
            ["contract_id"],
        )
        for line in e.lines:
            upsert(
                conn,
                self.t.lines,
                {
                    "contract_id": contract_id,
                    "service_code": line["service_code"],
                    "quantity": line["quantity"],
                    "unit_price_fen": fen(line["unit_price"]),
                    "posted": 0,
                    "delivered": 0,
                    "confirmed": 0,
                    "disputed": 0,
                    "voided": 0,
                    "failed_checks": 0,
                },
                ["contract_id", "service_code"],
            )
        for m in e.milestones:
            upsert(
                conn,
                self.t.milestones,
                {
                    "contract_id": contract_id,
                    "milestone_id": m["milestone_id"],
                    "kind": m["kind"],
                    "title": m["title"],
                    "service_code": m["service_code"],
                    "quantity": m["quantity"],
                    "stage": m["stage"],
                    "due_date": m["due_date"],
                    "status": "pending",
                },
                ["contract_id", "milestone_id"],
            )
        for tr in e.tranches:
            upsert(
                conn,
                self.t.tranches,
                {
                    "contract_id": contract_id,
                    "tranche_id": tr["tranche_id"],
                    "milestone_id": tr["milestone_id"],
                    "amount_fen": fen(tr["amount"]),
                    "reduced_fen": 0,
                    "released_fen": 0,
                    "withheld_fen": 0,
                    "status": "pending",
                },
                ["contract_id", "tranche_id"],
            )

    def milestone_fulfilled(self, conn: Connection, e: Any, position: int) -> None:
        key = {"contract_id": str(e.originator_id), "milestone_id": e.milestone_id}
        evaluation_id = (e.basis or {}).get("evaluation_id")
        set_values(conn, self.t.milestones, key, status="fulfilled", fulfilled_at=e.timestamp, evaluation_id=evaluation_id)

    def tranche_released(self, conn: Connection, e: Any, position: int) -> None:
        contract_id = str(e.originator_id)
        key = {"contract_id": contract_id, "tranche_id": e.tranche_id}
        set_values(conn, self.t.tranches, key, status="released", released_fen=fen(e.amount), withheld_fen=fen(e.withheld), released_at=e.timestamp)
        bump(conn, self.t.contracts, {"contract_id": contract_id}, released_fen=fen(e.amount), withheld_fen=fen(e.withheld))

    def tranche_reduced(self, conn: Connection, e: Any, position: int) -> None:
        bump(conn, self.t.tranches, {"contract_id": str(e.originator_id), "tranche_id": e.tranche_id}, reduced_fen=fen(e.amount))

    def tranche_withheld(self, conn: Connection, e: Any, position: int) -> None:
        contract_id = str(e.originator_id)
        set_values(conn, self.t.tranches, {"contract_id": contract_id, "tranche_id": e.tranche_id}, status="withheld", withheld_fen=fen(e.amount))
        bump(conn, self.t.contracts, {"contract_id": contract_id}, withheld_fen=fen(e.amount))

    def status_changed(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.contracts, {"contract_id": str(e.originator_id)}, status=STATUS[type(e).__qualname__])

    def decommitted(self, conn: Connection, e: Any, position: int) -> None:
        bump(conn, self.t.contracts, {"contract_id": e.contract_id}, committed_fen=-fen(e.amount))

    # --- visits ---------------------------------------------------------------------------
    def _line(self, visit: Any) -> dict[str, Any]:
        return {"contract_id": visit["contract_id"], "service_code": visit["service_code"]}

    def visit_delivered(self, conn: Connection, e: Any, position: int) -> None:
        upsert(
            conn,
            self.t.fulfilment_visits,
            {"visit_id": str(e.originator_id), "contract_id": e.contract_id, "service_code": e.service_code, "confirmation": None, "counts": True},
            ["visit_id"],
        )
        bump(conn, self.t.lines, {"contract_id": e.contract_id, "service_code": e.service_code}, posted=1, delivered=1)

    def visit_confirmed(self, conn: Connection, e: Any, position: int) -> None:
        visit = fetch_one(conn, self.t.fulfilment_visits, visit_id=str(e.originator_id))
        set_values(conn, self.t.fulfilment_visits, {"visit_id": visit["visit_id"]}, confirmation="confirmed")
        bump(conn, self.t.lines, self._line(visit), confirmed=1)

    def visit_disputed(self, conn: Connection, e: Any, position: int) -> None:
        visit = fetch_one(conn, self.t.fulfilment_visits, visit_id=str(e.originator_id))
        was_confirmed = visit["confirmation"] == "confirmed"
        set_values(conn, self.t.fulfilment_visits, {"visit_id": visit["visit_id"]}, confirmation="disputed", counts=False)
        bump(conn, self.t.lines, self._line(visit), disputed=1, confirmed=-1 if was_confirmed else 0, delivered=e.volume_delta)

    def visit_voided(self, conn: Connection, e: Any, position: int) -> None:
        visit = fetch_one(conn, self.t.fulfilment_visits, visit_id=str(e.originator_id))
        set_values(conn, self.t.fulfilment_visits, {"visit_id": visit["visit_id"]}, counts=False)
        bump(conn, self.t.lines, self._line(visit), voided=1, delivered=e.volume_delta)

    def visit_spot_checked(self, conn: Connection, e: Any, position: int) -> None:
        if e.result == "verified":
            return
        visit = fetch_one(conn, self.t.fulfilment_visits, visit_id=str(e.originator_id))
        set_values(conn, self.t.fulfilment_visits, {"visit_id": visit["visit_id"]}, counts=False)
        bump(conn, self.t.lines, self._line(visit), failed_checks=1, delivered=e.volume_delta)

    def visits_delivered(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        rows = [{"visit_id": str(e.originator_id), "contract_id": e.contract_id, "service_code": e.service_code, "confirmation": None, "counts": True} for e, _ in events]
        insert_many(conn, self.t.fulfilment_visits, rows, ["visit_id"])
        bump_many(conn, self.t.lines, ["contract_id", "service_code"], [{"contract_id": e.contract_id, "service_code": e.service_code, "posted": 1, "delivered": 1} for e, _ in events])

    def visits_changed(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        """A run of confirmations, disputes, voids or failed spot checks (one type), as the
        per-event handlers above: each visit read once, its changes and its line's counts at once."""
        kind = type(events[0][0]).__name__
        events = [(e, p) for e, p in events if not (kind == "SpotChecked" and e.result == "verified")]
        if not events:
            return
        visits = fetch_many(conn, self.t.fulfilment_visits, ["visit_id"], [str(e.originator_id) for e, _ in events])
        confirmation = {k: v["confirmation"] for k, v in visits.items()}  # as it stands after each event
        changes, counts = [], []
        for e, _ in events:
            visit = found(visits, str(e.originator_id))
            line = self._line(visit)
            if kind == "Confirmed":
                changes.append({"visit_id": visit["visit_id"], "confirmation": "confirmed"})
                counts.append({**line, "confirmed": 1})
            elif kind == "Disputed":
                was_confirmed = confirmation[visit["visit_id"]] == "confirmed"
                changes.append({"visit_id": visit["visit_id"], "confirmation": "disputed", "counts": False})
                counts.append({**line, "disputed": 1, "confirmed": -1 if was_confirmed else 0, "delivered": e.volume_delta})
            else:
                changes.append({"visit_id": visit["visit_id"], "counts": False})
                counts.append({**line, "voided" if kind == "Voided" else "failed_checks": 1, "delivered": e.volume_delta})
            confirmation[visit["visit_id"]] = changes[-1].get("confirmation", confirmation[visit["visit_id"]])
        set_many(conn, self.t.fulfilment_visits, ["visit_id"], changes)
        bump_many(conn, self.t.lines, ["contract_id", "service_code"], counts)

    # --- evaluations ----------------------------------------------------------------------
    def evaluation_opened(self, conn: Connection, e: Any, position: int) -> None:
        upsert(
            conn,
            self.t.evaluations,
            {
                "evaluation_id": str(e.originator_id),
                "contract_id": e.contract_id,
                "contractor_id": e.contractor_id,
                "stage": e.stage,
                "status": "open",
                "scores": dumps({}),
                "opened_at": e.timestamp,
            },
            ["evaluation_id"],
        )

    def evaluation_scored(self, conn: Connection, e: Any, position: int) -> None:
        row = fetch_one(conn, self.t.evaluations, evaluation_id=str(e.originator_id))
        scores = {**json.loads(row["scores"]), **{k: str(v) for k, v in e.scores.items()}}
        set_values(conn, self.t.evaluations, {"evaluation_id": row["evaluation_id"]}, scores=dumps(scores))

    def evaluation_concluded(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.evaluations, {"evaluation_id": str(e.originator_id)}, status="concluded", total=str(e.total), grade=e.grade)

    def evaluation_appealed(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.evaluations, {"evaluation_id": str(e.originator_id)}, status="appealed", appeal="pending")

    def appeal_resolved(self, conn: Connection, e: Any, position: int) -> None:
        set_values(
            conn,
            self.t.evaluations,
            {"evaluation_id": str(e.originator_id)},
            status="final",
            total=str(e.total),
            grade=e.grade,
            appeal="upheld" if e.upheld else "dismissed",
            scores=dumps({k: str(v) for k, v in e.scores.items()}),
        )
