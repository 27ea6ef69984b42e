"""Group commit on PostgreSQL: saves that arrive while a batch commits go together in the next
one, and each gets its own answer; one item's conflict (a version the log already has, an
earlier item's version, a read set that changed) fails that item alone."""

from __future__ import annotations

import threading
import uuid

import pytest
from eventsourcing.persistence import IntegrityError

from ledger.application import Ledger
from ledger.domain.actors import Actor
from ledger.domain.records import ApiToken
from ledger.settings import Settings
from stores.group_commit import GroupCommit, Item
from stores.postgres import ReadSetChanged

pytestmark = pytest.mark.postgres_only

BY = Actor(actor_id="cli", role="system", correlation_id="corr-test")


@pytest.fixture
def ledger(postgres_url):
    settings = Settings(environment="test", database_url=postgres_url, id_hash_key="test-id-hash-key")
    app = Ledger(settings.eventstore_env(), policy=settings.policy(), id_hash_key=b"k")
    try:
        yield app
    finally:
        app.close()


def _token(ledger: Ledger, revoked: bool = False) -> tuple[ApiToken, list]:
    token = ApiToken(digest=uuid.uuid4().hex, subject="s", role="purchaser", organisation_id=None, by=BY)
    if revoked:
        token.revoke(BY)
    return token, [ledger.mapper.to_stored_event(e) for e in token.collect_events()]


def test_saves_arriving_while_a_batch_commits_are_committed_together_in_the_next_batch():
    first_batch_started, let_it_finish = threading.Event(), threading.Event()
    batches: list[int] = []

    def write(batch: list[Item]) -> None:
        batches.append(len(batch))
        if len(batches) == 1:
            first_batch_started.set()
            let_it_finish.wait(10)
        for n, item in enumerate(batch):
            item.result = [n]

    group = GroupCommit(write)
    answers: list = []
    leader = threading.Thread(target=lambda: answers.append(group.submit(Item(["e"], []))))
    leader.start()
    assert first_batch_started.wait(10)
    followers = [threading.Thread(target=lambda: answers.append(group.submit(Item(["e"], [])))) for _ in range(5)]
    for t in followers:
        t.start()
    while len(group._queue) < 5:
        threading.Event().wait(0.01)
    let_it_finish.set()
    for t in [leader, *followers]:
        t.join(10)
    assert batches == [1, 5]
    assert sorted(a[0] for a in answers) == [0, 0, 1, 2, 3, 4]


def test_one_items_conflict_in_a_batch_fails_that_item_alone(ledger):
    recorder = ledger.recorder
    stored, stored_events = _token(ledger)
    recorder.insert_events(stored_events)  # version 1 of this token is in the log now
    read = ApiToken(digest=uuid.uuid4().hex, subject="s", role="purchaser", organisation_id=None, by=BY)
    ledger.save(read)
    read_version = read.version
    read.revoke(BY)
    ledger.save(read)  # version 2: a command that read version 1 read a stale copy

    fine, fine_events = _token(ledger)
    twin_events = list(fine_events)
    revoked, revoked_events = _token(ledger, revoked=True)
    batch = [
        Item(fine_events, []),  # goes in
        Item(stored_events, []),  # the log already has this version
        Item(twin_events, []),  # an earlier item of the batch writes this version
        Item(revoked_events, [(read.id, read_version)]),  # read a version that is no longer the last
        Item(_token(ledger)[1], [(fine.id, 1)]),  # read what an earlier item of the batch writes
    ]
    head = ledger.head()
    recorder._write_batch(batch)
    assert batch[0].error is None and len(batch[0].result) == 1
    assert isinstance(batch[1].error, IntegrityError)
    assert isinstance(batch[2].error, IntegrityError)
    assert isinstance(batch[3].error, ReadSetChanged)
    assert isinstance(batch[4].error, ReadSetChanged)
    # Only the first item's event is in the log; the refused ones left nothing behind.
    assert [n.originator_id for n in recorder.select_notifications(head + 1, 100)] == [fine.id]
    assert list(ledger.events.get(revoked.id)) == []


def test_concurrent_saves_through_the_group_each_get_their_own_position(ledger):
    tokens = [ApiToken(digest=uuid.uuid4().hex, subject="s", role="purchaser", organisation_id=None, by=BY) for _ in range(20)]
    positions: dict[uuid.UUID, int] = {}
    lock = threading.Lock()

    def save(token: ApiToken) -> None:
        recordings = ledger.save(token)
        with lock:
            positions[token.id] = recordings[0].notification.id

    threads = [threading.Thread(target=save, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(set(positions.values())) == 20
    logged = {n.id: n.originator_id for n in ledger.recorder.select_notifications(1, 100)}
    assert all(logged[p] == token_id for token_id, p in positions.items())
    group = ledger.recorder.group
    assert group is not None and group.items == 20
