"""The trace: a tranche back to the milestone it paid, the visits that fulfilled it and the fund
it drew on; a fund to every contract and tranche it paid; a beneficiary to every service received.

Every row keeps the log position of the event it came from, so an auditor can check each figure
against the log (and the log against the hash chain). The visits behind a milestone are the ones
its fulfilment event names, never recounted here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert

from projections.base import VISIT_EVENTS, BatchHandler, Handler, Projection, all_commute, dumps, fen, fetch_many, fetch_one, found, insert_many, set_many, set_values, upsert

VISIT_CHANGES = ("Visit.Confirmed", "Visit.Disputed", "Visit.Voided", "Visit.SpotChecked")


class Trace(Projection):
    name = "trace"
    # A delivery writes its own visit's row (reading its line's price); each change writes its own
    # visit's change row and state, and reads nothing: every pair commutes.
    commuting = all_commute(*VISIT_EVENTS)

    def register(self) -> dict[str, Handler]:
        return {
            "Fund.Appropriated": self.appropriated,
            "Fund.Disbursed": self.disbursed,
            "Contract.Signed": self.signed,
            "Contract.MilestoneFulfilled": self.fulfilled,
            "Contract.TrancheReleased": self.released,
            "Contract.TrancheWithheld": self.withheld,
            "Beneficiary.Registered": self.registered,
            "Visit.Delivered": self.delivered,
            **{kind: self.visit_changed for kind in VISIT_CHANGES},
        }

    def register_batch(self) -> dict[str, BatchHandler]:
        return {"Visit.Delivered": self.visits_delivered, **{kind: self.visits_changed for kind in VISIT_CHANGES}}

    def owned_tables(self) -> list[Table]:
        t = self.t
        return [
            t.trace_funds, t.trace_contracts, t.trace_lines, t.trace_milestones, t.trace_counted, t.trace_tranches,
            t.trace_disbursements, t.trace_beneficiaries, t.trace_visits, t.trace_visit_events,
        ]  # fmt: skip

    def appropriated(self, conn: Connection, e: Any, position: int) -> None:
        row = {"fund_id": str(e.originator_id), "name": e.name, "appropriated_fen": fen(e.amount), "position": position}
        upsert(conn, self.t.trace_funds, row, ["fund_id"])

    def disbursed(self, conn: Connection, e: Any, position: int) -> None:
        row = {
            "contract_id": e.contract_id,
            "tranche_id": e.tranche_id,
            "fund_id": str(e.originator_id),
            "amount_fen": fen(e.amount),
            "position": position,
            "recorded_at": e.timestamp,
        }
        upsert(conn, self.t.trace_disbursements, row, ["contract_id", "tranche_id"])

    def signed(self, conn: Connection, e: Any, position: int) -> None:
        t, contract_id = self.t, str(e.originator_id)
        row = {"contract_id": contract_id, "contract_no": e.contract_no, "contractor_id": e.contractor_id, "fund_id": e.fund_id, "position": position}
        upsert(conn, t.trace_contracts, row, ["contract_id"])
        for line in e.lines:
            upsert(conn, t.trace_lines, {"contract_id": contract_id, "service_code": line["service_code"], "unit_price_fen": fen(line["unit_price"])}, ["contract_id", "service_code"])
        for m in e.milestones:
            row = {"contract_id": contract_id, "milestone_id": m["milestone_id"], "kind": m["kind"], "service_code": m["service_code"], "quantity": m["quantity"]}
            upsert(conn, t.trace_milestones, row, ["contract_id", "milestone_id"])
        for tr in e.tranches:
            row = {"contract_id": contract_id, "tranche_id": tr["tranche_id"], "milestone_id": tr["milestone_id"], "amount_fen": fen(tr["amount"]), "status": "pending"}
            upsert(conn, t.trace_tranches, row, ["contract_id", "tranche_id"])

    def fulfilled(self, conn: Connection, e: Any, position: int) -> None:
        contract_id = str(e.originator_id)
        counted = getattr(e, "counted", None)  # None: a fulfilment recorded before it named its visits
        where = {"contract_id": contract_id, "milestone_id": e.milestone_id}
        set_values(conn, self.t.trace_milestones, where, basis=dumps(e.basis), position=position, counted=None if counted is None else len(counted))
        if counted:
            rows = [{**where, "ordinal": n, "visit_id": c["visit_id"], "position": c["position"]} for n, c in enumerate(counted, start=1)]
            conn.execute(insert(self.t.trace_counted), rows)

    def released(self, conn: Connection, e: Any, position: int) -> None:
        where = {"contract_id": str(e.originator_id), "tranche_id": e.tranche_id}
        set_values(conn, self.t.trace_tranches, where, status="released", released_fen=fen(e.amount), withheld_fen=fen(e.withheld), position=position, recorded_at=e.timestamp)

    def withheld(self, conn: Connection, e: Any, position: int) -> None:
        where = {"contract_id": str(e.originator_id), "tranche_id": e.tranche_id}
        set_values(conn, self.t.trace_tranches, where, status="withheld", released_fen=0, withheld_fen=fen(e.amount), position=position, recorded_at=e.timestamp)

    def registered(self, conn: Connection, e: Any, position: int) -> None:
        upsert(conn, self.t.trace_beneficiaries, {"beneficiary_id": str(e.originator_id), "position": position}, ["beneficiary_id"])

    def delivered(self, conn: Connection, e: Any, position: int) -> None:
        line = fetch_one(conn, self.t.trace_lines, contract_id=e.contract_id, service_code=e.service_code)
        upsert(conn, self.t.trace_visits, self._visit(e, position, line), ["visit_id"])

    def visits_delivered(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        lines = fetch_many(conn, self.t.trace_lines, ["contract_id", "service_code"], [(e.contract_id, e.service_code) for e, _ in events])
        rows = [self._visit(e, position, found(lines, (e.contract_id, e.service_code))) for e, position in events]
        insert_many(conn, self.t.trace_visits, rows, ["visit_id"])

    @staticmethod
    def _visit(e: Any, position: int, line: Any) -> dict[str, Any]:
        return {
            "visit_id": str(e.originator_id),
            "contract_id": e.contract_id,
            "contractor_id": e.contractor_id,
            "case_id": e.case_id,
            "beneficiary_id": e.beneficiary_id,
            "worker_id": e.worker_id,
            "service_code": e.service_code,
            "started_at": e.started_at,
            "ended_at": e.ended_at,
            "position": position,
            "unit_price_fen": line["unit_price_fen"],
            "counts": True,
            "confirmation": None,
            "voided": False,
            "spot_check": None,
        }

    def visit_changed(self, conn: Connection, e: Any, position: int) -> None:
        row, state, stopped = self._change(e, position)
        upsert(conn, self.t.trace_visit_events, row, ["visit_id", "position"])
        if stopped:
            state["counts"] = False
        set_values(conn, self.t.trace_visits, {"visit_id": row["visit_id"]}, **state)

    def visits_changed(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        """A run of one kind of change: its rows, the visits' state, then the ones that stop counting
        (a visit only ever stops counting, so that may come last)."""
        changes = [self._change(e, position) for e, position in events]
        insert_many(conn, self.t.trace_visit_events, [row for row, _, _ in changes], ["visit_id", "position"])
        set_many(conn, self.t.trace_visits, ["visit_id"], [{"visit_id": row["visit_id"], **state} for row, state, _ in changes])
        set_many(conn, self.t.trace_visits, ["visit_id"], [{"visit_id": row["visit_id"], "counts": False} for row, _, stopped in changes if stopped])

    @staticmethod
    def _change(e: Any, position: int) -> tuple[dict[str, Any], dict[str, Any], bool]:
        """The change's own row, the visit's state it sets, and whether the visit stops counting."""
        visit_id, kind = str(e.originator_id), type(e).__name__
        stopped = getattr(e, "volume_delta", 0) < 0
        row = {
            "visit_id": visit_id,
            "position": position,
            "kind": kind,
            "channel": getattr(e, "channel", None),
            "result": getattr(e, "result", None),
            "note": getattr(e, "reason", None) or getattr(e, "note", None) or None,
            "stopped_counting": stopped,
            "recorded_at": e.timestamp,
        }
        state: dict[str, Any] = {
            "Confirmed": {"confirmation": "confirmed"},
            "Disputed": {"confirmation": "disputed"},
            "Voided": {"voided": True},
            "SpotChecked": {"spot_check": getattr(e, "result", None)},
        }[kind]
        return row, state, stopped
