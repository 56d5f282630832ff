"""Document signatures (电子签名) and QR signing requests (扫码签名).

Signers sign on their own device — ``ggzy-client sign`` (detached ``ggzy-sig/1`` or CMS) or a
phone answering a signing request; the platform verifies the signature, the certificate against
the trust store and its binding to the signer, records it and puts it in the ledger.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from django.conf import settings
from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.errors import DomainError, ValidationFailed
from ggzy.ledger.services import append_event, record_refusal
from ggzy.trust import validation
from ggzy.trust.bindings import active_binding, audience, check_still_acting
from ggzy.trust.models import (
    CertificateBinding,
    DocumentSignature,
    SignatureFormat,
    SigningRequest,
)
from ggzy.trust.validation import CertificateRejected
from ggzy_client import signatures
from ggzy_client.signatures import SignatureError, VerifiedSignature

DIGEST_LENGTHS = {"sm3": 64, "sha256": 64}
# Refusals that mean "this is not a signature we can read" (a 422) rather than "this signature
# does not hold" (an answer: valid false, with the reason).
MALFORMED_SIGNATURE_CODES = frozenset(
    {
        "malformed_signature",
        "signature_required",
        "document_required",
        "bad_digest",
        "bad_certificate",
        "no_certificate",
    }
)


def _refused(exc: SignatureError) -> ValidationFailed:
    return ValidationFailed(str(exc), code=exc.code)


def check_digest(digest_alg: str, document_digest: str) -> str:
    value = document_digest.strip().lower()
    if digest_alg not in DIGEST_LENGTHS:
        raise ValidationFailed("摘要算法须为 sm3 或 sha256", code="unsupported_digest")
    if len(value) != DIGEST_LENGTHS[digest_alg] or any(c not in "0123456789abcdef" for c in value):
        raise ValidationFailed("文件摘要格式错误 (bad digest)", code="bad_digest")
    return value


def _signer_binding(actor: Any, cert: x509.Certificate) -> CertificateBinding:
    """The active binding of ``cert``; its holder must be ``actor`` (when given) and, for an
    entity certificate, still act for the entity (a member who left cannot sign for it)."""
    binding = active_binding(validation.fingerprint(cert))
    if binding is None or (actor is not None and binding.holder_id != actor.pk):
        raise ValidationFailed(
            "签名证书未绑定到签名人 (the certificate is not bound to the signer)",
            code="certificate_not_bound",
        )
    check_still_acting(binding)
    return binding


def record_signature(
    *,
    actor: User,
    document_name: str,
    document: bytes | None = None,
    document_digest: str | None = None,
    sigfile: dict[str, Any] | None = None,
    cms: bytes | None = None,
) -> DocumentSignature:
    """Verify and record the actor's signature over a document (or its digest)."""
    require(actor, "trust.sign")
    verified, _ = verify_signature(
        document=document, document_digest=document_digest, sigfile=sigfile, cms=cms
    )
    binding = _signer_binding(actor, verified.certificate)
    # the stored signature: the CMS blob, or the raw detached signature (already checked base64)
    raw = bytes(cms) if cms is not None else base64.b64decode(sigfile["signature"])  # type: ignore[index]
    return _store(
        binding=binding,
        document_name=document_name,
        verified=verified,
        fmt=SignatureFormat.CMS if cms is not None else SignatureFormat.DETACHED,
        signature=raw,
    )


def verify_signature(
    *,
    document: bytes | None = None,
    document_digest: str | None = None,
    sigfile: dict[str, Any] | None = None,
    cms: bytes | None = None,
) -> tuple[VerifiedSignature, validation.CertificateReport]:
    """Check a signature and its certificate against the trust store, recording nothing (the
    public verify service). Raises ``ValidationFailed`` / ``CertificateRejected`` with the code."""
    if (sigfile is None) == (cms is None):
        raise ValidationFailed("请提供一种签名 (give sigfile or cms)", code="signature_required")
    verified = _verify(document, document_digest, sigfile, cms)
    return verified, validation.validate(verified.certificate, purpose="sign")


def _verify(
    document: bytes | None,
    document_digest: str | None,
    sigfile: dict[str, Any] | None,
    cms: bytes | None,
) -> VerifiedSignature:
    try:
        if cms is not None:
            if document is None:
                raise SignatureError("document_required", "CMS verification needs the document")
            return signatures.verify_cms(cms, document)
        digest = bytes.fromhex(document_digest) if document_digest and document is None else None
        return signatures.verify_detached(sigfile or {}, document, document_digest=digest)
    except SignatureError as exc:
        raise _refused(exc) from None
    except ValueError:  # a digest that is not hex
        raise ValidationFailed("文件摘要格式错误 (bad digest)", code="bad_digest") from None


def _store(
    *,
    binding: CertificateBinding,
    document_name: str,
    verified: VerifiedSignature,
    fmt: str,
    signature: bytes,
    at: datetime | None = None,
) -> DocumentSignature:
    with transaction.atomic():
        row = DocumentSignature.objects.create(
            document_name=document_name[:255],
            digest_alg=verified.digest_alg,
            document_digest=verified.digest.hex(),
            format=fmt,
            signature=signature,
            binding=binding,
            signer=binding.holder,
            entity=binding.entity,
            claimed_signed_at=verified.signed_at,
            recorded_at=at or clock.now(),
        )
        append_event(
            actor=binding.holder,
            event_type="trust.document_signed",
            subject=f"signature:{row.pk}",
            payload={
                "digest_alg": row.digest_alg,
                "document_digest": row.document_digest,
                "fingerprint": binding.fingerprint,
                "format": fmt,
            },
        )
    return row


def signature_validity(sig: DocumentSignature) -> dict[str, Any]:
    """Was the certificate valid when the platform recorded the signature, and is it now?"""
    cert = x509.load_der_x509_certificate(bytes(sig.binding.der))
    out: dict[str, Any] = {}
    for label, at in (("at_signing", sig.recorded_at), ("now", None)):
        try:
            validation.validate(cert, purpose="sign", at=at)
            out[label] = {"valid": True, "code": None, "message": ""}
        except CertificateRejected as exc:
            out[label] = {"valid": False, "code": exc.code, "message": exc.message}
    return out


# --- QR signing requests ------------------------------------------------------------------------


def create_signing_request(
    *,
    actor: User,
    document_name: str,
    digest_alg: str,
    document_digest: str,
    ttl_seconds: int | None = None,
) -> SigningRequest:
    require(actor, "trust.sign")
    digest = check_digest(digest_alg, document_digest)
    ttl = ttl_seconds or settings.GGZY_SIGNING_REQUEST_SECONDS
    if not 30 <= ttl <= 3600:
        raise ValidationFailed("有效期须为 30–3600 秒", code="bad_ttl")
    now = clock.now()
    with transaction.atomic():
        request = SigningRequest.objects.create(
            public_id=secrets.token_hex(16),
            document_name=document_name[:255],
            digest_alg=digest_alg,
            document_digest=digest,
            nonce=secrets.token_hex(16),
            requested_by=actor,
            created_at=now,
            expires_at=(now + timedelta(seconds=ttl)).replace(microsecond=0),
        )
        append_event(
            actor=actor,
            event_type="trust.signing_requested",
            subject=f"sign-request:{request.public_id}",
            payload={"digest_alg": digest_alg, "document_digest": digest},
        )
    return request


def request_status(request: SigningRequest) -> str:
    """``signed``, ``expired`` or ``pending`` — derived from the stored signature and the clock."""
    if request.signature_id is not None:
        return "signed"
    return "expired" if request.expires_at <= clock.now() else "pending"


def request_statement(request: SigningRequest) -> dict[str, Any]:
    """What the signer's device signs (``ggzy_client.signatures.sign_statement``)."""
    return {
        "audience": audience(),
        "digest_alg": request.digest_alg,
        "document_digest": request.document_digest,
        "expires_at": request.expires_at.isoformat(),
        "nonce": request.nonce,
        "purpose": "sign-request",
        "request": request.public_id,
    }


def complete_signing_request(
    *, request: SigningRequest, certificate: x509.Certificate, signature: bytes
) -> DocumentSignature:
    """Accept the device's signature. Expired, replayed or mismatched ones are refused (and
    recorded in the ledger)."""
    try:
        return _complete(request, certificate, signature)
    except DomainError as exc:
        record_refusal(
            actor="anonymous",
            event_type="trust.signing_refused",
            subject=f"sign-request:{request.public_id}",
            reason=exc.code,
        )
        raise


def _complete(
    request: SigningRequest, certificate: x509.Certificate, signature: bytes
) -> DocumentSignature:
    with transaction.atomic():
        request = SigningRequest.objects.select_for_update().get(pk=request.pk)
        if request.signature_id is not None:
            raise ValidationFailed("该请求已签名 (already signed)", code="request_used")
        if request.expires_at <= clock.now():
            raise ValidationFailed("签名请求已过期 (request expired)", code="request_expired")
        validation.validate(certificate, purpose="sign")
        binding = _signer_binding(None, certificate)
        fields = request_statement(request)
        if not signatures.verify_statement(validation.public_key(certificate), fields, signature):
            raise ValidationFailed(
                "签名与请求不符 (signature does not match the request)", code="signature_invalid"
            )
        verified = VerifiedSignature(
            certificate=certificate,
            digest=bytes.fromhex(request.document_digest),
            digest_alg=request.digest_alg,
            family=binding.family,
            signed_at=None,
        )
        row = _store(
            binding=binding,
            document_name=request.document_name,
            verified=verified,
            fmt=SignatureFormat.STATEMENT,
            signature=signature,
        )
        request.signature = row
        request.save(update_fields=["signature"])
    return row
