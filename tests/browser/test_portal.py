"""The portal in a real browser (headless Chromium through Playwright) against a live server.

Skipped where ``/usr/bin/chromium`` is missing. Playwright's sync API runs an event loop in this
thread, so Django's "no ORM calls from async context" guard is switched off while these tests run
(and only then: the rest of the suite keeps the guard).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import BROWSER_MARKS, SCREENSHOTS

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def world(live_server, users, region):  # type: ignore[no-untyped-def]
    from ggzy.registry.models import Region
    from tests.web.conftest import make_entity

    Region.objects.create(code="320200", name="无锡市", parent_id="320000")
    make_entity(users["bidder"], 1, "南京金陵建设工程有限公司")
    make_entity(users["bidder"], 2, "南京钟山招标代理有限公司", is_bidder=False, is_agent=True)
    make_entity(users["bidder"], 3, "无锡太湖建设集团有限公司", region="320200")
    return live_server.url


def test_a_visitor_searches_the_directory(world, page, browser) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{world}/entities/")
    results = page.locator("#entity-results")
    expect(results).to_contain_text("共 3 个市场主体")
    page.evaluate("window.__sameDocument = true")

    page.fill("#id_q", "无锡")

    expect(results).to_contain_text("共 1 个市场主体")
    expect(results).to_contain_text("无锡太湖建设集团有限公司")
    expect(results).not_to_contain_text("南京金陵建设工程有限公司")
    assert page.evaluate("window.__sameDocument") is True  # swapped in place by htmx, no reload
    assert "q=" in page.url  # the search is in the address bar, so it can be shared

    page.fill("#id_q", "")
    page.select_option("#id_role", "agent")

    expect(results).to_contain_text("南京钟山招标代理有限公司")
    expect(results).not_to_contain_text("无锡太湖建设集团有限公司")
    assert page.evaluate("window.__sameDocument") is True

    # Without JavaScript the same form is a plain GET form.
    plain = browser.new_context(locale="zh-CN", java_script_enabled=False).new_page()
    plain.goto(f"{world}/entities/")
    plain.fill("#id_q", "南京")
    plain.click("form[role=search] button[type=submit]")
    expect(plain.locator("#entity-results")).to_contain_text("共 2 个市场主体")
    assert "q=%E5%8D%97%E4%BA%AC" in plain.url
    plain.context.close()


def test_a_bidder_signs_up_and_registers_an_entity(world, page) -> None:  # type: ignore[no-untyped-def]
    from ggzy.core.identifiers import IdentifierError, validate_uscc
    from tests.conftest import PASSWORD, uscc

    page.goto(f"{world}/")
    page.screenshot(path=str(SCREENSHOTS / "ggzy-home.png"), full_page=True)
    page.click("header >> text=注册")
    page.fill("#id_username", "jinling_clerk")
    page.fill("#id_display_name", "金陵经办人")
    page.check("input[name=role][value=bidder]")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_confirm", PASSWORD)
    page.click("main button[type=submit]")

    expect(page.locator(".messages")).to_contain_text("注册成功")
    expect(page.locator("#id_username")).to_have_value("jinling_clerk")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("个人中心")

    page.click("main >> text=登记市场主体")
    good = uscc(42)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(IdentifierError) as refused:
        validate_uscc(bad)
    page.fill("#id_uscc", bad)
    page.fill("#id_name", "南京新街口建设有限公司")
    page.select_option("#id_entity_type", "enterprise")
    page.fill("#id_legal_representative", "钱七")
    page.fill("#id_address", "南京市秦淮区中山南路1号")
    page.select_option("#id_region", "320100")
    page.fill("#id_registered_capital", "3000000")
    page.click("main button[type=submit]")

    expect(page.locator("#id_uscc_error")).to_have_text(refused.value.message)
    expect(page.locator("#id_name")).to_have_value("南京新街口建设有限公司")  # nothing retyped

    page.fill("#id_uscc", good)
    page.click("main button[type=submit]")

    expect(page.locator("h1")).to_have_text("南京新街口建设有限公司")
    assert page.url == f"{world}/entities/{good}/"
    expect(page.locator(".messages")).to_contain_text("登记成功")
    expect(page.locator("main")).to_contain_text("金陵经办人")  # the registrant is its admin
    expect(page.get_by_role("link", name="编辑")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "ggzy-entity-profile.png"), full_page=True)


def test_a_visitor_opens_the_ledger_and_checks_a_proof(world, page) -> None:  # type: ignore[no-untyped-def]
    from ggzy.ledger.offline import check_inclusion

    page.goto(f"{world}/ledger/")
    expect(page.locator("main")).to_contain_text("最新签名树头")
    page.click("table >> text=#2")

    expect(page.locator("h1")).to_have_text("账本事件 #2")
    expect(page.locator(".audit-path li").first).to_be_visible()
    download = page.get_by_role("link", name="下载证明 JSON")
    assert download.get_attribute("href") == "/api/v1/ledger/events/2/proof"

    proof = page.request.get(f"{world}/api/v1/ledger/events/2/proof").json()
    key = page.request.get(f"{world}/api/v1/ledger/key").json()["public_key_pem"]
    check_inclusion(proof, key)  # raises ProofInvalid unless the proof and signature hold
    shown = page.locator(".audit-path code").all_inner_texts()
    assert shown == proof["audit_path"]
