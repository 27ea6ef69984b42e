"""Limits at the edge, through the ASGI app: a body over the limit is refused before anything
reads or authenticates it; an unexpected error is a JSON 500 with the request id, never plain
text; a national ID number typed into a path is not echoed; the OpenAPI document declares every
error the service gives and the body of every GET outside /read, and real bodies match it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import text
from structlog.testing import capture_logs

from api.app import create_app
from api.logs import redact_id_numbers
from api.schemas import records
from ledger.settings import Settings
from tests.api.builders import PANEL, head, post, scores

LIMIT = 4_000
ID_NUMBER = "330102195071117056"


@pytest.fixture
def small_client(settings: Settings) -> Iterator[TestClient]:
    """The app with a small body limit, so that a refused body stays cheap to send."""
    with TestClient(create_app(settings.model_copy(update={"max_body_bytes": LIMIT})), raise_server_exceptions=False) as c:
        yield c


def _purchaser(client: TestClient) -> dict[str, str]:
    issued = client.app.state.ledger.issue_token("purchaser", "civil-affairs-bureau", "officer-zhang")  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {issued.token}"}


def _too_large(r: Any) -> None:
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "RequestTooLarge" and str(LIMIT) in r.json()["detail"]


class TestBodyLimit:
    def test_a_body_declared_over_the_limit_is_refused_before_authentication(self, small_client):
        before = head(small_client)
        panel = [{"name": f"评委{i}"} for i in range(400)]  # well over 4 kB, like the 80,001-member panel
        r = small_client.post("/evaluations", json={"contract_id": "x", "stage": "mid_term", "panel": panel})
        _too_large(r)  # not 401: the body is refused before the token is even looked at
        assert head(small_client) == before

    def test_a_streamed_body_without_a_length_is_refused_once_it_passes_the_limit(self, small_client):
        headers = {**_purchaser(small_client), "Content-Type": "application/json"}
        before = head(small_client)

        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield b" " * 1000

        r = small_client.post("/funds", content=chunks(), headers=headers)
        _too_large(r)
        assert head(small_client) == before

    def test_a_body_within_the_limit_is_read_and_recorded_as_usual(self, small_client):
        fund = {"name": "经费", "source": "work_funds", "fiscal_year": 2026, "amount": "1000.00"}
        finance = small_client.app.state.ledger.issue_token("finance", "finance-bureau", "cashier-li")  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {finance.token}", "Idempotency-Key": "fund-1"}
        post(small_client, "/purchase-ceilings", {"Authorization": headers["Authorization"]}, {"fiscal_year": 2026, "prior_year_subsidy_total": "1000000.00"})
        first = post(small_client, "/funds", headers, fund)
        again = post(small_client, "/funds", headers, fund)
        assert again["fund_id"] == first["fund_id"] and again["replayed"] is True

    def test_a_body_that_is_not_utf8_is_a_documented_400_with_a_stable_code(self, client):
        r = client.post("/funds", content=b"\xff\xfe{", headers={**_purchaser(client), "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] == "MalformedRequest", r.text


class TestUnexpectedErrors:
    def test_an_unexpected_error_is_a_json_500_with_the_request_id_and_a_logged_traceback(self, tmp_path):
        app = create_app(Settings(environment="test", database_url=f"sqlite:///{tmp_path}/ledger.db", id_hash_key="test-id-hash-key"))

        def broken() -> None:
            raise RuntimeError("a bug nobody expected")

        app.add_api_route("/broken-for-this-test", broken)
        with TestClient(app, raise_server_exceptions=False) as client, capture_logs() as logs:
            r = client.get("/broken-for-this-test", headers={"X-Request-ID": "req-500"})
        assert r.status_code == 500 and r.headers["content-type"] == "application/json"
        assert r.json() == {"error": "InternalError", "detail": {"message": r.json()["detail"]["message"], "request_id": "req-500"}}
        assert "a bug nobody expected" not in r.text
        logged = [e for e in logs if e["event"] == "unexpected_error"]
        assert len(logged) == 1 and logged[0]["exc_info"] is True and logged[0]["log_level"] == "error"
        assert [e["status"] for e in logs if e["event"] == "request"] == [500]

    @pytest.mark.postgres_only
    def test_a_value_the_database_cannot_hold_is_a_422_and_wrong_sql_a_json_500(self, postgres_url):
        app = create_app(Settings(environment="test", database_url=postgres_url, id_hash_key="test-id-hash-key"))

        def run(sql: str, value: Any = None) -> None:
            with app.state.read_side.engine.connect() as conn:
                conn.execute(text(sql), {"v": value})

        app.add_api_route("/nul-for-this-test", lambda: run("SELECT CAST(:v AS text)", "a\x00b"))
        app.add_api_route("/overflow-for-this-test", lambda: run("SELECT CAST(:v AS integer)", 2**40))
        app.add_api_route("/wrong-sql-for-this-test", lambda: run("SELECT no_such_column FROM read_model_version"))
        with TestClient(app, raise_server_exceptions=False) as client:
            for path in ("/nul-for-this-test", "/overflow-for-this-test"):
                r = client.get(path)
                assert r.status_code == 422 and r.json()["error"] == "UnstorableValue", (path, r.text)
            r = client.get("/wrong-sql-for-this-test")
            assert r.status_code == 500 and r.json()["error"] == "InternalError", r.text


class TestNoIdNumbers:
    def test_an_id_number_typed_into_a_path_is_not_echoed_or_logged(self, client):
        paths = [f"/beneficiaries/{ID_NUMBER}", f"/beneficiaries/{ID_NUMBER}/history", f"/no-such-route/{ID_NUMBER}"]
        headers = _purchaser(client)
        with capture_logs() as logs:
            answers = [client.get(path, headers=headers) for path in paths]
        for path, r in zip(paths, answers):
            assert r.status_code == 404, (path, r.text)
            assert set(r.json()) == {"error", "detail"}
            assert ID_NUMBER not in r.text and ID_NUMBER[:10] not in r.text, path
        assert ID_NUMBER not in repr(logs)

    def test_a_national_id_number_inside_any_log_line_is_redacted(self):
        line = f'{{"error": "DETAIL: Key (national_id)=({ID_NUMBER[:-1]}X) exists", "position": 12345678901234567}}'
        redacted = redact_id_numbers(None, "error", line)
        assert ID_NUMBER[:-1] not in redacted and "[id-number]" in redacted
        assert "12345678901234567" in redacted  # seventeen digits alone are no ID number


class TestHealth:
    def test_liveness_answers_without_a_token_and_readiness_gives_the_head(self, client):
        assert client.get("/health/live").json() == {"status": "alive"}
        r = client.get("/health")
        assert r.status_code == 200 and r.json()["status"] == "ok" and isinstance(r.json()["head"], int)


# --- the OpenAPI document ---------------------------------------------------------------------

RECORD_ROUTES = {
    "/funds/{fund_id}": records.FundRecord,
    "/contractors/{contractor_id}": records.ContractorRecord,
    "/beneficiaries/{beneficiary_id}": records.BeneficiaryRecord,
    "/contracts/{contract_id}": records.ContractRecord,
    "/cases/{case_id}": records.CaseRecord,
    "/visits/{visit_id}": records.VisitRecord,
    "/evaluations/{evaluation_id}": records.EvaluationRecord,
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The OpenAPI document; generating it needs no store, so it is built once."""
    return create_app(Settings(environment="test", database_url="sqlite:///:memory:", id_hash_key="k")).openapi()


def test_the_openapi_document_declares_every_error_and_the_idempotency_key_limit(spec):
    checked = 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert {"400", "413", "500", "503"} <= set(op["responses"]), (method, path)
            assert "Retry-After" in op["responses"]["503"]["headers"], (method, path)
            for p in op.get("parameters", []):
                if p["name"] == "Idempotency-Key":
                    string = next(s for s in p["schema"]["anyOf"] if s.get("type") == "string")
                    assert (string["minLength"], string["maxLength"]) == (1, 200), p
                    checked += 1
    assert checked > 30


def test_every_get_outside_read_declares_its_response_body(spec):
    gets = {path: ops["get"] for path, ops in spec["paths"].items() if "get" in ops and not path.startswith(("/read", "/projections"))}
    assert set(RECORD_ROUTES) | {"/health", "/health/live", "/catalogue/services", "/catalogue/enums"} <= set(gets)
    for path, op in gets.items():
        content = op["responses"]["200"]["content"]
        # JSON, or the CSV or XLSX of an export (/trace/...csv): one declared body either way.
        (body,) = [content[media] for media in ("application/json", "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") if media in content]
        assert body["schema"], path  # not the empty schema of an untyped route


def test_real_bodies_match_their_declared_models(client, world):
    """Each record route's answer validates against its model, with every declared field present."""
    evaluation = post(client, "/evaluations", world.purchaser, {"contract_id": world.a.contract_id, "stage": "final", "panel": PANEL})
    for body in (scores(90),):
        client.post(f"/evaluations/{evaluation['evaluation_id']}/scores", json=body, headers=world.evaluator)
    client.post(f"/evaluations/{evaluation['evaluation_id']}/conclusion", json={"report": "良好"}, headers=world.purchaser)
    ids = {
        "/funds/{fund_id}": world.fund_id,
        "/contractors/{contractor_id}": world.a.contractor_id,
        "/beneficiaries/{beneficiary_id}": world.a.beneficiary_id,
        "/contracts/{contract_id}": world.a.contract_id,
        "/cases/{case_id}": world.a.case_id,
        "/visits/{visit_id}": world.a.visit_id,
        "/evaluations/{evaluation_id}": evaluation["evaluation_id"],
    }
    post(client, f"/contractors/{world.b.contractor_id}/debarment", world.purchaser, {"reason": "虚报服务"})
    debarred = client.get(f"/contractors/{world.b.contractor_id}", headers=world.purchaser).json()
    assert records.ContractorRecord.model_validate(debarred).debarred_until is not None
    for route, model in RECORD_ROUTES.items():
        r = client.get(route.split("{")[0] + ids[route], headers=world.purchaser)
        assert r.status_code == 200, (route, r.text)
        _matches(model, r.json(), route)
        history = client.get(route.split("{")[0] + ids[route] + "/history", headers=world.purchaser)
        assert history.status_code == 200 and history.json(), route
        for event in history.json():
            _matches(records.HistoryEvent, event, route + "/history")
    services = client.get("/catalogue/services").json()
    TypeAdapter(list[records.ServiceItem]).validate_python(services)
    assert len(services) >= 32
    TypeAdapter(dict[str, dict[str, records.Label]]).validate_python(client.get("/catalogue/enums").json())
    _matches(records.Health, client.get("/health").json(), "/health")


def _matches(model: type[BaseModel], body: dict[str, Any], where: str) -> None:
    model.model_validate(body)
    declared = {f.alias or name for name, f in model.model_fields.items()}
    assert declared <= set(body), (where, sorted(declared - set(body)))
