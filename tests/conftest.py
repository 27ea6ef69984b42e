"""Shared fixtures: every test gets stores of its own, on SQLite and on PostgreSQL.

LEDGER_TEST_STORES picks the stores (default "sqlite,postgres"). A test that needs PostgreSQL
fails when it cannot reach the server; it never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from ledger.bootstrap import build_ledger
from ledger.settings import Settings

POSTGRES_ADMIN_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
STORES = [s.strip() for s in os.environ.get("LEDGER_TEST_STORES", "sqlite,postgres").split(",") if s.strip()]


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({e}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or run "
            "with LEDGER_TEST_STORES=sqlite to test the embedded store alone.",
            pytrace=False,
        )


def _database_url(name: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(name)
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"
    elif request.param == "postgres":
        yield request.getfixturevalue("postgres_url")
    else:
        raise ValueError(f"unknown store {request.param!r} in LEDGER_TEST_STORES")


@pytest.fixture
def settings(store_url: str) -> Settings:
    # A read waits for its min_position up to read_wait_seconds and answers as soon as the models get
    # there: generous here so that a loaded CI machine slows a test down rather than failing it.
    # A test of the 503 itself sets its own short wait.
    return Settings(environment="test", database_url=store_url, id_hash_key="test-id-hash-key", follow_interval_seconds=0.2, read_wait_seconds=60)


@pytest.fixture
def ledger(settings: Settings):
    app = build_ledger(settings)
    try:
        yield app
    finally:
        app.close()
