"""The event store adapters (PostgreSQL, SQLite) and the LISTEN waker: SQL lives here, not in the domain."""
