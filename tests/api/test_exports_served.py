"""An export from a real `ledger serve`: the CSV leaves as a chunked stream (no Content-Length, so
the body was never held whole) while the server reads the list a few rows at a time, and the rows
are every page of the JSON list."""

from __future__ import annotations

import csv
import io

import httpx

from ledger.bootstrap import build_ledger
from ledger.settings import Settings
from tests.api.serving import ledger_env, serve


def _token(store_url: str, role: str, org: str) -> dict[str, str]:
    env = ledger_env(store_url)
    ledger = build_ledger(Settings(environment="test", database_url=store_url, id_hash_key=env["LEDGER_ID_HASH_KEY"]))
    try:
        return {"Authorization": f"Bearer {ledger.issue_token(role, org, f'{role}-user').token}"}
    finally:
        ledger.close()


def test_a_served_csv_export_streams_in_chunks_and_holds_every_page_of_its_list(store_url, tmp_path):
    finance, auditor = _token(store_url, "finance", "finance-bureau"), _token(store_url, "auditor", "audit-bureau")
    with serve(ledger_env(store_url, export_page_rows="4"), tmp_path / "server.log") as served:
        with httpx.Client(base_url=served.base, timeout=30) as http:
            r = http.post("/purchase-ceilings", json={"fiscal_year": 2026, "prior_year_subsidy_total": "10000000.00"}, headers=finance)
            assert r.status_code == 201, r.text
            for n in range(10):
                r = http.post("/funds", json={"name": f"基金{n}", "source": "work_funds", "fiscal_year": 2026, "amount": "1000.00"}, headers=finance)
                assert r.status_code == 201, r.text
            position = r.json()["position"]
            items, cursor = [], None
            while True:
                page = http.get("/read/funds", params={"min_position": position, "limit": 3, **({"cursor": cursor} if cursor else {})}, headers=auditor).json()
                items += page["items"]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            with http.stream("GET", "/read/funds.csv", params={"lang": "en"}, headers=auditor) as streamed:
                assert streamed.status_code == 200
                assert streamed.headers.get("transfer-encoding") == "chunked" and "content-length" not in streamed.headers
                body = b"".join(streamed.iter_bytes())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(items) == 10
    assert [(row["Fund"], row["Available (yuan)"]) for row in rows] == [(item["fund_id"], item["available"]) for item in items]
