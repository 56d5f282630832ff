"""Signatures against the OpenSSL command line, both directions, for the three families.

Every PKI here is made by ``openssl`` itself (tests/client/sigpki.py: ``openssl_pki``). Findings
pinned down (docs/signatures.md): raw signatures (``openssl dgst``) interoperate for all three
families; CMS for RSA and ECDSA; OpenSSL 3.0 cannot make SM2 CMS and does not accept ours.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from ggzy_client import keys
from ggzy_client.signatures import (
    SignatureError,
    cms_to_pem,
    sign_cms,
    sign_detached,
    verify_cms,
    verify_detached,
)
from tests.client import sigpki
from tests.client.sigpki import DISTID, OpensslPki, openssl

pytestmark = pytest.mark.skipif(not sigpki.HAVE_OPENSSL, reason="needs the openssl binary")

DOC = "开标一览表：报价 1,234,567.89 元\n".encode() * 100
CMS_FAMILIES = [keys.ECDSA, keys.RSA]


@pytest.fixture(scope="module", params=keys.FAMILIES)
def pki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> OpensslPki:
    d = tmp_path_factory.mktemp(f"pki-{request.param}")
    p = sigpki.openssl_pki(d, request.param)
    (d / "doc.bin").write_bytes(DOC)
    (d / "altered.bin").write_bytes(DOC + b"0")
    (d / "pub.pem").write_bytes(openssl("x509", "-in", p.cert, "-pubkey", "-noout"))
    return p


@pytest.fixture(scope="module")
def stranger(pki: OpensslPki) -> OpensslPki:
    return sigpki.openssl_pki(pki.dir, pki.family, prefix="other-")


def _dgst_args(family: str) -> list[str]:
    return ["-sm3", "-sigopt", DISTID] if family == keys.SM2 else ["-sha256"]


def _dgst_verify(pki: OpensslPki, sig: bytes, doc: str = "doc.bin") -> subprocess.CompletedProcess:
    (pki.dir / "raw.sig").write_bytes(sig)
    return subprocess.run(
        ["openssl", "dgst", *_dgst_args(pki.family), "-verify", "pub.pem",
         "-signature", "raw.sig", doc],
        cwd=pki.dir, capture_output=True, check=False,
    )  # fmt: skip


def _cms_verify(
    pki: OpensslPki, name: str, *, content: str | None = "doc.bin", inform: str = "DER"
) -> subprocess.CompletedProcess:
    args = ["openssl", "cms", "-verify", "-binary", "-in", name, "-inform", inform]
    args += ["-CAfile", str(pki.ca_cert), "-out", "verified.out"]
    if content is not None:
        args += ["-content", content]
    return subprocess.run(args, cwd=pki.dir, capture_output=True, check=False)


def _sigfile_from_openssl(pki: OpensslPki, sig: bytes) -> dict[str, object]:
    alg = keys.DIGEST_OF[pki.family]
    return {
        "format": "ggzy-sig/1",
        "digest_alg": alg,
        "document_digest": keys.digest(alg, DOC).hex(),
        "document_name": "doc.bin",
        "signature": base64.b64encode(sig).decode(),
        "certificates": [pki.cert.read_text()],
        "signed_at": "2026-12-02T00:00:00Z",
    }


# --- raw signatures (openssl dgst), all families ------------------------------------------------


def test_ours_verify_with_openssl_dgst(pki: OpensslPki) -> None:
    sig = base64.b64decode(sign_detached(DOC, pki.keystore())["signature"])
    ok = _dgst_verify(pki, sig)
    assert ok.returncode == 0 and b"Verified OK" in ok.stdout, ok.stderr
    assert _dgst_verify(pki, sig, "altered.bin").returncode != 0


def test_openssl_dgst_verifies_here(pki: OpensslPki, stranger: OpensslPki) -> None:
    sig = openssl("dgst", *_dgst_args(pki.family), "-sign", pki.key, "doc.bin", cwd=pki.dir)
    result = verify_detached(_sigfile_from_openssl(pki, sig), DOC)
    assert result.family == pki.family
    with pytest.raises(SignatureError) as exc:
        verify_detached(_sigfile_from_openssl(pki, sig), DOC + b"0")
    assert exc.value.code == "digest_mismatch"
    foreign = openssl("dgst", *_dgst_args(pki.family), "-sign", stranger.key, "doc.bin",
                      cwd=pki.dir)  # fmt: skip
    with pytest.raises(SignatureError) as exc:
        verify_detached(_sigfile_from_openssl(pki, foreign), DOC)
    assert exc.value.code == "signature_invalid"


def test_openssl_signer_cert_chains_to_its_ca(pki: OpensslPki) -> None:
    ca = keys.load_certificates(pki.ca_cert.read_bytes())[0]
    ee = keys.load_certificates(pki.cert.read_bytes())[0]
    assert keys.signed_by(ee, keys.certificate_public_key(ca))


# --- CMS ----------------------------------------------------------------------------------------


@pytest.fixture
def cms_pki(pki: OpensslPki) -> OpensslPki:
    if pki.family not in CMS_FAMILIES:
        pytest.skip("SM2 CMS: see test_sm2_cms_is_not_interoperable_with_openssl_3_0")
    return pki


def test_our_cms_verifies_in_openssl(cms_pki: OpensslPki) -> None:
    ks = cms_pki.keystore()
    der = sign_cms(DOC, ks)
    (cms_pki.dir / "ours.p7s").write_bytes(der)
    ok = _cms_verify(cms_pki, "ours.p7s")
    assert ok.returncode == 0, ok.stderr
    assert b"Verification successful" in ok.stderr
    (cms_pki.dir / "ours.pem").write_bytes(cms_to_pem(der))
    assert _cms_verify(cms_pki, "ours.pem", inform="PEM").returncode == 0
    (cms_pki.dir / "ours-embedded.p7s").write_bytes(sign_cms(DOC, ks, detached=False))
    ok = _cms_verify(cms_pki, "ours-embedded.p7s", content=None)
    assert ok.returncode == 0, ok.stderr
    assert (cms_pki.dir / "verified.out").read_bytes() == DOC
    bad = _cms_verify(cms_pki, "ours.p7s", content="altered.bin")
    assert bad.returncode != 0 and b"Verification failure" in bad.stderr


@pytest.mark.parametrize(
    "extra",
    [[], ["-noattr"], ["-nosmimecap"], ["-nodetach"], ["-outform", "PEM"]],
    ids=["attrs", "noattr", "nosmimecap", "embedded", "pem"],
)
def test_openssl_cms_verifies_here(cms_pki: OpensslPki, extra: list[str]) -> None:
    args = ["cms", "-sign", "-binary", "-md", "sha256", "-in", "doc.bin"]
    args += ["-signer", str(cms_pki.cert), "-inkey", str(cms_pki.key), "-certfile"]
    args += [str(cms_pki.ca_cert), *(["-outform", "DER"] if "-outform" not in extra else [])]
    blob = openssl(*args, *extra, cwd=cms_pki.dir)
    content = None if "-nodetach" in extra else DOC
    result = verify_cms(blob, content)
    assert result.family == cms_pki.family and result.digest_alg == "sha256"
    assert result.certificate == keys.load_certificates(cms_pki.cert.read_bytes())[0]
    assert [c.subject for c in result.chain] == [
        keys.load_certificates(cms_pki.ca_cert.read_bytes())[0].subject
    ]
    assert (result.signed_at is None) == ("-noattr" in extra)
    with pytest.raises(SignatureError) as exc:
        verify_cms(blob, DOC + b"0")
    assert exc.value.code == ("signature_invalid" if "-noattr" in extra else "digest_mismatch")


def test_openssl_cms_by_key_identifier(cms_pki: OpensslPki) -> None:
    # the self-signed CA certificate has a subjectKeyIdentifier; -keyid uses it as the sid
    blob = openssl("cms", "-sign", "-binary", "-keyid", "-in", "doc.bin", "-signer",
                   cms_pki.ca_cert, "-inkey", cms_pki.ca_key, "-outform", "DER",
                   cwd=cms_pki.dir)  # fmt: skip
    assert verify_cms(blob, DOC).certificate.subject.rfc4514_string() == "CN=Interop CA"


def test_openssl_cms_negatives(cms_pki: OpensslPki, stranger: OpensslPki) -> None:
    blob = openssl("cms", "-sign", "-binary", "-in", "doc.bin", "-signer", cms_pki.cert,
                   "-inkey", cms_pki.key, "-outform", "DER", cwd=cms_pki.dir)  # fmt: skip
    for n in (0, 1, 16, len(blob) // 3, len(blob) - 1):
        with pytest.raises(SignatureError) as exc:
            verify_cms(blob[:n], DOC)
        assert exc.value.code == "malformed_signature"
    # the signer's certificate with a stranger's key: the signer info no longer matches
    wrong_key = openssl("cms", "-sign", "-binary", "-in", "doc.bin", "-signer", cms_pki.cert,
                        "-inkey", stranger.key, "-outform", "DER", cwd=cms_pki.dir,
                        check=False)  # fmt: skip
    if wrong_key:  # OpenSSL refuses a key that does not match the certificate
        with pytest.raises(SignatureError) as exc:
            verify_cms(wrong_key, DOC)
        assert exc.value.code == "signature_invalid"
    # a stranger's certificate and signature: valid CMS, but not under this CA in openssl
    theirs = openssl("cms", "-sign", "-binary", "-in", "doc.bin", "-signer", stranger.cert,
                     "-inkey", stranger.key, "-outform", "DER", cwd=cms_pki.dir)  # fmt: skip
    assert verify_cms(theirs, DOC).certificate.subject.rfc4514_string() == "CN=Interop Signer"
    (cms_pki.dir / "theirs.p7s").write_bytes(theirs)
    assert _cms_verify(cms_pki, "theirs.p7s").returncode != 0


def test_sm2_cms_is_not_interoperable_with_openssl_3_0(pki: OpensslPki) -> None:
    if pki.family != keys.SM2:
        pytest.skip("SM2 only")
    made = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-md", "sm3", "-in", "doc.bin", "-signer",
         str(pki.cert), "-inkey", str(pki.key), "-outform", "DER", "-out", "sm2.p7s"],
        cwd=pki.dir, capture_output=True, check=False,
    )  # fmt: skip
    if made.returncode == 0 and (pki.dir / "sm2.p7s").stat().st_size:
        pytest.fail("this openssl signs SM2 CMS now: revisit docs/signatures.md")
    with pytest.raises(SignatureError) as exc:
        sign_cms(DOC, pki.keystore())
    assert exc.value.code == "unsupported_algorithm"
    (pki.dir / "ours-sm2.p7s").write_bytes(sign_cms(DOC, pki.keystore(), allow_sm2=True))
    assert verify_cms((pki.dir / "ours-sm2.p7s").read_bytes(), DOC).family == keys.SM2
    # OpenSSL 3.0 checks SM2 SignerInfos with an empty distinguishing ID, not 1234567812345678
    assert _cms_verify(pki, "ours-sm2.p7s").returncode != 0


# --- the CLI on an OpenSSL-made PKI -------------------------------------------------------------


def test_cli_verify_with_openssl_ca(pki: OpensslPki, monkeypatch: pytest.MonkeyPatch) -> None:
    from ggzy_client import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", ("ggzy_client.commands.sign",))
    doc = pki.dir / "doc.bin"
    out = pki.dir / "cli.sig.json"
    args = ["sign", str(doc), "--key", str(pki.key), "--cert", str(pki.cert), "--out", str(out)]
    assert cli.main(args) == 0
    assert cli.main(["verify", str(doc), str(out), "--ca", str(pki.ca_cert)]) == 0
    if pki.family in CMS_FAMILIES:
        p7s = pki.dir / "cli.p7s"
        assert cli.main([*args[:-1], str(p7s), "--cms"]) == 0
        assert _cms_verify(pki, "cli.p7s").returncode == 0


def test_openssl_made_keys_load(pki: OpensslPki, tmp_path: Path) -> None:
    ks = pki.keystore()
    assert ks.key.family == pki.family and ks.certificate is not None
