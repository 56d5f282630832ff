"""A project from registration to its published opening record, through the pages alone, in
headless Chromium against the live server.

Time: ``clock.frozen`` freezes the platform clock for every thread, the live server's included,
so the test publishes with a deadline 21 days ahead (R1 needs 20) and then *moves the clock*
past it instead of sleeping. The envelopes are sealed here, as ``ggzy-client seal`` would on the
bidder's machine, and the content keys are what ``ggzy-client unwrap`` would print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import BROWSER_MARKS, SCREENSHOTS

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def world(live_server, frozen_clock, region):  # type: ignore[no-untyped-def]
    from tests.bidding import world as w

    return live_server.url, w.make_world()


def _signed_in(browser: Any, base: str, user: Any) -> Any:
    from tests.conftest import PASSWORD

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def _register_and_submit(page: Any, base: str) -> str:
    page.goto(f"{base}/workspace/projects/new/")
    page.fill("#id_name", "南京市某中学风雨操场新建工程")
    page.select_option("#id_category", "works")
    page.select_option("#id_procedure", "open_tender")
    page.select_option("#id_region", "320100")
    page.fill("#id_investment_project_code", "2026-320100-47-01-000321")
    page.fill("#id_funding_source", "财政资金")
    page.fill("#id_budget", "5000000.00")
    page.fill("#id_section_name", "风雨操场施工")
    page.fill("#id_estimated_price", "4800000.00")
    page.fill("#id_max_price", "4700000.00")
    page.fill("#id_deposit", "0")
    page.fill("#id_qualification_requirements", "具有建筑工程施工总承包三级及以上资质")
    page.select_option("#id_evaluation_method", "lowest_price")
    page.fill("#id_duration_days", "200")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("南京市某中学风雨操场新建工程")
    expect(page.locator("#project-status")).to_have_text("草稿")
    page.click("button:has-text('提交受理')")
    expect(page.locator("#project-status")).to_have_text("待受理")
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def _upload_and_publish(page: Any, base: str, public_id: str, tmp_path: Path) -> None:
    page.goto(f"{base}/workspace/projects/{public_id}/")
    expect(page.locator("#project-status")).to_have_text("已受理")
    document = tmp_path / "招标文件.txt"
    document.write_text("第一章 招标公告\n本项目为风雨操场新建工程施工。\n", encoding="utf-8")
    page.select_option("#id_kind", "tender")
    page.set_input_files("#id_file", str(document))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("main")).to_contain_text("文件已上传")
    page.click("text=发布招标公告")
    page.fill("#id_announcement", "南京市某中学风雨操场新建工程施工招标公告。")
    page.fill("#id_documents_until", "2026-11-29T10:00")  # T0 is 2026-11-23 10:00 China time
    page.fill("#id_bid_deadline", "2026-12-14T10:00")  # 21 days: R1 needs 20
    page.click("main button[type=submit]")
    expect(page.locator("#project-status")).to_have_text("已发布")


def _submit_envelope(page: Any, base: str, public_id: str, envelope: Path) -> None:
    page.goto(f"{base}/projects/{public_id}/")
    page.click("text=递交投标文件")
    page.set_input_files("#id_envelope", str(envelope))
    page.click("#bid-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("投标回执")


def test_a_project_from_registration_to_its_opening_record(world, browser, frozen_clock,
                                                           tmp_path) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    from datetime import timedelta

    from ggzy.tendering.models import Project
    from tests.bidding import world as w

    base, world = world
    tenderer = _signed_in(browser, base, world.tenderer)
    public_id = _register_and_submit(tenderer, base)

    intake = _signed_in(browser, base, world.intake)
    intake.goto(f"{base}/staff/intake/")
    intake.click(f"#intake-{public_id} button:has-text('受理')")
    expect(intake.locator("main")).to_contain_text("已受理，交易编码")

    _upload_and_publish(tenderer, base, public_id, tmp_path)

    section = Project.objects.get(public_id=public_id).sections.get()
    bidders, envelopes = [], []
    for n, bidder in enumerate(world.bidders):
        envelope = w.sealed(bidder, section, tmp_path / f"b{n}", price=f"{4500000 + n * 1000}.00")
        page = _signed_in(browser, base, bidder.user)
        _submit_envelope(page, base, public_id, envelope)
        bidders.append(page)
        envelopes.append(envelope)

    anonymous = browser.new_context(locale="zh-CN").new_page()
    anonymous.goto(f"{base}/projects/{public_id}/")
    expect(anonymous.locator("main")).to_contain_text("投标中")
    for bidder in world.bidders:  # R42: nobody sees who bid before the deadline
        expect(anonymous.locator("main")).not_to_contain_text(bidder.entity.name)

    frozen_clock.advance(timedelta(days=21, minutes=1))

    staff = _signed_in(browser, base, world.operations)
    staff.goto(f"{base}/staff/openings/")
    staff.click("#openings-due >> text=进入开标")
    staff.click("#start-opening")
    progress = staff.locator("#key-progress")
    expect(progress).to_contain_text("已解密 0 / 3")
    staff.evaluate("window.__sameDocument = true")

    for page, envelope in zip(bidders, envelopes, strict=True):
        page.goto(f"{base}/workspace/bids/")
        page.click("#my-bids a:has-text('开标')")
        page.fill("#id_content_key", w.content_key(envelope).hex())
        page.click("#key-form button[type=submit]")
        expect(page.locator("#my-bid-status")).to_have_text("已解密")

    expect(progress).to_contain_text("已解密 3 / 3", timeout=10_000)  # the htmx poll
    assert staff.evaluate("window.__sameDocument") is True
    staff.click("#close-opening")
    expect(staff.locator("#control-status")).to_contain_text("开标记录签名已验证")

    follower = bidders[0]  # left on the live opening page: it updates itself
    expect(follower.locator("#opening-status")).to_contain_text(
        "开标记录签名已验证", timeout=10_000
    )
    assert follower.locator("#opening-status").get_attribute("hx-trigger") is None

    anonymous.goto(f"{base}/projects/{public_id}/")
    record = anonymous.locator(".opening-record")
    for bidder in world.bidders:
        expect(record).to_contain_text(bidder.entity.name)
    expect(record).to_contain_text("4500000.00")
    expect(anonymous.locator("main")).to_contain_text("开标记录签名已验证")
    expect(anonymous.locator("#timeline")).to_contain_text("开标记录发布")
    anonymous.screenshot(path=str(SCREENSHOTS / "ggzy-opening-record.png"), full_page=True)
