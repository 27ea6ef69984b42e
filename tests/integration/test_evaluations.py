"""Evaluations through the application: the panel rule and the contractor's one appeal."""

from __future__ import annotations

import pytest

from ledger.domain.errors import AppealAlreadyResolved, Forbidden, PanelRuleBroken
from tests.integration.helpers import AUDITOR, EVALUATOR, FINANCE, PANEL, PURCHASER, World

ACCOUNTANT = {"name": "Accountant Sun", "accountant_title": "senior"}


@pytest.fixture
def world(ledger):
    return World.build(ledger)


class TestOpenEvaluation:
    @pytest.mark.parametrize(
        "panel",
        [
            pytest.param([ACCOUNTANT, {"name": "B"}], id="even"),
            pytest.param([ACCOUNTANT, {"name": "B"}, {"name": "C"}, {"name": "D"}], id="even-of-four"),
            pytest.param([ACCOUNTANT], id="fewer-than-three"),
            pytest.param([{"name": "A"}, {"name": "B"}, {"name": "C"}], id="no-accountant"),
            pytest.param([{"name": "A", "accountant_title": "junior"}, {"name": "B"}, {"name": "C"}], id="junior-accountant"),
        ],
    )
    def test_a_panel_that_breaks_the_rule_is_refused(self, world, ledger, panel):
        head = ledger.head()
        with pytest.raises(PanelRuleBroken):
            ledger.open_evaluation(PURCHASER, contract_id=world.contract_id, stage="mid_term", panel=panel)
        assert ledger.head() == head

    def test_a_third_party_may_evaluate_instead_of_a_panel(self, world, ledger):
        evaluation_id = ledger.open_evaluation(PURCHASER, contract_id=world.contract_id, stage="mid_term", panel=[], third_party="Social Work Evaluation Institute").ids["evaluation_id"]
        assert ledger.get_evaluation(AUDITOR, evaluation_id)["third_party"] == "Social Work Evaluation Institute"

    def test_a_valid_panel_is_recorded(self, world, ledger):
        evaluation_id = world.evaluation("mid_term", score=None, panel=PANEL)
        assert len(ledger.get_evaluation(AUDITOR, evaluation_id)["panel"]) == 3


class TestAppealEvaluation:
    def test_an_appeal_after_its_resolution_is_refused(self, world, ledger):
        evaluation_id = world.evaluation("final", 70)
        ledger.appeal_evaluation(world.contractor, evaluation_id, "scores too low")
        ledger.resolve_appeal(PURCHASER, evaluation_id, upheld=False, revised_scores=None, note="dismissed")
        head = ledger.head()
        with pytest.raises(AppealAlreadyResolved):
            ledger.appeal_evaluation(world.contractor, evaluation_id, "still too low")
        assert ledger.head() == head

    @pytest.mark.parametrize("who", ["purchaser", "finance", "auditor", "evaluator"])
    def test_only_the_contractor_appeals(self, world, ledger, who):
        evaluation_id = world.evaluation("final", 70)
        actor = {"purchaser": PURCHASER, "finance": FINANCE, "auditor": AUDITOR, "evaluator": EVALUATOR}[who]
        head = ledger.head()
        with pytest.raises(Forbidden):
            ledger.appeal_evaluation(actor, evaluation_id, "on their behalf")
        assert ledger.head() == head

    def test_only_the_purchaser_resolves_an_appeal(self, world, ledger):
        evaluation_id = world.evaluation("final", 70)
        ledger.appeal_evaluation(world.contractor, evaluation_id, "scores too low")
        with pytest.raises(Forbidden):
            ledger.resolve_appeal(world.contractor, evaluation_id, upheld=True, revised_scores={"administration": 100}, note="")
