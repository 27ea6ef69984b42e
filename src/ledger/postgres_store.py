"""The event store on PostgreSQL with every wait bounded.

The library bounds the wait for a pooled connection and (per transaction) the table lock, but
not a statement, nor the TCP connect of a new connection. This factory adds both to every
connection its pool opens, through libpq's own `connect_timeout` and `options`, so a stopped or
stalled server costs a request seconds, never minutes. Its recorders make one attempt per call:
the library's retry (ten attempts, each waiting for the pool or a lock) turned a 2-second wait
into 22 seconds, and the client retries anyway, with its Idempotency-Key, when it reads the 503.
It also keeps the pool's reconnection attempts short: their delays double up to the give-up
time, so after a long outage the pool would otherwise wait as long again before it tried the
returned server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
    PostgresProcessRecorder,
    PostgresTrackingRecorder,
)


def _once(method: Callable[..., Any]) -> Callable[..., Any]:
    """The method without the library's retry decorator (functools.wraps keeps the original)."""
    return getattr(method, "__wrapped__", method)


class OneAttemptAggregateRecorder(PostgresAggregateRecorder):
    insert_events = _once(PostgresAggregateRecorder.insert_events)
    select_events = _once(PostgresAggregateRecorder.select_events)


class OneAttemptApplicationRecorder(PostgresApplicationRecorder):
    insert_events = _once(PostgresApplicationRecorder.insert_events)
    select_events = _once(PostgresAggregateRecorder.select_events)
    select_notifications = _once(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _once(PostgresApplicationRecorder.max_notification_id)


class OneAttemptTrackingRecorder(PostgresTrackingRecorder):
    insert_tracking = _once(PostgresTrackingRecorder.insert_tracking)
    max_tracking_id = _once(PostgresTrackingRecorder.max_tracking_id)
    has_tracking_id = _once(PostgresTrackingRecorder.has_tracking_id)


class OneAttemptProcessRecorder(PostgresProcessRecorder):
    insert_events = OneAttemptApplicationRecorder.insert_events
    select_events = OneAttemptApplicationRecorder.select_events
    select_notifications = OneAttemptApplicationRecorder.select_notifications
    max_notification_id = OneAttemptApplicationRecorder.max_notification_id
    insert_tracking = OneAttemptTrackingRecorder.insert_tracking
    max_tracking_id = OneAttemptTrackingRecorder.max_tracking_id
    has_tracking_id = OneAttemptTrackingRecorder.has_tracking_id


class BoundedPostgresFactory(PostgresFactory):
    aggregate_recorder_class = OneAttemptAggregateRecorder
    application_recorder_class = OneAttemptApplicationRecorder
    tracking_recorder_class = OneAttemptTrackingRecorder
    process_recorder_class = OneAttemptProcessRecorder
    # Whole seconds for libpq's connect_timeout; `-c name=value` settings for the session.
    POSTGRES_SERVER_CONNECT_TIMEOUT = "POSTGRES_SERVER_CONNECT_TIMEOUT"
    POSTGRES_SESSION_OPTIONS = "POSTGRES_SESSION_OPTIONS"
    RECONNECT_GIVE_UP_SECONDS = 10.0  # then a request that needs a connection starts a new attempt

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        extra: dict[str, Any] = {}
        if connect_timeout := self.env.get(self.POSTGRES_SERVER_CONNECT_TIMEOUT):
            extra["connect_timeout"] = int(connect_timeout)
        if options := self.env.get(self.POSTGRES_SESSION_OPTIONS):
            extra["options"] = options
        # The pool opens lazily, on the first connection a recorder asks for: these arguments
        # therefore apply to every connection it ever makes.
        self.datastore.pool.kwargs.update(extra)
        self.datastore.pool.reconnect_timeout = self.RECONNECT_GIVE_UP_SECONDS
