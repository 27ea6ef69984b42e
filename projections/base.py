"""What every projection shares: dispatch by event type, money in fen, small SQL helpers."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.domain.rules import Policy
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

    def __init__(self, tables: Tables, policy: Policy | None = None) -> None:
        self.t = tables
        self.policy = policy or Policy()  # the settings a projection may judge by (red flags)
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


# Statements are built once per shape and reused: a reused statement keeps its compiled form,
# where building one per event would spend most of a projection's time inside SQLAlchemy.
_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _statement(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    stmt = _STATEMENTS.get(key)
    if stmt is None:
        stmt = _STATEMENTS[key] = build()
    return stmt


def _where(table: Table, names: Any) -> list[Any]:
    return [table.c[k] == bindparam(f"w_{k}") for k in names]


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: list[str], update_cols: list[str] | None = None) -> None:
    """Insert, or on a key conflict update the given columns (or nothing)."""
    dialect = conn.dialect.name

    def build() -> Any:
        stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table).values({c: bindparam(c) for c in values})
        if update_cols:
            return stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update_cols})
        return stmt.on_conflict_do_nothing(index_elements=keys)

    conn.execute(_statement(("upsert", dialect, table, tuple(values), tuple(keys), tuple(update_cols or ())), build), values)


def add_to(conn: Connection, table: Table, keys: dict[str, Any], **deltas: int) -> None:
    """Adds to the counters of the row with these keys, creating it at zero first if need be."""
    dialect = conn.dialect.name

    def build() -> Any:
        cols = [*keys, *deltas]
        stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table).values({c: bindparam(c) for c in cols})
        return stmt.on_conflict_do_update(index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in deltas})

    conn.execute(_statement(("add_to", dialect, table, tuple(keys), tuple(deltas)), build), {**keys, **deltas})


def bump(conn: Connection, table: Table, where: dict[str, Any], **deltas: int) -> None:
    """Adds to counters of one row."""

    def build() -> Any:
        return update(table).where(*_where(table, where)).values({table.c[k]: table.c[k] + bindparam(f"d_{k}") for k in deltas})

    params = {**{f"w_{k}": v for k, v in where.items()}, **{f"d_{k}": v for k, v in deltas.items()}}
    conn.execute(_statement(("bump", table, tuple(where), tuple(deltas)), build), params)


def set_values(conn: Connection, table: Table, where: dict[str, Any], **values: Any) -> None:
    def build() -> Any:
        return update(table).where(*_where(table, where)).values({table.c[k]: bindparam(f"v_{k}") for k in values})

    params = {**{f"w_{k}": v for k, v in where.items()}, **{f"v_{k}": v for k, v in values.items()}}
    conn.execute(_statement(("set", table, tuple(where), tuple(values)), build), params)


def fetch_one(conn: Connection, table: Table, **where: Any) -> Any:
    stmt = _statement(("fetch", table, tuple(where)), lambda: select(table).where(*_where(table, where)))
    return conn.execute(stmt, {f"w_{k}": v for k, v in where.items()}).mappings().first()


def ts(event: Any) -> datetime:
    return event.timestamp
