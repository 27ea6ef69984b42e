"""Keeps the read models: reads the global log after each projection's position and applies
the events, writing the rows and the new position in one transaction.

Exactly once: a batch first claims its range by moving the position from the value it read to
the new one (compare-and-set); if another runner moved it first, the claim matches no row and
the whole batch rolls back. A crash rolls back the open transaction. Positions are compared,
never counted, so the gaps PostgreSQL leaves after rolled-back inserts do not matter.

Set-based: a batch (batch_size notifications, decoded once for all projections, and only those
some projection handles) reaches each projection in one call, Projection.apply, which hands each
run of consecutive events of one type to that type's batch handler (one statement per table per
run) and the rest to the per-event handlers. If that fails the transaction rolls back and the same
batch is replayed event by event, which finds the failing event exactly (below).

Each projection advances on its own. One that cannot apply an event keeps every event before it,
stops there alone and records the stall on its position row (projections/stalls.py); it tries
again after a growing pause, so a fixed handler or a widened column lets it resume by itself.
A store that does not answer is not a stall: the error goes up to the caller, nothing is recorded.

Works the same on SQLite and PostgreSQL: it polls the library's notification log, which both
stores offer (the library's subscriptions exist only for PostgreSQL).
"""

from __future__ import annotations

import fcntl
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, MetaData, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.domain.rules import Policy
from projections.audit import AuditTrail
from projections.base import Projection
from projections.caseload import Caseload
from projections.flags import RedFlags
from projections.fulfilment import Fulfilment
from projections.funds import FundUsage
from projections.rollups import Rollups
from projections.stalls import NO_STALL, EventFailed, ProjectionStalled, RebuildRunning, Stall, backoff_seconds, error_message, error_name, event_type_of, is_outage, utc
from projections.tables import LIVE, Tables, define
from projections.trace import Trace

PROJECTIONS: tuple[type[Projection], ...] = (AuditTrail, Caseload, Fulfilment, FundUsage, RedFlags, Trace, Rollups)
NAMES = tuple(p.name for p in PROJECTIONS)


class ClaimLost(Exception):
    """Another runner advanced the projection first; this batch is dropped."""


def build(tables: Tables, names: Sequence[str] | None = None, policy: Policy | None = None) -> list[Projection]:
    wanted = set(names or NAMES)
    unknown = wanted - set(NAMES)
    if unknown:
        raise ValueError(f"unknown projections: {', '.join(sorted(unknown))}; known: {', '.join(NAMES)}")
    return [cls(tables, policy) for cls in PROJECTIONS if cls.name in wanted]


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Progress:
    """Where a projection stands: its position, the time of its last event, and its stall if any."""

    position: int
    event_time: datetime | None = None
    attempts: int = 0
    stall: Stall | None = None

    @classmethod
    def of(cls, row: Any) -> Progress:
        return cls(row.position, utc(row.event_time), row.attempts, Stall.of(row))


class _Batch:
    """Notifications read once for every projection at the same position, each decoded once, on
    first use by a projection that handles its type."""

    def __init__(self, mapper: Any, notifications: list[Any]) -> None:
        self.mapper = mapper
        self.notifications = notifications
        self.kinds = [event_type_of(n) for n in notifications]
        self._events: dict[int, Any] = {}

    def event(self, index: int) -> Any:
        if index not in self._events:
            self._events[index] = self.mapper.to_domain_event(self.notifications[index])
        return self._events[index]


class _BatchFailed(Exception):
    """A set-based application failed somewhere in the batch: replay it event by event to find where."""


class ProjectionRunner:
    def __init__(
        self,
        ledger: Any,
        engine: Engine,
        *,
        tables: Tables = LIVE,
        names: Sequence[str] | None = None,
        batch_size: int = 1000,
        retry_seconds: float = 1.0,
        max_retry_seconds: float = 30.0,
        on_stall: Callable[[str, Stall], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.engine = engine
        self.tables = tables
        self.projections = build(tables, names, ledger.policy)
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.on_stall = on_stall or (lambda name, stall: None)
        self._lock = threading.Lock()
        self.replayed = 0  # batches whose set-based application failed and went event by event

    def ensure_positions(self) -> None:
        p = self.tables.positions
        # Workers may start together: each row is inserted once, whoever comes second does nothing.
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self.engine.begin() as conn:
            for projection in self.projections:
                conn.execute(dialect.insert(p).values(name=projection.name, position=0).on_conflict_do_nothing(index_elements=["name"]))

    def progress(self) -> dict[str, Progress]:
        p = self.tables.positions
        with self.engine.connect() as conn:
            rows = {r.name: Progress.of(r) for r in conn.execute(select(p))}
        return {proj.name: rows.get(proj.name, Progress(0)) for proj in self.projections}

    def positions(self) -> dict[str, int]:
        return {name: state.position for name, state in self.progress().items()}

    def retry_now(self) -> None:
        """Stalled projections try again on the next round (a restart after a fix)."""
        p = self.tables.positions
        with self.engine.begin() as conn:
            conn.execute(update(p).where(p.c.stalled_position.is_not(None)).values(retry_at=_now()))

    def run_once(self) -> int:
        """Applies the next batch of the log to each projection that is behind and not waiting to
        retry a stall; returns how many events were applied (by this runner or a racing one)."""
        with self._lock:
            now = _now()
            states = self.progress()
            due: dict[int, list[Projection]] = {}
            for projection in self.projections:
                state = states[projection.name]
                if state.stall is None or state.stall.retry_at <= now:
                    due.setdefault(state.position, []).append(projection)
            applied = 0
            for start, projections in due.items():
                notifications = self.ledger.recorder.select_notifications(start=start, limit=self.batch_size, inclusive_of_start=False)
                if not notifications:
                    continue
                batch = _Batch(self.ledger.mapper, notifications)
                for projection in projections:
                    try:
                        applied += self._advance(projection, states[projection.name], batch)
                    except ClaimLost:
                        applied += len(notifications)  # another runner did it; the next round reads its position
            return applied

    def _advance(self, projection: Projection, state: Progress, batch: _Batch) -> int:
        """Applies the batch, or the events before the first that fails and then records the stall.
        The batch goes first in runs (set-based); if that fails it is replayed event by event, which
        keeps every event before the failing one and names it exactly."""
        end, failure, one_by_one = len(batch.notifications), None, False
        while end:
            try:
                self._apply(projection, state.position, batch, end, one_by_one)
                break
            except _BatchFailed:
                self.replayed += 1
                one_by_one = True
            except EventFailed as failed:
                end, failure, one_by_one = failed.index, failed, True
        if failure is None:
            return end
        if end:  # the events before it are applied; the stall starts afresh
            state = Progress(batch.notifications[end - 1].id)
        self._record_stall(projection, state, batch.notifications[end], failure.error)
        return end

    def _apply(self, projection: Projection, old: int, batch: _Batch, end: int, one_by_one: bool) -> None:
        p = self.tables.positions
        with self.engine.begin() as conn:
            last = self._event(batch, end - 1)
            claim = conn.execute(
                update(p).where(p.c.name == projection.name, p.c.position == old).values(position=batch.notifications[end - 1].id, event_time=last.timestamp, updated_at=_now(), **NO_STALL)
            )
            if claim.rowcount != 1:
                raise ClaimLost(projection.name)
            wanted = [index for index in range(end) if projection.wants(batch.kinds[index])]
            if not one_by_one:
                events = [(self._event(batch, index), batch.notifications[index].id) for index in wanted]
                try:
                    projection.apply(conn, events)
                except Exception as error:
                    if is_outage(error):
                        raise
                    raise _BatchFailed(projection.name) from error
                return
            for index in wanted:
                try:
                    projection.handle(conn, self._event(batch, index), batch.notifications[index].id)
                except Exception as error:
                    if is_outage(error) or isinstance(error, EventFailed):
                        raise
                    raise EventFailed(index, error) from error

    @staticmethod
    def _event(batch: _Batch, index: int) -> Any:
        try:
            return batch.event(index)
        except Exception as error:  # an event this code can no longer read stalls like one it cannot apply
            raise EventFailed(index, error) from error

    def _record_stall(self, projection: Projection, state: Progress, notification: Any, error: BaseException) -> None:
        p = self.tables.positions
        now = _now()
        again = state.stall is not None and state.stall.position == notification.id
        attempts = state.stall.attempts + 1 if again and state.stall else 1
        stall = Stall(
            position=notification.id,
            event_type=event_type_of(notification),
            aggregate_id=str(notification.originator_id),
            error=error_name(error),
            message=error_message(error),
            since=state.stall.since if again and state.stall else now,
            attempts=attempts,
            retry_at=now + timedelta(seconds=backoff_seconds(attempts, self.retry_seconds, self.max_retry_seconds)),
        )
        with self.engine.begin() as conn:
            recorded = conn.execute(update(p).where(p.c.name == projection.name, p.c.position == state.position, p.c.attempts == state.attempts).values(**stall.columns(), updated_at=now))
        if recorded.rowcount == 1:  # else a racing runner recorded this attempt or moved on
            self.on_stall(projection.name, stall)

    def run_until_idle(self, progress: Callable[[int], None] | None = None) -> int:
        total = 0
        while n := self.run_once():
            total += n
            if progress:
                progress(total)
        return total


# pg_advisory_lock's key for "a rebuild is running" (any fixed number; this is "LEDGERRB" in ASCII).
REBUILD_LOCK_KEY = 0x4C45444745525242


class Rebuilder:
    """Rebuilds a projection from the first event into shadow tables while the live tables keep
    serving, catches up to the head, then swaps the rows and the position in one transaction.
    An event the projection cannot apply ends the rebuild with ProjectionStalled, before the swap."""

    SUFFIX = "__rebuild"

    def __init__(self, ledger: Any, engine: Engine) -> None:
        self.ledger = ledger
        self.engine = engine

    def rebuild(self, name: str, progress: Callable[[str, int, int], None] | None = None) -> int:
        # One rebuild at a time per store: every rebuild's shadow tables share one position table,
        # which each drops on start, so a second one would pull it from under the first.
        with self._alone():
            return self._rebuild(name, progress)

    @contextmanager
    def _alone(self) -> Iterator[None]:
        """Holds the store's rebuild lock, or raises RebuildRunning at once: PostgreSQL's advisory
        lock, or an exclusive lock on a file beside the SQLite database. Either is released when
        its process ends, so a killed rebuild never leaves it taken."""
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                if not conn.execute(select(func.pg_try_advisory_lock(REBUILD_LOCK_KEY))).scalar():
                    raise RebuildRunning()
                try:
                    yield
                finally:
                    conn.execute(select(func.pg_advisory_unlock(REBUILD_LOCK_KEY)))
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield
            return
        with open(f"{database}.rebuild.lock", "a") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RebuildRunning() from None
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _rebuild(self, name: str, progress: Callable[[str, int, int], None] | None) -> int:
        shadow_md = MetaData()
        shadow = define(shadow_md, self.SUFFIX)
        live_projection = build(LIVE, [name], self.ledger.policy)[0]
        shadow_projection = build(shadow, [name], self.ledger.policy)[0]
        shadow_tables = [*shadow_projection.owned_tables(), shadow.positions]
        shadow_md.drop_all(self.engine, tables=shadow_tables)
        shadow_md.create_all(self.engine, tables=shadow_tables)
        try:
            runner = ProjectionRunner(self.ledger, self.engine, tables=shadow, names=[name], batch_size=1000)
            runner.ensure_positions()
            head = self.ledger.recorder.max_notification_id() or 0
            done = runner.run_until_idle(lambda n: progress(name, n, head) if progress else None)
            stall = runner.progress()[name].stall
            if stall is not None:  # the live tables keep serving; the shadow ones are dropped
                raise ProjectionStalled(name, stall)
            self._swap(live_projection, shadow_projection, shadow)
            return done
        finally:
            shadow_md.drop_all(self.engine, tables=shadow_tables)

    def _swap(self, live: Projection, shadow: Projection, shadow_tables: Tables) -> None:
        lp, sp = LIVE.positions, shadow_tables.positions
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # The copy is as long as the read model (a million visits take minutes): like a
                # migration it is bounded by its lock wait alone, or every large rebuild would be
                # thrown away at its last step.
                conn.execute(text("SET LOCAL statement_timeout = 0"))
            # Take the live position row first: a live runner's batch waits or loses its claim.
            conn.execute(update(lp).where(lp.c.name == live.name).values(updated_at=_now()))
            position, event_time = conn.execute(select(sp.c.position, sp.c.event_time).where(sp.c.name == shadow.name)).one()
            for live_table, shadow_table in zip(live.owned_tables(), shadow.owned_tables(), strict=True):
                conn.execute(delete(live_table))
                columns = [c.name for c in live_table.columns]
                conn.execute(insert(live_table).from_select(columns, select(*[shadow_table.c[c] for c in columns])))
            conn.execute(update(lp).where(lp.c.name == live.name).values(position=position, event_time=event_time, updated_at=_now(), **NO_STALL))


def print_progress(name: str, done: int, head: int) -> None:
    width = 30
    share = min(done / head, 1.0) if head else 1.0
    bar = "#" * int(share * width)
    sys.stderr.write(f"\rrebuilding {name:<10} [{bar:<{width}}] {done}/{head} events")
    if done >= head:
        sys.stderr.write("\n")
    sys.stderr.flush()
