"""The PostgreSQL store's insert of many events at once (the bulk path's saves of 500 visits), with
and without group commit: the events' positions follow their order, a stale read set and a
version the log already has each refuse the whole save, and a refused save leaves no row."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import IntegrityError, RecordConflictError
from eventsourcing.postgres import PostgresApplicationRecorder

from ledger.application import Ledger
from ledger.domain.actors import Actor
from ledger.domain.records import ApiToken
from ledger.settings import Settings
from stores.group_commit import Item
from stores.postgres import ReadSetChanged

pytestmark = pytest.mark.postgres_only

BY = Actor(actor_id="cli", role="system", correlation_id="corr-test")
MANY = 1200


@pytest.fixture(params=["group commit", "alone"])
def ledger(request, postgres_url):
    settings = Settings(environment="test", database_url=postgres_url, id_hash_key="test-id-hash-key")
    app = Ledger(settings.eventstore_env(), policy=settings.policy(), id_hash_key=b"k")
    if request.param == "alone":
        app.recorder.group = None
    try:
        yield app
    finally:
        app.close()


def _tokens(ledger: Ledger, n: int) -> tuple[list[ApiToken], list]:
    tokens = [ApiToken(digest=uuid.uuid4().hex, subject="s", role="purchaser", organisation_id=None, by=BY) for _ in range(n)]
    for token in tokens[::3]:
        token.revoke(BY)  # some streams of two events, so versions vary within the save
    return tokens, [ledger.mapper.to_stored_event(e) for token in tokens for e in token.collect_events()]


def test_a_large_save_gets_consecutive_positions_in_the_order_of_its_events(ledger):
    tokens, stored = _tokens(ledger, MANY)
    head = ledger.head()
    positions = ledger.recorder.insert_events(stored)
    assert positions == list(range(head + 1, head + 1 + len(stored)))
    logged = ledger.recorder.select_notifications(head + 1, len(stored) + 10)
    assert [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in logged] == [
        (p, e.originator_id, e.originator_version, e.topic, e.state) for p, e in zip(positions, stored, strict=True)
    ]
    assert ledger.repository.get(tokens[0].id).revoked


def test_a_large_save_whose_read_set_changed_is_refused_and_writes_nothing(ledger):
    read = ApiToken(digest=uuid.uuid4().hex, subject="s", role="purchaser", organisation_id=None, by=BY)
    ledger.save(read)
    read_version = read.version
    read.revoke(BY)
    ledger.save(read)  # a command that read version 1 read a stale copy
    _, stored = _tokens(ledger, MANY)
    head = ledger.head()
    with pytest.raises(ReadSetChanged):
        ledger.recorder.insert_events(stored, read_set=[(read.id, read_version)])
    assert ledger.recorder.select_notifications(head + 1, 10) == []


def test_a_large_save_with_one_event_the_log_already_has_is_refused_and_writes_nothing(ledger):
    _, stored = _tokens(ledger, MANY)
    ledger.recorder.insert_events(stored[700:701])
    head = ledger.head()
    with pytest.raises(RecordConflictError):
        ledger.recorder.insert_events(stored)
    assert ledger.recorder.select_notifications(head + 1, 10) == []


def test_a_batch_of_large_saves_fails_only_the_one_that_meets_a_recorded_event(ledger):
    _, first = _tokens(ledger, 600)
    _, second = _tokens(ledger, 600)
    _, third = _tokens(ledger, 600)
    ledger.recorder.insert_events(second[-1:])
    head = ledger.head()
    batch = [Item(first, []), Item(second, []), Item(third, [])]
    ledger.recorder._write_batch(batch)
    assert isinstance(batch[1].error, IntegrityError)
    assert batch[0].result is not None and batch[2].result is not None
    positions = [*batch[0].result, *batch[2].result]
    assert positions == sorted(positions)
    logged = ledger.recorder.select_notifications(head + 1, 5000)
    assert [(n.id, n.originator_id, n.originator_version) for n in logged] == [(p, e.originator_id, e.originator_version) for p, e in zip(positions, [*first, *third], strict=True)]


def test_reading_the_log_answers_what_the_librarys_own_read_answers(ledger):
    _, stored = _tokens(ledger, 300)
    ledger.recorder.insert_events(stored)
    head = ledger.head()
    revoked_topic = stored[1].topic  # the first token is revoked: its second event
    library = PostgresApplicationRecorder.select_notifications
    for kwargs in [
        dict(start=None, limit=1000),
        dict(start=1, limit=50),
        dict(start=10, limit=50, inclusive_of_start=False),
        dict(start=5, limit=1000, stop=head - 20),
        dict(start=None, limit=1000, stop=30),
        dict(start=1, limit=1000, topics=[revoked_topic]),
        dict(start=3, limit=7, stop=200, topics=(revoked_topic, stored[0].topic), inclusive_of_start=False),
    ]:
        ours = ledger.recorder.select_notifications(**kwargs)
        assert ours == library(ledger.recorder, **kwargs), kwargs
        assert all(isinstance(n.state, bytes) and isinstance(n.originator_id, uuid.UUID) for n in ours)
    assert len(ledger.recorder.select_notifications(start=1, limit=1000, topics=[revoked_topic])) == 100
