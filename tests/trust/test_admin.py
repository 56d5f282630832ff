"""The trust store's back office: center admins onboard CAs, move their status and import CRLs
through the services; other center staff only look; refusals are messages, never 500s."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ggzy.ledger.models import Event
from ggzy.trust import services
from ggzy.trust.issuing import IssuingCA
from ggzy.trust.models import CACertificate, CertificateAuthority, RevocationList
from ggzy_client import keys
from tests.conftest import uscc
from tests.trust import pki
from tests.trust.test_cli import crl_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

CA_URL = "/admin/trust/certificateauthority/"


def _staff_client(user) -> Client:  # type: ignore[no-untyped-def]
    type(user).objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(users) -> Client:  # type: ignore[no-untyped-def]
    return _staff_client(users["center_admin"])


@pytest.fixture
def intake_client(users) -> Client:  # type: ignore[no-untyped-def]
    return _staff_client(users["center_intake"])


def _files(*blobs: tuple[str, bytes]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, data) for name, data in blobs]


def _onboard_form(**overrides: object) -> dict[str, object]:
    ca = pki.test_ca("sm2")
    form: dict[str, object] = {
        "code": "gdca",
        "name": "广东数字证书认证中心",
        "subject_id_attribute": "serialNumber",
        "crl_url": "",
        "certificates": _files(
            ("root.pem", pki.pem(ca.root.certificate)),
            ("sub.der", keys.certificate_der(ca.sub.certificate)),
        ),
    }
    form.update(overrides)
    return form


def _action(client: Client, action: str, *authorities: CertificateAuthority):  # type: ignore[no-untyped-def]
    return client.post(
        CA_URL,
        {"action": action, "_selected_action": [a.pk for a in authorities]},
        follow=True,
    )


def _crl(serial: int) -> bytes:
    sub = pki.test_ca("sm2").sub
    issuer = IssuingCA(sub.family, sub.key, sub.certificate)  # private copy: shared PKI untouched
    issuer.revoke(serial, datetime(2026, 11, 1, tzinfo=UTC))
    return issuer.crl(
        this_update=datetime(2026, 11, 20, tzinfo=UTC),
        next_update=datetime(2026, 12, 20, tzinfo=UTC),
    )


# --- onboarding -------------------------------------------------------------------------------


def test_onboard_through_the_upload_form(frozen_clock, admin_client, users) -> None:  # type: ignore[no-untyped-def]
    assert admin_client.get(f"{CA_URL}add/").status_code == 200
    response = admin_client.post(f"{CA_URL}add/", _onboard_form())
    ca = CertificateAuthority.objects.get(code="gdca")
    assert response.status_code == 302
    assert response["Location"] == f"{CA_URL}{ca.pk}/change/"
    assert (ca.name, ca.status, ca.subject_id_attribute) == (
        "广东数字证书认证中心",
        "active",
        "serialNumber",
    )
    assert ca.certificates.count() == 2
    event = Event.objects.get(event_type="trust.ca_onboarded")
    assert (event.subject, event.actor) == ("ca:gdca", f"user:{users['center_admin'].pk}")
    page = admin_client.get(f"{CA_URL}{ca.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "CN=sm2 sub,O=测试CA sm2,C=CN" in content  # certificates inline
    assert "system:" not in content and f"user:{users['center_admin'].pk}" in content  # history


@pytest.mark.parametrize(
    ("certificates", "message"),
    [
        (_files(("junk.pem", b"hello")), "not an X.509 certificate"),
        (
            _files(("leaf.pem", pki.entity_cert("sm2", uscc(3)).pem)),
            "not a CA certificate",
        ),
        (
            _files(("sub.pem", pki.pem(pki.test_ca("sm2").sub.certificate))),
            "intermediate does not chain",
        ),
    ],
)
def test_bad_uploads_show_a_form_error_and_store_nothing(  # type: ignore[no-untyped-def]
    frozen_clock, admin_client, certificates, message
) -> None:
    response = admin_client.post(f"{CA_URL}add/", _onboard_form(certificates=certificates))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert CertificateAuthority.objects.count() == 0
    assert CACertificate.objects.count() == 0
    assert Event.objects.filter(event_type__startswith="trust.").count() == 0


def test_form_fields_are_checked(frozen_clock, admin_client) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.post(f"{CA_URL}add/", _onboard_form(code="not a slug", certificates=[]))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"code", "certificates"}
    assert CertificateAuthority.objects.count() == 0


def test_duplicate_code_is_a_form_error(frozen_clock, admin_client, cas) -> None:  # type: ignore[no-untyped-def]
    before = Event.objects.count()
    response = admin_client.post(f"{CA_URL}add/", _onboard_form(code="test-sm2"))
    assert response.status_code == 200
    assert "[ca_code_taken]" in response.content.decode()
    assert Event.objects.count() == before


# --- status actions ---------------------------------------------------------------------------


def test_actions_move_the_status_through_the_service(frozen_clock, admin_client, cas) -> None:  # type: ignore[no-untyped-def]
    sm2, rsa = cas["sm2"], cas["rsa"]
    before = Event.objects.count()
    page = _action(admin_client, "make_suspended", sm2, rsa)
    assert page.status_code == 200
    assert set(CertificateAuthority.objects.values_list("code", "status")) == {
        ("test-sm2", "suspended"),
        ("test-rsa", "suspended"),
        ("test-ecdsa", "active"),
    }
    assert Event.objects.filter(event_type="trust.ca_status_changed").count() == 2
    _action(admin_client, "make_active", sm2)
    _action(admin_client, "make_retired", rsa)
    statuses = dict(CertificateAuthority.objects.values_list("code", "status"))
    assert (statuses["test-sm2"], statuses["test-rsa"]) == ("active", "retired")
    assert Event.objects.count() == before + 4


def test_refused_transition_is_a_message(frozen_clock, admin_client, cas) -> None:  # type: ignore[no-untyped-def]
    services.set_ca_status(actor="system:test", authority=cas["rsa"], status="retired")
    before = Event.objects.count()
    page = _action(admin_client, "make_active", cas["rsa"])
    assert page.status_code == 200
    assert "[bad_ca_transition]" in page.content.decode()
    assert CertificateAuthority.objects.get(code="test-rsa").status == "retired"
    assert Event.objects.count() == before


def test_change_page_does_not_save_directly(frozen_clock, admin_client, cas) -> None:  # type: ignore[no-untyped-def]
    url = f"{CA_URL}{cas['sm2'].pk}/change/"
    assert admin_client.post(url, {"name": "x", "status": "retired"}).status_code == 403
    assert CertificateAuthority.objects.get(code="test-sm2").status == "active"


# --- CRLs -------------------------------------------------------------------------------------


def test_import_crl_upload(frozen_clock, admin_client, cas) -> None:  # type: ignore[no-untyped-def]
    url = f"{CA_URL}{cas['sm2'].pk}/crl/"
    assert admin_client.get(url).status_code == 200
    assert url in admin_client.get(f"{CA_URL}{cas['sm2'].pk}/change/").content.decode()
    response = admin_client.post(url, {"crl": SimpleUploadedFile("sub.crl", _crl(99))})
    assert response.status_code == 302
    row = RevocationList.objects.get()
    assert (row.entries, row.source, row.issuer.authority.code) == (1, "admin:sub.crl", "test-sm2")
    assert Event.objects.filter(event_type="trust.crl_imported").count() == 1


def test_import_crl_refusals_are_form_errors(frozen_clock, admin_client, cas) -> None:  # type: ignore[no-untyped-def]
    junk = admin_client.post(
        f"{CA_URL}{cas['sm2'].pk}/crl/", {"crl": SimpleUploadedFile("x.crl", b"x")}
    )
    wrong_ca = admin_client.post(
        f"{CA_URL}{cas['rsa'].pk}/crl/", {"crl": SimpleUploadedFile("x.crl", _crl(1))}
    )
    assert junk.status_code == wrong_ca.status_code == 200
    assert "[bad_crl]" in junk.content.decode()
    assert "[crl_unknown_issuer]" in wrong_ca.content.decode()
    assert RevocationList.objects.count() == 0


def test_fetch_crl_now(frozen_clock, admin_client, crl_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base, files = crl_server
    files["/sm2.crl"] = _crl(42)
    admin_client.post(f"{CA_URL}add/", _onboard_form(crl_url=f"{base}/sm2.crl"))
    ca = CertificateAuthority.objects.get(code="gdca")
    page = admin_client.post(f"{CA_URL}{ca.pk}/crl/", {"_fetch": "1"}, follow=True)
    assert page.status_code == 200
    assert RevocationList.objects.get().source == f"{base}/sm2.crl"
    files.clear()  # now 404: the action reports the refusal, nothing stored
    page = _action(admin_client, "fetch_crl_now", ca)
    assert "[crl_unreachable]" in page.content.decode()
    assert RevocationList.objects.count() == 1


def test_fetch_without_url_is_a_message(frozen_clock, admin_client, cas) -> None:  # type: ignore[no-untyped-def]
    page = _action(admin_client, "fetch_crl_now", cas["ecdsa"])
    assert page.status_code == 200 and "[no_crl_url]" in page.content.decode()


# --- who may do what --------------------------------------------------------------------------


def test_intake_staff_view_but_cannot_change(frozen_clock, intake_client, cas) -> None:  # type: ignore[no-untyped-def]
    sm2 = cas["sm2"]
    assert intake_client.get(CA_URL).status_code == 200
    assert intake_client.get(f"{CA_URL}{sm2.pk}/change/").status_code == 200
    assert intake_client.get(f"{CA_URL}add/").status_code == 403
    assert intake_client.post(f"{CA_URL}add/", _onboard_form()).status_code == 403
    assert intake_client.get(f"{CA_URL}{sm2.pk}/crl/").status_code == 403
    before = Event.objects.count()
    _action(intake_client, "make_suspended", sm2)
    assert CertificateAuthority.objects.get(code="test-sm2").status == "active"
    assert Event.objects.count() == before
    assert "make_suspended" not in intake_client.get(CA_URL).content.decode()
    assert CertificateAuthority.objects.count() == 3


@pytest.mark.parametrize(
    "model", ["certificatebinding", "documentsignature", "sealedenvelope", "revocationlist"]
)
def test_read_only_admins(frozen_clock, admin_client, intake_client, model) -> None:  # type: ignore[no-untyped-def]
    for client in (admin_client, intake_client):
        assert client.get(f"/admin/trust/{model}/").status_code == 200
        assert client.get(f"/admin/trust/{model}/add/").status_code == 403


def test_bound_certificate_and_crl_rows_are_viewable(  # type: ignore[no-untyped-def]
    frozen_clock, admin_client, bound
) -> None:
    page = admin_client.get(f"/admin/trust/certificatebinding/{bound.pk}/change/")
    assert page.status_code == 200 and bound.subject_identifier in page.content.decode()


def test_others_have_no_trust_back_office(users) -> None:  # type: ignore[no-untyped-def]
    client = _staff_client(users["bidder"])
    assert client.get(CA_URL).status_code == 403
