"""How fast the projections catch up: fills a store with a varied history (the crash tests'
Stream, posted through the application), then times a plain sequential read of the log and each
projection's catch-up from position 0 into tables of its own. Not a test: it prints figures.

    .venv/bin/python bench/projections_profile.py [--store sqlite|postgres] [--visits 12000] [--keep NAME]

Figures: wall seconds and this process's CPU seconds (the database server's CPU is not in it),
events/s and CPU ms per 1,000 events. With --keep the history is built once into a named SQLite
file (/tmp) or PostgreSQL database and reused by the next run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

import psycopg
from sqlalchemy import MetaData

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ledger.bootstrap import build_ledger  # noqa: E402
from ledger.settings import Settings  # noqa: E402
from projections.runner import NAMES, ProjectionRunner  # noqa: E402
from projections.store import make_engine, migrate  # noqa: E402
from projections.tables import define  # noqa: E402

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def store_url(store: str, name: str) -> tuple[str, bool]:
    """The store's URL, and whether it already holds a history."""
    if store == "sqlite":
        path = Path(f"/tmp/{name}.db")
        return f"sqlite:///{path}", path.exists()
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is not None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{ADMIN.rsplit('/', 1)[0]}/{name}", exists


def fill(ledger, visits: int) -> None:
    from tests.integration.test_projection_crashes import Stream

    stream = Stream.start(ledger, contractors=6, cases_each=12, seed=11)
    done = 0
    while done < visits:
        stream.add(min(500, visits - done))
        done += 500
        print(f"  {done} visits, head {ledger.head()}", file=sys.stderr)


def timed(label: str, events: int, work) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<28} {events:>7} events {wall:7.2f} s {events / wall:8.0f} ev/s   cpu {cpu:6.2f} s = {1e6 * cpu / events:6.0f} ms/1000 ev")


def read_log(ledger, decode: bool) -> None:
    start = 0
    while page := ledger.recorder.select_notifications(start=start, limit=1000, inclusive_of_start=False):
        if decode:
            for n in page:
                ledger.mapper.to_domain_event(n)
        start = page[-1].id


def catch_up(ledger, engine, names: list[str], batch_size: int) -> None:
    md = MetaData()
    tables = define(md, f"__bench{os.getpid()}")  # runs side by side do not share tables
    md.drop_all(engine)
    md.create_all(engine)
    try:
        runner = ProjectionRunner(ledger, engine, tables=tables, names=names, batch_size=batch_size)
        runner.ensure_positions()
        runner.run_until_idle()
        assert runner.progress()[names[0]].stall is None, runner.progress()
    finally:
        md.drop_all(engine)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--visits", type=int, default=12000)
    ap.add_argument("--keep", default="projbench")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--only", default="", help="comma-separated: read,each,all")
    ap.add_argument("--names", default=",".join(NAMES), help="the projections timed one by one")
    ap.add_argument("--memory", action="store_true", help="peak Python memory of the all-together catch-up")
    args = ap.parse_args()
    url, exists = store_url(args.store, args.keep)
    settings = Settings(environment="test", database_url=url, id_hash_key="bench-id-hash-key")
    ledger = build_ledger(settings)
    if not exists:
        fill(ledger, args.visits)
    engine = make_engine(settings.sqlalchemy_url())
    migrate(engine)
    head = ledger.head()
    batch = args.batch_size or ProjectionRunner.__init__.__kwdefaults__["batch_size"]
    only = set(args.only.split(",")) if args.only else {"read", "each", "all"}
    print(f"store {args.store}, {head} events, batch_size {batch}")
    if "read" in only:
        timed("read log, no decoding", head, lambda: read_log(ledger, False))
        timed("read log, decoding", head, lambda: read_log(ledger, True))
    if "each" in only:
        for name in args.names.split(","):
            timed(f"catch-up {name}", head, lambda: catch_up(ledger, engine, [name], batch))
    if "all" in only:
        if args.memory:
            tracemalloc.start()
        timed(f"catch-up together: {args.names}", head, lambda: catch_up(ledger, engine, args.names.split(","), batch))
        if args.memory:
            print(f"peak traced memory {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB")
    engine.dispose()
    ledger.close()


if __name__ == "__main__":
    main()
