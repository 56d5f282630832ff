"""The supervision dashboard in a real browser: ECharts draws the screens' distributions and the
co-bidding graph of an imported data set; without JavaScript the page shows the same numbers as
tables; the alert page's forms work without JavaScript."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import BROWSER_MARKS, SCREENSHOTS
from tests.conftest import PASSWORD

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def world(live_server, db, settings, tmp_path):  # type: ignore[no-untyped-def]
    from ggzy.accounts.roles import Role
    from ggzy.supervision import datasets, demo
    from tests.conftest import make_user

    settings.GGZY_SUPERVISION_DIR = tmp_path / "supervision"
    regulator = make_user("jianguan_b", Role.REGULATOR)
    row = datasets.import_dataset(actor=regulator, name="浏览器测试数据", source_format="csv",
                                  data=demo.history_csv(tenders=60).encode())  # fmt: skip
    return live_server.url, regulator, row


def _signed_in(browser: Any, base: str, username: str, *, js: bool = True) -> Any:
    context = browser.new_context(locale="zh-CN", java_script_enabled=js,
                                  viewport={"width": 1280, "height": 900})  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    return page


def test_the_dashboard_draws_its_charts(world, browser) -> None:  # type: ignore[no-untyped-def]
    base, regulator, row = world
    page = _signed_in(browser, base, regulator.username)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/supervision/datasets/{row.public_id}/dashboard/")
    expect(page.locator("#hist-cv canvas")).to_have_count(1)
    expect(page.locator("#co-bidding-graph canvas")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "supervision-dashboard.png"))
    assert errors == []
    page.context.close()

    plain = _signed_in(browser, base, regulator.username, js=False)
    plain.goto(f"{base}/supervision/datasets/{row.public_id}/dashboard/")
    expect(plain.locator("#hist-cv table")).to_contain_text("CV")
    expect(plain.locator("#co-bidding-graph table")).to_contain_text("9132010099999000A1")
    plain.context.close()
