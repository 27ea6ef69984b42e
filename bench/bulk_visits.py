"""Posting batches of visits over HTTP to a running `ledger serve`: prints visits per second,
the server's CPU seconds per visit and per batch, and latency per batch. Not a test: it measures.

    .venv/bin/python bench/bulk_visits.py [--store postgres|sqlite] [--batches 20] [--size 1000]
        [--cases 300] [--clients 1] [--projections-in-service]

CPU is the server process's own (user + system, all its threads, from /proc), so figures stay
comparable on a machine others are loading; wall-clock throughput is printed too, but is noisy
there. By default the read models run elsewhere (as in a PostgreSQL deployment), so the figures
are the request path's; the milestone process still follows inline, as in production.
For PostgreSQL it creates and drops a database of its own on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.visits import ADMIN, LEDGER, free_port, rss_mb  # noqa: E402
from tests.api.builders import beneficiary_body, contract_body, contractor_body  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def postgres_backends_cpu(db_name: str | None) -> float:
    """CPU seconds of the PostgreSQL backends serving the bench's database (its pooled
    connections live through the run, so their difference is the database's share)."""
    if db_name is None:
        return 0.0
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (db_name,))]
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except FileNotFoundError:
            pass
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--size", type=int, default=1000)
    ap.add_argument("--cases", type=int, default=300, help="distinct cases (beneficiaries) the batches spread over")
    ap.add_argument("--clients", type=int, default=1, help="batches posted at the same time")
    ap.add_argument("--projections-in-service", action="store_true")
    args = ap.parse_args()

    db_name = None
    if args.store == "postgres":
        db_name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{db_name}"')
        url = ADMIN.rsplit("/", 1)[0] + "/" + db_name
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    env = dict(
        os.environ,
        LEDGER_DATABASE_URL=url,
        LEDGER_ENVIRONMENT="production",
        LEDGER_ID_HASH_KEY="bench-key",
        LEDGER_LOG_LEVEL="WARNING",
        LEDGER_PROJECTIONS_IN_SERVICE="true" if args.projections_in_service else "false",
        LEDGER_MAX_BODY_BYTES="2000000",
    )

    def token(role: str, org: str | None = None) -> dict[str, str]:
        cmd = [LEDGER, "token", "create", "--role", role] + (["--org", org] if org else [])
        return {"Authorization": "Bearer " + subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.strip()}

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
        c = httpx.Client(base_url=base, timeout=60)
        c.post("/purchase-ceilings", json={"fiscal_year": 2026, "prior_year_subsidy_total": "100000000.00"}, headers=finance)
        fund = c.post("/funds", json={"name": "bench", "source": "work_funds", "fiscal_year": 2026, "amount": "2000000.00"}, headers=finance).json()["fund_id"]
        contractor_id = c.post("/contractors", json=contractor_body("bench org", "52330100MJ1234567M"), headers=purchaser).json()["contractor_id"]
        contractor = token("contractor", contractor_id)
        workers = [c.post(f"/contractors/{contractor_id}/workers", json={"name": f"w{i}"}, headers=contractor).json()["worker_id"] for i in range(max(20, args.cases // 5))]
        body = contract_body(contractor_id, fund, volume=100_000)
        body["lines"][0]["quantity"] = 100_000
        contract_id = c.post("/contracts", json=body, headers=purchaser).json()["contract_id"]
        cases = []
        for n in range(args.cases):
            person = c.post("/beneficiaries", json=beneficiary_body(n, "self_reliant"), headers=purchaser).json()["beneficiary_id"]
            case = c.post("/cases", json={"beneficiary_id": person, "contract_id": contract_id, "services": ["meals"], "channel": "hotline_12349"}, headers=purchaser).json()["case_id"]
            c.post(f"/cases/{case}/acceptance", headers=contractor)
            cases.append(case)

        now = datetime.now(timezone.utc)

        def batch(b: int) -> list[dict[str, str]]:
            out = []
            for n in range(args.size):
                end = now - timedelta(minutes=30 + (b * args.size + n) % 40_000)
                out.append(
                    {
                        "client_id": f"bench/{b}/{n}",
                        "case_id": cases[(b * args.size + n) % len(cases)],
                        "worker_id": workers[n % len(workers)],
                        "service_code": "meals",
                        "started_at": (end - timedelta(minutes=20)).isoformat(),
                        "ended_at": end.isoformat(),
                        "location": "东风村12号",
                        "evidence_hash": "sha256:" + "ab" * 32,
                    }
                )
            return out

        bodies = [batch(b) for b in range(args.batches)]
        latencies: list[float] = []
        recorded = refused = 0
        lock = threading.Lock()
        queue = list(range(args.batches))
        codes: Counter[str] = Counter()

        def client() -> None:
            nonlocal recorded, refused
            with httpx.Client(base_url=base, timeout=120) as hc:
                while True:
                    with lock:
                        if not queue:
                            return
                        b = queue.pop(0)
                    t0 = time.perf_counter()
                    r = hc.post("/visits/batch", json={"visits": bodies[b]}, headers=contractor)
                    elapsed = time.perf_counter() - t0
                    r.raise_for_status()
                    with lock:
                        latencies.append(elapsed)
                        recorded += r.json()["recorded"]
                        refused += r.json()["refused"]
                        codes.update(x["error"] for x in r.json()["results"] if x["status"] == "refused")

        print(f"posting batches to server pid {server.pid}", flush=True)
        cpu0, db0, t0 = cpu_seconds(server.pid), postgres_backends_cpu(db_name), time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu, db_cpu = time.perf_counter() - t0, cpu_seconds(server.pid) - cpu0, postgres_backends_cpu(db_name) - db0
        # The same batches again: every visit answers already_recorded.
        cpu1, t1 = cpu_seconds(server.pid), time.perf_counter()
        again = sum(c.post("/visits/batch", json={"visits": bodies[b]}, headers=contractor).json()["already_recorded"] for b in range(min(5, args.batches)))
        retry_wall, retry_cpu = time.perf_counter() - t1, cpu_seconds(server.pid) - cpu1

        latencies.sort()
        print(f"store={args.store} batches={args.batches} size={args.size} cases={args.cases} clients={args.clients} projections_in_service={args.projections_in_service}")
        print(f"recorded={recorded} refused={refused} wall_s={wall:.2f} throughput={recorded / wall:.0f} visits/s (wall clock, noisy on a shared machine)")
        print(f"server_cpu_s={cpu:.2f} cpu_per_visit_us={cpu / max(recorded, 1) * 1e6:.0f} cpu_bound_throughput={recorded / cpu:.0f} visits/cpu-s")
        if codes:
            print(f"refusals={dict(codes)}")
        if db_name:
            both = cpu + db_cpu
            print(
                f"postgres_cpu_s={db_cpu:.2f} cpu_per_visit_us={db_cpu / max(recorded, 1) * 1e6:.0f}; server+postgres {both / max(recorded, 1) * 1e6:.0f} us/visit, on 2 cores at most {2 * recorded / both:.0f} visits/s"
            )
        print(f"batch_latency_ms p50={latencies[len(latencies) // 2] * 1000:.0f} max={latencies[-1] * 1000:.0f}")
        print(f"retry: already_recorded={again} cpu_per_visit_us={retry_cpu / max(again, 1) * 1e6:.0f} wall_s={retry_wall:.2f}")
        print(f"server_rss_mb={rss_mb(server.pid):.0f}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        if db_name:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
