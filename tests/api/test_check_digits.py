"""A one-character typo in an ID number or a credit code is refused 422 with a stable code
(its check digit does not match), without echoing the number, and records nothing."""

from __future__ import annotations

from tests.api.builders import beneficiary_body, contractor_body, head


def _typo(number: str, position: int) -> str:
    digit = number[position]
    return number[:position] + str((int(digit) + 1) % 10) + number[position + 1 :]


def test_a_mistyped_national_id_is_refused_by_its_check_digit(client, world):
    before = head(client)
    body = beneficiary_body(77)
    typo = _typo(body["national_id"], 9)
    r = client.post("/beneficiaries", json={**body, "national_id": typo}, headers=world.purchaser)
    assert r.status_code == 422 and r.json()["error"] == "NationalIdCheckFailed", r.text
    assert typo not in r.text and body["national_id"] not in r.text
    assert head(client) == before
    # A look-up checks the shape only (a person registered before check digits stays findable):
    # the mistyped number finds nobody.
    r = client.post("/beneficiaries/lookup", json={"national_id": typo}, headers=world.purchaser)
    assert r.status_code == 404 and typo not in r.text, r.text
    assert client.post("/beneficiaries", json=body, headers=world.purchaser).status_code == 201


def test_a_mistyped_credit_code_is_refused_by_its_check_character(client, world):
    before = head(client)
    good = contractor_body("校验机构", "52330100MJ1234567M")
    typo = {**good, "credit_code": _typo(good["credit_code"], 12)}
    r = client.post("/contractors", json=typo, headers=world.purchaser)
    assert r.status_code == 422 and r.json()["error"] == "CreditCodeCheckFailed", r.text
    r = client.post("/contractors", json={**good, "credit_code": "52330100MJ12345O7M"}, headers=world.purchaser)
    assert r.status_code == 422 and r.json()["error"] == "InvalidCreditCode", r.text
    assert head(client) == before
