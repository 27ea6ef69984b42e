"""Checks shared by the probes: the shape of a refusal, the read side reaching the head of the
log without a stall, and the read models equal to a clean rebuild."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.test_projection_crashes import assert_equal_to_rebuild

# The statuses a client's mistake may earn; anything else (5xx above all) is a bug.
REFUSALS = frozenset({400, 401, 403, 404, 405, 409, 413, 415, 422})


def assert_refusal(r: Any, what: object = "") -> str:
    """A refusal is a JSON {"error": CODE, "detail": ...} with a 4xx status; returns the code."""
    assert r.status_code in REFUSALS, (what, r.status_code, r.text[:500])
    assert r.headers.get("content-type", "").startswith("application/json"), (what, r.headers.get("content-type"), r.text[:200])
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"error", "detail"}, (what, body)
    assert isinstance(body["error"], str) and body["error"], (what, body)
    return body["error"]


def wait_for_read_side(client: TestClient, headers: dict[str, str], timeout: float = 15.0) -> dict[str, Any]:
    """Waits until every projection has reached the head of the log; fails with the status
    (a stall shows there as a position that stops short of the head)."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get("/projections/status", headers=headers)
        assert r.status_code == 200, r.text
        status = r.json()
        if all(p["position"] >= status["head"] for p in status["projections"]):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"the read side did not reach the head within {timeout} s: {status}")
        client.app.state.read_side.wake()  # type: ignore[attr-defined]
        time.sleep(0.05)


def assert_read_models_equal_a_rebuild(client: TestClient) -> None:
    """Stops the service's own runner, then rebuilds every read model from the first event and
    compares it with the live tables."""
    read_side = client.app.state.read_side  # type: ignore[attr-defined]
    read_side.stop()
    assert_equal_to_rebuild(client.app.state.ledger, read_side.engine)  # type: ignore[attr-defined]
