"""The `ledger` command as an operator uses it, against a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ledger.domain.actors import Actor
from ledger.domain.check_digits import with_credit_code_check
from projections.runner import NAMES

LEDGER = str(Path(sys.executable).with_name("ledger"))


def _run(store_url: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, LEDGER_DATABASE_URL=store_url, LEDGER_ID_HASH_KEY="test-id-hash-key", LEDGER_ENVIRONMENT="test")
    return subprocess.run([LEDGER, *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_token_created_on_the_command_line_is_stored_only_as_a_hash(store_url, ledger):
    done = _run(store_url, "token", "create", "--role", "finance", "--org", "finance-bureau", "--subject", "cashier-li", "--json")
    assert done.returncode == 0, done.stderr
    issued = json.loads(done.stdout)
    actor = ledger.authenticate(issued["token"], correlation_id="c")
    assert actor == Actor("cashier-li", "finance", "finance-bureau", "c")
    stored = b"".join(n.state for n in ledger.recorder.select_notifications(start=None, limit=100))
    assert issued["token"].encode() not in stored


def test_a_contractor_token_needs_a_registered_contractor(store_url):
    done = _run(store_url, "token", "create", "--role", "contractor", "--org", "00000000-0000-0000-0000-000000000000")
    assert done.returncode == 2 and "ContractorNotFound" in done.stderr


def test_migrate_status_and_rebuild_work_from_the_command_line(store_url, ledger):
    purchaser = Actor("officer", "purchaser", "bureau", "c1")
    for n in range(5):
        ledger.register_contractor(purchaser, f"Org {n}", "social_organisation", with_credit_code_check(f"523301000000000{n:02d}"), [])
    assert _run(store_url, "migrate").returncode == 0

    status = _run(store_url, "projections", "status")
    assert status.returncode == 0, status.stderr
    figures = json.loads(status.stdout)
    assert figures["head"] == ledger.head()
    assert {p["name"]: p["lag_events"] for p in figures["projections"]} == dict.fromkeys(NAMES, 5)

    rebuilt = _run(store_url, "projections", "rebuild", "audit", "caseload")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilding audit" in rebuilt.stderr and "rebuilt caseload from 5 events" in rebuilt.stderr
    after = {p["name"]: p for p in json.loads(_run(store_url, "projections", "status").stdout)["projections"]}
    assert after["audit"]["position"] == after["caseload"]["position"] == ledger.head()
    assert after["funds"]["position"] == 0  # only the named projections were rebuilt

    unknown = _run(store_url, "projections", "rebuild", "nonsense")
    assert unknown.returncode == 2 and "unknown projections" in unknown.stderr


def test_token_list_shows_every_token_and_its_revocation_never_a_secret(store_url, ledger):
    made = [
        json.loads(_run(store_url, "token", "create", "--role", role, "--org", org, "--subject", who, "--json").stdout)
        for role, org, who in (("finance", "finance-bureau", "cashier-li"), ("auditor", "audit-bureau", "auditor-wu"))
    ]
    assert _run(store_url, "token", "revoke", made[0]["token_id"]).returncode == 0

    done = _run(store_url, "token", "list", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["token_id"]: r for r in json.loads(done.stdout)}
    assert set(rows) == {m["token_id"] for m in made}
    assert rows[made[0]["token_id"]]["revoked"] is True and rows[made[1]["token_id"]]["revoked"] is False
    assert (rows[made[1]["token_id"]]["role"], rows[made[1]["token_id"]]["subject"]) == ("auditor", "auditor-wu")
    assert list(rows) == [made[1]["token_id"], made[0]["token_id"]]  # newest first

    table = _run(store_url, "token", "list")
    assert table.returncode == 0, table.stderr
    header, *lines = table.stdout.splitlines()
    assert header.split() == ["token_id", "role", "organisation_id", "subject", "issued_at", "revoked"] and len(lines) == 2
    for m in made:
        assert m["token"] not in done.stdout + table.stdout
