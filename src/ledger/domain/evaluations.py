"""Evaluations (绩效评估, 001 annex 3): a panel or third party scores a contract's stage."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eventsourcing.domain import event

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate
from ledger.domain.catalogue import EvaluationStage
from ledger.domain.errors import (
    AppealAlreadyResolved,
    EvaluationStateConflict,
    InvalidInput,
    InvalidScores,
    PanelRuleBroken,
)
from ledger.domain.rules import Policy

ACCOUNTANT_TITLES_THAT_COUNT = {"intermediate", "senior"}  # 中级及以上专业技术职称
OPEN, CONCLUDED, APPEALED, FINAL = "open", "concluded", "appealed", "final"


def check_panel(panel: list[dict[str, Any]], third_party: str | None, policy: Policy) -> None:
    """An odd number of at least 3, at least one accountant of intermediate title or higher;
    or a qualified third party instead."""
    if third_party:
        if panel:
            raise PanelRuleBroken("name either a panel or a third-party evaluator, not both")
        return
    if len(panel) < policy.min_panel_size or len(panel) % 2 == 0:
        raise PanelRuleBroken(f"a panel of {len(panel)} is not an odd number of at least {policy.min_panel_size}")
    if not any(m.get("accountant_title") in ACCOUNTANT_TITLES_THAT_COUNT for m in panel):
        raise PanelRuleBroken("the panel needs an accountant with an intermediate or higher title")


def weighted_total(scores: dict[str, Decimal], weights: dict[str, int]) -> Decimal:
    total = sum((Decimal(scores[k]) * weights[k] for k in weights), Decimal(0)) / sum(weights.values())
    return total.quantize(Decimal("0.01"))


class Evaluation(LedgerAggregate):
    @classmethod
    def open(
        cls,
        *,
        contract_id: str,
        contractor_id: str,
        stage: str,
        panel: list[dict[str, Any]],
        third_party: str | None,
        policy: Policy,
        by: Actor,
    ) -> Evaluation:
        try:
            stage = EvaluationStage(stage).value
        except ValueError:
            raise InvalidInput(f"unknown evaluation stage {stage!r}") from None
        limits.PANEL.check(panel, "panel")
        for member in panel:
            limits.PANEL_MEMBER_NAME.check(member["name"], "a panel member's name")
        limits.THIRD_PARTY.check_optional(third_party, "third party")
        check_panel(panel, third_party, policy)
        members = [{"name": m["name"], "accountant_title": m.get("accountant_title")} for m in panel]
        weights = {str(k): int(v) for k, v in policy.evaluation_weights.items()}
        return cls(
            contract_id=contract_id,
            contractor_id=contractor_id,
            stage=stage,
            panel=members,
            third_party=third_party,
            weights=weights,
            by=by,
        )

    @event("Opened")
    def __init__(
        self,
        contract_id: str,
        contractor_id: str,
        stage: str,
        panel: list[dict[str, Any]],
        third_party: str | None,
        weights: dict[str, int],
        by: Actor,
    ) -> None:
        self.contract_id = contract_id
        self.contractor_id = contractor_id
        self.stage = stage
        self.panel = panel
        self.third_party = third_party
        self.weights = weights  # fixed at opening, so a later change of policy never rescores it
        self.scores: dict[str, Decimal] = {}
        self.total: Decimal | None = None
        self.grade: str | None = None
        self.status = OPEN
        self.appeal: dict[str, Any] | None = None

    @property
    def owner_organisation(self) -> str:
        return self.contractor_id

    def _require(self, *states: str) -> None:
        if self.status not in states:
            raise EvaluationStateConflict(f"the evaluation is {self.status}")

    def _checked_scores(self, scores: dict[str, Any]) -> dict[str, Decimal]:
        unknown = set(scores) - set(self.weights)
        if unknown:
            raise InvalidScores(f"unknown indicators: {', '.join(sorted(unknown))}")
        out = {}
        for k, v in scores.items():
            value = Decimal(str(v))
            if not value.is_finite() or not 0 <= value <= limits.EVALUATION_SCORE_MAX:
                raise InvalidScores(f"{k}: scores run from 0 to {limits.EVALUATION_SCORE_MAX}")
            out[k] = value.quantize(Decimal("0.01"))
        return out

    def score(self, scores: dict[str, Any], by: Actor) -> None:
        self._require(OPEN)
        self._scored(scores=self._checked_scores(scores), by=by)

    @event("Scored")
    def _scored(self, scores: dict[str, Decimal], by: Actor) -> None:
        self.scores.update(scores)

    def conclude(self, report: str, policy: Policy, by: Actor) -> tuple[Decimal, str]:
        limits.REPORT.check(report, "report")
        self._require(OPEN)
        missing = sorted(set(self.weights) - set(self.scores))
        if missing:
            raise InvalidScores(f"score every indicator first; missing: {', '.join(missing)}")
        total = weighted_total(self.scores, self.weights)
        grade = policy.grade_for(total)
        self._concluded(total=total, grade=grade, report=report, by=by)
        return total, grade

    @event("Concluded")
    def _concluded(self, total: Decimal, grade: str, report: str, by: Actor) -> None:
        self.total = total
        self.grade = grade
        self.status = CONCLUDED

    def lodge_appeal(self, reason: str, by: Actor) -> None:
        if self.status == FINAL:
            raise AppealAlreadyResolved("the appeal was resolved; the review is final")
        self._require(CONCLUDED)
        limits.REASON.check(reason, "reason")
        if not reason.strip():
            raise InvalidInput("an appeal needs a reason")
        self._appealed(reason=reason, by=by)

    @event("Appealed")
    def _appealed(self, reason: str, by: Actor) -> None:
        self.status = APPEALED
        self.appeal = {"reason": reason, "outcome": None}

    def resolve_appeal(self, upheld: bool, revised_scores: dict[str, Any] | None, note: str, policy: Policy, by: Actor) -> tuple[Decimal, str]:
        """Upheld: the appeal succeeds and revised scores replace the panel's. The review is final."""
        limits.NOTE.check(note, "note")
        if self.status == FINAL:
            raise AppealAlreadyResolved()
        self._require(APPEALED)
        scores = dict(self.scores)
        if upheld:
            if not revised_scores:
                raise InvalidScores("an upheld appeal carries the revised scores")
            scores.update(self._checked_scores(revised_scores))
        total = weighted_total(scores, self.weights)
        grade = policy.grade_for(total)
        self._appeal_resolved(upheld=upheld, scores=scores, total=total, grade=grade, note=note, by=by)
        return total, grade

    @event("AppealResolved")
    def _appeal_resolved(self, upheld: bool, scores: dict[str, Decimal], total: Decimal, grade: str, note: str, by: Actor) -> None:
        self.scores = scores
        self.total = total
        self.grade = grade
        self.status = FINAL
        self.appeal = dict(self.appeal or {}, outcome="upheld" if upheld else "dismissed")
