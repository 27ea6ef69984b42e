"""Contractors: eligibility, debarment, workers and the carer ratios."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ledger.domain.contractors import REQUIRED_ATTESTATIONS, Contractor
from ledger.domain.errors import (
    CarerRatioExceeded,
    ContractorDebarred,
    ContractorIneligible,
    ContractorSuspended,
    CreditCodeCheckFailed,
    InvalidCreditCode,
    WorkerAlreadyEnrolled,
    WorkerNotFound,
)
from ledger.domain.rules import Policy
from tests.unit.support import POLICY, PURCHASER

FRAUD_DAY = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)


def contractor(workers: int = 1, attestations: tuple[str, ...] = REQUIRED_ATTESTATIONS, contractor_type: str = "social_organisation") -> Contractor:
    c = Contractor.register("Sunshine Centre", contractor_type, "52110000ABCDEFGH1U", list(attestations), PURCHASER)
    for i in range(workers):
        c.enrol_worker(f"w{i}", f"Worker {i}", "social worker", PURCHASER)
    return c


class TestEligibility:
    def test_an_attested_organisation_is_eligible(self):
        contractor().check_eligible(allow_natural_person=False)

    def test_a_debarred_contractor_is_refused(self):
        c = contractor()
        c.debar("fraud", POLICY, PURCHASER)
        with pytest.raises(ContractorDebarred):
            c.check_eligible(allow_natural_person=False)

    def test_a_suspended_contractor_is_refused_until_reinstated(self):
        c = contractor()
        c.suspend("inquiry", PURCHASER)
        with pytest.raises(ContractorSuspended):
            c.check_eligible(allow_natural_person=False)
        c.reinstate(PURCHASER)
        c.check_eligible(allow_natural_person=False)

    def test_a_contractor_lacking_an_attestation_is_refused(self):
        c = contractor(attestations=REQUIRED_ATTESTATIONS[:-1])
        with pytest.raises(ContractorIneligible):
            c.check_eligible(allow_natural_person=False)

    def test_a_natural_person_contracts_only_where_no_organisation_qualifies(self):
        c = Contractor.register("Li Si", "natural_person", "", list(REQUIRED_ATTESTATIONS), PURCHASER)
        with pytest.raises(ContractorIneligible):
            c.check_eligible(allow_natural_person=False)
        c.check_eligible(allow_natural_person=True)

    def test_an_organisation_needs_a_well_formed_credit_code(self):
        with pytest.raises(InvalidCreditCode):
            Contractor.register("Bad code", "enterprise", "123", [], PURCHASER)

    def test_a_one_character_typo_in_the_credit_code_is_refused_by_its_check_character(self):
        with pytest.raises(CreditCodeCheckFailed):
            Contractor.register("Typo", "enterprise", "52110000ABCDEFGH2U", [], PURCHASER)

    def test_the_contractor_id_derives_from_the_credit_code(self):
        assert contractor().id == Contractor.create_id(credit_code="52110000ABCDEFGH1U")


class TestDebarment:
    def test_debarment_lasts_three_years_from_the_day(self):
        c = contractor()
        c.debar("fraud", POLICY, PURCHASER, at=FRAUD_DAY)
        assert c.debarred_until == datetime(2028, 3, 1, tzinfo=timezone.utc)
        assert c.is_debarred(at=datetime(2028, 2, 29, 23, 59, tzinfo=timezone.utc))
        assert not c.is_debarred(at=datetime(2028, 3, 1, tzinfo=timezone.utc))

    def test_the_debarment_period_is_a_policy_setting(self):
        c = contractor()
        c.debar("fraud", Policy(debarment_years=5), PURCHASER, at=FRAUD_DAY)
        assert c.debarred_until == datetime(2030, 3, 1, tzinfo=timezone.utc)


class TestWorkers:
    def test_a_worker_cannot_be_enrolled_twice(self):
        c = contractor(workers=1)
        with pytest.raises(WorkerAlreadyEnrolled):
            c.enrol_worker("w0", "Worker 0", "social worker", PURCHASER)

    def test_a_removed_worker_is_no_longer_enrolled(self):
        c = contractor(workers=2)
        c.remove_worker("w0", "left", POLICY, PURCHASER)
        assert not c.has_worker("w0")
        assert c.enrolled_workers == ["w1"]
        with pytest.raises(WorkerNotFound):
            c.remove_worker("w0", "again", POLICY, PURCHASER)

    def test_a_worker_of_no_record_is_not_enrolled(self):
        assert not contractor().has_worker("stranger")


RATIOS = [("self_reliant", 10), ("partly_lost", 6), ("fully_lost", 3)]


class TestCarerRatios:
    @pytest.mark.parametrize(("level", "per_carer"), RATIOS)
    def test_one_carer_takes_as_many_cases_as_the_ratio_allows_and_no_more(self, level, per_carer):
        c = contractor(workers=1)
        for i in range(per_carer):
            c.take_case(f"case-{i}", level, POLICY, PURCHASER)
        with pytest.raises(CarerRatioExceeded):
            c.take_case("one-too-many", level, POLICY, PURCHASER)
        assert len(c.caseload) == per_carer

    @pytest.mark.parametrize(("level", "per_carer"), RATIOS)
    def test_capacity_grows_with_the_enrolled_workers(self, level, per_carer):
        c = contractor(workers=2)
        for i in range(2 * per_carer):
            c.take_case(f"case-{i}", level, POLICY, PURCHASER)
        with pytest.raises(CarerRatioExceeded):
            c.take_case("one-too-many", level, POLICY, PURCHASER)

    def test_mixed_levels_add_up_exactly(self):
        c = contractor(workers=1)
        # 1/3 + 1/6 + 4 x 1/10 = 0.9: a partly-lost person (1/6) would not fit; a self-reliant one
        # (1/10) fills the carer exactly, which exact fractions allow and floats might not.
        for i, level in enumerate(["fully_lost", "partly_lost"] + ["self_reliant"] * 4):
            c.take_case(f"case-{i}", level, POLICY, PURCHASER)
        with pytest.raises(CarerRatioExceeded):
            c.take_case("partly", "partly_lost", POLICY, PURCHASER)
        c.take_case("self", "self_reliant", POLICY, PURCHASER)

    def test_closing_a_case_frees_capacity(self):
        c = contractor(workers=1)
        for i in range(3):
            c.take_case(f"case-{i}", "fully_lost", POLICY, PURCHASER)
        c.release_case("case-0", PURCHASER)
        c.take_case("case-3", "fully_lost", POLICY, PURCHASER)
        assert sorted(c.caseload) == ["case-1", "case-2", "case-3"]

    def test_a_contractor_with_no_workers_takes_no_case(self):
        with pytest.raises(CarerRatioExceeded):
            contractor(workers=0).take_case("case-0", "self_reliant", POLICY, PURCHASER)

    def test_removing_a_worker_the_caseload_needs_is_refused(self):
        c = contractor(workers=2)
        for i in range(4):
            c.take_case(f"case-{i}", "fully_lost", POLICY, PURCHASER)
        with pytest.raises(CarerRatioExceeded):
            c.remove_worker("w0", "left", POLICY, PURCHASER)
        assert c.has_worker("w0")
