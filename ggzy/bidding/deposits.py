"""Deposits (投标保证金) and guarantees (电子保函): open one per bidder per section, mark it paid
from the bank's credit notices, accept a verified electronic guarantee, schedule and track its
refund (R12/R13). Ledger events are on ``deposit:<id>`` (or ``bank-notice:<reference>``), never
on the public project subject, and their payloads name neither the section nor the bidder: who
intends to bid stays secret until the deadline (R42)."""

from __future__ import annotations

import csv
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from ggzy.accounts.gate import allowed, holds_role_permission, is_authenticated, require
from ggzy.bidding import register
from ggzy.bidding.models import BankNotification, Deposit
from ggzy.bidding.states import DepositMethod, DepositStatus
from ggzy.core import calendar, clock
from ggzy.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from ggzy.ledger.chain import canonical_json, hasher
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Entity, Membership
from ggzy.tendering import checks, invitations
from ggzy.tendering.models import Section
from ggzy.tendering.states import ProjectStatus

BANK = "system:bank"  # the deposit bank's interface
CLI = "system:cli"  # the operator's shell
# a virtual sub-account: this prefix, 12 random digits, a Luhn check digit
ACCOUNT_PREFIX = "3201"
REFUND_TRIGGERS = ("withdrawn", "failed_tender", "award_notice", "contract_signed")
HELD = frozenset({DepositStatus.PAID, DepositStatus.GUARANTEED})
# notice outcomes
PAID, UNKNOWN, SHORT, LATE, ALREADY_PAID = (
    "paid",
    "unknown_account",
    "short",
    "late",
    "already_paid",
)
# the refusal each stored outcome answers with (a repeated notice answers the same)
OUTCOME_ERRORS: dict[str, tuple[type[DomainError], str, str]] = {
    UNKNOWN: (ValidationFailed, "unknown_account", "虚拟子账号不存在 (unknown virtual account)"),
    SHORT: (ValidationFailed, "amount_short", "到账金额不足 (amount below the deposit)"),
    LATE: (Conflict, "deposit_late", "投标截止后到账 (credited after the bid deadline)"),
    ALREADY_PAID: (Conflict, "deposit_already_paid", "保证金已缴纳 (deposit already paid)"),
}


def _subject(deposit: Deposit) -> str:
    return f"deposit:{deposit.pk}"


def _is_system(actor: Any, *names: str) -> bool:
    return isinstance(actor, str) and actor in names


def _locked(deposit: Deposit) -> Deposit:
    return (
        Deposit.objects.select_for_update()
        .select_related("section__project__ruleset")
        .get(pk=deposit.pk)
    )


def _rules(section: Section) -> dict[str, Any]:
    return dict(section.project.ruleset.rules)


def _before_deadline(section: Section) -> None:
    if section.bid_deadline is None or clock.now() >= section.bid_deadline:
        raise Conflict("投标已截止 (the bid deadline has passed)", code="bidding_closed")


# --- opening a deposit --------------------------------------------------------------------------


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def new_virtual_account() -> str:
    body = ACCOUNT_PREFIX + f"{secrets.randbelow(10**12):012d}"
    return body + luhn_digit(body)


def is_virtual_account(value: str) -> bool:
    return (
        len(value) == 17
        and value.isdigit()
        and value.startswith(ACCOUNT_PREFIX)
        and luhn_digit(value[:-1]) == value[-1]
    )


def _check_method(section: Section, method: str, exemption_reason: str) -> str:
    rules = _rules(section)
    if method not in DepositMethod.values:
        raise ValidationFailed("缴纳方式无效 (bad method)", code="bad_deposit_method")
    if method == DepositMethod.TRANSFER and rules.get("deposit_cash_allowed", True) is False:
        raise ValidationFailed("本项目不接受转账缴纳保证金 (no transfers here)",
                               code="transfer_not_allowed", detail={"rule": "R11"})  # fmt: skip
    if method != DepositMethod.EXEMPT:
        return ""
    if not rules.get("deposit_exemption_allowed", False):
        raise ValidationFailed("本项目不允许免缴保证金 (no exemptions here)",
                               code="exemption_not_allowed")  # fmt: skip
    return checks.text(exemption_reason, "exemption_reason", max_length=300)


def open_deposit(
    *, actor: Any, section: Section, entity: Entity, method: str, exemption_reason: str = ""
) -> Deposit:
    """A bidder opens its deposit for a published section before the deadline: a virtual
    sub-account to pay into, a guarantee to submit, or an exemption the ruleset allows."""
    require(actor, "bidding.deposit")
    require(actor, "entity.act", entity)
    if not entity.is_bidder or entity.status != "active":
        raise Conflict("该主体不能投标 (not an active bidder)", code="not_a_bidder")
    section = Section.objects.select_related("project__ruleset").get(pk=section.pk)
    if section.project.status != ProjectStatus.PUBLISHED or section.failed_at is not None:
        raise Conflict("标段未在投标中 (section not open for bids)", code="section_not_open")
    _before_deadline(section)
    invitations.require_invited(actor, section.project, entity, subject="bidding:deposit")
    if section.deposit <= 0:
        raise ValidationFailed("本标段无需缴纳保证金 (no deposit required)",
                               code="no_deposit_required")  # fmt: skip
    reason = _check_method(section, method, exemption_reason)
    with transaction.atomic():
        deposit = _create(actor, section, entity, method, reason)
        append_event(actor=register.sealed_actor(actor, _subject(deposit)), addr="",
                     event_type="bidding.deposit_opened",
                     subject=_subject(deposit), payload={"method": method})  # fmt: skip
    return deposit


def _create(actor: Any, section: Section, entity: Entity, method: str, reason: str) -> Deposit:
    for _ in range(5):
        try:
            with transaction.atomic():
                return Deposit.objects.create(
                    section=section,
                    entity=entity,
                    method=method,
                    status=DepositStatus.EXEMPT if method == DepositMethod.EXEMPT else "pending",
                    amount=section.deposit,
                    virtual_account=new_virtual_account() if method == "transfer" else None,
                    exemption_reason=reason,
                    created_by=actor,
                    created_at=clock.now(),
                )
        except IntegrityError:
            if Deposit.objects.filter(section=section, entity=entity).exists():
                raise Conflict("已为该标段办理保证金 (a deposit exists for this section)",
                               code="deposit_exists") from None  # fmt: skip
    raise Conflict("请重试 (retry)", code="account_collision")  # pragma: no cover


# --- bank notices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankNotice:
    bank_reference: str
    virtual_account: str
    amount: Decimal
    payer_account: str
    payer_name: str
    payer_bank: str
    credited_at: datetime

    def facts(self) -> dict[str, Any]:
        return {
            "bank_reference": self.bank_reference,
            "virtual_account": self.virtual_account,
            "amount": str(self.amount),
            "payer_account": self.payer_account,
            "payer_name": self.payer_name,
            "payer_bank": self.payer_bank,
            "credited_at": self.credited_at.isoformat(),
        }


def _clean_notice(**raw: Any) -> BankNotice:
    credited = checks.moment(raw["credited_at"], "credited_at")
    if credited is None:
        raise ValidationFailed("请填写到账时间 (credited_at required)", code="bad_time")
    if credited > clock.now() + timedelta(minutes=5):
        raise ValidationFailed("到账时间晚于当前时间 (credited in the future)",
                               code="credited_in_future")  # fmt: skip
    return BankNotice(
        bank_reference=checks.text(raw["bank_reference"], "bank_reference", max_length=64),
        virtual_account=checks.text(raw["virtual_account"], "virtual_account", max_length=32),
        amount=checks.money(raw["amount"], "amount"),
        payer_account=checks.text(raw["payer_account"], "payer_account", max_length=40),
        payer_name=checks.text(raw["payer_name"], "payer_name", max_length=200),
        payer_bank=checks.text(raw["payer_bank"], "payer_bank", max_length=120, required=False),
        credited_at=credited,
    )


def _stored_facts(row: BankNotification) -> dict[str, Any]:
    return BankNotice(
        row.bank_reference, row.virtual_account, row.amount, row.payer_account, row.payer_name,
        row.payer_bank, row.credited_at,
    ).facts()  # fmt: skip


def _answer(row: BankNotification) -> BankNotification:
    """The notice's result: the row, or the refusal its outcome stands for."""
    if row.outcome not in OUTCOME_ERRORS:
        return row
    kind, code, message = OUTCOME_ERRORS[row.outcome]
    raise kind(message, code=code, detail={"notice": row.pk, "outcome": row.outcome})


def record_bank_notice(
    *,
    actor: Any,
    bank_reference: str,
    virtual_account: str,
    amount: Any,
    payer_account: str,
    payer_name: str,
    payer_bank: str = "",
    credited_at: Any,
) -> BankNotification:
    """Store one credit notice and apply it. Idempotent by bank reference: the same notice again
    gives the same result and no second event. A refused notice (unknown account, short, late,
    already paid) is kept with its outcome and recorded for supervision, then raised."""
    if not _is_system(actor, BANK, CLI):
        require(actor, "bidding.bank_notice")
    notice = _clean_notice(
        bank_reference=bank_reference, virtual_account=virtual_account, amount=amount,
        payer_account=payer_account, payer_name=payer_name, payer_bank=payer_bank,
        credited_at=credited_at,
    )  # fmt: skip
    try:
        with transaction.atomic():
            row, created = _apply(actor, notice)
    except IntegrityError:  # the same reference stored a moment ago by a concurrent call
        row, created = BankNotification.objects.get(bank_reference=notice.bank_reference), False
    if not created:
        _same_notice_or_refuse(actor, row, notice)
    return _answer(row)


def _same_notice_or_refuse(actor: Any, row: BankNotification, notice: BankNotice) -> None:
    if _stored_facts(row) == notice.facts():
        return
    record_refusal(actor=actor, event_type="bidding.bank_notice_refused",
                   subject=f"bank-notice:{notice.bank_reference}", reason="bank_reference_reused",
                   notice_sm3=_sm3(notice.facts()))  # fmt: skip
    raise Conflict("银行流水号已用于另一笔到账 (bank reference reused)",
                   code="bank_reference_reused", detail={"notice": row.pk})  # fmt: skip


def _sm3(facts: dict[str, Any]) -> str:
    return hasher("sm3")(canonical_json(facts)).hex()


def _apply(actor: Any, notice: BankNotice) -> tuple[BankNotification, bool]:
    existing = BankNotification.objects.filter(bank_reference=notice.bank_reference).first()
    if existing is not None:
        return existing, False
    deposit = (
        Deposit.objects.select_for_update()
        .select_related("section")
        .filter(virtual_account=notice.virtual_account, method=DepositMethod.TRANSFER)
        .first()
    )
    outcome = _outcome(deposit, notice)
    with transaction.atomic():
        row = BankNotification.objects.create(
            **{k: getattr(notice, k) for k in notice.__dataclass_fields__},
            received_at=clock.now(),
            deposit=deposit,
            outcome=outcome,
        )
    subject = _subject(deposit) if deposit else f"bank-notice:{notice.bank_reference}"
    payload = {"notice": row.pk, "outcome": outcome, "notice_sm3": _sm3(notice.facts())}
    if outcome != PAID:
        code = OUTCOME_ERRORS[outcome][1]
        append_event(actor=actor, event_type="bidding.bank_notice_refused", subject=subject,
                     payload={"refused": True, "reason": code, **payload})  # fmt: skip
        return row, True
    assert deposit is not None
    deposit.status = DepositStatus.PAID
    deposit.paid_amount, deposit.paid_at = notice.amount, notice.credited_at
    deposit.payer_account, deposit.payer_name = notice.payer_account, notice.payer_name
    deposit.payer_bank = notice.payer_bank
    deposit.save(update_fields=["status", "paid_amount", "paid_at", "payer_account",
                                "payer_name", "payer_bank"])  # fmt: skip
    append_event(actor=actor, event_type="bidding.deposit_paid", subject=subject, payload=payload)
    return row, True


def _outcome(deposit: Deposit | None, notice: BankNotice) -> str:
    if deposit is None:
        return UNKNOWN
    if deposit.status != DepositStatus.PENDING:
        return ALREADY_PAID
    deadline = deposit.section.bid_deadline
    if deadline is None or notice.credited_at >= deadline:
        return LATE
    if notice.amount < deposit.amount:
        return SHORT
    return PAID


CSV_COLUMNS = ("bank_reference", "virtual_account", "amount", "payer_account", "payer_name",
               "payer_bank", "credited_at")  # fmt: skip


@dataclass
class ImportReport:
    rows: int = 0
    paid: int = 0
    refused: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)


def import_bank_notices(*, actor: Any, csv_text: str) -> ImportReport:
    """Apply a bank's CSV file of notices (header: :data:`CSV_COLUMNS`), row by row: a bad row is
    reported and the others still apply. Each row commits on its own, so call it outside a
    transaction."""
    if not _is_system(actor, BANK, CLI):
        require(actor, "bidding.bank_notice")
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed("CSV 缺少列 (missing columns)", code="bad_csv",
                               detail={"missing": missing})  # fmt: skip
    report = ImportReport()
    for line, raw in enumerate(reader, start=2):
        report.rows += 1
        result: dict[str, Any] = {"line": line, "bank_reference": raw.get("bank_reference")}
        try:
            values = {c: (raw.get(c) or "").strip() for c in CSV_COLUMNS}
            row = record_bank_notice(actor=actor, **values)
            result.update(outcome=row.outcome, code=None)
            report.paid += 1
        except DomainError as exc:
            result.update(outcome=(exc.detail or {}).get("outcome", "invalid"), code=exc.code)
            report.refused += 1
        report.results.append(result)
    return report


# --- guarantees ---------------------------------------------------------------------------------


def submit_guarantee(
    *,
    actor: Any,
    deposit: Deposit,
    document: bytes,
    sigfile: dict[str, Any] | None = None,
    cms: bytes | None = None,
) -> Deposit:
    """Accept an electronic guarantee (电子保函) for a guarantee deposit: the issuer's signature
    verified by the trust service, and the document's terms checked against the section. A
    refused guarantee is recorded for supervision."""
    require(actor, "bidding.deposit")
    require(actor, "entity.act", deposit.entity)
    try:
        with transaction.atomic():
            deposit = _locked(deposit)
            if deposit.method != DepositMethod.GUARANTEE:
                raise Conflict("该保证金不是保函方式 (not a guarantee deposit)",
                               code="not_a_guarantee_deposit")  # fmt: skip
            if deposit.status != DepositStatus.PENDING:
                raise Conflict("保函已提交 (already guaranteed)", code="deposit_not_pending")
            _before_deadline(deposit.section)
            accepted = _verify_guarantee(deposit, document, sigfile, cms)
            deposit.status = DepositStatus.GUARANTEED
            deposit.guarantee_issuer = accepted.issuer.name
            deposit.guarantee_number = accepted.number
            deposit.guarantee_signature = accepted.signature
            deposit.guarantee_valid_until = accepted.valid_until
            deposit.save(update_fields=["status", "guarantee_issuer", "guarantee_number",
                                        "guarantee_signature", "guarantee_valid_until"])  # fmt: skip
            append_event(actor=register.sealed_actor(actor, _subject(deposit)), addr="",
                         event_type="bidding.guarantee_accepted",
                         subject=_subject(deposit),
                         payload={"signature": accepted.signature.pk,
                                  "document_digest": accepted.signature.document_digest})  # fmt: skip
    except DomainError as exc:
        record_refusal(actor=actor, event_type="bidding.guarantee_refused",
                       subject=_subject(deposit), reason=exc.code)  # fmt: skip
        raise
    return deposit


@dataclass(frozen=True)
class AcceptedGuarantee:
    issuer: Entity
    number: str
    valid_until: date
    signature: Any  # trust.DocumentSignature


GUARANTEE_FIELDS = ("guarantee_number", "issuer_uscc", "beneficiary", "applicant", "section",
                    "amount", "valid_until")  # fmt: skip


def _refuse(code: str, message: str, **detail: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail=detail or None)


def _guarantee_terms(document: bytes) -> dict[str, Any]:
    try:
        data = json.loads(document.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or any(
        not isinstance(data.get(k), str) for k in GUARANTEE_FIELDS
    ):
        raise _refuse("bad_guarantee_document", "保函文件格式错误 (not a guarantee document)",
                      fields=list(GUARANTEE_FIELDS))  # fmt: skip
    try:
        data["amount"] = checks.money(data["amount"], "amount")
        data["valid_until"] = date.fromisoformat(data["valid_until"])
    except (DomainError, ValueError):
        raise _refuse(
            "bad_guarantee_document", "保函金额或有效期格式错误 (bad amount or date)"
        ) from None
    return data


def _verify_guarantee(
    deposit: Deposit, document: bytes, sigfile: dict[str, Any] | None, cms: bytes | None
) -> AcceptedGuarantee:
    """The issuer's signature holds with the trust service, the signer speaks for the registered
    issuer the document names, and the terms cover this bidder, section, amount and period."""
    import base64

    from ggzy.trust import signing, validation
    from ggzy.trust.bindings import active_binding, check_still_acting
    from ggzy.trust.models import SignatureFormat

    terms = _guarantee_terms(document)
    try:
        verified, _ = signing.verify_signature(document=document, sigfile=sigfile, cms=cms)
    except ValidationFailed as exc:
        raise _refuse("guarantee_signature_invalid", "保函签名无效 (the signature does not hold)",
                      reason=exc.code) from None  # fmt: skip
    binding = active_binding(validation.fingerprint(verified.certificate))
    if binding is None or binding.entity is None:
        raise _refuse(
            "guarantee_issuer_not_registered", "出函机构证书未在平台登记 (unregistered issuer)"
        )
    check_still_acting(binding)
    section, entity = deposit.section, deposit.entity
    expected = {
        "issuer_uscc": (binding.entity.uscc, "guarantee_issuer_mismatch", "签名单位与出函机构不符"),
        "applicant": (entity.uscc, "guarantee_wrong_applicant", "保函申请人不是本投标人"),
        "beneficiary": (section.project.tenderer.uscc, "guarantee_wrong_beneficiary", "受益人不是招标人"),
        "section": (section.code, "guarantee_wrong_section", "保函所载标段不符"),
    }  # fmt: skip
    for key, (value, code, message) in expected.items():
        if terms[key] != value:
            raise _refuse(code, message, field=key)
    if terms["amount"] < deposit.amount:
        raise _refuse("guarantee_amount_short", "保函金额低于保证金 (amount below the deposit)",
                      required=str(deposit.amount))  # fmt: skip
    assert section.bid_deadline is not None
    need = (section.bid_deadline + timedelta(days=section.bid_validity_days)).astimezone(
        clock.CHINA
    )
    if terms["valid_until"] < need.date():
        raise _refuse("guarantee_expires_early", "保函有效期短于投标有效期 (expires too early)",
                      required=need.date().isoformat())  # fmt: skip
    number = terms["guarantee_number"][:64]
    if Deposit.objects.filter(
        guarantee_number=number, guarantee_issuer=binding.entity.name
    ).exists():
        raise Conflict("该保函已被使用 (guarantee already used)", code="guarantee_reused")
    raw = bytes(cms) if cms is not None else base64.b64decode((sigfile or {})["signature"])
    signature = signing._store(  # the trust service's own write path for a verified signature
        binding=binding, document_name=f"电子保函 {number}", verified=verified,
        fmt=SignatureFormat.CMS if cms is not None else SignatureFormat.DETACHED, signature=raw,
    )  # fmt: skip
    return AcceptedGuarantee(binding.entity, number, terms["valid_until"], signature)


# --- refunds ------------------------------------------------------------------------------------


def refund_due_date(section: Section, at: datetime) -> date:
    """R12 (works): calendar days; R13 (government procurement): working days."""
    rules = _rules(section)
    start = at.astimezone(clock.CHINA).date()
    if "deposit_refund_working_days" in rules:
        return calendar.add_working_days(start, int(rules["deposit_refund_working_days"]))
    return start + timedelta(days=int(rules.get("deposit_refund_days", 5)))


def schedule_refund(
    *, deposit: Deposit, trigger: str, at: datetime, actor: Any = "system:bidding"
) -> Deposit:
    """Due a held deposit (paid, or a guarantee to release) for refund after ``trigger`` at
    ``at``. For other services, inside their transaction. Already due or refunded: unchanged
    (the first trigger sets the date); pending or exempt: nothing to refund."""
    if trigger not in REFUND_TRIGGERS:
        raise ValidationFailed("退还依据无效 (bad refund trigger)", code="bad_refund_trigger",
                               detail={"allowed": list(REFUND_TRIGGERS)})  # fmt: skip
    with transaction.atomic():
        deposit = _locked(deposit)
        if deposit.status not in HELD:
            return deposit
        deposit.status = DepositStatus.REFUND_DUE
        deposit.refund_trigger = trigger
        deposit.refund_due = refund_due_date(deposit.section, at)
        deposit.save(update_fields=["status", "refund_trigger", "refund_due"])
        append_event(actor=actor, event_type="bidding.refund_scheduled", subject=_subject(deposit),
                     payload={"trigger": trigger, "at": at.isoformat(),
                              "due": deposit.refund_due.isoformat()})  # fmt: skip
    return deposit


def mark_refunded(*, actor: Any, deposit: Deposit, reference: str) -> Deposit:
    """The center's finance records the refund transfer (or the guarantee's release)."""
    if not _is_system(actor, CLI):
        require(actor, "bidding.refund")
    reference = checks.text(reference, "reference", max_length=64)
    with transaction.atomic():
        deposit = _locked(deposit)
        if deposit.status == DepositStatus.REFUNDED and deposit.refund_reference == reference:
            return deposit
        if deposit.status != DepositStatus.REFUND_DUE:
            raise Conflict("该保证金不在待退还状态 (no refund due)", code="refund_not_due",
                           detail={"status": deposit.status})  # fmt: skip
        deposit.status, deposit.refund_reference = DepositStatus.REFUNDED, reference
        deposit.refunded_at = clock.now()
        deposit.save(update_fields=["status", "refund_reference", "refunded_at"])
        late = (clock.today() - deposit.refund_due).days if deposit.refund_due else 0
        append_event(actor=actor, event_type="bidding.deposit_refunded", subject=_subject(deposit),
                     payload={"reference": reference, "days_late": max(late, 0)})  # fmt: skip
    return deposit


# --- selectors ----------------------------------------------------------------------------------


def deposit_status(section: Section, entity: Entity) -> str:
    """``not_required``, ``missing`` or the deposit's status (for bid submission)."""
    if section.deposit <= 0:
        return "not_required"
    status = (
        Deposit.objects.filter(section=section, entity=entity)
        .values_list("status", flat=True)
        .first()
    )
    return status or "missing"


def deposit_satisfied(section: Section, entity: Entity) -> bool:
    return deposit_status(section, entity) in {"not_required", "paid", "guaranteed", "exempt"}


def _member_entities(actor: Any) -> QuerySet[Membership, Any]:
    return Membership.objects.filter(user_id=actor.pk).values("entity_id")


def _base() -> QuerySet[Deposit]:
    return Deposit.objects.select_related("section__project", "entity")


def my_deposits(actor: Any) -> QuerySet[Deposit]:
    """The deposits of every entity the actor acts for."""
    if not is_authenticated(actor):
        require(actor, "bidding.deposit")
    return _base().filter(entity_id__in=_member_entities(actor))


def _staff(actor: Any) -> bool:
    return _is_system(actor, CLI) or holds_role_permission(actor, "bidding.view_deposit")


def deposits_for_section(actor: Any, section: Section) -> QuerySet[Deposit]:
    """Center staff and supervisors: every deposit, but only after the deadline (R42). Anyone
    else: their own entities' deposits."""
    if _staff(actor):
        if section.bid_deadline is None or clock.now() < section.bid_deadline:
            raise PermissionDenied("投标截止前不公开保证金情况（R42）(sealed until the deadline)",
                                   code="sealed_until_deadline")  # fmt: skip
        return _base().filter(section=section)
    return my_deposits(actor).filter(section=section)


def get_deposit_for(actor: Any, deposit_id: int, *, action: str = "view") -> Deposit:
    """One deposit, if the actor may ``view`` it (its entity's members; staff after the deadline)
    or ``refund`` it; otherwise not found."""
    deposit = _base().filter(pk=deposit_id).first()
    if deposit is None:
        raise NotFound("保证金不存在 (no such deposit)", code="deposit_not_found")
    if action == "refund" and (_is_system(actor, CLI) or allowed(actor, "bidding.refund")):
        return deposit
    if action == "view" and _staff(actor):
        deadline = deposit.section.bid_deadline
        if deadline is not None and clock.now() >= deadline:
            return deposit
    if (
        is_authenticated(actor)
        and Membership.objects.filter(user_id=actor.pk, entity_id=deposit.entity_id).exists()
    ):
        return deposit
    raise NotFound("保证金不存在 (no such deposit)", code="deposit_not_found")


def sealed_until_deadline(section: Section) -> bool:
    """Whether the section's deadline is still ahead: who deposits for it stays sealed (R42)."""
    return section.bid_deadline is None or clock.now() < section.bid_deadline


def refunds(actor: Any, *, overdue_only: bool = False) -> QuerySet[Deposit]:
    """Deposits due for refund, earliest first (finance's work list)."""
    if not _is_system(actor, CLI):
        require(actor, "bidding.refund")
    rows = _base().filter(status=DepositStatus.REFUND_DUE).order_by("refund_due", "pk")
    return rows.filter(refund_due__lt=clock.today()) if overdue_only else rows


def overdue_refunds(today: date) -> list[dict[str, Any]]:
    """Warnings: refunds past their due date (R12/R13; procurement owes interest when late)."""
    rows = _base().filter(status=DepositStatus.REFUND_DUE, refund_due__lt=today)
    return [
        {
            "deposit": d.pk,
            "section": d.section.label,
            "entity": d.entity.uscc,
            "due": d.refund_due,
            "days_overdue": (today - d.refund_due).days if d.refund_due else 0,
            "message": f"保证金退还逾期 {(today - d.refund_due).days if d.refund_due else 0} 日",
        }
        for d in rows.order_by("refund_due", "pk")
    ]
