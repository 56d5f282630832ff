"""Bid submission (投标文件递交): sealed envelopes in, signed receipts with a ledger inclusion
proof out (R38); withdraw and replace before the deadline.

**The deadline rule.** A bid counts if and only if its upload was complete — the platform had its
last byte — strictly before the section's deadline, by the platform clock; when the upload
started does not matter, nor how long the verification then takes. The check runs under the
section's row lock, which the opening also takes, and a bid is refused once the opening has
started; the opening waits ``GGZY_OPENING_SETTLE_SECONDS`` after the deadline for verifications
in flight, so an on-time upload is never lost to its own verification.

**Secrecy (R42).** The register row names neither section nor bidder (``bidding.register``);
the ledger event carries only digests; nothing a staff member, a database dump or the public
ledger shows before the deadline tells who bid on a section or how many did.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction

from ggzy.accounts.gate import require
from ggzy.bidding import register
from ggzy.bidding.models import Bid, Opening
from ggzy.bidding.states import BidStatus
from ggzy.core import clock
from ggzy.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from ggzy.ledger import signing
from ggzy.ledger.append import chain_pending, event_for_entry, ledger_mode
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.context import client_addr
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Entity, Membership
from ggzy.tendering.invitations import INVITED_TENDER, is_invited
from ggzy.tendering.models import Section
from ggzy.tendering.states import ProjectStatus
from ggzy.trust.envelopes import copy_file, envelope_dir, verify_upload

RECEIPT_VERSION = "ggzy-bid-receipt/1"


def identity(bid: Bid) -> dict[str, Any]:
    """The sealed identity of a bid: entity, user, binding and section. Only services that may
    know it (the owner's own views, withdrawal, the opening after the deadline) call this."""
    return register.unseal("bid", "bids", bid.sealed_identity)


def bid_path(bid: Bid) -> Path:
    return envelope_dir() / bid.storage_name


def _refuse(actor: Any, reason: str, subject: str, exc: DomainError) -> DomainError:
    """Mark a refusal a supervisor would want to see (late bid, wrong section …); it is recorded
    by :func:`_recording` after the refused change has rolled back. Refusals before the deadline
    name no section (that would tell the ledger's readers a section has bids)."""
    exc.refusal = (actor, reason, subject)  # type: ignore[attr-defined]
    return exc


@contextmanager
def _recording() -> Iterator[None]:
    try:
        yield
    except DomainError as exc:
        marked = getattr(exc, "refusal", None)
        if marked is not None:
            actor, reason, subject = marked
            if subject.startswith("section:"):  # after the deadline: who tried may be known
                record_refusal(
                    actor=actor, event_type="bidding.bid_refused", subject=subject, reason=reason
                )
            else:  # before it, the attempt must not tell who is bidding
                record_refusal(
                    actor=register.sealed_actor(actor, f"refusal:{secrets.token_hex(8)}"),
                    event_type="bidding.bid_refused",
                    subject=subject,
                    reason=reason,
                    sealed=register.seal(
                        "refusal",
                        "bids",
                        {"user": getattr(actor, "pk", None), "addr": client_addr()},
                    ),
                )
        raise


def _eligible(actor: Any, section: Section, entity: Entity) -> None:
    project = section.project
    problem, code = None, "not_eligible"
    if not entity.is_bidder:
        problem = "该主体未登记为投标人 (not a registered bidder)"
    elif entity.status != "active":
        problem = "该主体已暂停 (entity suspended)"
    elif entity.pk in {project.tenderer_id, project.agent_id}:
        problem = "招标人及其代理机构不得参与本项目投标 (the tenderer or its agent may not bid)"
    elif project.procedure_id == INVITED_TENDER and not is_invited(project, entity):
        problem = "邀请招标仅限受邀投标人 (invited tender: not invited)"
        code = "not_invited"
    if problem:
        raise _refuse(actor, code, "bidding:submission",
                      PermissionDenied(problem, code=code))  # fmt: skip


def _open_section(section_id: str) -> Section:
    section = (
        Section.objects.select_for_update()
        .select_related("project", "project__ruleset")
        .filter(public_id=section_id)
        .first()
    )
    if section is None or section.project.status != ProjectStatus.PUBLISHED:
        raise NotFound("标段不存在或未发布 (no such published section)", code="section_not_found")
    return section


def receipt_body(bid: Bid) -> dict[str, Any]:
    return {
        "version": RECEIPT_VERSION,
        "bid": bid.public_id,
        "envelope_id": bid.envelope_id,
        "manifest_digest": bid.manifest_digest,
        "file_sha256": bid.file_sha256,
        "size": bid.size,
        "received_at": bid.received_at.isoformat(),
        "ledger_entry": bid.receipt_entry,
    }


def submit_bid(
    *,
    actor: Any,
    section_id: str,
    upload: Path,
    replaces: Bid | None = None,
    received_at: datetime | None = None,
) -> Bid:
    """Verify and register a sealed bid for a section (or replace the bidder's active one).
    ``received_at``: when the interface had the whole upload (default: now, before the
    verification) — the moment the deadline is judged by."""
    require(actor, "bidding.submit")
    received = received_at or clock.now()
    with _recording():
        return _submit(actor, section_id, upload, replaces, received)


def _submit(
    actor: Any, section_id: str, upload: Path, replaces: Bid | None, received: datetime
) -> Bid:
    subject = "bidding:submission"
    # an unknown section is refused before any upload is read (no lock: it is re-read below)
    if not Section.objects.filter(
        public_id=section_id, project__status=ProjectStatus.PUBLISHED
    ).exists():
        raise NotFound("标段不存在或未发布 (no such published section)", code="section_not_found")
    try:
        verified = verify_upload(actor=actor, upload=upload)
    except DomainError as exc:
        raise _refuse(actor, exc.code, subject, exc) from None
    env, binding = verified.envelope, verified.binding
    entity = binding.entity
    assert entity is not None
    earlier = _replayed(env.envelope_id, entity.pk, upload)
    if earlier is not None:
        return earlier
    public_id = secrets.token_hex(16)
    stored = envelope_dir() / f"{public_id}.ggzy-bid"
    size, sha256 = copy_file(upload, stored)
    try:
        with transaction.atomic():
            section = _open_section(section_id)  # under the lock the opening also takes
            now = clock.now()
            if section.failed_at is not None or section.bid_deadline is None:
                raise Conflict("该标段不接受投标 (not accepting bids)", code="section_closed")
            opened = Opening.objects.filter(section=section).exists()
            if received >= section.bid_deadline or opened:
                raise _refuse(actor, "bid_late", f"section:{section_id}", Conflict(
                    "投标截止时间已过，投标文件被拒收（R38）(the bid deadline has passed)",
                    code="bid_late",
                    detail={"deadline": section.bid_deadline.isoformat(),
                            "received": received.isoformat(), "opening_started": opened},
                ))  # fmt: skip
            if str(env.manifest.get("section")) != section.code:
                raise _refuse(actor, "envelope_wrong_section", subject, ValidationFailed(
                    "投标文件加密封装的标段与所投标段不符 (the envelope is sealed for another "
                    "section)", code="envelope_wrong_section",
                    detail={"sealed_for": str(env.manifest.get("section"))[:64],
                            "section": section.code},
                ))  # fmt: skip
            _eligible(actor, section, entity)
            btag = register.bidder_tag(section.public_id, entity.pk)
            active = Bid.objects.select_for_update().filter(
                bidder_tag=btag, status=BidStatus.RECEIVED
            )
            current = active.first()
            if replaces is None and current is not None:
                raise _refuse(actor, "bid_exists", subject, Conflict(
                    "已有有效投标文件；请先撤回或选择替换 (an active bid exists: withdraw or "
                    "replace it)", code="bid_exists", detail={"bid": current.public_id},
                ))  # fmt: skip
            if replaces is not None:
                if current is None or current.pk != replaces.pk:
                    raise Conflict("被替换的投标文件无效 (nothing to replace)",
                                   code="bid_not_active")  # fmt: skip
                current.status, current.withdrawn_at = BidStatus.REPLACED, now
                current.save(update_fields=["status", "withdrawn_at"])
            entry = append_event(
                actor=register.sealed_actor(actor, f"bid:{public_id}"),
                addr="",  # kept in the sealed identity
                event_type="bidding.bid_received",
                subject=f"bid:{public_id}",
                payload={
                    "manifest_digest": env.manifest_digest,
                    "file_sha256": sha256,
                    "size": size,
                    "replaces": current.public_id if replaces is not None and current else None,
                },
            )
            bid = Bid(
                public_id=public_id,
                section_tag=register.section_tag(section.public_id),
                bidder_tag=btag,
                owner_tag=register.tag("owner", "bids", entity.pk),
                sealed_identity=register.seal(
                    "bid",
                    "bids",
                    {
                        "section": section.public_id,
                        "addr": client_addr(),
                        "entity": entity.pk,
                        "user": actor.pk,
                        "binding": binding.pk,
                    },
                ),
                envelope_id=env.envelope_id,
                storage_name=stored.name,
                size=size,
                file_sha256=sha256,
                manifest_digest=env.manifest_digest,
                received_at=received,
                replaces=current if replaces is not None else None,
                receipt_entry=entry,
                receipt_seq=entry if ledger_mode() != "deferred" else None,
            )
            bid.receipt_signature = signing.sign(canonical_json(receipt_body(bid)))
            bid.save()  # one write; a duplicate envelope id rolls the event back with it
    except IntegrityError:  # the same envelope stored a moment ago by a concurrent retry
        stored.unlink(missing_ok=True)
        earlier = _replayed(env.envelope_id, entity.pk, upload)
        if earlier is not None:
            return earlier
        raise Conflict("该投标文件已递交 (envelope already submitted)",
                       code="envelope_duplicate") from None  # fmt: skip
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    upload.unlink(missing_ok=True)
    return bid


def _replayed(envelope_id: str, entity_id: int, upload: Path) -> Bid | None:
    """The same envelope uploaded again by its bidder — a retry after a lost answer (a dropped
    connection, a server restart) — gets the receipt of the bid already stored, not a second
    bid nor an error; so every stored bid has a receipt its bidder can obtain. Any other reuse
    of an envelope id is ``envelope_duplicate``."""
    earlier = Bid.objects.filter(envelope_id=envelope_id).first()
    if earlier is None:
        return None
    same_owner = earlier.owner_tag == register.tag("owner", "bids", entity_id)
    if not same_owner or file_sha256(upload) != earlier.file_sha256:
        raise Conflict("该投标文件已递交 (envelope already submitted)", code="envelope_duplicate")
    earlier.replayed = True  # type: ignore[attr-defined]
    return earlier


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (stored envelopes, retried uploads)."""
    h = hashlib.sha256()
    with open(path, "rb") as fp:
        while chunk := fp.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def receipt_seq(bid: Bid) -> int | None:
    """The ledger sequence number of the bid's receipt event (chained now if still pending)."""
    if bid.receipt_seq is not None:
        return bid.receipt_seq
    if bid.receipt_entry is None:
        return None
    event = event_for_entry(bid.receipt_entry)
    if event is None:
        chain_pending(bid.receipt_entry)
        event = event_for_entry(bid.receipt_entry)
    if event is None:
        return None
    with transaction.atomic():
        if connection.vendor == "postgresql":  # a cache of what the ledger says: no fsync wait
            with connection.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit TO OFF")
        Bid.objects.filter(pk=bid.pk).update(receipt_seq=event.seq)
    bid.receipt_seq = event.seq
    return event.seq


def receipt(bid: Bid) -> dict[str, Any]:
    """The receipt (回执): the platform-signed body, and the inclusion proof of its ledger event
    under a signed tree head (R38)."""
    from ggzy.ledger.proofs import inclusion_proof

    seq = receipt_seq(bid)
    # under the latest signed head that holds the event (a new one is signed only if none does:
    # one head per wave of concurrent receipts, ggzy.ledger.services.sign_tree_head)
    proof = inclusion_proof(seq) if seq is not None else None
    return {
        "body": receipt_body(bid),
        "signature": bid.receipt_signature,
        "key_id": signing.key_id(),
        "ledger_seq": seq,
        "inclusion": proof,
    }


def verify_receipt(*, body: dict[str, Any], signature: str) -> Bid:
    """Check a receipt someone presents: the platform's signature, and that it names a bid that
    is still the bidder's active one. Forged → ``receipt_invalid``; superseded (withdrawn or
    replaced) → ``receipt_superseded``."""
    if not isinstance(body, dict) or not isinstance(signature, str) or len(signature) > 400:
        raise ValidationFailed("回执格式无效 (bad receipt)", code="receipt_invalid")
    try:
        message = canonical_json(body)
    except (TypeError, ValueError):
        raise ValidationFailed("回执格式无效 (bad receipt)", code="receipt_invalid") from None
    if not signing.verify(signing.public_key_pem(), message, signature):
        raise ValidationFailed("回执签名无效 (the receipt's signature does not verify)",
                               code="receipt_invalid")  # fmt: skip
    bid = Bid.objects.filter(public_id=str(body.get("bid", ""))[:32]).first()
    if bid is None or receipt_body(bid) != body:
        raise ValidationFailed(
            "回执与登记不符 (the receipt does not match)", code="receipt_invalid"
        )
    if bid.status in (BidStatus.WITHDRAWN, BidStatus.REPLACED):
        raise Conflict("该回执对应的投标文件已撤回或被替换 (superseded)",
                       code="receipt_superseded", detail={"status": bid.status})  # fmt: skip
    return bid


def owned_bid(actor: Any, bid_id: str) -> Bid:
    """A bid of one of the actor's entities. Anyone else gets 404: existence is secret."""
    bid = Bid.objects.filter(public_id=str(bid_id)[:32]).first()
    if bid is None or not getattr(actor, "is_authenticated", False):
        raise NotFound("投标文件不存在 (no such bid)", code="bid_not_found")
    entity_ids = Membership.objects.filter(user_id=actor.pk).values_list("entity_id", flat=True)
    owner_tags = {register.tag("owner", "bids", e) for e in entity_ids}
    if bid.owner_tag not in owner_tags:
        raise NotFound("投标文件不存在 (no such bid)", code="bid_not_found")
    return bid


def my_bids(actor: Any) -> list[Bid]:
    if not getattr(actor, "is_authenticated", False):
        return []
    entity_ids = Membership.objects.filter(user_id=actor.pk).values_list("entity_id", flat=True)
    tags = [register.tag("owner", "bids", e) for e in entity_ids]
    return list(Bid.objects.filter(owner_tag__in=tags).order_by("-received_at"))


def section_of(bid: Bid, candidates: list[Section]) -> Section | None:
    """Which of ``candidates`` a bid belongs to (by its keyed tag)."""
    for section in candidates:
        if register.section_tag(section.public_id) == bid.section_tag:
            return section
    return None


def withdraw_bid(*, actor: Any, bid: Bid) -> Bid:
    """The bidder withdraws its bid before the deadline (撤回); its deposit is refunded (R12).
    The caller has checked ownership (:func:`owned_bid`)."""
    require(actor, "bidding.submit")
    with _recording(), transaction.atomic():
        section = _open_section(identity(bid)["section"])
        locked = Bid.objects.select_for_update().get(pk=bid.pk)
        if locked.section_tag != register.section_tag(section.public_id):
            raise NotFound("投标文件不存在 (no such bid)", code="bid_not_found")
        if section.bid_deadline is None or clock.now() >= section.bid_deadline:
            raise _refuse(
                actor,
                "withdraw_late",
                f"bid:{bid.public_id}",
                Conflict(
                    "投标截止后不得撤回 (no withdrawal after the deadline)", code="withdraw_late"
                ),
            )
        if locked.status != BidStatus.RECEIVED:
            raise Conflict("该投标文件不是有效投标 (not an active bid)", code="bid_not_active")
        sealed = identity(locked)
        locked.status, locked.withdrawn_at = BidStatus.WITHDRAWN, clock.now()
        locked.save(update_fields=["status", "withdrawn_at"])
        append_event(
            actor=register.sealed_actor(actor, f"bid:{bid.public_id}"),
            addr="",
            event_type="bidding.bid_withdrawn",
            subject=f"bid:{bid.public_id}",
            payload={},
        )
        _refund_on_withdrawal(section, sealed["entity"])
    return locked


def _refund_on_withdrawal(section: Section, entity_id: int) -> None:
    from ggzy.bidding.models import Deposit

    deposit = Deposit.objects.filter(section=section, entity_id=entity_id).first()
    if deposit is None:
        return
    try:
        from ggzy.bidding.deposits import schedule_refund
    except ImportError:  # pragma: no cover - deposits module not installed
        return
    schedule_refund(deposit=deposit, trigger="withdrawn", at=clock.now())
