"""/health/ready for an orchestrator: no token, 503 while the read models lag beyond
LEDGER_READY_MAX_LAG_SECONDS, 200 within it. (A stalled projection and a hanging database are
in test_read_side.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.settings import Settings
from projections.runner import NAMES
from tests.api.builders import post

Headers = dict[str, str]


def read_models_elsewhere(settings, max_lag: float) -> TestClient:
    """An API process whose read models are kept by a `ledger projections run` worker that the
    test drives itself (runner.run_until_idle), so it decides how far they lag."""
    return TestClient(create_app(settings.model_copy(update={"projections_in_service": False, "ready_max_lag_seconds": max_lag})), raise_server_exceptions=False)


def finance(client: TestClient) -> Headers:
    return {"Authorization": f"Bearer {client.app.state.ledger.issue_token('finance', 'finance-bureau', 'cashier-li').token}"}  # type: ignore[attr-defined]


def record_something(client: TestClient) -> None:
    post(client, "/purchase-ceilings", finance(client), {"fiscal_year": 2026, "prior_year_subsidy_total": "10000000.00"})


@pytest.fixture
def lag_half_a_second_allowed(settings) -> Iterator[TestClient]:
    with read_models_elsewhere(settings, 0.5) as client:
        yield client


def test_readiness_needs_no_token_and_ignores_a_bad_one(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        r = client.get("/health/ready", headers=headers)
        assert r.status_code == 200 and r.json()["status"] == "ready", (headers, r.text)


def test_readiness_is_503_while_the_read_models_lag_beyond_the_setting_and_200_once_caught_up(lag_half_a_second_allowed: TestClient) -> None:
    client = lag_half_a_second_allowed
    runner = client.app.state.read_side.runner  # type: ignore[attr-defined]
    assert client.get("/health/ready").status_code == 200  # nothing recorded: nothing to lag behind
    record_something(client)
    time.sleep(0.7)  # the unapplied events are now older than the 0.5 s allowed

    r = client.get("/health/ready")
    assert r.status_code == 503 and r.json()["error"] == "NotReady" and int(r.headers["Retry-After"]) >= 1, r.text
    detail = r.json()["detail"]
    assert detail["status"] == "not_ready"
    assert {p["name"] for p in detail["projections"] if p["state"] == "lagging"} == set(NAMES)
    assert len(detail["reasons"]) == len(NAMES) and all("(allowed: 0.5 s)" in reason for reason in detail["reasons"])

    runner.run_until_idle()
    r = client.get("/health/ready")
    assert r.status_code == 200, r.text
    assert r.json()["reasons"] == [] and {p["state"] for p in r.json()["projections"]} == {"running"}


def test_readiness_is_200_while_the_read_models_are_behind_but_within_the_setting(settings) -> None:
    with read_models_elsewhere(settings, 3600) as client:
        record_something(client)
        time.sleep(0.2)
        r = client.get("/health/ready")
        assert r.status_code == 200, r.text
        assert all(p["position"] < r.json()["head"] and p["state"] == "running" for p in r.json()["projections"])


def test_a_negative_allowed_lag_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="ready_max_lag_seconds"):
        Settings(ready_max_lag_seconds=-1)
