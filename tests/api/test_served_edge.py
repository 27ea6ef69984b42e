"""The edge limits of a served ledger, over a real socket: SIGTERM stops it within seconds even
with a request waiting on a store lock; a chunked body over the limit is refused; an ID number
typed into a path reaches neither a response nor the log."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import psycopg

from ledger.bootstrap import build_ledger
from ledger.settings import Settings
from tests.api.serving import ledger_env, serve

ID_NUMBER = "330102195071117056"
CEILING = {"fiscal_year": 2026, "prior_year_subsidy_total": "1000000.00"}


def _token(store_url: str, role: str, org: str) -> dict[str, str]:
    env = ledger_env(store_url)
    ledger = build_ledger(Settings(environment="test", database_url=store_url, id_hash_key=env["LEDGER_ID_HASH_KEY"]))
    try:
        return {"Authorization": f"Bearer {ledger.issue_token(role, org, f'{role}-user').token}"}
    finally:
        ledger.close()


@contextmanager
def _write_lock_held(store_url: str) -> Iterator[None]:
    """Another session holds the event table's write lock, as a huge insert once did."""
    if store_url.startswith("sqlite"):
        conn = sqlite3.connect(unquote(urlsplit(store_url).path)[1:], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
    else:
        with psycopg.connect(store_url) as conn:
            conn.execute("LOCK TABLE ledger_events IN EXCLUSIVE MODE")  # the lock every insert takes
            yield
            conn.rollback()


def test_sigterm_stops_the_server_within_seconds_even_with_a_request_waiting_on_a_lock(store_url, tmp_path):
    finance = _token(store_url, "finance", "finance-bureau")
    with serve(ledger_env(store_url), tmp_path / "server.log") as served:
        answers: list[Any] = []

        def blocked_write() -> None:
            try:
                answers.append(httpx.post(f"{served.base}/purchase-ceilings", json=CEILING, headers=finance, timeout=60))
            except httpx.TransportError as e:
                answers.append(e)

        with _write_lock_held(store_url):
            writer = threading.Thread(target=blocked_write)
            writer.start()
            time.sleep(0.5)  # the write is now waiting for the lock
            started = time.monotonic()
            served.process.terminate()
            served.process.wait(timeout=30)
            stopped_after = time.monotonic() - started
            writer.join(timeout=30)
    assert stopped_after < 10, (stopped_after, served.log())
    # uvicorn stops gracefully, then ends by the signal it caught (-15), as an unhandled one would.
    assert served.process.returncode in (0, -15) and '"event": "ledger_stopped"' in served.log(), served.log()
    # The waiting write ended: refused as the store timed out (503, retry later), or cut off.
    assert len(answers) == 1
    if isinstance(answers[0], httpx.Response):
        assert answers[0].status_code == 503 and answers[0].headers["Retry-After"], answers[0].text
        assert answers[0].json()["error"] == "StoreUnavailable"


def test_a_served_ledger_refuses_a_chunked_body_and_never_echoes_or_logs_an_id_number(store_url, tmp_path):
    purchaser = _token(store_url, "purchaser", "civil-affairs-bureau")
    with serve(ledger_env(store_url, max_body_bytes="10000"), tmp_path / "server.log") as served:
        with httpx.Client(base_url=served.base, headers=purchaser, timeout=30) as client:

            def chunks() -> Iterator[bytes]:
                yield b'{"name": "'
                for _ in range(50):
                    yield b"x" * 1000

            r = client.post("/funds", content=chunks(), headers={"Content-Type": "application/json"})
            assert r.status_code == 413 and r.json()["error"] == "RequestTooLarge", r.text
            for path in (f"/beneficiaries/{ID_NUMBER}", f"/visits/{ID_NUMBER}/history", f"/nowhere/{ID_NUMBER}"):
                r = client.get(path)
                assert r.status_code == 404 and ID_NUMBER not in r.text, (path, r.text)
            r = client.post(f"/beneficiaries/{ID_NUMBER}/deregistration", json={"reason": "other"})
            assert r.status_code in (404, 422) and ID_NUMBER not in r.text, r.text
    log = served.log()
    assert '"status": 413' in log and '"route": "/beneficiaries/{beneficiary_id}"' in log
    assert ID_NUMBER not in log and ID_NUMBER[:14] not in log
