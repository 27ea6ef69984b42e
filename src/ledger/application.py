"""The Ledger: the one Application that composes every area's use cases, and the infrastructure
they share (transcodings, the aggregate cache, loading, and `_execute`'s load-check-save).

Every aggregate lives in this one application, so the global log has one total order that the
milestone process, the read models and (later) the hash chain follow. Library errors are
translated into domain errors here; aggregates that change together are saved in one `save()`.
The use cases themselves live by area in `ledger.usecases`, one small mixin each.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, RecordConflictError, Transcoding

from ledger.as_of import AsOfReads
from ledger.bulk_visits import BulkVisits
from ledger.cache import AggregateCache
from ledger.domain.actors import Actor
from ledger.domain.contractors import Contractor
from ledger.domain.contracts import Contract
from ledger.domain.errors import ConcurrentModification, IdempotencyKeyReused, LedgerError, NotFound
from ledger.domain.funds import Fund, PurchaseCeiling
from ledger.domain.records import IdempotencyRecord, VolumeTally
from ledger.domain.rules import Policy
from ledger.positions import first_position
from ledger.usecases.audit import Audit, describe_event
from ledger.usecases.base import A_, CommandResult, Request, Work
from ledger.usecases.cases_and_visits import CasesAndVisits
from ledger.usecases.contracts import Contracts
from ledger.usecases.evaluations import Evaluations
from ledger.usecases.funds import Funds
from ledger.usecases.parties import Parties
from ledger.usecases.tokens import IssuedToken, Tokens

# What callers import from here, wherever it is defined now.
__all__ = ["CommandResult", "IssuedToken", "Ledger", "Request", "describe_event", "to_plain"]


class ActorAsDict(Transcoding):
    type = Actor
    name = "actor"

    def encode(self, obj: Actor) -> dict[str, Any]:
        return obj.as_dict()

    def decode(self, data: dict[str, Any]) -> Actor:
        return Actor.from_dict(data)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class Ledger(Tokens, Funds, Parties, Contracts, CasesAndVisits, Evaluations, Audit, BulkVisits, AsOfReads, Application):
    name = "Ledger"
    # Snapshots keep long-lived streams cheap to load.
    snapshotting_intervals = {Contract: 50, Contractor: 50, Fund: 50, VolumeTally: 50, PurchaseCeiling: 50}
    max_attempts = 3
    # Read as LEDGER_AGGREGATE_CACHE_SIZE etc. (the library's Environment adds the app's name).
    AGGREGATE_CACHE_SIZE = "AGGREGATE_CACHE_SIZE"
    AGGREGATE_CACHE_REFRESH_SECONDS = "AGGREGATE_CACHE_REFRESH_SECONDS"

    def __init__(self, env: dict[str, str] | None = None, *, policy: Policy | None = None, id_hash_key: bytes = b"") -> None:
        super().__init__(env)
        if not id_hash_key:
            raise ValueError("the ledger needs a key to hash national ID numbers")
        self.policy = policy or Policy()
        self.id_hash_key = id_hash_key
        self.cache = self._construct_cache()
        # The versions of what the running command validated against, per thread (see _execute).
        self._reading = threading.local()

    def _construct_cache(self) -> AggregateCache:
        changed_since = getattr(self.recorder, "select_changed_ids", None)
        size = int(self.env.get(self.AGGREGATE_CACHE_SIZE) or 10000) if changed_since else 0
        # SQLite polls in-process (cheap): on every read; PostgreSQL at most every 5 ms (a round
        # trip), so another process's change (a revoked token) shows here within 5 ms.
        default_interval = "0.005" if "postgres" in type(self.factory).__module__ else "0"
        interval = float(self.env.get(self.AGGREGATE_CACHE_REFRESH_SECONDS) or default_interval)
        start = (self.recorder.max_notification_id() or 0) if size else 0
        return AggregateCache(changed_since or (lambda after, limit: []), start, size, interval)

    # --- infrastructure -----------------------------------------------------------------------
    def construct_recorder(self):  # type: ignore[no-untyped-def]
        # A process recorder: the milestone process saves its events and its tracking position
        # in one transaction of this same application.
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(ActorAsDict())
        transcoder.register(DateAsISO())

    def _record(self, processing_event):  # type: ignore[no-untyped-def]
        # What this process saves (or failed to save) is evicted at once, so its own next read
        # sees it without waiting for the cache to follow the log.
        # Only those with new events: the milestone process passes its contracts every round.
        try:
            return super()._record(processing_event)
        finally:
            self.cache.evict({e.originator_id for e in processing_event.events})

    def head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def _fetch(self, aggregate_id: uuid.UUID, cls: type | None = None, *, readonly: bool = False) -> Any:
        """The aggregate, from the cache or the store, and noted in the running command's read
        set. Kinds never snapshotted are read without probing the snapshot store. `readonly`
        hands out the cached object itself, uncopied: only for a caller that never changes it."""
        self.cache.refresh()
        agg = self.cache.get(aggregate_id, copy=not readonly)
        if agg is None:
            loaded_after = self.cache.seen
            if cls is None or cls in self.snapshotting_intervals:
                agg = self.repository.get(aggregate_id)
            else:
                agg = project_aggregate(None, self.events.get(aggregate_id))
                if agg is None:
                    raise AggregateNotFoundError(aggregate_id)
            self.cache.put(agg, loaded_after)
        read_set = getattr(self._reading, "versions", None)
        if read_set is not None:
            read_set.setdefault(agg.id, agg.version)
        return agg

    def _load(self, cls: type[A_], aggregate_id: Any, missing: type[NotFound], by: Actor | None = None, *, readonly: bool = False) -> A_:
        try:
            agg = self._fetch(_uuid(aggregate_id, missing), cls, readonly=readonly)
        except AggregateNotFoundError:
            raise missing(f"no {cls.__name__.lower()} {aggregate_id}") from None
        if not isinstance(agg, cls):
            raise missing(f"no {cls.__name__.lower()} {aggregate_id}")
        if by is not None and not by.can_see(agg.owner_organisation):
            # Another organisation's object does not exist, as far as a contractor can tell.
            raise missing(f"no {cls.__name__.lower()} {aggregate_id}")
        return agg

    def _load_readonly(self, cls: type[A_], aggregate_id: Any, missing: type[NotFound], by: Actor | None = None) -> A_:
        """`_load` for a command that only checks what it loads: the cached object, uncopied."""
        return self._load(cls, aggregate_id, missing, by, readonly=True)

    def _execute(self, by: Actor, request: Request | None, work: Callable[[], Work]) -> CommandResult:
        """Runs a command: load, check, save; retried when another writer got there first.

        With an idempotency key the record is saved in the same transaction as the command's
        events, so a retry of the same request finds it and replays the first response. A retry
        that races its first attempt may see that attempt's effects (a tranche already released)
        or lose the save to it: it looks for the replay again before refusing.

        The first attempt does not read the record first: a retried request does its work again
        and its save conflicts on the record's id, and the next attempt finds the replay. Every
        aggregate loaded through _load goes into the command's read set, checked by the save under
        the store's lock: a rule is never decided on a stale (cached or raced) copy."""
        for attempt in range(self.max_attempts):
            if attempt:
                replay = self._replay(by, request)
                if replay is not None:
                    return replay
            read: dict[uuid.UUID, int] = {}
            self._reading.versions = read
            try:
                done = work()
            except LedgerError:
                replay = self._replay(by, request)
                if replay is not None:
                    return replay
                raise
            finally:
                self._reading.versions = None
            record = None
            if request is not None:
                record = IdempotencyRecord(scope=_scope(by), key=request.key, fingerprint=request.fingerprint, result=to_plain(done.ids), by=by)
            saved = {a.id for a in done.aggregates if a is not None}
            read_set = [(i, v) for i, v in read.items() if i not in saved]
            try:
                recordings = self.save(*done.aggregates, record, read_set=read_set)
            except RecordConflictError:
                self.cache.evict(read)  # what we read was stale or raced: read it afresh
                continue
            position = max((r.notification.id for r in recordings), default=0) or self.head()
            return CommandResult(ids=to_plain(done.ids), position=position)
        replay = self._replay(by, request)
        if replay is not None:
            return replay
        raise ConcurrentModification()

    def _replay(self, by: Actor, request: Request | None) -> CommandResult | None:
        if request is None:
            return None
        record_id = IdempotencyRecord.create_id(scope=_scope(by), key=request.key)
        try:
            record: IdempotencyRecord = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        if record.fingerprint != request.fingerprint:
            raise IdempotencyKeyReused(f"Idempotency-Key {request.key!r} was used with a different request")
        position = first_position(self.recorder, record_id) or self.head()
        return CommandResult(ids=record.result, position=position, replayed=True)

    def _new(self, aggregate: Aggregate, exists: type[Exception], detail: str) -> None:
        if aggregate.id in self.repository:
            raise exists(detail)


def _uuid(value: Any, missing: type[NotFound]) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        # Not echoed: a national ID number typed where an id belongs must not reach a log or a body.
        raise missing("the value given is not an id") from None


def _scope(by: Actor) -> str:
    return f"{by.role}:{by.organisation_id or ''}:{by.actor_id}"


def to_plain(value: Any) -> Any:
    """Ids and amounts as JSON-friendly simple types."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
