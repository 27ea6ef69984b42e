"""Releasing payment tranches: milestones first, once only, by finance only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.errors import AppealPending, Forbidden, MilestoneNotFulfilled, TrancheAlreadyReleased, TrancheClosed
from ledger.processes import MilestoneProcess
from tests.integration.helpers import (
    AUDITOR,
    EVALUATOR,
    FINANCE,
    MID_TERM,
    PURCHASER,
    T_MID_TERM,
    T_VOLUME,
    VOLUME_QUANTITY,
    World,
)


@pytest.fixture
def world(ledger):
    return World.build(ledger)


def deliver_volume(world: World) -> None:
    case_id = world.case()
    for _ in range(VOLUME_QUANTITY):
        world.visit(case_id)
    MilestoneProcess(world.ledger).run_until_idle()


class TestReleaseTranche:
    def test_a_tranche_cannot_be_released_before_its_milestone(self, world, ledger):
        head = ledger.head()
        with pytest.raises(MilestoneNotFulfilled):
            world.release(T_VOLUME)
        assert ledger.head() == head
        assert world.fund()["disbursed"] == Decimal("0.00")

    def test_a_fulfilled_milestone_releases_its_tranche_from_the_fund(self, world):
        deliver_volume(world)
        world.release(T_VOLUME)
        assert world.tranche(T_VOLUME)["status"] == "released"
        assert world.fund()["disbursements"] == {world.contract_id: Decimal("2000.00")}

    def test_a_tranche_cannot_be_released_twice(self, world, ledger):
        deliver_volume(world)
        world.release(T_VOLUME)
        head = ledger.head()
        with pytest.raises(TrancheAlreadyReleased):
            world.release(T_VOLUME)
        assert ledger.head() == head
        assert world.fund()["disbursed"] == Decimal("2000.00")

    def test_a_withheld_tranche_cannot_be_released(self, world, ledger):
        deliver_volume(world)
        ledger.withhold_tranche(FINANCE, world.contract_id, T_VOLUME, "records missing")
        with pytest.raises(TrancheClosed):
            world.release(T_VOLUME)

    @pytest.mark.parametrize("who", ["purchaser", "contractor", "auditor", "evaluator"])
    def test_only_finance_releases_tranches(self, world, ledger, who):
        deliver_volume(world)
        actor = {"purchaser": PURCHASER, "contractor": world.contractor, "auditor": AUDITOR, "evaluator": EVALUATOR}[who]
        head = ledger.head()
        with pytest.raises(Forbidden):
            world.release(T_VOLUME, actor=actor)
        assert ledger.head() == head
        assert world.tranche(T_VOLUME)["status"] == "pending"


class TestEvaluationLinkedTranches:
    def test_a_passing_evaluation_fulfils_the_milestone_of_its_stage(self, world):
        world.evaluation("final", 85)
        assert world.milestone(MID_TERM)["status"] == "pending"
        world.evaluation("mid_term", 85)
        assert world.milestone(MID_TERM)["status"] == "fulfilled"

    def test_a_failing_evaluation_leaves_the_tranche_unpayable(self, world):
        world.evaluation("mid_term", 40)
        assert world.milestone(MID_TERM)["status"] == "pending"
        with pytest.raises(MilestoneNotFulfilled):
            world.release(T_MID_TERM)

    def test_a_qualified_grade_pays_80_percent_and_records_the_rest_as_withheld(self, world):
        world.evaluation("mid_term", 70)
        world.release(T_MID_TERM)
        tranche = world.tranche(T_MID_TERM)
        assert tranche["released_amount"] == Decimal("800.00")
        assert tranche["withheld_amount"] == Decimal("200.00")
        assert world.contract()["withheld"] == Decimal("200.00")
        assert world.fund()["disbursed"] == Decimal("800.00")

    def test_a_good_grade_pays_the_whole_tranche(self, world):
        world.evaluation("mid_term", 85)
        world.release(T_MID_TERM)
        assert world.tranche(T_MID_TERM)["released_amount"] == Decimal("1000.00")

    def test_a_tranche_waits_while_its_evaluation_is_under_appeal(self, world, ledger):
        evaluation_id = world.evaluation("mid_term", 70)
        ledger.appeal_evaluation(world.contractor, evaluation_id, "scores too low")
        with pytest.raises(AppealPending):
            world.release(T_MID_TERM)
        ledger.resolve_appeal(
            PURCHASER,
            evaluation_id,
            upheld=True,
            revised_scores={k: 90 for k in ("administration", "record_keeping", "progress", "quality_system", "risk", "implementation", "effectiveness", "satisfaction", "social_benefit")},
            note="upheld",
        )
        world.release(T_MID_TERM)
        assert world.tranche(T_MID_TERM)["released_amount"] == Decimal("1000.00")
