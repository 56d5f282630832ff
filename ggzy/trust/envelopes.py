"""Sealed bid envelopes on the platform side: receive (verify without being able to read),
and open when the bidder hands over the content key (check the plaintext against the digests
committed at submission). The format is ``ggzy_client.envelope``'s — one implementation."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from ggzy.accounts.gate import require
from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.errors import Conflict, ValidationFailed
from ggzy.ledger.services import append_event, record_refusal
from ggzy.trust import validation
from ggzy.trust.bindings import active_binding, check_still_acting
from ggzy.trust.models import CertificateBinding, SealedEnvelope
from ggzy.trust.validation import CertificateRejected
from ggzy_client import envelope as envelope_format
from ggzy_client.envelope import EnvelopeError, OpenedFile

READ_CHUNK = 1 << 20


def envelope_dir() -> Path:
    path = Path(settings.GGZY_ENVELOPE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _refused(exc: EnvelopeError) -> ValidationFailed:
    return ValidationFailed(str(exc), code=exc.code)


@dataclass(frozen=True)
class VerifiedUpload:
    envelope: envelope_format.Envelope
    binding: CertificateBinding


def verify_upload(*, actor: User, upload: Path) -> VerifiedUpload:
    """Everything the platform can check of an envelope without any key: format, manifest
    signature, certificates, the signer's binding to an entity the actor acts for, the
    recipient certificate's subject, and every payload digest."""
    try:  # the cheap checks first: format and manifest signature, no payload read yet
        env = envelope_format.read_envelope(upload)
        envelope_format.check_signature(env)
    except EnvelopeError as exc:
        raise _refused(exc) from None
    signer = validation.validate(env.signer_cert, purpose="sign")
    binding = active_binding(signer.fingerprint)
    if binding is None or binding.entity is None:
        raise ValidationFailed(
            "签名证书未绑定到投标单位 (the signing certificate is not bound to an entity)",
            code="certificate_not_bound",
        )
    require(actor, "entity.act", binding.entity)
    check_still_acting(binding)
    recipient = validation.validate(env.recipient_cert, purpose="encrypt")
    if recipient.subject_identifier != signer.subject_identifier:
        raise CertificateRejected("subject_mismatch", detail={"certificate": "recipient"})
    try:  # only now, for a known bidder, hash every payload part against the manifest
        env = envelope_format.verify_envelope(upload)
    except EnvelopeError as exc:
        raise _refused(exc) from None
    return VerifiedUpload(env, binding)


def receive_envelope(*, actor: User, upload: Path) -> SealedEnvelope:
    """Verify an uploaded envelope (format, manifest signature, digests, certificates, binding)
    and keep it — ciphertext only. ``upload`` is a file the caller owns; it is moved on success.
    """
    require(actor, "trust.sign")
    verified = verify_upload(actor=actor, upload=upload)
    env, binding = verified.envelope, verified.binding
    if _is_tender_section(str(env.manifest.get("section", ""))):
        # a bid goes through bidding, where who bid stays sealed (R42) and the deadline holds
        raise Conflict(
            "投标文件请通过投标递交接口提交 (submit bids to the section: POST "
            "/api/v1/bidding/sections/{id}/bids)",
            code="use_bid_submission",
        )
    entity = binding.entity
    assert entity is not None  # verify_upload refuses certificates not bound to an entity
    public_id = secrets.token_hex(16)
    stored = envelope_dir() / f"{public_id}.ggzy-bid"
    size, sha256 = copy_file(upload, stored)
    try:
        with transaction.atomic():
            row = SealedEnvelope.objects.create(
                public_id=public_id,
                envelope_id=env.envelope_id,
                section=str(env.manifest["section"])[:64],
                entity=entity,
                submitted_by=actor,
                binding=binding,
                file_name=stored.name,
                size=size,
                file_sha256=sha256,
                manifest=env.manifest,
                manifest_digest=env.manifest_digest,
                received_at=clock.now(),
            )
            append_event(
                actor=actor,
                event_type="trust.envelope_received",
                subject=f"envelope:{public_id}",
                payload={
                    "envelope_id": env.envelope_id,
                    "section": row.section,
                    "entity": entity.uscc,
                    "manifest_digest": row.manifest_digest,
                    "file_sha256": sha256,
                    "size": size,
                },
            )
    except IntegrityError:
        stored.unlink(missing_ok=True)
        raise Conflict(
            "该投标文件已提交 (envelope already submitted)", code="envelope_duplicate"
        ) from None
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    upload.unlink(missing_ok=True)
    return row


def _is_tender_section(code: str) -> bool:
    from django.apps import apps

    return bool(code) and apps.get_model("tendering", "Section").objects.filter(code=code).exists()


def copy_file(source: Path, target: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(READ_CHUNK):
            h.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())  # on disk before the receipt's transaction commits
    return size, h.hexdigest()


def stored_path(envelope: SealedEnvelope) -> Path:
    return envelope_dir() / envelope.file_name


def opened_dir(envelope: SealedEnvelope) -> Path:
    return envelope_dir() / "opened" / envelope.public_id


def open_with_key(*, actor: User, envelope: SealedEnvelope, content_key: bytes) -> list[OpenedFile]:
    """Decrypt with the content key the bidder unwrapped on its own machine; every plaintext
    must match the digest committed at submission. A wrong key is refused and recorded."""
    require(actor, "trust.open_envelope", envelope)
    if envelope.opened_at is not None:
        raise Conflict("该投标文件已解密 (already opened)", code="already_opened")
    # Decrypt into this attempt's own directory; only the attempt that wins the row lock moves
    # it into place, so a concurrent hand-over never touches the other's plaintext.
    attempt = opened_dir(envelope).with_name(f".{envelope.public_id}-{secrets.token_hex(8)}")
    try:
        opened = envelope_format.open_envelope(stored_path(envelope), content_key, attempt)
    except EnvelopeError as exc:
        shutil.rmtree(attempt, ignore_errors=True)
        record_refusal(
            actor=actor,
            event_type="trust.envelope_open_refused",
            subject=f"envelope:{envelope.public_id}",
            reason=exc.code,
        )
        raise _refused(exc) from None
    try:
        with transaction.atomic():
            locked = SealedEnvelope.objects.select_for_update().get(pk=envelope.pk)
            if locked.opened_at is not None:
                raise Conflict("该投标文件已解密 (already opened)", code="already_opened")
            locked.opened_at = clock.now()
            locked.opened_by = actor
            locked.save(update_fields=["opened_at", "opened_by"])
            append_event(
                actor=actor,
                event_type="trust.envelope_opened",
                subject=f"envelope:{envelope.public_id}",
                payload={"files": [_opened_view(f) for f in opened]},
            )
            attempt.rename(opened_dir(envelope))
    except BaseException:
        shutil.rmtree(attempt, ignore_errors=True)
        raise
    envelope.opened_at, envelope.opened_by = locked.opened_at, actor
    final = opened_dir(envelope)
    return [replace(f, path=final / f.path.name if f.path else None) for f in opened]


def _opened_view(f: OpenedFile) -> dict[str, Any]:
    return {"name": f.name, "size": f.size, "plaintext_digest": f.plaintext_digest}
