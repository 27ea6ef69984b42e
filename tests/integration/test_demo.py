"""`ledger demo`: an empty store filled with a small county through the ledger's own commands,
its read models caught up by the command itself, so a service started afterwards (here one that
keeps no read models of its own) shows them full at once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from ledger.bootstrap import build_ledger
from ledger.demo import build_demo_city
from ledger.demo.check_digits import credit_code_valid
from ledger.settings import Settings
from tests.api.ocds_schema import assert_valid

LEDGER = str(Path(sys.executable).with_name("ledger"))


def _run(store_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        LEDGER_DATABASE_URL=store_url,
        LEDGER_ID_HASH_KEY="test-id-hash-key",
        LEDGER_ENVIRONMENT="test",
        LEDGER_SIGNING_KEY_PATH=str(tmp_path / "signing.key"),
    )
    return subprocess.run([LEDGER, "demo", *args], env=env, capture_output=True, text=True, timeout=300)


@contextmanager
def _served(store_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The API over the demo's store, keeping no read models itself: it shows what the demo left."""
    settings = Settings(
        environment="test",
        database_url=store_url,
        id_hash_key="test-id-hash-key",
        signing_key_path=str(tmp_path / "signing.key"),
        projections_in_service=False,
        follower_in_service=False,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def _get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    r = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def test_the_demo_city_is_served_full_from_read_models_the_demo_brought_up_to_date(store_url, tmp_path):
    done = _run(store_url, tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    city = json.loads(done.stdout)
    steps = done.stderr.splitlines()
    assert all(line.startswith("demo: ") for line in steps) and len(steps) >= 10
    assert "read models and hash chain caught up" in steps[-1]

    with _served(store_url, tmp_path) as client:
        purchaser, finance, auditor = (city["tokens"][r] for r in ("purchaser", "finance", "auditor"))
        status = _get(client, auditor, "/projections/status")
        assert status["head"] == city["position"]
        assert {p["name"]: p["lag_events"] for p in status["projections"]} == {p["name"]: 0 for p in status["projections"]}

        payable = _get(client, finance, "/read/payable-tranches")["items"]
        assert {(t["contract_id"], t["tranche_id"]) for t in payable} == {(t["contract_id"], t["tranche_id"]) for t in city["payable_tranches"]}
        assert len(payable) >= 1

        released = city["released_tranche"]
        contract = _get(client, purchaser, f"/read/contracts/{released['contract_id']}")
        assert contract["released"] == released["amount"] != "0.00"
        assert [(e["stage"], e["grade"]) for e in contract["evaluations"]] == [("mid_term", "good")]
        assert {m["milestone_id"]: m["status"] for m in contract["milestones"]}["m-volume"] == "fulfilled"
        fund = _get(client, purchaser, f"/read/funds/{city['fund_id']}")
        assert fund["disbursed"] == released["amount"]

        visits = _get(client, auditor, "/read/visits", contract_id=released["contract_id"], limit=100)
        assert len(visits["items"]) == 100 and visits["next_cursor"]
        assert city["visits"] > 1000
        registered = _get(client, auditor, "/read/audit", event_type="Beneficiary.Registered", limit=100)["items"]
        assert len(registered) == len(city["beneficiaries"]) == 60
        townships = _get(client, purchaser, "/read/caseload", group_by="township")["items"]
        assert len(townships) == 4 and sum(t["beneficiaries_served"] for t in townships) >= 40

        trace = _get(client, auditor, f"/trace/tranches/{released['contract_id']}/{released['tranche_id']}")
        assert trace["tranche"]["status"] == "released" and trace["milestone"]["counted"] == trace["milestone"]["quantity"]
        assert trace["visits"]["items"] and all(v["counts"] for v in trace["visits"]["items"])
        flags = _get(client, auditor, "/read/red-flags")["items"]
        assert {f["kind"] for f in flags} == {"disputes_and_failed_checks"}  # the one planted dispute
        assert _get(client, auditor, "/audit/verify")["intact"] is True

        for c in city["contractors"]:
            assert credit_code_valid(c["credit_code"])
            own = _get(client, c["token"], "/read/contracts")["items"]
            assert [k["contract_id"] for k in own] == [c["contract_id"]]
        inbox = _get(client, city["tokens"]["contractor"], "/read/referrals/inbox")["items"]
        assert len(inbox) == 2

        # The city's open-contracting publication validates against the official OCDS 1.1.5 schema.
        published = client.get("/publish/releases.json")
        assert published.status_code == 200, published.text
        package = published.json()
        assert_valid(package)
        assert len(package["releases"]) == len(city["contractors"])
        paid = [t for r in package["releases"] for c in r.get("contracts", []) for t in c.get("implementation", {}).get("transactions", [])]
        assert [(Decimal(str(t["value"]["amount"])), t["value"]["currency"]) for t in paid] == [(Decimal(released["amount"]), "CNY")]


def test_the_printed_tokens_sign_in_and_a_second_demo_is_refused_in_one_line(store_url, tmp_path, ledger):
    first = _run(store_url, tmp_path)
    assert first.returncode == 0, first.stderr
    exports = dict(re.findall(r"^export (LEDGER_\w+_TOKEN)=(\S+)", first.stdout, re.M))
    roles = {name: ledger.authenticate(token, "c").role for name, token in exports.items()}
    assert roles["LEDGER_PURCHASER_TOKEN"] == "purchaser" and roles["LEDGER_FINANCE_TOKEN"] == "finance"
    assert roles["LEDGER_AUDITOR_TOKEN"] == "auditor" and roles["LEDGER_EVALUATOR_TOKEN"] == "evaluator"
    assert [n for n, r in roles.items() if r == "contractor"] == ["LEDGER_CONTRACTOR_SUNSHINE_TOKEN", "LEDGER_CONTRACTOR_ANKANG_TOKEN", "LEDGER_CONTRACTOR_LINLI_TOKEN", "LEDGER_CONTRACTOR_TOKEN"]
    head = ledger.head()

    second = _run(store_url, tmp_path)
    assert second.returncode == 2
    assert second.stderr.strip().count("\n") == 0 and second.stderr.startswith("ledger: error: StoreNotEmpty:"), second.stderr
    assert second.stdout == "" and ledger.head() == head


def test_the_same_seed_builds_the_same_city(tmp_path):
    def build(name: str) -> Any:
        ledger = build_ledger(Settings(environment="test", database_url=f"sqlite:///{tmp_path}/{name}.db", id_hash_key="k"))
        try:
            return build_demo_city(ledger, seed=7, today=date.today())
        finally:
            ledger.close()

    one, two = build("one"), build("two")
    assert [(b.name, b.category, b.township, b.village, b.self_care_level) for b in one.beneficiaries] == [(b.name, b.category, b.township, b.village, b.self_care_level) for b in two.beneficiaries]
    assert [(c.name, c.credit_code) for c in one.contractors] == [(c.name, c.credit_code) for c in two.contractors]
    assert one.visits == two.visits and len(one.cases["accepted"]) == len(two.cases["accepted"])
    assert len({b.name for b in one.beneficiaries}) == 60


def test_the_city_built_inside_a_running_service_is_read_back_once_its_read_models_pass_its_position(store_url, tmp_path):
    """As the console's browser tests use it: the service's own follower and read models run
    beside the builder."""
    settings = Settings(environment="test", database_url=store_url, id_hash_key="test-id-hash-key", signing_key_path=str(tmp_path / "signing.key"), read_wait_seconds=60)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        city = build_demo_city(client.app.state.ledger)  # type: ignore[attr-defined]
        payable = _get(client, city.tokens["finance"], "/read/payable-tranches", min_position=city.position)["items"]
        assert {t["tranche_id"] for t in payable} == {t.tranche_id for t in city.payable_tranches}
        inbox = _get(client, city.contractor("linli").token, "/read/referrals/inbox", min_position=city.position)["items"]
        assert len(inbox) == 2 and {c["case_id"] for c in inbox} <= set(city.cases["referred"])
