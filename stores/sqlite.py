"""The event store on SQLite, with the same two additions as the PostgreSQL adapter: a command's
read set checked inside its write transaction, and the aggregates changed after a log position.

The read set is checked after the insert: SQLite's BEGIN is deferred, so the insert is the
statement that takes the write lock, and only reads after it are sure to see every commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import RecordConflictError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteFactory, SQLiteProcessRecorder

ReadSet = Sequence[tuple[UUID, int]]


class ReadSetChanged(RecordConflictError):
    """An aggregate the command validated against has a newer event than the one it read."""


class _ReadSetChecks:
    events_table_name: str
    datastore: Any

    def _check_read_set(self, c: SQLiteCursor, read_set: ReadSet) -> None:
        statement = f"SELECT 1 FROM {self.events_table_name} WHERE originator_id = ? AND originator_version > ? LIMIT 1"
        for aggregate_id, version in read_set:
            c.execute(statement, (aggregate_id.hex if isinstance(aggregate_id, UUID) else aggregate_id, version))
            if c.fetchone() is not None:
                raise ReadSetChanged("an aggregate the command read has changed since")

    def select_changed_ids(self, after: int, limit: int) -> list[tuple[int, UUID]]:
        """(position, aggregate id) of the events after a position, in log order."""
        statement = f"SELECT rowid, originator_id FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?"
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (after, limit))
            return [(row[0], UUID(row[1])) for row in c.fetchall()]


class ReadSetApplicationRecorder(_ReadSetChecks, SQLiteApplicationRecorder):
    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        if read_set := kwargs.get("read_set"):
            self._check_read_set(c, read_set)
        return returning


class ReadSetProcessRecorder(_ReadSetChecks, SQLiteProcessRecorder):
    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        returning = super()._insert_events(c, stored_events, **kwargs)
        if read_set := kwargs.get("read_set"):
            self._check_read_set(c, read_set)
        return returning


class ReadSetSQLiteFactory(SQLiteFactory):
    application_recorder_class = ReadSetApplicationRecorder
    process_recorder_class = ReadSetProcessRecorder
