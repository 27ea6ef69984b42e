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

A flag names at most EVIDENCE_LIMIT events as evidence: the earliest, and for a visit's own flag
the visit itself; its detail gives the full count, and the visit lists (by worker, day, contract)
give the rest. A contractor posting thousands of visits with one evidence hash or into one day
makes flags of bounded size, not a quadratic pile of proofs.

A flag, once raised, stays: it records that the condition held at `raised_position`; its detail
shows the latest figures. The threshold of worker_day_limit is the value in force when the event
is processed; a rebuild (`ledger projections rebuild flags`) applies today's value to all history.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, DateTime, Table, and_, bindparam, column, func, select, true, values
from sqlalchemy.dialects.postgresql import ARRAY

from projections.base import VISIT_EVENTS, BatchHandler, Handler, Projection, _statement, bump, bump_many, dumps, fen, fetch_many, fetch_one, found, insert_many, set_many, set_values, upsert, yuan

EVIDENCE_LIMIT = 50  # events a flag names; its detail counts them all

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


def _named(proofs: list[dict[str, Any]], proof: dict[str, Any]) -> list[dict[str, Any]]:
    """The first proofs of something, as many as a flag names, with one more if room is left."""
    return proofs if len(proofs) >= EVIDENCE_LIMIT else [*proofs, proof]


def _seconds(visit: dict[str, Any]) -> int:
    """A visit's length in whole seconds, rounded up (a bound must not fall short)."""
    return math.ceil((visit["ended_at"] - visit["started_at"]).total_seconds())


def _overlap_columns(fv: Table) -> tuple[Any, ...]:
    return (fv.c.visit_id, fv.c.position, fv.c.worker_id, fv.c.started_at, fv.c.ended_at)


def _overlap(fv: Table, run: Any) -> Any:
    """A stored unvoided visit of the run row's worker that started in its window and overlaps it."""
    return and_(fv.c.worker_id == run.c.worker_id, fv.c.started_at >= run.c.window_start, fv.c.started_at < run.c.ended_at, fv.c.ended_at > run.c.started_at, fv.c.voided.is_(False))


def _overlapping_pg(fv: Table) -> Any:
    """The overlap lookup on PostgreSQL: the run as arrays (one statement, compiled once, whatever
    the run's length) and one index range scan per run row (LATERAL), where a plain join is
    often planned as a hash join over the whole table, its estimates lagging a growing table."""
    stamps = ARRAY(DateTime(timezone=True))
    run = (
        func.unnest(bindparam("workers", type_=ARRAY(fv.c.worker_id.type)), bindparam("windows", type_=stamps), bindparam("starts", type_=stamps), bindparam("ends", type_=stamps))
        .table_valued("worker_id", "window_start", "started_at", "ended_at")
        .render_derived(name="run")
    )
    windows = select(*_overlap_columns(fv)).where(_overlap(fv, run)).lateral("windows")
    return select(windows).distinct().select_from(run).join(windows, true()).order_by(windows.c.position)


def _window_start(visit: dict[str, Any], longest_seconds: int) -> datetime:
    """The earliest start of a stored visit that can overlap this one: none lasted longer."""
    started: datetime = visit["started_at"]
    return started - timedelta(seconds=longest_seconds)


class RedFlags(Projection):
    name = "flags"
    # A void changes what a later delivery finds (its overlaps, its line's count) and a confirmation
    # what a later void or release finds (the contract's confirmed value): the visit events keep
    # their order, in one run that visits_run follows in memory.
    mixed = frozenset(VISIT_EVENTS)

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
        return dict.fromkeys(VISIT_EVENTS, self.visits_run)

    def owned_tables(self) -> list[Table]:
        t = self.t
        return [t.flags, t.flag_visits, t.flag_beneficiaries, t.flag_lines, t.flag_contracts, t.flag_worker_days, t.flag_workers, t.flag_hashes]

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

    def visits_run(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        """A run of visit events of any type, followed in memory in log order. What each event
        would find (the visits it changes, its beneficiary's deregistration, its worker's earlier
        overlapping visits, earlier visits with its evidence hash, its worker's day, its line, its
        contract, its contractor's disputes and failed checks) is read once for the run; the flags
        raised or updated are gathered in log order and written with the rows at the end. The
        rows are those the per-event handlers leave event after event, in a fixed number of
        statements."""
        t = self.t
        delivering = [(e, position) for e, position in events if type(e).__name__ == "Delivered"]
        new = {str(e.originator_id): self._visit(e, position) for e, position in delivering}
        changed_ids = [str(e.originator_id) for e, _ in events if type(e).__name__ != "Delivered"]
        stored = {k: dict(row) for k, row in fetch_many(conn, t.flag_visits, ["visit_id"], [i for i in changed_ids if i not in new]).items()}
        known = [*new.values(), *stored.values()]
        people = fetch_many(conn, t.flag_beneficiaries, ["beneficiary_id"], [v["beneficiary_id"] for v in new.values()])
        days = {k: (row["visits"], json.loads(row["proofs"])) for k, row in fetch_many(conn, t.flag_worker_days, ["worker_id", "day"], [(v["worker_id"], v["day"]) for v in new.values()]).items()}
        longest = {k: row["longest_seconds"] for k, row in fetch_many(conn, t.flag_workers, ["worker_id"], [v["worker_id"] for v in new.values()]).items()}
        lines = fetch_many(conn, t.flag_lines, ["contract_id", "service_code"], [(v["contract_id"], v["service_code"]) for v in known])
        delivered = {k: row["delivered"] for k, row in lines.items()}
        contracts = {k: dict(row) for k, row in fetch_many(conn, t.flag_contracts, ["contract_id"], [v["contract_id"] for v in known]).items()}
        quality = {
            row["contractor_id"]: json.loads(row["detail"])
            for row in fetch_many(
                conn,
                t.flags,
                ["flag_id"],
                [_flag_id("disputes_and_failed_checks", v["contractor_id"]) for v in stored.values()] + [_flag_id("disputes_and_failed_checks", v["contractor_id"]) for v in new.values()],
            ).values()
        }
        earlier = self._earlier_overlapping(conn, list(new.values()), longest) if new else {}
        sharing = self._earlier_sharing(conn, {v["evidence_hash"] for v in new.values() if v["evidence_hash"]})
        limit = self.policy.max_visits_per_worker_day
        book = _FlagBook(self.t.flags)
        visits = {**stored}  # the visits as each event finds them: stored, then delivered in the run
        voided: set[str] = set()  # visits voided in the run: a later delivery does not overlap them
        confirmed_deltas: dict[str, int] = {}
        for e, position in events:
            kind, when = type(e).__name__, e.timestamp
            if kind == "Delivered":
                v = new[str(e.originator_id)]
                visits[v["visit_id"]] = v
                worker = v["worker_id"]
                day, line = (worker, v["day"]), (v["contract_id"], v["service_code"])
                proof = _visit_proof(v)
                person = people.get(v["beneficiary_id"])
                if person is not None and v["started_at"] >= _utc(person["deregistered_at"]):
                    book.add(self._deregistered_flag(v, person["position"], _utc(person["deregistered_at"]), position, when))
                mine = earlier.setdefault(worker, [])
                others = [p for p, s, f in mine if s < v["ended_at"] and f > v["started_at"] and p["id"] not in voided]
                if others:
                    book.add(self._overlap_flag(v, others, when))
                mine.append((proof, v["started_at"], v["ended_at"]))
                if v["evidence_hash"]:
                    same, count = sharing.setdefault(v["evidence_hash"], ([], 0))
                    if count:
                        book.add(self._shared_flag(v, same, count, when))
                    if len(same) < EVIDENCE_LIMIT:
                        same.append(proof)
                    sharing[v["evidence_hash"]] = (same, count + 1)
                count, named = days.get(day, (0, []))
                days[day] = (count + 1, _named(named, proof))
                if count + 1 > limit:
                    book.add(self._day_flag(v, count + 1, days[day][1], when))
                longest[worker] = max(longest.get(worker, 0), _seconds(v))
                found(lines, line)  # one by one, a visit on a line the contract lacks fails
                delivered[line] += 1
                if delivered[line] > lines[line]["quantity"]:
                    book.add(self._line_flag(v, lines[line], delivered[line], position, when))
                continue
            v = found(visits, str(e.originator_id))
            line = (v["contract_id"], v["service_code"])
            if kind == "Confirmed":  # as confirmed()
                if v["counts"]:
                    price = int(found(lines, line)["unit_price_fen"])
                    contract = contracts.get(v["contract_id"])
                    if contract is not None:  # one by one, the update of a missing row does nothing
                        contract["confirmed_fen"] += price
                        confirmed_deltas[v["contract_id"]] = confirmed_deltas.get(v["contract_id"], 0) + price
                v["confirmed"] = True
                continue
            # as visit_changed()
            was_confirmed = v["confirmed"]
            if kind == "Voided":
                v["voided"] = True
                voided.add(v["visit_id"])
            if kind == "Disputed":
                v["confirmed"] = False
            if e.volume_delta:
                v["counts"] = False
                if line in lines:  # one by one, a missing line fails only a delivery (below) or a price
                    delivered[line] += e.volume_delta
                if e.volume_delta > 0 and found(lines, line) and delivered[line] > lines[line]["quantity"]:
                    book.add(self._line_flag(v, lines[line], delivered[line], position, when))
                if was_confirmed:
                    price = int(found(lines, line)["unit_price_fen"])
                    contract = found(contracts, v["contract_id"])
                    contract["confirmed_fen"] -= price
                    confirmed_deltas[v["contract_id"]] = confirmed_deltas.get(v["contract_id"], 0) - price
                    flag = self._paid_flag(v["contract_id"], contract, _proof(position, f"Visit.{kind}", v["visit_id"]), when)
                    if flag is not None:
                        book.add(flag)
            if kind == "Disputed" or (kind == "SpotChecked" and e.result != "verified"):
                counts = quality.setdefault(v["contractor_id"], {"disputed": 0, "failed_checks": 0})
                counts["disputed" if kind == "Disputed" else "failed_checks"] += 1
                book.add(self._quality_flag(v, kind, dict(counts), position, when))
        insert_many(conn, t.flag_visits, list(new.values()), ["visit_id"])
        set_many(conn, t.flag_visits, ["visit_id"], [{"visit_id": v["visit_id"], "voided": v["voided"], "confirmed": v["confirmed"], "counts": v["counts"]} for v in stored.values()])
        day_rows = [{"worker_id": w, "day": d, "visits": n, "proofs": dumps(named)} for (w, d), (n, named) in days.items()]
        insert_many(conn, t.flag_worker_days, day_rows, ["worker_id", "day"], update_cols=["visits", "proofs"])
        insert_many(conn, t.flag_workers, [{"worker_id": w, "longest_seconds": n} for w, n in longest.items()], ["worker_id"], update_cols=["longest_seconds"])
        hashes = [{"evidence_hash": h, "carriers": n, "proofs": dumps(named)} for h, (named, n) in sharing.items() if n]
        insert_many(conn, t.flag_hashes, hashes, ["evidence_hash"], update_cols=["carriers", "proofs"])
        line_deltas = [{"contract_id": c, "service_code": s, "delivered": delivered[(c, s)] - lines[(c, s)]["delivered"]} for c, s in delivered if delivered[(c, s)] != lines[(c, s)]["delivered"]]
        bump_many(conn, t.flag_lines, ["contract_id", "service_code"], line_deltas)
        bump_many(conn, t.flag_contracts, ["contract_id"], [{"contract_id": c, "confirmed_fen": d} for c, d in confirmed_deltas.items() if d])
        book.write(conn)

    def _earlier_overlapping(self, conn: Connection, visits: list[dict[str, Any]], longest: dict[str, int]) -> dict[str, list[tuple[dict[str, Any], datetime, datetime]]]:
        """Per worker, the stored unvoided visits that overlap any of the run's, in log order:
        one join of the table with the run's (worker, window start, start, end) values. A stored
        visit that overlaps one of the run's started at most the worker's longest visit before it,
        so the index on (worker, start) reads that window, not the worker's whole history."""
        fv = self.t.flag_visits
        bounds = [(v["worker_id"], _window_start(v, longest[v["worker_id"]]), v["started_at"], v["ended_at"]) for v in visits if v["worker_id"] in longest]
        out: dict[str, list[tuple[dict[str, Any], datetime, datetime]]] = {}
        if not bounds:
            return out  # no stored visit of these workers
        if conn.dialect.name == "postgresql":
            columns = zip(*bounds, strict=True)
            rows = conn.execute(_statement(("overlapping", fv), lambda: _overlapping_pg(fv)), dict(zip(("workers", "windows", "starts", "ends"), map(list, columns), strict=True))).mappings()
        else:
            run = (
                values(
                    column("worker_id", fv.c.worker_id.type),
                    column("window_start", fv.c.started_at.type),
                    column("started_at", fv.c.started_at.type),
                    column("ended_at", fv.c.ended_at.type),
                    name="run",
                )
                .data(bounds)
                .cte()
            )
            # SQLite's planner loops over the run and seeks the index on (worker, start) by itself.
            rows = conn.execute(select(*_overlap_columns(fv)).distinct().join(run, _overlap(fv, run)).order_by(fv.c.position)).mappings()
        for row in rows:
            out.setdefault(row["worker_id"], []).append((_visit_proof(row), _aware(row["started_at"]), _aware(row["ended_at"])))
        return out

    def _earlier_sharing(self, conn: Connection, hashes: set[str]) -> dict[str, tuple[list[dict[str, Any]], int]]:
        """Per evidence hash: the proofs of the first stored visits that carry it (as many as a
        flag names), in log order, and how many stored visits carry it."""
        rows = fetch_many(conn, self.t.flag_hashes, ["evidence_hash"], hashes)
        return {h: (json.loads(row["proofs"]), row["carriers"]) for h, row in rows.items()}

    def confirmed(self, conn: Connection, e: Any, position: int) -> None:
        visit = fetch_one(conn, self.t.flag_visits, visit_id=str(e.originator_id))
        set_values(conn, self.t.flag_visits, {"visit_id": visit["visit_id"]}, confirmed=True)
        if visit["counts"]:
            bump(conn, self.t.flag_contracts, {"contract_id": visit["contract_id"]}, confirmed_fen=self._price(conn, visit))

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
    # Each flag is built by one function, used by the per-event handlers and by visits_run.
    @staticmethod
    def _deregistered_flag(visit: Any, deregistered_position: int, at: datetime, position: int, when: datetime) -> _Raised:
        evidence = [_proof(deregistered_position, "Beneficiary.Deregistered", visit["beneficiary_id"]), _visit_proof(visit)]
        detail = {"beneficiary_id": visit["beneficiary_id"], "deregistered_at": at.isoformat(), "visit_started_at": _utc(visit["started_at"]).isoformat()}
        return _Raised("deregistered_beneficiary", visit["visit_id"], visit["contractor_id"], position, when, detail, evidence, contract_id=visit["contract_id"])

    @staticmethod
    def _overlap_flag(visit: Any, others: list[dict[str, Any]], when: datetime) -> _Raised:
        detail = {"worker_id": visit["worker_id"], "visits": len(others) + 1}
        evidence = [*others[: EVIDENCE_LIMIT - 1], _visit_proof(visit)]
        return _Raised("overlapping_visits", visit["visit_id"], visit["contractor_id"], visit["position"], when, detail, evidence, contract_id=visit["contract_id"])

    @staticmethod
    def _shared_flag(visit: Any, earliest: list[dict[str, Any]], count: int, when: datetime) -> _Raised:
        """`earliest`: the first of the `count` earlier visits with the same hash, in log order."""
        detail = {"evidence_hash": visit["evidence_hash"], "visits": count + 1}
        evidence = [*earliest[: EVIDENCE_LIMIT - 1], _visit_proof(visit)]
        return _Raised("shared_evidence_hash", visit["visit_id"], visit["contractor_id"], visit["position"], when, detail, evidence, contract_id=visit["contract_id"])

    def _day_flag(self, visit: Any, count: int, day_visits: list[dict[str, Any]], when: datetime) -> _Raised:
        detail = {"worker_id": visit["worker_id"], "day": visit["day"].isoformat(), "visits": count, "limit": self.policy.max_visits_per_worker_day}
        subject = f"{visit['worker_id']}/{visit['day'].isoformat()}"
        return _Raised("worker_day_limit", subject, visit["contractor_id"], visit["position"], when, detail, day_visits[:EVIDENCE_LIMIT], subject_id=visit["worker_id"])

    @staticmethod
    def _line_flag(visit: Any, line: Any, delivered: int, position: int, when: datetime) -> _Raised:
        detail = {"service_code": line["service_code"], "quantity": line["quantity"], "delivered": delivered}
        subject = f"{visit['contract_id']}/{visit['service_code']}"
        return _Raised("over_contracted_quantity", subject, visit["contractor_id"], position, when, detail, [_visit_proof(visit)], subject_id=visit["contract_id"], contract_id=visit["contract_id"])

    def _deregistered_visit(self, conn: Connection, visit: Any, deregistered_position: int, at: datetime, position: int, when: datetime) -> None:
        self._raise(conn, self._deregistered_flag(visit, deregistered_position, at, position, when))

    def _overlaps(self, conn: Connection, visit: dict[str, Any], when: datetime) -> None:
        worker = fetch_one(conn, self.t.flag_workers, worker_id=visit["worker_id"])
        longest = max(worker["longest_seconds"] if worker else 0, _seconds(visit))
        upsert(conn, self.t.flag_workers, {"worker_id": visit["worker_id"], "longest_seconds": longest}, ["worker_id"], update_cols=["longest_seconds"])
        if worker is None:
            return  # the worker's first visit
        v = self.t.flag_visits
        overlapping = select(v).where(
            v.c.worker_id == visit["worker_id"],
            v.c.voided.is_(False),
            v.c.started_at >= _window_start(visit, worker["longest_seconds"]),
            v.c.started_at < visit["ended_at"],
            v.c.ended_at > visit["started_at"],
        )
        others = list(conn.execute(overlapping.order_by(v.c.position)).mappings())
        if others:
            self._raise(conn, self._overlap_flag(visit, [*map(_visit_proof, others)], when))

    def _shared_evidence(self, conn: Connection, visit: dict[str, Any], when: datetime) -> None:
        if not visit["evidence_hash"]:
            return
        earliest, count = self._earlier_sharing(conn, {visit["evidence_hash"]}).get(visit["evidence_hash"], ([], 0))
        if count:
            self._raise(conn, self._shared_flag(visit, earliest, count, when))
        row = {"evidence_hash": visit["evidence_hash"], "carriers": count + 1, "proofs": dumps(_named(earliest, _visit_proof(visit)))}
        upsert(conn, self.t.flag_hashes, row, ["evidence_hash"], update_cols=["carriers", "proofs"])

    def _day_count(self, conn: Connection, visit: dict[str, Any], when: datetime) -> None:
        key = {"worker_id": visit["worker_id"], "day": visit["day"]}
        row = fetch_one(conn, self.t.flag_worker_days, **key)
        count = (row["visits"] if row else 0) + 1
        named = _named(json.loads(row["proofs"]) if row else [], _visit_proof(visit))
        upsert(conn, self.t.flag_worker_days, {**key, "visits": count, "proofs": dumps(named)}, ["worker_id", "day"], update_cols=["visits", "proofs"])
        if count > self.policy.max_visits_per_worker_day:
            self._raise(conn, self._day_flag(visit, count, named, when))

    def _line_count(self, conn: Connection, visit: Any, delta: int, position: int, when: datetime) -> None:
        key = {"contract_id": visit["contract_id"], "service_code": visit["service_code"]}
        bump(conn, self.t.flag_lines, key, delivered=delta)
        line = fetch_one(conn, self.t.flag_lines, **key)
        if delta > 0 and line["delivered"] > line["quantity"]:
            self._raise(conn, self._line_flag(visit, line, line["delivered"], position, when))

    def _quality(self, conn: Connection, visit: Any, kind: str, position: int, at: datetime) -> None:
        flag = fetch_one(conn, self.t.flags, flag_id=_flag_id("disputes_and_failed_checks", visit["contractor_id"]))
        counts = json.loads(flag["detail"]) if flag is not None else {"disputed": 0, "failed_checks": 0}
        counts["disputed" if kind == "Disputed" else "failed_checks"] += 1
        self._raise(conn, self._quality_flag(visit, kind, counts, position, at))

    @staticmethod
    def _quality_flag(visit: Any, kind: str, counts: dict[str, int], position: int, at: datetime) -> _Raised:
        proof = _proof(position, f"Visit.{kind}", visit["visit_id"])
        return _Raised("disputes_and_failed_checks", visit["contractor_id"], visit["contractor_id"], position, at, counts, [proof], subject_id=visit["contractor_id"])

    def _check_paid(self, conn: Connection, contract_id: str, proof: dict[str, Any], at: datetime) -> None:
        flag = self._paid_flag(contract_id, fetch_one(conn, self.t.flag_contracts, contract_id=contract_id), proof, at)
        if flag is not None:
            self._raise(conn, flag)

    @staticmethod
    def _paid_flag(contract_id: str, contract: Any, proof: dict[str, Any], at: datetime) -> _Raised | None:
        if contract["released_fen"] > contract["confirmed_fen"]:
            detail = {"released": yuan(contract["released_fen"]), "confirmed_value": yuan(contract["confirmed_fen"])}
            return _Raised("paid_above_confirmed", contract_id, contract["contractor_id"], proof["position"], at, detail, [proof], contract_id=contract_id)
        return None

    def _price(self, conn: Connection, visit: Any) -> int:
        return int(fetch_one(conn, self.t.flag_lines, contract_id=visit["contract_id"], service_code=visit["service_code"])["unit_price_fen"])

    def _raise(self, conn: Connection, flag: _Raised) -> None:
        book = _FlagBook(self.t.flags)
        book.add(flag)
        book.write(conn)


@dataclass(frozen=True)
class _Raised:
    """A flag raised, or updated if it exists: by this event, with these figures and evidence."""

    kind: str
    key: str
    contractor_id: str
    position: int
    at: datetime
    detail: dict[str, Any]
    evidence: list[dict[str, Any]]
    subject_id: str | None = None
    contract_id: str | None = None


class _FlagBook:
    """Flags raised or updated, in log order, written together: an existing flag gets the latest
    detail and the evidence added to what it named; a new one is inserted as raised."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.raised: list[_Raised] = []

    def add(self, flag: _Raised) -> None:
        self.raised.append(flag)

    def write(self, conn: Connection) -> None:
        if not self.raised:
            return
        stored = fetch_many(conn, self.table, ["flag_id"], [_flag_id(f.kind, f.key) for f in self.raised])
        rows: dict[str, dict[str, Any]] = {}
        named: dict[str, list[dict[str, Any]]] = {}
        seen: dict[str, set[tuple[int, str]]] = {}
        for flag in self.raised:
            flag_id = _flag_id(flag.kind, flag.key)
            if flag_id not in rows and flag_id in stored:
                rows[flag_id] = dict(stored[flag_id])
                named[flag_id] = json.loads(rows[flag_id]["evidence"])
                seen[flag_id] = {(p["position"], p["id"]) for p in named[flag_id]}
            elif flag_id not in rows:
                rows[flag_id] = {
                    "flag_id": flag_id,
                    "kind": flag.kind,
                    "contractor_id": flag.contractor_id,
                    "contract_id": flag.contract_id,
                    "subject_id": flag.subject_id or flag.key,
                    "raised_position": flag.position,
                    "raised_at": _utc(flag.at),
                    "updated_position": flag.position,
                    "detail": dumps(flag.detail),
                }
                named[flag_id] = list(flag.evidence[:EVIDENCE_LIMIT])
                seen[flag_id] = {(p["position"], p["id"]) for p in named[flag_id]}
                continue
            for proof in flag.evidence:
                if len(named[flag_id]) >= EVIDENCE_LIMIT:
                    break
                if (proof["position"], proof["id"]) not in seen[flag_id]:
                    seen[flag_id].add((proof["position"], proof["id"]))
                    named[flag_id].append(proof)
            rows[flag_id].update(updated_position=flag.position, detail=dumps(flag.detail))
        for flag_id, row in rows.items():
            row["evidence"] = dumps(named[flag_id])
        insert_many(conn, self.table, list(rows.values()), ["flag_id"], update_cols=["updated_position", "detail", "evidence"])


def _flag_id(kind: str, key: str) -> str:
    """The same flag gets the same id live and in a rebuild."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))
