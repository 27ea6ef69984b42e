"""Reads of many aggregates' events in one statement, for the bulk paths.

The library selects one aggregate's events per call: a batch of a thousand visits would make a
thousand round trips to find which were recorded before, and as many to load their cases. These
read the library's own table, on either store, without changing it (as positions.py does).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

# SQLite allows 32,766 parameters per statement since 3.32; older builds 999.
SQLITE_IDS_PER_STATEMENT = 500


def events_of(recorder: Any, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
    """Every stored event of each aggregate, in version order; an unknown id is absent."""
    found: dict[UUID, list[StoredEvent]] = defaultdict(list)
    for _, event in _select(recorder, list(dict.fromkeys(ids)), first_only=False):
        found[event.originator_id].append(event)
    return dict(found)


def first_events_of(recorder: Any, ids: Iterable[UUID]) -> dict[UUID, tuple[int, StoredEvent]]:
    """Each aggregate's first event and its position in the global log; an unknown id is absent."""
    return {event.originator_id: (position, event) for position, event in _select(recorder, list(dict.fromkeys(ids)), first_only=True)}


def _select(recorder: Any, ids: Sequence[UUID], *, first_only: bool) -> list[tuple[int, StoredEvent]]:
    if not ids:
        return []
    datastore = recorder.datastore
    table = recorder.events_table_name
    first = " AND originator_version = 1" if first_only else ""
    rows: list[tuple[int, StoredEvent]] = []
    if hasattr(datastore, "schema"):  # PostgreSQL: one statement, the ids as one array parameter
        statement = (
            f'SELECT notification_id, originator_id, originator_version, topic, state FROM "{datastore.schema}"."{table}" '
            f"WHERE originator_id = ANY(%b){first} ORDER BY originator_id, originator_version"
        )
        # One statement is its own snapshot: no transaction, so building the events below never
        # keeps one open (the library's connections end a transaction left idle for 5 s).
        # Parameters and rows in binary: a thousand ids quoted into text cost a millisecond.
        with datastore.get_connection() as conn, conn.cursor(binary=True) as cursor:
            cursor.execute(statement, (list(ids),))
            found = cursor.fetchall()
        return [(int(row["notification_id"]), _stored(row["originator_id"], row)) for row in found]
    # SQLite: the notification id is the rowid, and ids are stored as hex text.
    with datastore.transaction(commit=False) as cursor:
        for start in range(0, len(ids), SQLITE_IDS_PER_STATEMENT):
            chunk = ids[start : start + SQLITE_IDS_PER_STATEMENT]
            marks = ",".join("?" * len(chunk))
            cursor.execute(
                f"SELECT rowid AS notification_id, originator_id, originator_version, topic, state FROM {table} WHERE originator_id IN ({marks}){first} ORDER BY originator_id, originator_version",
                [i.hex for i in chunk],
            )
            for row in cursor.fetchall():
                rows.append((int(row["notification_id"]), _stored(UUID(row["originator_id"]), row)))
    return rows


def _stored(originator_id: UUID, row: Any) -> StoredEvent:
    return StoredEvent(originator_id=originator_id, originator_version=row["originator_version"], topic=row["topic"], state=bytes(row["state"]))
