"""The event store's PostgreSQL sessions carry the deployment's limits: a statement, a lock wait
and a transaction left idle are each bounded by the settings, not by the library's defaults."""

from __future__ import annotations

import pytest

from ledger.bootstrap import build_ledger
from ledger.settings import Settings

pytestmark = pytest.mark.postgres_only


def _shown(ledger, name: str) -> str:
    with ledger.recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        row = cursor.fetchone()
    return str(row[name])


def test_the_store_sessions_take_their_timeouts_from_the_settings(postgres_url: str) -> None:
    settings = Settings(
        environment="test",
        database_url=postgres_url,
        id_hash_key="k",
        postgres_statement_timeout_seconds=4,
        postgres_lock_timeout_seconds=2,
        postgres_idle_in_transaction_timeout_seconds=7,
    )
    ledger = build_ledger(settings)
    try:
        assert _shown(ledger, "statement_timeout") == "4s"
        assert _shown(ledger, "lock_timeout") == "2s"
        assert _shown(ledger, "idle_in_transaction_session_timeout") == "7s"
    finally:
        ledger.close()


def test_by_default_an_idle_transaction_is_ended_after_ten_seconds_not_the_librarys_five(postgres_url: str) -> None:
    ledger = build_ledger(Settings(environment="test", database_url=postgres_url, id_hash_key="k"))
    try:
        assert _shown(ledger, "idle_in_transaction_session_timeout") == "10s"
    finally:
        ledger.close()
