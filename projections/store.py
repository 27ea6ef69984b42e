"""The read-model database: the engine, and the migrations that alembic owns."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text

from alembic import command
from ledger.settings import StoreTimeouts


def make_engine(url: str, timeouts: StoreTimeouts = StoreTimeouts()) -> Engine:
    """The read-model engine; every wait on the database is bounded by `timeouts`."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": timeouts.sqlite_lock, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={round(timeouts.sqlite_lock * 1000)}")
            cursor.close()

        return engine
    return create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_pre_ping=True,
        pool_timeout=timeouts.pool,
        connect_args={"connect_timeout": max(1, round(timeouts.connect)), "options": timeouts.postgres_options()},
    )


def alembic_dir() -> Path:
    """The project's alembic/ folder: LEDGER_ALEMBIC_DIR, or beside this package in a checkout."""
    configured = os.environ.get("LEDGER_ALEMBIC_DIR")
    path = Path(configured) if configured else Path(__file__).resolve().parent.parent / "alembic"
    if not (path / "env.py").is_file():
        raise RuntimeError(f"no alembic migrations at {path}; set LEDGER_ALEMBIC_DIR to the project's alembic/ folder")
    return path


def migrate(engine: Engine) -> None:
    """`alembic upgrade head` for the read models."""
    cfg = Config()
    cfg.set_main_option("script_location", str(alembic_dir()))
    cfg.set_main_option("version_table", "read_model_version")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # A migration may rewrite a large table: it is bounded by its lock wait alone.
            conn.execute(text("SET LOCAL statement_timeout = 0"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
