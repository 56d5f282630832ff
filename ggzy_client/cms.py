"""CMS / PKCS#7 SignedData (RFC 5652): detached or embedded, DER or PEM.

RSA and ECDSA are signed with ``cryptography``'s ``PKCS7SignatureBuilder`` (what ``openssl cms
-sign -binary -md sha256`` makes). SM2 is opt-in (``allow_sm2``): OpenSSL 3.0 cannot make SM2
SignedData and checks SM2 ones with an empty distinguishing ID, so the platform's SM2 format is
``ggzy-sig/1``; the SM2 SignedData built here with ``asn1crypto`` (RFC 5652 shape, SM3 and
SM2-with-SM3 OIDs, ID ``1234567812345678``) is for tools that follow GM/T 0009. Verification is
family-neutral and done here with ``asn1crypto``: find the signer certificate among the
embedded ones, compare the ``messageDigest`` attribute with the content digest, verify the
signature over the DER ``SET OF`` signed attributes (or over the content when there are none).
Chain validation is the caller's business: the certificates are returned.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms as acms
from asn1crypto import core as acore
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from ggzy_client import keys
from ggzy_client.signatures import (
    SignatureError,
    VerifiedSignature,
    signer_certificate,
    signer_key,
)

SM3_OID = "1.2.156.10197.1.401"
SM2_SIG_OID = "1.2.156.10197.1.501"  # SM2-with-SM3
DIGEST_OIDS = {"2.16.840.1.101.3.4.2.1": "sha256", SM3_OID: "sm3"}
SIGNATURE_OIDS = {
    "1.2.840.113549.1.1.1": keys.RSA,  # rsaEncryption (what OpenSSL and cryptography write)
    "1.2.840.113549.1.1.11": keys.RSA,  # sha256WithRSAEncryption
    "1.2.840.10045.2.1": keys.ECDSA,  # id-ecPublicKey
    "1.2.840.10045.4.3.2": keys.ECDSA,  # ecdsa-with-SHA256
    SM2_SIG_OID: keys.SM2,
    "1.2.156.10197.1.301.1": keys.SM2,  # sm2sign (GM/T 0006)
    "1.2.156.10197.1.301": keys.SM2,  # the SM2 curve OID, as some tools write it
}
_PEM = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END \1-----", re.S)
_PEM_LABELS = (b"CMS", b"PKCS7", b"PKCS #7 SIGNED DATA")


# --- signing ------------------------------------------------------------------------------------


def sign_cms(
    data: bytes, keystore: keys.Keystore, *, detached: bool = True, allow_sm2: bool = False
) -> bytes:
    """DER SignedData over ``data`` with the signer certificate and chain embedded.

    RSA and ECDSA only by default: OpenSSL 3.0's ``cms`` cannot sign with SM2 and verifies SM2
    only with an empty distinguishing ID, so SM2 signers use ``ggzy-sig/1``. ``allow_sm2`` makes
    the GB/T 35275-style SM2 SignedData (ID ``1234567812345678``) that :func:`verify_cms` checks.
    """
    cert = signer_certificate(keystore)
    if keystore.key.family == keys.SM2:
        if not allow_sm2:
            raise SignatureError(
                "unsupported_algorithm",
                "SM2 CMS is not supported by OpenSSL 3.0's cms; SM2 uses detached ggzy-sig/1",
            )
        return _sign_sm2(bytes(data), keystore, cert, detached=detached)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(bytes(data))
    builder = builder.add_signer(cert, keystore.key.key, hashes.SHA256())
    for extra in keystore.chain:
        builder = builder.add_certificate(extra)
    options = [pkcs7.PKCS7Options.Binary]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    return bytes(builder.sign(serialization.Encoding.DER, options))


def _sign_sm2(
    data: bytes, keystore: keys.Keystore, cert: x509.Certificate, *, detached: bool
) -> bytes:
    attrs = _signed_attrs(keys.digest("sm3", data))
    signature = keystore.key.sign(attrs.dump())  # a SET OF: tag 0x31, sorted (DER)
    acert = ax509.Certificate.load(keys.certificate_der(cert))
    signer = acms.SignerInfo(
        {
            "version": "v1",
            "sid": acms.SignerIdentifier(
                "issuer_and_serial_number",
                acms.IssuerAndSerialNumber(
                    {"issuer": acert.issuer, "serial_number": acert.serial_number}
                ),
            ),
            "digest_algorithm": {"algorithm": SM3_OID},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": SM2_SIG_OID},
            "signature": signature,
        }
    )
    encap: dict[str, Any] = {"content_type": "data"}
    if not detached:
        encap["content"] = data
    chain = [acert, *(ax509.Certificate.load(keys.certificate_der(c)) for c in keystore.chain)]
    signed = acms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": SM3_OID}],
            "encap_content_info": encap,
            "certificates": chain,
            "signer_infos": [signer],
        }
    )
    return bytes(acms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


def _signed_attrs(message_digest: bytes) -> acms.CMSAttributes:
    now = datetime.now(UTC).replace(microsecond=0)
    return acms.CMSAttributes(
        [
            {"type": "content_type", "values": ["data"]},
            {"type": "signing_time", "values": [acms.Time({"utc_time": now})]},
            {"type": "message_digest", "values": [message_digest]},
        ]
    )


def cms_to_pem(der: bytes) -> bytes:
    """PEM with the ``CMS`` label, as ``openssl cms -outform PEM`` writes it."""
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN CMS-----\n" + lines + b"\n-----END CMS-----\n"


# --- verification -------------------------------------------------------------------------------


def verify_cms(der_or_pem: bytes, content: bytes | None = None) -> VerifiedSignature:
    """Verify SignedData (DER or PEM); ``content`` is required when the signature is detached.

    Every SignerInfo must verify; the first one's signer is returned.
    """
    signed = _load(_der(bytes(der_or_pem)))
    data = _content(signed, content)
    certs = _certificates(signed)
    infos = list(signed["signer_infos"])
    if not infos:
        raise SignatureError("signer_not_found", "the SignedData has no signer")
    ctype = signed["encap_content_info"]["content_type"].native
    results = [_verify_signer(si, data, certs, ctype) for si in infos]
    first = results[0]
    chain = tuple(c for _, c in certs if c is not first.certificate)
    return VerifiedSignature(
        certificate=first.certificate,
        digest=first.digest,
        digest_alg=first.digest_alg,
        family=first.family,
        signed_at=first.signed_at,
        chain=chain,
    )


def _der(blob: bytes) -> bytes:
    if b"-----BEGIN" not in blob[:200]:
        return blob
    m = _PEM.search(blob)
    if m is None or m.group(1) not in _PEM_LABELS:
        raise SignatureError("malformed_signature", "no CMS/PKCS7 PEM block")
    try:
        return base64.b64decode(b"".join(m.group(2).split()), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise SignatureError("malformed_signature", "the PEM block is not base64") from exc


def _load(der: bytes) -> acms.SignedData:
    try:
        info = acms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            raise SignatureError("malformed_signature", "not a CMS SignedData")
        signed = info["content"]
        signed.native  # noqa: B018  (asn1crypto parses lazily: force it here)
    except SignatureError:
        raise
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, …
        raise SignatureError("malformed_signature", "not a DER/PEM CMS SignedData") from exc
    return signed


def _content(signed: acms.SignedData, content: bytes | None) -> bytes:
    encap = signed["encap_content_info"]
    embedded = encap["content"]
    inner = None if isinstance(embedded, acore.Void) else _octets(embedded)
    if inner is not None and content is not None and inner != bytes(content):
        raise SignatureError("digest_mismatch", "the embedded content differs from the document")
    data = inner if inner is not None else content
    if data is None:
        raise SignatureError("document_required", "detached signature: give the content")
    return bytes(data)


def _octets(value: Any) -> bytes:
    if isinstance(value, acore.OctetString):  # id-data (also BER constructed strings)
        return bytes(value.native or b"")
    return bytes(value)  # ParsableOctetString: another eContentType, its raw octets


def _certificates(signed: acms.SignedData) -> list[tuple[ax509.Certificate, x509.Certificate]]:
    out = []
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        try:
            der = choice.chosen.dump()
            out.append((choice.chosen, x509.load_der_x509_certificate(der)))
        except ValueError as exc:
            raise SignatureError("malformed_signature", "an embedded certificate is bad") from exc
    return out


def _find_signer(
    sid: acms.SignerIdentifier, certs: list[tuple[ax509.Certificate, x509.Certificate]]
) -> x509.Certificate:
    for acert, cert in certs:
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if acert.serial_number == ias["serial_number"].native and acert.issuer == ias["issuer"]:
                return cert
        elif sid.name == "subject_key_identifier" and acert.key_identifier == sid.chosen.native:
            return cert
    raise SignatureError("signer_not_found", "no embedded certificate matches the signer")


def _verify_signer(
    si: acms.SignerInfo,
    data: bytes,
    certs: list[tuple[ax509.Certificate, x509.Certificate]],
    content_type: str,
) -> VerifiedSignature:
    cert = _find_signer(si["sid"], certs)
    pub = signer_key(cert)
    alg = _digest_alg(si, pub.family)
    actual = keys.digest(alg, data)
    attrs = si["signed_attrs"]
    signed_at = None
    if isinstance(attrs, acore.Void) or len(attrs) == 0:
        message = data
    else:
        values = _attributes(attrs)
        if values["content_type"] != content_type:
            raise SignatureError("malformed_signature", "contentType attribute ≠ eContentType")
        if values.get("message_digest") != actual:
            raise SignatureError("digest_mismatch", "the content differs from the signed digest")
        signed_at = values.get("signing_time")
        message = b"\x31" + attrs.dump()[1:]  # [0] IMPLICIT → the SET OF that was signed
    if not pub.verify(bytes(si["signature"].native), message):
        raise SignatureError("signature_invalid", "the CMS signature does not verify")
    return VerifiedSignature(
        certificate=cert, digest=actual, digest_alg=alg, family=pub.family, signed_at=signed_at
    )


def _digest_alg(si: acms.SignerInfo, family: str) -> str:
    digest_oid = si["digest_algorithm"]["algorithm"].dotted
    sig_oid = si["signature_algorithm"]["algorithm"].dotted
    alg = DIGEST_OIDS.get(digest_oid)
    if alg is None or alg != keys.DIGEST_OF[family] or SIGNATURE_OIDS.get(sig_oid) != family:
        raise SignatureError(
            "unsupported_algorithm",
            f"digest {digest_oid} / signature {sig_oid} with a {family} key "
            "(supported: SM3+SM2, SHA-256+ECDSA, SHA-256+RSA PKCS#1 v1.5)",
        )
    return alg


def _attributes(attrs: acms.CMSAttributes) -> dict[str, Any]:
    """contentType and messageDigest exactly once with one value each (RFC 5652 §5.3),
    signingTime at most once."""
    values: dict[str, Any] = {}
    for attr in attrs:
        name = attr["type"].native
        if name in ("content_type", "message_digest", "signing_time"):
            if name in values or len(attr["values"]) != 1:
                raise SignatureError("malformed_signature", f"{name} must appear once, one value")
            values[name] = attr["values"][0].native
    if not isinstance(values.get("message_digest"), bytes) or "content_type" not in values:
        raise SignatureError(
            "malformed_signature", "signed attributes need contentType and messageDigest"
        )
    t = values.get("signing_time")
    if isinstance(t, datetime) and t.tzinfo is None:
        values["signing_time"] = t.replace(tzinfo=UTC)
    return values
