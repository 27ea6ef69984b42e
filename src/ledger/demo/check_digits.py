"""The demo city's made-up identifiers, with the check characters the domain verifies
(ledger.domain.check_digits): ID numbers (GB 11643, ISO 7064 MOD 11-2) and unified social credit
codes (GB 32100), whose characters 9 to 17 are an organisation code (GB 11714) with its own check.
"""

from __future__ import annotations

from ledger.domain.check_digits import credit_code_check_ok, national_id_check_ok, with_credit_code_check, with_national_id_check

_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def national_id(area: str, birth: str, sequence: int) -> str:
    """An 18-digit ID number: 6-digit area code, birth date YYYYMMDD, 3-digit sequence (odd for a
    man, even for a woman) and its check character."""
    return with_national_id_check(f"{area}{birth}{sequence:03d}")


def national_id_valid(number: str) -> bool:
    return national_id_check_ok(number)


def organisation_code(base8: str) -> str:
    """A 9-character organisation code (GB 11714): 8 characters and their check character."""
    if len(base8) != 8 or any(c not in _ORG_ALPHABET for c in base8):
        raise ValueError("an organisation code's body is 8 digits or capital letters")
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(base8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return base8 + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(registrar: str, kind: str, area: str, base8: str) -> str:
    """A unified social credit code: registration department (5 civil affairs, 9 market
    regulation), organisation kind (for civil affairs 1 association, 2 private non-enterprise
    unit, 3 foundation; for market regulation 1 company), 6-digit area code, organisation code."""
    return with_credit_code_check(f"{registrar}{kind}{area}{organisation_code(base8)}")


def credit_code_valid(code: str) -> bool:
    """The code's own check and the organisation code's inside it."""
    if not credit_code_check_ok(code):
        return False
    org = code[8:17]
    return all(c in _ORG_ALPHABET for c in org[:8]) and organisation_code(org[:8]) == org
