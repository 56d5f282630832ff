"""Electronic opening (开标): at the deadline the bid register is unsealed for the section; with
fewer than 3 bids there is no opening and the section is marked for re-tender (R15); otherwise
bidders hand over their content keys within the window, the platform decrypts and checks every
file against the digests committed at submission, and a decryption failure is classed by R39 —
the bidder's fault (no key in time, a wrong key, a plaintext that does not match its own
manifest) is treated as revocation (撤销); the platform's fault (the stored envelope damaged)
as withdrawal (撤回) — and opening continues for the rest. The record is signed by the platform
(the ledger's key) and published."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from ggzy.accounts.gate import allowed, require
from ggzy.bidding import register
from ggzy.bidding.bids import bid_path, file_sha256, identity
from ggzy.bidding.models import Bid, Deposit, Opening, OpeningObjection
from ggzy.bidding.states import BidStatus, OpeningStatus
from ggzy.core import clock
from ggzy.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from ggzy.core.money import yuan
from ggzy.ledger import signing
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Entity, Membership
from ggzy.tendering.models import Section
from ggzy.tendering.states import ObjectionStatus
from ggzy.trust.envelopes import envelope_dir
from ggzy_client import envelope as envelope_format
from ggzy_client.envelope import EnvelopeError

BID_FORM = "bid.json"  # 开标一览表: {"price": "…", "duration_days": N, …}
RECORD_VERSION = "ggzy-opening-record/1"
BIDDER_FAULTS = frozenset({"no_key", "wrong_key", "digest_mismatch", "bad_key"})


def _subject(section: Section) -> str:
    return f"project:{section.project.public_id}"


def opened_dir(bid: Bid) -> Path:
    return envelope_dir() / "opened" / bid.public_id


def _refusal(actor: Any, section: Section, reason: str, exc: DomainError) -> DomainError:
    record_refusal(actor=actor, event_type="bidding.opening_refused",
                   subject=f"section:{section.public_id}", reason=reason)  # fmt: skip
    return exc


def start_opening(*, actor: Any, section: Section) -> Opening:
    """Center operations start the opening at or after the deadline."""
    require(actor, "bidding.open")
    now = clock.now()
    if section.bid_deadline is None or now < section.bid_deadline:
        raise _refusal(actor, section, "opening_before_deadline", Conflict(
            "投标截止前不得开标或解密（R38）(no opening before the deadline)",
            code="opening_before_deadline",
            detail={"deadline": section.bid_deadline.isoformat() if section.bid_deadline else None},
        ))  # fmt: skip
    settle = timedelta(seconds=settings.GGZY_OPENING_SETTLE_SECONDS)
    if now < section.bid_deadline + settle:  # uploads completed in time may still be verifying
        raise _refusal(actor, section, "opening_settling", Conflict(
            f"投标截止后{settle.seconds}秒内不开标，以完成在途投标文件的验证 (the opening waits "
            f"{settle.seconds} s after the deadline for bids still being verified)",
            code="opening_settling",
            detail={"earliest": (section.bid_deadline + settle).isoformat()},
        ))  # fmt: skip
    if section.project.objections.filter(status=ObjectionStatus.OPEN).exists():
        raise _refusal(actor, section, "procedure_suspended", Conflict(
            "异议答复前招标投标活动暂停（R9）(suspended until the objection is answered)",
            code="procedure_suspended"))  # fmt: skip
    with transaction.atomic():
        locked = (
            Section.objects.select_for_update()
            .select_related("project__ruleset")
            .get(pk=section.pk)
        )
        if Opening.objects.filter(section=locked).exists():
            raise Conflict("该标段已开标 (already opened)", code="opening_exists")
        if locked.bid_deadline is None or now < locked.bid_deadline:  # moved by a clarification
            raise Conflict(
                "投标截止时间已延后 (the deadline moved)", code="opening_before_deadline"
            )
        rules = locked.project.ruleset.rules
        bids = list(
            Bid.objects.select_for_update().filter(
                section_tag=register.section_tag(locked.public_id), status=BidStatus.RECEIVED
            )
        )
        for bid in bids:  # unseal the register for this section, now that it may be known
            sealed = identity(bid)
            if sealed.get("section") != locked.public_id:  # pragma: no cover - tags agree
                continue
            bid.section, bid.entity_id = locked, sealed["entity"]
            bid.save(update_fields=["section", "entity"])
        minimum = int(rules.get("min_bids_to_open", 3))
        if len(bids) < minimum:
            return _fail(actor, locked, bids, minimum, now)
        window = timedelta(minutes=int(rules.get("decryption_window_minutes", 30)))
        opening = Opening.objects.create(
            section=locked, status=OpeningStatus.DECRYPTING, started_at=now, started_by=actor,
            window_ends_at=now + window, bid_count=len(bids),
        )  # fmt: skip
        append_event(actor=actor, event_type="bidding.opening_started", subject=_subject(locked),
                     payload={"section": locked.code, "bids": len(bids),
                              "window_ends_at": (now + window).isoformat(),
                              "bidders": sorted(str(b.entity) for b in bids)})  # fmt: skip
    return opening


def _fail(actor: Any, section: Section, bids: list[Bid], minimum: int, now: Any) -> Opening:
    reason = f"递交投标文件的投标人少于{minimum}个，不予开标，依法重新招标（R15）"
    section.failed_at, section.failure_reason = now, reason
    section.save(update_fields=["failed_at", "failure_reason"])
    opening = Opening.objects.create(
        section=section, status=OpeningStatus.FAILED, started_at=now, started_by=actor,
        closed_at=now, bid_count=len(bids),
        record={"version": RECORD_VERSION, "section": section.code, "result": "failed",
                "reason": reason, "bid_count": len(bids)},
    )  # fmt: skip
    _sign(opening)
    opening.record_seq = append_event(
        actor=actor, event_type="bidding.opening_failed", subject=_subject(section),
        payload={"section": section.code, "bids": len(bids), "minimum": minimum,
                 "reason": reason, "record_sha256": _digest(opening.record)},
    )  # fmt: skip
    opening.save(update_fields=["record_signature", "record_key_id", "record_seq"])
    _refund_section(section, "failed_tender", now)
    return opening


def _refund_section(section: Section, trigger: str, now: Any) -> None:
    try:
        from ggzy.bidding.deposits import schedule_refund
    except ImportError:  # pragma: no cover
        return
    for deposit in Deposit.objects.filter(section=section, refunded_at__isnull=True):
        schedule_refund(deposit=deposit, trigger=trigger, at=now)


def _member(actor: Any, entity_id: int | None) -> bool:
    return bool(
        entity_id
        and getattr(actor, "is_authenticated", False)
        and Membership.objects.filter(user_id=actor.pk, entity_id=entity_id).exists()
    )


def submit_key(*, actor: Any, bid: Bid, content_key: bytes) -> Bid:
    """The bid's owner hands over its content key (unwrapped locally with ``ggzy-client``); the
    platform decrypts at once and checks every plaintext against the committed digests."""
    opening = Opening.objects.filter(section_id=bid.section_id).first() if bid.section_id else None
    if opening is None or opening.status != OpeningStatus.DECRYPTING:
        record_refusal(actor=actor, event_type="bidding.key_refused", subject=f"bid:{bid.public_id}",
                       reason="opening_not_started")  # fmt: skip
        raise Conflict("开标尚未开始或已结束，不能解密（R38）(the opening is not running)",
                       code="opening_not_started")  # fmt: skip
    section = opening.section
    if not _member(actor, bid.entity_id):
        record_refusal(actor=actor, event_type="bidding.key_refused", subject=f"bid:{bid.public_id}",
                       reason="not_bid_owner")  # fmt: skip
        raise PermissionDenied("只有投标人本人可以提交解密密钥 (only the bidder may hand over its "
                               "key)", code="not_bid_owner")  # fmt: skip
    if opening.window_ends_at and clock.now() >= opening.window_ends_at:
        raise Conflict("解密时限已过 (the decryption window has closed)", code="window_closed")
    if bid.status != BidStatus.RECEIVED:
        raise Conflict(
            "该投标文件已解密或已失效 (already decrypted or void)", code="bid_not_active"
        )
    stored = bid_path(bid)
    attempt = opened_dir(bid).with_name(f".{bid.public_id}-attempt")
    shutil.rmtree(attempt, ignore_errors=True)
    if not stored.exists() or file_sha256(stored) != bid.file_sha256:
        return _decrypt_failed(actor, section, bid, "storage_damaged")
    try:
        opened = envelope_format.open_envelope(stored, content_key, attempt)
    except EnvelopeError as exc:
        shutil.rmtree(attempt, ignore_errors=True)
        record_refusal(actor=actor, event_type="bidding.key_refused", subject=f"bid:{bid.public_id}",
                       reason=exc.code)  # fmt: skip
        raise ValidationFailed(f"解密失败：{exc} (decryption failed; the window is still open)",
                               code=exc.code) from None  # fmt: skip
    form = _bid_form(attempt)
    with transaction.atomic():
        locked = Bid.objects.select_for_update().get(pk=bid.pk)
        if locked.status != BidStatus.RECEIVED:
            shutil.rmtree(attempt, ignore_errors=True)
            raise Conflict("该投标文件已解密 (already decrypted)", code="bid_not_active")
        now = clock.now()
        locked.status, locked.key_submitted_at, locked.opened_at = BidStatus.OPENED, now, now
        locked.files = [{"name": f.name, "size": f.size, "plaintext_digest": f.plaintext_digest}
                        for f in opened]  # fmt: skip
        locked.bid_form = form
        locked.price = _price(form)
        duration = form.get("duration_days") if isinstance(form, dict) else None
        locked.duration_days = duration if isinstance(duration, int) and duration > 0 else None
        locked.save(update_fields=["status", "key_submitted_at", "opened_at", "files", "bid_form",
                                   "price", "duration_days"])  # fmt: skip
        shutil.rmtree(opened_dir(bid), ignore_errors=True)
        attempt.rename(opened_dir(bid))
        append_event(
            actor=actor,
            event_type="bidding.bid_decrypted",
            subject=_subject(section),
            payload={
                "bid": bid.public_id,
                "files": locked.files,
                "price": str(locked.price) if locked.price is not None else None,
            },
        )
    return locked


def _bid_form(directory: Path) -> dict[str, Any] | None:
    path = directory / BID_FORM
    if not path.is_file() or path.stat().st_size > 1 << 20:
        return None
    try:
        value = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _price(form: dict[str, Any] | None) -> Decimal | None:
    if not form or isinstance(form.get("price"), bool | float):
        return None
    try:
        price = yuan(form.get("price"))  # type: ignore[arg-type]
    except (ValueError, TypeError, InvalidOperation):
        return None
    return price if Decimal(0) < price < Decimal("1e13") else None


def _decrypt_failed(actor: Any, section: Section, bid: Bid, cause: str, detail: str = "") -> Bid:
    status = BidStatus.REVOKED if cause in BIDDER_FAULTS else BidStatus.PLATFORM_FAILED
    with transaction.atomic():
        locked = Bid.objects.select_for_update().get(pk=bid.pk)
        if locked.status != BidStatus.RECEIVED:
            return locked
        locked.status, locked.failure = status, cause
        locked.save(update_fields=["status", "failure"])
        append_event(actor=actor, event_type="bidding.decryption_failed", subject=_subject(section),
                     payload={"bid": bid.public_id, "cause": cause, "last_error": detail,
                              "status": status, "rule": "R39"})  # fmt: skip
    return locked


def raise_opening_objection(
    *, actor: Any, opening: Opening, entity: Entity, text: str
) -> OpeningObjection:
    """A bidder objects on the spot (开标现场异议); the answer is given there and both go into
    the record."""
    require(actor, "entity.act", entity)
    if opening.status != OpeningStatus.DECRYPTING:
        raise Conflict("开标已结束 (the opening has closed)", code="opening_closed")
    if not Bid.objects.filter(section_id=opening.section_id, entity=entity).exists():
        raise PermissionDenied("仅本标段投标人可提出开标异议 (bidders of this section only)",
                               code="not_a_bidder")  # fmt: skip
    text = (text or "").strip()
    if not text or len(text) > 5000 or "\x00" in text:
        raise ValidationFailed("异议内容应为1–5000字 (1–5000 characters)", code="bad_text")
    with transaction.atomic():
        opening = (
            Opening.objects.select_for_update()
            .select_related("section__project")
            .get(pk=opening.pk)
        )
        if opening.status != OpeningStatus.DECRYPTING:  # closed meanwhile
            raise Conflict("开标已结束 (the opening has closed)", code="opening_closed")
        row = OpeningObjection.objects.create(opening=opening, entity=entity, raised_by=actor,
                                              text=text, raised_at=clock.now())  # fmt: skip
        append_event(
            actor=actor,
            event_type="bidding.opening_objection",
            subject=_subject(opening.section),
            payload={"objection": row.pk},
        )
    return row


def answer_opening_objection(
    *, actor: Any, objection: OpeningObjection, answer: str
) -> OpeningObjection:
    require(actor, "bidding.open")
    answer = (answer or "").strip()
    if not answer or len(answer) > 5000 or "\x00" in answer:
        raise ValidationFailed("答复内容应为1–5000字 (1–5000 characters)", code="bad_text")
    with transaction.atomic():
        opening = Opening.objects.select_for_update().get(pk=objection.opening_id)
        objection = OpeningObjection.objects.select_for_update().get(pk=objection.pk)
        if opening.status != OpeningStatus.DECRYPTING:  # the record is signed: nothing to add
            raise Conflict("开标已结束 (the opening has closed)", code="opening_closed")
        if objection.answered_at is not None:
            raise Conflict("已答复 (already answered)", code="already_answered")
        objection.answer, objection.answered_at = answer, clock.now()
        objection.save(update_fields=["answer", "answered_at"])
        append_event(actor=actor, event_type="bidding.opening_objection_answered",
                     subject=_subject(objection.opening.section),
                     payload={"objection": objection.pk})  # fmt: skip
    return objection


def close_opening(*, actor: Any, opening: Opening) -> Opening:
    """End the decryption phase — at the window's end, or earlier once every bid is decrypted —
    treat every bid still sealed as revoked by the bidder (R39), and sign and publish the record."""
    require(actor, "bidding.open")
    now = clock.now()
    with transaction.atomic():
        opening = (
            Opening.objects.select_for_update()
            .select_related("section__project")
            .get(pk=opening.pk)
        )
        if opening.status != OpeningStatus.DECRYPTING:
            raise Conflict("开标已结束 (already closed)", code="opening_closed")
        section = opening.section
        bids = list(Bid.objects.filter(section=section).select_related("entity"))
        pending = [b for b in bids if b.status == BidStatus.RECEIVED]
        if pending and opening.window_ends_at and now < opening.window_ends_at:
            raise Conflict("解密时限未到，仍有投标文件待解密 (bids still awaiting their keys)",
                           code="window_open", detail={"pending": len(pending)})  # fmt: skip
        unanswered = opening.objections.filter(answered_at__isnull=True).count()
        if unanswered:  # 条例44: objections at the opening are answered there and then
            raise Conflict("开标现场异议尚未答复 (answer the objections raised at the opening first)",
                           code="objections_unanswered", detail={"unanswered": unanswered})  # fmt: skip
        for bid in pending:
            stored = bid_path(bid)
            if not stored.exists() or file_sha256(stored) != bid.file_sha256:
                _decrypt_failed(actor, section, bid, "storage_damaged")  # the platform's side
            else:  # no (good) key in time: the bidder's side (R39)
                _decrypt_failed(actor, section, bid, "no_key", detail=bid.failure)
        # in the order received; bids received at the same instant in the order stored
        bids = list(Bid.objects.filter(section=section).select_related("entity").order_by(
            "received_at", "pk"))  # fmt: skip
        opening.record = build_record(opening, bids)
        opening.status, opening.closed_at = OpeningStatus.CLOSED, now
        _sign(opening)
        opening.record_seq = append_event(
            actor=actor, event_type="bidding.opening_closed", subject=_subject(section),
            payload={"section": section.code, "record_sha256": _digest(opening.record),
                     "signature": opening.record_signature},
        )  # fmt: skip
        opening.save()
    return opening


def build_record(opening: Opening, bids: list[Bid]) -> dict[str, Any]:
    section = opening.section
    deposits = {d.entity_id: d for d in Deposit.objects.filter(section=section)}
    rows = []
    for bid in bids:
        assert bid.entity is not None and bid.entity_id is not None
        deposit = deposits.get(bid.entity_id)
        rows.append({
            "bid": bid.public_id,
            "bidder": bid.entity.name,
            "uscc": bid.entity.uscc,
            "received_at": bid.received_at.isoformat(),
            "manifest_digest": bid.manifest_digest,
            "price": str(bid.price) if bid.price is not None else None,
            "duration_days": bid.duration_days,
            "deposit": deposit.get_status_display() if deposit else
            ("无需缴纳" if section.deposit == 0 else "未缴纳"),
            "deposit_status": deposit.status if deposit else
            ("not_required" if section.deposit == 0 else "missing"),
            "decryption": bid.status,
            "decryption_label": bid.get_status_display(),
            "failure": bid.failure,
        })  # fmt: skip
    return {
        "version": RECORD_VERSION,
        "project": section.project.name,
        "trading_code": section.project.trading_code,
        "section": section.code,
        "section_name": section.name,
        "max_price": str(section.max_price) if section.max_price is not None else None,
        "deadline": section.bid_deadline.isoformat() if section.bid_deadline else None,
        "started_at": opening.started_at.isoformat(),
        "closed_at": clock.now().isoformat(),
        "bids": rows,
        "objections": [
            {"bidder": o.entity.name, "text": o.text, "raised_at": o.raised_at.isoformat(),
             "answer": o.answer, "answered_at": o.answered_at.isoformat() if o.answered_at
             else None}
            for o in opening.objections.select_related("entity")
        ],
    }  # fmt: skip


def _digest(record: Any) -> str:
    return hashlib.sha256(canonical_json(record)).hexdigest()


def _sign(opening: Opening) -> None:
    opening.record_signature = signing.sign(canonical_json(opening.record))
    opening.record_key_id = signing.key_id()


def verify_record(opening: Opening) -> bool:
    return opening.record is not None and signing.verify(
        signing.public_key_pem(), canonical_json(opening.record), opening.record_signature
    )


def get_opening(section: Section) -> Opening:
    opening = Opening.objects.filter(section=section).first()
    if opening is None:
        raise NotFound("该标段尚未开标 (not opened yet)", code="opening_not_found")
    return opening


def can_run(actor: Any) -> bool:
    return allowed(actor, "bidding.open")
