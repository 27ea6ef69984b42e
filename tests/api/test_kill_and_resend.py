"""A served ledger killed mid-stream loses nothing it acknowledged and records nothing twice: a
client posts keyed visits to `ledger serve` under uvicorn, the server is SIGKILLed while
requests are in flight, started again on the same store, and the client re-sends every key."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.bootstrap import build_ledger
from tests.api.builders import build_world, visit_body

LEDGER = str(Path(sys.executable).with_name("ledger"))
KEYS = 40
SENDERS = 4
KILL_AFTER = 12  # acknowledged visits before the kill


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`ledger serve` as a subprocess on a port of its own."""

    def __init__(self, settings, log: Path) -> None:  # type: ignore[no-untyped-def]
        self.env = {
            **os.environ,
            "LEDGER_DATABASE_URL": settings.database_url,
            "LEDGER_ID_HASH_KEY": settings.id_hash_key,
            "LEDGER_ENVIRONMENT": "production",
        }
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([LEDGER, "serve", "--port", str(self.port)], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the server exited with {self.proc.returncode}: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail(f"the server did not start within 30 s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _visit_ids_in_log(settings) -> Counter[str]:  # type: ignore[no-untyped-def]
    """How often each visit was delivered, read straight from the event store."""
    ledger = build_ledger(settings)
    try:
        delivered: Counter[str] = Counter()
        start = 0
        while page := ledger.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False):
            for n in page:
                if n.topic.endswith("Visit.Delivered"):
                    delivered[str(n.originator_id)] += 1
            start = page[-1].id
        return delivered
    finally:
        ledger.close()


def test_a_killed_server_restarted_replays_every_acknowledged_visit_and_records_each_key_once(settings, tmp_path):
    # The city is seeded in-process; its tokens live in the log, so the served process honours them.
    with TestClient(create_app(settings), raise_server_exceptions=False) as seed:

        def token_for(role: str, org: str | None = None, subject: str | None = None) -> dict[str, str]:
            issued = seed.app.state.ledger.issue_token(role, org, subject or f"{role}-user")  # type: ignore[attr-defined]
            return {"Authorization": f"Bearer {issued.token}"}

        world = build_world(seed, token_for)
    before = _visit_ids_in_log(settings)
    bodies = {f"visit-{i:03d}": visit_body(world.a.case_id, world.a.worker_id, hours_ago=2 + i) for i in range(KEYS)}
    server = Server(settings, tmp_path / "server.log")
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()

    def send(client: httpx.Client, key: str) -> httpx.Response:
        return client.post("/visits", json=bodies[key], headers={**world.a.token, "Idempotency-Key": key}, timeout=30)

    def sender(keys: list[str]) -> None:
        with httpx.Client(base_url=server.base) as client:
            for key in keys:
                try:
                    r = send(client, key)
                except httpx.TransportError:
                    return  # the server is gone; this key and the rest are re-sent later
                assert r.status_code == 201, r.text
                with lock:
                    acknowledged[key] = r.json()["visit_id"]

    try:
        server.start()
        keys = list(bodies)
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            futures = [pool.submit(sender, keys[i::SENDERS]) for i in range(SENDERS)]
            deadline = time.monotonic() + 60
            while len(acknowledged) < KILL_AFTER and time.monotonic() < deadline:
                time.sleep(0.005)
            server.kill()
            for f in futures:
                f.result()
        acked_at_kill = dict(acknowledged)
        assert KILL_AFTER <= len(acked_at_kill) < KEYS, f"the kill did not land mid-stream: {len(acked_at_kill)} of {KEYS} acknowledged"

        server.start()
        with httpx.Client(base_url=server.base) as client:
            resent = {key: send(client, key) for key in bodies}
    finally:
        server.stop()

    assert all(r.status_code == 201 for r in resent.values()), {k: r.text for k, r in resent.items() if r.status_code != 201}
    for key, visit_id in acked_at_kill.items():
        r = resent[key]
        assert r.json()["visit_id"] == visit_id and r.headers.get("Idempotent-Replayed") == "true", (key, r.text)
    ids = {key: r.json()["visit_id"] for key, r in resent.items()}
    assert len(set(ids.values())) == KEYS

    delivered = _visit_ids_in_log(settings) - before
    assert set(delivered) == set(ids.values()), "the log holds visits no key answered with, or misses some"
    assert all(count == 1 for count in delivered.values()), {v: c for v, c in delivered.items() if c != 1}
    print(f"{len(acked_at_kill)} acknowledged before the kill, {KEYS} keys re-sent, {len(delivered)} visits in the log, each once")
