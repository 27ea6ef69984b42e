"""A contract and a fund as they stood at a log position or a time, replayed from the store."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ledger.domain.errors import AsOfPointInvalid, ContractNotFound, NotYetRecorded
from ledger.processes import MilestoneProcess
from tests.integration.helpers import AUDITOR, FINANCE, T_VOLUME, VOLUME_QUANTITY, World, contractor_actor


def _released(world: World) -> tuple[int, datetime, int]:
    """Delivers the volume milestone and releases its tranche; the positions around the release."""
    case_id = world.case()
    for _ in range(VOLUME_QUANTITY):
        world.visit(case_id)
    MilestoneProcess(world.ledger).run_until_idle()
    before = world.ledger.head()
    between = datetime.now(timezone.utc)
    release = world.release(T_VOLUME).position
    return before, between, release


def _tranche(contract: dict, tranche_id: str) -> dict:
    return next(t for t in contract["tranches"] if t["tranche_id"] == tranche_id)


def test_as_of_just_before_a_release_the_tranche_is_unreleased_and_the_fund_paid_less(ledger):
    world = World.build(ledger)
    before, _, release = _released(world)

    then = ledger.contract_as_of(AUDITOR, world.contract_id, position=before)
    assert _tranche(then, T_VOLUME)["status"] == "pending"
    assert then["released"] == 0
    assert then["delivered"] == {"visiting": VOLUME_QUANTITY}
    fund_then = ledger.fund_as_of(AUDITOR, world.fund_id, position=before)
    fund_at_release = ledger.fund_as_of(AUDITOR, world.fund_id, position=release)
    assert fund_at_release["disbursed"] - fund_then["disbursed"] == 2000

    now = ledger.contract_as_of(AUDITOR, world.contract_id, position=release)
    assert _tranche(now, T_VOLUME)["status"] == "released"
    assert now["released"] == 2000


def test_as_of_a_time_gives_what_a_replay_to_that_time_gives(ledger):
    world = World.build(ledger)
    _, between, _ = _released(world)
    assert _tranche(ledger.contract_as_of(FINANCE, world.contract_id, at=between), T_VOLUME)["status"] == "pending"
    assert _tranche(ledger.contract_as_of(FINANCE, world.contract_id, at=datetime.now(timezone.utc)), T_VOLUME)["status"] == "released"


def test_as_of_needs_exactly_one_point_and_a_contract_that_existed_then(ledger):
    world = World.build(ledger)
    with pytest.raises(AsOfPointInvalid):
        ledger.contract_as_of(AUDITOR, world.contract_id)
    with pytest.raises(AsOfPointInvalid):
        ledger.contract_as_of(AUDITOR, world.contract_id, position=1, at=datetime.now(timezone.utc))
    with pytest.raises(NotYetRecorded):
        ledger.contract_as_of(AUDITOR, world.contract_id, position=1)


def test_another_contractor_cannot_see_a_contract_as_of_any_point(ledger):
    world = World.build(ledger)
    with pytest.raises(ContractNotFound):
        ledger.contract_as_of(contractor_actor("someone-else"), world.contract_id, position=ledger.head())
