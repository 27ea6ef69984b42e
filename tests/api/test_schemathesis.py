"""Schemathesis against the app's own OpenAPI, as each role (issue 6: "no 5xx, every response
matches its declared schema").

For every operation and every role it sends a bounded number of generated requests, schema-valid
and schema-invalid, through the ASGI app on the store under test. Half of them carry the real ids
of a small seeded city (fund, contractors with workers, contracts, beneficiaries, accepted cases,
visits, evaluations) in path parameters and id fields, so they reach the code past the 404; the
rest keep the random ids. Every answer must pass the response checks; all failures are gathered
and reported together, one line per (operation, role, check).

Time: PostgreSQL answers each request several times slower than SQLite, so the full pass runs
on SQLite and a lighter one (fewer examples per operation) on PostgreSQL."""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.builders import World

ROLES = ("purchaser", "contractor", "finance", "auditor", "evaluator")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
# Examples per operation, role and generation mode; LEDGER_TEST_SCHEMATHESIS_EXAMPLES raises
# them for a deeper run by hand (CI keeps the defaults to stay within its time).
EXAMPLES = {"sqlite": 3, "postgres": 2}
DEEPER = int(os.environ.get("LEDGER_TEST_SCHEMATHESIS_EXAMPLES", "0"))


@pytest.fixture
def settings(settings):
    """A read that waits for a position the log has not reached gives up after 0.3 s, not 5 s:
    generated `min_position` values are mostly past the head, and the wait is not what is tested."""
    return settings.model_copy(update={"read_wait_seconds": 0.3})


def _real_ids(world: World) -> dict[str, Any]:
    a = world.a
    return {
        "fund_id": world.fund_id,
        "contractor_id": a.contractor_id,
        "worker_id": a.worker_id,
        "beneficiary_id": a.beneficiary_id,
        "contract_id": a.contract_id,
        "case_id": a.case_id,
        "visit_id": a.visit_id,
        "evaluation_id": a.evaluation_id,
        "aggregate_id": a.contract_id,
        "kind": "contracts",
        "milestone_id": "mid",
        "tranche_id": "t-mid",
    }


def _use_real_ids(case: Any, ids: dict[str, Any]) -> None:
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    if isinstance(case.body, dict):
        for name in list(case.body):
            if name in ids:
                case.body[name] = ids[name]


def _send(client: Any, case: Any, headers: dict[str, str]) -> Any:
    """Sends a generated case through the test client (the app already runs, with its lifespan)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content" if isinstance(data, (bytes, str)) else "data"] = data
    return client.request(kwargs["method"], kwargs["url"], headers=kwargs["headers"], params=kwargs.get("params"), **body)


def _failures(exc: BaseException) -> list[Failure]:
    if isinstance(exc, FailureGroup):
        return list(exc.exceptions)
    return [exc] if isinstance(exc, Failure) else []


def _describe(failure: Failure, status: int, case: Any) -> str:
    """The failure, and the request that caused it (without the token) to reproduce it."""
    title = failure.title or type(failure).__name__
    message = re.sub(r"\s+", " ", failure.message or "")[:160]
    curl = re.sub(r"\s+", " ", case.as_curl_command())[:300]
    return f"{title} [{status}]: {message}\n      {curl}"


def _only_dropped_the_token(failure: Failure) -> bool:
    """A negative case whose one fault is a missing required header (the bearer token) cannot be
    judged here: every request carries the role's token, which puts that header back."""
    message = failure.message or ""
    return (failure.title or "").startswith("Schema-violating request accepted") and "header: violates `required`" in message and message.count("- ") <= 1


def _store(store_url: str) -> str:
    return "postgres" if store_url.startswith("postgresql") else "sqlite"


def test_every_operation_answers_every_role_without_a_server_error_and_as_documented(client, world, store_url):
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 45
    ids = _real_ids(world)
    examples = DEEPER or EXAMPLES[_store(store_url)]
    found: dict[tuple[str, str, str], str] = {}
    sent: Counter[str] = Counter()
    unsatisfiable: set[tuple[str, str]] = set()

    def exercise(operation: Any, role: str, mode: schemathesis.GenerationMode) -> None:
        headers = world.role(role)

        @hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(mode), real=st.booleans())
        def run(case: Any, real: bool) -> None:
            if real:
                _use_real_ids(case, ids)
                sent["with real ids"] += 1
            response = _send(client, case, headers)
            sent[role] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (AssertionError, BaseExceptionGroup) as exc:  # gathered, not shrunk
                for failure in _failures(exc) or [Failure(operation=operation.label, message=str(exc)[:200])]:
                    if _only_dropped_the_token(failure):
                        continue
                    key = (operation.label, role, failure.title or type(failure).__name__)
                    found.setdefault(key, _describe(failure, response.status_code, case))

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            unsatisfiable.add((operation.label, mode.value))  # nothing in it can be made invalid

    for role in ROLES:
        for operation in operations:
            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                exercise(operation, role, mode)

    assert all(sent[role] >= len(operations) for role in ROLES) and sent["with real ids"] > len(operations), sent
    total = sum(sent[role] for role in ROLES)
    print(f"schemathesis sent {total} requests over {len(operations)} operations: {dict(sent)}; {len(unsatisfiable)} had nothing to make invalid")
    report = "\n".join(f"{op} as {role}: {text}" for (op, role, _), text in sorted(found.items()))
    assert not found, f"{len(found)} distinct failures in {total} requests:\n{report}"
