"""The event store on PostgreSQL with every wait bounded.

The library bounds the wait for a pooled connection and (per transaction) the table lock, but
not a statement, nor the TCP connect of a new connection. This factory adds both to every
connection its pool opens, through libpq's own `connect_timeout` and `options`, so a stopped or
stalled server costs a request seconds, never minutes. Its recorders make one attempt per call:
the library's retry (ten attempts, each waiting for the pool or a lock) turned a 2-second wait
into 22 seconds, and the client retries anyway, with its Idempotency-Key, when it reads the 503.
It also keeps the pool's reconnection attempts short: their delays double up to the give-up
time, so after a long outage the pool would otherwise wait as long again before it tried the
returned server.

For the fast path its application recorders also:
- check a command's READ SET under the table lock: the versions of the aggregates it validated
  against but does not change (`insert_events(..., read_set=[(id, version), ...])`). A newer
  event of any of them raises RecordConflictError and nothing is written, so a rule is never
  checked against a stale copy (a cached one, or one another writer changed since the load);
- list the aggregates changed after a log position (`select_changed_ids`), cheaply, for the
  aggregate cache's invalidation;
- ping a pooled connection before use only when it sat idle a while: a connection in steady use
  is known good, and the ping was a round trip on every store call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, Notification, RecordConflictError, StoredEvent
from eventsourcing.postgres import (
    ConnectionPool,
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
    PostgresProcessRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.utils import strtobool
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from stores.group_commit import GroupCommit, Item


def _once(method: Callable[..., Any]) -> Callable[..., Any]:
    """The method without the library's retry decorator (functools.wraps keeps the original)."""
    return getattr(method, "__wrapped__", method)


class OneAttemptAggregateRecorder(PostgresAggregateRecorder):
    insert_events = _once(PostgresAggregateRecorder.insert_events)
    select_events = _once(PostgresAggregateRecorder.select_events)


ReadSet = Sequence[tuple[UUID, int]]


class ReadSetChanged(RecordConflictError):
    """An aggregate the command validated against has a newer event than the one it read."""


class OneAttemptApplicationRecorder(PostgresApplicationRecorder):
    group: GroupCommit | None = None  # set by the factory when LEDGER_GROUP_COMMIT is on

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's pipelined insert (lock, notify, insert, one sync, commit), with the read
        set checked after the lock, in the same round trip; or, with group commit, one item of
        the next batch. The milestone process's saves (with tracking) go alone."""
        read_set: ReadSet = kwargs.get("read_set") or ()
        if self.group is not None and stored_events and kwargs.get("tracking") is None:
            return self.group.submit(Item(stored_events, read_set))
        exc: Exception | None = None
        notification_ids: Sequence[int] | None = None
        changed = False
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline, conn.transaction():
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)  # tracking, if any
                if stored_events:
                    with conn.cursor() as curs, conn.cursor() as check:
                        try:
                            self._lock_table(curs)
                            self._notify_channel(curs)
                            if read_set:
                                check.execute(self._read_set_statement(), _read_set_params(read_set), prepare=True)
                            self._insert_rows(curs, stored_events)
                            # Sync now, so a duplicate key raises IntegrityError here.
                            pipeline.sync()
                            notification_ids = self._fetch_ids_after_insert_events(curs, stored_events)
                            if read_set and check.fetchone() is not None:
                                changed = True
                                raise psycopg.Rollback()
                        except psycopg.Rollback:
                            raise
                        except Exception as e:
                            exc = e  # re-raised after the pipeline has exited (no psycopg warning)
            if exc:
                raise exc
        if changed:
            raise ReadSetChanged("an aggregate the command read has changed since")
        return notification_ids

    def _write_batch(self, batch: list[Item]) -> None:
        """Writes a batch of saves in one transaction; each item succeeds or fails alone.

        Conflicts inside the batch are settled first, in batch order (= log order): an item that
        writes an event an earlier item writes, or reads an aggregate an earlier item writes,
        fails. Then, in one round trip after the lock: the read sets are checked against the
        log, and every remaining event inserted with ON CONFLICT DO NOTHING; an item whose read
        set changed, or with an event the log already has, has its inserted rows deleted again
        before the commit."""
        errors: dict[int, Exception] = {}
        written: set[tuple[Any, int]] = set()
        written_ids: set[Any] = set()
        for n, item in enumerate(batch):
            keys = [(e.originator_id, e.originator_version) for e in item.stored_events]
            if any(k in written for k in keys):
                errors[n] = IntegrityError("an earlier save of the same batch wrote this version")
            elif any(i in written_ids for i, _ in item.read_set):
                errors[n] = ReadSetChanged("an earlier save of the same batch changed an aggregate this command read")
            else:
                written.update(keys)
                written_ids.update(i for i, _ in keys)
        accepted = [n for n in range(len(batch)) if n not in errors]
        rows = [e for n in accepted for e in batch[n].stored_events]
        checks = [(i, v, n) for n in accepted for i, v in batch[n].read_set]
        positions: dict[tuple[Any, int], int] = {}
        # Any exception leaves the transaction by rolling it back: nothing of the batch is kept.
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline, conn.transaction():
                # Tuples in binary, not a dict per row in text: up to a thousand rows come back.
                with conn.cursor() as curs, conn.cursor(row_factory=tuple_row, binary=True) as check, conn.cursor(row_factory=tuple_row, binary=True) as insert:
                    self._lock_table(curs)
                    self._notify_channel(curs)
                    if checks:
                        check.execute(self._batch_check_statement(), _columns(checks, 3), prepare=True)
                    if rows:
                        self._insert_rows(insert, rows, returning_keys=True)
                    pipeline.sync()
                    changed = {n for (n,) in check.fetchall()} if checks else set()
                    for originator_id, version, notification_id in insert.fetchall() if rows else []:
                        positions[(originator_id, version)] = notification_id
                    undo: list[int] = []
                    for n in accepted:
                        keys = [(e.originator_id, e.originator_version) for e in batch[n].stored_events]
                        if n in changed:
                            errors[n] = ReadSetChanged("an aggregate the command read has changed since")
                        elif not all(k in positions for k in keys):
                            errors[n] = IntegrityError("the log already has an event of this version")
                        if n in errors:
                            undo += [positions.pop(k) for k in keys if k in positions]
                    if undo:
                        curs.execute(self._batch_delete_statement(), (undo,))
        for n, item in enumerate(batch):
            if n in errors:
                item.error = errors[n]
            else:
                item.result = [positions[(e.originator_id, e.originator_version)] for e in item.stored_events]

    def _insert_rows(self, curs: Any, stored_events: Sequence[StoredEvent], *, returning_keys: bool = False) -> None:
        """Inserts the events in the order given, so their notification ids follow that order:
        RETURNING notification_id (in that order), or with `returning_keys` each row's
        (originator_id, originator_version, notification_id), skipping an event the log already
        has (ON CONFLICT DO NOTHING).

        The four columns go as four arrays in PostgreSQL's binary format: dumping 500 events
        as one array of the library's composite type cost ~35 us of Python a row (each field
        quoted into text), binary arrays ~3 us, and the server parses them faster too."""
        if self.datastore.originator_id_type != "uuid":  # text ids: the library's own insert
            if returning_keys:
                curs.execute(self._composite_insert_statement(), ([self._pg_event(e) for e in stored_events],), prepare=True)
            else:
                PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events)
            return
        params = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        curs.execute(self._array_insert_statement(returning_keys), params, prepare=True)

    def _array_insert_statement(self, returning_keys: bool) -> Any:
        cached = getattr(self, "_array_insert_sql", None)
        if cached is None:
            cached = self._array_insert_sql = {
                keys: SQL(
                    "INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state)"
                    " SELECT i, v, tp, s FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) WITH ORDINALITY AS r(i, v, tp, s, n) ORDER BY n"
                    + (" ON CONFLICT DO NOTHING RETURNING originator_id, originator_version, notification_id" if keys else " RETURNING notification_id")
                ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
                for keys in (False, True)
            }
        return cached[returning_keys]

    def _pg_event(self, e: StoredEvent) -> Any:
        return self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)

    def _composite_insert_statement(self) -> Any:
        return SQL(
            "INSERT INTO {schema}.{table} AS t (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version, topic, state FROM unnest(%s::{schema}.{stored_event_type}[])"
            " ON CONFLICT DO NOTHING RETURNING originator_id, originator_version, notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            stored_event_type=Identifier(self.stored_event_type_name),
        )

    def _batch_check_statement(self) -> Any:
        return SQL("SELECT DISTINCT r.n FROM unnest(%b::uuid[], %b::bigint[], %b::int[]) AS r(id, v, n) JOIN {schema}.{table} e ON e.originator_id = r.id AND e.originator_version > r.v").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
        )

    def _batch_delete_statement(self) -> Any:
        return SQL("DELETE FROM {schema}.{table} WHERE notification_id = ANY(%s)").format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

    def _read_set_statement(self) -> Any:
        if not hasattr(self, "_read_set_sql"):
            self._read_set_sql = SQL("SELECT 1 FROM {schema}.{table} e JOIN unnest(%b::uuid[], %b::bigint[]) AS r(id, v) ON e.originator_id = r.id AND e.originator_version > r.v LIMIT 1").format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
        return self._read_set_sql

    def select_changed_ids(self, after: int, limit: int) -> list[tuple[int, UUID]]:
        """(position, aggregate id) of the events after a position, in log order."""
        statement = SQL("SELECT notification_id, originator_id FROM {schema}.{table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
        )
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(statement, (after, limit), prepare=True)
            return curs.fetchall()

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's select_notifications (same statement and answer, one attempt), reading
        rows as tuples in PostgreSQL's binary format: the follower, the read models and the hash
        chain read every event through it, and building a dict per row in text format cost about
        twice the CPU a page of a thousand events."""
        key = (start is not None, inclusive_of_start, stop is not None, bool(topics))
        statements = self.__dict__.setdefault("_select_notifications_sql", {})
        statement = statements.get(key)
        if statement is None:
            where = []
            if start is not None:
                where.append("notification_id >= %s" if inclusive_of_start else "notification_id > %s")
            if stop is not None:
                where.append("notification_id <= %s")
            if topics:
                where.append("topic = ANY(%s)")
            statement = statements[key] = SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table}"
                + (" WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY notification_id LIMIT %s"
            ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        params: list[Any] = [p for p in (start, stop) if p is not None]
        if topics:
            params.append(list(topics))
        params.append(limit)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(statement, params, prepare=True)
            return [Notification(id=i, originator_id=o, originator_version=v, topic=t, state=s) for i, o, v, t, s in curs.fetchall()]

    select_events = _once(PostgresAggregateRecorder.select_events)
    max_notification_id = _once(PostgresApplicationRecorder.max_notification_id)


class OneAttemptTrackingRecorder(PostgresTrackingRecorder):
    insert_tracking = _once(PostgresTrackingRecorder.insert_tracking)
    max_tracking_id = _once(PostgresTrackingRecorder.max_tracking_id)
    has_tracking_id = _once(PostgresTrackingRecorder.has_tracking_id)


class OneAttemptProcessRecorder(PostgresProcessRecorder):
    insert_events = OneAttemptApplicationRecorder.insert_events
    group: GroupCommit | None = None
    _read_set_statement = OneAttemptApplicationRecorder._read_set_statement
    _write_batch = OneAttemptApplicationRecorder._write_batch
    _pg_event = OneAttemptApplicationRecorder._pg_event
    _insert_rows = OneAttemptApplicationRecorder._insert_rows
    _array_insert_statement = OneAttemptApplicationRecorder._array_insert_statement
    _composite_insert_statement = OneAttemptApplicationRecorder._composite_insert_statement
    _batch_check_statement = OneAttemptApplicationRecorder._batch_check_statement
    _batch_delete_statement = OneAttemptApplicationRecorder._batch_delete_statement
    select_changed_ids = OneAttemptApplicationRecorder.select_changed_ids
    select_events = OneAttemptApplicationRecorder.select_events
    select_notifications = OneAttemptApplicationRecorder.select_notifications
    max_notification_id = OneAttemptApplicationRecorder.max_notification_id
    insert_tracking = OneAttemptTrackingRecorder.insert_tracking
    max_tracking_id = OneAttemptTrackingRecorder.max_tracking_id
    has_tracking_id = OneAttemptTrackingRecorder.has_tracking_id


class BoundedPostgresFactory(PostgresFactory):
    aggregate_recorder_class = OneAttemptAggregateRecorder
    application_recorder_class = OneAttemptApplicationRecorder
    tracking_recorder_class = OneAttemptTrackingRecorder
    process_recorder_class = OneAttemptProcessRecorder
    # Whole seconds for libpq's connect_timeout; `-c name=value` settings for the session.
    POSTGRES_SERVER_CONNECT_TIMEOUT = "POSTGRES_SERVER_CONNECT_TIMEOUT"
    POSTGRES_SESSION_OPTIONS = "POSTGRES_SESSION_OPTIONS"
    GROUP_COMMIT = "GROUP_COMMIT"  # LEDGER_GROUP_COMMIT: concurrent saves share one transaction
    RECONNECT_GIVE_UP_SECONDS = 10.0  # then a request that needs a connection starts a new attempt

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        extra: dict[str, Any] = {}
        if connect_timeout := self.env.get(self.POSTGRES_SERVER_CONNECT_TIMEOUT):
            extra["connect_timeout"] = int(connect_timeout)
        if options := self.env.get(self.POSTGRES_SESSION_OPTIONS):
            extra["options"] = options
        # The pool opens lazily, on the first connection a recorder asks for: these arguments
        # therefore apply to every connection it ever makes.
        self.datastore.pool.kwargs.update(extra)
        self.datastore.pool.reconnect_timeout = self.RECONNECT_GIVE_UP_SECONDS
        self._bounded_pool()
        self.group_commit = strtobool(self.env.get(self.GROUP_COMMIT) or "yes")

    def application_recorder(self) -> Any:
        return self._grouping(super().application_recorder())

    def process_recorder(self) -> Any:
        return self._grouping(super().process_recorder())

    def _grouping(self, recorder: Any) -> Any:
        if self.group_commit and isinstance(recorder, (OneAttemptApplicationRecorder, OneAttemptProcessRecorder)):
            recorder.group = GroupCommit(recorder._write_batch)
        return recorder

    def _bounded_pool(self) -> None:
        if self.datastore.pool._check is not None:
            self.datastore.pool._check = _ping_if_idle
            self.datastore.pool._reset = _note_returned


def _columns(rows: list[tuple[Any, ...]], width: int) -> tuple[list[Any], ...]:
    return tuple([r[k] for r in rows] for k in range(width))


def _read_set_params(read_set: ReadSet) -> tuple[list[UUID], list[int]]:
    return [i for i, _ in read_set], [v for _, v in read_set]


# A connection returned less than this long ago is used without a ping: it worked a moment ago,
# and if the server went away since, the call fails with a 503 and the pool discards the connection.
PING_AFTER_IDLE_SECONDS = 1.0


def _note_returned(conn: Any) -> None:
    conn._ledger_returned_at = time.monotonic()


def _ping_if_idle(conn: Any) -> None:
    if time.monotonic() - getattr(conn, "_ledger_returned_at", 0.0) > PING_AFTER_IDLE_SECONDS:
        ConnectionPool.check_connection(conn)
