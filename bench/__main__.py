"""The benchmark suite: `python -m bench all --store postgres|sqlite`, or one part of it.

    single       single visits over HTTP, 8 and 32 connections, beside the bare app (empty store)
    bulk         POST /visits/batch beside plain batched INSERTs (empty store)
    history      write a realistic history of --events events (into --url, kept, if given)
    projections  history, then projection catch-up, follower, chain and rebuilds beside a plain read
    reads        history and catch-up, then p50/p99 of the main read endpoints (8 connections)
    all          every part, then single visits again at --events stored events

Each figure is printed beside its baseline measured in the same run, the target and PASS/MISS;
everything goes to bench/results/<store>-<timestamp>.json as well. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any

from bench.common import Store, own_store, peak_rss_mb
from bench.report import Figure, Report, at_least, at_most, both


def _history(store: Store, events: int) -> tuple[Any, dict[str, Any]]:
    from bench.history import generate
    from ledger.bootstrap import build_ledger

    ledger = build_ledger(store.settings())
    try:
        last = [time.perf_counter(), 0]

        def progress(done: int) -> None:
            if time.perf_counter() - last[0] > 10:
                print(f"  … {done:,} visit events written", file=sys.stderr, flush=True)
                last[0] = time.perf_counter()

        print(f"writing a history of {events:,} events …", file=sys.stderr, flush=True)
        result = generate(ledger, events, progress=progress)
    finally:
        ledger.close()
    world = result.pop("world")
    return world, result


def history_figures(report: Report, h: dict[str, Any]) -> None:
    report.details["history"] = h
    report.add(
        Figure(
            "history: events written", h["events"], "events", note=f"{h['contractors']} contractors, {h['workers']} workers, {h['beneficiaries']} beneficiaries, {h['accepted_cases']} accepted cases"
        )
    )
    report.add(Figure("history: setup through Ledger commands", h["setup_events"] / h["setup_seconds"] if h["setup_seconds"] else None, "events/s"))
    report.add(Figure("history: visits, many per save", h["visit_events_per_second"], "events/s"))


def single_figures(report: Report, s: dict[str, Any], connections: tuple[int, ...], label: str = "") -> None:
    report.details[f"single{label}"] = s
    m = s["medians"]
    for c in connections:
        led, bare = m.get(f"ledger@{c}"), m.get(f"bare@{c}")
        rate_target = "≥0.5x bare and ≥1,000/s"
        report.add(
            Figure(
                f"single visits{label} @{c} conns",
                led["rate"],
                "visits/s",
                bare["rate"] if bare else None,
                "bare app",
                rate_target,
                both(at_least(led["rate"] / bare["rate"] if bare else None, 0.5), at_least(led["rate"], 1000)),
            )
        )
        report.add(Figure(f"single visits{label} @{c} p50", led["p50_ms"], "ms", bare["p50_ms"] if bare else None, "bare app"))
        report.add(
            Figure(
                f"single visits{label} @{c} p99",
                led["p99_ms"],
                "ms",
                bare["p99_ms"] if bare else None,
                "bare app",
                "≤100 ms at 32 conns" if c == 32 else "",
                at_most(led["p99_ms"], 100) if c == 32 else None,
            )
        )
        report.add(Figure(f"single visits{label} @{c} server CPU/req", led["server_cpu_ms"], "ms", bare["server_cpu_ms"] if bare else None, "bare app"))
        if led["postgres_cpu_ms"] is not None:
            report.add(Figure(f"single visits{label} @{c} PostgreSQL CPU/req", led["postgres_cpu_ms"], "ms", bare["postgres_cpu_ms"] if bare else None, "bare app"))
        if led.get("workers_cpu_ms") is not None:
            report.add(Figure(f"single visits{label} @{c} workers CPU/req", led["workers_cpu_ms"], "ms", note="projections worker + follower"))
        report.add(Figure(f"single visits{label} @{c} client CPU/req", led["client_cpu_ms"], "ms", note="the load generator's own cost"))
        if led["errors"]:
            report.add(Figure(f"single visits{label} @{c} errors", led["errors"], "responses ≥400", target="0", passed=False))
    if s.get("lag_after_burst_s") is not None or label == "":
        report.add(Figure(f"projection lag after the burst{label}", s.get("lag_after_burst_s"), "s", target="≤2 s", passed=at_most(s.get("lag_after_burst_s"), 2.0), note="not caught up in 120 s"))
    rss = s["peak_rss_mb"]
    report.add(Figure(f"API process peak RSS{label}", rss.get("ledger"), "MB", rss.get("bare"), "bare app", "≤300 MB", at_most(rss.get("ledger"), 300)))
    for name, mb in rss.items():
        if name not in ("ledger", "bare"):
            report.add(Figure(f"{name} peak RSS{label}", mb, "MB"))
    if s.get("postgres_backend_peak_rss_mb"):
        report.add(Figure(f"PostgreSQL backend peak RSS{label}", s["postgres_backend_peak_rss_mb"], "MB"))


def bulk_figures(report: Report, b: dict[str, Any]) -> None:
    report.details["bulk"] = b
    base = b.get("copy_rows_per_s") or b.get("executemany_rows_per_s")
    base_name = "COPY 1,000 rows" if b.get("copy_rows_per_s") else "executemany 1,000 rows"
    if not b["available"]:
        report.add(Figure("bulk visits (POST /visits/batch)", None, "visits/s", base, base_name, "≥10,000/s", None, "n/a (endpoint missing)"))
    else:
        report.add(Figure("bulk visits (POST /visits/batch)", b["visits_per_s"], "visits/s", base, base_name, "≥10,000/s", at_least(b["visits_per_s"], 10_000)))
        report.add(Figure("bulk visits server CPU/visit", b["server_cpu_ms_per_visit"], "ms"))
        if b.get("postgres_cpu_ms_per_visit") is not None:
            report.add(Figure("bulk visits PostgreSQL CPU/visit", b["postgres_cpu_ms_per_visit"], "ms"))
        if b["http_errors"]:
            report.add(Figure("bulk visits errors", b["http_errors"], "responses ≥400", target="0", passed=False, note=b["first_error_bodies"][0][:200] if b["first_error_bodies"] else ""))
            print(f"  first bulk error: {b['first_error_bodies'][:1]}", file=sys.stderr)
        if b["items"]["refused"]:
            report.add(Figure("bulk visits refused", b["items"]["refused"], "items", target="0", passed=False, note=str(b["first_refusals"][:1])))
    report.add(Figure("plain batched INSERT (executemany)", b["executemany_rows_per_s"], "rows/s"))
    if b.get("copy_rows_per_s"):
        report.add(Figure("plain batched INSERT (COPY)", b["copy_rows_per_s"], "rows/s"))


def projection_figures(report: Report, p: dict[str, Any]) -> None:
    report.details["projections"] = p
    raw, decoded = p["plain_read_events_per_s"], p["plain_read_decoded_events_per_s"]
    report.add(Figure("plain sequential read of the log", raw, "events/s"))
    report.add(Figure("plain sequential read, decoded", decoded, "events/s"))
    groups = p.get("catch_up_worker_groups")
    where = f", {len(groups)} worker processes" if groups else ""
    report.add(
        Figure(f"projection catch-up ({p['catch_up_events']:,} events{where})", p["catch_up_events_per_s"], "events/s", decoded, "read+decode", "≥5,000/s", at_least(p["catch_up_events_per_s"], 5000))
    )
    if p.get("catch_up_cpu_ms_per_event") is not None:
        report.add(Figure("projection catch-up CPU/event" + (" (workers)" if groups else ""), p["catch_up_cpu_ms_per_event"], "ms"))
    if p.get("catch_up_postgres_cpu_ms_per_event") is not None:
        report.add(Figure("projection catch-up PostgreSQL CPU/event", p["catch_up_postgres_cpu_ms_per_event"], "ms"))
    report.add(Figure("milestone follower catch-up", p["follower_events_per_s"], "events/s", decoded, "read+decode"))
    report.add(Figure("hash chain catch-up", p["chain_events_per_s"], "events/s", raw, "plain read"))
    for name, rate in p["rebuild_events_per_s"].items():
        report.add(Figure(f"full rebuild: {name}", rate, "events/s", decoded, "read+decode", "≥5,000/s", at_least(rate, 5000)))


def read_figures(report: Report, r: dict[str, Any], events: int) -> None:
    report.details["reads"] = r
    eps = r["endpoints"]
    base = eps.get("health/live (baseline)", {})
    for name, e in eps.items():
        if name.startswith("health"):
            continue
        note = "" if not e["errors"] else f"{e['errors']} errors: {e['statuses']}"
        report.add(Figure(f"read p50: {name}", e["p50_ms"], "ms", base.get("p50_ms"), "health/live", note=note))
        report.add(Figure(f"read p99: {name}", e["p99_ms"], "ms", base.get("p99_ms"), "health/live", f"≤50 ms at {events:,} events", both(at_most(e["p99_ms"], 50), e["errors"] == 0)))
        report.add(Figure(f"read server CPU/req: {name}", e["server_cpu_ms_per_request"], "ms", base.get("server_cpu_ms_per_request"), "health/live"))
    report.add(Figure("API process peak RSS (reads)", r["peak_rss_mb"], "MB", target="≤300 MB", passed=at_most(r["peak_rss_mb"], 300)))


def _auditor(store: Store) -> str:
    from bench.common import token

    return token(store, "auditor", "audit-bureau", "bench-auditor")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["all", "single", "bulk", "history", "projections", "reads"])
    ap.add_argument("--store", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--url", help="use this existing store (kept) instead of a new one; history, projections, reads")
    ap.add_argument("--events", type=int, default=1_000_000, help="size of the stored history (default 1,000,000)")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each single-visit run")
    ap.add_argument("--rounds", type=int, default=3, help="runs per server and connection count (medians)")
    ap.add_argument("--connections", default="8,32", help="connection counts for single visits")
    ap.add_argument("--batches", type=int, default=10, help="bulk: batches of 1,000 per round")
    ap.add_argument("--read-requests", type=int, default=200, help="reads: requests per endpoint")
    ap.add_argument(
        "--catch-up-workers",
        default="",
        metavar="GROUPS",
        help="projections: catch up in one `ledger projections run` process per group, groups split by ';' (a,b;c,d); default: in the bench process",
    )
    ap.add_argument("--rebuild", default="auto", help="projections to rebuild: all, none, or names (a,b); auto: all up to 200k events, else caseload")
    ap.add_argument("--separate-workers", action="store_true", help="single: the API with its loops off beside `ledger projections run` and `ledger follow` (deploy branch; PostgreSQL)")
    ap.add_argument("--no-save", action="store_true", help="do not write the JSON file")
    args = ap.parse_args(argv)
    # SIGTERM ends the run through the finally blocks: servers stopped, the bench database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    connections = tuple(int(c) for c in args.connections.split(","))
    report = Report(args.store)
    report.details["args"] = vars(args)
    report.details["load_average_at_start"] = os.getloadavg()
    started = time.perf_counter()

    def rebuild_names(events: int) -> list[str] | None:
        if args.rebuild == "auto":
            return None if events <= 200_000 else ["caseload"]
        return None if args.rebuild == "all" else [] if args.rebuild == "none" else args.rebuild.split(",")

    from bench import bulk, projections, reads, single
    from bench.common import separate_workers_available

    separate = args.separate_workers
    if separate and not separate_workers_available():
        report.add(Figure("separate workers", None, "", note="n/a (`ledger follow`/`ledger migrate` missing): embedded set-up measured"))
        separate = False

    if args.command in ("single", "bulk", "all"):
        with own_store(args.store) as store:
            target = single.prepare(store)
            if args.command in ("single", "all"):
                single_figures(report, single.interleaved(store, target, connections=connections, rounds=args.rounds, seconds=args.seconds, separate=separate), connections)
            if args.command in ("bulk", "all"):
                # SQLite has one writer: two batches at once make the second wait out the lock timeout.
                bulk_figures(report, bulk.run(store, target, rounds=args.rounds, batches=args.batches, connections=2 if args.store == "postgres" else 1))
    if args.command in ("history", "projections", "reads", "all"):
        with own_store(args.store, args.url) as store:
            world = None
            if not args.url or args.command == "history":
                world, h = _history(store, args.events)
                history_figures(report, h)
            if args.command in ("projections", "reads", "all"):
                groups = [g.split(",") for g in args.catch_up_workers.split(";") if g] or None
                p = projections.run(store, rebuild=rebuild_names(args.events) if args.command != "reads" else [], worker_groups=groups)
                projection_figures(report, p)
            if args.command in ("reads", "all"):
                read_figures(report, reads.run(store, _auditor(store), requests=args.read_requests), args.events)
            if args.command == "all":
                # Ingest with the history stored, beside the empty store's figure from above.
                target = single.prepare(store, world) if world is not None else single.stored_target(store)
                big = single.interleaved(store, target, connections=(connections[-1],), rounds=args.rounds, seconds=args.seconds, separate=separate)
                label = f" at {args.events // 1000:,}k events"
                single_figures(report, big, (connections[-1],), label)
                empty = report.details["single"]["medians"][f"ledger@{connections[-1]}"]["rate"]
                full = big["medians"][f"ledger@{connections[-1]}"]["rate"]
                report.add(Figure(f"ingest{label} vs empty store @{connections[-1]}", full, "visits/s", empty, "empty store", "≥0.8x empty", at_least(full / empty if empty else None, 0.8)))
    report.add(Figure("bench process peak RSS", peak_rss_mb(os.getpid()), "MB", note="history and catch-up run in it"))
    report.details["wall_seconds"] = time.perf_counter() - started
    print()
    print(
        f"store={args.store}  {time.perf_counter() - started:.0f} s  load average {report.details['load_average_at_start'][0]:.1f} at start, {os.getloadavg()[0]:.1f} at end (2 cores: above 2, rates are noisy; CPU per request holds)"
    )
    print(report.table())
    if not args.no_save:
        print(f"\nresults: {report.save()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
