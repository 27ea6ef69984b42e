"""The demo city's identifiers carry real check digits: ISO 7064 MOD 11-2 for ID numbers,
GB 32100 (with the GB 11714 organisation code inside) for unified social credit codes."""

from __future__ import annotations

import pytest

from ledger.demo.check_digits import credit_code, credit_code_valid, national_id, national_id_valid, organisation_code


def test_published_examples_are_valid():
    assert national_id_valid("11010519491231002X")  # the example of GB 11643
    assert credit_code_valid("91110000600037341L")
    assert organisation_code("60003734") == "600037341"


@pytest.mark.parametrize("position", range(18))
def test_a_one_character_typo_in_an_id_number_is_caught(position):
    number = national_id("330127", "19480312", 17)
    typo = number[:position] + ("1" if number[position] != "1" else "2") + number[position + 1 :]
    assert national_id_valid(number) and not national_id_valid(typo)


@pytest.mark.parametrize("position", range(18))
def test_a_one_character_typo_in_a_credit_code_is_caught(position):
    code = credit_code("5", "2", "330127", "50871203")
    typo = code[:position] + ("1" if code[position] != "1" else "2") + code[position + 1 :]
    assert credit_code_valid(code) and not credit_code_valid(typo)


def test_an_id_number_ends_in_x_when_the_check_is_ten():
    numbers = [national_id("330127", "19500101", n) for n in range(1, 200)]
    assert any(n.endswith("X") for n in numbers) and all(national_id_valid(n) for n in numbers)


def test_a_credit_code_body_outside_the_alphabet_is_refused():
    with pytest.raises(ValueError):
        credit_code("5", "2", "330127", "5087120")  # 7 characters
    assert not credit_code_valid("52330127508712033I")  # I is not in the alphabet
