"""Contracts: what the purchaser bought, its milestones and the payment tranches tied to them."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import event

from ledger.domain import limits
from ledger.domain.actors import Actor
from ledger.domain.base import LedgerAggregate, add_years
from ledger.domain.catalogue import (
    SERVICES,
    EvaluationStage,
    MilestoneKind,
    ProcurementMethod,
    TerminationReason,
)
from ledger.domain.errors import (
    AppealPending,
    BudgetExceeded,
    ContractNotActive,
    ContractStateConflict,
    FinalEvaluationMissing,
    InvalidContractTerms,
    InvalidInput,
    InvalidPeriod,
    MilestoneAlreadyFulfilled,
    MilestoneNotFound,
    MilestoneNotFulfilled,
    NotAccepted,
    OutsideContractTerm,
    ServiceNotContracted,
    TermTooLong,
    TrancheAlreadyReleased,
    TrancheClosed,
    TrancheNotFound,
    UnknownServiceItem,
)
from ledger.domain.rules import Policy, money, positive_money

ACTIVE, SUSPENDED, TERMINATED, ACCEPTED, SETTLED = "active", "suspended", "terminated", "accepted", "settled"
PENDING, FULFILLED = "pending", "fulfilled"
RELEASED, WITHHELD = "released", "withheld"


def _normalise_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not lines:
        raise InvalidContractTerms("a contract needs at least one service line")
    out, seen = [], set()
    for line in lines:
        code = line["service_code"]
        if code not in SERVICES:
            raise UnknownServiceItem(f"{code!r} is not in the service catalogue")
        if code in seen:
            raise InvalidContractTerms(f"service {code} appears on two lines")
        seen.add(code)
        quantity = limits.QUANTITY.check(line["quantity"], f"line {code}: quantity")
        out.append({"service_code": code, "quantity": quantity, "unit_price": positive_money(line["unit_price"])})
    return out


def _normalise_milestones(milestones: list[dict[str, Any]], lines: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    out = []
    contracted = {line["service_code"] for line in lines}
    for m in milestones:
        try:
            kind = MilestoneKind(m["kind"])
        except ValueError:
            raise InvalidContractTerms(f"unknown milestone kind {m['kind']!r}") from None
        item: dict[str, Any] = {
            "milestone_id": limits.MILESTONE_ID.check_optional(m.get("milestone_id"), "milestone id") or str(uuid.uuid4()),
            "kind": kind.value,
            "title": limits.MILESTONE_TITLE.check_optional(m.get("title"), "milestone title") or kind.label.en,  # type: ignore[attr-defined]
            "service_code": None,
            "quantity": None,
            "stage": None,
            "due_date": None,
            "status": PENDING,
            "basis": None,
        }
        if kind is MilestoneKind.SERVICE_VOLUME:
            code = m.get("service_code")
            if code is not None and code not in contracted:
                raise InvalidContractTerms(f"milestone counts {code}, which is not a service line")
            if m.get("quantity") is None:
                raise InvalidContractTerms("a service-volume milestone needs a positive quantity")
            item.update(service_code=code, quantity=limits.MILESTONE_QUANTITY.check(m["quantity"], "milestone quantity"))
        elif kind is MilestoneKind.EVALUATION_PASSED:
            try:
                item["stage"] = EvaluationStage(m.get("stage")).value
            except ValueError:
                raise InvalidContractTerms("an evaluation milestone names a stage") from None
        elif kind is MilestoneKind.DATE:
            due = m.get("due_date")
            if due is None:
                raise InvalidContractTerms("a date milestone needs a due date")
            due = due if isinstance(due, date) else date.fromisoformat(str(due))
            limits.check_day(due, "due date")
            if not start <= due <= end:
                raise InvalidContractTerms("a date milestone must fall within the term")
            item["due_date"] = due
        out.append(item)
    ids = [m["milestone_id"] for m in out]
    if len(set(ids)) != len(ids):
        raise InvalidContractTerms("milestone ids must be unique")
    return out


def _normalise_tranches(tranches: list[dict[str, Any]], milestones: list[dict[str, Any]], budget: Decimal) -> list[dict[str, Any]]:
    by_id = {m["milestone_id"] for m in milestones}
    out = []
    for t in tranches:
        if t["milestone_id"] not in by_id:
            raise InvalidContractTerms(f"tranche tied to unknown milestone {t['milestone_id']}")
        out.append(
            {
                "tranche_id": limits.TRANCHE_ID.check_optional(t.get("tranche_id"), "tranche id") or str(uuid.uuid4()),
                "milestone_id": t["milestone_id"],
                "amount": positive_money(t["amount"]),
                "status": PENDING,
                "payable": None,
                "released_amount": Decimal("0.00"),
                "withheld_amount": Decimal("0.00"),
                "reductions": [],
            }
        )
    total = sum((t["amount"] for t in out), Decimal("0.00"))
    if total > budget:
        raise BudgetExceeded(f"tranches add up to {total}, more than the budget of {budget}")
    ids = [t["tranche_id"] for t in out]
    if len(set(ids)) != len(ids):
        raise InvalidContractTerms("tranche ids must be unique")
    return out


class Contract(LedgerAggregate):
    @classmethod
    def sign(
        cls,
        *,
        contract_no: str,
        title: str,
        purchaser_org: str,
        contractor_id: str,
        fund_id: str,
        procurement_method: str,
        start_date: date,
        end_date: date,
        lines: list[dict[str, Any]],
        milestones: list[dict[str, Any]],
        tranches: list[dict[str, Any]],
        policy: Policy,
        by: Actor,
    ) -> Contract:
        try:
            method = ProcurementMethod(procurement_method)
        except ValueError:
            raise InvalidInput(f"unknown procurement method {procurement_method!r}") from None
        limits.CONTRACT_NO.check(contract_no, "contract number")
        limits.CONTRACT_TITLE.check(title, "title")
        limits.check_day(start_date, "start date")
        limits.check_day(end_date, "end date")
        limits.SERVICE_LINES.check(lines, "lines")
        limits.MILESTONES.check(milestones, "milestones")
        limits.TRANCHES.check(tranches, "tranches")
        if end_date <= start_date:
            raise InvalidPeriod("the term must end after it starts")
        if end_date > add_years(start_date, policy.max_term_years):
            raise TermTooLong(f"the term may last at most {policy.max_term_years} years")
        norm_lines = _normalise_lines(lines)
        budget = limits.check_yuan(sum((line["quantity"] * line["unit_price"] for line in norm_lines), Decimal("0.00")), "the budget")
        norm_milestones = _normalise_milestones(milestones, norm_lines, start_date, end_date)
        norm_tranches = _normalise_tranches(tranches, norm_milestones, budget)
        return cls(
            contract_no=contract_no,
            title=title,
            purchaser_org=purchaser_org,
            contractor_id=contractor_id,
            fund_id=fund_id,
            procurement_method=method.value,
            start_date=start_date,
            end_date=end_date,
            lines=norm_lines,
            budget=budget,
            milestones=norm_milestones,
            tranches=norm_tranches,
            by=by,
        )

    @event("Signed")
    def __init__(
        self,
        contract_no: str,
        title: str,
        purchaser_org: str,
        contractor_id: str,
        fund_id: str,
        procurement_method: str,
        start_date: date,
        end_date: date,
        lines: list[dict[str, Any]],
        budget: Decimal,
        milestones: list[dict[str, Any]],
        tranches: list[dict[str, Any]],
        by: Actor,
    ) -> None:
        self.contract_no = contract_no
        self.title = title
        self.purchaser_org = purchaser_org
        self.contractor_id = contractor_id
        self.fund_id = fund_id
        self.procurement_method = procurement_method
        self.start_date = start_date
        self.end_date = end_date
        self.lines = lines
        self.budget = budget
        self.milestones = {m["milestone_id"]: dict(m) for m in milestones}
        self.tranches = {t["tranche_id"]: dict(t, reductions=list(t["reductions"])) for t in tranches}
        self.status = ACTIVE
        self.status_reason: str | None = None
        # evaluation id -> {stage, total, grade, appeal: None|"pending"|"resolved", concluded}
        self.evaluations: dict[str, dict[str, Any]] = {}

    @property
    def owner_organisation(self) -> str:
        return self.contractor_id

    # --- queries used by other aggregates' rules ------------------------------------------
    def check_active(self) -> None:
        if self.status != ACTIVE:
            raise ContractNotActive(f"contract {self.contract_no} is {self.status}")

    def check_service(self, service_code: str) -> None:
        if service_code not in {line["service_code"] for line in self.lines}:
            raise ServiceNotContracted(f"{service_code} is not a service line of contract {self.contract_no}")

    def check_within_term(self, day: date) -> None:
        if not self.start_date <= day <= self.end_date:
            raise OutsideContractTerm(f"{day} is outside the term {self.start_date} to {self.end_date}")

    @property
    def released(self) -> Decimal:
        return sum((t["released_amount"] for t in self.tranches.values()), Decimal("0.00"))

    @property
    def withheld(self) -> Decimal:
        return sum((t["withheld_amount"] for t in self.tranches.values()), Decimal("0.00"))

    def volume_milestones(self) -> list[dict[str, Any]]:
        return [m for m in self.milestones.values() if m["kind"] == MilestoneKind.SERVICE_VOLUME.value]

    def awaits_volume_of(self, service_code: str) -> bool:
        """Whether a pending volume milestone would count this service's visits (one of its own,
        or one over every service). Milestones are fixed at signing and never return to pending,
        so once this is false for a service it stays false."""
        return any(m["status"] == PENDING and m["service_code"] in (service_code, None) for m in self.volume_milestones())

    # --- milestones -----------------------------------------------------------------------
    def _milestone(self, milestone_id: str) -> dict[str, Any]:
        try:
            return self.milestones[milestone_id]
        except KeyError:
            raise MilestoneNotFound(f"contract {self.contract_no} has no milestone {milestone_id}") from None

    def fulfil_volume_milestone(self, milestone_id: str, delivered: int, by: Actor, counted: list[dict[str, Any]] | None = None) -> None:
        """Called by the process that follows delivered visits; `counted` names the visits it
        counted ({visit_id, position}, in log order, up to the quantity)."""
        m = self._milestone(milestone_id)
        if m["status"] == FULFILLED or m["kind"] != MilestoneKind.SERVICE_VOLUME.value:
            return
        if delivered < m["quantity"]:
            raise MilestoneNotFulfilled(f"{delivered} of {m['quantity']} delivered")
        self._milestone_fulfilled(milestone_id=milestone_id, basis={"delivered": delivered}, by=by, counted=counted)

    def confirm_date_milestone(self, milestone_id: str, today: date, by: Actor) -> None:
        m = self._milestone(milestone_id)
        if m["kind"] != MilestoneKind.DATE.value:
            raise ContractStateConflict("only a date milestone is confirmed by hand; the others follow the record")
        if m["status"] == FULFILLED:
            raise MilestoneAlreadyFulfilled()
        if today < m["due_date"]:
            raise MilestoneNotFulfilled(f"the milestone falls due on {m['due_date']}")
        self._milestone_fulfilled(milestone_id=milestone_id, basis={"confirmed_on": today.isoformat()}, by=by)

    # `counted` lives only in the event (the trace reads it there), so the contract's state stays
    # small; it defaults to None for fulfilments recorded before it and for other kinds.
    @event("MilestoneFulfilled")
    def _milestone_fulfilled(self, milestone_id: str, basis: dict[str, Any], by: Actor, counted: list[dict[str, Any]] | None = None) -> None:
        m = self.milestones[milestone_id]
        m["status"] = FULFILLED
        m["basis"] = basis

    # --- evaluations ----------------------------------------------------------------------
    def evaluation_opened(self, evaluation_id: str, stage: str, by: Actor) -> None:
        if self.status in (TERMINATED, SETTLED):
            raise ContractNotActive(f"contract {self.contract_no} is {self.status}")
        self._evaluation_opened(evaluation_id=evaluation_id, stage=stage, by=by)

    @event("EvaluationOpened")
    def _evaluation_opened(self, evaluation_id: str, stage: str, by: Actor) -> None:
        self.evaluations[evaluation_id] = {"stage": stage, "total": None, "grade": None, "appeal": None, "concluded": False}

    def evaluation_concluded(self, evaluation_id: str, total: Decimal, grade: str, policy: Policy, by: Actor) -> None:
        """Records the result; a passing grade fulfils the evaluation milestones of its stage."""
        self._evaluation_result(evaluation_id=evaluation_id, total=total, grade=grade, by=by)
        self._fulfil_evaluation_milestones(evaluation_id, policy, by)

    def _fulfil_evaluation_milestones(self, evaluation_id: str, policy: Policy, by: Actor) -> None:
        ev = self.evaluations[evaluation_id]
        if not policy.passes(ev["grade"]) or ev["appeal"] == "pending":
            return
        for m in list(self.milestones.values()):
            if m["kind"] == MilestoneKind.EVALUATION_PASSED.value and m["stage"] == ev["stage"] and m["status"] == PENDING:
                basis = {"evaluation_id": evaluation_id, "total": str(ev["total"]), "grade": ev["grade"]}
                self._milestone_fulfilled(milestone_id=m["milestone_id"], basis=basis, by=by)

    @event("EvaluationResultRecorded")
    def _evaluation_result(self, evaluation_id: str, total: Decimal, grade: str, by: Actor) -> None:
        ev = self.evaluations[evaluation_id]
        ev.update(total=total, grade=grade, concluded=True)
        if ev["appeal"] == "pending":
            ev["appeal"] = "resolved"

    def evaluation_appealed(self, evaluation_id: str, by: Actor) -> None:
        self._evaluation_appealed(evaluation_id=evaluation_id, by=by)

    @event("EvaluationAppealed")
    def _evaluation_appealed(self, evaluation_id: str, by: Actor) -> None:
        self.evaluations[evaluation_id]["appeal"] = "pending"

    def appeal_resolved(self, evaluation_id: str, total: Decimal, grade: str, policy: Policy, by: Actor) -> None:
        self._evaluation_result(evaluation_id=evaluation_id, total=total, grade=grade, by=by)
        self._fulfil_evaluation_milestones(evaluation_id, policy, by)

    def _evaluation_for_milestone(self, milestone: dict[str, Any]) -> dict[str, Any] | None:
        if milestone["kind"] != MilestoneKind.EVALUATION_PASSED.value or not milestone["basis"]:
            return None
        return self.evaluations.get(milestone["basis"]["evaluation_id"])

    # --- tranches -------------------------------------------------------------------------
    def _tranche(self, tranche_id: str) -> dict[str, Any]:
        try:
            return self.tranches[tranche_id]
        except KeyError:
            raise TrancheNotFound(f"contract {self.contract_no} has no tranche {tranche_id}") from None

    def _check_open_tranche(self, tranche: dict[str, Any]) -> None:
        if tranche["status"] == RELEASED:
            raise TrancheAlreadyReleased(f"tranche {tranche['tranche_id']} was released")
        if tranche["status"] == WITHHELD:
            raise TrancheClosed(f"tranche {tranche['tranche_id']} was withheld")

    def payable(self, tranche_id: str, policy: Policy) -> Decimal:
        """What releasing the tranche pays now: its amount, less reductions, less the share the
        evaluation grade withholds for an evaluation-linked tranche."""
        t = self._tranche(tranche_id)
        amount = t["amount"] - sum((r["amount"] for r in t["reductions"]), Decimal("0.00"))
        ev = self._evaluation_for_milestone(self.milestones[t["milestone_id"]])
        if ev is not None:
            amount = (amount * policy.payout_shares.get(ev["grade"], Decimal(0))).quantize(Decimal("0.01"))
        return amount

    def release_tranche(self, tranche_id: str, policy: Policy, by: Actor) -> Decimal:
        t = self._tranche(tranche_id)
        if self.status not in (ACTIVE, ACCEPTED):
            raise ContractNotActive(f"contract {self.contract_no} is {self.status}")
        self._check_open_tranche(t)
        milestone = self.milestones[t["milestone_id"]]
        if milestone["status"] != FULFILLED:
            raise MilestoneNotFulfilled(f"milestone '{milestone['title']}' is not fulfilled")
        ev = self._evaluation_for_milestone(milestone)
        if ev is not None and ev["appeal"] == "pending":
            raise AppealPending("the evaluation behind this milestone is under appeal")
        amount = self.payable(tranche_id, policy)
        withheld = t["amount"] - amount
        if self.released + amount > self.budget:
            raise BudgetExceeded(f"releasing {amount} would pay more than the budget of {self.budget}")
        self._tranche_released(tranche_id=tranche_id, amount=amount, withheld=withheld, by=by)
        return amount

    @event("TrancheReleased")
    def _tranche_released(self, tranche_id: str, amount: Decimal, withheld: Decimal, by: Actor) -> None:
        t = self.tranches[tranche_id]
        t["status"] = RELEASED
        t["released_amount"] = amount
        t["withheld_amount"] = withheld

    def reduce_tranche(self, tranche_id: str, amount: Decimal, reason: str, by: Actor) -> None:
        limits.REASON.check(reason, "reason")
        t = self._tranche(tranche_id)
        self._check_open_tranche(t)
        amount = positive_money(amount)
        already = sum((r["amount"] for r in t["reductions"]), Decimal("0.00"))
        if already + amount > t["amount"]:
            raise InvalidContractTerms(f"reductions would exceed the tranche amount of {t['amount']}")
        self._tranche_reduced(tranche_id=tranche_id, amount=amount, reason=reason, by=by)

    @event("TrancheReduced")
    def _tranche_reduced(self, tranche_id: str, amount: Decimal, reason: str, by: Actor) -> None:
        self.tranches[tranche_id]["reductions"].append({"amount": amount, "reason": reason})

    def withhold_tranche(self, tranche_id: str, reason: str, by: Actor) -> None:
        limits.REASON.check(reason, "reason")
        t = self._tranche(tranche_id)
        self._check_open_tranche(t)
        self._tranche_withheld(tranche_id=tranche_id, amount=money(t["amount"]), reason=reason, by=by)

    @event("TrancheWithheld")
    def _tranche_withheld(self, tranche_id: str, amount: Decimal, reason: str, by: Actor) -> None:
        t = self.tranches[tranche_id]
        t["status"] = WITHHELD
        t["withheld_amount"] = amount

    # --- life cycle -----------------------------------------------------------------------
    def suspend(self, reason: str, by: Actor) -> None:
        limits.REASON.check(reason, "reason")
        self.check_active()
        self._suspended(reason=reason, by=by)

    @event("Suspended")
    def _suspended(self, reason: str, by: Actor) -> None:
        self.status = SUSPENDED
        self.status_reason = reason

    def resume(self, by: Actor) -> None:
        if self.status != SUSPENDED:
            raise ContractStateConflict(f"contract {self.contract_no} is {self.status}, not suspended")
        self._resumed(by=by)

    @event("Resumed")
    def _resumed(self, by: Actor) -> None:
        self.status = ACTIVE
        self.status_reason = None

    def terminate(self, reason: str, note: str, by: Actor) -> None:
        limits.NOTE.check(note, "note")
        if self.status not in (ACTIVE, SUSPENDED):
            raise ContractStateConflict(f"contract {self.contract_no} is {self.status}")
        try:
            reason = TerminationReason(reason).value
        except ValueError:
            raise InvalidInput(f"unknown termination reason {reason!r}") from None
        self._terminated(reason=reason, note=note, by=by)

    @event("Terminated")
    def _terminated(self, reason: str, note: str, by: Actor) -> None:
        self.status = TERMINATED
        self.status_reason = reason

    def accept(self, policy: Policy, note: str, by: Actor) -> None:
        """验收: only after a concluded final evaluation with a passing grade and no appeal pending."""
        limits.NOTE.check(note, "note")
        self.check_active()
        finals = [e for e in self.evaluations.values() if e["stage"] == EvaluationStage.FINAL.value and e["concluded"]]
        if any(e["appeal"] == "pending" for e in finals):
            raise AppealPending("the final evaluation is under appeal")
        if not any(policy.passes(e["grade"]) for e in finals):
            raise FinalEvaluationMissing()
        self._accepted(note=note, by=by)
        for m in list(self.milestones.values()):
            if m["kind"] == MilestoneKind.ACCEPTANCE.value and m["status"] == PENDING:
                self._milestone_fulfilled(milestone_id=m["milestone_id"], basis={"accepted": True}, by=by)

    @event("Accepted")
    def _accepted(self, note: str, by: Actor) -> None:
        self.status = ACCEPTED

    def settle(self, by: Actor) -> Decimal:
        """结清: after acceptance, once no tranche is left open; returns what was paid in all."""
        if self.status != ACCEPTED:
            raise NotAccepted(f"contract {self.contract_no} is {self.status}")
        open_tranches = [t["tranche_id"] for t in self.tranches.values() if t["status"] == PENDING]
        if open_tranches:
            raise ContractStateConflict(f"release or withhold every tranche first: {', '.join(open_tranches)}")
        self._settled(released=self.released, withheld=self.withheld, by=by)
        return self.released

    @event("Settled")
    def _settled(self, released: Decimal, withheld: Decimal, by: Actor) -> None:
        self.status = SETTLED

    def as_dict(self) -> dict[str, Any]:
        d = super().as_dict()
        d["milestones"] = list(self.milestones.values())
        d["tranches"] = list(self.tranches.values())
        d["released"] = self.released
        d["withheld"] = self.withheld
        d["remaining"] = self.budget - self.released - self.withheld
        return d
