"""Posting single visits over HTTP to a running `ledger serve`: prints visits per second,
latency percentiles and the server's memory. Not a test: it measures.

    .venv/bin/python bench/visits.py [--store sqlite|postgres] [--seconds 20] [--clients 8]
        [--separate-workers] [--request-path-only] [--profile FILE]

--separate-workers (PostgreSQL): the deployment of the README: `ledger migrate`, then the API with
the follower and projections off, beside a `ledger projections run` and a `ledger follow` process.

For PostgreSQL it creates and drops a database of its own on 127.0.0.1:5432. The server gets this
process's environment (any LEDGER_* setting passes through). --request-path-only sets
LEDGER_FOLLOW_INLINE=false and LEDGER_PROJECTIONS_IN_SERVICE=false, to measure the request path
alone; --profile writes a py-spy profile of the server during the run (threads holding the GIL only,
so idle waits do not show; py-spy must be installed).
CPU time is read from /proc: the server process, and PostgreSQL's backends for the bench database.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.api.builders import beneficiary_body, contract_body, contractor_body  # noqa: E402

LEDGER = str(Path(sys.executable).with_name("ledger"))
ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes, from /proc (clock ticks)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def backend_pids(db_name: str | None) -> list[int]:
    if not db_name:
        return []
    with psycopg.connect(ADMIN, autocommit=True) as c:
        return [r[0] for r in c.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (db_name,))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--separate-workers", action="store_true", help="PostgreSQL: projections and follower in processes of their own")
    ap.add_argument("--request-path-only", action="store_true", help="no inline milestone follow, no projections in the server")
    ap.add_argument("--profile", help="py-spy record the server into this file (.svg, or .txt for raw stacks)")
    args = ap.parse_args()

    db_name = None
    if args.store == "postgres":
        db_name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{db_name}"')
        url = ADMIN.rsplit("/", 1)[0] + "/" + db_name
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    env = dict(os.environ, LEDGER_DATABASE_URL=url, LEDGER_ENVIRONMENT="production", LEDGER_ID_HASH_KEY="bench-key", LEDGER_LOG_LEVEL="WARNING")
    if args.request_path_only:
        env.update(LEDGER_FOLLOW_INLINE="false", LEDGER_PROJECTIONS_IN_SERVICE="false")

    def token(role: str, org: str | None = None) -> dict[str, str]:
        cmd = [LEDGER, "token", "create", "--role", role] + (["--org", org] if org else [])
        return {"Authorization": "Bearer " + subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.strip()}

    side_workers: list[subprocess.Popen[bytes]] = []
    if args.separate_workers:
        subprocess.run([LEDGER, "migrate"], env=env, check=True, capture_output=True)
        env.update(LEDGER_CREATE_TABLE="false", LEDGER_PROJECTIONS_IN_SERVICE="false", LEDGER_FOLLOWER_IN_SERVICE="false")
        side_workers = [subprocess.Popen([LEDGER, *cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for cmd in (["projections", "run"], ["follow"])]
    purchaser, finance = token("purchaser", "bureau"), token("finance")
    port = free_port()
    server = subprocess.Popen([LEDGER, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        c = httpx.Client(base_url=base, timeout=30)
        c.post("/purchase-ceilings", json={"fiscal_year": 2026, "prior_year_subsidy_total": "100000000.00"}, headers=finance)
        fund = c.post("/funds", json={"name": "bench", "source": "work_funds", "fiscal_year": 2026, "amount": "2000000.00"}, headers=finance).json()["fund_id"]
        contractor_id = c.post("/contractors", json=contractor_body("bench org", "52330100MJ1234567M"), headers=purchaser).json()["contractor_id"]
        contractor = token("contractor", contractor_id)
        workers = [c.post(f"/contractors/{contractor_id}/workers", json={"name": f"w{i}"}, headers=contractor).json()["worker_id"] for i in range(10)]
        body = contract_body(contractor_id, fund, volume=100000)
        body["lines"][0]["quantity"] = 100000
        contract_id = c.post("/contracts", json=body, headers=purchaser).json()["contract_id"]
        cases = []
        for n in range(50):
            person = c.post("/beneficiaries", json=beneficiary_body(n, "self_reliant"), headers=purchaser).json()["beneficiary_id"]
            case = c.post("/cases", json={"beneficiary_id": person, "contract_id": contract_id, "services": ["meals"], "channel": "hotline_12349"}, headers=purchaser).json()["case_id"]
            c.post(f"/cases/{case}/acceptance", headers=contractor)
            cases.append(case)

        latencies: list[float] = []
        errors = 0
        stop = time.monotonic() + args.seconds
        lock = threading.Lock()

        def client(i: int) -> None:
            nonlocal errors
            local, bad = [], 0
            with httpx.Client(base_url=base, timeout=30) as hc:
                n = 0
                while time.monotonic() < stop:
                    end = datetime.now(timezone.utc) - timedelta(minutes=30)
                    visit = {
                        "case_id": cases[(i * 7 + n) % len(cases)],
                        "worker_id": workers[n % len(workers)],
                        "service_code": "meals",
                        "started_at": (end - timedelta(minutes=20)).isoformat(),
                        "ended_at": end.isoformat(),
                    }
                    t0 = time.perf_counter()
                    r = hc.post("/visits", json=visit, headers={**contractor, "Idempotency-Key": f"{i}-{n}"})
                    local.append(time.perf_counter() - t0)
                    bad += r.status_code != 201
                    n += 1
            with lock:
                latencies.extend(local)
                errors += bad

        profiler = None
        if args.profile:
            fmt = ["--format", "raw"] if args.profile.endswith(".txt") else []
            spy = str(Path(sys.executable).with_name("py-spy"))
            cmd = [spy, "record", "--pid", str(server.pid), "--duration", str(int(args.seconds)), "--gil", "-o", args.profile, *fmt]
            profiler = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pg_pids = backend_pids(db_name)
        cpu_app, cpu_pg = cpu_seconds([server.pid]), cpu_seconds(pg_pids)
        started = time.monotonic()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        pg_pids = sorted(set(pg_pids) | set(backend_pids(db_name)))  # backends opened during the run count from 0
        cpu_app, cpu_pg = cpu_seconds([server.pid]) - cpu_app, cpu_seconds(pg_pids) - cpu_pg
        if profiler:
            profiler.wait(timeout=60)
        latencies.sort()
        q = statistics.quantiles(latencies, n=100)
        print(f"store={args.store} clients={args.clients} seconds={elapsed:.1f}")
        print(f"visits={len(latencies)} errors={errors} throughput={len(latencies) / elapsed:.0f} visits/s")
        print(f"latency_ms p50={q[49] * 1000:.1f} p95={q[94] * 1000:.1f} p99={q[98] * 1000:.1f}")
        n = max(1, len(latencies))
        print(f"cpu_ms_per_visit app={cpu_app * 1000 / n:.2f} postgres={cpu_pg * 1000 / n:.2f}")
        print(f"server_rss_mb={rss_mb(server.pid):.0f}")
        status = c.get("/projections/status", headers=finance).json()
        print("projection_lag_events=" + ",".join(f"{p['name']}:{p['lag_events']}" for p in status["projections"]))
        print(f"projection_lag_seconds_max={max(p['lag_seconds'] for p in status['projections']):.2f}")
        head = status["head"]
        while any(p["position"] < head for p in status["projections"]) and time.monotonic() - started - elapsed < 120:
            time.sleep(0.1)
            status = c.get("/projections/status", headers=finance).json()
        print(f"projections_at_burst_head_after_s={time.monotonic() - started - elapsed:.2f}")
    finally:
        for process in [server, *side_workers]:
            process.send_signal(signal.SIGTERM)
        for process in [server, *side_workers]:
            process.wait(timeout=30)
        if db_name:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
