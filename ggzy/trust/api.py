"""Trust API: the CA registry, certificate verification and binding, certificate login.
Signatures, QR signing requests and envelopes are in ``api_documents.py``."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.contrib.auth import login
from django.http import HttpRequest
from ninja import Router, Status

from ggzy.accounts.api import MeOut, _me
from ggzy.accounts.services import issue_token
from ggzy.api import PUBLIC
from ggzy.core.errors import ValidationFailed
from ggzy.core.schemas import ErrorOut
from ggzy.registry.selectors import get_entity
from ggzy.trust import bindings, selectors, services, validation
from ggzy.trust.models import CertificateAuthority, CertificateBinding
from ggzy.trust.schemas import (
    AuthorityIn,
    AuthorityOut,
    AuthorityStatusIn,
    BindIn,
    BindingOut,
    CertificatesIn,
    CertLoginIn,
    ChallengeIn,
    ChallengeOut,
    CrlIn,
    CrlOut,
    VerifyIn,
    VerifyOut,
)
from ggzy.trust.validation import CertificateRejected

router = Router(tags=["trust"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 413, 415, 422)}


def _b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            f"{field} 须为 base64 (not base64)", code="bad_base64", detail={"field": field}
        ) from None


def _blob(value: str) -> bytes:
    """PEM text as it is, anything else as base64 of DER."""
    return value.encode() if "-----BEGIN" in value else _b64(value, "certificate")


def _authority_out(a: CertificateAuthority) -> dict[str, Any]:
    crl = selectors.crl_state(a)
    return {
        "code": a.code,
        "name": a.name,
        "status": a.status,
        "subject_id_attribute": a.subject_id_attribute,
        "crl_url": a.crl_url,
        "onboarded_at": a.onboarded_at,
        "status_changed_at": a.status_changed_at,
        "crl_this_update": crl["this_update"],
        "crl_next_update": crl["next_update"],
        "crl_overdue": crl["overdue"],
        "certificates": [
            {
                "fingerprint": c.fingerprint,
                "subject": c.subject,
                "issuer": c.issuer,
                "family": c.family,
                "is_root": c.is_root,
                "not_before": c.not_before,
                "not_after": c.not_after,
            }
            for c in a.certificates.all()
        ],
    }


# --- CA registry --------------------------------------------------------------------------------


@router.get("/cas", response=list[AuthorityOut], auth=PUBLIC)
def list_cas(request: HttpRequest) -> list[dict[str, Any]]:
    """The CAs this platform recognizes (一证通用): public."""
    return [_authority_out(a) for a in selectors.authorities()]


@router.post("/cas", response={201: AuthorityOut, **ERRORS})
def onboard_ca(request: HttpRequest, payload: AuthorityIn) -> Any:
    """Onboard a CA with its root and intermediate certificates (PEM text or base64 DER)."""
    authority = services.onboard_ca(
        actor=request.auth,  # type: ignore[attr-defined]
        code=payload.code,
        name=payload.name,
        certificates=[_blob(c) for c in payload.certificates],
        subject_id_attribute=payload.subject_id_attribute,
        crl_url=payload.crl_url,
    )
    return Status(201, _authority_out(selectors.get_authority(authority.code)))


@router.get("/cas/{code}", response={200: AuthorityOut, 404: ErrorOut}, auth=PUBLIC)
def get_ca(request: HttpRequest, code: str) -> Any:
    return _authority_out(selectors.get_authority(code))


@router.post("/cas/{code}/certificates", response={201: AuthorityOut, **ERRORS})
def add_ca_certificates(request: HttpRequest, code: str, payload: CertificatesIn) -> Any:
    services.add_ca_certificates(
        actor=request.auth,  # type: ignore[attr-defined]
        authority=selectors.get_authority(code),
        certificates=[_blob(c) for c in payload.certificates],
    )
    return Status(201, _authority_out(selectors.get_authority(code)))


@router.post("/cas/{code}/status", response={200: AuthorityOut, **ERRORS})
def set_ca_status(request: HttpRequest, code: str, payload: AuthorityStatusIn) -> Any:
    """Suspend, reinstate or retire a CA: its certificates stop (or resume) working at once."""
    services.set_ca_status(
        actor=request.auth,  # type: ignore[attr-defined]
        authority=selectors.get_authority(code),
        status=payload.status,
        reason=payload.reason,
    )
    return _authority_out(selectors.get_authority(code))


def _crl_out(row: Any) -> dict[str, Any]:
    return {
        "fingerprint": row.fingerprint,
        "this_update": row.this_update,
        "next_update": row.next_update,
        "entries": row.entries,
        "source": row.source,
    }


@router.post("/cas/{code}/crls", response={201: CrlOut, **ERRORS})
def import_crl(request: HttpRequest, code: str, payload: CrlIn) -> Any:
    """Import a CRL (PEM text or base64 DER)."""
    data = payload.crl.encode() if "-----BEGIN" in payload.crl else _b64(payload.crl, "crl")
    row = services.import_crl(
        actor=request.auth,  # type: ignore[attr-defined]
        data=data,
        authority=selectors.get_authority(code),
    )
    return Status(201, _crl_out(row))


@router.post("/cas/{code}/crls/fetch", response={201: CrlOut, **ERRORS})
def fetch_crl(request: HttpRequest, code: str) -> Any:
    """Download the CA's CRL from its configured address and import it."""
    row = services.fetch_crl(
        actor=request.auth,  # type: ignore[attr-defined]
        authority=selectors.get_authority(code),
    )
    return Status(201, _crl_out(row))


# --- certificates -------------------------------------------------------------------------------


@router.post("/certificates/verify", response={200: VerifyOut, 422: ErrorOut}, auth=PUBLIC)
def verify_certificate(request: HttpRequest, payload: VerifyIn) -> Any:
    """Check a certificate against the trust store; a rejection names its reason."""
    cert = validation.parse_certificate(payload.certificate)
    try:
        report = validation.validate(cert, purpose=payload.purpose, at=payload.at)
    except CertificateRejected as exc:
        if exc.code in ("bad_certificate",):
            raise
        return {"valid": False, "code": exc.code, "message": exc.message, "certificate": None}
    return {"valid": True, "code": None, "message": "", "certificate": report.as_dict()}


@router.post("/challenges", response={201: ChallengeOut, 422: ErrorOut}, auth=PUBLIC)
def challenge(request: HttpRequest, payload: ChallengeIn) -> Any:
    """A one-time nonce to sign for certificate login or binding (valid 5 minutes)."""
    ch = bindings.issue_challenge(purpose=payload.purpose)
    placeholders = ("<certificate fingerprint>", "<your username>")
    statement = bindings.statement_for(ch, *(placeholders if ch.purpose == "bind" else ()))
    return Status(
        201,
        {
            "nonce": ch.nonce,
            "purpose": ch.purpose,
            "expires_at": ch.expires_at,
            "statement": statement,
        },
    )


def _binding_out(b: CertificateBinding) -> dict[str, Any]:
    return {
        "id": b.pk,
        "fingerprint": b.fingerprint,
        "authority": b.authority.code,
        "subject": b.subject,
        "subject_identifier": b.subject_identifier,
        "kind": b.kind,
        "family": b.family,
        "entity": b.entity.uscc if b.entity else None,
        "not_before": b.not_before,
        "not_after": b.not_after,
        "bound_at": b.bound_at,
        "unbound_at": b.unbound_at,
    }


@router.get("/bindings", response=list[BindingOut])
def my_bindings(request: HttpRequest) -> list[dict[str, Any]]:
    return [_binding_out(b) for b in selectors.bindings_for(request.auth)]  # type: ignore[attr-defined]


@router.post("/bindings", response={201: BindingOut, **ERRORS})
def bind(request: HttpRequest, payload: BindIn) -> Any:
    """Bind a certificate to yourself (person certificate) or to an entity you act for; the
    signature over the ``bind`` challenge statement proves you hold the key."""
    actor = request.auth  # type: ignore[attr-defined]
    entity = get_entity(actor=actor, uscc=payload.entity) if payload.entity else None
    binding = bindings.bind_certificate(
        actor=actor,
        certificate=validation.parse_certificate(payload.certificate),
        nonce=payload.nonce,
        signature=_b64(payload.signature, "signature"),
        entity=entity,
    )
    return Status(201, _binding_out(binding))


@router.delete("/bindings/{int:binding_id}", response={200: BindingOut, **ERRORS})
def unbind(request: HttpRequest, binding_id: int) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    binding = bindings.unbind_certificate(
        actor=actor, binding=selectors.get_binding_for(actor, binding_id)
    )
    return _binding_out(binding)


class CertLoginOut(MeOut):
    token: str | None = None


@router.post("/login", response={200: CertLoginOut, 401: ErrorOut, 422: ErrorOut}, auth=PUBLIC)
def certificate_login(request: HttpRequest, payload: CertLoginIn) -> Any:
    """Certificate login (统一认证): sign the ``login`` challenge statement with the certificate's
    key. ``mode=session`` signs the browser in; ``mode=token`` returns a one-day API token."""
    user, _ = bindings.login_with_certificate(
        certificate=validation.parse_certificate(payload.certificate),
        nonce=payload.nonce,
        signature=_b64(payload.signature, "signature"),
    )
    out: dict[str, Any] = _me(user)
    if payload.mode == "session":
        login(request, user, backend="ggzy.accounts.backends.LockoutAwareBackend")
        out["token"] = None
    else:
        _, out["token"] = issue_token(actor=user, name="certificate login", days=1)
    return out
