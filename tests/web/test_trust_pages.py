"""Trust pages through the Django test client: the public CA list, a signed document, QR signing
(扫码签名) with its polled status region, and the signed-in person's certificates."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ggzy.ledger.models import Event
from ggzy.trust import services, signing
from ggzy.trust.models import SigningRequest
from ggzy_client import signatures
from ggzy_client.keys import digest
from tests.trust import pki
from tests.trust.pki import NOT_AFTER
from tests.web.support import signed_in, text

pytestmark = pytest.mark.django_db

FAMILIES = ("sm2", "ecdsa", "rsa")


@pytest.fixture(autouse=True)
def _frozen(frozen_clock):  # type: ignore[no-untyped-def]
    """The test certificates are valid in 2026–2027; the suite's clock stands inside that."""
    return frozen_clock


@pytest.fixture
def cas(db):  # type: ignore[no-untyped-def]
    return {family: pki.onboard(family) for family in FAMILIES}


@pytest.fixture
def bound(cas, users, entity):  # type: ignore[no-untyped-def]
    """The bidder (admin of ``entity``) holds a bound SM2 entity certificate."""
    issued = pki.entity_cert("sm2", entity.uscc)
    return issued, pki.bind(users["bidder"], issued, entity)


@pytest.fixture
def signature(bound, users):  # type: ignore[no-untyped-def]
    issued, _binding = bound
    document = b"tender bid letter"
    return signing.record_signature(
        actor=users["bidder"],
        document_name="投标函.pdf",
        document=document,
        sigfile=signatures.sign_detached(document, pki.keystore(issued), name="投标函.pdf"),
    )


@pytest.fixture
def sign_request(users):  # type: ignore[no-untyped-def]
    return signing.create_signing_request(
        actor=users["bidder"],
        document_name="承诺书.pdf",
        digest_alg="sm3",
        document_digest=digest("sm3", b"commitment").hex(),
    )


def main(response) -> str:  # type: ignore[no-untyped-def]
    page = text(response)
    return page[page.index("<main") : page.index("</main>")]


def answer(request: SigningRequest, issued) -> None:  # type: ignore[no-untyped-def]
    """What the signer's phone does: sign the request's statement with the certificate's key."""
    statement = signing.request_statement(request)
    signing.complete_signing_request(
        request=request,
        certificate=issued.certificate,
        signature=signatures.sign_statement(pki.keystore(issued), statement),
    )


# --- /trust/cas/ ---------------------------------------------------------------------------


def test_the_ca_list_is_public_with_certificates_and_status(cas) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/trust/cas/")

    assert response.status_code == 200
    page = text(response)
    for family, authority in cas.items():
        ca = pki.test_ca(family)
        assert authority.name in page
        assert f"ca-{authority.code}" in page
        for cert in authority.certificates.all():
            assert cert.fingerprint in page
            assert cert.subject in page
        assert ca.code in page
    assert page.count("正常") >= 3
    assert "SM2/SM3" in page and "ECDSA P-256/SHA-256" in page and "RSA/SHA-256" in page
    assert "根证书" in page and "中间证书" in page
    assert "2026-01-01 — 2028-01-01" in page
    assert page.count("尚未导入") == 3
    assert 'href="/trust/cas/" aria-current="page"' in page  # the nav link


def test_the_ca_list_shows_a_suspension_and_the_last_crl(cas, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    services.set_ca_status(actor="system:test", authority=cas["ecdsa"], status="suspended")
    ca = pki.test_ca("rsa")
    services.import_crl(
        actor="system:test",
        data=ca.sub.crl(this_update=frozen_clock.moment, next_update=NOT_AFTER),
    )

    page = text(Client().get("/trust/cas/"))

    ecdsa = page[page.index('id="ca-test-ecdsa"') :]
    assert "暂停" in ecdsa[: ecdsa.index("</section>")]
    rsa = page[page.index('id="ca-test-rsa"') :]
    rsa = rsa[: rsa.index("</section>")]
    assert "2026-11-23 10:00" in rsa  # T0 in China Standard Time
    assert "尚未导入" not in rsa
    assert page.count("尚未导入") == 2


def test_the_ca_list_costs_the_same_queries_for_one_ca_or_three(db) -> None:  # type: ignore[no-untyped-def]
    pki.onboard("sm2")
    with CaptureQueriesContext(connection) as one:
        Client().get("/trust/cas/")
    pki.onboard("ecdsa")
    pki.onboard("rsa")
    with CaptureQueriesContext(connection) as three:
        Client().get("/trust/cas/")

    assert len(three) == len(one)
    assert len(one) <= 6


# --- /trust/signatures/<id>/ ---------------------------------------------------------------


def test_the_signer_sees_the_signed_document(users, entity, bound, signature) -> None:  # type: ignore[no-untyped-def]
    _issued, binding = bound
    event = Event.objects.get(subject=f"signature:{signature.pk}")

    response = signed_in(users["bidder"]).get(f"/trust/signatures/{signature.pk}/")

    assert response.status_code == 200
    page = text(response)
    assert "投标函.pdf" in page
    assert signature.document_digest in page
    assert "SM3" in page
    assert "分离式签名" in page
    assert users["bidder"].display_name in page
    assert f'href="/entities/{entity.uscc}/"' in page
    assert entity.name in page
    assert binding.subject in page
    assert "测试CA sm2" in page
    assert binding.serial in page
    assert "2026-01-01" in page and "2028-01-01" in page
    assert "2026-11-23 10:00:00" in page  # recorded by the platform (CST)
    assert f'href="/ledger/events/{event.seq}/"' in page
    assert "签名时有效" in page and "当前有效" in page
    assert "当前无效" not in page


def test_a_supervisor_sees_the_signature(users, signature) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(users["regulator"]).get(f"/trust/signatures/{signature.pk}/")

    assert response.status_code == 200
    assert "投标函.pdf" in text(response)


def test_a_stranger_gets_the_same_404_as_for_a_missing_signature(users, signature) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(users["tenderer"])

    forbidden = client.get(f"/trust/signatures/{signature.pk}/")
    missing = client.get(f"/trust/signatures/{signature.pk + 1000}/")

    assert forbidden.status_code == missing.status_code == 404
    assert main(forbidden) == main(missing)
    assert "投标函.pdf" not in text(forbidden)
    assert signature.document_digest not in text(forbidden)


def test_a_visitor_is_asked_to_sign_in_for_a_signature(signature) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(f"/trust/signatures/{signature.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/trust/signatures/{signature.pk}/"


def test_a_revoked_certificate_is_valid_at_signing_but_not_now(
    users, entity, cas, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    ca = pki.test_ca("ecdsa")
    issued = ca.issue({"common_name": "吊销测试", "serial_number": entity.uscc})
    pki.bind(users["bidder"], issued, entity)
    sig = signing.record_signature(
        actor=users["bidder"],
        document_name="报价单.pdf",
        document=b"price",
        sigfile=signatures.sign_detached(b"price", pki.keystore(issued)),
    )
    revoked_at = frozen_clock.advance(days=1)
    ca.sub.revoked[:] = [(issued.certificate.serial_number, revoked_at)]
    try:
        crl = ca.sub.crl(this_update=revoked_at, next_update=NOT_AFTER)
    finally:
        ca.sub.revoked.clear()  # the test CA is shared by the whole run
    services.import_crl(actor="system:test", data=crl)
    frozen_clock.advance(days=1)

    page = text(signed_in(users["bidder"]).get(f"/trust/signatures/{sig.pk}/"))

    assert "签名时有效" in page
    assert "当前无效" in page
    assert "证书已被吊销" in page


# --- QR signing requests -------------------------------------------------------------------


def test_the_new_request_form_renders_and_needs_sign_in(users) -> None:  # type: ignore[no-untyped-def]
    page = text(signed_in(users["bidder"]).get("/trust/sign-requests/new/"))
    assert 'enctype="multipart/form-data"' in page
    assert 'name="document"' in page and 'name="document_digest"' in page

    response = Client().get("/trust/sign-requests/new/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/trust/sign-requests/new/"


@pytest.mark.parametrize("alg", ["sm3", "sha256"])
def test_an_uploaded_file_is_hashed_on_the_server(users, alg: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = "招标文件正文".encode() * 1000
    response = signed_in(users["bidder"]).post(
        "/trust/sign-requests/new/",
        {
            "document_name": "招标文件.pdf",
            "digest_alg": alg,
            "document": SimpleUploadedFile("招标文件.pdf", content),
            "document_digest": "",
        },
    )

    req = SigningRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/trust/sign-requests/{req.public_id}/"
    assert req.digest_alg == alg
    assert req.document_digest == digest(alg, content).hex()
    assert req.document_name == "招标文件.pdf"
    assert req.requested_by == users["bidder"]


def test_a_pasted_digest_creates_a_request(users) -> None:  # type: ignore[no-untyped-def]
    value = digest("sha256", b"x").hex().upper()

    response = signed_in(users["bidder"]).post(
        "/trust/sign-requests/new/",
        {"document_name": "合同.pdf", "digest_alg": "sha256", "document_digest": value},
    )

    req = SigningRequest.objects.get()
    assert response["Location"] == f"/trust/sign-requests/{req.public_id}/"
    assert req.document_digest == value.lower()


@pytest.mark.parametrize(
    ("digest_value", "message"),
    [("", "请上传文件或填写文件摘要"), ("abc123", "文件摘要格式错误")],
)
def test_a_request_without_a_good_digest_is_refused_on_the_form(
    users, digest_value: str, message: str
) -> None:
    events = Event.objects.count()

    response = signed_in(users["bidder"]).post(
        "/trust/sign-requests/new/",
        {"document_name": "合同.pdf", "digest_alg": "sm3", "document_digest": digest_value},
    )

    assert response.status_code == 200
    page = text(response)
    assert 'id="id_document_digest_error"' in page
    assert message in page
    assert 'value="合同.pdf"' in page  # nothing retyped
    assert not SigningRequest.objects.exists()
    assert Event.objects.count() == events


def test_the_qr_page_shows_the_code_and_the_api_url(sign_request) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    api_url = f"http://testserver/api/v1/trust/sign-requests/{sign_request.public_id}"

    response = client.get(f"/trust/sign-requests/{sign_request.public_id}/")

    assert response.status_code == 200
    page = text(response)
    assert "<svg" in page and 'class="qr-code"' in page
    assert api_url in page
    assert "承诺书.pdf" in page
    assert sign_request.document_digest in page
    assert "待签名" in page
    assert "有效至 10:10:00（剩余 10 分 00 秒）" in page
    status_url = f"/trust/sign-requests/{sign_request.public_id}/status/"
    assert f'hx-get="{status_url}" hx-trigger="every 2s" hx-swap="outerHTML"' in page
    assert '<noscript><meta http-equiv="refresh"' in page
    # The URL in the code is the one the phone fetches.
    fetched = client.get(api_url)
    assert fetched.status_code == 200
    assert fetched.json()["url"] == api_url


def test_an_unknown_request_is_404(db) -> None:  # type: ignore[no-untyped-def]
    for path in ("/trust/sign-requests/0123456789abcdef/", "/trust/sign-requests/nope/status/"):
        response = Client().get(path)
        assert response.status_code == 404
        assert "签名请求不存在" in text(response)


def test_the_status_switches_to_signed_and_stops_polling(users, bound, sign_request) -> None:  # type: ignore[no-untyped-def]
    issued, _binding = bound
    status_url = f"/trust/sign-requests/{sign_request.public_id}/status/"
    client = Client()

    before = text(client.get(status_url, headers={"HX-Request": "true"}))
    assert "待签名" in before and "hx-trigger" in before
    assert "<html" not in before  # a fragment, swapped in place

    answer(sign_request, issued)

    after = text(client.get(status_url, headers={"HX-Request": "true"}))
    sig_id = SigningRequest.objects.get(pk=sign_request.pk).signature_id
    assert after.lstrip().startswith('<div id="sign-status"')
    assert "已签名" in after and "待签名" not in after
    assert users["bidder"].display_name in after
    assert f'href="/trust/signatures/{sig_id}/"' in after
    assert "hx-get" not in after and "hx-trigger" not in after
    assert "http-equiv" not in after
    # The signature is the signer's: it opens for them.
    assert signed_in(users["bidder"]).get(f"/trust/signatures/{sig_id}/").status_code == 200


def test_the_status_shows_expired_after_the_deadline(sign_request, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    status_url = f"/trust/sign-requests/{sign_request.public_id}/status/"
    frozen_clock.advance(seconds=9 * 60 + 30)
    assert "剩余 0 分 30 秒" in text(Client().get(status_url))

    frozen_clock.advance(timedelta(seconds=31))

    page = text(Client().get(status_url))
    assert "已过期" in page and "待签名" not in page
    assert "hx-trigger" not in page
    assert "已过期" in text(Client().get(f"/trust/sign-requests/{sign_request.public_id}/"))


# --- /me/certificates/ ---------------------------------------------------------------------


def test_my_certificates_lists_the_holders_bindings(users, entity, bound) -> None:  # type: ignore[no-untyped-def]
    _issued, binding = bound

    page = text(signed_in(users["bidder"]).get("/me/certificates/"))

    assert binding.subject in page
    assert "测试CA sm2" in page
    assert "单位证书" in page
    assert entity.name in page
    assert "2026-01-01 — 2028-01-01" in page
    assert "2026-11-23 10:00" in page
    assert "已绑定" in page


def test_my_certificates_shows_nobody_elses(users, bound) -> None:  # type: ignore[no-untyped-def]
    _issued, binding = bound

    page = text(signed_in(users["tenderer"]).get("/me/certificates/"))

    assert binding.subject not in page
    assert "您还没有绑定证书" in page


def test_my_certificates_needs_sign_in_and_is_linked_from_me(users) -> None:  # type: ignore[no-untyped-def]
    response = Client().get("/me/certificates/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/me/certificates/"

    me = text(signed_in(users["bidder"]).get("/me/"))
    assert 'href="/me/certificates/"' in me
    assert 'href="/trust/sign-requests/new/"' in me


def test_pages_use_no_unescaped_document_names(users) -> None:  # type: ignore[no-untyped-def]
    req = signing.create_signing_request(
        actor=users["bidder"],
        document_name="<script>alert(1)</script>",
        digest_alg="sm3",
        document_digest="0" * 64,
    )

    page = text(Client().get(f"/trust/sign-requests/{req.public_id}/"))

    assert "<script>alert(1)</script>" not in page
    assert re.search(r"&lt;script&gt;alert\(1\)&lt;/script&gt;", page)
