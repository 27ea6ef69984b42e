"""The aggregate cache follows the log: what another process changes is seen once the cache has
polled, what this process saves is seen at once, a command that fails leaves the cached copy as
it was, a revoked token stops working, and the cache never holds more than its size."""

from __future__ import annotations

import pytest

from ledger.application import Ledger
from ledger.domain.errors import ContractorSuspended, InvalidInput
from tests.integration.helpers import PURCHASER, World


def _ledger(settings, **env: str) -> Ledger:
    return Ledger({**settings.eventstore_env(), **env}, policy=settings.policy(), id_hash_key=settings.id_hash_key.encode())


@pytest.fixture
def world(ledger):
    return World.build(ledger)


@pytest.fixture
def other(settings):
    """A second process on the same store, polling the log on every read."""
    app = _ledger(settings, AGGREGATE_CACHE_REFRESH_SECONDS="0")
    try:
        yield app
    finally:
        app.close()


def test_a_change_made_by_another_process_is_read_once_the_cache_has_followed_the_log(world, other):
    contractor_id = world.org.contractor_id
    assert other.get_contractor(PURCHASER, contractor_id)["suspended"] is False
    assert other.get_contractor(PURCHASER, contractor_id)["suspended"] is False
    assert other.cache.hits >= 1
    world.ledger.suspend_contractor(PURCHASER, contractor_id, "suspended elsewhere")
    assert other.get_contractor(PURCHASER, contractor_id)["suspended"] is True


def test_what_a_process_saves_it_reads_back_at_once(world, settings):
    never_polls = _ledger(settings, AGGREGATE_CACHE_REFRESH_SECONDS="3600")
    try:
        contractor_id = world.org.contractor_id
        never_polls.get_contractor(PURCHASER, contractor_id)
        never_polls.suspend_contractor(PURCHASER, contractor_id, "suspended here")
        assert never_polls.get_contractor(PURCHASER, contractor_id)["suspended"] is True
    finally:
        never_polls.close()


def test_a_command_that_fails_after_changing_its_copy_leaves_the_cached_aggregate_as_it_was(world, ledger):
    contractor_id = world.org.contractor_id
    before = ledger.get_contractor(PURCHASER, contractor_id)
    with pytest.raises(InvalidInput):
        # Mutates its copy (suspends it) and then fails: the attestation list is refused.
        ledger._execute(PURCHASER, None, lambda: _suspend_then_fail(ledger, contractor_id))
    assert ledger.get_contractor(PURCHASER, contractor_id) == before


def _suspend_then_fail(ledger: Ledger, contractor_id: str):  # type: ignore[no-untyped-def]
    contractor = ledger._contractor_for_change(PURCHASER, contractor_id)
    contractor.suspend("a suspension that is never saved", PURCHASER)
    raise InvalidInput("and then the command fails")


def test_a_token_revoked_by_another_process_stops_working(ledger, other):
    issued = ledger.issue_token("purchaser", "civil-affairs-bureau", "officer-wang")
    assert other.authenticate(issued.token, "corr") is not None
    assert other.authenticate(issued.token, "corr") is not None
    ledger.revoke_token(issued.token_id)
    assert other.authenticate(issued.token, "corr") is None


def test_the_cache_holds_no_more_aggregates_than_its_size(world, settings):
    small = _ledger(settings, AGGREGATE_CACHE_SIZE="3")
    try:
        for _ in range(6):
            small.get_case(PURCHASER, world.case())
        assert len(small.cache) == 3
    finally:
        small.close()


def test_a_visit_from_cached_aggregates_is_refused_once_the_contractor_is_suspended(world, ledger):
    case_id = world.case()
    world.visit(case_id)
    world.visit(case_id)
    assert ledger.cache.hits > 0
    ledger.suspend_contractor(PURCHASER, world.org.contractor_id, "suspended")
    with pytest.raises(ContractorSuspended):
        world.visit(case_id)
