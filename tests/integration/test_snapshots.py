"""Long-lived streams are loaded from snapshots; a snapshot must restore exactly the state that
replaying every event gives, or history would read differently from the record."""

from __future__ import annotations

import uuid
from decimal import Decimal

from ledger.processes import MilestoneProcess
from tests.integration.helpers import FINANCE, PURCHASER, T_VOLUME, World


def replayed(ledger, aggregate_id: uuid.UUID):
    aggregate = None
    for event in ledger.events.get(aggregate_id):
        aggregate = event.mutate(aggregate)
    return aggregate


def loaded_from_snapshot(ledger, aggregate_id: str):
    aggregate_id = uuid.UUID(aggregate_id)
    assert list(ledger.snapshots.get(aggregate_id)), "a snapshot was taken"
    return ledger.repository.get(aggregate_id)


def test_a_contractor_loaded_from_a_snapshot_equals_its_replayed_events(ledger):
    world = World.build(ledger, workers=1)
    for i in range(55):
        ledger.enrol_worker(world.contractor, world.org.contractor_id, name=f"Carer {i}", qualification="carer")
    world.case()
    ledger.debar_contractor(PURCHASER, world.org.contractor_id, "fraud")
    loaded = loaded_from_snapshot(ledger, world.org.contractor_id)
    assert loaded.as_dict() == replayed(ledger, loaded.id).as_dict()
    assert loaded.is_debarred() and len(loaded.caseload) == 1


def test_a_contract_loaded_from_a_snapshot_equals_its_replayed_events(ledger):
    world = World.build(ledger)
    for _ in range(55):
        ledger.reduce_tranche(FINANCE, world.contract_id, T_VOLUME, Decimal("1.00"), "late report")
    case_id = world.case()
    for _ in range(3):
        world.visit(case_id)
    MilestoneProcess(ledger).run_until_idle()
    world.evaluation("mid_term", 70)
    world.release(T_VOLUME)
    loaded = loaded_from_snapshot(ledger, world.contract_id)
    assert loaded.as_dict() == replayed(ledger, loaded.id).as_dict()
    assert world.tranche(T_VOLUME)["released_amount"] == Decimal("1945.00")
