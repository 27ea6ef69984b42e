"""Beneficiary roster import: a CSV file (uploaded, or as a text/csv body) in Chinese or English,
each row registered as POST /beneficiaries would and answered alone; uploading it again registers
nobody twice; whole-file faults (encoding, header, size) are refused with a clear code."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import limits
from tests.api.builders import beneficiary_body, head, national_id, post

ZH_HEADER = "身份证号码,姓名,户编号,救助类别,乡镇（街道）,村（社区）,自理能力"
EN_HEADER = "National ID number,Name,Household ID,Category,Township,Village,Self-care level"


def zh_row(n: int, category: str = "最低生活保障对象", level: str = "部分失能", nid: str | None = None) -> str:
    return f"{nid or national_id(n)},居民{n},HH-{n},{category},城关镇,东风村,{level}"


def upload(client: Any, headers: dict[str, str], text: str | bytes, *, as_file: bool = True, status: int = 200) -> dict[str, Any]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    if as_file:
        r = client.post("/beneficiaries/import", files={"file": ("花名册.csv", data, "text/csv")}, headers=headers)
    else:
        r = client.post("/beneficiaries/import", content=data, headers={**headers, "Content-Type": "text/csv"})
    assert r.status_code == status, r.text
    return r.json()


def typo(number: str) -> str:
    return number[:8] + str((int(number[8]) + 1) % 10) + number[9:]


def test_a_mixed_roster_registers_the_good_rows_and_refuses_each_bad_one_alone(client, world):
    bad_id = typo(national_id(301))
    lines = [
        ZH_HEADER,
        zh_row(301),
        zh_row(302, category="extreme_poverty", level="Fully lost self-care"),  # codes and English labels too
        zh_row(303, nid=bad_id),  # a one-digit typo
        zh_row(304, category="富人"),  # no such category
        f"{national_id(305)},居民305,HH-305",  # too few cells
        "",  # a blank line is nobody
        zh_row(306, nid=national_id(2)),  # world's beneficiary B: registered already
        zh_row(307),
    ]
    answer = upload(client, world.purchaser, "\ufeff" + "\r\n".join(lines) + "\r\n")  # Excel's BOM
    results = answer["results"]
    assert [r["row"] for r in results] == [2, 3, 4, 5, 6, 8, 9]
    assert [r["status"] for r in results] == ["registered", "registered", "refused", "refused", "refused", "already_registered", "registered"]
    assert (answer["registered"], answer["already_registered"], answer["refused"]) == (3, 1, 3)
    assert results[2]["error"] == "NationalIdCheckFailed" and results[3]["error"] == "ValidationError" and results[4]["error"] == "MalformedRow"
    assert results[5]["beneficiary_id"] == world.b.beneficiary_id
    assert bad_id not in str(answer) and national_id(301) not in str(answer)
    person = client.get(f"/beneficiaries/{results[1]['beneficiary_id']}", headers=world.purchaser).json()
    assert (person["name"], person["category"], person["self_care_level"], person["township"]) == ("居民302", "extreme_poverty", "fully_lost", "城关镇")
    assert person["national_id_last4"] == national_id(302)[-4:]


def test_uploading_the_same_roster_again_registers_nobody_twice(client, world):
    text = "\n".join([EN_HEADER, *(f"{national_id(n)},Resident {n},HH-{n},dibao,Chengguan,Dongfeng,self_reliant" for n in range(320, 325))])
    first = upload(client, world.purchaser, text, as_file=False)
    assert first["registered"] == 5
    after_first = head(client)
    again = upload(client, world.purchaser, text)
    assert again["registered"] == 0 and again["already_registered"] == 5 and again["refused"] == 0
    assert [r["beneficiary_id"] for r in again["results"]] == [r["beneficiary_id"] for r in first["results"]]
    assert head(client) == after_first
    # The same person with other details is still not registered twice.
    changed = upload(client, world.purchaser, EN_HEADER + f"\n{national_id(320)},Someone Else,HH-9,marginal,Chengguan,Dongfeng,self_reliant\n")
    assert changed["results"][0]["status"] == "already_registered" and head(client) == after_first


def test_a_roster_not_in_utf8_is_refused_whole(client, world):
    before = head(client)
    gbk = (ZH_HEADER + "\n" + zh_row(330)).encode("gbk")
    r = client.post("/beneficiaries/import", files={"file": ("roster.csv", gbk, "text/csv")}, headers=world.purchaser)
    assert r.status_code == 422 and r.json()["error"] == "InvalidRoster" and "UTF-8" in r.json()["detail"], r.text
    assert head(client) == before


@pytest.mark.parametrize(
    "header",
    [
        "身份证号码,姓名,户编号,救助类别,乡镇,村",  # no self-care column
        "身份证号码,姓名,户编号,救助类别,乡镇,村,自理能力,Name",  # a column named twice
        "id,who,where",
        "",
    ],
)
def test_a_roster_with_the_wrong_header_is_refused_whole_naming_the_columns(client, world, header):
    before = head(client)
    r = client.post("/beneficiaries/import", content=(header + "\n" + zh_row(340)).encode(), headers={**world.purchaser, "Content-Type": "text/csv"})
    assert r.status_code == 422 and r.json()["error"] == "InvalidRoster", r.text
    assert "身份证号码 / National ID number" in r.json()["detail"]
    assert head(client) == before


def test_unknown_columns_are_ignored_and_listed(client, world):
    answer = upload(client, world.purchaser, f"{ZH_HEADER},联系电话\n{zh_row(350)},13800000000\n")
    assert answer["registered"] == 1 and answer["ignored_columns"] == ["联系电话"]


def test_a_roster_over_the_row_limit_is_413_and_records_nothing(client, world):
    before = head(client)
    rows = "\n".join(zh_row(n) for n in range(1000, 1001 + limits.ROSTER_ROWS.max_items))
    r = client.post("/beneficiaries/import", content=(ZH_HEADER + "\n" + rows).encode(), headers={**world.purchaser, "Content-Type": "text/csv"})
    assert r.status_code == 413 and r.json()["error"] == "RequestTooLarge" and str(limits.ROSTER_ROWS.max_items) in r.json()["detail"], r.text
    assert head(client) == before


def test_a_roster_over_the_body_limit_is_413(client, world):
    big = ZH_HEADER + "\n" + "x" * (client.app.state.settings.max_body_bytes + 1)
    r = client.post("/beneficiaries/import", content=big.encode(), headers={**world.purchaser, "Content-Type": "text/csv"})
    assert r.status_code == 413 and r.json()["error"] == "RequestTooLarge"


def test_only_the_purchaser_imports_a_roster_and_only_as_csv(client, world):
    text = ZH_HEADER + "\n" + zh_row(360)
    for role in ("contractor", "finance", "auditor", "evaluator"):
        r = client.post("/beneficiaries/import", content=text.encode(), headers={**world.role(role), "Content-Type": "text/csv"})
        assert r.status_code == 403 and r.json()["error"] == "Forbidden", (role, r.text)
    assert client.post("/beneficiaries/import", content=text.encode(), headers={"Content-Type": "text/csv"}).status_code == 401
    r = client.post("/beneficiaries/import", json={"rows": []}, headers=world.purchaser)
    assert r.status_code == 415 and r.json()["error"] == "UnsupportedMediaType"
    r = client.post("/beneficiaries/import", files={"roster": ("a.csv", text.encode(), "text/csv")}, headers=world.purchaser)
    assert r.status_code == 422 and r.json()["error"] == "InvalidRoster"
    # What one registered by hand, the roster answers as already registered.
    post(client, "/beneficiaries", world.purchaser, beneficiary_body(361))
    again = upload(client, world.purchaser, ZH_HEADER + "\n" + zh_row(361))
    assert again["results"][0]["status"] == "already_registered"
