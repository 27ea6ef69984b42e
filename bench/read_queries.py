"""The main read queries at growing history sizes: p50/p99 and CPU per call of each, the new
(rollups) and the old (whole-table aggregates, kept in tests/api/test_rollup_reads.py) side by
side. Not a test: it measures.

    .venv/bin/python bench/read_queries.py [--store postgres|sqlite] [--sizes 10000,100000] [--calls 40]

History is posted in-process through the Ledger application (no HTTP): contractors, workers,
beneficiaries in nine villages, accepted cases and visits spread over the contract's year, a few
voided. After each size, the projections catch up, then each query runs --calls times on one
connection. Times are per call, of the query function alone (no HTTP, no JSON); CPU is this
process's (SQLAlchemy and Python), the database server's is not in it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ledger.bootstrap import build_ledger  # noqa: E402
from ledger.settings import Settings  # noqa: E402
from projections import lists, queries  # noqa: E402
from projections.runner import ProjectionRunner  # noqa: E402
from projections.store import make_engine, migrate  # noqa: E402
from tests.api import test_rollup_reads as old  # noqa: E402
from tests.integration.helpers import (  # noqa: E402
    ACCEPTANCE,
    FINAL,
    MID_TERM,
    PURCHASER,
    T_ACCEPTANCE,
    T_FINAL,
    T_MID_TERM,
    T_VOLUME,
    VOLUME,
    VOLUME_QUANTITY,
    appropriate_fund,
    declare_ceiling,
    national_id,
    register_contractor,
    sign_contract,
)

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PLACES = [(f"Town {t}", f"Village {t}{v}") for t in "ABC" for v in "123"]
LEVELS = ["self_reliant", "partly_lost", "fully_lost"]


def _history(ledger: Any, contractors: int = 4, workers: int = 16, people: int = 300) -> dict[str, Any]:
    declare_ceiling(ledger)
    start = datetime.now(timezone.utc).date() - timedelta(days=364)
    orgs, cases = [], []
    fund_id = appropriate_fund(ledger, "280000.00")  # the ceiling's share for the year
    for n in range(contractors):
        org = register_contractor(ledger, workers=workers, name=f"Centre {n}")
        contract_id = sign_contract(
            ledger,
            org.contractor_id,
            fund_id,
            start_date=start,
            lines=[{"service_code": "visiting", "quantity": 60000, "unit_price": "1.00"}],
            milestones=[
                {"milestone_id": VOLUME, "kind": "service_volume", "service_code": "visiting", "quantity": VOLUME_QUANTITY},
                {"milestone_id": MID_TERM, "kind": "evaluation_passed", "stage": "mid_term"},
                {"milestone_id": FINAL, "kind": "evaluation_passed", "stage": "final"},
                {"milestone_id": ACCEPTANCE, "kind": "acceptance"},
            ],
            tranches=[
                {"tranche_id": T_VOLUME, "milestone_id": VOLUME, "amount": "24000.00"},
                {"tranche_id": T_MID_TERM, "milestone_id": MID_TERM, "amount": "12000.00"},
                {"tranche_id": T_FINAL, "milestone_id": FINAL, "amount": "12000.00"},
                {"tranche_id": T_ACCEPTANCE, "milestone_id": ACCEPTANCE, "amount": "12000.00"},
            ],
        )["contract_id"]
        orgs.append((org, contract_id))
    for i in range(people):
        township, village = PLACES[i % len(PLACES)]
        beneficiary_id = ledger.register_beneficiary(
            PURCHASER,
            national_id=national_id(),
            name=f"P{i}",
            household_id=f"hh-{i}",
            category="dibao",
            township=township,
            village=village,
            self_care_level=LEVELS[i % 3],
        ).ids["beneficiary_id"]
        org, contract_id = orgs[i % contractors]
        case_id = ledger.refer_case(PURCHASER, beneficiary_id=beneficiary_id, contract_id=contract_id, services=["visiting"], channel="one_door_window").ids["case_id"]
        ledger.accept_case(org.actor, case_id)
        cases.append((org, case_id))
    return {"orgs": orgs, "cases": cases, "start": datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc)}


def _grow(ledger: Any, world: dict[str, Any], events: int, rng: random.Random) -> None:
    """Posts visits (and a void in fifty) until the log holds `events` events."""
    span = (datetime.now(timezone.utc) - timedelta(hours=2) - world["start"]).total_seconds()
    while (head := ledger.recorder.max_notification_id() or 0) < events:
        for _ in range(min(500, events - head)):
            org, case_id = rng.choice(world["cases"])
            started = world["start"] + timedelta(seconds=rng.uniform(0, span))
            visit_id = ledger.record_visit(
                org.actor,
                case_id=case_id,
                worker_id=rng.choice(org.workers),
                service_code="visiting",
                started_at=started,
                ended_at=started + timedelta(minutes=45),
                location="home",
                notes="visited",
            ).ids["visit_id"]
            if rng.random() < 0.02:
                ledger.void_visit(org.actor, visit_id, "posted twice")


def _measure(conn: Any, fn: Any, calls: int) -> tuple[float, float, float]:
    walls, cpu0 = [], time.process_time()
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(conn)
        walls.append((time.perf_counter() - t0) * 1000)
    cpu = (time.process_time() - cpu0) * 1000 / calls
    walls.sort()
    return statistics.median(walls), walls[min(len(walls) - 1, int(len(walls) * 0.99))], cpu


def _reads(world: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    now = datetime.now(timezone.utc)
    window = {"period_start": now - timedelta(days=30), "period_end": now, "as_of": now}
    org, contract_id = world["orgs"][0]
    out: dict[str, tuple[Any, Any]] = {}
    for by in ("contractor", "township", "village", "worker"):
        out[f"caseload by {by}"] = (
            lambda c, by=by: queries.caseload(c, by=by, org=None, **window),
            lambda c, by=by: old.old_caseload(c, by=by, org=None, **window),
        )
    out["caseload by worker, one contractor"] = (
        lambda c: queries.caseload(c, by="worker", org=org.contractor_id, **window),
        lambda c: old.old_caseload(c, by="worker", org=org.contractor_id, **window),
    )
    out["workers of a contractor"] = (
        lambda c: lists.contractor_workers(c, org.contractor_id, org=None),
        lambda c: old.old_contractor_workers(c, org.contractor_id, org=None),
    )
    out["contracts"] = (lambda c: queries.contracts(c, org=None), lambda c: old.old_contracts(c, org=None))
    out["visits of a contract (page)"] = (lambda c: lists.visits(c, org=None, filters={"contract_id": contract_id}),) * 2
    out["audit by actor (page)"] = (lambda c: queries.audit(c, org=None, filters={"actor_id": "officer-wang"}),) * 2
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--calls", type=int, default=40)
    args = ap.parse_args()
    db_name = None
    if args.store == "postgres":
        db_name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{db_name}"')
        url = ADMIN.rsplit("/", 1)[0] + "/" + db_name
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    settings = Settings(environment="test", database_url=url, id_hash_key="bench-key")
    ledger = build_ledger(settings)
    engine = make_engine(settings.sqlalchemy_url())
    try:
        migrate(engine)
        runner = ProjectionRunner(ledger, engine, batch_size=1000)
        runner.ensure_positions()
        world, rng = _history(ledger), random.Random(8)
        for size in (int(s) for s in args.sizes.split(",")):
            t0 = time.perf_counter()
            _grow(ledger, world, size, rng)
            runner.run_until_idle()
            if args.store == "postgres":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("SET statement_timeout = 0")  # the engine's limit is for requests
                    c.exec_driver_sql("VACUUM ANALYZE")
            print(f"\n{size} events ({time.perf_counter() - t0:.0f} s to post and project); ms per call, p50 / p99 / client CPU")
            with engine.connect() as conn:
                for name, (new, was) in _reads(world).items():
                    n = _measure(conn, new, args.calls)
                    o = _measure(conn, was, args.calls) if was is not new else None
                    before = f"  before {o[0]:7.1f} / {o[1]:7.1f} / {o[2]:5.1f}" if o else ""
                    print(f"  {name:<38} after {n[0]:7.1f} / {n[1]:7.1f} / {n[2]:5.1f}{before}", flush=True)
    finally:
        ledger.close()
        engine.dispose()
        if db_name:
            with psycopg.connect(ADMIN, autocommit=True) as c:
                c.execute(f'DROP DATABASE "{db_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
