"""Bulk posting of visits: a day's visits from a village with a poor network, sent at once and
retried until an answer arrives.

Each item carries the client's own id for it (`client_id`). The visit's id derives from the
contractor organisation and that client_id, so the visit is its own idempotency record: the
store's version check refuses a second copy, however many retries race, and no separate record
is written. A batch behaves like its items posted one after another:

- an item recorded before (same content) answers `already_recorded` with its first visit id and
  position; with other content it is refused `IdempotencyKeyReused`;
- a repeated client_id inside one batch is judged against its first occurrence the same way;
- every new item passes the same rules as POST /visits (`visit_rules.deliver_visit`), and a
  refused item is answered alone, with the error code POST /visits would give.

Each distinct case and beneficiary is read once for the whole batch, from the Ledger's aggregate
cache or in one statement; each contract and contractor once. The versions read go with the save,
which refuses under the store's lock if any changed: those items are checked again. Accepted visits are saved VISITS_PER_SAVE at a time, one
transaction each; when a save meets a visit recorded meanwhile (a racing retry), the ones now
present are answered as recorded before and the rest saved again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import RecordConflictError

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import derived_id
from ledger.domain.beneficiaries import Beneficiary
from ledger.domain.cases import Case
from ledger.domain.catalogue import Role
from ledger.domain.errors import ConcurrentModification, IdempotencyKeyReused, LedgerError, NotFound
from ledger.domain.visits import Visit
from ledger.store_queries import events_of, first_events_of
from ledger.visit_rules import deliver_visit

if TYPE_CHECKING:
    from ledger.application import Ledger

# Visits per transaction: large enough to keep round trips few, small enough that a conflict
# with a racing retry redoes little and one insert never holds the log's write lock long.
VISITS_PER_SAVE = 500

RECORDED, ALREADY_RECORDED, REFUSED = "recorded", "already_recorded", "refused"


@dataclass(frozen=True)
class VisitDraft:
    """One item of a batch, as the client sent it (times already in UTC)."""

    client_id: str
    case_id: str
    worker_id: str
    service_code: str
    started_at: datetime
    ended_at: datetime
    location: str | None = None
    notes: str | None = None
    evidence_hash: str | None = None


@dataclass(frozen=True)
class ItemResult:
    client_id: str
    status: str  # recorded | already_recorded | refused
    visit_id: str | None = None
    position: int | None = None
    error: str | None = None
    detail: Any = None


def refusal(client_id: str, error: LedgerError) -> ItemResult:
    return ItemResult(client_id=client_id, status=REFUSED, error=error.code, detail=error.detail)


def bulk_visit_id(by: Actor, client_id: str) -> uuid.UUID:
    """Scoped to the contractor organisation: two of its staff syncing the same device's visits
    record them once."""
    return derived_id("bulk-visit", by.organisation_id or "", client_id)


class BulkVisits:
    """Mixed into the Ledger: posting many visits in one request."""

    def record_visits(self: Ledger, by: Actor, drafts: Sequence[VisitDraft]) -> list[ItemResult]:
        """One result per draft, in the order given."""
        by.require(Role.CONTRACTOR)
        limits.VISITS_PER_BATCH.check(list(drafts), "a batch of visits")
        results: list[ItemResult | None] = [None] * len(drafts)
        first_of: dict[str, int] = {}  # client_id -> the index of its first occurrence
        for i, draft in enumerate(drafts):
            try:
                limits.IDEMPOTENCY_KEY.check(draft.client_id, "client_id")
            except LedgerError as e:
                results[i] = refusal(draft.client_id, e)
                continue
            first_of.setdefault(draft.client_id, i)
        firsts = {bulk_visit_id(by, client_id): i for client_id, i in first_of.items()}

        self._answer_recorded_before(drafts, firsts, results)
        pending = {vid: i for vid, i in firsts.items() if results[i] is None}
        for _ in range(self.max_attempts):
            if not pending:
                break
            loads = _BatchLoads(self)
            accepted = self._check_new(by, drafts, pending, results, loads)
            read_set = loads.read_set()
            pending = {}
            for start in range(0, len(accepted), VISITS_PER_SAVE):
                stale = self._save_visits(drafts, accepted[start : start + VISITS_PER_SAVE], results, read_set)
                pending.update({event.originator_id: i for i, event in stale})
            if pending:  # a case, contract, contractor or beneficiary changed meanwhile: check again
                self.cache.evict(aggregate_id for aggregate_id, _ in read_set)
        for i in pending.values():
            results[i] = refusal(drafts[i].client_id, ConcurrentModification("other writers kept conflicting; send the batch again"))

        for i, draft in enumerate(drafts):
            if results[i] is None:  # a repeat of an earlier item of this batch
                results[i] = _repeat(draft, drafts[first_of[draft.client_id]], results[first_of[draft.client_id]])
        return results  # type: ignore[return-value]

    def _answer_recorded_before(self: Ledger, drafts: Sequence[VisitDraft], ids: dict[uuid.UUID, int], results: list[ItemResult | None]) -> set[uuid.UUID]:
        """Answers the items whose visit is in the store already; returns their ids."""
        found = first_events_of(self.recorder, ids)
        for visit_id, (position, stored) in found.items():
            i = ids[visit_id]
            delivered = self.mapper.to_domain_event(stored)
            if _same_visit(delivered, drafts[i]):
                results[i] = ItemResult(drafts[i].client_id, ALREADY_RECORDED, visit_id=str(visit_id), position=position)
            else:
                error = IdempotencyKeyReused(f"client_id {drafts[i].client_id!r} was used for a different visit")
                results[i] = refusal(drafts[i].client_id, error)
        return set(found)

    def _check_new(self: Ledger, by: Actor, drafts: Sequence[VisitDraft], ids: dict[uuid.UUID, int], results: list[ItemResult | None], loads: _BatchLoads) -> list[tuple[int, Any]]:
        """The Delivered event of each item that passes the rules; the others are refused."""
        loads.prefetch(Case, [drafts[i].case_id for i in ids.values()])
        loads.prefetch(Beneficiary, [case.beneficiary_id for case in loads.found_of(Case)])
        accepted: list[tuple[int, Any]] = []
        for visit_id, i in ids.items():
            d = drafts[i]
            try:
                visit = deliver_visit(
                    loads,
                    by,
                    case_id=d.case_id,
                    worker_id=d.worker_id,
                    service_code=d.service_code,
                    started_at=d.started_at,
                    ended_at=d.ended_at,
                    location=d.location,
                    notes=d.notes,
                    evidence_hash=d.evidence_hash,
                    visit_id=visit_id,
                )
            except LedgerError as e:
                results[i] = refusal(d.client_id, e)
                continue
            # The event, not the aggregate: a save that fails has taken the aggregate's pending
            # events, and the retry must save the same ones.
            accepted.append((i, visit.collect_events()[0]))
        return accepted

    def _save_visits(self: Ledger, drafts: Sequence[VisitDraft], chunk: list[tuple[int, Any]], results: list[ItemResult | None], read_set: list[tuple[uuid.UUID, int]]) -> list[tuple[int, Any]]:
        """Saves a chunk with the versions its rules were checked against; returns the items to
        check again because one of those aggregates changed before the save."""
        while chunk:
            try:
                recordings = _save_events(self, [event for _, event in chunk], read_set=read_set)
            except RecordConflictError:
                # A racing retry recorded some of them: those are answered as recorded before.
                present = self._answer_recorded_before(drafts, {event.originator_id: i for i, event in chunk}, results)
                if not present:
                    return chunk  # no visit was there: what the rules read had changed
                chunk = [(i, event) for i, event in chunk if event.originator_id not in present]
                continue
            positions = {r.domain_event.originator_id: r.notification.id for r in recordings}
            for i, event in chunk:
                results[i] = ItemResult(drafts[i].client_id, RECORDED, visit_id=str(event.originator_id), position=positions[event.originator_id])
            return []
        return []


class _BatchLoads:
    """What one batch has loaded: each aggregate once, or the fact that it is missing, from the
    Ledger's aggregate cache (which follows the log) or the store. Called like the Ledger's
    `_load`, and raising the same not-found errors. What it read, with the versions, is the read
    set the save checks under the store's lock, so a cached copy never decides a rule."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.loaded: dict[uuid.UUID, Any] = {}  # None: not in the store
        self.by_given: dict[Any, uuid.UUID | None] = {}  # the id as the client wrote it

    def prefetch(self, cls: type, ids: Sequence[str]) -> None:
        """Loads all the given aggregates: from the cache, and the others with one statement.
        Only for kinds that are never snapshotted (cases, beneficiaries): their whole stream is
        their state."""
        assert cls not in self.ledger.snapshotting_intervals, cls
        cache = self.ledger.cache
        cache.refresh()
        loaded_after = cache.seen
        missing = []
        for key in {key for key in map(self._key, ids) if key is not None and key not in self.loaded}:
            self.loaded[key] = cache.get(key, copy=False)  # read, never changed
            if self.loaded[key] is None:
                missing.append(key)
        to_domain_event = self.ledger.mapper.to_domain_event
        for key, stored in events_of(self.ledger.recorder, missing).items():
            agg = None
            for event in stored:
                agg = to_domain_event(event).mutate(agg)
            self.loaded[key] = agg
            cache.put(agg, loaded_after)

    def found_of(self, cls: type) -> list[Any]:
        return [agg for agg in self.loaded.values() if isinstance(agg, cls)]

    def read_set(self) -> list[tuple[uuid.UUID, int]]:
        return [(agg.id, agg.version) for agg in self.loaded.values() if agg is not None]

    def _key(self, given: Any) -> uuid.UUID | None:
        try:
            return self.by_given[given]
        except KeyError:
            key = self.by_given[given] = _as_uuid(given)
            return key

    def __call__(self, cls: type, aggregate_id: Any, missing: type[NotFound], by: Actor | None = None) -> Any:
        key = self._key(aggregate_id)
        if key is None:
            return self.ledger._load(cls, aggregate_id, missing, by)  # raises its usual not-an-id error
        if key not in self.loaded:
            try:
                self.loaded[key] = self.ledger._load(cls, key, missing, readonly=True)
            except NotFound:
                self.loaded[key] = None
        agg = self.loaded[key]
        if agg is None or not isinstance(agg, cls) or (by is not None and not by.can_see(agg.owner_organisation)):
            raise missing(f"no {cls.__name__.lower()} {aggregate_id}")
        return agg


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _same_visit(delivered: Any, draft: VisitDraft) -> bool:
    """Whether a recorded visit is the one the draft describes (what a client sent, not what
    the ledger added to it)."""
    case_id = _as_uuid(draft.case_id)
    return (
        isinstance(delivered, Visit.Delivered)
        and delivered.case_id == (str(case_id) if case_id else draft.case_id)
        and (delivered.worker_id, delivered.service_code) == (draft.worker_id, draft.service_code)
        and (delivered.started_at, delivered.ended_at) == (draft.started_at, draft.ended_at)
        and (delivered.location, delivered.notes, delivered.evidence_hash) == (draft.location, draft.notes, draft.evidence_hash)
    )


def _save_events(ledger: Ledger, events: list[Any], **kwargs: Any) -> list[Any]:
    """`Application.save(*events, **kwargs)` for events already collected: the same steps, without
    `ProcessingEvent.collect_events` asking of each event whether it is a `DomainEventProtocol`
    (a runtime-checkable Protocol whose isinstance inspects the class's attributes every time:
    ~7 us an event, a tenth of the bulk path's own CPU in the process), and without
    `_take_snapshots`, which snapshots only aggregates given to the save (none here: it raised and
    caught a KeyError per event to find that out)."""
    processing_event: ProcessingEvent[Any] = ProcessingEvent()
    processing_event.events.extend(events)
    processing_event.saved_kwargs.update(kwargs)
    recordings = ledger._record(processing_event)
    ledger._notify(recordings)
    ledger.notify(processing_event.events)  # deprecated in the library, but Application.save calls it
    return recordings


def _same_draft(a: VisitDraft, b: VisitDraft) -> bool:
    return a == b


def _repeat(draft: VisitDraft, first: VisitDraft, first_result: ItemResult | None) -> ItemResult:
    """A client_id that came earlier in the same batch: answered as a retry of that item."""
    assert first_result is not None
    if not _same_draft(draft, first):
        return refusal(draft.client_id, IdempotencyKeyReused(f"client_id {draft.client_id!r} is used twice in the batch, for different visits"))
    if first_result.status == REFUSED:
        return first_result
    return replace(first_result, status=ALREADY_RECORDED)
