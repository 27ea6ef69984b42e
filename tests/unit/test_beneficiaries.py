"""Beneficiaries: national IDs never kept in clear, the roster changes, deregistration."""

from __future__ import annotations

import pytest

from ledger.domain.beneficiaries import Beneficiary, national_id_hash, normalise_national_id
from ledger.domain.errors import BeneficiaryDeregistered, CategoryChangeInvalid, InvalidInput, InvalidNationalId, InvalidScores, NationalIdCheckFailed
from tests.unit.support import PURCHASER

ID_NUMBER = "11010119800101111X"
KEY = b"unit-test-key"


def person(category: str = "dibao", id_number: str = ID_NUMBER) -> Beneficiary:
    return Beneficiary.register(
        national_id=id_number,
        id_hash_key=KEY,
        name="Zhang San",
        household_id="hh-1",
        category=category,
        township="Xinhua Street",
        village="Hongqi Community",
        self_care_level="partly_lost",
        by=PURCHASER,
    )


class TestNationalId:
    def test_the_number_is_kept_only_as_a_keyed_hash_and_its_last_four_digits(self):
        p = person()
        assert p.national_id_hash == national_id_hash(ID_NUMBER, KEY)
        assert p.national_id_last4 == "111X"
        assert ID_NUMBER not in repr(p.__dict__)
        (registered,) = p.collect_events()
        assert ID_NUMBER not in repr(registered.__dict__)
        assert ID_NUMBER[:17] not in repr(registered.__dict__)

    def test_the_hash_depends_on_the_key(self):
        assert national_id_hash(ID_NUMBER, KEY) != national_id_hash(ID_NUMBER, b"another-key")

    def test_the_id_derives_from_the_hash_so_a_second_registration_collides(self):
        assert person().id == person().id == Beneficiary.create_id(national_id_hash=national_id_hash(ID_NUMBER, KEY))

    def test_a_lower_case_check_letter_is_the_same_person(self):
        assert person(id_number=ID_NUMBER.lower()).id == person().id

    @pytest.mark.parametrize("bad", ["1234", "11010119800101123Y", "1101011980010112345", "A1010119800101123X"])
    def test_a_malformed_number_is_refused(self, bad):
        with pytest.raises(InvalidNationalId):
            normalise_national_id(bad)


class TestCategoryChanges:
    def test_raising_moves_to_a_deeper_need_category(self):
        p = person("dibao")
        p.change_category("extreme_poverty", "raise", "lost income", PURCHASER)
        assert p.category == "extreme_poverty"

    def test_raising_to_a_lighter_category_is_refused(self):
        with pytest.raises(CategoryChangeInvalid):
            person("dibao").change_category("marginal", "raise", "?", PURCHASER)

    def test_lowering_moves_to_a_lighter_category(self):
        p = person("dibao")
        p.change_category("marginal", "lower", "income rose", PURCHASER)
        assert p.category == "marginal"

    def test_lowering_to_a_deeper_need_category_is_refused(self):
        with pytest.raises(CategoryChangeInvalid):
            person("dibao").change_category("extreme_poverty", "lower", "?", PURCHASER)

    @pytest.mark.parametrize("direction", ["raise", "lower"])
    def test_a_change_to_the_same_category_is_refused(self, direction):
        with pytest.raises(CategoryChangeInvalid):
            person("dibao").change_category("dibao", direction, "?", PURCHASER)

    def test_an_unknown_direction_is_refused(self):
        with pytest.raises(InvalidInput):
            person("dibao").change_category("marginal", "sideways", "?", PURCHASER)


class TestDeregistration:
    def test_a_deregistered_beneficiary_cannot_be_referred_or_changed(self):
        p = person()
        p.deregister("moved_away", "moved to another city", PURCHASER)
        with pytest.raises(BeneficiaryDeregistered):
            p.refer("case-1", "contractor-1", PURCHASER)
        with pytest.raises(BeneficiaryDeregistered):
            p.change_category("extreme_poverty", "raise", "?", PURCHASER)
        with pytest.raises(BeneficiaryDeregistered):
            p.deregister("other", "again", PURCHASER)

    def test_needs_are_scored_on_all_ten_indicators(self):
        p = person()
        with pytest.raises(InvalidScores):
            p.assess_needs({"income": 5}, PURCHASER)
        scores = {k: 3 for k in ["income", "housing", "illness", "disability", "education", "employment", "child_youth", "family_structure", "social_security", "social_participation"]}
        p.assess_needs(scores, PURCHASER)
        assert p.needs == scores

    def test_a_beneficiary_is_served_by_the_contractors_it_was_referred_to(self):
        p = person()
        p.refer("case-1", "contractor-1", PURCHASER)
        assert p.served_by("contractor-1")
        assert not p.served_by("contractor-2")
        assert not p.served_by(None)


def test_a_one_digit_typo_in_the_national_id_is_refused_by_its_check_digit():
    typo = ID_NUMBER[:5] + str((int(ID_NUMBER[5]) + 1) % 10) + ID_NUMBER[6:]
    with pytest.raises(NationalIdCheckFailed):
        normalise_national_id(typo)
