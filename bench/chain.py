"""Hash-chain speed beside a plain sequential read of the log: prints events per second for
reading the log, chaining it, verifying it (service) and checking its export (standalone).
Not a test: it measures. Goal: verification at 50,000 events/s or more.

    .venv/bin/python bench/chain.py [--store sqlite|postgres] [--events 100000]

It writes its own log of stored events (a visit-sized state each) straight through the
library's recorder, into a temporary SQLite file or a PostgreSQL database of its own on
127.0.0.1:5432 that it drops afterwards.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from eventsourcing.persistence import StoredEvent

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ledger.bootstrap import build_ledger  # noqa: E402
from ledger.settings import Settings  # noqa: E402
from projections.chain.audit import TamperEvidence  # noqa: E402
from projections.store import make_engine, migrate  # noqa: E402
from tests.integration.tampering import standalone_verifier  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
TOPIC = "ledger.domain.visits:Visit.Posted"
STATE = b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-23T01:00:00.000000+00:00"},' + b'"x":"' + b"v" * 320 + b'"}'


@contextmanager
def store(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(label: str, events: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    print(f"{label:<38} {events / seconds:>12,.0f} events/s  ({seconds:.2f} s)")
    return events / seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--events", type=int, default=100_000)
    args = ap.parse_args()
    with store(args.store) as url, tempfile.TemporaryDirectory() as keys:
        settings = Settings(environment="test", database_url=url, id_hash_key="bench", signing_key_path=Path(keys) / "k.key")
        ledger = build_ledger(settings)
        engine = make_engine(settings.sqlalchemy_url())
        try:
            print(f"writing {args.events:,} stored events ({len(STATE)} bytes of state each) to {args.store} …", file=sys.stderr)
            for start in range(0, args.events, 5000):
                batch = [StoredEvent(uuid.uuid4(), 1, TOPIC, STATE) for _ in range(min(5000, args.events - start))]
                ledger.recorder.insert_events(batch)
            migrate(engine)
            chain = TamperEvidence(ledger, engine, settings.signing_key_file())
            chain.prepare()

            def read_all() -> None:
                last = None
                while batch := ledger.recorder.select_notifications(start=last, limit=5000, inclusive_of_start=last is None):
                    last = batch[-1].id

            timed("plain sequential read of the log", args.events, read_all)
            timed("chaining (the keeper)", args.events, chain.keeper.catch_up)
            report = None

            def verify() -> None:
                nonlocal report
                report = chain.verify(chain.checkpoint())

            rate = timed("verification (service)", args.events, verify)
            if report is None or not report.intact or report.events_verified != args.events:
                raise SystemExit(f"verification did not pass: {report}")
            out = io.StringIO()
            timed("export (JSON Lines)", args.events, lambda: chain.export(out))
            lines = out.getvalue().splitlines()
            checkpoint = chain.checkpoint().as_dict()
            timed("standalone verifier on the export", args.events, lambda: standalone_verifier().verify(lines, checkpoint))
            print(f"goal 50,000 events/s for verification: {'met' if rate >= 50_000 else 'NOT met'}")
        finally:
            engine.dispose()
            ledger.close()


if __name__ == "__main__":
    main()
