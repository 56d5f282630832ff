"""The trust API end to end: CA registry, verification, binding, certificate login, signatures,
QR signing requests — each refusal with its own code, and a refused request changes nothing."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest

from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.ledger.models import Event
from ggzy.trust import signing
from ggzy.trust.models import CertificateAuthority, CertificateBinding, DocumentSignature
from ggzy.trust.validation import fingerprint
from ggzy_client import signatures
from tests.api.support import api_client, assert_error, db_state
from tests.conftest import make_user, uscc
from tests.trust import pki


@pytest.fixture
def http():  # type: ignore[no-untyped-def]
    return api_client()


def token(user) -> str:  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


def pem_text(issued) -> str:  # type: ignore[no-untyped-def]
    return pki.pem(issued.certificate).decode()


def events(kind: str) -> int:
    return Event.objects.filter(event_type=kind).count()


# --- CA registry --------------------------------------------------------------------------------


def test_center_admin_onboards_a_ca_and_anyone_lists_it(http, frozen_clock, db):
    admin = make_user("ca_admin", Role.CENTER_ADMIN)
    ca = pki.test_ca("sm2")
    body = {"code": "sm2-ca", "name": "国密CA", "certificates": [p.decode() for p in ca.pems()]}
    r = http.call("POST", "/api/v1/trust/cas", body, token=token(admin))
    assert r.status_code == 201, r.content
    assert [c["is_root"] for c in r.json()["certificates"]] == [True, False]
    listed = http.call("GET", "/api/v1/trust/cas").json()
    assert [(a["code"], a["status"]) for a in listed] == [("sm2-ca", "active")]
    assert events("trust.ca_onboarded") == 1


def test_others_may_not_onboard(http, frozen_clock, db):
    secret = token(make_user("b", Role.BIDDER))
    before = db_state()
    body = {"code": "x-ca", "name": "某CA", "certificates": [pki.test_ca("rsa").pems()[0].decode()]}
    assert_error(http.call("POST", "/api/v1/trust/cas", body, token=secret), 403, "forbidden")
    assert db_state() == before
    assert not CertificateAuthority.objects.exists()


@pytest.mark.parametrize(
    ("certs", "code"),
    [
        (["not a certificate"], "bad_base64"),
        ([base64.b64encode(b"0000").decode()], "bad_certificate"),
        ("leaf", "not_a_ca_certificate"),
        ("orphan", "chain_incomplete"),
    ],
)
def test_bad_ca_uploads_are_refused(http, frozen_clock, db, certs, code):
    secret = token(make_user("ca_admin", Role.CENTER_ADMIN))
    ca = pki.test_ca("ecdsa")
    if certs == "leaf":
        certs = [pki.pem(ca.issue({"serial_number": uscc(1)}).certificate).decode()]
    elif certs == "orphan":
        certs = [ca.pems()[1].decode()]  # intermediate without its root
    before = db_state()
    body = {"code": "bad-ca", "name": "某CA", "certificates": certs}
    r = http.call("POST", "/api/v1/trust/cas", body, token=secret)
    assert_error(r, 422, code)
    assert db_state() == before


def test_suspend_reinstate_retire(http, frozen_clock, cas, db):
    admin = make_user("ca_admin", Role.CENTER_ADMIN)
    secret = token(admin)
    url = "/api/v1/trust/cas/test-rsa/status"
    assert (
        http.call("POST", url, {"status": "suspended", "reason": "检查"}, token=secret).json()[
            "status"
        ]
        == "suspended"
    )
    assert http.call("POST", url, {"status": "active"}, token=secret).json()["status"] == "active"
    assert http.call("POST", url, {"status": "retired"}, token=secret).json()["status"] == "retired"
    assert_error(
        http.call("POST", url, {"status": "active"}, token=secret), 409, "bad_ca_transition"
    )
    assert events("trust.ca_status_changed") == 3


def test_crl_import_by_api(http, frozen_clock, cas, db):
    admin = make_user("ca_admin", Role.CENTER_ADMIN)
    ca = pki.test_ca("ecdsa")
    issued = ca.issue({"serial_number": uscc(3)})
    ca.sub.revoked[:] = [
        (issued.certificate.serial_number, frozen_clock.moment - timedelta(hours=1))
    ]
    crl = ca.sub.crl(
        this_update=frozen_clock.moment - timedelta(hours=1), next_update=pki.NOT_AFTER
    )
    ca.sub.revoked.clear()
    r = http.call(
        "POST",
        "/api/v1/trust/cas/test-ecdsa/crls",
        {"crl": base64.b64encode(crl).decode()},
        token=token(admin),
    )
    assert r.status_code == 201 and r.json()["entries"] == 1
    v = http.call(
        "POST", "/api/v1/trust/certificates/verify", {"certificate": pem_text(issued)}
    ).json()
    assert (v["valid"], v["code"]) == (False, "revoked")
    # a CRL signed by another CA is refused
    other = pki.test_ca("rsa").sub.crl(this_update=frozen_clock.moment, next_update=pki.NOT_AFTER)
    r = http.call(
        "POST",
        "/api/v1/trust/cas/test-ecdsa/crls",
        {"crl": base64.b64encode(other).decode()},
        token=token(admin),
    )
    assert_error(r, 422, "crl_unknown_issuer")


def test_verify_is_public_and_names_the_reason(http, frozen_clock, cas):
    good = pki.entity_cert("sm2", uscc(2))
    r = http.call(
        "POST",
        "/api/v1/trust/certificates/verify",
        {"certificate": pem_text(good), "purpose": "sign"},
    )
    assert r.json()["valid"] is True
    assert r.json()["certificate"]["subject_identifier"] == uscc(2)
    enc_only = pki.test_ca("sm2").issue({"serial_number": uscc(2)}, usage=("key_encipherment",))
    r = http.call(
        "POST",
        "/api/v1/trust/certificates/verify",
        {"certificate": pem_text(enc_only), "purpose": "sign"},
    )
    assert (r.json()["valid"], r.json()["code"]) == (False, "wrong_key_usage")
    assert_error(
        http.call("POST", "/api/v1/trust/certificates/verify", {"certificate": "AAAA"}),
        422,
        "bad_certificate",
    )


# --- binding and certificate login --------------------------------------------------------------


def bind_body(issued, account="acme_admin", **extra):  # type: ignore[no-untyped-def]
    nonce, sig = pki.sign_challenge(issued, "bind", account)
    return {"certificate": pem_text(issued), "nonce": nonce, "signature": pki.b64(sig), **extra}


def test_bind_an_entity_certificate_by_api(
    http, frozen_clock, cas, bidder, entity, entity_cert, family
):
    r = http.call(
        "POST",
        "/api/v1/trust/bindings",
        bind_body(entity_cert, entity=entity.uscc),
        token=token(bidder),
    )
    assert r.status_code == 201, r.content
    assert (r.json()["kind"], r.json()["entity"], r.json()["family"]) == (
        "entity",
        entity.uscc,
        family,
    )
    mine = http.call("GET", "/api/v1/trust/bindings", token=token(bidder)).json()
    assert [b["fingerprint"] for b in mine] == [fingerprint(entity_cert.certificate)]


def test_binding_refusals(http, frozen_clock, cas, bidder, entity, db):
    secret = token(bidder)
    other_entity_cert = pki.entity_cert("rsa", uscc(55))
    cases = [
        (bind_body(other_entity_cert), 422, "subject_mismatch"),  # the USCC is not registered
        (
            bind_body(pki.person_cert("rsa", "11010519491231002X")),
            422,
            "subject_mismatch",
        ),  # not the bidder's ID
    ]
    good = pki.entity_cert("rsa", entity.uscc)
    stolen = bind_body(good)
    stolen["signature"] = pki.b64(pki.keystore(other_entity_cert).key.sign(b"x"))
    cases.append((stolen, 422, "signature_invalid"))
    replay = bind_body(good)
    cases.append(({**replay, "nonce": "0" * 48}, 422, "challenge_unknown"))
    for body, status, code in cases:
        before = db_state()
        assert_error(http.call("POST", "/api/v1/trust/bindings", body, token=secret), status, code)
        assert db_state() == before
    # someone outside the entity cannot bind its certificate
    outsider = make_user("outsider", Role.BIDDER)
    assert_error(
        http.call("POST", "/api/v1/trust/bindings", bind_body(good), token=token(outsider)),
        403,
        "forbidden",
    )
    # the same certificate twice
    assert http.call("POST", "/api/v1/trust/bindings", replay, token=secret).status_code == 201
    assert_error(
        http.call("POST", "/api/v1/trust/bindings", bind_body(good), token=secret),
        409,
        "certificate_already_bound",
    )
    assert_error(
        http.call("POST", "/api/v1/trust/bindings", replay, token=secret), 422, "challenge_used"
    )


def login_body(issued, mode="token"):  # type: ignore[no-untyped-def]
    nonce, sig = pki.sign_challenge(issued, "login")
    return {
        "certificate": pem_text(issued),
        "nonce": nonce,
        "signature": pki.b64(sig),
        "mode": mode,
    }


def test_certificate_login_token_and_session(http, frozen_clock, bound, bidder, entity_cert):
    r = http.call("POST", "/api/v1/trust/login", login_body(entity_cert))
    assert r.status_code == 200, r.content
    assert r.json()["username"] == bidder.username
    me = http.call("GET", "/api/v1/auth/me", token=r.json()["token"])
    assert me.json()["username"] == bidder.username
    browser = api_client()
    r = browser.call("POST", "/api/v1/trust/login", login_body(entity_cert, "session"))
    assert r.json()["token"] is None
    assert browser.call("GET", "/api/v1/auth/me").json()["username"] == bidder.username
    assert events("accounts.certificate_login") == 2


def test_certificate_login_refusals_are_recorded(http, frozen_clock, bound, entity_cert, cas):
    body = login_body(entity_cert)
    assert http.call("POST", "/api/v1/trust/login", body).status_code == 200
    assert_error(http.call("POST", "/api/v1/trust/login", body), 422, "challenge_used")  # replay
    unbound = pki.entity_cert("rsa", uscc(77), "未绑定公司")
    assert_error(
        http.call("POST", "/api/v1/trust/login", login_body(unbound)), 401, "certificate_not_bound"
    )
    late = login_body(entity_cert)
    frozen_clock.advance(minutes=6)
    assert_error(http.call("POST", "/api/v1/trust/login", late), 422, "challenge_expired")
    assert events("accounts.certificate_login_refused") == 3


def test_login_stops_when_the_ca_is_suspended(http, frozen_clock, bound, entity_cert, family, cas):
    from ggzy.trust import services

    services.set_ca_status(actor="system:test", authority=cas[family], status="suspended")
    assert_error(
        http.call("POST", "/api/v1/trust/login", login_body(entity_cert)), 422, "ca_suspended"
    )


# --- signatures ---------------------------------------------------------------------------------


def test_detached_signature_is_recorded_and_shown(
    http, frozen_clock, bound, bidder, entity_cert, family
):
    doc = "投标承诺书：本公司承诺……".encode()
    sigfile = signatures.sign_detached(doc, pki.keystore(entity_cert), name="承诺书.txt")
    body = {"document_name": "承诺书.txt", "document": pki.b64(doc), "sigfile": sigfile}
    r = http.call("POST", "/api/v1/trust/signatures", body, token=token(bidder))
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["validity"]["at_signing"]["valid"] and out["validity"]["now"]["valid"]
    assert out["ledger_seq"] and out["entity"] == bidder.memberships.get().entity.uscc
    # an altered document is refused, nothing stored
    before = DocumentSignature.objects.count()
    body["document"] = pki.b64(doc + b"!")
    assert_error(
        http.call("POST", "/api/v1/trust/signatures", body, token=token(bidder)),
        422,
        "digest_mismatch",
    )
    assert DocumentSignature.objects.count() == before


def test_signature_stays_valid_as_of_its_time_after_revocation(
    frozen_clock, bound, bidder, entity_cert, family
):
    from ggzy.trust import services

    doc = b"decision"
    sig = signing.record_signature(
        actor=bidder, document_name="d", document=doc,
        sigfile=signatures.sign_detached(doc, pki.keystore(entity_cert)),
    )  # fmt: skip
    frozen_clock.advance(days=1)
    ca = pki.test_ca(family)
    ca.sub.revoked[:] = [(entity_cert.certificate.serial_number, frozen_clock.moment)]
    services.import_crl(
        actor="system:test",
        data=ca.sub.crl(this_update=frozen_clock.moment, next_update=pki.NOT_AFTER),
    )
    ca.sub.revoked.clear()
    frozen_clock.advance(hours=1)
    validity = signing.signature_validity(sig)
    assert validity["at_signing"]["valid"] is True
    assert (validity["now"]["valid"], validity["now"]["code"]) == (False, "revoked")


def test_cms_signature_by_api(http, frozen_clock, bound, bidder, entity_cert, family):
    if family == "sm2":
        pytest.skip("SM2 CMS: see docs/signatures.md")
    doc = b"%PDF-1.7 contract"
    cms = signatures.sign_cms(doc, pki.keystore(entity_cert))
    body = {"document_name": "合同.pdf", "document": pki.b64(doc), "cms": pki.b64(cms)}
    r = http.call("POST", "/api/v1/trust/signatures", body, token=token(bidder))
    assert r.status_code == 201, r.content
    assert r.json()["format"] == "cms"
    assert r.json()["document_digest"] == hashlib.sha256(doc).hexdigest()


def test_someone_elses_certificate_cannot_sign_for_you(http, frozen_clock, bound, entity_cert):
    doc = b"x"
    other = make_user("other", Role.BIDDER)
    body = {
        "document_name": "x",
        "document": pki.b64(doc),
        "sigfile": signatures.sign_detached(doc, pki.keystore(entity_cert)),
    }
    assert_error(
        http.call("POST", "/api/v1/trust/signatures", body, token=token(other)),
        422,
        "certificate_not_bound",
    )


# --- QR signing requests ------------------------------------------------------------------------


def test_qr_signing_request_round_trip_and_refusals(
    http, frozen_clock, bound, bidder, entity_cert, cas
):
    digest = hashlib.sha256(b"report").hexdigest()
    r = http.call(
        "POST", "/api/v1/trust/sign-requests",
        {"document_name": "评标报告", "digest_alg": "sha256", "document_digest": digest, "ttl_seconds": 120},
        token=token(bidder),
    )  # fmt: skip
    assert r.status_code == 201, r.content
    req = r.json()
    fetched = http.call("GET", f"/api/v1/trust/sign-requests/{req['id']}").json()
    assert fetched["status"] == "pending"
    ks = pki.keystore(entity_cert)
    answer = {
        "certificate": pem_text(entity_cert),
        "signature": pki.b64(signatures.sign_statement(ks, fetched["statement"])),
    }
    # a signature over another statement (mismatched digest) is refused
    wrong = {**fetched["statement"], "document_digest": "0" * 64}
    bad = {
        "certificate": pem_text(entity_cert),
        "signature": pki.b64(signatures.sign_statement(ks, wrong)),
    }
    url = f"/api/v1/trust/sign-requests/{req['id']}/signature"
    assert_error(http.call("POST", url, bad), 422, "signature_invalid")
    done = http.call("POST", url, answer)
    assert done.status_code == 201 and done.json()["status"] == "signed"
    assert_error(http.call("POST", url, answer), 422, "request_used")  # replay
    # an expired request is refused
    late = signing.create_signing_request(
        actor=bidder, document_name="x", digest_alg="sha256", document_digest=digest, ttl_seconds=30
    )
    statement = signing.request_statement(late)
    frozen_clock.advance(seconds=31)
    answer = {
        "certificate": pem_text(entity_cert),
        "signature": pki.b64(signatures.sign_statement(ks, statement)),
    }
    assert_error(
        http.call("POST", f"/api/v1/trust/sign-requests/{late.public_id}/signature", answer),
        422,
        "request_expired",
    )
    assert events("trust.signing_refused") == 3
    assert CertificateBinding.objects.count() == 1


def test_public_verify_service_answers_without_recording(
    http, frozen_clock, bound, entity_cert, entity
):
    doc = b"award notice"
    sigfile = signatures.sign_detached(doc, pki.keystore(entity_cert))
    url = "/api/v1/trust/signatures/verify"
    before = db_state()
    r = http.call("POST", url, {"document_name": "n", "document": pki.b64(doc), "sigfile": sigfile})
    assert r.status_code == 200 and r.json()["valid"] is True, r.content
    assert r.json()["bound_to"] == entity.name
    assert r.json()["certificate"]["subject_identifier"] == entity.uscc
    r = http.call(
        "POST", url, {"document_name": "n", "document": pki.b64(b"forged"), "sigfile": sigfile}
    )
    assert (r.json()["valid"], r.json()["code"]) == (False, "digest_mismatch")
    bad = {**sigfile, "signature": "AAAA"}
    r = http.call("POST", url, {"document_name": "n", "document": pki.b64(doc), "sigfile": bad})
    assert (r.json()["valid"], r.json()["code"]) == (False, "signature_invalid")
    assert_error(
        http.call(
            "POST", url, {"document_name": "n", "document": pki.b64(doc), "sigfile": {"x": 1}}
        ),
        422,
        "malformed_signature",
    )
    assert db_state() == before


def test_old_challenges_are_cleared_when_new_ones_are_issued(frozen_clock, db):
    from ggzy.trust import bindings
    from ggzy.trust.models import LoginChallenge

    old = bindings.issue_challenge(purpose="login")
    frozen_clock.advance(hours=2)
    fresh = bindings.issue_challenge(purpose="bind")
    assert list(LoginChallenge.objects.values_list("nonce", flat=True)) == [fresh.nonce]
    assert old.nonce != fresh.nonce


def test_only_the_holder_may_unbind(http, frozen_clock, bound, bidder):
    url = f"/api/v1/trust/bindings/{bound.pk}"
    for role in (Role.CENTER_ADMIN, Role.BIDDER, Role.REGULATOR):
        other = token(make_user(f"u_{role}", role))
        before = db_state()
        assert_error(http.call("DELETE", url, token=other), 404, "binding_not_found")
        assert db_state() == before
    r = http.call("DELETE", url, token=token(bidder))
    assert r.status_code == 200 and r.json()["unbound_at"]
    assert events("trust.certificate_unbound") == 1


def test_hostile_values_are_4xx_not_500(http, frozen_clock, bound, bidder, entity_cert):
    secret = token(bidder)
    doc = b"x"
    sigfile = signatures.sign_detached(doc, pki.keystore(entity_cert))
    cases = [
        (
            "/api/v1/trust/certificates/verify",
            {"certificate": pem_text(entity_cert), "at": "2026-06-01T00:00:00"},
            "naive_datetime",
        ),
        (
            "/api/v1/trust/signatures/verify",
            {
                "document_name": "n",
                "document": pki.b64(doc),
                "sigfile": {**sigfile, "digest_alg": ["sm3"]},
            },
            None,
        ),
        (
            "/api/v1/trust/signatures/verify",
            {
                "document_name": "n",
                "document": pki.b64(doc),
                "sigfile": {**sigfile, "certificates": "x"},
            },
            None,
        ),
        ("/api/v1/trust/envelopes/nope/open", {"content_key": "a" * 33}, "validation_error"),
    ]
    for url, body, code in cases:
        r = http.call("POST", url, body, token=secret)
        assert 400 <= r.status_code < 500 or r.json().get("valid") is False, (url, r.content)
        if code:
            assert r.json()["code"] == code
    r = http.client.post(
        "/api/v1/trust/envelopes", b"PK\x03\x04", content_type="application/zip",
        HTTP_AUTHORIZATION=f"Bearer {secret}", CONTENT_LENGTH="abc",
    )  # fmt: skip
    assert 400 <= r.status_code < 500


def test_an_overdue_crl_is_flagged_in_the_api_the_page_and_the_cli(
    http, frozen_clock, cas, client, capsys
):
    from django.core.management import call_command

    from ggzy.trust import services

    ca = pki.test_ca("ecdsa")
    services.import_crl(
        actor="system:test",
        data=ca.sub.crl(this_update=frozen_clock.moment, next_update=frozen_clock.moment + timedelta(days=7)),
    )  # fmt: skip
    listed = {a["code"]: a for a in http.call("GET", "/api/v1/trust/cas").json()}
    assert (
        listed["test-ecdsa"]["crl_overdue"] is False
        and listed["test-rsa"]["crl_next_update"] is None
    )
    frozen_clock.advance(days=8)
    assert http.call("GET", "/api/v1/trust/cas/test-ecdsa").json()["crl_overdue"] is True
    assert "CRL 已过期" in client.get("/trust/cas/").content.decode()
    call_command("ca", "list")
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("test-ecdsa"))
    assert "OVERDUE" in line
