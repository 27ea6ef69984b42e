"""Prometheus `/metrics`: requests and latencies by route template (prometheus-fastapi-instrumentator),
and the log and the read models as they stand at scrape time.

The log's figures are read when Prometheus scrapes, not counted as requests pass: the head position
and each projection's row in projection_positions, a few indexed reads, so several workers, or a
`ledger projections run` process elsewhere, all show the same numbers. Each app has its own
registry: a test or a second app in the process never collides with the first."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator

METRICS_PATH = "/metrics"


class LedgerCollector(Collector):
    """The event log's head and each projection's distance from it, read from the stores when scraped."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        state = self.app.state
        ledger, read_side = getattr(state, "ledger", None), getattr(state, "read_side", None)
        up = GaugeMetricFamily("ledger_store_up", "1 when the event store and the read models answered this scrape, else 0")
        if ledger is None or read_side is None:  # before startup or after shutdown
            up.add_metric([], 0)
            yield up
            return
        try:
            head = ledger.head()
            progress = read_side.runner.progress()
            oldest = {state.position: read_side.oldest_unapplied_time(state.position) for state in progress.values() if state.position < head}
        except Exception:  # a store outage shows as a gauge, not as a failed scrape
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield CounterMetricFamily("ledger_events_appended", "Events appended to the log: its head position (notification id)", value=head)

        labels = ["projection"]
        position = GaugeMetricFamily("ledger_projection_position", "The last log position the projection has applied", labels=labels)
        lag_events = GaugeMetricFamily("ledger_projection_lag_events", "Log positions between the head and the projection's position", labels=labels)
        lag_seconds = GaugeMetricFamily("ledger_projection_lag_seconds", "Age of the oldest event the projection has not applied; 0 when caught up", labels=labels)
        stalled = GaugeMetricFamily("ledger_projection_stalled", "1 when the projection stopped at an event it cannot apply", labels=labels)
        now = datetime.now(timezone.utc)
        for name, state in sorted(progress.items()):
            first_unapplied = oldest.get(state.position)
            position.add_metric([name], state.position)
            lag_events.add_metric([name], max(0, head - state.position))
            lag_seconds.add_metric([name], max(0.0, (now - first_unapplied).total_seconds()) if first_unapplied else 0.0)
            stalled.add_metric([name], 1 if state.stall is not None else 0)
        yield from (position, lag_events, lag_seconds, stalled)


def install_metrics(app: FastAPI) -> None:
    """Counts and times every request by route template (the instrumentator's middleware, added
    here so the caller decides where it sits among the others) and serves `/metrics`."""
    registry = CollectorRegistry()
    Instrumentator(registry=registry, excluded_handlers=[METRICS_PATH], should_group_status_codes=False).instrument(app)
    registry.register(LedgerCollector(app))

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        """No token: Prometheus scrapes it on the intranet, and it says nothing about persons."""
        return Response(generate_latest(_scraped(registry, app)), media_type=CONTENT_TYPE_LATEST)


def _scraped(registry: CollectorRegistry, app: FastAPI) -> Any:
    # `ledger serve --workers N` with PROMETHEUS_MULTIPROC_DIR set: request metrics of every worker.
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return registry
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    merged.register(LedgerCollector(app))
    return merged
