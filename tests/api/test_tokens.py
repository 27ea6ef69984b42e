"""Tokens through the API: a purchaser issues one (its secret shown in that answer only), lists
them (never a secret nor its digest) and revokes one, which is refused from the next request on.
No other role may do any of it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.builders import head


def issue(client: Any, headers: dict[str, str], status: int = 201, **body: Any) -> dict[str, Any]:
    r = client.post("/tokens", json=body, headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def listed(client: Any, headers: dict[str, str], position: int, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/tokens", params={"min_position": position, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_purchaser_issues_a_contractor_token_that_works_and_shows_in_the_list_without_its_secret(client, world):
    issued = issue(client, world.purchaser, role="contractor", organisation_id=world.a.contractor_id, subject="coordinator-chen")
    assert issued["token"].startswith("lgr_") and set(issued) == {"token", "token_id", "role", "organisation_id", "subject", "position"}
    headers = {"Authorization": f"Bearer {issued['token']}"}
    # The new holder acts as contractor A, on A's objects only.
    assert client.get(f"/contracts/{world.a.contract_id}", headers=headers).status_code == 200
    assert client.get(f"/contracts/{world.b.contract_id}", headers=headers).status_code == 404

    r = client.get("/tokens", params={"min_position": issued["position"]}, headers=world.purchaser)
    assert r.status_code == 200, r.text
    assert issued["token"] not in r.text and "digest" not in r.text
    rows = {row["token_id"]: row for row in r.json()["items"]}
    row = rows[issued["token_id"]]
    assert set(row) == {"token_id", "role", "organisation_id", "subject", "issued_at", "issued_by", "issued_position", "revoked"}
    assert (row["role"], row["organisation_id"], row["subject"], row["revoked"]) == ("contractor", world.a.contractor_id, "coordinator-chen", False)
    assert row["issued_by"] == "officer-zhang" and row["issued_at"].endswith("+00:00")
    # Newest first: the world's tokens, issued on the command line's path, come after it.
    assert r.json()["items"][0]["token_id"] == issued["token_id"]
    assert len(rows) >= 7 and {"cli"} <= {x["issued_by"] for x in rows.values()}


def test_a_revoked_token_is_refused_at_once_and_listed_as_revoked(client, world):
    issued = issue(client, world.purchaser, role="finance", organisation_id="finance-bureau", subject="cashier-wang")
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert client.get(f"/funds/{world.fund_id}", headers=headers).status_code == 200
    r = client.post(f"/tokens/{issued['token_id']}/revocation", headers=world.purchaser)
    assert r.status_code == 201 and r.json()["revoked"] is True, r.text
    refused = client.get(f"/funds/{world.fund_id}", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"] == "Unauthenticated", refused.text
    row = next(x for x in listed(client, world.purchaser, r.json()["position"]) if x["token_id"] == issued["token_id"])
    assert row["revoked"] is True
    # Revoking again changes nothing and is no error.
    assert client.post(f"/tokens/{issued['token_id']}/revocation", headers=world.purchaser).status_code == 201


def test_a_purchaser_issues_tokens_for_an_auditor_and_another_purchaser_officer(client, world):
    for role, org in (("auditor", "audit-bureau"), ("purchaser", "civil-affairs"), ("evaluator", None)):
        issued = issue(client, world.purchaser, role=role, organisation_id=org, subject=f"{role}-new")
        assert issued["role"] == role
        assert client.get(f"/funds/{world.fund_id}", headers={"Authorization": f"Bearer {issued['token']}"}).status_code in (200, 403)


@pytest.mark.parametrize("role", ["contractor", "finance", "auditor", "evaluator"])
def test_no_other_role_issues_lists_or_revokes_tokens(client, world, role):
    before = head(client)
    headers = world.role(role)
    r = client.post("/tokens", json={"role": "purchaser", "organisation_id": "civil-affairs", "subject": "me-too"}, headers=headers)
    assert r.status_code == 403 and r.json()["error"] == "Forbidden", r.text
    assert client.get("/tokens", headers=headers).status_code == 403
    victim = issue(client, world.purchaser, role="auditor", organisation_id="audit-bureau", subject="auditor-zhao")
    assert client.post(f"/tokens/{victim['token_id']}/revocation", headers=headers).status_code == 403
    assert head(client) == victim["position"] and victim["position"] == before + 1


def test_tokens_need_a_token(client, world):
    assert client.post("/tokens", json={"role": "auditor", "subject": "x"}).status_code == 401
    assert client.get("/tokens").status_code == 401


@pytest.mark.parametrize(
    "body, error",
    [
        ({"role": "admin", "subject": "x"}, "ValidationError"),
        ({"role": "system", "subject": "x"}, "ValidationError"),
        ({"role": "auditor"}, "ValidationError"),
        ({"role": "auditor", "subject": ""}, "ValidationError"),
        ({"role": "auditor", "subject": "x", "secret": "mine"}, "ValidationError"),
        ({"role": "contractor", "subject": "x"}, "InvalidInput"),  # a contractor token names its organisation
    ],
)
def test_a_bad_token_request_is_refused_422(client, world, body, error):
    before = head(client)
    r = client.post("/tokens", json=body, headers=world.purchaser)
    assert r.status_code == 422 and r.json()["error"] == error, r.text
    assert head(client) == before


def test_a_contractor_token_for_an_unknown_organisation_and_an_unknown_token_are_404(client, world):
    r = client.post("/tokens", json={"role": "contractor", "organisation_id": "00000000-0000-0000-0000-000000000000", "subject": "x"}, headers=world.purchaser)
    assert r.status_code == 404 and r.json()["error"] == "ContractorNotFound", r.text
    r = client.post("/tokens/00000000-0000-0000-0000-000000000000/revocation", headers=world.purchaser)
    assert r.status_code == 404 and r.json()["error"] == "TokenNotFound", r.text
    # A contract's id is no token's.
    assert client.post(f"/tokens/{world.a.contract_id}/revocation", headers=world.purchaser).status_code == 404


def test_the_token_list_pages_oldest_first_when_asked(client, world):
    last = [issue(client, world.purchaser, role="auditor", organisation_id="audit-bureau", subject=f"a{n}") for n in range(3)][-1]
    first = client.get("/tokens", params={"min_position": last["position"], "order": "asc", "limit": 2}, headers=world.purchaser).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = listed(client, world.purchaser, last["position"], order="asc", cursor=first["next_cursor"], limit=500)
    positions = [x["issued_position"] for x in first["items"] + rest]
    assert positions == sorted(positions) and rest[-1]["token_id"] == last["token_id"]
