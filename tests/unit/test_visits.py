"""Visits and cases: what a visit must be, and what stops it counting towards the volume."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ledger.domain.cases import Case
from ledger.domain.errors import CaseStateConflict, InvalidInput, InvalidPeriod, ServiceNotReferred, VisitStateConflict
from tests.unit.support import CONTRACTOR, PURCHASER, T0, visit


def case(services: list[str] | None = None) -> Case:
    return Case.refer(
        beneficiary_id="person-1",
        contract_id="contract-1",
        contractor_id="contractor-1",
        services=services or ["visiting"],
        channel="hotline_12349",
        visit_interval_days=30,
        self_care_level="self_reliant",
        township="Xinhua Street",
        village="Hongqi Community",
        note="",
        by=PURCHASER,
    )


class TestDelivery:
    def test_visit_times_need_a_time_zone(self):
        with pytest.raises(InvalidPeriod):
            visit(started_at=datetime(2025, 3, 1, 9, 0))

    def test_a_visit_ends_after_it_starts(self):
        with pytest.raises(InvalidPeriod):
            visit(ended_at=T0)

    def test_a_visit_cannot_end_in_the_future(self):
        later = datetime.now(timezone.utc) + timedelta(days=1)
        with pytest.raises(InvalidPeriod):
            visit(started_at=later)

    def test_a_delivered_visit_counts(self):
        assert visit().counts


class TestWhatStopsAVisitCounting:
    def test_voiding_stops_it_counting_once(self):
        v = visit()
        v.void("posted twice", CONTRACTOR)
        (voided,) = v.collect_events()
        assert voided.volume_delta == -1 and not v.counts
        with pytest.raises(VisitStateConflict):
            v.void("again", CONTRACTOR)

    def test_a_void_needs_a_reason(self):
        with pytest.raises(InvalidInput):
            visit().void("  ", CONTRACTOR)

    def test_a_dispute_stops_it_counting(self):
        v = visit()
        v.dispute("nobody came", "follow_up_call", PURCHASER)
        (disputed,) = v.collect_events()
        assert disputed.volume_delta == -1 and not v.counts

    @pytest.mark.parametrize("result", ["not_found", "falsified"])
    def test_a_failed_spot_check_stops_it_counting(self, result):
        v = visit()
        v.record_spot_check(result, "unannounced visit", PURCHASER)
        (checked,) = v.collect_events()
        assert checked.volume_delta == -1 and not v.counts

    def test_a_verified_spot_check_leaves_it_counting(self):
        v = visit()
        v.record_spot_check("verified", "", PURCHASER)
        (checked,) = v.collect_events()
        assert checked.volume_delta == 0 and v.counts

    def test_a_visit_stops_counting_only_once_whatever_happens_after(self):
        v = visit()
        v.dispute("nobody came", "follow_up_call", PURCHASER)
        v.record_spot_check("falsified", "", PURCHASER)
        v.void("fraud", CONTRACTOR)
        assert [e.volume_delta for e in v.collect_events()] == [-1, 0, 0]

    def test_a_visit_is_spot_checked_once(self):
        v = visit()
        v.record_spot_check("verified", "", PURCHASER)
        with pytest.raises(VisitStateConflict):
            v.record_spot_check("falsified", "", PURCHASER)

    def test_a_voided_visit_cannot_be_confirmed_or_disputed(self):
        v = visit()
        v.void("mistake", CONTRACTOR)
        with pytest.raises(VisitStateConflict):
            v.confirm("follow_up_call", PURCHASER)
        with pytest.raises(VisitStateConflict):
            v.dispute("?", "follow_up_call", PURCHASER)


class TestCases:
    def test_visits_are_posted_only_on_accepted_cases(self):
        c = case()
        with pytest.raises(CaseStateConflict):
            c.check_open_for("visiting")
        c.accept(CONTRACTOR)
        c.check_open_for("visiting")
        c.close("done", CONTRACTOR)
        with pytest.raises(CaseStateConflict):
            c.check_open_for("visiting")

    def test_visits_are_posted_only_for_referred_services(self):
        c = case(["visiting"])
        c.accept(CONTRACTOR)
        with pytest.raises(ServiceNotReferred):
            c.check_open_for("meals")

    def test_a_declined_case_cannot_be_accepted(self):
        c = case()
        c.decline("no capacity in that village", CONTRACTOR)
        with pytest.raises(CaseStateConflict):
            c.accept(CONTRACTOR)

    def test_a_decline_needs_a_reason(self):
        with pytest.raises(InvalidInput):
            case().decline("", CONTRACTOR)
