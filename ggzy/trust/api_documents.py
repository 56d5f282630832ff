"""Trust API, documents: signatures, QR signing requests and sealed envelopes (the CA registry,
certificates and certificate login are in ``api.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from ggzy.api import PUBLIC
from ggzy.core.errors import ValidationFailed
from ggzy.core.schemas import ErrorOut
from ggzy.core.uploads import spool_body
from ggzy.trust import envelopes, selectors, signing, validation
from ggzy.trust.api import ERRORS, _b64
from ggzy.trust.bindings import active_binding
from ggzy.trust.models import DocumentSignature
from ggzy.trust.schemas import (
    EnvelopeOut,
    OpenIn,
    OpenOut,
    SignatureCheckOut,
    SignatureIn,
    SignatureOut,
    SignRequestAnswerIn,
    SignRequestIn,
    SignRequestOut,
)

router = Router(tags=["trust"])
UPLOAD_TYPES = ("application/zip", "application/octet-stream")


# --- signatures ---------------------------------------------------------------------------------


def _signature_out(sig: DocumentSignature) -> dict[str, Any]:
    event = selectors.ledger_event_for(f"signature:{sig.pk}", "trust.document_signed")
    return {
        "id": sig.pk,
        "document_name": sig.document_name,
        "digest_alg": sig.digest_alg,
        "document_digest": sig.document_digest,
        "format": sig.format,
        "signer": sig.signer.display_name or sig.signer.username,
        "entity": sig.entity.uscc if sig.entity else None,
        "certificate": sig.binding.subject,
        "authority": sig.binding.authority.code,
        "claimed_signed_at": sig.claimed_signed_at,
        "recorded_at": sig.recorded_at,
        "ledger_seq": event.seq if event else None,
        "validity": signing.signature_validity(sig),
    }


@router.post("/signatures", response={201: SignatureOut, **ERRORS})
def record_signature(request: HttpRequest, payload: SignatureIn) -> Any:
    """Record your signature over a document: a ``ggzy-sig/1`` object (``sigfile``) or a CMS
    SignedData (``cms``, base64 DER), with the document (base64) or, for ECDSA/RSA detached
    signatures, only its digest."""
    actor = request.auth  # type: ignore[attr-defined]
    sig = signing.record_signature(
        actor=actor,
        document_name=payload.document_name,
        document=_b64(payload.document, "document") if payload.document is not None else None,
        document_digest=payload.document_digest,
        sigfile=payload.sigfile,
        cms=_b64(payload.cms, "cms") if payload.cms is not None else None,
    )
    return Status(201, _signature_out(selectors.get_signature_for(actor, sig.pk)))


@router.post("/signatures/verify", response={200: SignatureCheckOut, 422: ErrorOut}, auth=PUBLIC)
def verify_signature(request: HttpRequest, payload: SignatureIn) -> Any:
    """Verify a signature (``sigfile`` or ``cms``) and its certificate against the trust store,
    without recording anything. Malformed input is a 422; a signature that does not hold is
    ``valid: false`` with the reason's code."""
    document = _b64(payload.document, "document") if payload.document is not None else None
    cms = _b64(payload.cms, "cms") if payload.cms is not None else None
    try:
        verified, report = signing.verify_signature(
            document=document,
            document_digest=payload.document_digest,
            sigfile=payload.sigfile,
            cms=cms,
        )
    except ValidationFailed as exc:
        if exc.code in signing.MALFORMED_SIGNATURE_CODES:
            raise
        return {"valid": False, "code": exc.code, "message": exc.message}
    binding = active_binding(report.fingerprint)
    holder = binding and (binding.entity.name if binding.entity else binding.holder.display_name)
    return {
        "valid": True,
        "code": None,
        "message": "",
        "digest_alg": verified.digest_alg,
        "document_digest": verified.digest.hex(),
        "signed_at": verified.signed_at,
        "certificate": report.as_dict(),
        "bound_to": holder or None,
    }


@router.get("/signatures/{int:signature_id}", response={200: SignatureOut, 404: ErrorOut})
def get_signature(request: HttpRequest, signature_id: int) -> Any:
    return _signature_out(selectors.get_signature_for(request.auth, signature_id))  # type: ignore[attr-defined]


# --- QR signing requests ------------------------------------------------------------------------


def request_out(request: HttpRequest | None, req: Any) -> dict[str, Any]:
    from django.urls import reverse

    path = reverse("api:trust_sign_request", kwargs={"request_id": req.public_id})
    return {
        "id": req.public_id,
        "url": request.build_absolute_uri(path) if request is not None else path,
        "document_name": req.document_name,
        "digest_alg": req.digest_alg,
        "document_digest": req.document_digest,
        "expires_at": req.expires_at,
        "status": signing.request_status(req),
        "statement": signing.request_statement(req),
        "signature_id": req.signature_id,
    }


@router.post("/sign-requests", response={201: SignRequestOut, **ERRORS})
def create_sign_request(request: HttpRequest, payload: SignRequestIn) -> Any:
    """Create a signing request to show as a QR code (扫码签名)."""
    req = signing.create_signing_request(
        actor=request.auth,  # type: ignore[attr-defined]
        document_name=payload.document_name,
        digest_alg=payload.digest_alg,
        document_digest=payload.document_digest,
        ttl_seconds=payload.ttl_seconds,
    )
    return Status(201, request_out(request, req))


@router.get(
    "/sign-requests/{request_id}",
    response={200: SignRequestOut, 404: ErrorOut},
    auth=PUBLIC,
    url_name="trust_sign_request",
)
def get_sign_request(request: HttpRequest, request_id: str) -> Any:
    """What the signer's device fetches from the QR code's URL."""
    return request_out(request, selectors.get_signing_request(request_id))


@router.post(
    "/sign-requests/{request_id}/signature",
    response={201: SignRequestOut, **ERRORS},
    auth=PUBLIC,
)
def answer_sign_request(request: HttpRequest, request_id: str, payload: SignRequestAnswerIn) -> Any:
    """The device posts its signature over the request's statement with its certificate."""
    req = selectors.get_signing_request(request_id)
    signing.complete_signing_request(
        request=req,
        certificate=validation.parse_certificate(payload.certificate),
        signature=_b64(payload.signature, "signature"),
    )
    return Status(201, request_out(request, selectors.get_signing_request(request_id)))


# --- sealed envelopes ---------------------------------------------------------------------------


def _envelope_out(env: Any) -> dict[str, Any]:
    event = selectors.ledger_event_for(f"envelope:{env.public_id}", "trust.envelope_received")
    return {
        "id": env.public_id,
        "envelope_id": env.envelope_id,
        "section": env.section,
        "entity": env.entity.uscc,
        "size": env.size,
        "file_sha256": env.file_sha256,
        "manifest_digest": env.manifest_digest,
        "received_at": env.received_at,
        "receipt_seq": event.seq if event else None,
        "opened_at": env.opened_at,
        "files": [
            {k: f.get(k) for k in ("name", "size", "plaintext_digest", "ciphertext_digest")}
            for f in env.manifest.get("files", [])
        ],
    }


def _spool(request: HttpRequest) -> Path:
    """Stream the envelope body to a temporary file, refusing more than the configured maximum."""
    return spool_body(
        request,
        accepted=UPLOAD_TYPES,
        limit=settings.GGZY_ENVELOPE_MAX_BYTES,
        directory=envelopes.envelope_dir(),
        what="加密投标文件 (envelope, application/zip)",
    )


@router.post("/envelopes", response={201: EnvelopeOut, **ERRORS})
def submit_envelope(request: HttpRequest) -> Any:
    """Upload a sealed envelope (the ``.ggzy-bid`` file as the raw body, ``application/zip``).
    The platform verifies format, signature, certificates, binding and digests — it cannot read
    the bid — and answers with the receipt (the ledger sequence number)."""
    upload = _spool(request)
    try:
        env = envelopes.receive_envelope(actor=request.auth, upload=upload)  # type: ignore[attr-defined]
    finally:
        upload.unlink(missing_ok=True)
    return Status(201, _envelope_out(env))


@router.get("/envelopes/{envelope_id}", response={200: EnvelopeOut, 404: ErrorOut})
def get_envelope(request: HttpRequest, envelope_id: str) -> Any:
    return _envelope_out(selectors.get_envelope_for(request.auth, envelope_id))  # type: ignore[attr-defined]


@router.post("/envelopes/{envelope_id}/open", response={200: OpenOut, **ERRORS})
def open_envelope(request: HttpRequest, envelope_id: str, payload: OpenIn) -> Any:
    """Hand over the content key (hex) the bidder unwrapped locally; the platform decrypts and
    checks every file against the digests committed at submission."""
    actor = request.auth  # type: ignore[attr-defined]
    env = selectors.get_envelope_for(actor, envelope_id)
    opened = envelopes.open_with_key(
        actor=actor, envelope=env, content_key=bytes.fromhex(payload.content_key)
    )
    return {
        "id": env.public_id,
        "opened_at": env.opened_at,
        "files": [
            {"name": f.name, "size": f.size, "plaintext_digest": f.plaintext_digest} for f in opened
        ],
    }
