"""Fund usage: appropriated, committed, disbursed and available per fund, with the value of
delivered visits broken down by township, service class and beneficiary category, and the
contracted value by service class."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table

from ledger.domain.catalogue import SERVICES
from projections.base import VISIT_EVENTS, BatchHandler, Handler, Projection, add_to, add_to_many, all_commute, bump, fen, fetch_many, fetch_one, found, insert_many, set_many, set_values, upsert

DIMENSIONS = ("township", "service_class", "category")


class FundUsage(Projection):
    name = "funds"
    # A delivery writes its own visit's row (reading the contract, line and beneficiary, which no
    # visit event writes) and adds to the breakdown's counters; a change that stops a visit
    # counting sets that row and subtracts from the same counters, which no visit handler reads.
    commuting = all_commute(*VISIT_EVENTS)

    def register(self) -> dict[str, Handler]:
        return {
            "Fund.Appropriated": self.appropriated,
            "Fund.Committed": self.committed,
            "Fund.Decommitted": self.decommitted,
            "Fund.Disbursed": self.disbursed,
            "Contract.Signed": self.contract_signed,
            "Beneficiary.Registered": self.beneficiary_registered,
            "Beneficiary.CategoryChanged": self.category_changed,
            "Visit.Delivered": self.visit_delivered,
            "Visit.Voided": self.visit_changed,
            "Visit.Disputed": self.visit_changed,
            "Visit.SpotChecked": self.visit_changed,
        }

    def register_batch(self) -> dict[str, BatchHandler]:
        return {
            "Visit.Delivered": self.visits_delivered,
            "Visit.Voided": self.visits_changed,
            "Visit.Disputed": self.visits_changed,
            "Visit.SpotChecked": self.visits_changed,
        }

    def owned_tables(self) -> list[Table]:
        t = self.t
        return [t.funds, t.fund_contracts, t.fund_lines, t.fund_beneficiaries, t.fund_visits, t.fund_breakdown]

    def appropriated(self, conn: Connection, e: Any, position: int) -> None:
        upsert(
            conn,
            self.t.funds,
            {
                "fund_id": str(e.originator_id),
                "name": e.name,
                "source": e.source,
                "fiscal_year": e.fiscal_year,
                "appropriated_fen": fen(e.amount),
                "committed_fen": 0,
                "disbursed_fen": 0,
                "appropriated_at": e.timestamp,
            },
            ["fund_id"],
        )

    def committed(self, conn: Connection, e: Any, position: int) -> None:
        bump(conn, self.t.funds, {"fund_id": str(e.originator_id)}, committed_fen=fen(e.amount))

    def decommitted(self, conn: Connection, e: Any, position: int) -> None:
        bump(conn, self.t.funds, {"fund_id": str(e.originator_id)}, committed_fen=-fen(e.amount))

    def disbursed(self, conn: Connection, e: Any, position: int) -> None:
        bump(conn, self.t.funds, {"fund_id": str(e.originator_id)}, disbursed_fen=fen(e.amount))

    def contract_signed(self, conn: Connection, e: Any, position: int) -> None:
        contract_id = str(e.originator_id)
        upsert(conn, self.t.fund_contracts, {"contract_id": contract_id, "fund_id": e.fund_id}, ["contract_id"])
        for line in e.lines:
            price = fen(line["unit_price"])
            upsert(conn, self.t.fund_lines, {"contract_id": contract_id, "service_code": line["service_code"], "unit_price_fen": price}, ["contract_id", "service_code"])
            self._add(conn, e.fund_id, "service_class", SERVICES[line["service_code"]].service_class.value, contracted_fen=price * line["quantity"], delivered_fen=0, visits=0)

    def beneficiary_registered(self, conn: Connection, e: Any, position: int) -> None:
        upsert(conn, self.t.fund_beneficiaries, {"beneficiary_id": str(e.originator_id), "category": e.category}, ["beneficiary_id"])

    def category_changed(self, conn: Connection, e: Any, position: int) -> None:
        set_values(conn, self.t.fund_beneficiaries, {"beneficiary_id": str(e.originator_id)}, category=e.category)

    def visit_delivered(self, conn: Connection, e: Any, position: int) -> None:
        contract = fetch_one(conn, self.t.fund_contracts, contract_id=e.contract_id)
        line = fetch_one(conn, self.t.fund_lines, contract_id=e.contract_id, service_code=e.service_code)
        person = fetch_one(conn, self.t.fund_beneficiaries, beneficiary_id=e.beneficiary_id)
        visit = self._visit(e, contract, line, person)
        upsert(conn, self.t.fund_visits, visit, ["visit_id"])
        self._count(conn, visit, 1)

    def visits_delivered(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        t = self.t
        contracts = fetch_many(conn, t.fund_contracts, ["contract_id"], [e.contract_id for e, _ in events])
        lines = fetch_many(conn, t.fund_lines, ["contract_id", "service_code"], [(e.contract_id, e.service_code) for e, _ in events])
        people = fetch_many(conn, t.fund_beneficiaries, ["beneficiary_id"], [e.beneficiary_id for e, _ in events])
        visits = [self._visit(e, found(contracts, e.contract_id), found(lines, (e.contract_id, e.service_code)), found(people, e.beneficiary_id)) for e, _ in events]
        insert_many(conn, t.fund_visits, visits, ["visit_id"])
        add_to_many(conn, t.fund_breakdown, ["fund_id", "dimension", "key"], [row for visit in visits for row in self._counts(visit, 1)])

    @staticmethod
    def _visit(e: Any, contract: Any, line: Any, person: Any) -> dict[str, Any]:
        return {
            "visit_id": str(e.originator_id),
            "fund_id": contract["fund_id"],
            "township": e.township,
            "service_class": SERVICES[e.service_code].service_class.value,
            "category": person["category"],  # the category when the service was given
            "value_fen": line["unit_price_fen"],
            "counts": True,
        }

    def visit_changed(self, conn: Connection, e: Any, position: int) -> None:
        if e.volume_delta == 0:
            return
        visit = fetch_one(conn, self.t.fund_visits, visit_id=str(e.originator_id))
        set_values(conn, self.t.fund_visits, {"visit_id": visit["visit_id"]}, counts=False)
        self._count(conn, visit, -1)

    def visits_changed(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        ids = [str(e.originator_id) for e, _ in events if e.volume_delta != 0]
        if not ids:
            return
        visits = fetch_many(conn, self.t.fund_visits, ["visit_id"], ids)
        stopped = [found(visits, visit_id) for visit_id in ids]
        set_many(conn, self.t.fund_visits, ["visit_id"], [{"visit_id": v["visit_id"], "counts": False} for v in stopped])
        add_to_many(conn, self.t.fund_breakdown, ["fund_id", "dimension", "key"], [row for v in stopped for row in self._counts(v, -1)])

    @staticmethod
    def _counts(visit: Any, sign: int) -> list[dict[str, Any]]:
        return [{"fund_id": visit["fund_id"], "dimension": d, "key": visit[d], "contracted_fen": 0, "delivered_fen": sign * visit["value_fen"], "visits": sign} for d in DIMENSIONS]

    def _count(self, conn: Connection, visit: Any, sign: int) -> None:
        for dimension in DIMENSIONS:
            self._add(conn, visit["fund_id"], dimension, visit[dimension], contracted_fen=0, delivered_fen=sign * visit["value_fen"], visits=sign)

    def _add(self, conn: Connection, fund_id: str, dimension: str, key: str, **deltas: int) -> None:
        add_to(conn, self.t.fund_breakdown, {"fund_id": fund_id, "dimension": dimension, "key": key}, **deltas)
