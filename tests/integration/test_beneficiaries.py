"""Beneficiaries through the application: the national ID never reaches the store in clear."""

from __future__ import annotations

import pytest

from ledger.domain.errors import BeneficiaryAlreadyRegistered, CategoryChangeInvalid
from tests.integration.helpers import AUDITOR, PURCHASER, register_beneficiary

ID_NUMBER = "440106198703154324"


def stored_bytes(ledger) -> list[bytes]:
    return [n.state for n in ledger.recorder.select_notifications(start=1, limit=1000)]


class TestRegisterBeneficiary:
    def test_the_national_id_number_is_never_stored_in_clear(self, ledger):
        beneficiary_id = register_beneficiary(ledger, id_number=ID_NUMBER)
        ledger.change_category(PURCHASER, beneficiary_id, "extreme_poverty", "raise", "lost income")
        states = stored_bytes(ledger)
        assert states, "the registration was stored"
        for state in states:
            assert ID_NUMBER.encode() not in state
            assert ID_NUMBER[:17].encode() not in state
            assert ID_NUMBER.lower().encode() not in state
        assert any(ID_NUMBER[-4:].encode() in s for s in states)  # its last four digits are kept, to tell people apart

    def test_the_national_id_number_is_not_shown_nor_its_hash(self, ledger):
        beneficiary_id = register_beneficiary(ledger, id_number=ID_NUMBER)
        person = ledger.get_beneficiary(AUDITOR, beneficiary_id)
        assert "national_id_hash" not in person
        assert ID_NUMBER not in repr(person)
        for event in ledger.history(AUDITOR, "beneficiary", beneficiary_id):
            assert "national_id_hash" not in event["data"]

    def test_a_beneficiary_is_found_by_national_id_through_the_keyed_hash(self, ledger):
        beneficiary_id = register_beneficiary(ledger, id_number=ID_NUMBER)
        assert str(ledger.find_beneficiary(AUDITOR, ID_NUMBER.lower())["id"]) == beneficiary_id

    def test_a_second_registration_of_the_same_number_is_refused(self, ledger):
        register_beneficiary(ledger, id_number=ID_NUMBER)
        head = ledger.head()
        with pytest.raises(BeneficiaryAlreadyRegistered):
            register_beneficiary(ledger, id_number=ID_NUMBER, name="Same person, other name")
        assert ledger.head() == head


class TestChangeCategory:
    def test_raise_must_move_to_a_deeper_need_category(self, ledger):
        beneficiary_id = register_beneficiary(ledger, category="dibao")
        head = ledger.head()
        with pytest.raises(CategoryChangeInvalid):
            ledger.change_category(PURCHASER, beneficiary_id, "marginal", "raise", "wrong way")
        assert ledger.head() == head
        ledger.change_category(PURCHASER, beneficiary_id, "extreme_poverty", "raise", "lost income")
        assert ledger.get_beneficiary(PURCHASER, beneficiary_id)["category"] == "extreme_poverty"

    def test_lower_must_move_to_a_lighter_category(self, ledger):
        beneficiary_id = register_beneficiary(ledger, category="dibao")
        with pytest.raises(CategoryChangeInvalid):
            ledger.change_category(PURCHASER, beneficiary_id, "extreme_poverty", "lower", "wrong way")
        ledger.change_category(PURCHASER, beneficiary_id, "marginal", "lower", "income rose")
        assert ledger.get_beneficiary(PURCHASER, beneficiary_id)["category"] == "marginal"
