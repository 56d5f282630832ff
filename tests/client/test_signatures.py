"""ggzy_client.signatures / cms: ggzy-sig/1, statements, CMS SignedData, errors, the CLI."""

from __future__ import annotations

import contextlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms as acms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from ggzy_client import cli, keys
from ggzy_client.signatures import (
    STATEMENT_PREFIX,
    SignatureError,
    cms_to_pem,
    dumps_sigfile,
    loads_sigfile,
    sign_cms,
    sign_detached,
    sign_statement,
    statement_bytes,
    verify_cms,
    verify_detached,
    verify_statement,
)
from tests.client import sigpki

BAD_PEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
DOC = "招标文件 第一标段\n".encode() * 50
FAMILIES = [
    pytest.param(
        keys.SM2,
        marks=pytest.mark.skipif(not sigpki.HAVE_OPENSSL, reason="SM2 certs need openssl"),
    ),
    keys.ECDSA,
    keys.RSA,
]
_PKI: dict[str, tuple[sigpki.Issuer, keys.Keystore, keys.Keystore]] = {}


def _pki(family: str) -> tuple[sigpki.Issuer, keys.Keystore, keys.Keystore]:
    if family not in _PKI:
        ca = sigpki.make_ca(family)
        _PKI[family] = (ca, sigpki.make_signer(family, ca), sigpki.make_signer(family, ca, "Other"))
    return _PKI[family]


@pytest.fixture(params=FAMILIES)
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def signer(family: str) -> keys.Keystore:
    return _pki(family)[1]


@pytest.fixture
def other(family: str) -> keys.Keystore:
    return _pki(family)[2]


def _code(exc: pytest.ExceptionInfo[SignatureError]) -> str:
    return exc.value.code


# --- ggzy-sig/1 ---------------------------------------------------------------------------------


def test_detached_signature_roundtrip(family: str, signer: keys.Keystore) -> None:
    sig = sign_detached(DOC, signer, name="招标文件.pdf")
    assert sig["format"] == "ggzy-sig/1"
    assert sig["digest_alg"] == ("sm3" if family == keys.SM2 else "sha256")
    assert sig["document_digest"] == keys.digest(sig["digest_alg"], DOC).hex()
    assert len(sig["certificates"]) == 2  # signer, then the CA
    assert sig["signed_at"].endswith("Z")
    raw = dumps_sigfile(sig)
    canonical = json.dumps(sig, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert raw == canonical.encode() + b"\n"
    result = verify_detached(raw, DOC)
    assert result.family == family
    assert result.certificate == signer.certificate
    assert result.chain == signer.chain
    assert result.digest == keys.digest(sig["digest_alg"], DOC)
    assert result.document_name == "招标文件.pdf"
    assert abs(result.signed_at - datetime.now(UTC)) < timedelta(minutes=1)  # type: ignore[operator]


def test_sign_a_path_names_the_document(tmp_path: Path, signer: keys.Keystore) -> None:
    doc = tmp_path / "bid.pdf"
    doc.write_bytes(DOC)
    sig = sign_detached(doc, signer)
    assert sig["document_name"] == "bid.pdf"
    assert verify_detached(sig, DOC).digest_alg == sig["digest_alg"]


def test_verify_against_the_digest_only(family: str, signer: keys.Keystore) -> None:
    sig = sign_detached(DOC, signer)
    d = bytes.fromhex(sig["document_digest"])
    if family == keys.SM2:
        with pytest.raises(SignatureError) as exc:
            verify_detached(sig, document_digest=d)
        assert _code(exc) == "document_required"
    else:
        assert verify_detached(sig, document_digest=d).digest == d
        with pytest.raises(SignatureError) as exc:
            verify_detached(sig, document_digest=keys.digest("sha256", b"other"))
        assert _code(exc) == "digest_mismatch"
    with pytest.raises(SignatureError) as exc:
        verify_detached(sig)
    assert _code(exc) == "document_required"


def test_altered_document_and_foreign_signature(
    family: str, signer: keys.Keystore, other: keys.Keystore
) -> None:
    sig = sign_detached(DOC, signer)
    with pytest.raises(SignatureError) as exc:
        verify_detached(sig, DOC + b" ")
    assert _code(exc) == "digest_mismatch"
    # a consistent digest for an altered document, the signature still over the original
    forged = {**sig, "document_digest": keys.digest(sig["digest_alg"], DOC + b" ").hex()}
    with pytest.raises(SignatureError) as exc:
        verify_detached(forged, DOC + b" ")
    assert _code(exc) == "signature_invalid"
    # another key's signature under this certificate
    swapped = {**sig, "signature": sign_detached(DOC, other)["signature"]}
    with pytest.raises(SignatureError) as exc:
        verify_detached(swapped, DOC)
    assert _code(exc) == "signature_invalid"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"format": "ggzy-sig/2"}, "malformed_signature"),
        ({"signature": "not base64!"}, "malformed_signature"),
        ({"signature": ""}, "malformed_signature"),
        ({"document_digest": "zz"}, "malformed_signature"),
        ({"document_digest": "AB" * 32}, "malformed_signature"),
        ({"certificates": []}, "malformed_signature"),
        ({"certificates": [BAD_PEM]}, "malformed_signature"),
        ({"signed_at": "yesterday"}, "malformed_signature"),
        ({"digest_alg": "md5"}, "unsupported_algorithm"),
    ],
)
def test_malformed_sigfiles(change: dict[str, object], code: str) -> None:
    sig = {**sign_detached(DOC, _pki(keys.ECDSA)[1]), **change}
    with pytest.raises(SignatureError) as exc:
        verify_detached(sig, DOC)
    assert _code(exc) == code


def test_digest_alg_must_match_the_family() -> None:
    sig = sign_detached(DOC, _pki(keys.ECDSA)[1])
    sig = {**sig, "digest_alg": "sm3", "document_digest": keys.digest("sm3", DOC).hex()}
    with pytest.raises(SignatureError) as exc:
        verify_detached(sig, DOC)
    assert _code(exc) == "unsupported_algorithm"


@pytest.mark.parametrize(
    "blob", [b"", b"not json", b"[1,2]", b"{", "\ud800".encode("utf-8", "surrogatepass")]
)
def test_not_a_sigfile(blob: bytes) -> None:
    with pytest.raises(SignatureError) as exc:
        verify_detached(blob, DOC)
    assert _code(exc) == "malformed_signature"


def test_missing_field() -> None:
    sig = sign_detached(DOC, _pki(keys.RSA)[1])
    del sig["signature"]
    with pytest.raises(SignatureError) as exc:
        verify_detached(loads_sigfile(dumps_sigfile(sig)), DOC)
    assert _code(exc) == "malformed_signature"


def _weak_rsa() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    cert = sigpki._builder("weak", sigpki._name("weak"), key.public_key()).sign(
        key, hashes.SHA256()
    )
    return key, cert


def test_weak_rsa_signer_is_refused() -> None:
    key, cert = _weak_rsa()
    sig = sign_detached(DOC, _pki(keys.RSA)[1])
    sig["certificates"] = [sigpki.cert_pem(cert).decode()]
    with pytest.raises(SignatureError) as exc:
        verify_detached(sig, DOC)
    assert _code(exc) == "weak_key"
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(DOC)
        .add_signer(cert, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    )
    with pytest.raises(SignatureError) as exc:
        verify_cms(der, DOC)
    assert _code(exc) == "weak_key"


def test_fuzzed_sigfiles_raise_only_signature_errors() -> None:
    raw = dumps_sigfile(sign_detached(DOC, _pki(keys.ECDSA)[1]))
    rng = random.Random(7)
    for _ in range(200):
        b = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        blob = bytes(b[: rng.randint(0, len(b))] if rng.random() < 0.3 else b)
        with contextlib.suppress(SignatureError):  # anything else fails the test
            verify_detached(blob, DOC)


# --- statements ---------------------------------------------------------------------------------


def test_statement_bytes_are_prefix_plus_canonical_json() -> None:
    fields = {"nonce": "n-1", "aud": "ggzy", "issued_at": "2026-12-02T03:00:00Z", "n": 3}
    assert statement_bytes(fields) == (
        b'ggzy-statement/1\n{"aud":"ggzy","issued_at":"2026-12-02T03:00:00Z","n":3,"nonce":"n-1"}'
    )
    assert statement_bytes({"名": "甲"}) == STATEMENT_PREFIX + '{"名":"甲"}'.encode()


def test_statement_sign_and_verify(family: str, signer: keys.Keystore) -> None:
    fields = {"purpose": "login", "nonce": "abc", "user": "某某公司"}
    sig = sign_statement(signer, fields)
    assert signer.certificate is not None
    assert verify_statement(signer.key.public_key(), dict(reversed(fields.items())), sig)
    assert verify_statement(signer.certificate, fields, sig)
    assert not verify_statement(signer.certificate, {**fields, "nonce": "abd"}, sig)
    assert not verify_statement(signer.certificate, fields, sig[:-2])
    assert signer.key.public_key().verify(sig, statement_bytes(fields))


@pytest.mark.parametrize("fields", [{"x": float("nan")}, {"x": b"bytes"}, ["not", "a", "dict"]])
def test_statement_fields_must_be_plain_json(fields: object) -> None:
    with pytest.raises(SignatureError) as exc:
        statement_bytes(fields)  # type: ignore[arg-type]
    assert _code(exc) == "malformed_statement"


# --- CMS ----------------------------------------------------------------------------------------


def _cms(family: str, ks: keys.Keystore, **kw: bool) -> bytes:
    return sign_cms(DOC, ks, allow_sm2=family == keys.SM2, **kw)


def test_cms_roundtrip(family: str, signer: keys.Keystore) -> None:
    der = _cms(family, signer)
    result = verify_cms(der, DOC)
    assert result.family == family
    assert result.certificate == signer.certificate
    assert result.chain == signer.chain
    assert result.digest_alg == keys.DIGEST_OF[family]
    assert result.digest == keys.digest(result.digest_alg, DOC)
    assert abs(result.signed_at - datetime.now(UTC)) < timedelta(minutes=1)  # type: ignore[operator]
    assert verify_cms(cms_to_pem(der), DOC).certificate == signer.certificate
    embedded = _cms(family, signer, detached=False)
    assert verify_cms(embedded).digest == result.digest
    assert verify_cms(embedded, DOC).digest == result.digest


def test_sm2_cms_needs_opting_in() -> None:
    if not sigpki.HAVE_OPENSSL:
        pytest.skip("SM2 certs need openssl")
    with pytest.raises(SignatureError) as exc:
        sign_cms(DOC, _pki(keys.SM2)[1])
    assert _code(exc) == "unsupported_algorithm"


def test_cms_pkcs7_pem_label(signer: keys.Keystore, family: str) -> None:
    pem = cms_to_pem(_cms(family, signer)).replace(b"CMS-----", b"PKCS7-----")
    assert verify_cms(pem, DOC).family == family


def test_cms_altered_content(family: str, signer: keys.Keystore) -> None:
    with pytest.raises(SignatureError) as exc:
        verify_cms(_cms(family, signer), DOC + b"x")
    assert _code(exc) == "digest_mismatch"
    with pytest.raises(SignatureError) as exc:
        verify_cms(_cms(family, signer, detached=False), DOC + b"x")
    assert _code(exc) == "digest_mismatch"
    with pytest.raises(SignatureError) as exc:
        verify_cms(_cms(family, signer))
    assert _code(exc) == "document_required"


def _edit(der: bytes, edit: object) -> bytes:
    info = acms.ContentInfo.load(der)
    edit(info["content"])  # type: ignore[operator]
    return bytes(info.dump(force=True))


def test_cms_signature_by_another_key(
    family: str, signer: keys.Keystore, other: keys.Keystore
) -> None:
    foreign = acms.ContentInfo.load(_cms(family, other))["content"]["signer_infos"][0]

    def swap(sd: acms.SignedData) -> None:
        sd["signer_infos"][0]["signature"] = foreign["signature"].native

    with pytest.raises(SignatureError) as exc:
        verify_cms(_edit(_cms(family, signer), swap), DOC)
    assert _code(exc) == "signature_invalid"


def test_cms_signer_not_found(family: str, signer: keys.Keystore, other: keys.Keystore) -> None:
    other_cert = acms.ContentInfo.load(_cms(family, other))["content"]["certificates"][0]

    def drop(sd: acms.SignedData) -> None:
        sd["certificates"] = [other_cert]

    with pytest.raises(SignatureError) as exc:
        verify_cms(_edit(_cms(family, signer), drop), DOC)
    assert _code(exc) == "signer_not_found"


def test_cms_without_signed_attributes(family: str, signer: keys.Keystore) -> None:
    def strip(sd: acms.SignedData) -> None:
        si = sd["signer_infos"][0]
        si["signed_attrs"] = None
        si["signature"] = signer.key.sign(DOC)

    der = _edit(_cms(family, signer), strip)
    result = verify_cms(der, DOC)
    assert result.signed_at is None and result.family == family
    with pytest.raises(SignatureError) as exc:
        verify_cms(der, DOC + b"x")
    assert _code(exc) == "signature_invalid"


def test_cms_by_subject_key_identifier() -> None:
    ca = _pki(keys.ECDSA)[0]
    key = keys.generate_private_key(keys.ECDSA)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.key.public_key())
    cert = (
        sigpki._builder("ski", ca.certificate.subject, key.key.public_key())
        .add_extension(ski, critical=False)
        .sign(ca.key.key, hashes.SHA256())
    )
    der = sign_cms(DOC, keys.Keystore(key, cert))

    def by_ski(sd: acms.SignedData) -> None:
        sd["signer_infos"][0]["sid"] = acms.SignerIdentifier("subject_key_identifier", ski.digest)

    assert verify_cms(_edit(der, by_ski), DOC).certificate == cert


def test_cms_unsupported_digest() -> None:
    _, ks, _ = _pki(keys.RSA)
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(DOC)
        .add_signer(ks.certificate, ks.key.key, hashes.SHA384())  # type: ignore[arg-type]
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    )
    with pytest.raises(SignatureError) as exc:
        verify_cms(der, DOC)
    assert _code(exc) == "unsupported_algorithm"


def test_cms_garbage_and_truncation(family: str, signer: keys.Keystore) -> None:
    der = _cms(family, signer, detached=False)
    rng = random.Random(11)
    blobs = [b"", b"\x30", b"-----BEGIN CMS-----\n!!\n-----END CMS-----\n", rng.randbytes(300)]
    blobs += [der[:n] for n in (1, 2, 10, len(der) // 2, len(der) - 1)]
    for blob in blobs:
        with pytest.raises(SignatureError) as exc:
            verify_cms(blob, DOC)
        assert _code(exc) == "malformed_signature", blob[:20]
    for _ in range(150):  # flipped bytes: any refusal, but only SignatureError
        b = bytearray(der)
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(SignatureError):
            verify_cms(bytes(b))


def test_keystore_without_certificate(signer: keys.Keystore, family: str) -> None:
    bare = keys.Keystore(signer.key, None)
    for call in (lambda: sign_detached(DOC, bare), lambda: _cms(family, bare)):
        with pytest.raises(SignatureError) as exc:
            call()
        assert _code(exc) == "no_certificate"


# --- the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("ggzy_client.commands.sign",))

    def _run(*argv: str | Path) -> tuple[int, str, str]:
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def test_cli_sign_and_verify(run, tmp_path: Path, family: str, signer: keys.Keystore) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "bid.pdf"
    doc.write_bytes(DOC)
    ks = sigpki.write_keystore(tmp_path / "ks.pem", signer, b"s3cret")
    (tmp_path / "pw").write_text("s3cret\n")
    code, out, err = run("sign", doc, "--key", ks, "--password-file", tmp_path / "pw")
    assert code == 0, err
    sigfile = tmp_path / "bid.pdf.sig.json"
    assert json.loads(sigfile.read_bytes())["document_name"] == "bid.pdf"
    code, out, err = run("verify", doc, sigfile, "--ca", tmp_path / "ks.pem")
    assert code == 0, err
    assert out.startswith("ok: ") and "issued under" in out
    doc.write_bytes(DOC + b"!")
    code, out, err = run("verify", doc, sigfile)
    assert code == 2 and err.startswith("error [digest_mismatch]")


def test_cli_cms(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, signer, _ = _pki(keys.ECDSA)
    doc = tmp_path / "d.bin"
    doc.write_bytes(DOC)
    ks = sigpki.write_keystore(tmp_path / "ks.pem", signer)
    assert run("sign", doc, "--key", ks, "--cms")[0] == 0
    assert (tmp_path / "d.bin.p7s").read_bytes()[:1] == b"\x30"
    assert run("verify", doc, tmp_path / "d.bin.p7s")[0] == 0
    out = tmp_path / "x.pem"
    assert run("sign", doc, "--key", ks, "--cms", "--pem", "--out", out)[0] == 0
    assert out.read_bytes().startswith(b"-----BEGIN CMS-----")
    assert run("verify", doc, out)[0] == 0
    stranger = sigpki.make_ca(keys.ECDSA, "Stranger CA")
    (tmp_path / "stranger.pem").write_bytes(sigpki.cert_pem(stranger.certificate))
    code, _, err = run("verify", doc, out, "--ca", tmp_path / "stranger.pem")
    assert code == 2 and err.startswith("error [untrusted_signer]")
    code, _, err = run("sign", doc, "--key", ks, "--pem")
    assert code == 2 and err.startswith("error [usage]")


def test_cli_errors(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "d"
    doc.write_bytes(b"x")
    (tmp_path / "junk.p7s").write_bytes(b"\x30\x03junk")
    code, _, err = run("verify", doc, tmp_path / "junk.p7s")
    assert code == 2 and err.startswith("error [malformed_signature]")
    key_only = tmp_path / "k.pem"
    key_only.write_bytes(keys.generate_private_key(keys.ECDSA).to_pem())
    code, _, err = run("sign", doc, "--key", key_only)
    assert code == 2 and err.startswith("error [no_certificate]")
    code, _, err = run("verify", doc, tmp_path / "missing.sig.json")
    assert code == 2 and err.startswith("error [io_error]")


def test_cms_content_type_attribute_must_match(family: str, signer: keys.Keystore) -> None:
    def retype(sd: acms.SignedData) -> None:
        for attr in sd["signer_infos"][0]["signed_attrs"]:
            if attr["type"].native == "content_type":
                attr["values"] = ["signed_data"]

    with pytest.raises(SignatureError) as exc:
        verify_cms(_edit(_cms(family, signer), retype), DOC)
    assert _code(exc) == "malformed_signature"


def test_certificate_must_be_the_keystores(signer: keys.Keystore, other: keys.Keystore) -> None:
    mixed = keys.Keystore(signer.key, other.certificate)
    with pytest.raises(SignatureError) as exc:
        sign_detached(DOC, mixed)
    assert _code(exc) == "no_certificate"


def test_a_document_that_looks_like_a_statement_is_not_signed_nor_accepted() -> None:
    """Domain separation: a detached signature over such bytes would double as a login."""
    from ggzy_client import keys
    from ggzy_client.signatures import (
        SignatureError,
        sign_detached,
        statement_bytes,
        verify_detached,
    )

    key = keys.generate_private_key("ecdsa")
    ks = keys.Keystore(key, None, ())
    forged = statement_bytes({"audience": "a", "nonce": "n", "purpose": "login"})
    with pytest.raises(SignatureError) as info:
        sign_detached(forged, ks)
    assert info.value.code == "reserved_document"
    with pytest.raises(SignatureError) as info:
        verify_detached({"format": "ggzy-sig/1"}, forged)
    assert info.value.code in ("reserved_document", "malformed_signature")
