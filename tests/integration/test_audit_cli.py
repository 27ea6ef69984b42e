"""`ledger audit` as an operator runs it and tools/verify_export.py as an auditor runs it, as
separate processes against a real store."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine, inspect, select

from projections.chain.tables import chain_head
from projections.store import make_engine
from tests.integration.helpers import World
from tests.integration.tampering import STANDALONE, EventsTable

LEDGER = str(Path(sys.executable).with_name("ledger"))


def _run(store_url: str, key: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, LEDGER_DATABASE_URL=store_url, LEDGER_ID_HASH_KEY="test-id-hash-key", LEDGER_ENVIRONMENT="test", LEDGER_SIGNING_KEY_PATH=str(key))
    return subprocess.run([LEDGER, *args], env=env, capture_output=True, text=True, timeout=120)


def _standalone(export: Path, checkpoint: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(STANDALONE), str(export), str(checkpoint)], capture_output=True, text=True, timeout=60)


def test_a_worker_keeps_the_chain_and_a_later_altered_row_is_named_by_ledger_audit_verify_and_the_standalone_verifier(store_url, ledger, settings, tmp_path):
    World.build(ledger)
    key, checkpoint, export = tmp_path / "keys" / "signing.key", tmp_path / "checkpoint.json", tmp_path / "log.jsonl"
    engine = make_engine(settings.sqlalchemy_url())
    try:
        _keep_chain_with_a_worker(store_url, key, engine, ledger.head())
        signed = _run(store_url, key, "audit", "checkpoint")
        assert signed.returncode == 0, signed.stderr
        checkpoint.write_text(signed.stdout)
        assert json.loads(signed.stdout)["position"] == ledger.head()
        assert stat.S_IMODE(key.stat().st_mode) == 0o600

        events = EventsTable(ledger, engine)
        target = events.positions()[3]
        events.update(target, "state", events.altered(events.row(target), "state"))
    finally:
        engine.dispose()
    verified = _run(store_url, key, "audit", "verify", "--checkpoint", str(checkpoint))
    assert verified.returncode == 1, verified.stderr
    report = json.loads(verified.stdout)
    assert (report["first_bad_position"], report["problem"]) == (target, "altered")
    assert _run(store_url, key, "audit", "export", str(export)).returncode == 0
    found = _standalone(export, checkpoint)
    assert found.returncode == 1 and f"[first bad position {target}]" in found.stdout, found.stdout


def _keep_chain_with_a_worker(store_url: str, key: Path, engine: Engine, head: int) -> None:
    """`ledger projections run` chains the log up to `head`, then stops cleanly on SIGTERM."""
    env = dict(os.environ, LEDGER_DATABASE_URL=store_url, LEDGER_ID_HASH_KEY="test-id-hash-key", LEDGER_ENVIRONMENT="test", LEDGER_SIGNING_KEY_PATH=str(key))
    worker = subprocess.Popen([LEDGER, "projections", "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while _chain_position(engine) != head:
            assert worker.poll() is None and time.monotonic() < deadline, "the worker did not chain the log"
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()


def _chain_position(engine: Engine) -> int | None:
    if not inspect(engine).has_table("chain_head"):
        return None
    with engine.connect() as conn:
        return conn.execute(select(chain_head.c.position)).scalar()
