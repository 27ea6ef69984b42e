"""The published contract: /openapi.json documents every command's 201 and its errors, labels
codes in zh-CN and English, and gives examples of the main commands; the catalogue endpoints
serve the labels themselves."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain.catalogue import ENUMS, SERVICES

ERROR_STATUSES = {"401", "403", "404", "409", "422"}
MAIN_COMMANDS = ["/contracts", "/visits", "/beneficiaries", "/cases", "/funds", "/contractors"]
READS_BY_POST = {"/beneficiaries/lookup", "/audit/verify"}  # look-ups that record nothing: 200
BATCHES = {"/visits/batch", "/visits/batch.csv", "/beneficiaries/import"}  # 200 with a result per item, recorded or refused
# No Idempotency-Key: a replay of an issue would have to show the secret again, which is kept
# nowhere; a revocation is idempotent by itself. Their 201 has a position, not `replayed`.
TOKENS = {"/tokens", "/tokens/{token_id}/revocation"}


@pytest.fixture
def spec(client) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200, r.text
    return r.json()


def _posts(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {path: ops["post"] for path, ops in spec["paths"].items() if "post" in ops}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def test_the_openapi_document_loads(client, spec):
    assert spec["openapi"].startswith("3.")
    assert "服务类社会救助台账" in spec["info"]["title"]
    assert "Idempotency-Key" in spec["info"]["description"]
    assert len(_posts(spec)) > 30
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_every_command_documents_201_and_the_error_responses(spec):
    for path, op in _posts(spec).items():
        responses = op["responses"]
        success = "200" if path in READS_BY_POST | BATCHES else "201"
        assert success in responses, (path, sorted(responses))
        assert not ({"200", "201"} - {success}) & set(responses), (path, sorted(responses))
        assert ERROR_STATUSES <= set(responses), (path, sorted(responses))
        for status in ERROR_STATUSES:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status, schema)
            assert responses[status]["description"]
        if success == "201":
            created = _resolve(spec, responses["201"]["content"]["application/json"]["schema"])
            assert ({"position"} if path in TOKENS else {"position", "replayed"}) <= set(created["properties"]), path
        header_names = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        if path not in READS_BY_POST | BATCHES | TOKENS:  # a batch's items carry their own keys (client_id)
            assert "Idempotency-Key" in header_names, path
        assert op.get("security") == [{"HTTPBearer": []}], path


def test_the_error_body_is_documented(spec):
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"error", "detail"}
    assert body["properties"]["error"]["description"]


def test_service_codes_are_described_in_chinese_and_english(spec):
    schemas = spec["components"]["schemas"]
    for schema_name, field in (("RecordVisit", "service_code"), ("ServiceLine", "service_code"), ("Refer", "services")):
        description = schemas[schema_name]["properties"][field]["description"]
        assert "助餐服务" in description and "Meals" in description, schema_name
        for item in SERVICES.values():
            assert f"`{item.code}`: {item.zh} / {item.en}" in description, (schema_name, item.code)
    assert set(schemas["ServiceCode"]["enum"]) == set(SERVICES)


def test_every_enumerated_field_of_a_command_is_described_in_chinese_and_english(spec):
    """Wherever a request field takes a labelled code, its description lists every code with
    both labels, so the document alone tells a caller what to send."""
    schemas = spec["components"]["schemas"]
    enum_names = {enum.__name__: enum for enum in ENUMS.values()}
    checked = []
    for schema_name, schema in schemas.items():
        for field, prop in schema.get("properties", {}).items():
            for enum_name in _referenced(prop) & set(enum_names):
                description = prop.get("description", "")
                for code, label in enum_names[enum_name].labels().items():
                    assert f"`{code}`: {label['zh']} / {label['en']}" in description, (schema_name, field, code)
                checked.append((schema_name, field))
    assert ("RegisterBeneficiary", "category") in checked and ("SignContract", "procurement_method") in checked
    description = schemas["RegisterBeneficiary"]["properties"]["category"]["description"]
    assert "最低生活保障对象" in description and "Minimum-living-allowance recipient" in description


def _referenced(prop: Any) -> set[str]:
    """Names of the component schemas a property refers to, at any depth (lists, maps, unions)."""
    found: set[str] = set()
    if isinstance(prop, dict):
        for key, value in prop.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                found |= _referenced(value)
    elif isinstance(prop, list):
        for value in prop:
            found |= _referenced(value)
    return found


@pytest.mark.parametrize("path", MAIN_COMMANDS)
def test_the_main_commands_have_examples(spec, path):
    body = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    schema = _resolve(spec, body["schema"])
    examples = schema.get("examples") or list((body.get("examples") or {}).values()) or ([body["example"]] if "example" in body else [])
    assert examples, path
    required = set(schema.get("required", []))
    for example in examples:
        assert required <= set(example), (path, required - set(example))
        assert set(example) <= set(schema["properties"]), (path, set(example) - set(schema["properties"]))


def test_the_examples_are_accepted_by_the_api(client, spec, world):
    """The documented examples are real requests: their shape passes validation (ids aside)."""
    for path in MAIN_COMMANDS:
        schema = _resolve(spec, spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"])
        example = schema["examples"][0]
        r = client.post(path, json=example, headers=world.auditor)
        assert r.status_code == 403, (path, r.status_code, r.text)  # past validation, refused for the role


def test_the_catalogue_serves_42_service_items_with_both_labels(client):
    r = client.get("/catalogue/services")
    assert r.status_code == 200
    items = r.json()
    assert len(items) == 42
    assert len({i["code"] for i in items}) == 42
    for item in items:
        assert item["zh"] and item["en"], item
        assert item["kind"] in ("administrative", "direct") and item["class"]
    meals = next(i for i in items if i["code"] == "meals")
    assert (meals["zh"], meals["en"], meals["number"]) == ("助餐服务", "Meals", 13)


def test_the_catalogue_labels_every_enumeration(client):
    r = client.get("/catalogue/enums")
    assert r.status_code == 200
    enums = r.json()
    assert set(enums) == set(ENUMS)
    for name, enum in ENUMS.items():
        assert set(enums[name]) == {m.value for m in enum}, name
        for code, label in enums[name].items():
            assert label["zh"] and label["en"], (name, code)
    assert enums["beneficiary_category"]["dibao"] == {"zh": "最低生活保障对象", "en": "Minimum-living-allowance recipient"}


def test_the_catalogue_needs_no_token(client):
    assert client.get("/catalogue/services").status_code == 200
    assert client.get("/catalogue/enums").status_code == 200
    assert client.get("/openapi.json").status_code == 200
