"""Deposits API (投标保证金): open, list, bank notices (one or a CSV file), guarantees, refunds.
Mounted at ``/api/v1/bidding``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status
from pydantic import Field

from ggzy.bidding import deposits
from ggzy.bidding.models import BankNotification, Deposit
from ggzy.core import clock
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.core.schemas import ErrorOut, StrictSchema
from ggzy.core.uploads import read_body
from ggzy.registry.models import Entity
from ggzy.tendering.models import Section
from ggzy.tendering.states import ProjectStatus
from ggzy.trust.api import _b64

router = Router(tags=["deposits"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 413, 415, 422)}
CSV_TYPES = ("text/csv", "text/plain")


class DepositIn(StrictSchema):
    entity: str = Field(..., min_length=18, max_length=18, description="投标人统一社会信用代码")
    method: Literal["transfer", "guarantee", "exempt"]
    exemption_reason: str = Field("", max_length=300)


class DepositOut(StrictSchema):
    id: int
    section: str | None  # None in the refund list before the section's deadline (R42)
    section_code: str | None
    entity: str | None
    entity_name: str | None
    method: str
    status: str
    amount: Decimal
    virtual_account: str | None
    paid_amount: Decimal | None
    paid_at: datetime | None
    payer_account: str
    payer_name: str
    payer_bank: str
    guarantee_issuer: str
    guarantee_number: str
    guarantee_valid_until: date | None
    exemption_reason: str
    refund_due: date | None
    refund_trigger: str
    refunded_at: datetime | None
    refund_reference: str
    refund_overdue: bool


class BankNoticeIn(StrictSchema):
    bank_reference: str = Field(..., max_length=64)
    virtual_account: str = Field(..., max_length=32)
    amount: str = Field(..., max_length=20, description="元，两位小数")
    payer_account: str = Field(..., max_length=40)
    payer_name: str = Field(..., max_length=200)
    payer_bank: str = Field("", max_length=120)
    credited_at: datetime


class BankNoticeOut(StrictSchema):
    id: int
    bank_reference: str
    outcome: str
    deposit: int | None


class ImportRowOut(StrictSchema):
    line: int
    bank_reference: str | None
    outcome: str
    code: str | None


class ImportOut(StrictSchema):
    rows: int
    paid: int
    refused: int
    results: list[ImportRowOut]


class GuaranteeIn(StrictSchema):
    document: str = Field(..., max_length=200_000, description="保函文件 (JSON) 的 base64")
    sigfile: dict[str, Any] | None = None
    cms: str | None = Field(None, max_length=200_000, description="CMS SignedData, base64 DER")


class RefundedIn(StrictSchema):
    reference: str = Field(..., max_length=64)


class RefundOut(StrictSchema):
    deposit: DepositOut
    overdue: bool
    days_overdue: int


def _out(d: Deposit) -> dict[str, Any]:
    overdue = d.status == "refund_due" and d.refund_due is not None and d.refund_due < clock.today()
    return {
        "id": d.pk,
        "section": d.section.public_id,
        "section_code": d.section.code,
        "entity": d.entity.uscc,
        "entity_name": d.entity.name,
        "refund_overdue": overdue,
        **{
            k: getattr(d, k)
            for k in DepositOut.model_fields
            if k not in {"id", "section", "section_code", "entity", "entity_name", "refund_overdue"}
        },
    }


def _sealed_out(d: Deposit) -> dict[str, Any]:
    """A refund row for finance: before the section's deadline (a bid withdrawn early) it names
    neither the section nor the bidder — the payer's account and name, where the money goes
    back, are all a refund needs (R42)."""
    out = _out(d)
    if deposits.sealed_until_deadline(d.section):
        out.update(section=None, section_code=None, entity=None, entity_name=None)
    return out


def _section(section_id: str) -> Section:
    section = (
        Section.objects.select_related("project__ruleset", "project__tenderer")
        .filter(public_id=section_id, project__status=ProjectStatus.PUBLISHED)
        .first()
    )
    if section is None:
        raise NotFound("标段不存在 (no such section)", code="section_not_found")
    return section


def _notice_out(row: BankNotification) -> dict[str, Any]:
    return {
        "id": row.pk,
        "bank_reference": row.bank_reference,
        "outcome": row.outcome,
        "deposit": row.deposit_id,
    }


@router.post("/sections/{section_id}/deposits", response={201: DepositOut, **ERRORS})
def open_deposit(request: HttpRequest, section_id: str, payload: DepositIn) -> Any:
    """Open your deposit for a section: ``transfer`` gives a virtual sub-account to pay into,
    ``guarantee`` waits for an electronic guarantee, ``exempt`` where the ruleset allows."""
    entity = Entity.objects.filter(uscc=payload.entity.upper()).first()
    if entity is None:
        raise NotFound("主体不存在 (no such entity)", code="entity_not_found")
    deposit = deposits.open_deposit(
        actor=request.auth,  # type: ignore[attr-defined]
        section=_section(section_id),
        entity=entity,
        method=payload.method,
        exemption_reason=payload.exemption_reason,
    )
    return Status(201, _out(deposits.get_deposit_for(request.auth, deposit.pk)))  # type: ignore[attr-defined]


@router.get("/deposits", response={200: list[DepositOut], 401: ErrorOut, 403: ErrorOut})
def my_deposits(request: HttpRequest) -> Any:
    """The deposits of the entities you act for."""
    return [_out(d) for d in deposits.my_deposits(request.auth)]  # type: ignore[attr-defined]


@router.get("/sections/{section_id}/deposits", response={200: list[DepositOut], **ERRORS})
def section_deposits(request: HttpRequest, section_id: str) -> Any:
    """Center staff and supervisors: a section's deposits, after its bid deadline only (R42;
    before it ``403 sealed_until_deadline``). Bidders: their own."""
    return [_out(d) for d in deposits.deposits_for_section(request.auth, _section(section_id))]  # type: ignore[attr-defined]


@router.post("/bank-notices", response={200: BankNoticeOut, **ERRORS})
def bank_notice(request: HttpRequest, payload: BankNoticeIn) -> Any:
    """One credit notice from the deposit bank. Idempotent by ``bank_reference``. Refused
    notices (``unknown_account``, ``amount_short``, ``deposit_late``, ``deposit_already_paid``)
    are kept and recorded for supervision."""
    row = deposits.record_bank_notice(actor=request.auth, **payload.model_dump())  # type: ignore[attr-defined]
    return _notice_out(row)


@router.post("/bank-notices/import", response={200: ImportOut, **ERRORS})
def import_notices(request: HttpRequest) -> Any:
    """A bank's CSV file of notices as the raw body (``text/csv``, UTF-8), header
    ``bank_reference,virtual_account,amount,payer_account,payer_name,payer_bank,credited_at``.
    Each row is applied on its own; the report says what became of each."""
    body = read_body(
        request,
        accepted=CSV_TYPES,
        limit=getattr(settings, "GGZY_BANK_CSV_MAX_BYTES", 5 << 20),
        what="银行到账通知 CSV (text/csv)",
    )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("CSV 须为 UTF-8 编码 (not UTF-8)", code="bad_csv") from None
    if "\x00" in text:
        raise ValidationFailed("CSV 含空字符 (NUL character)", code="nul_character")
    report = deposits.import_bank_notices(actor=request.auth, csv_text=text)  # type: ignore[attr-defined]
    return {"rows": report.rows, "paid": report.paid, "refused": report.refused,
            "results": report.results}  # fmt: skip


@router.post("/deposits/{deposit_id}/guarantee", response={200: DepositOut, **ERRORS})
def submit_guarantee(request: HttpRequest, deposit_id: int, payload: GuaranteeIn) -> Any:
    """Submit the electronic guarantee (the issuer's signed JSON document, with its
    ``ggzy-sig/1`` ``sigfile`` or ``cms``)."""
    actor = request.auth  # type: ignore[attr-defined]
    deposit = deposits.submit_guarantee(
        actor=actor,
        deposit=deposits.get_deposit_for(actor, deposit_id),
        document=_b64(payload.document, "document"),
        sigfile=payload.sigfile,
        cms=_b64(payload.cms, "cms") if payload.cms is not None else None,
    )
    return _out(deposits.get_deposit_for(actor, deposit.pk))


@router.post("/deposits/{deposit_id}/refunded", response={200: DepositOut, **ERRORS})
def refunded(request: HttpRequest, deposit_id: int, payload: RefundedIn) -> Any:
    """Finance records the refund (its transfer reference, or the guarantee's release)."""
    actor = request.auth  # type: ignore[attr-defined]
    deposit = deposits.mark_refunded(
        actor=actor,
        deposit=deposits.get_deposit_for(actor, deposit_id, action="refund"),
        reference=payload.reference,
    )
    return _out(deposit)


@router.get("/refunds", response={200: list[RefundOut], 401: ErrorOut, 403: ErrorOut})
def refunds(request: HttpRequest, overdue: bool = False) -> Any:
    """Deposits due for refund, earliest first; ``overdue=1``: only those past their due date
    (R12/R13 — each is a warning)."""
    today = clock.today()
    return [
        {
            "deposit": _sealed_out(d),
            "overdue": d.refund_due is not None and d.refund_due < today,
            "days_overdue": max((today - d.refund_due).days, 0) if d.refund_due else 0,
        }
        for d in deposits.refunds(request.auth, overdue_only=overdue)  # type: ignore[attr-defined]
    ]
