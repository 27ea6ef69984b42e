"""Keeps the hash chain: follows the global log off the write path and appends one link per
event, the links and the chain's head written in one transaction.

Exactly once, as the projection runner does it: a batch claims its range by moving the head
from the position it read to the new one (compare-and-set); if another keeper (a second
`ledger projections run` worker) moved it first, the claim matches no row and the batch rolls
back. The keeper only reads forward from its head, so it never re-reads, and never "repairs",
an event it has chained: finding those changes is the verifier's work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ledger.background import WorkerLoop
from ledger.chain import GENESIS, link_notification
from projections.chain.tables import HEAD_ROW, chain_head, chain_links


class _ClaimLost(Exception):
    """Another keeper moved the head first; the batch rolls back."""


@dataclass(frozen=True)
class Head:
    """Where the chain stands: the last chained position, its hash and how many events it holds."""

    position: int
    hash: bytes
    events: int


class ChainKeeper:
    def __init__(
        self,
        ledger: Any,
        engine: Engine,
        *,
        interval: float = 0.5,
        batch_size: int = 2000,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.engine = engine
        self.interval = interval
        self.batch_size = batch_size
        self.on_error = on_error or (lambda exc: None)
        self._lock = threading.Lock()
        self.loop = WorkerLoop("chain", self.run_once, interval=interval, on_error=self.on_error)

    def ensure_head(self) -> None:
        # Workers may start together: the row is inserted once, whoever comes second does nothing.
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self.engine.begin() as conn:
            conn.execute(dialect.insert(chain_head).values(name=HEAD_ROW, position=0, hash=GENESIS, events=0).on_conflict_do_nothing(index_elements=["name"]))

    def head(self) -> Head:
        with self.engine.connect() as conn:
            row = conn.execute(select(chain_head.c.position, chain_head.c.hash, chain_head.c.events).where(chain_head.c.name == HEAD_ROW)).first()
        return Head(0, GENESIS, 0) if row is None else Head(row.position, bytes(row.hash), row.events)

    def run_once(self) -> int:
        """Chains the next batch of the log; returns how many events it chained (0: none, or
        another keeper claimed the batch first)."""
        with self._lock:
            old = self.head()
            notifications = self.ledger.recorder.select_notifications(start=old.position, limit=self.batch_size, inclusive_of_start=False)
            if not notifications:
                return 0
            current, rows = old.hash, []
            for n in notifications:
                current = link_notification(current, n)
                rows.append({"position": n.id, "hash": current})
            try:
                with self.engine.begin() as conn:
                    claim = conn.execute(
                        update(chain_head)
                        .where(chain_head.c.name == HEAD_ROW, chain_head.c.position == old.position)
                        .values(position=rows[-1]["position"], hash=current, events=old.events + len(rows), updated_at=datetime.now(timezone.utc))
                    )
                    if claim.rowcount != 1:
                        raise _ClaimLost()
                    conn.execute(insert(chain_links), rows)
            except _ClaimLost:
                return 0  # another keeper chained this batch; the next round reads its head
            return len(rows)

    def catch_up(self) -> int:
        total = 0
        while n := self.run_once():
            total += n
        return total

    # --- running beside the service or a projections worker ---------------------------------
    def start(self) -> None:
        self.loop.start()

    def run_forever(self) -> None:
        self.loop.run_forever()

    def wake(self) -> None:
        self.loop.wake()

    def stop(self) -> None:
        self.loop.stop()
