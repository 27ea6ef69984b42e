"""Tamper evidence on a real store: rows of the library's events table changed, deleted and
inserted directly in SQL are each found at their own position, by the service's verifier and by
the standalone one (tools/verify_export.py) reading an export; an untouched log verifies."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import func, select, update

from ledger.chain import link_notification
from projections.chain.audit import TamperEvidence
from projections.chain.keeper import ChainKeeper
from projections.chain.signing import Checkpoint
from projections.chain.tables import chain_head, chain_links
from projections.store import make_engine, migrate
from tests.integration.helpers import World
from tests.integration.tampering import COLUMNS, EventsTable, standalone_verifier

VERIFIER = standalone_verifier()


@dataclass
class Log:
    ledger: Any
    chain: TamperEvidence
    events: EventsTable
    checkpoint: Checkpoint

    def standalone(self, checkpoint: Checkpoint | None = None) -> tuple[bool, int | None, str]:
        out = io.StringIO()
        self.chain.export(out)
        return VERIFIER.verify(out.getvalue().splitlines(), (checkpoint or self.checkpoint).as_dict())

    def assert_found(self, position: int, problem: str) -> None:
        report = self.chain.verify(self.checkpoint)
        assert (report.intact, report.first_bad_position, report.problem) == (False, position, problem), report
        intact, found_at, detail = self.standalone()
        assert (intact, found_at) == (False, position) and f"({problem})" in detail, detail


@pytest.fixture
def log(ledger, settings, tmp_path) -> Iterator[Log]:
    """A contract's world with visits, its positions spread apart (2, 4, 6…), chained and
    checkpointed."""
    world = World.build(ledger)
    for _ in range(3):
        world.visit(world.case())
    engine = make_engine(settings.sqlalchemy_url())
    try:
        events = EventsTable(ledger, engine)
        events.spread()
        migrate(engine)
        chain = TamperEvidence(ledger, engine, tmp_path / "signing.key")
        chain.prepare()
        assert chain.keeper.catch_up() == len(events.positions())
        yield Log(ledger, chain, events, chain.checkpoint())
    finally:
        engine.dispose()


def test_an_untouched_log_verifies_against_its_links_its_checkpoint_and_the_standalone_verifier(log):
    positions = log.events.positions()
    report = log.chain.verify(log.checkpoint)
    assert report.intact and report.problem is None
    assert (report.verified_through, report.events_verified) == (positions[-1], len(positions))
    assert report.checkpoint is not None and report.checkpoint.matches and report.checkpoint.signature_valid
    assert report.checkpoint.signed_by_this_deployment
    intact, _, detail = log.standalone()
    assert intact, detail
    assert f"intact up to position {positions[-1]} ({len(positions)} events)" in detail


def test_every_single_row_alteration_is_found_at_its_position_by_both_verifiers(log):
    positions = log.events.positions()
    checked = 0
    for i, position in enumerate(positions):
        column = COLUMNS[i % len(COLUMNS)]  # every column is altered somewhere in the log
        original = log.events.row(position)
        log.events.update(position, column, log.events.altered(original, column))
        log.assert_found(position, "altered")
        log.events.update(position, column, original[column])
        checked += 1
    assert checked == len(positions) > 20
    assert log.chain.verify(log.checkpoint).intact


def test_every_single_row_deletion_is_found_at_its_position_by_both_verifiers(log):
    positions = log.events.positions()
    for position in positions:
        row = log.events.delete(position)
        log.assert_found(position, "deleted")
        log.events.insert(row)
    assert log.chain.verify(log.checkpoint).intact


def test_every_single_row_insertion_between_events_is_found_at_its_position_by_both_verifiers(log):
    positions = log.events.positions()
    template = log.events.row(positions[-1])
    gaps = [p - 1 for p in positions]  # before the first event and between every two
    for position in gaps:
        log.events.insert({**template, "position": position, "originator_id": log.events.new_originator_id()})
        log.assert_found(position, "inserted")
        log.events.delete(position)
    assert len(gaps) == len(positions)
    assert log.chain.verify(log.checkpoint).intact


def test_a_row_appended_after_the_chain_is_not_evidence_of_tampering_but_waits_to_be_chained(log):
    head = log.events.positions()[-1]
    log.events.insert({**log.events.row(head), "position": head + 1, "originator_id": log.events.new_originator_id()})
    report = log.chain.verify(log.checkpoint)
    assert report.intact and report.unchained_events == 1 and report.verified_through == head
    assert log.chain.keeper.catch_up() == 1
    assert log.chain.verify().verified_through == head + 1


def test_links_rewritten_together_with_the_events_are_caught_by_the_checkpoint(log):
    positions = log.events.positions()
    target = positions[len(positions) // 2]
    log.events.update(target, "topic", log.events.altered(log.events.row(target), "topic"))
    _rewrite_chain(log)
    assert log.chain.verify().intact  # the links alone now agree with the forged log
    report = log.chain.verify(log.checkpoint)
    assert (report.intact, report.problem) == (False, "checkpoint_mismatch")
    assert report.checkpoint is not None and report.checkpoint.matches is False
    intact, _, detail = log.standalone()
    assert not intact and "does not match the checkpoint's head hash" in detail

    forged = replace(log.checkpoint, head_hash=_current_head(log).hex())  # a checkpoint edited to fit
    report = log.chain.verify(forged)
    assert (report.intact, report.problem) == (False, "checkpoint_signature")


def test_two_keepers_racing_chain_every_event_exactly_once(ledger, settings, tmp_path):
    world = World.build(ledger)
    engine = make_engine(settings.sqlalchemy_url())
    try:
        migrate(engine)
        keepers = [ChainKeeper(ledger, engine, batch_size=3) for _ in range(2)]
        keepers[0].ensure_head()
        stop = threading.Event()

        def keep(keeper: ChainKeeper) -> None:
            while not stop.is_set():
                if not keeper.run_once():
                    time.sleep(0.01)

        threads = [threading.Thread(target=keep, args=(k,)) for k in keepers]
        for t in threads:
            t.start()
        for _ in range(4):
            world.visit(world.case())
        _wait(lambda: keepers[0].head().position == ledger.head())
        stop.set()
        for t in threads:
            t.join(timeout=10)
        with engine.connect() as conn:
            links = conn.execute(select(func.count()).select_from(chain_links)).scalar_one()
        events = len(ledger.recorder.select_notifications(start=None, limit=10_000))
        assert links == events == keepers[1].head().events
        report = TamperEvidence(ledger, engine, tmp_path / "k.key").verify()
        assert report.intact and report.events_verified == events
    finally:
        engine.dispose()


def _rewrite_chain(log: Log) -> None:
    """What an operator who also controls the read-model database would do after a forgery."""
    current, rows = bytes(32), []
    for n in log.ledger.recorder.select_notifications(start=None, limit=10_000):
        current = link_notification(current, n)
        rows.append((n.id, current))
    with log.chain.engine.begin() as conn:
        for position, hash_ in rows:
            conn.execute(update(chain_links).where(chain_links.c.position == position).values(hash=hash_))
        conn.execute(update(chain_head).values(hash=current))


def _current_head(log: Log) -> bytes:
    with log.chain.engine.connect() as conn:
        return bytes(conn.execute(select(chain_head.c.hash)).scalar_one())


def _wait(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
