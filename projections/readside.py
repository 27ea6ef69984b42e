"""The read side as the service runs it: migrations on start, a runner thread (or separate
`ledger projections run` workers), each projection's state, readiness and read-your-writes waits.

A projection is `running` when it is within the allowed lag, `lagging` beyond it, `stalled` when
it stopped at an event it cannot apply. Lag is the age of the oldest event it has not applied,
so a projection that stops moving shows a lag that grows, not one that stays constant."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

import structlog
from sqlalchemy import Engine, text

from ledger.background import WorkerLoop
from projections.runner import Progress, ProjectionRunner
from projections.stalls import ProjectionStalled, Stall, error_message, error_name
from projections.store import migrate

log = structlog.get_logger("ledger.projections")

MAX_OUTAGE_PAUSE = 5.0  # seconds between tries while the store does not answer: recovery stays quick


class ReadSide:
    def __init__(
        self,
        ledger: Any,
        engine: Engine,
        *,
        interval: float = 0.2,
        on_error: Callable[[Exception], None] | None = None,
        retry_seconds: float = 1.0,
        max_retry_seconds: float = 30.0,
        names: Sequence[str] | None = None,
    ) -> None:
        self.ledger = ledger
        self.engine = engine
        # `names`: only these projections (a worker of a deployment that splits them over processes).
        self.runner = ProjectionRunner(ledger, engine, names=names, retry_seconds=retry_seconds, max_retry_seconds=max_retry_seconds, on_stall=self._stalled)
        self.interval = interval
        self.on_error = on_error
        self.loop = WorkerLoop(
            "projections",
            self.runner.run_once,
            interval=interval,
            max_backoff=MAX_OUTAGE_PAUSE,
            on_error=self._unavailable,
            on_recovered=lambda failures: log.info("read_side_recovered", failed_rounds=failures),
        )

    def prepare(self, migrate_schema: bool = True) -> None:
        """Migrates the read models (unless `ledger migrate` does it for every process), then
        ensures each projection's position row."""
        if migrate_schema:
            migrate(self.engine)
        self.runner.ensure_positions()
        self.runner.retry_now()  # a restart after a fix should not wait out the last pause

    # --- running ------------------------------------------------------------------------
    def start(self) -> None:
        self.loop.start()

    def run_forever(self) -> None:
        """Rounds until stopped. A failure outside any one event (the store down, a bug) is logged
        when it starts and when it ends, with pauses that double up to MAX_OUTAGE_PAUSE."""
        self.loop.run_forever()

    def _unavailable(self, exc: Exception) -> None:
        self._report(exc, "read_side_unavailable", error=error_name(exc), message=error_message(exc))

    def _stalled(self, name: str, stall: Stall) -> None:
        """Once per attempt: the pauses between attempts keep this from flooding the log."""
        self._report(ProjectionStalled(name, stall), "projection_stalled", projection=name, **asdict(stall))

    def _report(self, exc: Exception, event: str, **fields: Any) -> None:
        if self.on_error is not None:
            self.on_error(exc)
        else:
            log.error(event, **fields)

    def wake(self) -> None:
        self.loop.wake()

    def stop(self) -> None:
        self.loop.stop()

    # --- reading ------------------------------------------------------------------------
    def positions(self) -> dict[str, tuple[int, datetime | None]]:
        return {name: (state.position, state.event_time) for name, state in self.runner.progress().items()}

    def wait_for(self, min_position: int, names: Sequence[str], timeout: float) -> bool:
        """Waits until every named projection has passed min_position, up to timeout seconds;
        a projection stalled before it raises ProjectionStalled at once, as it will not get there soon."""
        return not self.behind(min_position, names, timeout)

    def behind(self, min_position: int, names: Sequence[str], timeout: float) -> dict[str, int]:
        """The named projections still short of min_position after waiting up to timeout
        seconds, with their positions; empty once all have passed it."""
        deadline = time.monotonic() + timeout
        while True:
            progress = self.runner.progress()
            short = {n: progress[n].position for n in names if progress[n].position < min_position}
            if not short:
                return {}
            for name in short:
                stall = progress[name].stall
                if stall is not None and stall.position <= min_position:
                    raise ProjectionStalled(name, stall)
            if time.monotonic() >= deadline:
                return short
            self.wake()
            time.sleep(0.02)

    def status(self, max_lag_seconds: float = 30.0) -> dict[str, Any]:
        head = self.ledger.head()
        now = datetime.now(timezone.utc)
        out = []
        for name, state in self.runner.progress().items():
            out.append(self._describe(name, state, head, now, max_lag_seconds))
        return {"head": head, "head_time": self._event_time_after(head - 1) if head else None, "projections": out}

    def _describe(self, name: str, state: Progress, head: int, now: datetime, max_lag_seconds: float) -> dict[str, Any]:
        behind = self._events_after(state.position) if state.position < head else 0
        oldest = self._event_time_after(state.position) if behind else None
        lag_seconds = round(max(0.0, (now - oldest).total_seconds()), 3) if oldest else 0.0
        stall = state.stall
        return {
            "name": name,
            "state": "stalled" if stall else "lagging" if lag_seconds > max_lag_seconds else "running",
            "position": state.position,
            "lag_events": behind,
            "lag_seconds": lag_seconds,
            "event_time": state.event_time,
            "stalled": asdict(stall) if stall else None,
        }

    def readiness(self, max_lag_seconds: float) -> tuple[bool, dict[str, Any]]:
        """Ready when the store answers and every projection is running; else the reasons why not."""
        status = self.status(max_lag_seconds)
        reasons = []
        for p in status["projections"]:
            if p["state"] == "stalled":
                s = p["stalled"]
                reasons.append(f"{p['name']} is stalled at position {s['position']} ({s['event_type']}): {s['error']}")
            elif p["state"] == "lagging":
                reasons.append(f"{p['name']} lags {p['lag_seconds']} s behind the log (allowed: {max_lag_seconds} s)")
        summary = [{"name": p["name"], "state": p["state"], "position": p["position"], "lag_seconds": p["lag_seconds"]} for p in status["projections"]]
        return not reasons, {"head": status["head"], "reasons": reasons, "projections": summary}

    def oldest_unapplied_time(self, position: int) -> datetime | None:
        """The time of the first event after a projection's position: how old its lag is (/metrics)."""
        return self._event_time_after(position)

    def _event_time_after(self, position: int) -> datetime | None:
        """The time of the first event after a position."""
        notifications = self.ledger.recorder.select_notifications(start=position, limit=1, inclusive_of_start=False)
        if not notifications:
            return None
        try:
            return self.ledger.mapper.to_domain_event(notifications[0]).timestamp
        except Exception:  # an event this code cannot read: its projection shows as stalled instead
            return None

    def _events_after(self, position: int) -> int:
        """Events in the log after a position, counted (positions may have gaps)."""
        recorder = self.ledger.recorder
        if self.engine.dialect.name == "postgresql":
            sql = f'SELECT count(*) FROM "{recorder.datastore.schema}"."{recorder.events_table_name}" WHERE notification_id > :p'
        else:
            sql = f"SELECT count(*) FROM {recorder.events_table_name} WHERE rowid > :p"
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql), {"p": position}).scalar_one())
