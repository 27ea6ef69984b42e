"""The benchmark suite runs and measures something real: a small history that the projections
and the milestone follower take without a stall, and one short round of single visits."""

from __future__ import annotations

from pathlib import Path

from bench import projections as bench_projections
from bench import single
from bench.common import Store, own_store
from bench.history import generate
from ledger.bootstrap import build_ledger, build_milestones
from projections.readside import ReadSide
from projections.store import make_engine


def test_the_history_generator_writes_events_the_projections_and_the_follower_take_whole(store_url: str, tmp_path: Path) -> None:
    store = Store("postgres" if store_url.startswith("postgres") else "sqlite", store_url, tmp_path)
    ledger = build_ledger(store.settings())
    try:
        made = generate(ledger, 700, beneficiaries=20)  # small: the catch-up below is the slow part
        head = ledger.head()
        kinds = {n.topic.rsplit(".", 1)[-1] for n in ledger.recorder.select_notifications(start=None, limit=head)}
    finally:
        ledger.close()
    assert made["events"] == head >= 700
    assert {"Delivered", "Confirmed", "Voided", "Disputed", "Accepted", "CaseTaken"} <= kinds, kinds
    assert made["visit_events"] > 300 and made["setup_events"] > 0
    assert made["accepted_cases"] > 0 and made["workers"] > made["contractors"] >= 2

    figures = bench_projections.run(store, rebuild=[])
    assert figures["catch_up_events"] >= head  # and the milestones the follower recorded
    assert figures["catch_up_events_per_s"] > 0 and figures["plain_read_events_per_s"] > 0

    settings = store.settings()
    ledger = build_ledger(settings)
    engine = make_engine(settings.sqlalchemy_url())
    try:
        progress = ReadSide(ledger, engine).runner.progress()
        assert all(state.stall is None and state.position == ledger.head() for state in progress.values()), progress
        assert build_milestones(ledger).position() >= head - 1  # every visit counted
    finally:
        engine.dispose()
        ledger.close()


def test_the_catch_up_in_worker_processes_brings_every_projection_to_the_head(store_url: str, tmp_path: Path) -> None:
    store = Store("postgres" if store_url.startswith("postgres") else "sqlite", store_url, tmp_path)
    ledger = build_ledger(store.settings())
    try:
        generate(ledger, 300, beneficiaries=10)
    finally:
        ledger.close()

    groups = [["audit", "caseload", "fulfilment"], ["funds", "flags", "trace", "rollups"]]
    figures = bench_projections.run(store, rebuild=[], worker_groups=groups)
    assert figures["catch_up_worker_groups"] == groups and figures["catch_up_events_per_s"] > 0
    assert figures["catch_up_cpu_ms_per_event"] > 0  # the workers' CPU, not the bench process's

    settings = store.settings()
    ledger = build_ledger(settings)
    engine = make_engine(settings.sqlalchemy_url())
    try:
        progress = ReadSide(ledger, engine).runner.progress()
        assert all(state.stall is None and state.position == ledger.head() for state in progress.values()), progress
    finally:
        engine.dispose()
        ledger.close()


def test_one_short_single_visit_round_measures_both_servers_on_sqlite() -> None:
    with own_store("sqlite") as store:
        target = single.prepare(store)
        result = single.interleaved(store, target, connections=(4,), rounds=1, seconds=1.0, warmup=0.2)
    assert {r["server"] for r in result["runs"]} == {"ledger", "bare"}
    for name in ("ledger@4", "bare@4"):
        m = result["medians"][name]
        assert m["requests"] > 0 and m["errors"] == 0, m
        assert m["rate"] > 0 and m["p99_ms"] >= m["p50_ms"] > 0 and m["server_cpu_ms"] > 0
    assert result["lag_after_burst_s"] is not None
    assert result["peak_rss_mb"]["ledger"] > 0 and result["peak_rss_mb"]["bare"] > 0
