"""Certificate validation: a good certificate of each family chains and names its subject; each
rejection names its reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ggzy.trust import services, validation
from ggzy.trust.issuing import new_root
from ggzy.trust.validation import CertificateRejected
from ggzy_client import keys
from tests.conftest import uscc
from tests.trust import pki
from tests.trust.pki import NOT_AFTER, NOT_BEFORE


def rejected(cert, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(CertificateRejected) as info:
        validation.validate(cert, **kw)
    return info.value.code


def test_valid_entity_certificate_of_each_family(frozen_clock, cas, family):
    issued = pki.entity_cert(family, uscc(7))
    report = validation.validate(issued.certificate, purpose="sign")
    assert (report.family, report.kind, report.subject_identifier) == (family, "entity", uscc(7))
    assert report.authority.code == f"test-{family}"
    assert [c.is_root for c in report.chain] == [False, True]


def test_person_certificate_names_the_id_number(frozen_clock, cas):
    issued = pki.person_cert("sm2", "11010519491231002X")
    report = validation.validate(issued.certificate, purpose="login")
    assert (report.kind, report.subject_identifier) == ("person", "11010519491231002X")


OPENSSL_KEYS = {
    "sm2": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2"],
    "ecdsa": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
}
OPENSSL_SIGN = {
    "sm2": ["-sm3", "-sigopt", "distid:1234567812345678"],
    "ecdsa": ["-sha256"],
    "rsa": ["-sha256"],
}


@pytest.mark.parametrize("family", ["sm2", "ecdsa", "rsa"])
def test_openssl_made_root_intermediate_and_leaf_validate(db, tmp_path, family):
    """Interop: a CA hierarchy made with the OpenSSL 3 command line is onboarded and its
    certificates validate here, with the subject's USCC found."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=tmp_path)

    sign = OPENSSL_SIGN[family]
    vfy = ["-vfyopt", "distid:1234567812345678"] if family == "sm2" else []
    for name in ("root", "sub", "leaf"):
        run("genpkey", *OPENSSL_KEYS[family], "-out", f"{name}.key")
    (tmp_path / "ca.ext").write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
    )
    (tmp_path / "leaf.ext").write_text("keyUsage=critical,digitalSignature,nonRepudiation\n")
    run("req", "-x509", "-new", "-key", "root.key", *sign, "-subj", f"/CN={family} OpenSSL root",
        "-days", "3650", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem")  # fmt: skip
    for name, issuer, subject, ext in (
        ("sub", "root", f"/CN={family} OpenSSL sub", "ca.ext"),
        ("leaf", "sub", f"/CN=某公司/serialNumber={uscc(3)}", "leaf.ext"),
    ):
        run("req", "-new", "-key", f"{name}.key", *sign, "-subj", subject, "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem", "-CAkey", f"{issuer}.key",
            *sign, *vfy, "-days", "365", "-extfile", ext, "-out", f"{name}.pem")  # fmt: skip
    services.onboard_ca(
        actor="system:test",
        code=f"openssl-{family}",
        name="OpenSSL CA",
        certificates=[(tmp_path / "sub.pem").read_bytes(), (tmp_path / "root.pem").read_bytes()],
    )  # fmt: skip (intermediate first: the store orders them)
    cert = validation.parse_certificate((tmp_path / "leaf.pem").read_bytes())
    with frozen_clock_at(datetime.now(UTC)):
        report = validation.validate(cert, purpose="sign")
    assert (report.family, report.subject_identifier, len(report.chain)) == (family, uscc(3), 2)


def frozen_clock_at(moment: datetime):  # type: ignore[no-untyped-def]
    from ggzy.core import clock

    return clock.frozen(moment)


def test_unknown_ca(frozen_clock, cas):
    stranger = new_root(
        "ecdsa", {"common_name": "ecdsa sub"}, not_before=NOT_BEFORE, not_after=NOT_AFTER
    )  # same issuer name as the test CA's intermediate, different key
    cert = stranger.issue({"serial_number": uscc(1)}, not_before=NOT_BEFORE, not_after=NOT_AFTER)
    assert rejected(cert.certificate) == "unknown_ca"


def test_expired_and_not_yet_valid(frozen_clock, cas):
    ca = pki.test_ca("rsa")
    now = frozen_clock.now() if hasattr(frozen_clock, "now") else datetime(2026, 11, 23, tzinfo=UTC)
    old = ca.sub.issue(
        {"serial_number": uscc(2)}, not_before=NOT_BEFORE, not_after=now - timedelta(days=1)
    )
    new = ca.sub.issue(
        {"serial_number": uscc(2)}, not_before=now + timedelta(days=1), not_after=NOT_AFTER
    )
    assert rejected(old.certificate) == "expired"
    assert rejected(new.certificate) == "not_yet_valid"


def test_revoked_from_the_time_of_revocation(frozen_clock, cas):
    ca = pki.test_ca("sm2")
    issued = ca.issue({"serial_number": uscc(4)})
    t = datetime(2026, 6, 1, tzinfo=UTC)
    ca.sub.revoked[:] = [(issued.certificate.serial_number, t)]
    services.import_crl(actor="system:test", data=ca.sub.crl(this_update=t, next_update=NOT_AFTER))
    ca.sub.revoked.clear()
    assert rejected(issued.certificate) == "revoked"
    # as of a moment before the revocation it was good
    assert validation.validate(issued.certificate, at=t - timedelta(days=1)).fingerprint


def test_wrong_key_usage(frozen_clock, cas):
    issued = pki.test_ca("rsa").issue({"serial_number": uscc(5)}, usage=("key_encipherment",))
    assert rejected(issued.certificate, purpose="sign") == "wrong_key_usage"
    assert validation.validate(issued.certificate, purpose="encrypt").kind == "entity"


def test_suspended_and_retired_ca(frozen_clock, cas):
    issued = pki.entity_cert("ecdsa", uscc(6))
    before = frozen_clock_now()
    services.set_ca_status(actor="system:test", authority=cas["ecdsa"], status="suspended")
    assert rejected(issued.certificate) == "ca_suspended"
    # signatures made before the suspension stay verifiable as of their time
    assert validation.validate(issued.certificate, at=before - timedelta(seconds=1)).fingerprint
    services.set_ca_status(actor="system:test", authority=cas["ecdsa"], status="active")
    assert validation.validate(issued.certificate).fingerprint
    services.set_ca_status(actor="system:test", authority=cas["ecdsa"], status="retired")
    assert rejected(issued.certificate) == "ca_retired"


def frozen_clock_now() -> datetime:
    from ggzy.core import clock

    return clock.now()


def test_weak_rsa_key_refused(frozen_clock, cas):
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = keys.PrivateKey("rsa", rsa.generate_private_key(public_exponent=65537, key_size=1024))
    issued = pki.test_ca("rsa").issue({"serial_number": uscc(8)}, key=weak)
    assert rejected(issued.certificate) == "weak_key"


def test_ca_certificate_is_not_a_user_certificate(frozen_clock, cas):
    assert rejected(pki.test_ca("sm2").sub.certificate) == "ca_certificate"


@pytest.mark.parametrize(
    "blob",
    [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "%%%"],
)
def test_not_a_certificate(blob):
    with pytest.raises(CertificateRejected) as info:
        validation.parse_certificate(blob)
    assert info.value.code == "bad_certificate"


def test_subject_attribute_is_configurable_per_ca(frozen_clock, cas):
    from ggzy.trust.models import CertificateAuthority

    issued = pki.test_ca("rsa").issue(
        {"common_name": "某公司", "organizational_unit_name": uscc(9)}
    )
    assert validation.validate(issued.certificate).subject_identifier == uscc(9)  # default search
    CertificateAuthority.objects.filter(code="test-rsa").update(subject_id_attribute="serialNumber")
    assert validation.validate(issued.certificate).kind == ""


def test_ca_code_is_checked_and_unique(frozen_clock, cas):
    from ggzy.core.errors import Conflict, ValidationFailed

    ca = pki.test_ca("ecdsa")
    with pytest.raises(ValidationFailed) as bad:
        services.onboard_ca(actor="system:test", code="a b", name="x", certificates=ca.pems())
    assert bad.value.code == "bad_ca_code"
    with pytest.raises(Conflict) as taken:
        services.onboard_ca(
            actor="system:test", code="test-ecdsa", name="x", certificates=ca.pems()
        )
    assert taken.value.code == "ca_code_taken"


def test_a_warm_cache_still_reads_the_status_history(frozen_clock, cas):
    """Validation as of a past moment follows the CA's history even after the cache is warm."""
    issued = pki.entity_cert("rsa", uscc(12))
    validation.validate(issued.certificate)  # warm the caches
    frozen_clock.advance(hours=1)
    suspended_at = frozen_clock.moment
    services.set_ca_status(actor="system:test", authority=cas["rsa"], status="suspended")
    frozen_clock.advance(hours=1)
    services.set_ca_status(actor="system:test", authority=cas["rsa"], status="active")
    frozen_clock.advance(hours=1)
    assert rejected(issued.certificate, at=suspended_at + timedelta(minutes=5)) == "ca_suspended"
    assert validation.validate(issued.certificate, at=suspended_at - timedelta(minutes=5))
    assert validation.validate(issued.certificate)


def test_a_naive_moment_is_refused(frozen_clock, cas):
    from ggzy.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        validation.validate(pki.entity_cert("rsa", uscc(12)).certificate, at=datetime(2026, 6, 1))
    assert info.value.code == "naive_datetime"


def test_an_intermediate_cannot_hang_under_another_cas_root(frozen_clock, cas):
    from ggzy.core.errors import ValidationFailed

    foreign_sub = pki.test_ca("sm2").root.intermediate(
        {"common_name": "hijacked sub"}, not_before=NOT_BEFORE, not_after=NOT_AFTER
    )
    with pytest.raises(ValidationFailed) as info:
        services.add_ca_certificates(
            actor="system:test",
            authority=cas["rsa"],
            certificates=[pki.pem(foreign_sub.certificate)],
        )
    assert info.value.code == "foreign_chain"


def test_a_renewed_root_is_preferred_to_the_expired_one_it_replaces(frozen_clock, db):
    from ggzy.trust import issuing

    old_end = datetime(2026, 6, 1, tzinfo=UTC)  # before the frozen "now"
    root = issuing.new_root(
        "ecdsa", {"common_name": "renewed root"}, not_before=NOT_BEFORE, not_after=old_end
    )
    renewed = issuing._build(
        issuer=root.name, issuer_key=root.key, subject=root.name,
        public_key=root.key.public_key(), not_before=NOT_BEFORE, not_after=NOT_AFTER,
        usage=("key_cert_sign", "crl_sign"), ca=True,
    )  # fmt: skip
    sub = root.intermediate(
        {"common_name": "renewed sub"}, not_before=NOT_BEFORE, not_after=NOT_AFTER
    )
    leaf = sub.issue({"serial_number": uscc(14)}, not_before=NOT_BEFORE, not_after=NOT_AFTER)
    services.onboard_ca(
        actor="system:test", code="renewed", name="换发根证书的CA",
        certificates=[pki.pem(root.certificate), pki.pem(renewed), pki.pem(sub.certificate)],
    )  # fmt: skip
    assert validation.validate(leaf.certificate).subject_identifier == uscc(14)
