"""The scoring sheet's heartbeat in headless Chromium: opening a bid document starts a viewing
span through the API, leaving it ends the span — the time supervision reads later."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import BROWSER_MARKS, CHROMIUM

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium, as in tests/browser (whose fixtures this directory does not see)."""
    with pytest.MonkeyPatch.context() as env, playwright_api.sync_playwright() as p:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def scoring(live_server, frozen_clock, region):  # type: ignore[no-untyped-def]
    from ggzy.evaluation import services_review
    from tests.evaluation import world as w

    world = w.make_world(frozen_clock)
    w.open_section(world, ["9000000.00", "9500000.00", "9300000.00"])
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    w.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    return live_server.url, world, session


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


def test_the_sheet_records_the_time_on_each_document(browser, scoring):  # type: ignore[no-untyped-def]
    from ggzy.evaluation.models import ViewingSpan

    base, world, session = scoring
    page = _signed_in(browser, base, world.members[0].user)
    with page.expect_response(lambda r: r.url.endswith("/viewing") and r.status == 200):
        page.goto(f"{base}/evaluation/{session.public_id}/sheet/?bid=A")
    expect(page.locator("#document h2")).to_have_text("投标文件 A")
    for b in world.bidding.bidders:
        expect(page.locator("body")).not_to_contain_text(b.entity.name)
    with page.expect_response(lambda r: r.url.endswith("/viewing") and r.status == 200):
        page.click("nav.tabs a:has-text('投标文件 B')")
    page.wait_for_timeout(300)
    spans = list(ViewingSpan.objects.select_related("bid").order_by("pk"))
    assert [s.bid.label for s in spans][:2] == ["A", "B"]
    assert spans[0].ended_at is not None
