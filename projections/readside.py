"""The read side as the service runs it: migrations on start, a runner thread (or separate
`ledger projections run` workers), status and lag, and read-your-writes waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, select, text

from projections.runner import NAMES, ProjectionRunner
from projections.store import migrate
from projections.tables import LIVE


class ReadSide:
    def __init__(self, ledger: Any, engine: Engine, *, interval: float = 0.2, on_error: Callable[[Exception], None] | None = None) -> None:
        self.ledger = ledger
        self.engine = engine
        self.runner = ProjectionRunner(ledger, engine)
        self.interval = interval
        self.on_error = on_error or (lambda exc: None)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def prepare(self) -> None:
        migrate(self.engine)
        self.runner.ensure_positions()

    # --- running ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="projections", daemon=True)
        self._thread.start()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                if self.runner.run_once():
                    continue
            except Exception as exc:  # the log is intact; the next round tries again
                self.on_error(exc)
            self._wake.wait(self.interval)
            self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # --- reading ------------------------------------------------------------------------
    def positions(self) -> dict[str, tuple[int, datetime | None]]:
        p = LIVE.positions
        with self.engine.connect() as conn:
            rows = {r.name: (r.position, _utc(r.event_time)) for r in conn.execute(select(p.c.name, p.c.position, p.c.event_time))}
        return {name: rows.get(name, (0, None)) for name in NAMES}

    def wait_for(self, min_position: int, names: Sequence[str], timeout: float) -> bool:
        """Waits until every named projection has passed min_position, up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            positions = self.positions()
            if all(positions[n][0] >= min_position for n in names):
                return True
            if time.monotonic() >= deadline:
                return False
            self.wake()
            time.sleep(0.02)

    def status(self) -> dict[str, Any]:
        head = self.ledger.head()
        head_time = self._event_time(head)
        out = []
        for name, (position, event_time) in self.positions().items():
            behind = self._events_after(position) if position < head else 0
            lag_seconds = 0.0
            if behind and head_time is not None:
                since = event_time or self._event_time(0)
                lag_seconds = round(max(0.0, (head_time - since).total_seconds()), 3) if since else 0.0
            out.append({"name": name, "position": position, "lag_events": behind, "lag_seconds": lag_seconds, "event_time": event_time})
        return {"head": head, "head_time": head_time, "projections": out}

    def _event_time(self, position: int) -> datetime | None:
        """The time of the event at a position (0: the first event)."""
        notifications = self.ledger.recorder.select_notifications(start=position, limit=1)
        return self.ledger.mapper.to_domain_event(notifications[0]).timestamp if notifications else None

    def _events_after(self, position: int) -> int:
        """Events in the log after a position, counted (positions may have gaps)."""
        recorder = self.ledger.recorder
        if self.engine.dialect.name == "postgresql":
            sql = f'SELECT count(*) FROM "{recorder.datastore.schema}"."{recorder.events_table_name}" WHERE notification_id > :p'
        else:
            sql = f"SELECT count(*) FROM {recorder.events_table_name} WHERE rowid > :p"
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql), {"p": position}).scalar_one())


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
