"""Where an aggregate's first event stands in the global log, for replayed command responses.

The library records a notification id when it inserts an event but offers no lookup by
originator; this reads the library's own table, on either store, without changing it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


def first_position(recorder: Any, originator_id: UUID) -> int | None:
    datastore = recorder.datastore
    table = recorder.events_table_name
    if hasattr(datastore, "schema"):  # PostgreSQL
        statement = f'SELECT notification_id AS position FROM "{datastore.schema}"."{table}" WHERE originator_id = %s AND originator_version = 1'
        params: tuple[Any, ...] = (originator_id,)
    else:  # SQLite: the notification id is the rowid
        statement = f"SELECT rowid AS position FROM {table} WHERE originator_id = ? AND originator_version = 1"
        params = (originator_id.hex,)
    if hasattr(datastore, "schema"):  # one statement in autocommit: no BEGIN and ROLLBACK round trips
        with datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
    else:
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, params)
            row = cursor.fetchone()
    return None if row is None else int(row["position"])
