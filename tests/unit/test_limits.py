"""The domain's limits: what they refuse, that the aggregates apply them, and that what they
accept fits the read-model columns."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Integer, String

from ledger.domain import limits
from ledger.domain.base import add_years
from ledger.domain.contractors import Contractor
from ledger.domain.limits import InvalidText, OutOfRange
from ledger.domain.rules import money
from ledger.domain.visits import Visit
from projections.tables import LIVE
from tests.unit.support import CONTRACTOR, LINES, MILESTONES, PURCHASER, sign

NAME = limits.TextLimit(5)


class TestText:
    def test_a_text_at_its_maximum_length_with_tabs_and_newlines_is_accepted(self):
        assert NAME.check("a\tb\nc") == "a\tb\nc"

    @pytest.mark.parametrize("value", ["", "abcdef", "a\x00b", "a\x1fb", "a\x7fb", "a\rb"])
    def test_a_text_empty_too_long_or_with_control_characters_is_refused(self, value):
        with pytest.raises(InvalidText):
            NAME.check(value)

    def test_an_optional_text_may_be_absent(self):
        assert NAME.check_optional(None) is None


class TestNumbersDatesAndLists:
    @pytest.mark.parametrize("value", [0, 10_000_001, 2**31, 10**20, True, "5"])
    def test_a_quantity_outside_its_range_or_not_a_whole_number_is_refused(self, value):
        with pytest.raises(OutOfRange):
            limits.QUANTITY.check(value)

    def test_money_past_the_maximum_is_refused(self):
        assert money(limits.MAX_YUAN) == limits.MAX_YUAN
        with pytest.raises(OutOfRange):
            money(limits.MAX_YUAN + Decimal("0.01"))

    @pytest.mark.parametrize("day", [date(1999, 12, 31), date(2100, 1, 1), date(9998, 6, 1)])
    def test_a_day_outside_the_range_is_refused(self, day):
        with pytest.raises(OutOfRange):
            limits.check_day(day)

    def test_a_time_without_a_zone_or_past_the_range_is_refused(self):
        for moment in (datetime(2026, 1, 1), datetime(2100, 1, 1, tzinfo=timezone.utc)):
            with pytest.raises(OutOfRange):
                limits.check_time(moment)

    def test_a_list_past_its_size_is_refused(self):
        limits.PANEL.check([{}] * limits.PANEL.max_items)
        with pytest.raises(OutOfRange):
            limits.PANEL.check([{}] * (limits.PANEL.max_items + 1))


class TestAggregatesApplyTheLimits:
    def test_a_contract_starting_near_year_9999_is_refused_not_crashed(self):
        with pytest.raises(OutOfRange):
            sign(start_date=date(9998, 6, 1), end_date=date(9999, 1, 1))

    def test_a_budget_past_the_maximum_is_refused(self):
        lines = [dict(LINES[0], quantity=limits.QUANTITY.maximum, unit_price=str(limits.MAX_YUAN))]
        with pytest.raises(OutOfRange):
            sign(lines=lines, milestones=[], tranches=[])

    def test_a_milestone_quantity_past_the_limit_is_refused(self):
        milestones = [dict(MILESTONES[0], quantity=2**31), *MILESTONES[1:]]
        with pytest.raises(OutOfRange):
            sign(milestones=milestones)

    def test_a_worker_name_with_a_nul_is_refused(self):
        contractor = Contractor.register("阳光", "social_organisation", "52330100MJ1234567M", [], PURCHASER)
        with pytest.raises(InvalidText):
            contractor.enrol_worker("w-1", "张\x00三", "", CONTRACTOR)

    def test_a_visit_note_past_its_length_is_refused(self):
        start = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
        with pytest.raises(InvalidText):
            Visit.deliver(
                case_id="c", contract_id="k", contractor_id="o", beneficiary_id="b", worker_id="w", service_code="meals",
                started_at=start, ended_at=start.replace(hour=10), location=None, notes="x" * (limits.VISIT_NOTES.max_length + 1),
                evidence_hash=None, township="t", village="v", by=CONTRACTOR,
            )  # fmt: skip

    def test_29_february_moves_to_the_28th_only_in_a_common_year(self):
        assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
        assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


class TestColumnsHoldWhatIsAccepted:
    def test_integer_columns_hold_every_accepted_count_and_money_in_fen_fits_64_bits(self):
        for limit in (limits.QUANTITY, limits.VISIT_INTERVAL_DAYS, limits.FISCAL_YEAR, limits.NEED_SCORE):
            assert limit.maximum < 2**31
        assert limits.MAX_YUAN * 100 < 2**63
        assert isinstance(LIVE.milestones.c.quantity.type, Integer) and isinstance(LIVE.funds.c.appropriated_fen.type, BigInteger)

    @pytest.mark.parametrize(
        "column, limit",
        [
            (LIVE.workers.c.name, limits.WORKER_NAME),
            (LIVE.contractors.c.name, limits.CONTRACTOR_NAME),
            (LIVE.contracts.c.contract_no, limits.CONTRACT_NO),
            (LIVE.cases.c.township, limits.TOWNSHIP),
            (LIVE.visits.c.village, limits.VILLAGE),
            (LIVE.fund_breakdown.c.key, limits.TOWNSHIP),
            (LIVE.milestones.c.title, limits.MILESTONE_TITLE),
            (LIVE.audit_events.c.actor_id, limits.TOKEN_SUBJECT),
        ],
    )
    def test_a_text_column_holds_the_longest_text_its_limit_accepts(self, column, limit):
        assert isinstance(column.type, String) and column.type.length >= limit.max_length
