"""A suspended or debarred contractor earns nothing: no visits, no new cases, no payment, while
its contract stays active; reinstated, it carries on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.errors import ContractorDebarred, ContractorSuspended
from ledger.processes import MilestoneProcess
from tests.integration.helpers import FINANCE, PURCHASER, T_VOLUME, VOLUME_QUANTITY, World


@pytest.fixture
def world(ledger):
    return World.build(ledger)


def suspend(world: World) -> None:
    world.ledger.suspend_contractor(PURCHASER, world.org.contractor_id, "服务台账造假待查")


def debar(world: World) -> None:
    world.ledger.debar_contractor(PURCHASER, world.org.contractor_id, "虚报服务量")


def refused(world: World, error: type[Exception], command) -> None:
    """The command is refused with the error and nothing is recorded."""
    head = world.ledger.head()
    with pytest.raises(error):
        command()
    assert world.ledger.head() == head


STANDING = [(suspend, ContractorSuspended), (debar, ContractorDebarred)]


class TestVisits:
    @pytest.mark.parametrize(("lose_standing", "error"), STANDING)
    def test_a_contractor_without_good_standing_cannot_post_visits_on_an_active_contract(self, world, lose_standing, error):
        case_id = world.case()
        lose_standing(world)
        assert world.contract()["status"] == "active"
        refused(world, error, lambda: world.visit(case_id))

    def test_a_reinstated_contractor_posts_visits_again(self, world, ledger):
        case_id = world.case()
        suspend(world)
        refused(world, ContractorSuspended, lambda: world.visit(case_id))
        ledger.reinstate_contractor(PURCHASER, world.org.contractor_id)
        assert ledger.get_visit(PURCHASER, world.visit(case_id))["case_id"] == case_id


class TestCases:
    @pytest.mark.parametrize(("lose_standing", "error"), STANDING)
    def test_a_contractor_without_good_standing_cannot_accept_a_case(self, world, ledger, lose_standing, error):
        case_id = world.case(accept=False)
        lose_standing(world)
        refused(world, error, lambda: ledger.accept_case(world.contractor, case_id))
        assert ledger.get_case(PURCHASER, case_id)["status"] == "referred"


class TestPayment:
    def deliver_volume(self, world: World) -> None:
        case_id = world.case()
        for _ in range(VOLUME_QUANTITY):
            world.visit(case_id)
        MilestoneProcess(world.ledger).run_until_idle()

    @pytest.mark.parametrize(("lose_standing", "error"), STANDING)
    def test_finance_cannot_pay_a_contractor_without_good_standing(self, world, lose_standing, error):
        self.deliver_volume(world)
        lose_standing(world)
        refused(world, error, lambda: world.release(T_VOLUME))
        assert world.tranche(T_VOLUME)["status"] == "pending"
        assert world.fund()["disbursed"] == Decimal("0.00")

    def test_a_tranche_held_during_a_suspension_is_paid_after_reinstatement(self, world, ledger):
        self.deliver_volume(world)
        suspend(world)
        refused(world, ContractorSuspended, lambda: world.release(T_VOLUME))
        ledger.reinstate_contractor(PURCHASER, world.org.contractor_id)
        world.release(T_VOLUME)
        assert world.fund()["disbursed"] == Decimal("2000.00")

    def test_a_debarred_contractors_tranche_can_still_be_withheld(self, world, ledger):
        self.deliver_volume(world)
        debar(world)
        ledger.withhold_tranche(FINANCE, world.contract_id, T_VOLUME, "承接主体被列入黑名单")
        assert world.tranche(T_VOLUME)["status"] == "withheld"
        assert world.fund()["disbursed"] == Decimal("0.00")
