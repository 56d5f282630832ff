"""Electronic signatures (电子签名): detached ``ggzy-sig/1`` files, statements, and CMS.

Three formats, one error type (:class:`SignatureError`, ``code`` names why):

``ggzy-sig/1``
    A canonical JSON file next to the document. ``signature`` is the raw signature over the
    document bytes in the signer's family scheme — SM2-with-SM3 (distid ``1234567812345678``),
    ECDSA-SHA256 (DER) or RSA PKCS#1 v1.5 SHA-256 — i.e. exactly what ``openssl dgst -sm3
    -sign key.pem -sigopt distid:1234567812345678`` / ``openssl dgst -sha256 -sign key.pem``
    write, so either side verifies the other's.

statement
    The signed bytes are ``b"ggzy-statement/1\\n"`` + the canonical JSON of a flat ``fields``
    dict (certificate login, QR signing). See :func:`statement_bytes`.

CMS / PKCS#7 SignedData
    :func:`sign_cms` and :func:`verify_cms`, in :mod:`ggzy_client.cms`.

See docs/signatures.md for the formats, the OpenSSL commands that interoperate and the codes.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from ggzy_client import keys

FORMAT = "ggzy-sig/1"
STATEMENT_PREFIX = b"ggzy-statement/1\n"
DIGEST_SIZE = {"sm3": 32, "sha256": 32}
_FIELDS = (
    "format",
    "digest_alg",
    "document_digest",
    "document_name",
    "signature",
    "certificates",
    "signed_at",
)


class SignatureError(ValueError):
    """A signature this client refuses; ``code`` is one of the codes in docs/signatures.md."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class VerifiedSignature:
    """What a successful verification established (the chain is *not* validated here)."""

    certificate: x509.Certificate
    digest: bytes
    digest_alg: str
    family: str
    signed_at: datetime | None
    chain: tuple[x509.Certificate, ...] = ()
    document_name: str | None = None

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()


# --- canonical JSON -----------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (not ``\\u`` escapes), no NaN/Infinity."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def dumps_sigfile(sigfile: dict[str, Any]) -> bytes:
    """The bytes of a ``ggzy-sig/1`` file (canonical JSON plus a final newline)."""
    return canonical_json(sigfile) + b"\n"


def loads_sigfile(data: bytes | str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, TypeError) as exc:
        raise SignatureError("malformed_signature", "the signature file is not JSON") from exc
    if not isinstance(value, dict):
        raise SignatureError("malformed_signature", "the signature file is not a JSON object")
    return value


# --- keys and certificates ----------------------------------------------------------------------


def signer_key(cert: x509.Certificate) -> keys.PublicKey:
    """The certificate's public key; ``weak_key`` / ``unsupported_algorithm`` otherwise."""
    try:
        return keys.certificate_public_key(cert)
    except keys.KeyError_ as exc:
        code = "weak_key" if exc.code == "weak_key" else "unsupported_algorithm"
        raise SignatureError(code, str(exc)) from exc
    except Exception as exc:  # an SM2-looking key that tongsuopy cannot read either
        raise SignatureError("unsupported_algorithm", "unsupported signer key") from exc


def signer_certificate(keystore: keys.Keystore) -> x509.Certificate:
    """The keystore's certificate, checked to be for its key (``no_certificate``, ``weak_key``)."""
    cert = keystore.certificate
    if cert is None:
        raise SignatureError(
            "no_certificate", "the keystore has no certificate for its key: give --cert"
        )
    if signer_key(cert).spki_der() != keystore.key.public_key().spki_der():  # weak_key too
        raise SignatureError("no_certificate", "the certificate is not for the keystore's key")
    return cert


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- ggzy-sig/1 ---------------------------------------------------------------------------------


def sign_detached(
    data_or_path: bytes | str | Path, keystore: keys.Keystore, *, name: str | None = None
) -> dict[str, Any]:
    """A ``ggzy-sig/1`` signature over a document (bytes, or the path of a file)."""
    if isinstance(data_or_path, bytes | bytearray | memoryview):
        data = bytes(data_or_path)
    else:
        path = Path(data_or_path)
        data = path.read_bytes()
        name = path.name if name is None else name
    refuse_statement_bytes(data)
    cert = signer_certificate(keystore)
    family = keystore.key.family
    alg = keys.DIGEST_OF[family]
    return {
        "format": FORMAT,
        "digest_alg": alg,
        "document_digest": keys.digest(alg, data).hex(),
        "document_name": name or "",
        "signature": base64.b64encode(keystore.key.sign(data)).decode("ascii"),
        "certificates": [_pem(cert), *(_pem(c) for c in keystore.chain)],
        "signed_at": _utc_now(),
    }


@dataclass(frozen=True)
class _Parsed:
    alg: str
    digest: bytes
    signature: bytes
    certs: list[x509.Certificate]
    signed_at: datetime | None
    name: str | None


def _parse_sigfile(sigfile: dict[str, Any] | bytes | str) -> _Parsed:
    sig = sigfile if isinstance(sigfile, dict) else loads_sigfile(sigfile)
    if sig.get("format") != FORMAT:
        raise SignatureError("malformed_signature", f"not a {FORMAT} signature file")
    missing = [f for f in _FIELDS if f not in sig and f != "document_name"]
    if missing:
        raise SignatureError("malformed_signature", f"missing field(s): {', '.join(missing)}")
    alg = sig["digest_alg"]
    if not isinstance(alg, str) or alg not in DIGEST_SIZE:
        raise SignatureError("unsupported_algorithm", f"digest {alg!r} (sm3, sha256)")
    return _Parsed(
        alg=alg,
        digest=_hex_digest(sig["document_digest"], alg),
        signature=_b64(sig["signature"]),
        certs=_certs(sig["certificates"]),
        signed_at=_time(sig["signed_at"]),
        name=sig.get("document_name") if isinstance(sig.get("document_name"), str) else None,
    )


def _hex_digest(value: Any, alg: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError) as exc:
        raise SignatureError("malformed_signature", "document_digest is not hex") from exc
    if len(raw) != DIGEST_SIZE[alg] or value != raw.hex():
        raise SignatureError("malformed_signature", f"document_digest is not a lowercase {alg}")
    return raw


def _b64(value: Any) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (TypeError, ValueError, binascii.Error) as exc:
        raise SignatureError("malformed_signature", "signature is not base64") from exc
    if not raw:
        raise SignatureError("malformed_signature", "empty signature")
    return raw


def _certs(value: Any) -> list[x509.Certificate]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SignatureError("malformed_signature", "certificates must be a list of PEM strings")
    try:
        return [c for v in value for c in keys.load_certificates(v.encode("ascii"))]
    except (keys.KeyError_, UnicodeError) as exc:
        raise SignatureError("malformed_signature", "a certificate is not PEM X.509") from exc


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise SignatureError("malformed_signature", "signed_at is not an ISO time") from exc
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def verify_detached(
    sigfile: dict[str, Any] | bytes | str,
    document: bytes | None = None,
    *,
    document_digest: bytes | None = None,
) -> VerifiedSignature:
    """Check a ``ggzy-sig/1`` signature against the document, or only its digest.

    With only ``document_digest`` (the server keeps documents by digest) ECDSA and RSA verify
    against the prehashed SHA-256; SM2 cannot — its signed value is SM3(Z ‖ M), not computable
    from SM3(M) — and raises ``document_required``.
    """
    p = _parse_sigfile(sigfile)
    pub = signer_key(p.certs[0])
    if keys.DIGEST_OF[pub.family] != p.alg:
        raise SignatureError(
            "unsupported_algorithm",
            f"{pub.family} key with digest {p.alg} (expected {keys.DIGEST_OF[pub.family]})",
        )
    if document is not None:
        refuse_statement_bytes(document)
        actual = keys.digest(p.alg, document)
        _same_digest(actual, p.digest)
        ok = pub.verify(p.signature, document)
    elif document_digest is not None:
        _same_digest(bytes(document_digest), p.digest)
        ok = verify_prehashed(pub, p.signature, p.digest)
    else:
        raise SignatureError("document_required", "give the document or its digest")
    if not ok:
        raise SignatureError("signature_invalid", "the signature does not verify")
    return VerifiedSignature(
        certificate=p.certs[0],
        digest=p.digest,
        digest_alg=p.alg,
        family=pub.family,
        signed_at=p.signed_at,
        chain=tuple(p.certs[1:]),
        document_name=p.name,
    )


def refuse_statement_bytes(document: bytes) -> None:
    """A document may not look like a statement: the signature over it would also be a valid
    login / binding / QR statement signature (the two uses must stay apart)."""
    if document.startswith(STATEMENT_PREFIX):
        raise SignatureError(
            "reserved_document", "the document begins like a ggzy statement; it cannot be signed"
        )


def _same_digest(actual: bytes, signed: bytes) -> None:
    if actual != signed:
        raise SignatureError("digest_mismatch", "the document differs from the one that was signed")


def verify_prehashed(pub: keys.PublicKey, signature: bytes, sha256: bytes) -> bool:
    """Verify an ECDSA/RSA signature given SHA-256(document) instead of the document."""
    if pub.family == keys.SM2:
        raise SignatureError(
            "document_required", "SM2 signatures can only be verified with the document itself"
        )
    pre = utils.Prehashed(hashes.SHA256())
    try:
        if pub.family == keys.ECDSA:
            pub.key.verify(signature, sha256, ec.ECDSA(pre))
        else:
            pub.key.verify(signature, sha256, padding.PKCS1v15(), pre)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- statements ---------------------------------------------------------------------------------


def statement_bytes(fields: dict[str, Any]) -> bytes:
    """``b"ggzy-statement/1\\n"`` + canonical JSON of ``fields`` — the bytes that get signed."""
    if not isinstance(fields, dict):
        raise SignatureError("malformed_statement", "statement fields must be a JSON object")
    try:
        return STATEMENT_PREFIX + canonical_json(fields)
    except (TypeError, ValueError) as exc:
        raise SignatureError("malformed_statement", f"fields are not plain JSON: {exc}") from exc


def sign_statement(keystore: keys.Keystore, fields: dict[str, Any]) -> bytes:
    """The raw signature (family scheme) over :func:`statement_bytes`."""
    return keystore.key.sign(statement_bytes(fields))


def verify_statement(
    public_key: keys.PublicKey | x509.Certificate, fields: dict[str, Any], signature: bytes
) -> bool:
    """True when ``signature`` is ``public_key``'s statement signature over ``fields``."""
    pub = public_key if isinstance(public_key, keys.PublicKey) else signer_key(public_key)
    return pub.verify(bytes(signature), statement_bytes(fields))


from ggzy_client.cms import cms_to_pem, sign_cms, verify_cms  # noqa: E402  (cms needs the above)

__all__ = [
    "FORMAT",
    "STATEMENT_PREFIX",
    "SignatureError",
    "VerifiedSignature",
    "canonical_json",
    "cms_to_pem",
    "dumps_sigfile",
    "loads_sigfile",
    "sign_cms",
    "sign_detached",
    "sign_statement",
    "statement_bytes",
    "verify_cms",
    "verify_detached",
    "verify_prehashed",
    "verify_statement",
]
