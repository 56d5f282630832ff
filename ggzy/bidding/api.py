"""Bidding API: sealed bid submission (raw envelope body), receipts, withdrawal and
replacement, and the online opening (start, key hand-over, on-the-spot objections, close, the
signed record). Deposits are in ``api_deposits.py``."""

from __future__ import annotations

import binascii
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Status

from ggzy.api import PUBLIC
from ggzy.bidding import bids, opening
from ggzy.bidding.models import Bid, Opening, OpeningObjection
from ggzy.core import clock
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.core.schemas import ErrorOut, StrictSchema
from ggzy.registry.models import Entity
from ggzy.tendering import selectors as tendering
from ggzy.trust.api import ERRORS
from ggzy.trust.api_documents import _spool

router = Router(tags=["bidding"])


class ReceiptOut(StrictSchema):
    body: dict[str, Any]
    signature: str
    key_id: str
    ledger_seq: int | None
    inclusion: dict[str, Any] | None


class BidOut(StrictSchema):
    id: str
    status: str
    received_at: datetime
    withdrawn_at: datetime | None
    size: int
    file_sha256: str
    manifest_digest: str
    section: str | None
    project: str | None
    replaces: str | None
    price: Decimal | None
    receipt: ReceiptOut


class ReceiptIn(StrictSchema):
    body: dict[str, Any]
    signature: str = Field(max_length=400)


class ReceiptCheckOut(StrictSchema):
    valid: bool
    bid: str
    status: str


class KeyIn(StrictSchema):
    content_key: str = Field(min_length=32, max_length=128, pattern=r"^[0-9a-fA-F]+$")


class ObjectionIn(StrictSchema):
    entity: str = Field(max_length=18)
    text: str = Field(min_length=1, max_length=5000)


class AnswerIn(StrictSchema):
    answer: str = Field(min_length=1, max_length=5000)


class OpeningOut(StrictSchema):
    section: str
    status: str
    started_at: datetime
    window_ends_at: datetime | None
    closed_at: datetime | None
    bid_count: int
    keys_handed_over: int
    record: dict[str, Any] | None
    record_signature: str
    record_key_id: str
    record_verified: bool
    objections: list[dict[str, Any]]


def _bid_out(bid: Bid) -> dict[str, Any]:
    sealed = bids.identity(bid)  # the owner's own view
    section = (
        tendering.Section.objects.select_related("project")
        .filter(public_id=sealed["section"])
        .first()
    )
    return {
        "id": bid.public_id,
        "status": bid.status,
        "received_at": bid.received_at,
        "withdrawn_at": bid.withdrawn_at,
        "size": bid.size,
        "file_sha256": bid.file_sha256,
        "manifest_digest": bid.manifest_digest,
        "section": section.public_id if section else None,
        "project": section.project.public_id if section else None,
        "replaces": bid.replaces.public_id if bid.replaces_id and bid.replaces else None,
        "price": bid.price,
        "receipt": bids.receipt(bid),
    }


@router.post("/sections/{section_id}/bids", response={200: BidOut, 201: BidOut, **ERRORS})
def submit_bid(request: HttpRequest, section_id: str) -> Any:
    """Upload a sealed bid (the envelope from ``ggzy-client seal``, raw ``application/zip``
    body). The answer is the receipt: the platform's signature over the bid's digests and the
    ledger inclusion proof of its receipt event (R38). A bid whose upload completes at or after
    the deadline is refused (``bid_late``). Uploading the same envelope again (a retry after a
    lost answer) returns the stored bid's receipt with 200, even after the deadline."""
    upload = _spool(request)
    received = clock.now()  # the whole body is here: the moment the deadline is judged by
    try:
        bid = bids.submit_bid(actor=request.auth, section_id=section_id, upload=upload,  # type: ignore[attr-defined]
                              received_at=received)  # fmt: skip
    finally:
        upload.unlink(missing_ok=True)
    # a retry of an envelope already stored answers 200 with the same receipt
    return Status(200 if getattr(bid, "replayed", False) else 201, _bid_out(bid))


@router.get("/bids", response=list[BidOut])
def my_bids(request: HttpRequest) -> list[dict[str, Any]]:
    return [_bid_out(b) for b in bids.my_bids(request.auth)]  # type: ignore[attr-defined]


@router.get("/bids/{bid_id}", response={200: BidOut, 404: ErrorOut})
def get_bid(request: HttpRequest, bid_id: str) -> Any:
    return _bid_out(bids.owned_bid(request.auth, bid_id))  # type: ignore[attr-defined]


@router.get("/bids/{bid_id}/receipt", response={200: ReceiptOut, 404: ErrorOut})
def get_receipt(request: HttpRequest, bid_id: str) -> Any:
    return bids.receipt(bids.owned_bid(request.auth, bid_id))  # type: ignore[attr-defined]


@router.post("/bids/{bid_id}/replace", response={201: BidOut, **ERRORS})
def replace_bid(request: HttpRequest, bid_id: str) -> Any:
    """Replace the active bid with a new envelope before the deadline."""
    actor = request.auth  # type: ignore[attr-defined]
    old = bids.owned_bid(actor, bid_id)
    upload = _spool(request)
    received = clock.now()
    try:
        bid = bids.submit_bid(
            actor=actor, section_id=bids.identity(old)["section"], upload=upload, replaces=old,
            received_at=received,
        )  # fmt: skip
    finally:
        upload.unlink(missing_ok=True)
    return Status(201, _bid_out(bid))


@router.post("/bids/{bid_id}/withdraw", response={200: BidOut, **ERRORS})
def withdraw_bid(request: HttpRequest, bid_id: str) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    return _bid_out(bids.withdraw_bid(actor=actor, bid=bids.owned_bid(actor, bid_id)))


@router.post("/receipts/verify", response={200: ReceiptCheckOut, **ERRORS}, auth=PUBLIC)
def verify_receipt(request: HttpRequest, payload: ReceiptIn) -> Any:
    """Check a receipt: the platform's signature, and that its bid is still the active one."""
    bid = bids.verify_receipt(body=payload.body, signature=payload.signature)
    return {"valid": True, "bid": bid.public_id, "status": bid.status}


# --- opening ------------------------------------------------------------------------------------


def _opening_out(session: Opening) -> dict[str, Any]:
    handed = Bid.objects.filter(section_id=session.section_id, key_submitted_at__isnull=False)
    return {
        "section": session.section.public_id,
        "status": session.status,
        "started_at": session.started_at,
        "window_ends_at": session.window_ends_at,
        "closed_at": session.closed_at,
        "bid_count": session.bid_count,
        "keys_handed_over": handed.count(),
        "record": session.record,
        "record_signature": session.record_signature,
        "record_key_id": session.record_key_id,
        "record_verified": opening.verify_record(session) if session.record else False,
        "objections": [
            {"id": o.pk, "bidder": o.entity.name, "text": o.text, "raised_at": o.raised_at,
             "answer": o.answer, "answered_at": o.answered_at}
            for o in session.objections.select_related("entity")
        ],
    }  # fmt: skip


def _section(request: HttpRequest, section_id: str) -> Any:
    return tendering.get_section(request.auth, section_id)  # type: ignore[attr-defined]


@router.get(
    "/sections/{section_id}/opening", response={200: OpeningOut, 404: ErrorOut}, auth=PUBLIC
)
def get_opening(request: HttpRequest, section_id: str) -> Any:
    """The opening session and, once closed, its signed record (public)."""
    return _opening_out(opening.get_opening(_section(request, section_id)))


@router.post("/sections/{section_id}/opening", response={201: OpeningOut, **ERRORS})
def start_opening(request: HttpRequest, section_id: str) -> Any:
    session = opening.start_opening(actor=request.auth, section=_section(request, section_id))  # type: ignore[attr-defined]
    return Status(201, _opening_out(session))


@router.post("/sections/{section_id}/opening/close", response={200: OpeningOut, **ERRORS})
def close_opening(request: HttpRequest, section_id: str) -> Any:
    session = opening.get_opening(_section(request, section_id))
    return _opening_out(opening.close_opening(actor=request.auth, opening=session))  # type: ignore[attr-defined]


@router.post("/bids/{bid_id}/key", response={200: BidOut, **ERRORS})
def hand_over_key(request: HttpRequest, bid_id: str, payload: KeyIn) -> Any:
    """The bidder hands over the content key it unwrapped locally (``ggzy-client unwrap``)."""
    actor = request.auth  # type: ignore[attr-defined]
    bid = Bid.objects.filter(public_id=bid_id[:32]).first()
    if bid is None:
        raise NotFound("投标文件不存在 (no such bid)", code="bid_not_found")
    try:
        key = bytes.fromhex(payload.content_key)
    except (ValueError, binascii.Error):
        raise ValidationFailed("密钥须为十六进制 (hex key)", code="bad_key") from None
    opening.submit_key(actor=actor, bid=bid, content_key=key)
    return _bid_out(bids.owned_bid(actor, bid_id))


@router.post("/sections/{section_id}/opening/objections", response={201: dict, **ERRORS})
def raise_objection(request: HttpRequest, section_id: str, payload: ObjectionIn) -> Any:
    session = opening.get_opening(_section(request, section_id))
    entity = Entity.objects.filter(uscc=payload.entity.upper()).first()
    if entity is None:
        raise NotFound("主体不存在 (no such entity)", code="entity_not_found")
    row = opening.raise_opening_objection(
        actor=request.auth,
        opening=session,
        entity=entity,
        text=payload.text,  # type: ignore[attr-defined]
    )
    return Status(201, {"id": row.pk, "raised_at": row.raised_at.isoformat()})


@router.post("/opening-objections/{objection_id}/answer", response={200: dict, **ERRORS})
def answer_objection(request: HttpRequest, objection_id: int, payload: AnswerIn) -> Any:
    row = (
        OpeningObjection.objects.select_related("opening__section").filter(pk=objection_id).first()
    )
    if row is None:
        raise NotFound("异议不存在 (no such objection)", code="objection_not_found")
    row = opening.answer_opening_objection(actor=request.auth, objection=row, answer=payload.answer)  # type: ignore[attr-defined]
    return {"id": row.pk, "answered_at": row.answered_at.isoformat() if row.answered_at else None}
