"""Check digits of the two national identifiers, in the standard library only (the domain
imports nothing else; tests/unit/test_check_digits.py proves them equal to python-stdnum's
stdnum.cn.ric and stdnum.cn.uscc on many generated numbers).

- Resident identity card number (居民身份证号码, GB 11643): 17 digits and a check character
  by ISO 7064 MOD 11-2, 'X' standing for 10.
- Unified social credit code (统一社会信用代码, GB 32100): 8 digits (registering authority, entity
  type, region) and 9 characters of the 31-character alphabet below (no I, O, S, V, Z), then a
  check character of the same alphabet by a weighted sum modulo 31.
"""

from __future__ import annotations

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...


def national_id_check_character(first17: str) -> str:
    """The 18th character of an ID number whose first 17 digits are given."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError("17 digits expected")
    # ISO 7064 MOD 11-2: weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11.
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def national_id_shape_ok(value: str) -> bool:
    return len(value) == 18 and value.isascii() and value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")


def national_id_check_ok(value: str) -> bool:
    """An upper-case 18-character number whose last character is its check character."""
    return national_id_shape_ok(value) and value[17] == national_id_check_character(value[:17])


def credit_code_check_character(first17: str) -> str:
    """The 18th character of a credit code whose first 17 characters are given."""
    if len(first17) != 17 or any(c not in USCC_ALPHABET for c in first17):
        raise ValueError("17 characters of the credit-code alphabet expected")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def credit_code_shape_ok(value: str) -> bool:
    return len(value) == 18 and value.isascii() and value[:8].isdigit() and all(c in USCC_ALPHABET for c in value[8:])


def credit_code_check_ok(value: str) -> bool:
    return credit_code_shape_ok(value) and value[17] == credit_code_check_character(value[:17])


def with_national_id_check(first17: str) -> str:
    """first17 completed with its check character (for generators of test and demo data)."""
    return first17 + national_id_check_character(first17)


def with_credit_code_check(first17: str) -> str:
    return first17 + credit_code_check_character(first17)
