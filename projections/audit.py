"""Audit trail: every event in global order, with who, when, what and a readable summary."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table

from projections.base import Handler, Projection, event_type, fetch_one, upsert
from projections.tables import Tables

# Fields worth reading in a summary, in this order. Never hashes, digests or free-text ids.
SUMMARY_FIELDS = (
    "contract_no", "name", "title", "fiscal_year", "source", "amount", "ceiling", "budget", "contractor_type",
    "category", "previous", "direction", "self_care_level", "township", "village", "services", "channel",
    "service_code", "started_at", "worker_id", "stage", "total", "grade", "upheld", "result", "tranche_id",
    "milestone_id", "basis", "withheld", "released", "reason", "until", "role", "subject",
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

    def handle(self, conn: Connection, event: Any, position: int) -> None:
        kind = event_type(event)
        aggregate_type = kind.split(".")[0]
        aggregate_id = str(event.originator_id)
        owner, contract_id = self._owner(conn, kind, event, aggregate_type, aggregate_id)
        by = getattr(event, "by", None)
        upsert(
            conn,
            self.t.audit_events,
            {
                "position": position,
                "recorded_at": event.timestamp,
                "actor_id": by.actor_id if by else None,
                "role": by.role if by else None,
                "organisation_id": by.organisation_id if by else None,
                "correlation_id": by.correlation_id if by else None,
                "aggregate_id": aggregate_id,
                "aggregate_type": aggregate_type,
                "aggregate_version": event.originator_version,
                "event_type": kind,
                "owner_organisation": owner,
                "summary": summarise(kind, event),
                "contract_id": contract_id,
            },
            ["position"],
        )

    def _owner(self, conn: Connection, kind: str, event: Any, aggregate_type: str, aggregate_id: str) -> tuple[str | None, str | None]:
        """The organisation that owns the aggregate, and the contract the event belongs to: the one
        it names itself (a fund's commitment), else the one its aggregate was opened under (a
        visit's confirmation), kept from the aggregate's first event."""
        named = getattr(event, "contract_id", None)
        if event.originator_version == 1:
            contract_id = aggregate_id if aggregate_type == "Contract" else named
            if kind == "Contractor.Registered":
                owner: str | None = aggregate_id
            elif kind in CREATIONS:
                owner = str(getattr(event, CREATIONS[kind]))
            elif kind == "VolumeTally.Opened":
                row = fetch_one(conn, self.t.audit_owners, aggregate_id=str(event.contract_id))
                owner = row["owner_organisation"] if row else None
            else:
                owner = None
            contract_id = None if contract_id is None else str(contract_id)
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
