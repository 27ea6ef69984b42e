"""p50/p99 of the main read endpoints over HTTP, 8 connections, against `ledger serve` over a
stored history whose read models have caught up. Beside GET /health/live of the same server:
the framework's own cost of a request. The ids the paths need are found through the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bench.common import Store, ledger_server
from bench.load import http_request, run_load
from bench.single import get_json


def _first(value: Any, key: str) -> Any:
    """The first value of `key` anywhere in a JSON document."""
    if isinstance(value, dict):
        if value.get(key) is not None:
            return value[key]
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _first(item, key)
            if found is not None:
                return found
    return None


def endpoints(port: int, auth: str) -> dict[str, str]:
    def get(path: str) -> dict[str, Any]:
        return get_json(port, http_request("GET", path, {"Authorization": auth, "Connection": "close"})) or {}

    fund_id = _first(get("/read/funds"), "fund_id")
    contracts = get("/read/contracts")
    contract_id, contractor_id = _first(contracts, "contract_id"), _first(contracts, "contractor_id")
    detail = get(f"/read/contracts/{contract_id}") if contract_id else {}
    tranche_id = _first(detail, "tranche_id")
    beneficiary_id = _first(get("/read/cases?status=accepted&limit=1"), "beneficiary_id")
    township = _first(get("/read/cases?status=accepted&limit=1"), "township")  # caseload rows name it "key"
    paths = {
        "health/live (baseline)": "/health/live",
        "caseload by contractor": "/read/caseload?group_by=contractor",
        "caseload by township": "/read/caseload?group_by=township",
        "fund usage": "/read/funds",
        "fund detail": f"/read/funds/{fund_id}",
        "contract fulfilment": "/read/contracts",
        "contract detail": f"/read/contracts/{contract_id}",
        "payable tranches": "/read/payable-tranches",
        "audit trail page": "/read/audit?limit=100",
        "trace: fund": f"/trace/funds/{fund_id}",
        "trace: tranche": f"/trace/tranches/{contract_id}/{tranche_id}",
        "trace: beneficiary": f"/trace/beneficiaries/{beneficiary_id}",
        "list: visits of a contractor": f"/read/visits?contractor_id={contractor_id}&limit=50",
        "list: accepted cases in a township": f"/read/cases?status=accepted&township={quote(township or '')}&limit=50",
        "list: workers of a contractor": f"/read/contractors/{contractor_id}/workers",
        "red flags": "/read/red-flags",
    }
    return {name: path for name, path in paths.items() if "None" not in path}


def run(store: Store, auditor_token: str, *, requests: int = 200, connections: int = 8) -> dict[str, Any]:
    """Each endpoint in turn: `requests` GETs with `connections` in flight. On PostgreSQL the
    read models are ANALYZEd first, as autovacuum does within a minute of a large catch-up: the
    plans then follow the tables' real sizes, not the empty tables of before the catch-up."""
    if store.kind == "postgres":
        import psycopg

        with psycopg.connect(store.url, autocommit=True) as conn:
            conn.execute("ANALYZE")
    server = ledger_server(store)
    auth = f"Bearer {auditor_token}"
    try:
        found = endpoints(server.port, auth)
        out: dict[str, Any] = {}
        for name, path in found.items():
            request = http_request("GET", path, {"Authorization": auth})
            run_load(server.port, lambda c, n: request, connections=connections, total=connections * 2)  # warm
            cpu0 = server.cpu()
            load = run_load(server.port, lambda c, n: request, connections=connections, total=requests)
            cpu_ms = (server.cpu() - cpu0) * 1000 / max(1, load.requests)
            out[name] = {
                "path": path,
                "requests": load.requests,
                "p50_ms": load.p(0.5),
                "p99_ms": load.p(0.99),
                "rate": load.rate,
                "server_cpu_ms_per_request": cpu_ms,
                "errors": load.errors,
                "statuses": dict(load.statuses),
                "first_error_bodies": [b.decode(errors="replace") for b in load.bodies],
            }
        return {"endpoints": out, "peak_rss_mb": server.peak_rss_mb()}
    finally:
        server.stop()
