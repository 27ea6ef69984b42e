"""The domain's own check digits (standard library only) agree with python-stdnum's
stdnum.cn.ric and stdnum.cn.uscc on many generated numbers, and catch a one-character typo."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from ledger.domain.check_digits import (
    USCC_ALPHABET,
    credit_code_check_character,
    credit_code_check_ok,
    national_id_check_character,
    national_id_check_ok,
    with_credit_code_check,
    with_national_id_check,
)

DIGITS = "0123456789"
id_bodies = st.text(DIGITS, min_size=17, max_size=17)
code_bodies = st.tuples(st.text(DIGITS, min_size=8, max_size=8), st.text(USCC_ALPHABET, min_size=9, max_size=9)).map("".join)
# Real region codes and birth dates, so stdnum's full validation (which also checks them) applies.
REGIONS = ["110101", "310104", "330102", "440106", "510107", "522301"]
births = st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31))


@settings(max_examples=2000)
@given(id_bodies)
def test_the_id_check_character_is_stdnums(body):
    assert national_id_check_character(body) == ric.calc_check_digit(body + "0")


@settings(max_examples=2000)
@given(code_bodies)
def test_the_credit_code_check_character_is_stdnums(body):
    assert credit_code_check_character(body) == uscc.calc_check_digit(body)


@settings(max_examples=500)
@given(st.sampled_from(REGIONS), births, st.integers(0, 999))
def test_a_real_looking_id_number_is_valid_for_both(region, born, serial):
    number = with_national_id_check(f"{region}{born:%Y%m%d}{serial:03d}")
    assert national_id_check_ok(number) and ric.is_valid(number)


@settings(max_examples=500)
@given(code_bodies)
def test_a_completed_credit_code_is_valid_for_both(body):
    code = with_credit_code_check(body)
    assert credit_code_check_ok(code) and uscc.is_valid(code)


@settings(max_examples=300)
@given(st.sampled_from(REGIONS), births, st.integers(0, 999), st.integers(0, 16), st.integers(1, 9))
def test_any_one_digit_typo_in_an_id_number_is_caught_by_both(region, born, serial, position, shift):
    number = with_national_id_check(f"{region}{born:%Y%m%d}{serial:03d}")
    typo = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert not national_id_check_ok(typo) and not ric.is_valid(typo)


@settings(max_examples=300)
@given(code_bodies, st.integers(8, 16), st.integers(1, 30))
def test_any_one_character_typo_in_a_credit_code_is_caught_by_both(body, position, shift):
    code = with_credit_code_check(body)
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[position]) + shift) % 31]
    typo = code[:position] + wrong + code[position + 1 :]
    assert not credit_code_check_ok(typo) and not uscc.is_valid(typo)


@pytest.mark.parametrize("code", ["91110000600037341L", "91310000717866186P"])
def test_published_credit_codes_pass(code):
    assert credit_code_check_ok(code) and uscc.is_valid(code)


def test_the_letters_i_o_s_v_z_are_no_credit_code_characters():
    code = with_credit_code_check("91110000600037341")
    for letter in "IOSVZ":
        assert not credit_code_check_ok(code[:9] + letter + code[10:])


def test_the_check_x_stands_for_ten():
    assert national_id_check_ok("11010119800101111X") and ric.is_valid("11010119800101111X")
    assert not national_id_check_ok("110101198001011110")
