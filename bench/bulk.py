"""Bulk visits over HTTP (POST /visits/batch, 1,000 visits a request) beside plain batched
INSERTs of 1,000 rows of the same size straight into the store (executemany, and COPY on
PostgreSQL), interleaved round by round. Where the endpoint is missing the figure is n/a."""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg

from bench.bare_app import POSTGRES_DDL, SQLITE_DDL, TABLE, TOPIC
from bench.common import PostgresBackends, Store, ledger_server, median
from bench.load import http_request, run_load
from bench.single import Target

BATCH = 1000


def batch_requests(target: Target, seed: int = 2):
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    auth = f"Bearer {target.contractor_token}"

    def make(conn: int, n: int) -> bytes:
        visits = []
        for i in range(BATCH):
            case = target.cases[rng.randrange(len(target.cases))]
            end = now - timedelta(minutes=rng.randint(30, 60 * 24 * 20))
            visits.append(
                {
                    "client_id": f"{conn}-{n}-{i}-{uuid.uuid4().hex[:8]}",
                    "case_id": case["case_id"],
                    "worker_id": target.workers[rng.randrange(len(target.workers))],
                    "service_code": rng.choice(case["services"]),
                    "started_at": (end - timedelta(minutes=45)).isoformat(),
                    "ended_at": end.isoformat(),
                    "location": "东风村12号",
                    "evidence_hash": "sha256:" + "ab" * 32,
                }
            )
        return http_request("POST", "/visits/batch", {"Authorization": auth, "Idempotency-Key": uuid.uuid4().hex}, {"visits": visits})

    return make


class PlainInserts:
    """Batches of 1,000 rows as large as a stored visit event, into a table of the event log's shape."""

    def __init__(self, store: Store, row_bytes: int) -> None:
        self.store = store
        self.state = b"v" * row_bytes
        if store.kind == "postgres":
            self.conn: Any = psycopg.connect(store.url, autocommit=True)
            self.conn.execute(POSTGRES_DDL)
        else:
            self.conn = sqlite3.connect(f"{store.folder}/bare.db", isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(SQLITE_DDL)

    def rows(self) -> list[tuple[Any, str, bytes]]:
        ids = (uuid.uuid4() for _ in range(BATCH))
        if self.store.kind == "sqlite":
            return [(str(i), TOPIC, self.state) for i in ids]
        return [(i, TOPIC, self.state) for i in ids]

    def executemany(self, batches: int) -> float:
        t0 = time.perf_counter()
        for _ in range(batches):
            rows = self.rows()
            if self.store.kind == "postgres":
                with self.conn.transaction(), self.conn.cursor() as cur:
                    cur.executemany(f"INSERT INTO {TABLE} (id, topic, state) VALUES (%s, %s, %s)", rows)
            else:
                self.conn.execute("BEGIN")
                self.conn.executemany(f"INSERT INTO {TABLE} (id, topic, state) VALUES (?, ?, ?)", rows)
                self.conn.execute("COMMIT")
        return batches * BATCH / (time.perf_counter() - t0)

    def copy(self, batches: int) -> float | None:
        if self.store.kind != "postgres":
            return None
        t0 = time.perf_counter()
        for _ in range(batches):
            rows = self.rows()
            with self.conn.transaction(), self.conn.cursor() as cur, cur.copy(f"COPY {TABLE} (id, topic, state) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return batches * BATCH / (time.perf_counter() - t0)

    def close(self) -> None:
        self.conn.close()


def endpoint_exists(port: int, target: Target) -> bool:
    """An empty batch: a missing route answers 404 or 405, an existing one anything else."""
    probe = http_request("POST", "/visits/batch", {"Authorization": f"Bearer {target.contractor_token}"}, {"visits": []})
    status = run_load(port, lambda c, n: probe, connections=1, total=1).statuses
    return not (status.get(404) or status.get(405))


def run(store: Store, target: Target, *, rounds: int, batches: int, connections: int = 2) -> dict[str, Any]:
    plain = PlainInserts(store, target.row_bytes)
    server = ledger_server(store)
    backends = PostgresBackends(store.db_name)
    try:
        if not endpoint_exists(server.port, target):
            return {"available": False, "executemany_rows_per_s": median([plain.executemany(batches) for _ in range(rounds)]), "copy_rows_per_s": plain.copy(batches)}
        make = batch_requests(target)
        http, execs, copies, cpu, pg, errors = [], [], [], [], [], 0
        counts = {"recorded": 0, "already_recorded": 0, "refused": 0}
        refusals: list[Any] = []
        error_bodies: list[str] = []

        def inspect(status: int, body: bytes) -> None:
            if status == 200:
                answer = json.loads(body)
                for key in counts:
                    counts[key] += answer.get(key, 0)
                if answer.get("refused") and len(refusals) < 3:
                    refusals.append(next(r for r in answer["results"] if r["status"] == "refused"))

        for _ in range(rounds):
            execs.append(plain.executemany(batches))
            copies.append(plain.copy(batches))
            cpu0 = server.cpu()
            backends.start()
            before = counts["recorded"]
            load = run_load(server.port, make, connections=connections, total=batches, inspect=inspect)
            visits = max(1, counts["recorded"] - before)  # only visits recorded count
            http.append(visits / load.seconds)
            cpu.append((server.cpu() - cpu0) * 1000 / visits)
            pg.append(backends.seconds() * 1000 / visits if store.db_name else None)
            errors += load.errors
            error_bodies += [b.decode(errors="replace") for b in load.bodies]
        return {
            "available": True,
            "visits_per_s": median(http),
            "executemany_rows_per_s": median(execs),
            "copy_rows_per_s": median([c for c in copies if c is not None]) if store.kind == "postgres" else None,
            "server_cpu_ms_per_visit": median(cpu),
            "postgres_cpu_ms_per_visit": median([p for p in pg if p is not None]) if store.db_name else None,
            "http_errors": errors,
            "items": counts,
            "first_refusals": refusals,
            "first_error_bodies": error_bodies[:3],
            "peak_rss_mb": server.peak_rss_mb(),
            "rounds": {"http": http, "executemany": execs, "copy": copies},
        }
    finally:
        server.stop()
        plain.close()
