"""Audit trail: every event in global order, with who, when, what and a readable summary."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table

from projections.base import Handler, Projection, event_type, fetch_many, fetch_one, insert_many, upsert

# Fields worth reading in a summary, in this order. Never hashes, digests or free-text ids.
SUMMARY_FIELDS = (
    "contract_no",
    "name",
    "title",
    "fiscal_year",
    "source",
    "amount",
    "ceiling",
    "budget",
    "contractor_type",
    "category",
    "previous",
    "direction",
    "self_care_level",
    "township",
    "village",
    "services",
    "channel",
    "service_code",
    "started_at",
    "worker_id",
    "stage",
    "total",
    "grade",
    "upheld",
    "result",
    "tranche_id",
    "milestone_id",
    "basis",
    "withheld",
    "released",
    "reason",
    "until",
    "role",
    "subject",
)
NEVER = {"national_id_hash", "digest", "fingerprint", "by"}
CREATIONS = {
    "Contractor.Registered": None,  # owner is the contractor itself
    "Contract.Signed": "contractor_id",
    "Case.Referred": "contractor_id",
    "Visit.Delivered": "contractor_id",
    "Evaluation.Opened": "contractor_id",
}
# Aggregates that keep the ledger's own books rather than record the programme's business: the
# milestone process's volume tallies, command retries' idempotency records and API tokens. The
# audit trail keeps their events but leaves them out unless asked (GET /read/audit?include=all).
BOOKKEEPING = ("ApiToken", "IdempotencyRecord", "VolumeTally")


def summarise(kind: str, event: Any) -> str:
    data = {k: v for k, v in event.__dict__.items() if k not in NEVER}
    parts = []
    for key in SUMMARY_FIELDS:
        value = data.get(key)
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    return f"{kind}" + (": " + "; ".join(parts) if parts else "")


class AuditTrail(Projection):
    name = "audit"

    def register(self) -> dict[str, Handler]:
        return {}  # every event, see handle()

    def owned_tables(self) -> list[Table]:
        return [self.t.audit_events, self.t.audit_owners]

    def wants(self, kind: str) -> bool:
        return True

    def handle(self, conn: Connection, event: Any, position: int) -> None:
        kind = event_type(event)
        aggregate_type = kind.split(".")[0]
        owner, contract_id = self._owner(conn, kind, event, aggregate_type, str(event.originator_id))
        upsert(conn, self.t.audit_events, self._row(event, position, kind, owner, contract_id), ["position"])

    def apply(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        """Every event of the batch, whatever its type, in three statements: the owners the batch
        needs are read at once, then the new owners and the rows are inserted at once."""
        needed = []
        for event, _ in events:
            if event.originator_version != 1:
                needed.append(str(event.originator_id))
            elif event_type(event) == "VolumeTally.Opened":
                needed.append(str(event.contract_id))
        known = {k: (row["owner_organisation"], row["contract_id"]) for k, row in fetch_many(conn, self.t.audit_owners, ["aggregate_id"], needed).items()}
        owners, rows = [], []
        for event, position in events:
            kind = event_type(event)
            aggregate_type = kind.split(".")[0]
            aggregate_id = str(event.originator_id)
            named = getattr(event, "contract_id", None)
            if event.originator_version == 1:
                opened_by = known.get(str(event.contract_id)) if kind == "VolumeTally.Opened" else None
                owner, contract_id = self._opening(kind, event, aggregate_type, aggregate_id, opened_by[0] if opened_by else None)
                owners.append({"aggregate_id": aggregate_id, "aggregate_type": aggregate_type, "owner_organisation": owner, "contract_id": contract_id})
                known.setdefault(aggregate_id, (owner, contract_id))  # as the insert: an existing row stays
            else:
                owner, opened_under = known.get(aggregate_id, (None, None))
                contract_id = str(named) if named is not None else opened_under
            rows.append(self._row(event, position, kind, owner, contract_id))
        insert_many(conn, self.t.audit_owners, owners, ["aggregate_id"])
        insert_many(conn, self.t.audit_events, rows, ["position"])

    @staticmethod
    def _row(event: Any, position: int, kind: str, owner: str | None, contract_id: str | None) -> dict[str, Any]:
        by = getattr(event, "by", None)
        return {
            "position": position,
            "recorded_at": event.timestamp,
            "actor_id": by.actor_id if by else None,
            "role": by.role if by else None,
            "organisation_id": by.organisation_id if by else None,
            "correlation_id": by.correlation_id if by else None,
            "aggregate_id": str(event.originator_id),
            "aggregate_type": kind.split(".")[0],
            "aggregate_version": event.originator_version,
            "event_type": kind,
            "owner_organisation": owner,
            "summary": summarise(kind, event),
            "contract_id": contract_id,
        }

    @staticmethod
    def _opening(kind: str, event: Any, aggregate_type: str, aggregate_id: str, tally_owner: str | None) -> tuple[str | None, str | None]:
        """The owner and contract of an aggregate, from its first event."""
        named = getattr(event, "contract_id", None)
        contract_id = aggregate_id if aggregate_type == "Contract" else named
        if kind == "Contractor.Registered":
            owner: str | None = aggregate_id
        elif kind in CREATIONS:
            owner = str(getattr(event, CREATIONS[kind]))
        elif kind == "VolumeTally.Opened":
            owner = tally_owner
        else:
            owner = None
        return owner, None if contract_id is None else str(contract_id)

    def _owner(self, conn: Connection, kind: str, event: Any, aggregate_type: str, aggregate_id: str) -> tuple[str | None, str | None]:
        """The organisation that owns the aggregate, and the contract the event belongs to: the one
        it names itself (a fund's commitment), else the one its aggregate was opened under (a
        visit's confirmation), kept from the aggregate's first event."""
        named = getattr(event, "contract_id", None)
        if event.originator_version == 1:
            tally_owner = None
            if kind == "VolumeTally.Opened":
                row = fetch_one(conn, self.t.audit_owners, aggregate_id=str(event.contract_id))
                tally_owner = row["owner_organisation"] if row else None
            owner, contract_id = self._opening(kind, event, aggregate_type, aggregate_id, tally_owner)
            upsert(
                conn,
                self.t.audit_owners,
                {"aggregate_id": aggregate_id, "aggregate_type": aggregate_type, "owner_organisation": owner, "contract_id": contract_id},
                ["aggregate_id"],
            )
            return owner, contract_id
        row = fetch_one(conn, self.t.audit_owners, aggregate_id=aggregate_id)
        opened_under = row["contract_id"] if row else None
        return (row["owner_organisation"] if row else None), (str(named) if named is not None else opened_under)
