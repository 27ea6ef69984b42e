"""A command's rules are checked against the versions it read, again under the store's lock:
a change committed between the load and the save makes the command retry on fresh state, so a
suspended contractor never has a visit recorded after its suspension, cached copies or not."""

from __future__ import annotations

import pytest

from ledger.application import Ledger
from ledger.domain.errors import ContractorSuspended
from tests.integration.helpers import PURCHASER, World


def _ledger(settings, **env: str) -> Ledger:
    return Ledger({**settings.eventstore_env(), **env}, policy=settings.policy(), id_hash_key=settings.id_hash_key.encode())


class SuspendsBeforeItsFirstSave(Ledger):
    """The ledger as it is, with another writer's suspension landing between a command's loads
    and its save, once."""

    name = "Ledger"  # the same application, so the same tables
    other: Ledger
    contractor_id: str
    saves = 0

    def _record(self, processing_event):  # type: ignore[no-untyped-def]
        # Where every save reaches the store (the bulk path saves its collected events without
        # going through Application.save).
        self.saves += 1
        if self.saves == 1:
            self.other.suspend_contractor(PURCHASER, self.contractor_id, "suspended while the visit was being checked")
        return super()._record(processing_event)


@pytest.fixture
def world(ledger):
    return World.build(ledger)


def test_a_suspension_committed_between_the_load_and_the_save_makes_the_visit_retry_and_be_refused(world, settings):
    case_id = world.case()
    racing = SuspendsBeforeItsFirstSave({**settings.eventstore_env()}, policy=settings.policy(), id_hash_key=settings.id_hash_key.encode())
    racing.other, racing.contractor_id = world.ledger, world.org.contractor_id
    try:
        head = world.ledger.head()
        with pytest.raises(ContractorSuspended):
            racing.record_visit(world.contractor, case_id=case_id, worker_id=world.worker, service_code="visiting", started_at=_recent()[0], ended_at=_recent()[1])
        assert racing.saves == 1  # the save was refused; the retry's checks, on fresh state, refused the visit
        assert world.ledger.head() == head + 1  # the suspension only
    finally:
        racing.close()


def test_a_cached_contractor_suspended_by_another_process_refuses_the_next_visit_before_the_cache_catches_up(world, settings):
    case_id = world.case()
    slow_to_follow = _ledger(settings, AGGREGATE_CACHE_REFRESH_SECONDS="3600")
    try:
        visit = dict(case_id=case_id, worker_id=world.worker, service_code="visiting", started_at=_recent()[0], ended_at=_recent()[1])
        slow_to_follow.record_visit(world.contractor, **visit)
        slow_to_follow.record_visit(world.contractor, **visit)  # the contractor now comes from the cache
        assert slow_to_follow.cache.hits > 0
        world.ledger.suspend_contractor(PURCHASER, world.org.contractor_id, "suspended elsewhere")
        head = world.ledger.head()
        with pytest.raises(ContractorSuspended):
            slow_to_follow.record_visit(world.contractor, **visit)
        assert world.ledger.head() == head
    finally:
        slow_to_follow.close()


def _recent():
    from tests.integration.helpers import recent

    return recent()


def test_a_suspension_committed_between_a_batchs_checks_and_its_save_refuses_every_visit_of_the_batch(world, settings):
    from ledger.bulk_visits import REFUSED, VisitDraft

    cases = [world.case() for _ in range(3)]
    racing = SuspendsBeforeItsFirstSave({**settings.eventstore_env()}, policy=settings.policy(), id_hash_key=settings.id_hash_key.encode())
    racing.other, racing.contractor_id = world.ledger, world.org.contractor_id
    started, ended = _recent()
    drafts = [VisitDraft(f"sync-{n}", case_id, world.worker, "visiting", started, ended) for n, case_id in enumerate(cases)]
    try:
        head = world.ledger.head()
        results = racing.record_visits(world.contractor, drafts)
        assert [(r.status, r.error) for r in results] == [(REFUSED, "ContractorSuspended")] * 3
        assert racing.saves == 1  # the batch's save was refused; its checks again, on fresh state, refused every visit
        assert world.ledger.head() == head + 1  # the suspension only
    finally:
        racing.close()
