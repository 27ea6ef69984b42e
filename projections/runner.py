"""Keeps the read models: reads the global log after each projection's position and applies
the events, writing the rows and the new position in one transaction.

Exactly once: a batch first claims its range by moving the position from the value it read to
the new one (compare-and-set); if another runner moved it first, the claim matches no row and
the whole batch rolls back. A crash rolls back the open transaction. Positions are compared,
never counted, so the gaps PostgreSQL leaves after rolled-back inserts do not matter.

Works the same on SQLite and PostgreSQL: it polls the library's notification log, which both
stores offer (the library's subscriptions exist only for PostgreSQL).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, MetaData, delete, insert, select, update

from projections.audit import AuditTrail
from projections.base import Projection
from projections.caseload import Caseload
from projections.fulfilment import Fulfilment
from projections.funds import FundUsage
from projections.tables import LIVE, Tables, define

PROJECTIONS: tuple[type[Projection], ...] = (AuditTrail, Caseload, Fulfilment, FundUsage)
NAMES = tuple(p.name for p in PROJECTIONS)


class ClaimLost(Exception):
    """Another runner advanced the projection first; this batch is dropped."""


def build(tables: Tables, names: Sequence[str] | None = None) -> list[Projection]:
    wanted = set(names or NAMES)
    unknown = wanted - set(NAMES)
    if unknown:
        raise ValueError(f"unknown projections: {', '.join(sorted(unknown))}; known: {', '.join(NAMES)}")
    return [cls(tables) for cls in PROJECTIONS if cls.name in wanted]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ProjectionRunner:
    def __init__(self, ledger: Any, engine: Engine, *, tables: Tables = LIVE, names: Sequence[str] | None = None, batch_size: int = 500) -> None:
        self.ledger = ledger
        self.engine = engine
        self.tables = tables
        self.projections = build(tables, names)
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def ensure_positions(self) -> None:
        p = self.tables.positions
        with self.engine.begin() as conn:
            known = set(conn.execute(select(p.c.name)).scalars())
            for projection in self.projections:
                if projection.name not in known:
                    conn.execute(insert(p).values(name=projection.name, position=0))

    def positions(self) -> dict[str, int]:
        p = self.tables.positions
        with self.engine.connect() as conn:
            rows = dict(conn.execute(select(p.c.name, p.c.position)).all())
        return {proj.name: rows.get(proj.name, 0) for proj in self.projections}

    def run_once(self) -> int:
        """Applies the next batch of the log to every projection behind; returns its size."""
        with self._lock:
            positions = self.positions()
            start = min(positions.values())
            notifications = self.ledger.recorder.select_notifications(start=start, limit=self.batch_size, inclusive_of_start=False)
            if not notifications:
                return 0
            events = [(n.id, self.ledger.mapper.to_domain_event(n)) for n in notifications]
            for projection in self.projections:
                todo = [(pos, e) for pos, e in events if pos > positions[projection.name]]
                if todo:
                    try:
                        self._apply(projection, positions[projection.name], todo)
                    except ClaimLost:
                        pass  # another runner did it; the next round reads its position
            return len(events)

    def _apply(self, projection: Projection, old: int, todo: list[tuple[int, Any]]) -> None:
        p = self.tables.positions
        new, last = todo[-1]
        with self.engine.begin() as conn:
            claim = conn.execute(
                update(p).where(p.c.name == projection.name, p.c.position == old).values(position=new, event_time=last.timestamp, updated_at=_now())
            )
            if claim.rowcount != 1:
                raise ClaimLost(projection.name)
            for position, event in todo:
                projection.handle(conn, event, position)

    def run_until_idle(self, progress: Callable[[int], None] | None = None) -> int:
        total = 0
        while n := self.run_once():
            total += n
            if progress:
                progress(total)
        return total


class Rebuilder:
    """Rebuilds a projection from the first event into shadow tables while the live tables keep
    serving, catches up to the head, then swaps the rows and the position in one transaction."""

    SUFFIX = "__rebuild"

    def __init__(self, ledger: Any, engine: Engine) -> None:
        self.ledger = ledger
        self.engine = engine

    def rebuild(self, name: str, progress: Callable[[str, int, int], None] | None = None) -> int:
        shadow_md = MetaData()
        shadow = define(shadow_md, self.SUFFIX)
        live_projection = build(LIVE, [name])[0]
        shadow_projection = build(shadow, [name])[0]
        shadow_tables = [*shadow_projection.owned_tables(), shadow.positions]
        shadow_md.drop_all(self.engine, tables=shadow_tables)
        shadow_md.create_all(self.engine, tables=shadow_tables)
        try:
            runner = ProjectionRunner(self.ledger, self.engine, tables=shadow, names=[name], batch_size=1000)
            runner.ensure_positions()
            head = self.ledger.recorder.max_notification_id() or 0
            done = runner.run_until_idle(lambda n: progress(name, n, head) if progress else None)
            self._swap(live_projection, shadow_projection, shadow)
            return done
        finally:
            shadow_md.drop_all(self.engine, tables=shadow_tables)

    def _swap(self, live: Projection, shadow: Projection, shadow_tables: Tables) -> None:
        lp, sp = LIVE.positions, shadow_tables.positions
        with self.engine.begin() as conn:
            # Take the live position row first: a live runner's batch waits or loses its claim.
            conn.execute(update(lp).where(lp.c.name == live.name).values(updated_at=_now()))
            position, event_time = conn.execute(select(sp.c.position, sp.c.event_time).where(sp.c.name == shadow.name)).one()
            for live_table, shadow_table in zip(live.owned_tables(), shadow.owned_tables(), strict=True):
                conn.execute(delete(live_table))
                columns = [c.name for c in live_table.columns]
                conn.execute(insert(live_table).from_select(columns, select(*[shadow_table.c[c] for c in columns])))
            conn.execute(update(lp).where(lp.c.name == live.name).values(position=position, event_time=event_time, updated_at=_now()))


def print_progress(name: str, done: int, head: int) -> None:
    width = 30
    share = min(done / head, 1.0) if head else 1.0
    bar = "#" * int(share * width)
    sys.stderr.write(f"\rrebuilding {name:<10} [{bar:<{width}}] {done}/{head} events")
    if done >= head:
        sys.stderr.write("\n")
    sys.stderr.flush()
