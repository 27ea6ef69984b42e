"""A contractor sees only its own organisation's objects: another's do not exist, as far as it
can tell, so it gets the not-found error of the kind, never Forbidden."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from ledger.domain.errors import (
    BeneficiaryNotFound,
    CaseNotFound,
    ContractNotFound,
    ContractorNotFound,
    EvaluationNotFound,
    Forbidden,
    NotFound,
    VisitNotFound,
)
from tests.integration.helpers import EVALUATOR, PURCHASER, Org, World, recent, register_contractor, sign_contract


@dataclass
class Rival:
    org: Org
    contract_id: str
    beneficiary_id: str
    case_id: str
    referred_case_id: str
    visit_id: str
    evaluation_id: str


@pytest.fixture
def world(ledger):
    return World.build(ledger)


@pytest.fixture
def rival(world, ledger) -> Rival:
    """Everything of another contractor, on another contract from the same fund."""
    org = register_contractor(ledger, name="Rival Services Ltd", contractor_type="enterprise")
    contract_id = sign_contract(ledger, org.contractor_id, world.fund_id)["contract_id"]
    beneficiary_id = world.beneficiary()
    case_id = world.case(beneficiary_id, contract_id=contract_id, actor=org.actor)
    referred_case_id = world.case(contract_id=contract_id, accept=False)
    visit_id = world.visit(case_id, worker_id=org.workers[0], actor=org.actor)
    evaluation_id = ledger.open_evaluation(PURCHASER, contract_id=contract_id, stage="final", panel=[], third_party="Institute").ids["evaluation_id"]
    return Rival(org, contract_id, beneficiary_id, case_id, referred_case_id, visit_id, evaluation_id)


def hidden(ledger, error: type[NotFound], call) -> None:
    head = ledger.head()
    with pytest.raises(error) as caught:
        call()
    assert not isinstance(caught.value, Forbidden)
    assert ledger.head() == head


class TestReading:
    def test_a_contractor_reads_its_own_objects(self, world, ledger):
        case_id = world.case()
        visit_id = world.visit(case_id)
        me = world.contractor
        assert str(ledger.get_contract(me, world.contract_id)["id"]) == world.contract_id
        assert str(ledger.get_case(me, case_id)["id"]) == case_id
        assert str(ledger.get_visit(me, visit_id)["id"]) == visit_id
        assert str(ledger.get_contractor(me, world.org.contractor_id)["id"]) == world.org.contractor_id

    def test_another_organisations_contract_is_not_found(self, world, ledger, rival):
        hidden(ledger, ContractNotFound, lambda: ledger.get_contract(world.contractor, rival.contract_id))
        hidden(ledger, ContractNotFound, lambda: ledger.history(world.contractor, "contract", rival.contract_id))

    def test_another_organisations_case_visit_and_evaluation_are_not_found(self, world, ledger, rival):
        me = world.contractor
        hidden(ledger, CaseNotFound, lambda: ledger.get_case(me, rival.case_id))
        hidden(ledger, VisitNotFound, lambda: ledger.get_visit(me, rival.visit_id))
        hidden(ledger, EvaluationNotFound, lambda: ledger.get_evaluation(me, rival.evaluation_id))
        hidden(ledger, ContractorNotFound, lambda: ledger.get_contractor(me, rival.org.contractor_id))

    def test_a_beneficiary_the_contractor_does_not_serve_is_not_found(self, world, ledger, rival):
        hidden(ledger, BeneficiaryNotFound, lambda: ledger.get_beneficiary(world.contractor, rival.beneficiary_id))
        assert ledger.get_beneficiary(rival.org.actor, rival.beneficiary_id)["name"]

    def test_another_organisations_object_looks_exactly_like_a_missing_one(self, world, ledger, rival):
        missing = str(uuid.uuid4())
        for call, error in [
            (lambda i: ledger.get_contract(world.contractor, i), ContractNotFound),
            (lambda i: ledger.get_case(world.contractor, i), CaseNotFound),
        ]:
            hidden(ledger, error, lambda: call(missing))
        hidden(ledger, ContractNotFound, lambda: ledger.get_contract(world.contractor, rival.contract_id))


class TestActing:
    def test_a_contractor_cannot_accept_or_close_another_organisations_case(self, world, ledger, rival):
        me = world.contractor
        hidden(ledger, CaseNotFound, lambda: ledger.accept_case(me, rival.referred_case_id))
        hidden(ledger, CaseNotFound, lambda: ledger.decline_case(me, rival.referred_case_id, "not ours"))
        hidden(ledger, CaseNotFound, lambda: ledger.close_case(me, rival.case_id, "done"))

    def test_a_contractor_cannot_post_a_visit_on_another_organisations_case(self, world, ledger, rival):
        start, end = recent()
        hidden(
            ledger,
            CaseNotFound,
            lambda: ledger.record_visit(world.contractor, case_id=rival.case_id, worker_id=world.worker, service_code="visiting", started_at=start, ended_at=end),
        )

    def test_a_contractor_cannot_touch_another_organisations_visit(self, world, ledger, rival):
        me = world.contractor
        hidden(ledger, VisitNotFound, lambda: ledger.void_visit(me, rival.visit_id, "sabotage"))
        hidden(ledger, VisitNotFound, lambda: ledger.confirm_visit(me, rival.visit_id, "beneficiary_signature", "sha256:signed-slip"))
        hidden(ledger, VisitNotFound, lambda: ledger.dispute_visit(me, rival.visit_id, "?", "follow_up_call"))

    def test_a_contractor_cannot_appeal_another_organisations_evaluation(self, world, ledger, rival):
        ledger.score_evaluation(EVALUATOR, rival.evaluation_id, {k: 50 for k in ledger.policy.evaluation_weights})
        ledger.conclude_evaluation(EVALUATOR, rival.evaluation_id, "report")
        hidden(ledger, EvaluationNotFound, lambda: ledger.appeal_evaluation(world.contractor, rival.evaluation_id, "unfair to them"))

    def test_a_contractor_cannot_enrol_or_remove_workers_elsewhere(self, world, ledger, rival):
        me = world.contractor
        hidden(ledger, ContractorNotFound, lambda: ledger.enrol_worker(me, rival.org.contractor_id, name="Mole", qualification="none"))
        hidden(ledger, ContractorNotFound, lambda: ledger.remove_worker(me, rival.org.contractor_id, rival.org.workers[0], "poached"))
