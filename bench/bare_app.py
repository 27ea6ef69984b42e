"""The baseline for single visits: a bare FastAPI app with one `def` POST endpoint that takes the
same visit body (a pydantic model of the same fields) and does one pooled INSERT of a row as
large as the ledger's stored visit event. No auth, no domain, no read side: what the machine and
the store can do for one small write per request.

    BENCH_BARE_URL=postgresql://... | sqlite:///path  BENCH_ROW_BYTES=600 \
        python -m uvicorn bench.bare_app:app --port 8001 --workers 1
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from datetime import datetime

from fastapi import FastAPI, Header
from pydantic import BaseModel, Field

URL = os.environ.get("BENCH_BARE_URL", "sqlite:///bare.db")
ROW_BYTES = int(os.environ.get("BENCH_ROW_BYTES", "600"))
TABLE = "bare_visits"
# The same shape as the ledger's stored events: a global position, an id, a topic, the state.
POSTGRES_DDL = f"CREATE TABLE IF NOT EXISTS {TABLE} (position BIGSERIAL PRIMARY KEY, id UUID NOT NULL UNIQUE, topic TEXT NOT NULL, state BYTEA NOT NULL)"
SQLITE_DDL = f"CREATE TABLE IF NOT EXISTS {TABLE} (position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL, state BLOB NOT NULL)"
TOPIC = "bench:Visit.Delivered"


class VisitIn(BaseModel):
    case_id: str = Field(max_length=64)
    worker_id: str = Field(max_length=64)
    service_code: str = Field(max_length=64)
    started_at: datetime
    ended_at: datetime
    location: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=2000)
    evidence_hash: str | None = Field(default=None, max_length=200)


def row_state(visit: VisitIn) -> bytes:
    state = visit.model_dump_json().encode()
    return state + b" " * max(0, ROW_BYTES - len(state))


class PostgresRows:
    def __init__(self, url: str) -> None:
        from psycopg_pool import ConnectionPool

        self.pool = ConnectionPool(url, min_size=5, max_size=10, open=True)
        with self.pool.connection() as conn:
            conn.execute(POSTGRES_DDL)

    def insert(self, visit_id: uuid.UUID, state: bytes) -> int:
        with self.pool.connection() as conn:
            return conn.execute(f"INSERT INTO {TABLE} (id, topic, state) VALUES (%s, %s, %s) RETURNING position", (visit_id, TOPIC, state)).fetchone()[0]


class SqliteRows:
    """One connection per server thread: the threadpool's threads are the pool."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.local = threading.local()
        conn = self._conn()
        conn.execute(SQLITE_DDL)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            self.local.conn = conn
        return conn

    def insert(self, visit_id: uuid.UUID, state: bytes) -> int:
        return self._conn().execute(f"INSERT INTO {TABLE} (id, topic, state) VALUES (?, ?, ?) RETURNING position", (str(visit_id), TOPIC, state)).fetchone()[0]


def open_rows(url: str) -> PostgresRows | SqliteRows:
    if url.startswith("postgres"):
        return PostgresRows(url)
    return SqliteRows(url.split("///", 1)[1])


app = FastAPI()
rows = open_rows(URL)


@app.get("/health/live")
def live() -> dict[str, str]:
    return {"status": "live"}


@app.post("/visits", status_code=201)
def record_visit(visit: VisitIn, authorization: str = Header(), idempotency_key: str | None = Header(default=None)) -> dict[str, object]:
    visit_id = uuid.uuid4()
    position = rows.insert(visit_id, row_state(visit))
    return {"visit_id": str(visit_id), "position": position}


if __name__ == "__main__":  # for a look by hand
    print(json.dumps(VisitIn.model_json_schema(), indent=2))
