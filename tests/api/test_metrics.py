"""Prometheus /metrics through the ASGI app: request counts and latencies by route, the log's head
and each projection's lag, and how they move when a visit is posted."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from projections.runner import NAMES
from tests.api.builders import World, head, post, visit_body

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Series:
    r = client.get("/metrics")  # no token: Prometheus has none
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value for family in text_string_to_metric_families(r.text) for s in family.samples}


def one(series: Series, name: str, **labels: str) -> float:
    return series.get((name, frozenset(labels.items())), 0.0)


def per_projection(series: Series, name: str) -> dict[str, float]:
    return {dict(labels)["projection"]: value for (n, labels), value in series.items() if n == name}


def test_metrics_count_requests_by_route_and_show_the_log_and_read_models_moving_after_a_visit(client: TestClient, world: World) -> None:
    a = world.a
    before = scrape(client)
    assert one(before, "http_requests_total", handler="/visits", method="POST", status="201") == 2  # one visit per contractor in the world
    assert one(before, "http_request_duration_seconds_count", handler="/visits", method="POST") == 2
    assert one(before, "ledger_store_up") == 1
    assert one(before, "ledger_events_appended_total") == head(client)
    assert set(per_projection(before, "ledger_projection_lag_events")) == set(NAMES)
    assert set(per_projection(before, "ledger_projection_lag_seconds")) == set(NAMES)
    assert per_projection(before, "ledger_projection_stalled") == {name: 0 for name in NAMES}

    made = post(client, "/visits", a.token, visit_body(a.case_id, a.worker_id, hours_ago=1))
    client.get("/read/audit", headers=world.auditor, params={"aggregate_id": made["visit_id"], "min_position": made["position"]})
    after = scrape(client)
    assert one(after, "http_requests_total", handler="/visits", method="POST", status="201") == 3
    assert one(after, "http_request_duration_seconds_count", handler="/visits", method="POST") == 3
    assert one(after, "http_request_duration_seconds_sum", handler="/visits", method="POST") > one(before, "http_request_duration_seconds_sum", handler="/visits", method="POST")
    assert one(after, "http_requests_total", handler="/read/audit", method="GET", status="200") == one(before, "http_requests_total", handler="/read/audit", method="GET", status="200") + 1
    assert one(after, "ledger_events_appended_total") >= made["position"] > one(before, "ledger_events_appended_total")
    assert per_projection(after, "ledger_projection_position")["audit"] >= made["position"]
    # A path that is no route is counted under one label, not one per path.
    client.get("/nowhere/12345", headers=world.auditor)
    assert not any("/nowhere" in dict(labels).get("handler", "") for _, labels in scrape(client))


def test_metrics_show_a_projection_lag_while_the_read_models_run_elsewhere_and_none_once_they_catch_up(settings) -> None:
    out_of_service = settings.model_copy(update={"projections_in_service": False})
    with TestClient(create_app(out_of_service), raise_server_exceptions=False) as client:
        ledger, runner = client.app.state.ledger, client.app.state.read_side.runner  # type: ignore[attr-defined]
        finance = {"Authorization": f"Bearer {ledger.issue_token('finance', 'finance-bureau', 'cashier-li').token}"}
        post(client, "/purchase-ceilings", finance, {"fiscal_year": 2026, "prior_year_subsidy_total": "10000000.00"})
        post(client, "/funds", finance, {"name": "2026 工作经费", "source": "work_funds", "fiscal_year": 2026, "amount": "200000.00"})
        behind = scrape(client)
        positions = per_projection(behind, "ledger_projection_position")
        for name, lag in per_projection(behind, "ledger_projection_lag_events").items():
            assert lag >= 2 and lag == one(behind, "ledger_events_appended_total") - positions[name], name
        assert all(age > 0 for age in per_projection(behind, "ledger_projection_lag_seconds").values())

        runner.run_until_idle()
        caught_up = scrape(client)
        assert per_projection(caught_up, "ledger_projection_lag_events") == {name: 0 for name in NAMES}
        assert per_projection(caught_up, "ledger_projection_lag_seconds") == {name: 0 for name in NAMES}


def test_each_app_has_its_own_metrics(settings) -> None:
    """Two apps in one process (tests, or a rebuild beside a live app) do not share or collide."""
    apps: Iterator[TestClient] = (TestClient(create_app(settings)) for _ in range(2))
    with next(apps) as first, next(apps) as second:
        first.get("/health/live")
        first.get("/health/live")
        second.get("/health/live")
        assert one(scrape(first), "http_requests_total", handler="/health/live", method="GET", status="200") == 2
        assert one(scrape(second), "http_requests_total", handler="/health/live", method="GET", status="200") == 1
