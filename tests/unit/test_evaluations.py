"""Evaluations: the panel rule, scoring, grades and the appeal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.errors import AppealAlreadyResolved, EvaluationStateConflict, InvalidScores, PanelRuleBroken
from ledger.domain.evaluations import Evaluation, check_panel
from ledger.domain.rules import Policy
from tests.unit.support import CONTRACTOR, EVALUATOR, POLICY, PURCHASER, scores

ACCOUNTANT = {"name": "Accountant Sun", "accountant_title": "intermediate"}
SENIOR = {"name": "Accountant Qian", "accountant_title": "senior"}
JUNIOR = {"name": "Accountant Zheng", "accountant_title": "junior"}


def members(n: int) -> list[dict]:
    return [{"name": f"Member {i}"} for i in range(n)]


def evaluation(stage: str = "final", panel: list[dict] | None = None, third_party: str | None = None) -> Evaluation:
    return Evaluation.open(
        contract_id="contract-1",
        contractor_id="contractor-1",
        stage=stage,
        panel=[ACCOUNTANT, *members(2)] if panel is None else panel,
        third_party=third_party,
        policy=POLICY,
        by=PURCHASER,
    )


def concluded(score: int) -> Evaluation:
    ev = evaluation()
    ev.score(scores(score), EVALUATOR)
    ev.conclude("report", POLICY, EVALUATOR)
    return ev


class TestPanelRule:
    @pytest.mark.parametrize("panel", [[ACCOUNTANT, *members(2)], [SENIOR, *members(4)], [ACCOUNTANT, SENIOR, *members(5)]])
    def test_an_odd_panel_of_at_least_three_with_a_qualified_accountant_is_allowed(self, panel):
        check_panel(panel, None, POLICY)

    @pytest.mark.parametrize("size", [2, 4, 6])
    def test_an_even_panel_is_refused(self, size):
        with pytest.raises(PanelRuleBroken):
            check_panel([ACCOUNTANT, *members(size - 1)], None, POLICY)

    @pytest.mark.parametrize("size", [0, 1])
    def test_a_panel_of_fewer_than_three_is_refused(self, size):
        with pytest.raises(PanelRuleBroken):
            check_panel([ACCOUNTANT, *members(size - 1)] if size else [], None, POLICY)

    def test_a_panel_without_an_accountant_is_refused(self):
        with pytest.raises(PanelRuleBroken):
            check_panel(members(3), None, POLICY)

    def test_a_junior_accountant_does_not_count(self):
        with pytest.raises(PanelRuleBroken):
            check_panel([JUNIOR, *members(2)], None, POLICY)

    def test_a_third_party_may_evaluate_instead_of_a_panel(self):
        check_panel([], "Guangzhou Social Work Evaluation Institute", POLICY)
        assert evaluation(panel=[], third_party="Institute").third_party == "Institute"

    def test_a_panel_and_a_third_party_together_are_refused(self):
        with pytest.raises(PanelRuleBroken):
            check_panel([ACCOUNTANT, *members(2)], "Institute", POLICY)

    def test_the_minimum_panel_size_is_a_policy_setting(self):
        with pytest.raises(PanelRuleBroken):
            check_panel([ACCOUNTANT, *members(2)], None, Policy(min_panel_size=5))

    def test_an_evaluation_cannot_open_with_a_broken_panel(self):
        with pytest.raises(PanelRuleBroken):
            evaluation(panel=[ACCOUNTANT, *members(1)])


class TestScoring:
    @pytest.mark.parametrize(("score", "grade"), [(95, "excellent"), (90, "excellent"), (85, "good"), (70, "qualified"), (60, "qualified"), (59, "unqualified")])
    def test_the_weighted_total_sets_the_grade(self, score, grade):
        ev = concluded(score)
        assert ev.total == Decimal(score)
        assert ev.grade == grade

    def test_the_weights_are_fixed_at_opening(self):
        ev = evaluation()
        ev.score(scores(100) | {"effectiveness": 0}, EVALUATOR)
        total, _ = ev.conclude("report", POLICY, EVALUATOR)
        assert total == Decimal("80.00")  # effectiveness weighs 20 of 100

    def test_every_indicator_is_scored_before_concluding(self):
        ev = evaluation()
        ev.score({"administration": 80}, EVALUATOR)
        with pytest.raises(InvalidScores):
            ev.conclude("report", POLICY, EVALUATOR)

    @pytest.mark.parametrize("bad", [{"administration": 101}, {"administration": -1}, {"charisma": 50}])
    def test_scores_must_be_known_indicators_between_0_and_100(self, bad):
        with pytest.raises(InvalidScores):
            evaluation().score(bad, EVALUATOR)

    def test_only_passing_grades_pay(self):
        assert [POLICY.passes(g) for g in ("excellent", "good", "qualified", "unqualified")] == [True, True, True, False]


class TestAppeal:
    def test_an_open_evaluation_cannot_be_appealed(self):
        with pytest.raises(EvaluationStateConflict):
            evaluation().lodge_appeal("unfair", CONTRACTOR)

    def test_an_upheld_appeal_replaces_the_scores(self):
        ev = concluded(70)
        ev.lodge_appeal("the panel missed our records", CONTRACTOR)
        total, grade = ev.resolve_appeal(True, {"record_keeping": 100, "administration": 100}, "upheld", POLICY, PURCHASER)
        assert (total, grade) == (Decimal("76.00"), "qualified")

    def test_a_dismissed_appeal_keeps_the_scores(self):
        ev = concluded(70)
        ev.lodge_appeal("unfair", CONTRACTOR)
        assert ev.resolve_appeal(False, None, "dismissed", POLICY, PURCHASER) == (Decimal("70.00"), "qualified")
        assert ev.appeal["outcome"] == "dismissed"

    def test_the_review_is_final(self):
        ev = concluded(70)
        ev.lodge_appeal("unfair", CONTRACTOR)
        ev.resolve_appeal(False, None, "dismissed", POLICY, PURCHASER)
        with pytest.raises(AppealAlreadyResolved):
            ev.lodge_appeal("still unfair", CONTRACTOR)
        with pytest.raises(AppealAlreadyResolved):
            ev.resolve_appeal(True, scores(100), "changed our mind", POLICY, PURCHASER)

    def test_an_appeal_is_lodged_once(self):
        ev = concluded(70)
        ev.lodge_appeal("unfair", CONTRACTOR)
        with pytest.raises(EvaluationStateConflict):
            ev.lodge_appeal("again", CONTRACTOR)
