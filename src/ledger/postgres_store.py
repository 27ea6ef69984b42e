"""The event store on PostgreSQL with every wait bounded.

The library bounds the wait for a pooled connection and (per transaction) the table lock, but
not a statement, nor the TCP connect of a new connection. This factory adds both to every
connection its pool opens, through libpq's own `connect_timeout` and `options`, so a stopped or
stalled server costs a request seconds, never minutes. It also keeps the pool's reconnection
attempts short: their delays double up to the give-up time, so after a long outage the pool
would otherwise wait up to as long again before it tried the returned server.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresFactory


class BoundedPostgresFactory(PostgresFactory):
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
