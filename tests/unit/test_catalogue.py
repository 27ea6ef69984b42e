"""The catalogue: the 32 direct services of seed 001 annex 1, and other codes with labels."""

from __future__ import annotations

from ledger.domain.catalogue import (
    CATEGORY_RANK,
    ENUMS,
    FORBIDDEN_FUND_SOURCES,
    SERVICE_ITEMS,
    SERVICES,
    BeneficiaryCategory,
    FundSource,
    ServiceClass,
    ServiceKind,
)


def test_the_direct_services_are_numbered_1_to_32():
    direct = [s for s in SERVICE_ITEMS if s.kind is ServiceKind.DIRECT]
    assert sorted(s.number for s in direct) == list(range(1, 33))


def test_the_three_classes_hold_items_1_12_13_22_and_23_32():
    def numbers(cls):
        return sorted(s.number for s in SERVICE_ITEMS if s.service_class is cls)

    assert numbers(ServiceClass.CARE) == list(range(1, 13))
    assert numbers(ServiceClass.DAILY_LIVING) == list(range(13, 23))
    assert numbers(ServiceClass.CARING) == list(range(23, 33))


def test_item_29_is_policy_outreach_not_39():
    assert SERVICES["policy_outreach"].number == 29


def test_administrative_work_is_unnumbered():
    admin = [s for s in SERVICE_ITEMS if s.kind is ServiceKind.ADMINISTRATIVE]
    assert admin and all(s.number is None for s in admin)
    assert {"means_survey", "home_verification", "custody_outsourcing"} <= {s.code for s in admin}


def test_service_codes_are_unique():
    assert len(SERVICES) == len(SERVICE_ITEMS)


def test_every_code_has_a_chinese_and_an_english_label():
    for enum in ENUMS.values():
        for code, label in enum.labels().items():
            assert label["zh"] and label["en"], code


def test_basic_living_and_special_assistance_are_the_forbidden_sources():
    assert FORBIDDEN_FUND_SOURCES == {FundSource.BASIC_LIVING, FundSource.SPECIAL_ASSISTANCE}


def test_extreme_poverty_is_the_deepest_need_category():
    assert min(CATEGORY_RANK, key=CATEGORY_RANK.get) is BeneficiaryCategory.EXTREME_POVERTY
    assert CATEGORY_RANK[BeneficiaryCategory.DIBAO] < CATEGORY_RANK[BeneficiaryCategory.MARGINAL]
