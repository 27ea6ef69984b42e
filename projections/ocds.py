"""A contract as an Open Contracting (OCDS 1.1.5) release: planning budget from its fund, the tender
method, the award and the contract, the parties (buyer and procuring entity, supplier with its
unified social credit code, payer), the milestones as implementation milestones, the released
tranches as transactions, and the evaluation and acceptance results the seed documents require be
made public.

Pure functions over plain dicts (the read model's contract detail, and the contract, contractor and
fund as the application returns them): no I/O, so the API and the CLI write the same release.
Money stays Decimal here; the caller writes it as a JSON number at the very end (`as_json`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from ledger.domain.catalogue import SERVICES, EvaluationStage, Grade, MilestoneKind, ProcurementMethod

OCDS_VERSION = "1.1"
CURRENCY = "CNY"
PACKAGE_SCHEMA = "https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json"

# procurementMethod is a closed codelist; the ledger's own method goes in procurementMethodDetails.
METHODS = {
    ProcurementMethod.OPEN_TENDER.value: "open",
    ProcurementMethod.INVITED_TENDER.value: "selective",
    ProcurementMethod.COMPETITIVE_NEGOTIATION.value: "limited",
    ProcurementMethod.COMPETITIVE_CONSULTATION.value: "limited",
    ProcurementMethod.REQUEST_FOR_QUOTATION.value: "limited",
    ProcurementMethod.SINGLE_SOURCE.value: "direct",
}
MILESTONE_TYPES = {
    MilestoneKind.SERVICE_VOLUME.value: "delivery",
    MilestoneKind.EVALUATION_PASSED.value: "assessment",
    MilestoneKind.ACCEPTANCE.value: "approval",
    MilestoneKind.DATE.value: "delivery",
}
# contractStatus is closed too: a suspended or accepted contract is still active; a settled one is over.
CONTRACT_STATUSES = {"active": "active", "suspended": "active", "accepted": "active", "settled": "terminated", "terminated": "terminated"}
RESULTS = ("concluded", "appealed", "final")  # an open evaluation has no result to publish yet


@dataclass(frozen=True)
class Publisher:
    ocid_prefix: str  # e.g. ocds-ledger- (a registered prefix in production)
    name: str  # who publishes: the package's publisher
    payer_id: str
    payer_name: str
    supplier_scheme: str  # org-id.guide list for the supplier's credit code
    base_uri: str = ""  # where the packages are served, for the package's uri


def ocid(publisher: Publisher, contract_id: str) -> str:
    return f"{publisher.ocid_prefix}{contract_id}"


def _money(amount: Any) -> dict[str, Any]:
    return {"amount": Decimal(str(amount)), "currency": CURRENCY}


def _time(value: Any) -> str | None:
    """ISO 8601 in UTC, from a datetime or the ISO text the read models give."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _day(value: Any, end: bool = False) -> str:
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day.isoformat()}T{'23:59:59' if end else '00:00:00'}Z"


def _label(enum: Any, value: str | None) -> str:
    try:
        label = enum(value).label
    except ValueError:
        return value or ""
    return f"{label.zh} ({label.en})"


def _service(code: str) -> str:
    item = SERVICES.get(code)
    return f"{item.zh} ({item.en})" if item else code


def _drop_none(value: Any) -> Any:
    """OCDS fields are optional but never null where the schema types them strictly."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def contract_release(publisher: Publisher, detail: dict[str, Any], contract: dict[str, Any], contractor: dict[str, Any], fund: dict[str, Any]) -> dict[str, Any]:
    """One compiled release: the contract's whole state now. `detail` is the read model's contract
    (GET /read/contracts/{id}); `contract`, `contractor` and `fund` the application's."""
    contract_id = detail["contract_id"]
    the_ocid = ocid(publisher, contract_id)
    buyer = {"id": contract["purchaser_org"], "name": contract["purchaser_org"]}
    supplier = {"id": contractor["id"], "name": contractor["name"]}
    payer = {"id": publisher.payer_id, "name": publisher.payer_name}
    value = _money(detail["budget"])
    items = [
        {
            "id": line["service_code"],
            "description": _service(line["service_code"]),
            "quantity": line["contracted"],
            "unit": {"name": "次 (visit)", "value": _money(line["unit_price"])},
        }
        for line in detail["lines"]
    ]
    method = contract["procurement_method"]
    milestones = [_milestone(m) for m in detail["milestones"]] + [_evaluation(e) for e in detail["evaluations"] if e["status"] in RESULTS]
    transactions = [
        {
            "id": tranche["tranche_id"],
            "source": fund["id"],
            "date": _time(tranche["released_at"]),
            "value": _money(tranche["released"]),
            "payer": payer,
            "payee": supplier,
        }
        for tranche in detail["tranches"]
        if tranche["status"] == "released"
    ]
    release = {
        "ocid": the_ocid,
        "id": f"{the_ocid}-v{contract['version']}",  # a new release id whenever the contract changes
        "date": _time(contract["modified_on"]),
        "tag": ["compiled"],
        "initiationType": "tender",
        "language": "zh",
        "parties": [
            {**buyer, "roles": ["buyer", "procuringEntity"]},
            {
                **supplier,
                "identifier": {"scheme": publisher.supplier_scheme, "id": contractor["credit_code"], "legalName": contractor["name"]},
                "roles": ["supplier", "payee"],
            },
            {**payer, "roles": ["payer"]},
        ],
        "buyer": buyer,
        "planning": {
            "budget": {
                "id": fund["id"],
                "description": f"{fund['name']}: {fund['source']} {fund['fiscal_year']}",
                "amount": _money(fund["commitments"].get(contract_id, detail["budget"])),
                "project": fund["name"],
            }
        },
        "tender": {
            "id": f"{contract_id}-tender",
            "title": detail["title"],
            "status": "complete",
            "procuringEntity": buyer,
            "items": items,
            "value": value,
            "procurementMethod": METHODS.get(method, "limited"),
            "procurementMethodDetails": _label(ProcurementMethod, method),
            "mainProcurementCategory": "services",
        },
        "awards": [
            {
                "id": f"{contract_id}-award",
                "title": detail["title"],
                "status": "active",
                "date": _time(detail["signed_at"]),
                "value": value,
                "suppliers": [supplier],
                "items": items,
                "contractPeriod": {"startDate": _day(detail["start_date"]), "endDate": _day(detail["end_date"], end=True)},
            }
        ],
        "contracts": [
            {
                "id": contract_id,
                "awardID": f"{contract_id}-award",
                "title": detail["title"],
                "description": f"合同号 {detail['contract_no']}",
                "status": CONTRACT_STATUSES.get(detail["status"], "active"),
                "statusDetails": detail["status"],
                "period": {"startDate": _day(detail["start_date"]), "endDate": _day(detail["end_date"], end=True)},
                "value": value,
                "items": items,
                "dateSigned": _time(detail["signed_at"]),
                "implementation": {"milestones": milestones, "transactions": transactions},
            }
        ],
    }
    return _drop_none(release)


def _milestone(m: dict[str, Any]) -> dict[str, Any]:
    met = m["status"] == "fulfilled"
    what = _label(MilestoneKind, m["kind"])
    if m["kind"] == MilestoneKind.SERVICE_VOLUME.value:
        what += f": {_service(m['service_code'])} × {m['quantity']}"
    elif m["stage"]:
        what += f": {_label(EvaluationStage, m['stage'])}"
    if m["kind"] == MilestoneKind.ACCEPTANCE.value:
        what += " — 验收通过 (accepted)" if met else " — 未验收 (not yet accepted)"
    return {
        "id": m["milestone_id"],
        "title": m["title"],
        "type": MILESTONE_TYPES.get(m["kind"], "delivery"),
        "description": what,
        "code": m["kind"],
        "status": "met" if met else "scheduled",
        "dueDate": _day(m["due_date"], end=True) if m["due_date"] else None,
        "dateMet": _time(m["fulfilled_at"]) if met else None,
    }


def _evaluation(e: dict[str, Any]) -> dict[str, Any]:
    """An evaluation's result, published as an assessment milestone: the total and the grade."""
    passed = e["grade"] not in (None, Grade.UNQUALIFIED.value)
    result = f"总分 {e['total']}, 等级 {_label(Grade, e['grade'])}" + (f", 申诉 {e['appeal']}" if e["appeal"] else "")
    return {
        "id": f"evaluation-{e['evaluation_id']}",
        "title": _label(EvaluationStage, e["stage"]),
        "type": "assessment",
        "description": f"{result} (total score and grade; status {e['status']})",
        "code": f"evaluation:{e['stage']}",
        "status": "met" if passed else "notMet",
    }


def release_package(publisher: Publisher, releases: list[dict[str, Any]], published: datetime, uri: str) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": _time(published),
        "publisher": {"name": publisher.name},
        "releases": releases,
    }


def package_chunks(publisher: Publisher, releases: Iterable[dict[str, Any]], published: datetime, uri: str) -> Iterator[bytes]:
    """The package as JSON a release at a time, so every contract's release never sits in memory
    together: the package's fields, then each release as it is made."""
    empty = as_json(release_package(publisher, [], published, uri))
    assert empty.endswith(b'"releases":[]}')  # releases is the package's last field
    yield empty[: -len(b"]}")]
    for n, release in enumerate(releases):
        yield (b"," if n else b"") + as_json(release)
    yield b"]}"


def as_json(package: dict[str, Any]) -> bytes:
    """The package as JSON, money as numbers: a Decimal becomes a float only here, at the very end."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(package), ensure_ascii=False, separators=(",", ":")).encode()
