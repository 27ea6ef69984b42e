"""The web console through the ASGI app: signing in, the session and CSRF, pages by role, the
language, and each role's first task; every answer a page, never a 500."""

from __future__ import annotations

import re

import pytest

from tests.api.builders import beneficiary_body, head, post, visit_body

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page carries a CSRF token"
    return found.group(1)


def bearer(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def sign_in(client, headers: dict[str, str], lang: str | None = None):
    client.cookies.clear()
    if lang:
        client.cookies.set("ledger_console_lang", lang, path="/console")
    form = client.get("/console/sign-in")
    r = client.post("/console/sign-in", data={"token": bearer(headers), "csrf": csrf_of(form.text), "next": ""}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r


class TestSigningIn:
    def test_the_console_asks_for_a_token_in_chinese_by_default(self, client):
        r = client.get("/console")
        assert r.status_code == 200 and r.url.path == "/console/sign-in"
        assert '<html lang="zh-CN">' in r.text and "访问令牌" in r.text

    def test_a_valid_token_opens_a_signed_http_only_session_at_the_roles_first_page(self, client, world):
        r = sign_in(client, world.purchaser)
        assert r.headers["location"] == "/console/funds"
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("ledger_console_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert bearer(world.purchaser) not in cookie  # encrypted: a copied cookie does not show the token
        page = client.get("/console/funds")
        assert page.status_code == 200 and "2026 工作经费" in page.text

    def test_an_unknown_token_is_refused_with_a_message_and_no_session(self, client):
        form = client.get("/console/sign-in")
        r = client.post("/console/sign-in", data={"token": "not-a-token", "csrf": csrf_of(form.text)}, follow_redirects=False)
        assert r.status_code == 401 and "令牌无效或已被吊销" in r.text
        assert not any(c.startswith("ledger_console_session=") for c in r.headers.get_list("set-cookie"))

    def test_a_forged_session_cookie_leads_back_to_the_sign_in_form(self, client, world):
        sign_in(client, world.purchaser)
        genuine = client.cookies.get("ledger_console_session")
        forged = genuine[:-6] + ("AAAAAA" if not genuine.endswith("AAAAAA") else "BBBBBB")
        client.cookies.set("ledger_console_session", forged, path="/console")
        r = client.get("/console/funds", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in")

    def test_signing_out_ends_the_session(self, client, world):
        sign_in(client, world.finance)
        page = client.get("/console/tranches")
        client.post("/console/sign-out", data={"csrf": csrf_of(page.text)})
        r = client.get("/console/tranches", follow_redirects=False)
        assert r.status_code == 303


class TestCsrf:
    def test_a_sign_in_without_the_csrf_token_is_refused(self, client, world):
        client.get("/console/sign-in")
        r = client.post("/console/sign-in", data={"token": bearer(world.purchaser)}, follow_redirects=False)
        assert r.status_code == 403 and "表单已过期" in r.text

    def test_a_command_without_the_csrf_token_is_refused_and_records_nothing(self, client, world):
        case_id = _referred_case(client, world)
        sign_in(client, world.b.token)
        before = head(client)
        for data in ({}, {"csrf": "forged"}):
            r = client.post(f"/console/cases/{case_id}/accept", data=data)
            assert r.status_code == 403 and "CsrfRefused" in r.text
        assert head(client) == before
        assert client.get(f"/cases/{case_id}", headers=world.b.token).json()["status"] == "referred"


class TestRoles:
    @pytest.mark.parametrize(
        ("role", "path"),
        [
            ("contractor", "/console/funds"),
            ("contractor", "/console/audit"),
            ("purchaser", "/console/inbox"),
            ("finance", "/console/audit"),
            ("auditor", "/console/visits/new"),
            ("evaluator", "/console/tranches"),
            ("purchaser", "/console/verify"),
        ],
    )
    def test_a_roles_page_is_forbidden_to_the_others(self, client, world, role, path):
        sign_in(client, world.role(role))
        r = client.get(path)
        assert r.status_code == 403 and "您的角色不能查看此页面" in r.text and "Your role may not see this page." in r.text  # both languages

    def test_the_auditor_cannot_release_through_the_console_even_with_a_token(self, client, world):
        sign_in(client, world.auditor)
        page = client.get("/console/audit")
        before = head(client)
        r = client.post(f"/console/tranches/{world.a.contract_id}/t-volume/release", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 403
        assert head(client) == before

    def test_a_contractor_sees_only_its_own_contracts(self, client, world):
        sign_in(client, world.a.token)
        page = client.get("/console/contracts")
        assert "MZ-2026-001" in page.text and "MZ-2026-002" not in page.text
        assert client.get(f"/console/contracts/{world.b.contract_id}").status_code == 404


class TestExports:
    def test_a_list_links_its_export_with_its_filters_and_the_session_downloads_it(self, client, world):
        sign_in(client, world.auditor)
        page = client.get("/console/audit", params={"event_type": "Visit.Delivered"})
        links = re.findall(r'href="(/console/exports/read/audit\.(?:csv|xlsx)\?[^"]+)"', page.text)
        assert len(links) == 2 and all("event_type=Visit.Delivered" in link and "lang=zh" in link for link in links)
        csv = client.get(links[0].replace("&amp;", "&"))
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        rows = csv.content.decode("utf-8-sig").splitlines()
        assert len(rows) > 1 and all("Visit.Delivered" in row for row in rows[1:])
        xlsx = client.get(links[1].replace("&amp;", "&"))
        assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    def test_the_session_opens_the_exports_alone_and_the_exports_keep_their_roles(self, client, world):
        sign_in(client, world.a.token)
        assert client.get("/console/exports/read/visits.csv").status_code == 200
        assert client.get("/read/visits").status_code == 401  # the API itself stays bearer-only
        assert client.get("/console/exports/read/funds.csv").status_code == 403  # a contractor reads no funds
        client.cookies.clear()
        assert client.get("/console/exports/read/visits.csv").status_code == 401


class TestLanguage:
    def test_the_switch_sets_a_cookie_and_the_pages_speak_english(self, client, world):
        sign_in(client, world.purchaser)
        r = client.get("/console/language/en", params={"next": "/console/contracts"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/console/contracts"
        assert any(c.startswith("ledger_console_lang=en") for c in r.headers.get_list("set-cookie"))
        page = client.get("/console/contracts")
        assert '<html lang="en">' in page.text and "Contracts" in page.text and "合同履约" not in page.text
        client.get("/console/language/zh")
        assert "合同履约" in client.get("/console/contracts").text

    def test_the_browsers_accept_language_chooses_english(self, client):
        r = client.get("/console/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
        assert '<html lang="en">' in r.text and "Access token" in r.text

    def test_the_switch_never_sends_anyone_off_the_console(self, client):
        r = client.get("/console/language/en", params={"next": "https://elsewhere.example/"}, follow_redirects=False)
        assert r.headers["location"] == "/console"


class TestFirstTasks:
    def test_the_purchaser_sees_fund_use_as_a_chart_linking_to_its_contracts(self, client, world):
        sign_in(client, world.purchaser)
        page = client.get("/console/funds")
        assert "<svg" in page.text and "已承诺" in page.text and "¥200,000.00" in page.text
        assert f"/console/contracts?fund_id={world.fund_id}" in page.text
        detail = client.get(f"/console/funds/{world.fund_id}")
        assert detail.status_code == 200 and "按乡镇的已交付服务价值" in detail.text and "城关镇" in detail.text

    def test_the_contractor_accepts_a_referral_from_its_inbox(self, client, world):
        case_id = _referred_case(client, world)
        sign_in(client, world.b.token)
        inbox = client.get("/console/inbox")
        assert case_id in inbox.text
        r = client.post(f"/console/cases/{case_id}/accept", data={"csrf": csrf_of(inbox.text)})
        assert r.status_code == 200 and "已接收转介" in r.text and f'data-case="{case_id}"' not in r.text
        assert client.get(f"/cases/{case_id}", headers=world.b.token).json()["status"] == "accepted"

    def test_the_contractor_declines_a_referral_only_with_a_reason(self, client, world):
        case_id = _referred_case(client, world)
        sign_in(client, world.b.token)
        inbox = client.get("/console/inbox")
        without = client.post(f"/console/cases/{case_id}/decline", data={"csrf": csrf_of(inbox.text), "reason": "  "})
        assert without.status_code == 422 and "输入有误" in without.text
        r = client.post(f"/console/cases/{case_id}/decline", data={"csrf": csrf_of(inbox.text), "reason": "服务区域外"})
        assert r.status_code == 200 and "已拒绝转介" in r.text
        assert client.get(f"/cases/{case_id}", headers=world.b.token).json()["status"] == "declined"

    def test_the_contractor_posts_a_visit_through_the_form(self, client, world):
        sign_in(client, world.a.token)
        form = client.get("/console/visits/new")
        body = visit_body(world.a.case_id, world.a.worker_id, service="bathing")
        data = {
            "csrf": csrf_of(form.text),
            "case_id": world.a.case_id,
            "worker_id": world.a.worker_id,
            "service_code": "bathing",
            "started_at": body["started_at"],
            "ended_at": body["ended_at"],
            "location": "东风村3号",
        }
        before = head(client)
        r = client.post("/console/visits/new", data=data)
        assert r.status_code == 200 and "服务记录已保存" in r.text
        assert head(client) > before
        visits = client.get("/read/visits", params={"case_id": world.a.case_id, "min_position": head(client)}, headers=world.a.token).json()["items"]
        assert any(v["service_code"] == "bathing" for v in visits)

    def test_a_visit_form_with_a_bad_time_is_answered_with_a_page_not_a_500(self, client, world):
        sign_in(client, world.a.token)
        form = client.get("/console/visits/new")
        data = {"csrf": csrf_of(form.text), "case_id": world.a.case_id, "worker_id": world.a.worker_id, "service_code": "meals", "started_at": "yesterday", "ended_at": ""}
        r = client.post("/console/visits/new", data=data)
        assert r.status_code == 422 and "输入有误" in r.text and "ValidationError" in r.text

    def test_the_contractor_uploads_a_days_visits_and_reads_each_rows_result(self, client, world):
        sign_in(client, world.a.token)
        form = client.get("/console/visits/upload")
        good = visit_body(world.a.case_id, world.a.worker_id, hours_ago=30)
        lines = [
            "client_id,case_id,worker_id,service_code,started_at,ended_at",
            f"day-1,{world.a.case_id},{world.a.worker_id},meals,{good['started_at']},{good['ended_at']}",
            f"day-2,{world.a.case_id},{world.a.worker_id},no_such_service,{good['started_at']},{good['ended_at']}",
        ]
        files = {"file": ("visits.csv", ("\n".join(lines) + "\n").encode(), "text/csv")}
        r = client.post("/console/visits/upload", data={"csrf": csrf_of(form.text)}, files=files)
        assert r.status_code == 200, r.text
        rows = re.findall(r'<tr class="(recorded|refused|already_recorded)"><td class="num">(\d+)</td>', r.text)
        assert rows == [("recorded", "2"), ("refused", "3")]

    def test_finance_releases_a_payable_tranche_after_confirming(self, client, world):
        sign_in(client, world.finance)
        for n in range(3):  # the volume milestone: three meals
            post(client, "/visits", world.a.token, visit_body(world.a.case_id, world.a.worker_id, hours_ago=40 + n))
        payable = client.get("/console/tranches", params={"after": head(client)})
        assert f"{world.a.contract_id}/t-volume" in payable.text
        confirm = client.get(f"/console/tranches/{world.a.contract_id}/t-volume/release")
        assert confirm.status_code == 200 and "¥1,000.00" in confirm.text
        r = client.post(f"/console/tranches/{world.a.contract_id}/t-volume/release", data={"csrf": csrf_of(confirm.text)})
        assert r.status_code == 200 and "已拨付" in r.text
        assert client.get(f"/contracts/{world.a.contract_id}", headers=world.finance).json()["tranches"][0]["status"] == "released"
        again = client.post(f"/console/tranches/{world.a.contract_id}/t-volume/release", data={"csrf": csrf_of(confirm.text)})
        assert again.status_code == 409 and "与当前状态冲突" in again.text

    def test_finance_filters_the_payable_tranches_by_contractor_and_the_export_keeps_the_filter(self, client, world):
        sign_in(client, world.finance)
        for side in (world.a, world.b):  # each contract's volume milestone: three meals
            for n in range(3):
                post(client, "/visits", side.token, visit_body(side.case_id, side.worker_id, hours_ago=40 + n))
        both = client.get("/console/tranches", params={"after": head(client)})
        assert f"{world.a.contract_id}/t-volume" in both.text and f"{world.b.contract_id}/t-volume" in both.text
        only_b = client.get("/console/tranches", params={"contractor_id": world.b.contractor_id})
        assert f"{world.b.contract_id}/t-volume" in only_b.text and f"{world.a.contract_id}/t-volume" not in only_b.text
        assert f'name="contractor_id" value="{world.b.contractor_id}"' in only_b.text  # the form shows the filter
        link = re.search(r'href="(/console/exports/read/payable-tranches\.csv\?[^"]+)"', only_b.text)
        assert link and f"contractor_id={world.b.contractor_id}" in link.group(1)
        rows = client.get(link.group(1).replace("&amp;", "&")).content.decode("utf-8-sig").splitlines()
        assert len(rows) == 2 and world.b.contract_id in rows[1] and world.a.contract_id not in rows[1]  # the header, then b's tranche alone

    def test_the_trace_index_is_filtered_by_contractor_as_the_contracts_list_is(self, client, world):
        sign_in(client, world.auditor)
        every_contract = client.get("/console/trace", params={"after": head(client)})
        assert f"/console/trace/{world.a.contract_id}/" in every_contract.text and f"/console/trace/{world.b.contract_id}/" in every_contract.text
        only_a = client.get("/console/trace", params={"contractor_id": world.a.contractor_id})
        assert f"/console/trace/{world.a.contract_id}/" in only_a.text and f"/console/trace/{world.b.contract_id}/" not in only_a.text
        none = client.get("/console/trace", params={"status": "settled"})
        assert none.status_code == 200 and "/console/trace/" + world.a.contract_id not in none.text

    def test_the_auditor_traces_a_tranche_and_verifies_the_log(self, client, world):
        sign_in(client, world.auditor)
        trace = client.get(f"/console/trace/{world.a.contract_id}/t-volume", params={"after": head(client)})
        assert trace.status_code == 200 and "计入该节点的服务记录" in trace.text
        assert client.get("/console/audit", params={"event_type": "Contract.Signed"}).status_code == 200
        verify = client.get("/console/verify")
        assert verify.status_code == 200 and "日志完整" in verify.text

    def test_an_unknown_page_or_cursor_is_a_friendly_page(self, client, world):
        sign_in(client, world.purchaser)
        assert "找不到该页面或记录" in client.get("/console/no-such-page").text
        r = client.get("/console/contracts", params={"cursor": "garbage"})
        assert r.status_code == 422 and "输入有误" in r.text


def _referred_case(client, world) -> str:
    """A new referral to contractor B, awaiting its answer."""
    beneficiary_id = post(client, "/beneficiaries", world.purchaser, beneficiary_body(31))["beneficiary_id"]
    referral = {"beneficiary_id": beneficiary_id, "contract_id": world.b.contract_id, "services": ["meals"], "channel": "village_coordinator"}
    case_id = post(client, "/cases", world.purchaser, referral)["case_id"]
    client.get("/read/cases", params={"min_position": head(client)}, headers=world.purchaser)
    return case_id


class TestLists:
    def test_the_audit_trail_pages_by_cursor_and_keeps_its_filter(self, client, world):
        for n in range(20):  # more of the contractor's events than a page holds
            post(client, "/visits", world.a.token, visit_body(world.a.case_id, world.a.worker_id, hours_ago=50 + n))
        sign_in(client, world.auditor)
        first = client.get("/console/audit", params={"role": "contractor", "after": head(client)})
        positions = re.findall(r'<tr><td class="num">(\d+)</td>', first.text)
        assert len(positions) == 25
        link = re.search(r'<a href="([^"]+)" rel="next">', first.text)
        assert link and "role=contractor" in link.group(1)
        second = client.get(link.group(1).replace("&amp;", "&"))
        later = re.findall(r'<tr><td class="num">(\d+)</td>', second.text)
        assert later and max(map(int, later)) < min(map(int, positions))  # newest first, no overlap
        assert all(">承接主体<" in row for row in re.findall(r"<tr><td class=\"num\">.*?</tr>", second.text, re.S))

    def test_a_contractor_figure_links_to_the_visits_behind_it(self, client, world):
        sign_in(client, world.purchaser)
        page = client.get("/console/contracts", params={"after": head(client)})
        assert f"/console/visits?contract_id={world.a.contract_id}" in page.text
        visits = client.get("/console/visits", params={"contract_id": world.a.contract_id})
        assert visits.status_code == 200 and visits.text.count('<tr><td class="time">') == 1
