"""State as it stood: an aggregate replayed up to its last event at or before a log position or
a time, through the library's own reads (notifications for positions, events for times)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from ledger.domain.actors import Actor
from ledger.domain.contracts import Contract
from ledger.domain.errors import AsOfPointInvalid, ContractNotFound, FundNotFound, NotYetRecorded
from ledger.domain.funds import Fund
from ledger.domain.records import VolumeTally
from ledger.usecases.base import READERS, A, E, F, LedgerUseCases, P

SCAN_BATCH = 1000


def event_topics(cls: type[Aggregate]) -> list[str]:
    """The topics of an aggregate class's own events: a scan of the log reads only these."""
    base = cls.Event  # type: ignore[attr-defined]
    return [get_topic(v) for v in vars(cls).values() if isinstance(v, type) and issubclass(v, base) and v is not base]


def version_at_position(app: Any, cls: type[Aggregate], aggregate_id: UUID, position: int) -> int | None:
    """The aggregate's version after the last of its events at or before `position`; the scan
    reads only this class's events, so it grows with their number, not the log's."""
    topics, start, version = event_topics(cls), 1, None
    while start <= position:
        batch = app.recorder.select_notifications(start=start, limit=SCAN_BATCH, stop=position, topics=topics)
        for n in batch:
            if n.originator_id == aggregate_id:
                version = n.originator_version
        if len(batch) < SCAN_BATCH:
            break
        start = batch[-1].id + 1
    return version


def version_at_time(app: Any, aggregate_id: UUID, at: datetime) -> int | None:
    """The aggregate's version after the last of its events recorded at or before `at`."""
    version = None
    for e in app.events.get(aggregate_id):
        if e.timestamp > at:
            break
        version = e.originator_version
    return version


def version_as_of(app: Any, cls: type[Aggregate], aggregate_id: UUID, point: int | datetime) -> int | None:
    """`point` is a log position (int) or a timezone-aware time."""
    if isinstance(point, datetime):
        return version_at_time(app, aggregate_id, point)
    return version_at_position(app, cls, aggregate_id, point)


def _point(position: int | None, at: datetime | None) -> int | datetime:
    if (position is None) == (at is None):
        raise AsOfPointInvalid("give exactly one of position or at")
    if at is not None and at.tzinfo is None:
        raise AsOfPointInvalid("the time must carry a time zone")
    return at if at is not None else position  # type: ignore[return-value]


class AsOfReads(LedgerUseCases):
    """The Ledger's as-of use cases: a contract (with its delivered tally) and a fund, each
    replayed to the point asked for; visible to whoever may read them now."""

    def contract_as_of(self, by: Actor, contract_id: str, *, position: int | None = None, at: datetime | None = None) -> dict[str, Any]:
        by.require(*READERS)
        point = _point(position, at)
        contract = self._load(Contract, contract_id, ContractNotFound, by)
        d = self._replayed(Contract, contract.id, point).as_dict()
        tally_id = VolumeTally.create_id(contract_id=str(contract.id))
        tally_version = version_as_of(self, VolumeTally, tally_id, point)
        # The tally follows the log off the write path: as of a point it holds what it had counted then.
        d["delivered"] = dict(self.repository.get(tally_id, version=tally_version).counts) if tally_version else {}
        return {**d, "as_of_position": position, "as_of_time": at}

    def fund_as_of(self, by: Actor, fund_id: str, *, position: int | None = None, at: datetime | None = None) -> dict[str, Any]:
        by.require(P, F, A, E)
        point = _point(position, at)
        fund = self._load(Fund, fund_id, FundNotFound)
        return {**self._replayed(Fund, fund.id, point).as_dict(), "as_of_position": position, "as_of_time": at}

    def _replayed(self, cls: type[Aggregate], aggregate_id: UUID, point: int | datetime) -> Any:
        version = version_as_of(self, cls, aggregate_id, point)
        if version is None:
            raise NotYetRecorded(f"the {cls.__name__.lower()} did not exist yet at that point")
        return self.repository.get(aggregate_id, version=version)
