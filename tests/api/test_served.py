"""The service as a user runs it: `ledger token create`, then `ledger serve` under uvicorn,
with JSON logs in production mode; real HTTP over a socket."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api.builders import beneficiary_body

LEDGER = str(Path(sys.executable).with_name("ledger"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(store_url, tmp_path):
    env = dict(
        os.environ,
        LEDGER_DATABASE_URL=store_url,
        LEDGER_ENVIRONMENT="production",
        LEDGER_ID_HASH_KEY="a-secret-only-this-deployment-knows",
    )
    issued = subprocess.run(
        [LEDGER, "token", "create", "--role", "purchaser", "--org", "civil-affairs", "--subject", "officer-zhang", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    token = json.loads(issued.stdout)["token"]
    port = _free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "w") as log_file:
        server = subprocess.Popen([LEDGER, "serve", "--port", str(port)], env=env, stdout=log_file, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):  # bounded wait for start-up
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                pytest.fail(f"the server did not start: {log_path.read_text()}")
            yield base, token, log_path
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def test_the_served_api_logs_one_json_line_per_request_without_ids_or_tokens(served):
    base, token, log_path = served
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-abc-123"}
    body = beneficiary_body(4242)
    r = httpx.post(f"{base}/beneficiaries", json=body, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    assert r.headers["X-Request-ID"] == "req-abc-123"
    person = httpx.get(f"{base}/beneficiaries/{r.json()['beneficiary_id']}", headers=headers, timeout=30).json()
    assert person["national_id_last4"] == body["national_id"][-4:]
    assert body["national_id"] not in json.dumps(person)
    found = httpx.post(f"{base}/beneficiaries/lookup", json={"national_id": body["national_id"]}, headers=headers, timeout=30)
    assert found.status_code == 200 and found.json()["id"] == person["id"]
    refused = httpx.post(f"{base}/beneficiaries", json={**body, "national_id": body["national_id"][:-1]}, headers=headers, timeout=30)
    assert refused.status_code == 422
    assert httpx.get(f"{base}/funds/nope", headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401

    # The request log writes its line once the answer is sent: the last one may trail the answer.
    deadline = time.monotonic() + 5
    while '"status": 401' not in (text := log_path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert body["national_id"] not in text and body["national_id"][:-1] not in text
    assert token not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) >= 5
    first = next(line for line in requests if line["request_id"] == "req-abc-123" and line["method"] == "POST")
    assert first["actor"] == "officer-zhang" and first["role"] == "purchaser"
    assert first["route"] == "/beneficiaries" and first["status"] == 201
    assert isinstance(first["duration_ms"], float)
    assert {line["status"] for line in requests} >= {200, 201, 401, 422}
