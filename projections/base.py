"""What every projection shares: dispatch by event type (one event, or a run of events of one
type in one call), money in fen, small SQL helpers (one row, or many rows in one statement)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Table, Text, and_, bindparam, cast, column, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import String, TypeEngine

from ledger.domain.rules import Policy
from projections.tables import Tables

Handler = Callable[[Connection, Any, int], None]
# A run of consecutive events of one type, as (event, position) pairs in log order.
BatchHandler = Callable[[Connection, list[tuple[Any, int]]], None]


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
    # Pairs of event types whose events, when they belong to different aggregates, leave the same
    # rows in either order in this projection; `apply` may then gather each type into one run.
    # Declared per projection from what its handlers read and write; the batch tests prove it.
    commuting: frozenset[frozenset[str]] = frozenset()
    # Event types whose consecutive events make one run whatever their types: their batch handler
    # (one for them all) takes a run of them mixed, in log order.
    mixed: frozenset[str] = frozenset()

    def __init__(self, tables: Tables, policy: Policy | None = None) -> None:
        self.t = tables
        self.policy = policy or Policy()  # the settings a projection may judge by (red flags)
        self.handlers: dict[str, Handler] = self.register()
        self.batch_handlers: dict[str, BatchHandler] = self.register_batch()
        # A failing batch is replayed event by event: each type a run handles needs its own handler.
        alone = set(self.batch_handlers) - set(self.handlers)
        if alone and type(self).handle is Projection.handle:
            raise TypeError(f"{type(self).__name__}: batch handlers without a per-event handler: {', '.join(sorted(alone))}")
        if len({self.batch_handlers.get(kind) for kind in self.mixed}) > 1:
            raise TypeError(f"{type(self).__name__}: the mixed types need one batch handler for them all")

    @abstractmethod
    def register(self) -> dict[str, Handler]:
        """Event type ('Visit.Delivered') to handler."""

    def register_batch(self) -> dict[str, BatchHandler]:
        """Event type to the handler of a run of consecutive events of that type. It must leave
        exactly the rows the per-event handler leaves, event after event (a rebuild equals live
        processing, and a failing batch is replayed event by event to find the failing one)."""
        return {}

    def wants(self, kind: str) -> bool:
        """Whether events of this type change this projection (the others are not even decoded)."""
        return kind in self.handlers or kind in self.batch_handlers

    @abstractmethod
    def owned_tables(self) -> list[Table]:
        """The tables this projection alone writes, cleared and refilled by a rebuild."""

    def handle(self, conn: Connection, event: Any, position: int) -> None:
        handler = self.handlers.get(event_type(event))
        if handler is not None:
            handler(conn, event, position)

    def apply(self, conn: Connection, events: list[tuple[Any, int]]) -> None:
        """Applies events as runs of one type (or of the `mixed` types), each in one call to its
        batch handler (any other event by its own handler). A run gathers its type's events across
        runs of the types it commutes with (see `commuting`), so a log where confirmations fall
        between deliveries still makes long runs; each type's events stay in log order."""
        for kind, run in self._runs(events):
            handler = self.batch_handlers.get(kind)
            if handler is None:
                for event, position in run:
                    self.handle(conn, event, position)
            else:
                handler(conn, run)

    def _runs(self, events: list[tuple[Any, int]]) -> list[tuple[str, list[tuple[Any, int]]]]:
        # Each run: its type, its events, and the aggregates they belong to. An event joins the
        # latest run of its type when every run after that one is of a type it commutes with and
        # holds no event of the same aggregate (whose order it must keep); else it starts a run.
        # The mixed types count as one type (that run is named after its first event's type).
        runs: list[tuple[str, list[tuple[Any, int]], set[Any]]] = []
        for event, position in events:
            kind = event_type(event)
            group = "" if kind in self.mixed else kind
            target = None
            if kind in self.batch_handlers:
                for run in reversed(runs):
                    if run[0] == group:
                        target = run
                        break
                    if frozenset((kind, run[0])) not in self.commuting or event.originator_id in run[2]:
                        break
            if target is None:
                target = (group, [], set())
                runs.append(target)
            target[1].append((event, position))
            target[2].add(event.originator_id)
        return [(kind or event_type(run[0][0]), run) for kind, run, _ in runs]


def commute(*pairs: tuple[str, str]) -> frozenset[frozenset[str]]:
    """Pairs of event types that commute in a projection (see Projection.commuting)."""
    return frozenset(frozenset(pair) for pair in pairs)


VISIT_EVENTS = ("Visit.Delivered", "Visit.Confirmed", "Visit.Disputed", "Visit.Voided", "Visit.SpotChecked")


def all_commute(*kinds: str) -> frozenset[frozenset[str]]:
    """Every pair of these types commutes (see Projection.commuting)."""
    return commute(*[(a, b) for i, a in enumerate(kinds) for b in kinds[i + 1 :]])


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


# --- many rows in one statement -----------------------------------------------------------------
# Each helper sends one statement whatever the number of rows, and rows are handled in the order
# given, so a later row wins as it would one by one. On PostgreSQL the rows go as one JSON
# parameter, read as a table in the statement (json_to_recordset: one round trip and one
# parameter, where the driver's executemany sends and binds each row); on SQLite the driver's executemany, in C, is
# already cheap. Rows with equal keys are merged first, as applying them one after another would
# leave them (an upsert or update cannot touch one row twice in a statement).


def _field_type(col: Column[Any]) -> TypeEngine[Any]:
    # Unsized text: the column's own length still applies when the value is assigned to it (a
    # VARCHAR(n) field would cut a value that is too long instead of failing on it).
    return Text() if isinstance(col.type, String) else col.type


def _unnested(table: Table, columns: list[str]) -> Any:
    """The rows as a derived table `v` of the given columns, from one JSON parameter (`rows`):
    one string the standard library's encoder builds, where arrays would be escaped element by
    element in Python by the driver."""
    rows = cast(bindparam("rows", type_=Text()), postgresql.JSON)
    fields = [column(c, _field_type(table.c[c])) for c in columns]
    return func.json_to_recordset(rows).table_valued(*fields).render_derived(name="v", with_types=True)


def _rows_param(columns: list[str], rows: list[dict[str, Any]]) -> dict[str, str]:
    """The rows (dicts of those columns, or of more, which are left out) as one JSON text;
    datetimes and dates as str(): ISO 8601 with the offset, which PostgreSQL reads back exactly."""
    if any(len(row) != len(columns) for row in rows):
        rows = [{c: row[c] for c in columns} for row in rows]
    return {"rows": json.dumps(rows, default=str, ensure_ascii=False)}


def _last_by_key(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """One row per key, the last given (what updates of the same columns, one by one, leave)."""
    if len(keys) == 1:
        k = keys[0]
        return list({row[k]: row for row in rows}.values())
    return list({tuple(row[k] for k in keys): row for row in rows}.values())


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str], update_cols: list[str] | None = None) -> None:
    """upsert() for many rows of the same columns."""
    if not rows:
        return
    dialect = conn.dialect.name
    columns = list(rows[0])
    if dialect == "postgresql":
        # One by one, the first row of a key inserts it (or finds it) and later ones only update
        # `update_cols` (or do nothing): merged, the first row with the last one's `update_cols`.
        merged: dict[Any, dict[str, Any]] = {}
        for row in rows:
            key = tuple(row[k] for k in keys)
            first = merged.get(key)
            if first is None:
                merged[key] = row
            elif update_cols:
                merged[key] = {**first, **{c: row[c] for c in update_cols}}

        def build_pg() -> Any:
            v = _unnested(table, columns)
            stmt = postgresql.insert(table).from_select(columns, select(*[v.c[c] for c in columns]))
            if update_cols:
                return stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update_cols})
            return stmt.on_conflict_do_nothing(index_elements=keys)

        stmt = _statement(("upsert_rows", table, tuple(columns), tuple(keys), tuple(update_cols or ())), build_pg)
        conn.execute(stmt, _rows_param(columns, list(merged.values())))
        return

    def build() -> Any:
        stmt = sqlite.insert(table).values({c: bindparam(c) for c in columns})
        if update_cols:
            return stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update_cols})
        return stmt.on_conflict_do_nothing(index_elements=keys)

    conn.execute(_statement(("upsert", dialect, table, tuple(columns), tuple(keys), tuple(update_cols or ())), build), rows)


def _summed(rows: list[dict[str, Any]], keys: list[str], deltas: list[str]) -> list[dict[str, Any]]:
    summed: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        total = summed.get(key)
        if total is None:
            summed[key] = dict(row)
        else:
            for c in deltas:
                total[c] += row[c]
    return list(summed.values())


def add_to_many(conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """add_to() for many rows: the deltas of rows with equal keys are summed first."""
    if not rows:
        return
    deltas = [c for c in rows[0] if c not in keys]
    summed = _summed(rows, keys, deltas)
    dialect = conn.dialect.name
    columns = [*keys, *deltas]
    if dialect == "postgresql":

        def build_pg() -> Any:
            v = _unnested(table, columns)
            stmt = postgresql.insert(table).from_select(columns, select(*[v.c[c] for c in columns]))
            return stmt.on_conflict_do_update(index_elements=keys, set_={c: table.c[c] + stmt.excluded[c] for c in deltas})

        conn.execute(_statement(("add_to_rows", table, tuple(keys), tuple(deltas)), build_pg), _rows_param(columns, summed))
        return

    def build() -> Any:
        stmt = sqlite.insert(table).values({c: bindparam(c) for c in columns})
        return stmt.on_conflict_do_update(index_elements=keys, set_={c: table.c[c] + stmt.excluded[c] for c in deltas})

    conn.execute(_statement(("add_to", dialect, table, tuple(keys), tuple(deltas)), build), summed)


def bump_many(conn: Connection, table: Table, where: list[str], rows: list[dict[str, Any]]) -> None:
    """bump() for many rows: each row names its keys (`where`) and deltas; equal keys are summed."""
    if not rows:
        return
    deltas = [c for c in rows[0] if c not in where]
    summed = _summed(rows, where, deltas)
    if conn.dialect.name == "postgresql":
        columns = [*where, *deltas]

        def build_pg() -> Any:
            v = _unnested(table, columns)
            return update(table).where(*[table.c[k] == v.c[k] for k in where]).values({table.c[c]: table.c[c] + v.c[c] for c in deltas})

        conn.execute(_statement(("bump_rows", table, tuple(where), tuple(deltas)), build_pg), _rows_param(columns, summed))
        return

    def build() -> Any:
        return update(table).where(*_where(table, where)).values({table.c[k]: table.c[k] + bindparam(f"d_{k}") for k in deltas})

    params = [{**{f"w_{k}": row[k] for k in where}, **{f"d_{c}": row[c] for c in deltas}} for row in summed]
    conn.execute(_statement(("bump", table, tuple(where), tuple(deltas)), build), params)


def set_many(conn: Connection, table: Table, where: list[str], rows: list[dict[str, Any]]) -> None:
    """set_values() for many rows of the same columns: each row names its keys (`where`) and values."""
    if not rows:
        return
    values = [c for c in rows[0] if c not in where]
    if conn.dialect.name == "postgresql":
        columns = [*where, *values]

        def build_pg() -> Any:
            v = _unnested(table, columns)
            return update(table).where(*[table.c[k] == v.c[k] for k in where]).values({table.c[c]: v.c[c] for c in values})

        conn.execute(_statement(("set_rows", table, tuple(where), tuple(values)), build_pg), _rows_param(columns, _last_by_key(rows, where)))
        return

    def build() -> Any:
        return update(table).where(*_where(table, where)).values({table.c[k]: bindparam(f"v_{k}") for k in values})

    params = [{**{f"w_{k}": row[k] for k in where}, **{f"v_{k}": row[k] for k in values}} for row in rows]
    conn.execute(_statement(("set", table, tuple(where), tuple(values)), build), params)


def fetch_many(conn: Connection, table: Table, keys: list[str], wanted: Any) -> dict[Any, Any]:
    """The rows whose keys are among `wanted` (values, or tuples for several keys), by key."""
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        return {}
    if len(keys) == 1:
        column = table.c[keys[0]]
        stmt = _statement(("fetch_many", table, tuple(keys)), lambda: select(table).where(column.in_(bindparam("wanted", expanding=True))))
        return {row[keys[0]]: row for row in conn.execute(stmt, {"wanted": wanted}).mappings()}
    if conn.dialect.name == "postgresql":
        # Joined with the keys as a table: a long IN list of row values is planned as one index
        # probe per value, slowly, and rebuilt for each length.

        def build_pg() -> Any:
            v = _unnested(table, keys)
            return select(table).join(v, and_(*[table.c[k] == v.c[k] for k in keys]))

        stmt = _statement(("fetch_rows", table, tuple(keys)), build_pg)
        params = _rows_param(keys, [dict(zip(keys, w, strict=True)) for w in wanted])
        return {tuple(row[k] for k in keys): row for row in conn.execute(stmt, params).mappings()}
    columns = tuple_(*[table.c[k] for k in keys])
    stmt = _statement(("fetch_many", table, tuple(keys)), lambda: select(table).where(columns.in_(bindparam("wanted", expanding=True))))
    return {tuple(row[k] for k in keys): row for row in conn.execute(stmt, {"wanted": [tuple(w) for w in wanted]}).mappings()}


def found(rows: dict[Any, Any], key: Any) -> Any:
    """A row a batch handler needs: missing, it fails the batch as the per-event handler would."""
    row = rows.get(key)
    if row is None:
        raise LookupError(f"no row for {key!r}")
    return row
