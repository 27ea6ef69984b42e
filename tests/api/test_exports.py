"""CSV and XLSX exports of the lists, through the HTTP API: each answers whom its list answers and
refuses whom it refuses, its rows are the list's rows (every page), its figures are the read
models' figures, its headers are in Chinese or English, and the list's filters apply."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api import exports
from api.exports import EXPORTS, csv_cell
from ledger.settings import Settings
from tests.api.builders import World, head, post

ROLES = ("purchaser", "contractor", "finance", "auditor", "evaluator")
Headers = dict[str, str]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Exports read 3 rows at a time here, so every export below spans several pages."""
    return settings.model_copy(update={"export_page_rows": 3})


def _path(template: str, world: World) -> str:
    return template.format(contractor_id=world.a.contractor_id, contract_id=world.a.contract_id, tranche_id="t-mid", beneficiary_id=world.a.beneficiary_id)


def _all_items(client: TestClient, path: str, headers: Headers, items: tuple[str, ...] = ("items",), **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = client.get(path, headers=headers, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, (path, r.text)
        page = r.json()
        for key in items[:-1]:
            page = page[key]
        out += page[items[-1]]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


def _csv(client: TestClient, path: str, headers: Headers, **params: Any) -> list[list[str]]:
    r = client.get(path, headers=headers, params=params)
    assert r.status_code == 200, (path, r.text)
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())  # Excel then reads UTF-8
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


def _xlsx(client: TestClient, path: str, headers: Headers, **params: Any) -> Any:
    r = client.get(path, headers=headers, params=params)
    assert r.status_code == 200, (path, r.text)
    assert r.headers["content-type"] == exports.XLSX_TYPE
    return openpyxl.load_workbook(io.BytesIO(r.content)).active


def test_every_export_answers_the_roles_its_list_answers_and_refuses_the_others_with_the_lists_error(client: TestClient, world: World) -> None:
    refused = 0
    for export in EXPORTS:
        path = _path(export.path, world)
        for role in ROLES:
            listed = client.get(path, headers=world.role(role))
            for fmt in ("csv", "xlsx"):
                r = client.get(f"{path}.{fmt}", headers=world.role(role))
                assert r.status_code == listed.status_code, (path, fmt, role, r.status_code, listed.status_code)
                if listed.status_code != 200:
                    assert r.json() == listed.json()  # a JSON error, as the list gives it
                    refused += 1
        assert client.get(f"{path}.csv").status_code == 401
    assert refused > 0  # some role is refused somewhere, or the check above checked nothing


def test_each_csv_export_holds_the_json_lists_rows_in_its_columns(client: TestClient, world: World) -> None:
    position = head(client)  # both read the read models once they hold every event
    for export in EXPORTS:
        path = _path(export.path, world)
        rows = _csv(client, f"{path}.csv", world.auditor, min_position=position)
        items = _all_items(client, path, world.auditor, export.items, min_position=position)
        assert rows[0] == [c.zh for c in export.columns]
        assert rows[1:] == [[csv_cell(item.get(c.key), c.kind) for c in export.columns] for item in items], path
    contracts = _csv(client, "/read/contracts.csv", world.auditor)
    budget = contracts[0].index("预算(元)")
    assert {row[budget] for row in contracts[1:]} == {"3500.00"}  # money as the list writes it


def test_an_export_larger_than_a_page_reads_every_page_in_order(client: TestClient, world: World) -> None:
    items = _all_items(client, "/read/audit", world.auditor, min_position=head(client))
    assert len(items) > 3 * 3
    rows = _csv(client, "/read/audit.csv", world.auditor)
    assert [int(row[0]) for row in rows[1:]] == [item["position"] for item in items]
    sheet = _xlsx(client, "/read/audit.xlsx", world.auditor)
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [item["position"] for item in items]


def test_an_xlsx_export_read_back_has_the_read_models_money_and_counts_as_numbers(client: TestClient, world: World) -> None:
    sheet = _xlsx(client, "/read/contracts.xlsx", world.finance, lang="en", min_position=head(client))
    header = [cell.value for cell in sheet[1]]
    assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "A2"
    by_id = {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    items = _all_items(client, "/read/contracts", world.finance)
    assert set(by_id) == {item["contract_id"] for item in items}
    for item in items:
        row = by_id[item["contract_id"]]
        for key, label in (("budget", "Budget (yuan)"), ("committed", "Committed (yuan)"), ("released", "Released (yuan)"), ("remaining", "Remaining (yuan)")):
            assert isinstance(row[label], (int, float)) and Decimal(str(row[label])).quantize(Decimal("0.01")) == Decimal(item[key])
        assert row["Units contracted"] == item["contracted"] and row["Units delivered"] == item["delivered"]
        assert isinstance(row["Units delivered"], int)
        assert row["Signed at"] == datetime.fromisoformat(item["signed_at"]).replace(tzinfo=None, microsecond=row["Signed at"].microsecond)
    money_cell = sheet.cell(row=2, column=header.index("Budget (yuan)") + 1)
    assert money_cell.number_format == "0.00"

    funds = _xlsx(client, "/read/funds.xlsx", world.finance, min_position=head(client))
    fund_header = [cell.value for cell in funds[1]]
    (fund,) = _all_items(client, "/read/funds", world.finance)
    (row,) = [dict(zip(fund_header, r)) for r in funds.iter_rows(min_row=2, values_only=True)]
    assert Decimal(str(row["批复(元)"])) == Decimal(fund["appropriated"]) == Decimal("200000.00")
    assert Decimal(str(row["已承诺(元)"])) == Decimal(fund["committed"]) and Decimal(str(row["可用(元)"])) == Decimal(fund["available"])
    assert row["年度"] == 2026


def test_headers_are_chinese_by_default_and_english_by_lang_or_accept_language(client: TestClient, world: World) -> None:
    assert _csv(client, "/read/funds.csv", world.finance)[0][:2] == ["资金", "名称"]
    assert _csv(client, "/read/funds.csv", world.finance, lang="en")[0][:2] == ["Fund", "Name"]
    english = {**world.finance, "Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}
    assert _csv(client, "/read/funds.csv", english)[0][:2] == ["Fund", "Name"]
    assert _csv(client, "/read/funds.csv", {**world.finance, "Accept-Language": "zh-CN,en;q=0.5"})[0][:2] == ["资金", "名称"]
    assert _csv(client, "/read/funds.csv", english, lang="zh")[0][:2] == ["资金", "名称"]  # the query wins
    assert [c.value for c in _xlsx(client, "/read/funds.xlsx", english)[1]][:2] == ["Fund", "Name"]
    assert client.get("/read/funds.csv", headers=world.finance, params={"lang": "fr"}).status_code == 422


def test_the_lists_filters_and_scoping_apply_to_its_export(client: TestClient, world: World) -> None:
    rows = _csv(client, "/read/contracts.csv", world.auditor, contractor_id=world.a.contractor_id)
    assert [row[0] for row in rows[1:]] == [world.a.contract_id]
    own = _csv(client, "/read/contracts.csv", world.a.token)  # a contractor sees its own, whatever it asks
    assert [row[0] for row in own[1:]] == [world.a.contract_id]
    later = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert _csv(client, "/read/visits.csv", world.auditor, period_start=later)[1:] == []
    bad = client.get("/read/visits.csv", headers=world.auditor, params={"period_start": later, "period_end": datetime.now(timezone.utc).isoformat()})
    assert bad.status_code == 422 and bad.json()["error"] == "InvalidPeriod"


def test_text_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(client: TestClient, world: World) -> None:
    typed = '=HYPERLINK("http://example.invalid","点我")'
    post(client, f"/contractors/{world.a.contractor_id}/workers", world.a.token, {"name": typed, "qualification": "carer"})
    path = f"/read/contractors/{world.a.contractor_id}/workers"
    rows = _csv(client, f"{path}.csv", world.a.token, min_position=head(client))
    assert "'" + typed in [row[2] for row in rows[1:]]  # the name column, quoted so Excel shows it
    sheet = _xlsx(client, f"{path}.xlsx", world.a.token)
    (cell,) = [row[2] for row in sheet.iter_rows(min_row=2) if row[2].value == typed]
    assert cell.data_type == "s"  # a string cell, not a formula
