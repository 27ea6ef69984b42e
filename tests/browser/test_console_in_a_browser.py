"""Each role signs in to the demo city in a real browser and does its first task end to end, in
Chinese and in English, with nothing fetched from outside this machine; a screenshot of each
role's main page is kept in tests/browser/artifacts/."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import City, Watched, screenshot, watched_page

WORDS = {
    "zh": {
        "funds": "资金使用",
        "committed": "已承诺",
        "township": "按乡镇的已交付服务价值",
        "accepted": "已接收转介。",
        "recorded": "服务记录已保存。",
        "released": "已拨付。",
        "counted": "计入该节点的服务记录",
        "audit": "审计日志",
        "intact": "日志完整",
    },
    "en": {
        "funds": "Funds",
        "committed": "Committed",
        "township": "Delivered value by township",
        "accepted": "Referral accepted.",
        "recorded": "The visit is recorded.",
        "released": "The tranche is released.",
        "counted": "Visits its milestone counted",
        "audit": "Audit trail",
        "intact": "The log is intact",
    },
}
LOCALES = {"zh": "zh-CN", "en": "en-US"}


@pytest.fixture(params=["zh", "en"])
def lang(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def watched(browser, lang):
    yield from watched_page(browser, LOCALES[lang])


def sign_in(page: Page, city: City, role: str, token: str | None = None) -> None:
    page.goto(f"{city.base}/console")
    page.fill("#token", token or city.token(role))
    page.locator("form[action='/console/sign-in'] button[type=submit]").click()
    page.wait_for_load_state()


def nothing_left(watched: Watched) -> None:
    assert watched.requested and not watched.left, watched.left
    assert not watched.console_errors, watched.console_errors


def test_the_purchaser_sees_how_the_fund_is_used(city, watched, lang):
    page, w = watched.page, WORDS[lang]
    sign_in(page, city, "purchaser")
    expect(page.locator("h1")).to_have_text(w["funds"])
    expect(page.locator("html")).to_have_attribute("lang", {"zh": "zh-CN", "en": "en"}[lang])
    chart = page.locator("section.fund svg.chart").first
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar.committed")).to_have_count(1)
    assert float(chart.locator("rect.bar.committed").get_attribute("width")) > 0
    expect(page.locator("section.fund dl.figures").first).to_contain_text(w["committed"])
    screenshot(page, f"{lang}-purchaser-funds")
    page.locator("section.fund h2 a").first.click()
    expect(page.locator("h2", has_text=w["township"])).to_be_visible()
    assert page.locator("svg.chart rect.bar.delivered").count() >= 2
    screenshot(page, f"{lang}-purchaser-fund")
    page.locator("svg.chart rect.bar.committed").first.click()  # the figure links to its contracts
    expect(page.locator("table tbody tr").first).to_be_visible()
    assert "fund_id=" in page.url
    nothing_left(watched)


def test_the_contractor_accepts_a_referral_and_posts_a_visit(city, watched, lang):
    page, w = watched.page, WORDS[lang]
    sign_in(page, city, "contractor")
    rows = page.locator("table.cases tbody tr[data-case]")
    before = rows.count()
    assert before >= 1, "the demo leaves referrals for the contractor to answer"
    screenshot(page, f"{lang}-contractor-inbox")
    case_id = rows.first.get_attribute("data-case")
    rows.first.locator("button[name=accept]").click()
    expect(page.locator(".notice")).to_have_text(w["accepted"])
    expect(page.locator(f"tr[data-case='{case_id}']")).to_have_count(0)

    page.goto(f"{city.base}/console/visits/new")
    options = page.locator("#case_id option")
    oldest = options.nth(options.count() - 1).get_attribute("value")  # accepted months ago
    page.select_option("#case_id", oldest)
    service = page.locator("#service_code option").first.get_attribute("value")
    page.select_option("#service_code", service)
    beijing = datetime.now(timezone(timedelta(hours=8))) - timedelta(hours=2 if lang == "zh" else 4)
    page.fill("#started_at", beijing.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ended_at", (beijing + timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#location", "青溪县城关镇")
    screenshot(page, f"{lang}-contractor-visit-form")
    page.locator("form[action='/console/visits/new'] button[type=submit]").click()
    expect(page.locator(".notice")).to_have_text(w["recorded"])
    page.goto(f"{city.base}/console/visits?case_id={oldest}")
    expect(page.locator("table tbody tr", has_text=beijing.strftime("%Y-%m-%d %H:%M"))).to_have_count(1)
    nothing_left(watched)


def test_the_contractor_uploads_a_days_visits_and_reads_each_rows_result(city, watched, lang):
    page = watched.page
    sign_in(page, city, "contractor")
    page.goto(f"{city.base}/console/visits/new")
    options = page.locator("#case_id option")
    case_id = options.nth(options.count() - 1).get_attribute("value")
    worker_id = page.locator("#worker_id option").last.get_attribute("value")
    day = datetime.now(timezone.utc) - timedelta(days=1, hours=3 if lang == "zh" else 5)
    start, end = day.isoformat(), (day + timedelta(minutes=30)).isoformat()
    csv = "\n".join(
        [
            "client_id,case_id,worker_id,service_code,started_at,ended_at,location",
            f"{lang}-upload-1,{case_id},{worker_id},visiting,{start},{end},青溪县",
            f"{lang}-upload-2,{case_id},{worker_id},not_a_service,{start},{end},青溪县",
        ]
    )
    page.goto(f"{city.base}/console/visits/upload")
    page.set_input_files("#file", files=[{"name": "visits.csv", "mimeType": "text/csv", "buffer": csv.encode()}])
    page.locator("form[action='/console/visits/upload'] button[type=submit]").click()
    results = page.locator("section.outcome tbody tr")
    expect(results).to_have_count(2)
    expect(results.nth(0)).to_have_class("recorded")
    expect(results.nth(1)).to_have_class("refused")
    expect(results.nth(1)).to_contain_text("ValidationError")
    screenshot(page, f"{lang}-contractor-upload")
    nothing_left(watched)


def test_finance_releases_a_tranche_after_confirming(city, watched, lang):
    page, w = watched.page, WORDS[lang]
    sign_in(page, city, "finance")
    rows = page.locator("table.tranches tbody tr[data-tranche]")
    before = rows.count()
    assert before >= 1, "the demo leaves tranches to release"
    screenshot(page, f"{lang}-finance-tranches")
    tranche = rows.first.get_attribute("data-tranche")
    payable = rows.first.locator("td.num strong").inner_text()
    rows.first.locator("a.button").click()
    expect(page.locator("section.confirm")).to_contain_text(payable)  # what it would pay, shown before it pays
    screenshot(page, f"{lang}-finance-confirm")
    page.click("#confirm-release")
    expect(page.locator(".notice")).to_have_text(w["released"])
    expect(page.locator(f"tr[data-tranche='{tranche}']")).to_have_count(0)
    nothing_left(watched)


def test_the_auditor_traces_a_released_tranche_to_its_visits(city, watched, lang):
    page, w = watched.page, WORDS[lang]
    sign_in(page, city, "auditor")
    expect(page.locator("h1")).to_have_text(w["audit"])
    expect(page.locator("table.audit tbody tr").first).to_be_visible()
    screenshot(page, f"{lang}-auditor-audit")
    released = city.demo["released_tranche"]
    page.goto(f"{city.base}/console/trace")
    page.locator(f"a[href='/console/trace/{released['contract_id']}/{released['tranche_id']}']").click()
    expect(page.locator("h2", has_text=w["counted"])).to_be_visible()
    visits = page.locator("table.trace-visits tbody tr")
    assert visits.count() >= 10, "the volume milestone counted the demo's visits"
    screenshot(page, f"{lang}-auditor-trace")
    visits.first.locator("td a").first.click()  # the visit's position leads to its events
    expect(page.locator("table.audit tbody tr").first).to_be_visible()
    page.goto(f"{city.base}/console/verify")
    expect(page.locator("#verification")).to_contain_text(w["intact"])
    nothing_left(watched)


def test_the_language_switch_turns_the_console_to_english_and_back(city, zh_page):
    page = zh_page.page
    sign_in(page, city, "purchaser")
    expect(page.locator("h1")).to_have_text("资金使用")
    page.click("#lang-en")
    expect(page.locator("h1")).to_have_text("Funds")
    page.goto(f"{city.base}/console/contracts")
    expect(page.locator("h1")).to_have_text("Contracts")
    page.click("#lang-zh")
    expect(page.locator("h1")).to_have_text("合同履约")
    nothing_left(zh_page)


def test_the_api_documentation_renders_its_operations_with_the_network_cut_off(city, en_page):
    """/docs must not need a CDN: it is rendered by the ledger itself, its one stylesheet included."""
    page = en_page.page
    page.goto(f"{city.base}/docs")
    expect(page.locator("article.op").first).to_be_visible(timeout=15000)
    assert page.locator("article.op").count() > 60
    # The stylesheet applied: the method badges are coloured boxes, not plain text.
    assert page.locator(".method.post").first.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    screenshot(page, "docs-en")
    assert not en_page.left, f"the documentation asked the internet for {en_page.left}"
