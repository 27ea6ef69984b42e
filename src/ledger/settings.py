"""Settings from the environment (prefix LEDGER_), built by a factory, never at import time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.domain.rules import Policy

DEVELOPMENT_ID_HASH_KEY = "development-only-key-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = Field(default="sqlite:///./ledger.db", description="sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    host: str = "127.0.0.1"
    port: int = 8000
    # Key of the HMAC that stands in for national ID numbers; production must set its own.
    id_hash_key: str = DEVELOPMENT_ID_HASH_KEY
    # Run the milestone process inside each visit command, so its response already sees the
    # milestone: a small single-process set-up only, as every such request then queues for it.
    follow_inline: bool = False
    follow_interval_seconds: float = 1.0
    # Keep the milestone follower in the service, or leave it to a `ledger follow` worker.
    follower_in_service: bool = True
    # This process creates the event store's tables and migrates the read models on start. In a
    # deployment of several processes only `ledger migrate` does: concurrent DDL races.
    # (The eventsourcing library reads the same variable, LEDGER_CREATE_TABLE.)
    create_table: bool = True
    # PostgreSQL: background workers LISTEN for the event store's notifications and poll only as
    # a safety net, at this interval, while the notifications arrive.
    listen_for_notifications: bool = True
    notified_poll_seconds: float = Field(default=5.0, gt=0)
    log_level: str = "INFO"
    # Tune Python's garbage collector for a long-running process (ledger.collector); off, the
    # interpreter's defaults.
    tune_collector: bool = True
    # Connections the event store keeps open to PostgreSQL, per process.
    postgres_pool_size: int = 5
    # Aggregates kept in memory per process (LRU), invalidated by following the log; 0 turns it off.
    aggregate_cache_size: int = Field(default=10000, ge=0)
    # Keep the read models inside the service (the embedded set-up), or leave it to
    # `ledger projections run` workers in a PostgreSQL deployment with several API workers.
    projections_in_service: bool = True
    projections_interval_seconds: float = 0.2
    # How long a query with min_position waits for the read models to pass it.
    read_wait_seconds: float = 5.0
    # /health/ready answers 503 when a projection is this far behind the log (or stalled).
    ready_max_lag_seconds: float = Field(default=30.0, ge=0)
    # The deployment's Ed25519 key that signs chain checkpoints, made on first start (mode 0600).
    # Default: beside the SQLite file, or ./ledger-signing.key. Several hosts must share one file.
    signing_key_path: Path | None = None
    # Signs the web console's session cookies and CSRF tokens; unset, one is derived from the ID
    # hash key. Several processes behind one address must share it.
    console_secret: str | None = None

    # Limits at the edge: nothing a client sends or a store outage does may hold a worker long.
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    # PostgreSQL: a statement, a lock wait, a new connection and a wait for a pooled connection
    # are each bounded, so an outage answers 503 within seconds instead of hanging.
    postgres_statement_timeout_seconds: float = Field(default=5.0, gt=0)
    postgres_lock_timeout_seconds: float = Field(default=3.0, gt=0)
    postgres_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    postgres_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    # A transaction of the event store waits on no one between its statements, so one left idle
    # means a stalled or vanished process, which may hold the log's insert lock: the server ends
    # it after this long. Longer than a loaded machine's pauses (the library's 5 s was not, in
    # CI), short enough that a lost node does not stop every writer for long.
    postgres_idle_in_transaction_timeout_seconds: float = Field(default=10.0, gt=0)
    # SQLite: how long a write waits for another writer's lock.
    sqlite_lock_timeout_seconds: float = Field(default=5.0, gt=0)
    # `ledger serve`: how long SIGTERM waits for requests in flight before it stops them.
    shutdown_grace_seconds: float = Field(default=5.0, ge=0)

    # CSV and XLSX exports read their list this many rows at a time (at most a list's page, 500).
    export_page_rows: int = Field(default=500, ge=1, le=500)

    # Open contracting (OCDS) publication: the ocid prefix (register one with OCP for production),
    # the publisher, the party that pays, and the org-id.guide scheme of a credit code.
    ocds_ocid_prefix: str = "ocds-ledger-"
    ocds_publisher_name: str = "服务类社会救助台账 Service-delivery ledger"
    ocds_payer_id: str = "finance-bureau"
    ocds_payer_name: str = "财政局 Finance Bureau"
    ocds_supplier_scheme: str = "CN-SAIC"

    # Policy (defaults are the seed documents' values).
    max_term_years: int = 3
    debarment_years: int = 3
    purchase_cap_rate: Decimal = Decimal("0.03")
    # Red flags: more visits by one worker on one UTC day than this.
    max_visits_per_worker_day: int = Field(default=12, ge=1, le=1000)

    def policy(self) -> Policy:
        return Policy(
            max_term_years=self.max_term_years,
            debarment_years=self.debarment_years,
            purchase_cap_rate=self.purchase_cap_rate,
            max_visits_per_worker_day=self.max_visits_per_worker_day,
        )

    def check(self) -> None:
        if self.environment == "production" and self.id_hash_key == DEVELOPMENT_ID_HASH_KEY:
            raise ValueError("set LEDGER_ID_HASH_KEY in production: the development key is public")

    def signing_key_file(self) -> Path:
        if self.signing_key_path is not None:
            return self.signing_key_path
        url = urlsplit(self.database_url)
        path = unquote(url.path)[1:] if url.scheme == "sqlite" else ""
        folder = Path(path).parent if path and path != ":memory:" else Path(".")
        return folder / "ledger-signing.key"

    def sqlalchemy_url(self) -> str:
        """The same database for the read models, through SQLAlchemy (psycopg 3 for PostgreSQL)."""
        scheme, rest = self.database_url.split("://", 1)
        if scheme in ("postgresql", "postgres"):
            return f"postgresql+psycopg://{rest}"
        return self.database_url

    def timeouts(self) -> StoreTimeouts:
        return StoreTimeouts(
            statement=self.postgres_statement_timeout_seconds,
            lock=self.postgres_lock_timeout_seconds,
            connect=self.postgres_connect_timeout_seconds,
            pool=self.postgres_pool_timeout_seconds,
            idle_in_transaction=self.postgres_idle_in_transaction_timeout_seconds,
            sqlite_lock=self.sqlite_lock_timeout_seconds,
        )

    def eventstore_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for the configured store."""
        env = eventstore_env(self.database_url, self.timeouts())
        if "POSTGRES_POOL_SIZE" in env:
            env["POSTGRES_POOL_SIZE"] = str(self.postgres_pool_size)
        # The library looks for LEDGER_CREATE_TABLE (its application's name) before CREATE_TABLE.
        env["CREATE_TABLE"] = env["LEDGER_CREATE_TABLE"] = "y" if self.create_table else "n"
        env["AGGREGATE_CACHE_SIZE"] = str(self.aggregate_cache_size)
        return env


@dataclass(frozen=True)
class StoreTimeouts:
    """Every wait on a store, in seconds; the event store and the read models share them."""

    statement: float = 5.0
    lock: float = 3.0
    connect: float = 2.0
    pool: float = 2.0
    idle_in_transaction: float = 10.0
    sqlite_lock: float = 5.0

    def postgres_options(self) -> str:
        """libpq `options` that set the session's timeouts on every new connection."""
        return f"-c statement_timeout={_ms(self.statement)} -c lock_timeout={_ms(self.lock)}"


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def eventstore_env(database_url: str, timeouts: StoreTimeouts = StoreTimeouts()) -> dict[str, str]:
    url = urlsplit(database_url)
    if url.scheme == "sqlite":
        # As in SQLAlchemy: sqlite:///relative/path, sqlite:////absolute/path.
        path = unquote(url.path)[1:]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "stores.sqlite:ReadSetSQLiteFactory", "SQLITE_DBNAME": path or ":memory:", "SQLITE_LOCK_TIMEOUT": str(math.ceil(timeouts.sqlite_lock))}
    if url.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return {
            "PERSISTENCE_MODULE": "stores.postgres:BoundedPostgresFactory",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "ledger",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
            # The library reads this as the wait for a pooled connection, in whole seconds.
            "POSTGRES_CONNECT_TIMEOUT": str(math.ceil(timeouts.pool)),
            # Whole seconds; the library sets it again for the transaction that locks the table.
            "POSTGRES_LOCK_TIMEOUT": str(math.ceil(timeouts.lock)),
            # A pooled connection that died in an outage is replaced before use, not failed on.
            "POSTGRES_PRE_PING": "yes",
            "POSTGRES_SERVER_CONNECT_TIMEOUT": str(math.ceil(timeouts.connect)),
            # Whole seconds; the library sets it on each connection of its pool.
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(math.ceil(timeouts.idle_in_transaction)),
            "POSTGRES_SESSION_OPTIONS": timeouts.postgres_options(),
        }
    raise ValueError(f"unsupported database URL {database_url!r}: use sqlite:///PATH or postgresql://…")


def get_settings(**overrides: object) -> Settings:
    settings = Settings(**overrides)  # type: ignore[arg-type]
    settings.check()
    return settings
