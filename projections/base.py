"""What every projection shares: dispatch by event type, money in fen, small SQL helpers."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from projections.tables import Tables

Handler = Callable[[Connection, Any, int], None]


def fen(amount: Decimal | str | int) -> int:
    return int((Decimal(str(amount)) * 100).to_integral_value())


def yuan(fen_amount: int | None) -> str:
    return str((Decimal(fen_amount or 0) / 100).quantize(Decimal("0.01")))


def event_type(event: Any) -> str:
    """'Visit.Delivered' for the library's nested event classes."""
    return type(event).__qualname__


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class Projection(ABC):
    """A read model kept from the global log. Handlers must use only what the event carries and
    what the projection's own tables hold, so a rebuild gives exactly the rows live processing gave."""

    name: str = ""

    def __init__(self, tables: Tables) -> None:
        self.t = tables
        self.handlers: dict[str, Handler] = self.register()

    @abstractmethod
    def register(self) -> dict[str, Handler]:
        """Event type ('Visit.Delivered') to handler."""

    @abstractmethod
    def owned_tables(self) -> list[Table]:
        """The tables this projection alone writes, cleared and refilled by a rebuild."""

    def handle(self, conn: Connection, event: Any, position: int) -> None:
        handler = self.handlers.get(event_type(event))
        if handler is not None:
            handler(conn, event, position)


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: list[str], update_cols: list[str] | None = None) -> None:
    """Insert, or on a key conflict update the given columns (or nothing)."""
    dialect = conn.dialect.name
    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table).values(**values)
    if update_cols:
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update_cols})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt)


def bump(conn: Connection, table: Table, where: dict[str, Any], **deltas: int) -> None:
    """Adds to counters of one row."""
    stmt = update(table).where(*[table.c[k] == v for k, v in where.items()])
    conn.execute(stmt.values({table.c[k]: table.c[k] + v for k, v in deltas.items()}))


def set_values(conn: Connection, table: Table, where: dict[str, Any], **values: Any) -> None:
    conn.execute(update(table).where(*[table.c[k] == v for k, v in where.items()]).values(**values))


def fetch_one(conn: Connection, table: Table, **where: Any) -> Any:
    return conn.execute(select(table).where(*[table.c[k] == v for k, v in where.items()])).mappings().first()


def ts(event: Any) -> datetime:
    return event.timestamp
