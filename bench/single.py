"""Single visits over HTTP against `ledger serve` (uvicorn, one worker), interleaved run by run
with the bare baseline app (bench/bare_app.py) on the same store: each visit with its own
Idempotency-Key and the contractor's token, spread over 50 accepted cases. Medians of the rounds.
"""

from __future__ import annotations

import json
import random
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bench.common import SEPARATE_ENV, PostgresBackends, Server, Store, Worker, free_port, ledger_server, median, start_workers
from bench.load import LoadResult, http_request, run_load

BARE_APP = [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--workers", "1", "--log-level", "warning", "--no-access-log"]


@dataclass
class Target:
    """Who posts and where: one contractor's token, 50 of its accepted cases, its workers."""

    contractor_token: str
    cases: list[dict[str, Any]]  # case_id, services
    workers: list[str]
    reader_token: str  # finance: may read /projections/status
    row_bytes: int  # the size of a stored Visit.Delivered state, for the bare app's rows


def prepare(store: Store, world: Any = None) -> Target:
    """Issues the tokens; with no world given, first builds a small one (one contractor)."""
    from bench.history import build_world
    from ledger.bootstrap import build_ledger
    from ledger.domain.actors import Actor
    from ledger.domain.visits import Visit

    ledger = build_ledger(store.settings())
    try:
        if world is None:
            world = build_world(ledger, beneficiaries=70, contractors=1)
        contractor = world.busiest()
        cases = [{"case_id": c.case_id, "services": c.services} for c in contractor.cases[:50]]
        sample = contractor.cases[0]
        end = datetime.now(timezone.utc) - timedelta(hours=1)
        visit = Visit.deliver(
            case_id=sample.case_id,
            contract_id=sample.contract_id,
            contractor_id=sample.contractor_id,
            beneficiary_id=sample.beneficiary_id,
            worker_id=contractor.workers[0],
            service_code=sample.services[0],
            started_at=end - timedelta(minutes=45),
            ended_at=end,
            location="东风村12号",
            notes=None,
            evidence_hash="sha256:" + "ab" * 32,
            township=sample.township,
            village=sample.village,
            by=Actor("bench-coordinator", "contractor", sample.contractor_id, str(uuid.uuid4())),
        )
        row_bytes = len(ledger.mapper.to_stored_event(visit.collect_events()[0]).state)
        contractor_token = ledger.issue_token("contractor", contractor.contractor_id, "bench-coordinator").token
        reader_token = ledger.issue_token("finance", "finance-bureau", "bench-finance").token
    finally:
        ledger.close()
    return Target(contractor_token, cases, list(contractor.workers), reader_token, row_bytes)


def stored_target(store: Store) -> Target:
    """Who posts into a store that holds a history already (`bench all --url`), read from its read
    models: the contractor with the most accepted cases, 50 of them, its enrolled workers."""
    import json

    from eventsourcing.utils import get_topic
    from sqlalchemy import text

    from ledger.bootstrap import build_ledger
    from ledger.domain.visits import Visit
    from projections.store import make_engine

    settings = store.settings()
    ledger, engine = build_ledger(settings), make_engine(settings.sqlalchemy_url())
    try:
        with engine.connect() as conn:
            (contractor_id,) = conn.execute(text("SELECT contractor_id FROM caseload_cases WHERE status = 'accepted' GROUP BY contractor_id ORDER BY count(*) DESC LIMIT 1")).one()
            rows = conn.execute(text("SELECT case_id, services FROM caseload_cases WHERE status = 'accepted' AND contractor_id = :c ORDER BY case_id LIMIT 50"), {"c": contractor_id})
            cases = [{"case_id": r.case_id, "services": json.loads(r.services)} for r in rows]
            workers = [r.worker_id for r in conn.execute(text("SELECT worker_id FROM caseload_workers WHERE contractor_id = :c AND enrolled ORDER BY worker_id"), {"c": contractor_id})]
        (stored,) = ledger.recorder.select_notifications(start=None, limit=1, topics=[get_topic(Visit.Delivered)])
        contractor_token = ledger.issue_token("contractor", contractor_id, "bench-coordinator").token
        reader_token = ledger.issue_token("finance", "finance-bureau", "bench-finance").token
    finally:
        engine.dispose()
        ledger.close()
    return Target(contractor_token, [c for c in cases if c["services"]], workers, reader_token, len(stored.state))


def visit_requests(target: Target, seed: int = 1):
    """Makes one POST /visits per call: a fresh Idempotency-Key, a case of the 50 in turn."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    auth = f"Bearer {target.contractor_token}"

    def make(conn: int, n: int) -> bytes:
        case = target.cases[(conn * 7 + n) % len(target.cases)]
        end = now - timedelta(minutes=rng.randint(30, 60 * 24 * 20))
        body = {
            "case_id": case["case_id"],
            "worker_id": target.workers[rng.randrange(len(target.workers))],
            "service_code": rng.choice(case["services"]),
            "started_at": (end - timedelta(minutes=45)).isoformat(),
            "ended_at": end.isoformat(),
            "location": "东风村12号",
            "evidence_hash": "sha256:" + "ab" * 32,
        }
        return http_request("POST", "/visits", {"Authorization": auth, "Idempotency-Key": uuid.uuid4().hex}, body)

    return make


def bare_server(store: Store, row_bytes: int) -> Server:
    port = free_port()
    url = store.url if store.kind == "postgres" else f"sqlite:///{store.folder}/bare.db"
    env = store.env(BENCH_BARE_URL=url, BENCH_ROW_BYTES=str(row_bytes))
    return Server("bare", [*BARE_APP, "--port", str(port)], env, port, "/health/live")


@dataclass
class Run:
    server: str
    connections: int
    load: LoadResult
    server_cpu_ms: float  # per request
    postgres_cpu_ms: float | None  # per request, the database's backends
    workers_cpu_ms: float | None = None  # per request, separate projections and follower processes

    def summary(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "connections": self.connections,
            "requests": self.load.requests,
            "errors": self.load.errors,
            "statuses": dict(self.load.statuses),
            "rate": self.load.rate,
            "p50_ms": self.load.p(0.5),
            "p99_ms": self.load.p(0.99),
            "server_cpu_ms_per_request": self.server_cpu_ms,
            "postgres_cpu_ms_per_request": self.postgres_cpu_ms,
            "workers_cpu_ms_per_request": self.workers_cpu_ms,
            "client_cpu_ms_per_request": self.load.client_cpu_ms_per_request(),
            "first_error_bodies": [b.decode(errors="replace") for b in self.load.bodies],
        }


def measure(server: Server, make, connections: int, seconds: float, backends: PostgresBackends, workers: list[Worker] = ()) -> Run:
    cpu0, workers0 = server.cpu(), sum(w.cpu() for w in workers)
    backends.start()
    load = run_load(server.port, make, connections=connections, seconds=seconds)
    n = max(1, load.requests)
    pg = backends.seconds() * 1000 / n if backends.db_name else None
    workers_ms = (sum(w.cpu() for w in workers) - workers0) * 1000 / n if workers else None
    return Run(server.name, connections, load, (server.cpu() - cpu0) * 1000 / n, pg, workers_ms)


def wait_for_projections(port: int, reader_token: str, timeout: float = 120.0) -> float | None:
    """Seconds until every projection has caught up with the head (polled every 50 ms)."""
    t0 = time.monotonic()
    request = http_request("GET", "/projections/status", {"Authorization": f"Bearer {reader_token}", "Connection": "close"})
    while time.monotonic() - t0 < timeout:
        status = get_json(port, request)
        if status is not None and all(p.get("lag_events", 0) == 0 for p in status.get("projections", [])):
            return time.monotonic() - t0
        time.sleep(0.05)
    return None


def get_json(port: int, request: bytes) -> dict[str, Any] | None:
    """One request on its own connection (Connection: close); the JSON body of a 200, or None."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200") or b"chunked" in head.lower():
        return None
    return json.loads(body)


def interleaved(store: Store, target: Target, *, connections: tuple[int, ...], rounds: int, seconds: float, with_bare: bool = True, warmup: float = 1.5, separate: bool = False) -> dict[str, Any]:
    """Runs ledger and bare in turn, `rounds` times per connection count; returns the runs,
    their medians, the lag after the last burst and each server's peak RSS."""
    backends = PostgresBackends(store.db_name)
    ledger = None
    bare = None
    workers: list[Worker] = []
    try:
        if separate:
            workers = start_workers(store)
        ledger = ledger_server(store, **(SEPARATE_ENV if separate else {}))
        bare = bare_server(store, target.row_bytes) if with_bare else None
        servers = [s for s in (bare, ledger) if s is not None]
        make = visit_requests(target)
        for s in servers:  # warm up: imports, pools, caches
            run_load(s.port, make, connections=4, seconds=warmup)
        runs: list[Run] = []
        lag: float | None = None
        for c in connections:
            for r in range(rounds):
                for s in servers:
                    runs.append(measure(s, make, c, seconds, backends, workers if s is ledger else []))
                    if s is ledger and c == connections[-1] and r == rounds - 1:
                        lag = wait_for_projections(ledger.port, target.reader_token)
        medians = {}
        for s in servers:
            for c in connections:
                mine = [x for x in runs if x.server == s.name and x.connections == c]
                medians[f"{s.name}@{c}"] = {
                    "rate": median([x.load.rate for x in mine]),
                    "p50_ms": median([x.load.p(0.5) for x in mine]),
                    "p99_ms": median([x.load.p(0.99) for x in mine]),
                    "server_cpu_ms": median([x.server_cpu_ms for x in mine]),
                    "postgres_cpu_ms": median([x.postgres_cpu_ms for x in mine]) if store.kind == "postgres" else None,
                    "client_cpu_ms": median([x.load.client_cpu_ms_per_request() for x in mine]),
                    "workers_cpu_ms": median([x.workers_cpu_ms for x in mine]) if workers and s is ledger else None,
                    "errors": sum(x.load.errors for x in mine),
                    "requests": sum(x.load.requests for x in mine),
                }
        return {
            "runs": [x.summary() for x in runs],
            "medians": medians,
            "lag_after_burst_s": lag,
            "peak_rss_mb": {s.name: s.peak_rss_mb() for s in [*servers, *workers]},
            "postgres_backend_peak_rss_mb": backends.peak_rss_mb() if store.kind == "postgres" else None,
        }
    finally:
        for s in (ledger, bare, *workers):
            if s is not None:
                s.stop()
