"""Trust reads, with the access check built in. Not found and forbidden look the same."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ggzy.accounts.gate import allowed
from ggzy.core import clock
from ggzy.core.errors import NotFound
from ggzy.ledger.models import Event
from ggzy.trust.models import (
    CertificateAuthority,
    CertificateBinding,
    DocumentSignature,
    SealedEnvelope,
    SigningRequest,
)


def authorities() -> QuerySet[CertificateAuthority]:
    """The trust store is public: anyone may see which CAs the platform recognizes."""
    return CertificateAuthority.objects.prefetch_related("certificates__crls").order_by("code")


def crl_state(authority: CertificateAuthority) -> dict[str, Any]:
    """The CA's latest imported CRL and whether it is overdue (past its next update: fetch or
    import a new one — ``ggzy ca crl-refresh``). Reads the prefetched rows of ``authorities()``."""
    crls = [crl for cert in authority.certificates.all() for crl in cert.crls.all()]
    latest = max(crls, key=lambda crl: crl.this_update, default=None)
    next_update = latest.next_update if latest else None
    return {
        "latest": latest,
        "this_update": latest.this_update if latest else None,
        "next_update": next_update,
        "overdue": next_update is not None and next_update < clock.now(),
    }


def get_authority(code: str) -> CertificateAuthority:
    authority = authorities().filter(code=code).first()
    if authority is None:
        raise NotFound("CA 不存在 (no such CA)", code="ca_not_found")
    return authority


def bindings_for(actor: Any) -> QuerySet[CertificateBinding]:
    return CertificateBinding.objects.select_related("authority", "entity").filter(
        holder_id=actor.pk
    )


def get_binding_for(actor: Any, binding_id: int) -> CertificateBinding:
    binding = (
        CertificateBinding.objects.select_related("authority", "entity")
        .filter(pk=binding_id)
        .first()
    )
    if binding is None or not allowed(actor, "trust.manage_binding", binding):
        raise NotFound("证书绑定不存在 (no such binding)", code="binding_not_found")
    return binding


def get_signature_for(actor: Any, signature_id: int) -> DocumentSignature:
    sig = (
        DocumentSignature.objects.select_related("binding__authority", "signer", "entity")
        .filter(pk=signature_id)
        .first()
    )
    if sig is None or not allowed(actor, "trust.view_signatures", sig):
        raise NotFound("签名不存在 (no such signature)", code="signature_not_found")
    return sig


def get_signing_request(public_id: str) -> SigningRequest:
    """Signing requests are read by their unguessable id (the QR code carries it)."""
    request = (
        SigningRequest.objects.select_related("signature__signer")
        .filter(public_id=public_id)
        .first()
    )
    if request is None:
        raise NotFound("签名请求不存在 (no such signing request)", code="sign_request_not_found")
    return request


def get_envelope_for(
    actor: Any, public_id: str, action: str = "trust.view_envelopes"
) -> SealedEnvelope:
    envelope = (
        SealedEnvelope.objects.select_related("entity", "binding")
        .filter(public_id=public_id)
        .first()
    )
    if envelope is None or not allowed(actor, action, envelope):
        raise NotFound("投标文件不存在 (no such envelope)", code="envelope_not_found")
    return envelope


def ledger_event_for(subject: str, event_type: str) -> Event | None:
    """The ledger event that recorded ``subject`` (its receipt)."""
    return Event.objects.filter(subject=subject, event_type=event_type).order_by("seq").first()
