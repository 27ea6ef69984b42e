"""The documented multi-process deployment under load, on PostgreSQL (issue 8): `ledger migrate`
creates the tables, then two API workers, two projection workers (each keeping some of the read
models) and a milestone follower start with
table creation off; several threads post keyed visits to both workers, re-sending some keys. Every
acknowledged visit is recorded once, the follower fulfils the volume milestones, the read models
equal a clean rebuild and the hash chain verifies."""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from eventsourcing.utils import get_topic

from ledger.bootstrap import build_ledger, build_milestones
from ledger.domain.visits import Visit
from ledger.settings import Settings
from projections.chain.audit import TamperEvidence
from projections.chain.keeper import ChainKeeper
from projections.runner import NAMES
from projections.store import make_engine
from tests.api.builders import build_world, visit_body
from tests.api.serving import LEDGER, ledger_env, serve
from tests.conftest import STORES
from tests.integration.test_projection_crashes import assert_equal_to_rebuild, positions

pytestmark = pytest.mark.skipif("postgres" not in STORES, reason="the multi-process deployment runs on PostgreSQL; LEDGER_TEST_STORES excludes it")

VISITS = 300
SENDERS = 6
RESENT_EVERY = 10  # every tenth key is sent again once acknowledged, to the other worker
CATCH_UP_WITHIN = 60.0


@contextmanager
def worker(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A background worker process, stopped by SIGTERM (killed only if that fails)."""
    with open(log_path, "wb") as out:
        process = subprocess.Popen([LEDGER, *command], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_two_api_workers_two_projection_workers_sharing_the_projections_and_a_follower_under_load_record_each_visit_once_and_agree_with_a_rebuild(postgres_url, tmp_path):
    env = ledger_env(
        postgres_url,
        create_table="false",
        projections_in_service="false",
        follower_in_service="false",
        signing_key_path=str(tmp_path / "signing.key"),
        log_level="INFO",
    )
    migrated = subprocess.run([LEDGER, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr[-3000:]

    settings = Settings(environment="test", database_url=postgres_url, id_hash_key=env["LEDGER_ID_HASH_KEY"], create_table=False, signing_key_path=tmp_path / "signing.key")
    ledger = build_ledger(settings)
    engine = make_engine(settings.sqlalchemy_url())
    logs = {name: tmp_path / f"{name}.log" for name in ("api-1", "api-2", "projections-1", "projections-2", "follow")}
    try:
        with ExitStack() as stack:
            apis = [stack.enter_context(serve(env, logs[name])) for name in ("api-1", "api-2")]
            # The projections split over two processes (one also keeps the hash chain).
            projection_workers = {
                "projections-1": stack.enter_context(worker(["projections", "run", *NAMES[:3], "--no-chain"], env, logs["projections-1"])),
                "projections-2": stack.enter_context(worker(["projections", "run", *NAMES[3:]], env, logs["projections-2"])),
            }
            follow = stack.enter_context(worker(["follow"], env, logs["follow"]))
            clients = [stack.enter_context(httpx.Client(base_url=api.base, timeout=30)) for api in apis]

            def token_for(role: str, org: str | None = None, subject: str | None = None) -> dict[str, str]:
                return {"Authorization": f"Bearer {ledger.issue_token(role, org, subject or f'{role}-user').token}"}

            world = build_world(clients[0], token_for)
            sides = (world.a, world.b)
            bodies = {f"visit-{i:04d}": visit_body(sides[i % 2].case_id, sides[i % 2].worker_id, hours_ago=2 + i // 2) for i in range(VISITS)}
            acknowledged: dict[str, str] = {}
            replays: list[tuple[str, str, bool]] = []
            lock = threading.Lock()

            def send(n: int, key: str) -> httpx.Response:
                side = sides[int(key[-4:]) % 2]
                for _ in range(5):  # a 503 (a pool briefly exhausted) is retried with the same key
                    r = clients[n % 2].post("/visits", json=bodies[key], headers={**side.token, "Idempotency-Key": key})
                    if r.status_code != 503:
                        return r
                    time.sleep(0.2)
                return r

            def sender(n: int) -> None:
                for key in list(bodies)[n::SENDERS]:
                    r = send(n, key)
                    assert r.status_code == 201, (key, r.status_code, r.text)
                    with lock:
                        acknowledged[key] = r.json()["visit_id"]
                    if int(key[-4:]) % RESENT_EVERY == 0:
                        again = send(n + 1, key)
                        assert again.status_code == 201, (key, again.status_code, again.text)
                        with lock:
                            replays.append((key, again.json()["visit_id"], again.json()["replayed"]))

            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=SENDERS) as pool:
                list(pool.map(sender, range(SENDERS)))
            sent_in = time.monotonic() - started

            # The follower and the projections catch up, woken by the store's notifications.
            process = build_milestones(ledger)
            keeper = ChainKeeper(ledger, engine)
            visits_in_log = ledger.recorder.select_notifications(start=None, limit=VISITS * 2, topics=[get_topic(Visit.Delivered)])
            last_visit = visits_in_log[-1].id
            deadline = time.monotonic() + CATCH_UP_WITHIN
            while True:
                head = ledger.head()
                if process.position() >= last_visit and positions(engine) == {n: head for n in NAMES} and keeper.head().position == head:
                    break
                for name, proc in (*projection_workers.items(), ("follow", follow)):
                    assert proc.poll() is None, f"{name} exited:\n{logs[name].read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"not caught up within {CATCH_UP_WITHIN} s: follower {process.position()} of {last_visit}, {positions(engine)}, chain {keeper.head()}, head {head}"
                time.sleep(0.1)
            caught_up = time.monotonic() - started - sent_in

            contracts = [clients[1].get(f"/contracts/{side.contract_id}", headers=world.auditor).json() for side in sides]
            status = clients[1].get("/projections/status", headers=world.auditor).json()
        # Every process stopped (SIGTERM) before the rebuild, so nothing moves under it.

        # Each acknowledged key is one visit, its re-sends replayed; the log holds each visit once.
        assert len(acknowledged) == VISITS and len(set(acknowledged.values())) == VISITS
        assert replays and all(visit_id == acknowledged[key] and replayed for key, visit_id, replayed in replays)
        delivered = Counter(str(n.originator_id) for n in visits_in_log)
        assert set(delivered.values()) == {1} and len(delivered) == VISITS + 2  # and the world's two
        assert set(acknowledged.values()) <= set(delivered)

        # The follower counted every visit once and fulfilled both volume milestones.
        for side, contract in zip(sides, contracts):
            assert contract["delivered"] == {"meals": VISITS // 2 + 1}, contract["delivered"]
            volume = next(m for m in contract["milestones"] if m["milestone_id"] == "volume")
            assert volume["status"] == "fulfilled", volume
        assert all(p["position"] == status["head"] and p["state"] == "running" for p in status["projections"]), status

        assert_equal_to_rebuild(ledger, engine)
        report = TamperEvidence(ledger, engine, tmp_path / "signing.key").verify()
        assert report.intact and report.unchained_events == 0, report

        for name, path in logs.items():
            text = path.read_text(errors="replace")
            assert "Traceback" not in text, f"{name}:\n{text[-3000:]}"
            if name != "api-1" and name != "api-2":
                assert '"event": "wakeup_listening"' in text and "wakeup_not_listening" not in text, f"{name}:\n{text[-3000:]}"
        print(f"{VISITS} visits from {SENDERS} threads to 2 API workers in {sent_in:.1f} s; follower, projections and chain at the head {caught_up:.2f} s later")
    finally:
        engine.dispose()
        ledger.close()
