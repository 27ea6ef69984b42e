"""Request bodies and small steps shared by the API tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

from ledger.domain.check_digits import with_national_id_check
from ledger.domain.contractors import REQUIRED_ATTESTATIONS

INDICATORS = [
    "administration",
    "record_keeping",
    "progress",
    "quality_system",
    "risk",
    "implementation",
    "effectiveness",
    "satisfaction",
    "social_benefit",
]
PANEL = [
    {"name": "张会计", "accountant_title": "intermediate"},
    {"name": "李科长"},
    {"name": "王代表"},
]


def national_id(n: int) -> str:
    return with_national_id_check(f"3301021950{n:07d}")


def post(client: TestClient, path: str, headers: dict[str, str], body: dict[str, Any] | None = None, status: int = 201) -> dict[str, Any]:
    r = client.post(path, json=body or {}, headers=headers)
    assert r.status_code == status, (path, r.status_code, r.text)
    return r.json()


def contractor_body(name: str, credit_code: str) -> dict[str, Any]:
    return {"name": name, "contractor_type": "social_organisation", "credit_code": credit_code, "attestations": list(REQUIRED_ATTESTATIONS)}


def beneficiary_body(n: int, level: str = "partly_lost") -> dict[str, Any]:
    return {
        "national_id": national_id(n),
        "name": f"居民{n}",
        "household_id": f"HH-{n}",
        "category": "dibao",
        "township": "城关镇",
        "village": "东风村",
        "self_care_level": level,
    }


def contract_body(contractor_id: str, fund_id: str, volume: int = 3, no: str = "MZ-2026-001") -> dict[str, Any]:
    today = date.today()
    return {
        "contract_no": no,
        "title": "居家照护服务",
        "contractor_id": contractor_id,
        "fund_id": fund_id,
        "procurement_method": "open_tender",
        "start_date": (today - timedelta(days=60)).isoformat(),
        "end_date": (today + timedelta(days=300)).isoformat(),
        "lines": [
            {"service_code": "meals", "quantity": 100, "unit_price": "15.00"},
            {"service_code": "bathing", "quantity": 50, "unit_price": "40.00"},
        ],
        "milestones": [
            {"milestone_id": "volume", "kind": "service_volume", "service_code": "meals", "quantity": volume},
            {"milestone_id": "mid", "kind": "evaluation_passed", "stage": "mid_term"},
            {"milestone_id": "final", "kind": "evaluation_passed", "stage": "final"},
            {"milestone_id": "acceptance", "kind": "acceptance"},
        ],
        "tranches": [
            {"tranche_id": "t-volume", "milestone_id": "volume", "amount": "1000.00"},
            {"tranche_id": "t-mid", "milestone_id": "mid", "amount": "1000.00"},
            {"tranche_id": "t-final", "milestone_id": "final", "amount": "1000.00"},
            {"tranche_id": "t-acceptance", "milestone_id": "acceptance", "amount": "500.00"},
        ],
    }


def visit_body(case_id: str, worker_id: str, service: str = "meals", hours_ago: int = 3) -> dict[str, Any]:
    end = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
    return {
        "case_id": case_id,
        "worker_id": worker_id,
        "service_code": service,
        "started_at": (end - timedelta(minutes=45)).isoformat(),
        "ended_at": end.isoformat(),
        "location": "东风村12号",
        "evidence_hash": "sha256:" + "ab" * 32,
    }


# A contractor confirms its visit only with the beneficiary's own proof, not the visit's evidence.
SIGNED_BY_BENEFICIARY = {"channel": "beneficiary_signature", "proof": "sha256:" + "cd" * 32}


def scores(value: int) -> dict[str, Any]:
    return {"scores": {i: value for i in INDICATORS}}


# --- a standard world: money, two contractors with their people, work and evaluations --------


@dataclass
class Side:
    """One contractor's share of the world: its token, worker, beneficiary, contract, case, visit
    and evaluation."""

    contractor_id: str
    token: dict[str, str]
    worker_id: str
    beneficiary_id: str
    contract_id: str
    case_id: str
    visit_id: str
    evaluation_id: str


@dataclass
class World:
    purchaser: dict[str, str]
    finance: dict[str, str]
    auditor: dict[str, str]
    evaluator: dict[str, str]
    fund_id: str
    a: Side
    b: Side

    def role(self, name: str) -> dict[str, str]:
        """The headers of a role; "contractor" is contractor A."""
        return {"purchaser": self.purchaser, "finance": self.finance, "auditor": self.auditor, "evaluator": self.evaluator, "contractor": self.a.token}[name]


def head(client: TestClient) -> int:
    """The position of the last event in the global log."""
    r = client.get("/health")
    assert r.status_code == 200, r.text
    return r.json()["head"]


def build_world(client: TestClient, token_for: Callable[..., dict[str, str]]) -> World:
    purchaser = token_for("purchaser", "civil-affairs-bureau", "officer-zhang")
    finance = token_for("finance", "finance-bureau", "cashier-li")
    auditor = token_for("auditor", "audit-bureau", "auditor-wu")
    evaluator = token_for("evaluator", None, "panel-chair")
    post(client, "/purchase-ceilings", finance, {"fiscal_year": 2026, "prior_year_subsidy_total": "10000000.00"})
    fund_id = post(client, "/funds", finance, {"name": "2026 工作经费", "source": "work_funds", "fiscal_year": 2026, "amount": "200000.00"})["fund_id"]

    sides = []
    for n, (name, code) in enumerate((("阳光社工", "52330100MJ1234567M"), ("春晖养老", "52330100MJ7654321J")), start=1):
        contractor_id = post(client, "/contractors", purchaser, contractor_body(name, code))["contractor_id"]
        token = token_for("contractor", contractor_id, f"coordinator-{n}")
        worker_id = post(client, f"/contractors/{contractor_id}/workers", token, {"name": f"护理员{n}", "qualification": "carer"})["worker_id"]
        beneficiary_id = post(client, "/beneficiaries", purchaser, beneficiary_body(n))["beneficiary_id"]
        contract_id = post(client, "/contracts", purchaser, contract_body(contractor_id, fund_id, no=f"MZ-2026-00{n}"))["contract_id"]
        referral = {"beneficiary_id": beneficiary_id, "contract_id": contract_id, "services": ["meals", "bathing"], "channel": "village_coordinator"}
        case_id = post(client, "/cases", purchaser, referral)["case_id"]
        post(client, f"/cases/{case_id}/acceptance", token)
        visit_id = post(client, "/visits", token, visit_body(case_id, worker_id))["visit_id"]
        evaluation_id = post(client, "/evaluations", purchaser, {"contract_id": contract_id, "stage": "mid_term", "panel": PANEL})["evaluation_id"]
        sides.append(Side(contractor_id, token, worker_id, beneficiary_id, contract_id, case_id, visit_id, evaluation_id))
    return World(purchaser, finance, auditor, evaluator, fund_id, sides[0], sides[1])


def api_routes(app: Any) -> list[tuple[str, set[str]]]:
    """Every route of the app as (path, methods), with the included routers' routes flattened."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI versions that keep included routes flat in app.routes
        contexts: Any = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    return [(r.path, set(r.methods or ())) for r in contexts if getattr(r, "path", None)]
