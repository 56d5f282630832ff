"""QR signing (扫码签名) in a real browser: the page updates itself when the phone has signed.

Headless Chromium through Playwright against the live server, as in ``test_portal.py``; skipped
where ``/usr/bin/chromium`` is missing. The "phone" is this test: it fetches the URL the page
shows, signs the statement with a bound certificate's key and posts the signature over HTTP.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import BROWSER_MARKS, SCREENSHOTS

pytestmark = BROWSER_MARKS
playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture
def world(live_server, frozen_clock, users, region):  # type: ignore[no-untyped-def]
    """A bidder with an entity and a bound SM2 entity certificate; the clock is frozen for the
    server thread too (the test certificates are valid in 2026–2027)."""
    from tests.trust import pki
    from tests.web.conftest import make_entity

    pki.onboard("sm2")
    entity = make_entity(users["bidder"], 1, "南京金陵建设工程有限公司")
    issued = pki.entity_cert("sm2", entity.uscc)
    pki.bind(users["bidder"], issued, entity)
    return live_server.url, issued


def _http(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def _phone_signs(url: str, issued: Any) -> dict[str, Any]:
    """What the signer's phone does with the QR code's URL."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from ggzy_client import signatures
    from tests.trust import pki

    fetched = _http("GET", url)
    signature = signatures.sign_statement(pki.keystore(issued), fetched["statement"])
    return _http(
        "POST",
        f"{url}/signature",
        {
            "certificate": issued.certificate.public_bytes(Encoding.PEM).decode(),
            "signature": pki.b64(signature),
        },
    )


def test_the_qr_page_turns_signed_by_itself(world, page, users, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PASSWORD

    base, issued = world
    page.goto(f"{base}/login/?next=/trust/sign-requests/new/")
    page.fill("#id_username", users["bidder"].username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_have_text("发起扫码签名")

    document = tmp_path / "投标承诺书.pdf"
    document.write_bytes(b"%PDF-1.7 commitment letter")
    page.fill("#id_document_name", "投标承诺书.pdf")
    page.select_option("#id_digest_alg", "sm3")
    page.set_input_files("#id_document", str(document))
    page.click("main button[type=submit]")

    expect(page.locator("h1")).to_have_text("扫码签名")
    expect(page.locator("figure.qr svg")).to_be_visible()
    status = page.locator("#sign-status")
    expect(status).to_contain_text("待签名")
    url = page.locator("#sign-request-url").inner_text().strip()
    assert url.startswith(f"{base}/api/v1/trust/sign-requests/")
    page.screenshot(path=str(SCREENSHOTS / "ggzy-qr-signing.png"), full_page=True)
    page.evaluate("window.__sameDocument = true")

    answered = _phone_signs(url, issued)
    assert answered["status"] == "signed"

    expect(status).to_contain_text("已签名", timeout=10_000)
    expect(status).to_contain_text(users["bidder"].display_name)
    assert page.evaluate("window.__sameDocument") is True  # swapped in place, no reload
    assert status.get_attribute("hx-trigger") is None  # polling stopped
    page.screenshot(path=str(SCREENSHOTS / "ggzy-qr-signed.png"), full_page=True)

    page.click("#sign-status >> text=查看签名")
    expect(page.locator("h1")).to_have_text("投标承诺书.pdf")
    expect(page.locator("#validity")).to_contain_text("签名时有效")
    expect(page.locator("#validity")).to_contain_text("当前有效")
