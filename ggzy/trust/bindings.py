"""Binding certificates to people and entities, and certificate login (统一认证).

Both are challenge–response: the platform issues a one-time nonce, the holder signs a statement
naming it with the certificate's key (``ggzy_client.signatures.sign_statement``), the platform
checks the certificate against the trust store and the signature, then acts. A refused attempt
changes nothing; refused logins are recorded in the ledger.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from cryptography import x509
from django.conf import settings
from django.db import IntegrityError, transaction

from ggzy.accounts.gate import allowed, require
from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Entity
from ggzy.trust import validation
from ggzy.trust.models import BindingKind, CertificateBinding, LoginChallenge
from ggzy.trust.validation import CertificateRejected, CertificateReport
from ggzy_client import keys
from ggzy_client.signatures import verify_statement

PURPOSES = ("login", "bind")
CHALLENGE_KEEP = timedelta(hours=1)


def audience() -> str:
    """Names this platform in signed statements, so a statement cannot be replayed elsewhere."""
    return str(settings.GGZY_PLATFORM_ID)


def issue_challenge(*, purpose: str) -> LoginChallenge:
    if purpose not in PURPOSES:
        raise ValidationFailed("未知用途 (unknown purpose)", code="bad_purpose")
    now = clock.now()
    with transaction.atomic():
        # Spent and expired nonces are worth nothing (the ledger has the logins): keep the table small.
        LoginChallenge.objects.filter(expires_at__lt=now - CHALLENGE_KEEP).delete()
        return LoginChallenge.objects.create(
            nonce=secrets.token_hex(24),
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.GGZY_CHALLENGE_SECONDS),
        )


def statement_for(
    challenge: LoginChallenge, fingerprint: str | None = None, account: str | None = None
) -> dict[str, Any]:
    """The fields the holder signs for ``challenge``; when binding, also the certificate and the
    account it is bound to (so a captured bind statement cannot bind it to someone else)."""
    fields: dict[str, Any] = {
        "audience": audience(),
        "nonce": challenge.nonce,
        "purpose": challenge.purpose,
    }
    if challenge.purpose == "bind":
        fields["fingerprint"] = fingerprint
        fields["account"] = account
    return fields


def _take_challenge(nonce: str, purpose: str) -> LoginChallenge:
    """Lock the unused, unexpired challenge (the caller marks it used in the same transaction)."""
    challenge = (
        LoginChallenge.objects.select_for_update().filter(nonce=nonce, purpose=purpose).first()
    )
    if challenge is None:
        raise ValidationFailed("挑战码无效 (unknown challenge)", code="challenge_unknown")
    if challenge.used_at is not None:
        raise ValidationFailed("挑战码已使用 (challenge already used)", code="challenge_used")
    if challenge.expires_at <= clock.now():
        raise ValidationFailed("挑战码已过期 (challenge expired)", code="challenge_expired")
    return challenge


def _check_possession(
    cert: x509.Certificate,
    challenge: LoginChallenge,
    signature: bytes,
    fingerprint: str,
    account: str | None = None,
) -> None:
    fields = statement_for(challenge, fingerprint, account)
    if not verify_statement(validation.public_key(cert), fields, signature):
        raise ValidationFailed(
            "签名验证失败 (the signature does not verify with this certificate)",
            code="signature_invalid",
        )


# --- binding ------------------------------------------------------------------------------------


def bind_certificate(
    *,
    actor: User,
    certificate: x509.Certificate,
    nonce: str,
    signature: bytes,
    entity: Entity | None = None,
) -> CertificateBinding:
    """Bind a certificate to ``actor`` (a person certificate carrying the actor's ID number) or to
    an entity the actor acts for (an entity certificate carrying the entity's USCC)."""
    require(actor, "trust.bind")
    report = validation.validate(certificate, purpose="login")
    entity = _bound_entity(actor, report, entity)
    with transaction.atomic():
        challenge = _take_challenge(nonce, "bind")
        _check_possession(certificate, challenge, signature, report.fingerprint, actor.username)
        challenge.used_at = clock.now()
        challenge.save(update_fields=["used_at"])
        try:
            with transaction.atomic():
                binding = CertificateBinding.objects.create(
                    fingerprint=report.fingerprint,
                    der=keys.certificate_der(certificate),
                    authority=report.authority,
                    serial=report.serial,
                    subject=report.subject[:500],
                    subject_identifier=report.subject_identifier,
                    kind=report.kind,
                    family=report.family,
                    holder=actor,
                    entity=entity,
                    not_before=report.not_before,
                    not_after=report.not_after,
                    bound_at=clock.now(),
                )
        except IntegrityError:
            raise Conflict(
                "该证书已绑定 (certificate already bound)", code="certificate_already_bound"
            ) from None
        append_event(
            actor=actor,
            event_type="trust.certificate_bound",
            subject=f"binding:{binding.pk}",
            payload={
                "fingerprint": report.fingerprint,
                "authority": report.authority.code,
                "kind": report.kind,
                "entity": entity.uscc if entity else None,
            },
        )
    return binding


def _bound_entity(actor: User, report: CertificateReport, entity: Entity | None) -> Entity | None:
    if report.kind == BindingKind.ENTITY:
        if entity is None:
            entity = Entity.objects.filter(uscc=report.subject_identifier).first()
        if entity is None or entity.uscc != report.subject_identifier:
            raise CertificateRejected(
                "subject_mismatch",
                detail={"certificate": report.subject_identifier, "entity": entity and entity.uscc},
            )
        require(actor, "entity.act", entity)
        return entity
    if report.kind == BindingKind.PERSON and entity is None:
        if report.subject_identifier != actor.resident_id:
            raise CertificateRejected("subject_mismatch", detail={"holder": "resident_id"})
        return None
    raise CertificateRejected(
        "subject_mismatch",
        detail={"certificate": report.subject_identifier or None, "kind": report.kind or None},
    )


def unbind_certificate(*, actor: User, binding: CertificateBinding) -> CertificateBinding:
    require(actor, "trust.manage_binding", binding)
    with transaction.atomic():
        binding = CertificateBinding.objects.select_for_update().get(pk=binding.pk)
        if binding.unbound_at is None:
            binding.unbound_at = clock.now()
            binding.save(update_fields=["unbound_at"])
            append_event(
                actor=actor,
                event_type="trust.certificate_unbound",
                subject=f"binding:{binding.pk}",
                payload={"fingerprint": binding.fingerprint},
            )
    return binding


def active_binding(fingerprint: str) -> CertificateBinding | None:
    return (
        CertificateBinding.objects.select_related("holder", "entity", "authority")
        .filter(fingerprint=fingerprint, unbound_at__isnull=True)
        .first()
    )


def check_still_acting(binding: CertificateBinding) -> None:
    """An entity certificate speaks for the entity only while its holder still acts for it."""
    if binding.entity is not None and not allowed(binding.holder, "entity.act", binding.entity):
        raise ValidationFailed(
            "证书持有人已不代表该单位 (the holder no longer acts for the entity)",
            code="not_a_member",
        )


# --- certificate login --------------------------------------------------------------------------


def login_with_certificate(
    *, certificate: x509.Certificate, nonce: str, signature: bytes
) -> tuple[User, CertificateBinding]:
    """Sign in as the certificate's holder. Every refusal is in the ledger."""
    fp = validation.fingerprint(certificate)
    try:
        return _login(certificate, fp, nonce, signature)
    except (ValidationFailed, NotAuthenticated, NotFound) as exc:
        record_refusal(
            actor="anonymous",
            event_type="accounts.certificate_login_refused",
            subject=f"certificate:{fp}",
            reason=exc.code,
        )
        raise


def _login(
    certificate: x509.Certificate, fp: str, nonce: str, signature: bytes
) -> tuple[User, CertificateBinding]:
    validation.validate(certificate, purpose="login")
    binding = active_binding(fp)
    if binding is None or not binding.holder.is_active:
        raise NotAuthenticated(
            "该证书未绑定平台用户 (certificate not bound to a user)", code="certificate_not_bound"
        )
    with transaction.atomic():
        challenge = _take_challenge(nonce, "login")
        _check_possession(certificate, challenge, signature, fp)
        now = clock.now()
        challenge.used_at = now
        challenge.save(update_fields=["used_at"])
        User.objects.filter(pk=binding.holder_id).update(last_login=now)
        append_event(
            actor=binding.holder,
            event_type="accounts.certificate_login",
            subject=f"user:{binding.holder_id}",
            payload={"binding": binding.pk, "fingerprint": fp},
        )
    return binding.holder, binding
