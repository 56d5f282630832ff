"""National data-exchange API (``/api/v1/exchange/national``), center staff only: the batches
(with their signature), one batch's exact bytes, and the deliveries with each receiver's
acknowledgement. Thin: parse, call one selector, render; refusals are
``{"code", "message", "detail"}``. Receivers' credentials are never shown (only where they are
referenced)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from ggzy.core.errors import NotFound
from ggzy.core.schemas import ErrorOut
from ggzy.exchange import national
from ggzy.exchange.models import Batch, Delivery, DeliveryStatus

router = Router(tags=["exchange"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 422)}
PAGE = 100


class BatchOut(Schema):
    batch_id: str
    dataset: str
    sequence: int
    record_count: int
    sha256: str
    sm3: str
    signature: str
    signature_alg: str
    key_id: str
    config_digest: str
    built_at: datetime
    ledger_seq: int | None
    verified: bool
    report: dict[str, Any]


class DeliveryOut(Schema):
    batch_id: str
    dataset: str
    receiver: str
    status: str
    attempts: int
    last_error: str
    last_status_code: int | None
    last_attempt_at: datetime | None
    acknowledged_at: datetime | None
    receipt_id: str


class BatchFilter(Schema):
    dataset: str | None = None
    before: int | None = None  # with dataset: batches of a smaller sequence


class DeliveryFilter(Schema):
    receiver: str | None = None
    status: DeliveryStatus | None = None
    batch: str | None = None


def batch_out(b: Batch) -> dict[str, Any]:
    return {"batch_id": b.batch_id, "dataset": b.dataset, "sequence": b.sequence,
            "record_count": b.record_count, "sha256": b.sha256, "sm3": b.sm3,
            "signature": b.signature, "signature_alg": b.signature_alg, "key_id": b.key_id,
            "config_digest": b.config_digest, "built_at": b.built_at,
            "ledger_seq": b.ledger_seq, "verified": national.verify_batch(b),
            "report": b.report}  # fmt: skip


def delivery_out(d: Delivery) -> dict[str, Any]:
    return {"batch_id": d.batch.batch_id, "dataset": d.batch.dataset,
            "receiver": d.receiver.name, "status": d.status, "attempts": d.attempts,
            "last_error": d.last_error, "last_status_code": d.last_status_code,
            "last_attempt_at": d.last_attempt_at, "acknowledged_at": d.acknowledged_at,
            "receipt_id": d.receipt_id}  # fmt: skip


def _batch(request: HttpRequest, batch_id: str) -> Batch:
    national.require_view(request.user)
    batch = Batch.objects.filter(batch_id=batch_id[:64]).first()
    if batch is None:
        raise NotFound("批次不存在 (no such batch)", code="batch_not_found")
    return batch


@router.get("/national/batches", response={200: list[BatchOut], **ERRORS})
def list_batches(request: HttpRequest, filters: Query[BatchFilter]) -> Any:
    """Newest first, at most 100; with ``dataset``, by sequence, and ``before`` pages back."""
    national.require_view(request.user)
    qs = Batch.objects.order_by("-built_at", "-pk")
    if filters.dataset:
        qs = qs.filter(dataset=filters.dataset[:8]).order_by("-sequence")
        if filters.before is not None:
            qs = qs.filter(sequence__lt=filters.before)
    return [batch_out(b) for b in qs[:PAGE]]


@router.get("/national/batches/{batch_id}", response={200: BatchOut, **ERRORS})
def get_batch(request: HttpRequest, batch_id: str) -> Any:
    return batch_out(_batch(request, batch_id))


@router.get("/national/batches/{batch_id}/content", response={200: None, **ERRORS})
def batch_content(request: HttpRequest, batch_id: str) -> HttpResponse:
    """The batch's bytes exactly as they are sent, with the signature in headers."""
    batch = _batch(request, batch_id)
    response = HttpResponse(batch.data, content_type="application/json; charset=utf-8")
    response["X-GGZY-Signature"] = batch.signature
    response["X-GGZY-Signature-Alg"] = batch.signature_alg
    response["X-GGZY-Key-Id"] = batch.key_id
    response["X-GGZY-SHA256"] = batch.sha256
    response["X-GGZY-SM3"] = batch.sm3
    return response


@router.get("/national/deliveries", response={200: list[DeliveryOut], **ERRORS})
def list_deliveries(request: HttpRequest, filters: Query[DeliveryFilter]) -> Any:
    national.require_view(request.user)
    qs = Delivery.objects.select_related("batch", "receiver").order_by("-batch__built_at", "-pk")
    if filters.receiver:
        qs = qs.filter(receiver__name=filters.receiver[:64])
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.batch:
        qs = qs.filter(batch__batch_id=filters.batch[:64])
    return [delivery_out(d) for d in qs[:PAGE]]
