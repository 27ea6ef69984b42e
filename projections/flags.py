"""Red flags: what an auditor should look at, each naming its evidence (event positions and ids).

Kinds, and when each is raised:
- deregistered_beneficiary: a visit that started at or after its beneficiary's deregistration,
  whichever of the two reached the log first (one flag per visit).
- overlapping_visits: a visit whose times overlap another unvoided visit by the same worker
  (one flag per later visit, naming the earlier ones).
- worker_day_limit: more visits posted by one worker on one UTC day than the policy's
  `max_visits_per_worker_day` (one flag per worker and day; its evidence grows with the day).
  Posted visits count, voided or not: a void after the fact does not make the day possible.
- over_contracted_quantity: visits that count on a contract line beyond its contracted quantity
  (one flag per line, naming each visit past the quantity).
- shared_evidence_hash: a visit whose evidence hash an earlier visit already carries.
- disputes_and_failed_checks: a summary per contractor, raised by its first disputed visit or
  failed spot check and updated with each further one (counts in the detail, each one in the
  evidence): every dispute and failed check is a fact an auditor wants to see, so no threshold.
- paid_above_confirmed: a contract whose released money exceeds the value (line unit price) of
  its visits confirmed by the beneficiary that still count; checked at each release and each
  confirmed visit that stops counting (one flag per contract).

A flag, once raised, stays: it records that the condition held at `raised_position`; its detail
shows the latest figures. The threshold of worker_day_limit is the value in force when the event
is processed; a rebuild (`ledger projections rebuild flags`) applies today's value to all history.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, Table, and_, or_, select

from projections.base import BatchHandler, Handler, Projection, add_to, add_to_many, bump, bump_many, dumps, fen, fetch_many, fetch_one, found, insert_many, set_many, set_values, upsert, yuan

KINDS = (
    "deregistered_beneficiary",
    "overlapping_visits",
    "worker_day_limit",
    "over_contracted_quantity",
    "shared_evidence_hash",
    "disputes_and_failed_checks",
    "paid_above_confirmed",
)
_NAMESPACE = uuid.UUID("6f1d7a52-3c1e-4f1a-9b7e-2d0c5e8a4b19")


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _proof(position: int, event: str, id_: str) -> dict[str, Any]:
    return {"position": position, "event": event, "id": id_}


def _visit_proof(visit: Any) -> dict[str, Any]:
    return _proof(visit["position"], "Visit.Delivered", visit["visit_id"])


class RedFlags(Projection):
    name = "flags"

    def register(self) -> dict[str, Handler]:
        return {
            "Contract.Signed": self.contract_signed,
            "Contract.TrancheReleased": self.tranche_released,
            "Beneficiary.Deregistered": self.deregistered,
            "Visit.Delivered": self.delivered,
            "Visit.Confirmed": self.confirmed,
            "Visit.Disputed": self.visit_changed,
            "Visit.Voided": self.visit_changed,
            "Visit.SpotChecked": self.visit_changed,
        }

    def register_batch(self) -> dict[str, BatchHandler]:
        return {"Visit.Delivered": self.delivered_run, "Visit.Confirmed": self.confirmed_run}

    def owned_tables(self) -> list[Table]:
        t = self.t
        return [t.flags, t.flag_visits, t.flag_beneficiaries, t.flag_lines, t.flag_contracts, t.flag_worker_days]

    # --- what the flags need ------------------------------------------------------------------
    def contract_signed(self, conn: Connection, e: Any, position: int) -> None:
        contract_id = str(e.originator_id)
        upsert(conn, self.t.flag_contracts, {"contract_id": contract_id, "contractor_id": e.contractor_id, "signed_position": position, "released_fen": 0, "confirmed_fen": 0}, ["contract_id"])
        for line in e.lines:
            row = {"contract_id": contract_id, "service_code": line["service_code"], "quantity": line["quantity"], "unit_price_fen": fen(line["unit_price"]), "delivered": 0}
            upsert(conn, self.t.flag_lines, row, ["contract_id", "service_code"])

    def deregistered(self, conn: Connection, e: Any, position: int) -> None:
        beneficiary_id, at = str(e.originator_id), _utc(e.timestamp)
        upsert(conn, self.t.flag_beneficiaries, {"beneficiary_id": beneficiary_id, "deregistered_at": at, "position": position}, ["beneficiary_id"])
        v = self.t.flag_visits
        later = select(v).where(v.c.beneficiary_id == beneficiary_id, v.c.started_at >= at, v.c.voided.is_(False)).order_by(v.c.position)
        for visit in conn.execute(later).mappings():
            self._deregistered_visit(conn, visit, position, at, position, at)

    def delivered(self, conn: Connection, e: Any, position: int) -> None:
        visit = self._visit(e, position)
        started = visit["started_at"]
        person = fetch_one(conn, self.t.flag_beneficiaries, beneficiary_id=e.beneficiary_id)
        if person is not None and started >= _utc(person["deregistered_at"]):
            self._deregistered_visit(conn, visit, person["position"], _utc(person["deregistered_at"]), position, e.timestamp)
        self._overlaps(conn, visit, e.timestamp)
        self._shared_evidence(conn, visit, e.timestamp)
        upsert(conn, self.t.flag_visits, visit, ["visit_id"])
        self._day_count(conn, visit, e.timestamp)
        self._line_count(conn, visit, 1, position, e.timestamp)

    @staticmethod
    def _visit(e: Any, position: int) -> dict[str, Any]:
        started, ended = _utc(e.started_at), _utc(e.ended_at)
        return {
            "visit_id": str(e.originator_id),
            "position": position,
            "contract_id": e.contract_id,
            "contractor_id": e.contractor_id,
            "beneficiary_id": e.beneficiary_id,
            "worker_id": e.worker_id,
            "service_code": e.service_code,
            "started_at": started,
            "ended_at": ended,
            "day": started.date(),
            "evidence_hash": e.evidence_hash or None,
            "voided": False,
            "counts": True,
            "confirmed": False,
        }

    def delivered_run(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        """A run of deliveries. What each would find is read once for the run and followed in
        memory; a visit that raises or updates any flag goes through delivered() above, after the
        quiet visits before it are written, so every flag is raised exactly as one by one."""
        t = self.t
        visits = [self._visit(e, position) for e, position in events]
        people = fetch_many(conn, t.flag_beneficiaries, ["beneficiary_id"], [v["beneficiary_id"] for v in visits])
        days = {k: row["visits"] for k, row in fetch_many(conn, t.flag_worker_days, ["worker_id", "day"], [(v["worker_id"], v["day"]) for v in visits]).items()}
        lines = fetch_many(conn, t.flag_lines, ["contract_id", "service_code"], [(v["contract_id"], v["service_code"]) for v in visits])
        delivered = {k: row["delivered"] for k, row in lines.items()}
        fv = t.flag_visits
        overlapping = conn.execute(
            select(fv.c.worker_id, fv.c.started_at, fv.c.ended_at).where(
                fv.c.voided.is_(False), or_(*[and_(fv.c.worker_id == v["worker_id"], fv.c.started_at < v["ended_at"], fv.c.ended_at > v["started_at"]) for v in visits])
            )
        ).all()
        seen = [(row.worker_id, _aware(row.started_at), _aware(row.ended_at)) for row in overlapping]
        hashes = {v["evidence_hash"] for v in visits if v["evidence_hash"]}
        shared = set(conn.execute(select(fv.c.evidence_hash).where(fv.c.evidence_hash.in_(hashes))).scalars()) if hashes else set()
        quiet: list[dict[str, Any]] = []
        limit = self.policy.max_visits_per_worker_day
        for (e, position), v in zip(events, visits, strict=True):
            day, line = (v["worker_id"], v["day"]), (v["contract_id"], v["service_code"])
            found(lines, line)  # one by one, a visit on a line the contract lacks fails
            person = people.get(v["beneficiary_id"])
            flagged = (
                (person is not None and v["started_at"] >= _utc(person["deregistered_at"]))
                or any(w == v["worker_id"] and s < v["ended_at"] and f > v["started_at"] for w, s, f in seen)
                or (v["evidence_hash"] is not None and v["evidence_hash"] in shared)
                or days.get(day, 0) + 1 > limit
                or delivered[line] + 1 > lines[line]["quantity"]
            )
            if flagged:
                self._write_quiet(conn, quiet)
                quiet = []
                self.delivered(conn, e, position)
            else:
                quiet.append(v)
            seen.append((v["worker_id"], v["started_at"], v["ended_at"]))
            if v["evidence_hash"]:
                shared.add(v["evidence_hash"])
            days[day] = days.get(day, 0) + 1
            delivered[line] += 1
        self._write_quiet(conn, quiet)

    def _write_quiet(self, conn: Connection, visits: list[dict[str, Any]]) -> None:
        """Deliveries that raise nothing: their rows, worker days and line counts, one statement each."""
        if not visits:
            return
        insert_many(conn, self.t.flag_visits, visits, ["visit_id"])
        add_to_many(conn, self.t.flag_worker_days, ["worker_id", "day"], [{"worker_id": v["worker_id"], "day": v["day"], "visits": 1} for v in visits])
        bump_many(conn, self.t.flag_lines, ["contract_id", "service_code"], [{"contract_id": v["contract_id"], "service_code": v["service_code"], "delivered": 1} for v in visits])

    def confirmed(self, conn: Connection, e: Any, position: int) -> None:
        visit = fetch_one(conn, self.t.flag_visits, visit_id=str(e.originator_id))
        set_values(conn, self.t.flag_visits, {"visit_id": visit["visit_id"]}, confirmed=True)
        if visit["counts"]:
            bump(conn, self.t.flag_contracts, {"contract_id": visit["contract_id"]}, confirmed_fen=self._price(conn, visit))

    def confirmed_run(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        visits = fetch_many(conn, self.t.flag_visits, ["visit_id"], [str(e.originator_id) for e, _ in events])
        confirmed = [found(visits, str(e.originator_id)) for e, _ in events]
        counting = [v for v in confirmed if v["counts"]]
        prices = fetch_many(conn, self.t.flag_lines, ["contract_id", "service_code"], [(v["contract_id"], v["service_code"]) for v in counting])
        set_many(conn, self.t.flag_visits, ["visit_id"], [{"visit_id": v["visit_id"], "confirmed": True} for v in confirmed])
        bump_many(
            conn,
            self.t.flag_contracts,
            ["contract_id"],
            [{"contract_id": v["contract_id"], "confirmed_fen": int(found(prices, (v["contract_id"], v["service_code"]))["unit_price_fen"])} for v in counting],
        )

    def visit_changed(self, conn: Connection, e: Any, position: int) -> None:
        visit = fetch_one(conn, self.t.flag_visits, visit_id=str(e.originator_id))
        kind = type(e).__name__
        changes: dict[str, Any] = {}
        if kind == "Voided":
            changes["voided"] = True
        if kind == "Disputed":
            changes["confirmed"] = False
        if e.volume_delta:
            changes["counts"] = False
            self._line_count(conn, visit, e.volume_delta, position, e.timestamp)
            if visit["confirmed"]:  # a confirmed visit that stops counting no longer backs a payment
                bump(conn, self.t.flag_contracts, {"contract_id": visit["contract_id"]}, confirmed_fen=-self._price(conn, visit))
                self._check_paid(conn, visit["contract_id"], _proof(position, f"Visit.{kind}", visit["visit_id"]), e.timestamp)
        if changes:
            set_values(conn, self.t.flag_visits, {"visit_id": visit["visit_id"]}, **changes)
        if kind == "Disputed" or (kind == "SpotChecked" and e.result != "verified"):
            self._quality(conn, visit, kind, position, e.timestamp)

    def tranche_released(self, conn: Connection, e: Any, position: int) -> None:
        contract_id = str(e.originator_id)
        bump(conn, self.t.flag_contracts, {"contract_id": contract_id}, released_fen=fen(e.amount))
        self._check_paid(conn, contract_id, _proof(position, "Contract.TrancheReleased", e.tranche_id), e.timestamp)

    # --- the checks ---------------------------------------------------------------------------
    def _deregistered_visit(self, conn: Connection, visit: Any, deregistered_position: int, at: datetime, position: int, when: datetime) -> None:
        evidence = [_proof(deregistered_position, "Beneficiary.Deregistered", visit["beneficiary_id"]), _visit_proof(visit)]
        detail = {"beneficiary_id": visit["beneficiary_id"], "deregistered_at": at.isoformat(), "visit_started_at": _utc(visit["started_at"]).isoformat()}
        self._raise(conn, "deregistered_beneficiary", visit["visit_id"], visit, position, when, detail, evidence, contract_id=visit["contract_id"])

    def _overlaps(self, conn: Connection, visit: dict[str, Any], when: datetime) -> None:
        v = self.t.flag_visits
        overlapping = (
            select(v)
            .where(v.c.worker_id == visit["worker_id"], v.c.voided.is_(False), v.c.started_at < visit["ended_at"], v.c.ended_at > visit["started_at"])
            .order_by(v.c.position)
        )
        others = list(conn.execute(overlapping).mappings())
        if others:
            detail = {"worker_id": visit["worker_id"], "visits": len(others) + 1}
            evidence = [*map(_visit_proof, others), _visit_proof(visit)]
            self._raise(conn, "overlapping_visits", visit["visit_id"], visit, visit["position"], when, detail, evidence, contract_id=visit["contract_id"])

    def _shared_evidence(self, conn: Connection, visit: dict[str, Any], when: datetime) -> None:
        if not visit["evidence_hash"]:
            return
        v = self.t.flag_visits
        others = list(conn.execute(select(v).where(v.c.evidence_hash == visit["evidence_hash"]).order_by(v.c.position)).mappings())
        if others:
            detail = {"evidence_hash": visit["evidence_hash"], "visits": len(others) + 1}
            evidence = [*map(_visit_proof, others), _visit_proof(visit)]
            self._raise(conn, "shared_evidence_hash", visit["visit_id"], visit, visit["position"], when, detail, evidence, contract_id=visit["contract_id"])

    def _day_count(self, conn: Connection, visit: dict[str, Any], when: datetime) -> None:
        key = {"worker_id": visit["worker_id"], "day": visit["day"]}
        add_to(conn, self.t.flag_worker_days, key, visits=1)
        count = fetch_one(conn, self.t.flag_worker_days, **key)["visits"]
        if count > self.policy.max_visits_per_worker_day:
            detail = {"worker_id": visit["worker_id"], "day": visit["day"].isoformat(), "visits": count, "limit": self.policy.max_visits_per_worker_day}
            v = self.t.flag_visits
            day = conn.execute(select(v).where(v.c.worker_id == visit["worker_id"], v.c.day == visit["day"]).order_by(v.c.position)).mappings()
            subject = f"{visit['worker_id']}/{visit['day'].isoformat()}"
            self._raise(conn, "worker_day_limit", subject, visit, visit["position"], when, detail, [*map(_visit_proof, day)], subject_id=visit["worker_id"])

    def _line_count(self, conn: Connection, visit: Any, delta: int, position: int, when: datetime) -> None:
        key = {"contract_id": visit["contract_id"], "service_code": visit["service_code"]}
        bump(conn, self.t.flag_lines, key, delivered=delta)
        line = fetch_one(conn, self.t.flag_lines, **key)
        if delta > 0 and line["delivered"] > line["quantity"]:
            detail = {"service_code": line["service_code"], "quantity": line["quantity"], "delivered": line["delivered"]}
            subject = f"{visit['contract_id']}/{visit['service_code']}"
            self._raise(conn, "over_contracted_quantity", subject, visit, position, when, detail, [_visit_proof(visit)], subject_id=visit["contract_id"], contract_id=visit["contract_id"])

    def _quality(self, conn: Connection, visit: Any, kind: str, position: int, at: datetime) -> None:
        flag = fetch_one(conn, self.t.flags, flag_id=_flag_id("disputes_and_failed_checks", visit["contractor_id"]))
        counts = json.loads(flag["detail"]) if flag is not None else {"disputed": 0, "failed_checks": 0}
        counts["disputed" if kind == "Disputed" else "failed_checks"] += 1
        proof = _proof(position, f"Visit.{kind}", visit["visit_id"])
        self._raise(conn, "disputes_and_failed_checks", visit["contractor_id"], visit, position, at, counts, [proof], subject_id=visit["contractor_id"])

    def _check_paid(self, conn: Connection, contract_id: str, proof: dict[str, Any], at: datetime) -> None:
        contract = fetch_one(conn, self.t.flag_contracts, contract_id=contract_id)
        if contract["released_fen"] > contract["confirmed_fen"]:
            detail = {"released": yuan(contract["released_fen"]), "confirmed_value": yuan(contract["confirmed_fen"])}
            self._raise(conn, "paid_above_confirmed", contract_id, contract, proof["position"], at, detail, [proof], contract_id=contract_id)

    def _price(self, conn: Connection, visit: Any) -> int:
        return int(fetch_one(conn, self.t.flag_lines, contract_id=visit["contract_id"], service_code=visit["service_code"])["unit_price_fen"])

    def _raise(
        self,
        conn: Connection,
        kind: str,
        key: str,
        about: Any,
        position: int,
        at: datetime,
        detail: dict[str, Any],
        evidence: list[dict[str, Any]],
        *,
        subject_id: str | None = None,
        contract_id: str | None = None,
    ) -> None:
        """Raises a flag, or updates it: the latest detail, the evidence added to what it named."""
        flag_id = _flag_id(kind, key)
        old = fetch_one(conn, self.t.flags, flag_id=flag_id)
        if old is not None:
            named = json.loads(old["evidence"])
            seen = {(p["position"], p["id"]) for p in named}
            named += [p for p in evidence if (p["position"], p["id"]) not in seen]
            set_values(conn, self.t.flags, {"flag_id": flag_id}, updated_position=position, detail=dumps(detail), evidence=dumps(named))
            return
        row = {
            "flag_id": flag_id,
            "kind": kind,
            "contractor_id": about["contractor_id"],
            "contract_id": contract_id,
            "subject_id": subject_id or key,
            "raised_position": position,
            "raised_at": _utc(at),
            "updated_position": position,
            "detail": dumps(detail),
            "evidence": dumps(evidence),
        }
        upsert(conn, self.t.flags, row, ["flag_id"])


def _flag_id(kind: str, key: str) -> str:
    """The same flag gets the same id live and in a rebuild."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))
