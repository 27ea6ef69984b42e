"""Open contracting through the HTTP API: a contract that has run its course (visits, a released
volume tranche, evaluations with results, acceptance) published as an OCDS 1.1.5 release package
that validates against the official schemas (tests/ocds/, copied unchanged; no network), with
figures that are the read models' figures, readable without a token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.builders import World, head, post, scores, visit_body
from tests.api.ocds_schema import assert_valid


@pytest.fixture
def run_course(client: TestClient, world: World) -> World:
    """Contractor A's contract runs its course: volume met and paid, mid-term and final evaluations
    concluded and paid, acceptance passed and paid."""
    a, finance, evaluator, purchaser = world.a, world.finance, world.evaluator, world.purchaser
    for hours_ago in (2, 1):  # with the world's visit, the volume of 3 meals
        post(client, "/visits", a.token, visit_body(a.case_id, a.worker_id, hours_ago=hours_ago))
    post(client, f"/contracts/{a.contract_id}/tranches/t-volume/release", finance)
    post(client, f"/evaluations/{a.evaluation_id}/scores", evaluator, scores(85))
    post(client, f"/evaluations/{a.evaluation_id}/conclusion", evaluator, {"report": "中期评估良好"})
    post(client, f"/contracts/{a.contract_id}/tranches/t-mid/release", finance)
    final = post(client, "/evaluations", purchaser, {"contract_id": a.contract_id, "stage": "final", "third_party": "省社会工作评估中心"})["evaluation_id"]
    post(client, f"/evaluations/{final}/scores", evaluator, scores(92))
    post(client, f"/evaluations/{final}/conclusion", evaluator, {"report": "优秀"})
    post(client, f"/contracts/{a.contract_id}/tranches/t-final/release", finance)
    post(client, f"/contracts/{a.contract_id}/acceptance", purchaser, {"note": "验收合格"})
    post(client, f"/contracts/{a.contract_id}/tranches/t-acceptance/release", finance)
    return world


def test_a_contract_that_ran_its_course_is_published_without_a_token_as_a_valid_ocds_package_with_the_read_models_figures(client: TestClient, run_course: World) -> None:
    world = run_course
    position = head(client)
    r = client.get(f"/publish/contracts/{world.a.contract_id}.json", params={"min_position": position})  # no Authorization header
    assert r.status_code == 200, r.text
    package = r.json()
    assert_valid(package)
    (release,) = package["releases"]
    read = client.get(f"/read/contracts/{world.a.contract_id}", headers=world.auditor, params={"min_position": position}).json()
    contractor = client.get(f"/contractors/{world.a.contractor_id}", headers=world.auditor).json()

    assert release["ocid"] == f"ocds-ledger-{world.a.contract_id}" and release["tag"] == ["compiled"]
    assert package["version"] == "1.1"
    roles = {party["id"]: set(party["roles"]) for party in release["parties"]}
    assert roles[world.a.contractor_id] == {"supplier", "payee"} and {"buyer", "procuringEntity"} in roles.values() and {"payer"} in roles.values()
    (supplier,) = [p for p in release["parties"] if p["id"] == world.a.contractor_id]
    assert supplier["identifier"] == {"scheme": "CN-SAIC", "id": contractor["credit_code"], "legalName": contractor["name"]}
    assert release["tender"]["procurementMethod"] == "open" and release["tender"]["procurementMethodDetails"].startswith("公开招标")
    assert Decimal(str(release["planning"]["budget"]["amount"]["amount"])) == Decimal(read["budget"]) == Decimal("3500.00")
    assert release["planning"]["budget"]["id"] == world.fund_id

    (contract,) = release["contracts"]
    assert contract["status"] == "active" and contract["statusDetails"] == read["status"] == "accepted"
    paid = {t["id"]: t for t in contract["implementation"]["transactions"]}
    assert set(paid) == {t["tranche_id"] for t in read["tranches"] if t["status"] == "released"} == {"t-volume", "t-mid", "t-final", "t-acceptance"}
    for tranche in read["tranches"]:
        value = paid[tranche["tranche_id"]]["value"]
        assert isinstance(value["amount"], (int, float)) and value["currency"] == "CNY"
        assert Decimal(str(value["amount"])) == Decimal(tranche["released"])
    assert sum(Decimal(str(t["value"]["amount"])) for t in paid.values()) == Decimal(read["released"])

    milestones = {m["id"]: m for m in contract["implementation"]["milestones"]}
    for m in read["milestones"]:
        assert milestones[m["milestone_id"]]["status"] == ("met" if m["status"] == "fulfilled" else "scheduled")
    assert milestones["acceptance"]["status"] == "met" and "验收通过" in milestones["acceptance"]["description"]
    results = {m["title"]: m for m in milestones.values() if m["type"] == "assessment" and m["id"].startswith("evaluation-")}
    graded = {e["stage"]: e for e in read["evaluations"]}
    assert graded["final"]["grade"] == "excellent"
    assert results["期末评估 (Final evaluation)"]["status"] == "met" and "优秀" in results["期末评估 (Final evaluation)"]["description"]
    assert graded["final"]["total"] in results["期末评估 (Final evaluation)"]["description"]


def test_every_contract_is_in_the_release_package_and_it_validates(client: TestClient, run_course: World) -> None:
    world = run_course
    r = client.get("/publish/releases.json", params={"min_position": head(client)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    package = r.json()
    assert_valid(package)
    assert {release["ocid"] for release in package["releases"]} == {f"ocds-ledger-{world.a.contract_id}", f"ocds-ledger-{world.b.contract_id}"}
    (fresh,) = [release for release in package["releases"] if release["ocid"].endswith(world.b.contract_id)]
    (contract,) = fresh["contracts"]
    assert contract["implementation"]["transactions"] == []  # nothing paid yet
    assert {m["status"] for m in contract["implementation"]["milestones"]} == {"scheduled"}  # its evaluation is open: no result yet


def test_an_unknown_contract_is_a_json_not_found(client: TestClient, world: World) -> None:
    r = client.get("/publish/contracts/no-such-contract.json")
    assert r.status_code == 404 and r.json()["error"] == "ContractNotFound"


def test_the_schema_check_would_fail_a_package_that_breaks_the_standard(client: TestClient, world: World) -> None:
    package = client.get(f"/publish/contracts/{world.a.contract_id}.json", params={"min_position": head(client)}).json()
    package["releases"][0]["tender"]["procurementMethod"] = "single_source"  # not in the closed codelist
    del package["releases"][0]["initiationType"]
    with pytest.raises(AssertionError, match="initiationType"):
        assert_valid(package)


def test_the_cli_writes_the_same_release_package_the_api_serves(client: TestClient, run_course: World, settings: Any, tmp_path: Path) -> None:
    served = client.get("/publish/releases.json", params={"min_position": head(client)}).json()
    target = tmp_path / "releases.json"
    env = {**os.environ, "LEDGER_DATABASE_URL": settings.database_url, "LEDGER_ID_HASH_KEY": settings.id_hash_key, "LEDGER_ENVIRONMENT": "test"}
    done = subprocess.run([str(Path(sys.executable).with_name("ledger")), "publish", str(target)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    written = json.loads(target.read_text(encoding="utf-8"))
    assert_valid(written)
    assert written["releases"] == served["releases"]
