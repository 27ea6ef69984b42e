"""Who vouches for a visit: the purchaser's follow-up (回访) or the beneficiary's own proof, never
the contractor on its own word."""

from __future__ import annotations

import pytest

from ledger.domain.catalogue import FOLLOW_UP_CHANNELS, ConfirmationChannel
from ledger.domain.errors import BeneficiaryProofMissing, ConfirmationNotAllowed, InvalidInput
from ledger.domain.visits import Visit
from tests.unit.support import CONTRACTOR, PURCHASER
from tests.unit.support import visit as delivered

EVIDENCE = "sha256:photo-at-the-door"
SIGNED_SLIP = "sha256:signed-slip"


def visit() -> Visit:
    return delivered(evidence_hash=EVIDENCE)


FOLLOW_UPS = sorted(c.value for c in FOLLOW_UP_CHANNELS)


class TestConfirmation:
    @pytest.mark.parametrize("channel", FOLLOW_UPS)
    def test_the_purchasers_follow_up_confirms_a_visit(self, channel):
        v = visit()
        v.confirm(channel, PURCHASER)
        (confirmed,) = v.collect_events()
        assert (confirmed.channel, v.confirmation) == (channel, "confirmed")

    @pytest.mark.parametrize("channel", FOLLOW_UPS)
    def test_a_contractor_cannot_record_a_follow_up_of_its_own_visit(self, channel):
        v = visit()
        with pytest.raises(ConfirmationNotAllowed):
            v.confirm(channel, CONTRACTOR)
        assert v.confirmation is None and not v.collect_events()

    def test_a_contractor_confirms_with_the_beneficiarys_own_signature(self):
        v = visit()
        v.confirm("beneficiary_signature", CONTRACTOR, SIGNED_SLIP)
        (confirmed,) = v.collect_events()
        assert (confirmed.channel, confirmed.proof) == ("beneficiary_signature", SIGNED_SLIP)

    @pytest.mark.parametrize("proof", [None, "", "   "])
    def test_a_signature_without_a_proof_reference_is_refused(self, proof):
        with pytest.raises(BeneficiaryProofMissing):
            visit().confirm("beneficiary_signature", CONTRACTOR, proof)

    def test_the_visits_own_evidence_is_no_proof_of_the_beneficiarys_word(self):
        with pytest.raises(BeneficiaryProofMissing):
            visit().confirm("beneficiary_signature", CONTRACTOR, EVIDENCE)

    @pytest.mark.parametrize("channel", ["signature", "phone", "self_declared", ""])
    def test_a_channel_outside_the_catalogue_is_refused(self, channel):
        with pytest.raises(InvalidInput):
            visit().confirm(channel, PURCHASER)

    def test_every_channel_carries_a_chinese_and_an_english_label(self):
        labels = ConfirmationChannel.labels()
        assert set(labels) == {"follow_up_call", "home_visit", "hotline_12349", "beneficiary_signature"}
        assert all(label["zh"] and label["en"] for label in labels.values())


class TestDispute:
    @pytest.mark.parametrize("channel", FOLLOW_UPS)
    def test_the_purchasers_follow_up_disputes_a_visit(self, channel):
        v = visit()
        v.dispute("回访称未上门", channel, PURCHASER)
        (disputed,) = v.collect_events()
        assert disputed.channel == channel and not v.counts

    def test_a_contractor_does_not_dispute_its_own_visit(self):
        v = visit()
        with pytest.raises(ConfirmationNotAllowed):
            v.dispute("we were not there", "beneficiary_signature", CONTRACTOR, SIGNED_SLIP)
        assert v.counts and not v.collect_events()

    def test_a_dispute_on_the_beneficiarys_written_word_needs_its_proof(self):
        with pytest.raises(BeneficiaryProofMissing):
            visit().dispute("书面投诉", "beneficiary_signature", PURCHASER)
        v = visit()
        v.dispute("书面投诉", "beneficiary_signature", PURCHASER, "sha256:complaint-letter")
        assert v.confirmation == "disputed"
