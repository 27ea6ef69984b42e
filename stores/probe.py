"""Why a store cannot be reached, in words an operator can act on.

The event store's connection pool reports only "couldn't get a connection after 2.00 sec"; one
direct connection attempt, made only once something has already failed, tells a refused
connection, an unknown database or a wrong password apart."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redacted(database_url: str) -> str:
    """The URL without its password, fit for an error message or a log line."""
    parts = urlsplit(database_url)
    if parts.password is None:
        return database_url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{netloc}"))


def postgres_unreachable_reason(database_url: str, timeout_seconds: float = 2.0) -> str | None:
    """libpq's own reason for not connecting, on one line; None if it connects now (or is not PostgreSQL)."""
    scheme, _, rest = database_url.partition("://")
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        return None
    import psycopg

    try:
        psycopg.connect(f"postgresql://{rest}", connect_timeout=max(1, round(timeout_seconds))).close()
    except psycopg.Error as e:
        return " ".join(str(e).split()) or type(e).__name__
    return None
