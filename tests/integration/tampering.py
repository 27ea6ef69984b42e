"""What a database operator could do behind the ledger's back: change, delete and insert rows of
the eventsourcing library's events table directly in SQL, on either store."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, text

COLUMNS = ("state", "topic", "originator_version", "originator_id")
STANDALONE = Path(__file__).resolve().parents[2] / "tools" / "verify_export.py"


def standalone_verifier() -> ModuleType:
    """tools/verify_export.py, loaded from its file as an auditor would run it."""
    spec = importlib.util.spec_from_file_location("verify_export", STANDALONE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class EventsTable:
    def __init__(self, ledger: Any, engine: Engine) -> None:
        recorder = ledger.recorder
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        if self.postgres:
            self.table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
            self.position = "notification_id"
        else:
            self.table = recorder.events_table_name
            self.position = "rowid"

    def _run(self, sql: str, **params: Any) -> Any:
        with self.engine.begin() as conn:
            return conn.execute(text(sql), params)

    def positions(self) -> list[int]:
        return list(self._run(f"SELECT {self.position} FROM {self.table} ORDER BY {self.position}").scalars())

    def row(self, position: int) -> dict[str, Any]:
        sql = f"SELECT {self.position} AS position, originator_id, originator_version, topic, state FROM {self.table} WHERE {self.position} = :p"
        return dict(self._run(sql, p=position).mappings().one())

    def update(self, position: int, column: str, value: Any) -> None:
        self._run(f"UPDATE {self.table} SET {column} = :v WHERE {self.position} = :p", v=value, p=position)

    def delete(self, position: int) -> dict[str, Any]:
        row = self.row(position)
        self._run(f"DELETE FROM {self.table} WHERE {self.position} = :p", p=position)
        return row

    def insert(self, row: dict[str, Any]) -> None:
        self._run(
            f"INSERT INTO {self.table} ({self.position}, originator_id, originator_version, topic, state) VALUES (:position, :originator_id, :originator_version, :topic, :state)",
            **row,
        )

    def new_originator_id(self) -> Any:
        fresh = uuid.uuid4()
        return fresh if self.postgres else fresh.hex

    def altered(self, row: dict[str, Any], column: str) -> Any:
        """One plausible change to one column of a row."""
        value = row[column]
        if column == "state":
            state = bytes(value)
            return state[:-1] + bytes([state[-1] ^ 1])
        if column == "topic":
            return value.replace(".", ".Forged", 1)
        if column == "originator_version":
            return value + 1000
        return self.new_originator_id()

    def spread(self) -> None:
        """Renumbers the positions 2, 4, 6… so a row can be inserted between any two events, as
        in the gaps PostgreSQL leaves after rolled-back inserts. Run before the chain sees the log."""
        self._run(f"UPDATE {self.table} SET {self.position} = -{self.position}")
        self._run(f"UPDATE {self.table} SET {self.position} = -2 * {self.position}")
        if self.postgres:
            column = f"{self.table}".replace('"', "")
            self._run(f"SELECT setval(pg_get_serial_sequence('{column}', 'notification_id'), (SELECT max(notification_id) FROM {self.table}))")
