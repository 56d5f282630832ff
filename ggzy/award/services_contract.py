"""Result writes, part two: the contract (合同) and its money obligations (三金一款).

The tenderer records the contract as signed. The amount is the award's (法46: the contract
follows the tender and the winning bid), the performance security at most 10% of it (R14) and,
under government procurement, not in cash (政府采购法实施条例48).

A contract signed more than 30 days after the award notice (R26/R27) is recorded, flagged
``late``, and warned about — not refused: the law puts the duty on the parties, the contract
exists whatever the platform says, and refusing to record it would hide exactly the fact
supervision needs. What cannot have happened is refused: a signing date in the future or
before the award notice. Publication (2 working days) and filing (7 working days) under
government procurement (R27) are due dates, warned about when they pass.

Recording the contract makes every deposit of the section due for refund that is not already
(R12: everyone under works; R13: the winner under procurement, the losers being due since the
award notice).
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction

from ggzy.award import inputs, periods
from ggzy.award.models import AwardNotice, Contract, Obligation
from ggzy.award.services import SYSTEM, event, locked_section, require_manager, rules_for
from ggzy.award.states import (
    DEPOSIT_KINDS,
    ENTERED_KINDS,
    NON_CASH,
    ObligationKind,
    ObligationStatus,
    Regime,
    SecurityForm,
    obligation_moves,
)
from ggzy.bidding.deposits import schedule_refund
from ggzy.bidding.models import Deposit
from ggzy.core import clock
from ggzy.core.errors import Conflict, ValidationFailed
from ggzy.core.money import CENT
from ggzy.tendering import checks
from ggzy.tendering.models import Section

DEFAULT_SECURITY_RATIO = "0.10"  # R14, when a ruleset does not carry it


def _award(section: Section) -> AwardNotice:
    award = AwardNotice.objects.select_related("entity").filter(section=section).first()
    if award is None:
        raise Conflict("尚未发出中标通知书 (no award notice yet)", code="award_not_issued")
    return award


def _check_security(
    section: Section, amount: Decimal, security: Decimal, form: str, regime: str
) -> None:
    if form not in SecurityForm.values:
        raise ValidationFailed("履约保证金形式无效 (bad security form)", code="bad_security_form",
                               detail={"field": "security_form"})  # fmt: skip
    if (security == 0) != (form == SecurityForm.NONE):
        raise ValidationFailed("未要求履约保证金时金额应为0，否则须选择提交形式 (amount and form "
                               "disagree)", code="bad_security_form",
                               detail={"field": "security_form"})  # fmt: skip
    ratio = Decimal(str(section.project.ruleset.rules.get("performance_security_max_ratio",
                                                         DEFAULT_SECURITY_RATIO)))  # fmt: skip
    # exact: 10% of 9,000,000.05 is 900,000.005, which 900,000.01 exceeds (no rounding up)
    if security > amount * ratio:
        ceiling = (amount * ratio).quantize(CENT, rounding=ROUND_DOWN)
        raise ValidationFailed(
            f"履约保证金不得超过合同金额的{ratio * 100:.0f}%（R14）(performance security too high)",
            code="performance_security_too_high",
            detail={"field": "security_amount", "rule": "R14", "max": str(ceiling)},
        )
    if regime == Regime.PROCUREMENT.value and form not in NON_CASH and form != SecurityForm.NONE:
        raise ValidationFailed(
            "政府采购履约保证金应以非现金形式提交（政府采购法实施条例第48条）(non-cash only)",
            code="performance_security_cash_not_allowed",
            detail={"field": "security_form", "rule": "R14"},
        )


def record_contract(
    *,
    actor: Any,
    section: Section,
    amount: Any,
    signed_on: date,
    security_amount: Any = "0",
    security_form: str = SecurityForm.NONE,
) -> Contract:
    """The tenderer records the signed contract; see the module docstring for what is refused
    and what is only flagged."""
    require_manager(actor, section)
    amount = inputs.money(amount, "amount")
    security = inputs.money(security_amount, "security_amount", positive=False)
    signed_on = inputs.day(signed_on, "signed_on")
    today = clock.today()
    with transaction.atomic():
        section = locked_section(section)
        award = _award(section)
        if Contract.objects.filter(award=award).exists():
            raise Conflict("合同已登记 (the contract is recorded)", code="contract_exists")
        if amount != award.amount:
            raise ValidationFailed("合同金额应与中标金额一致 (the amount differs from the award)",
                                   code="contract_amount_mismatch",
                                   detail={"field": "amount", "award_amount": str(award.amount)})  # fmt: skip
        rules = rules_for(section)
        _check_security(section, amount, security, security_form, rules.regime.value)
        if signed_on > today:
            raise ValidationFailed("签订日期不得晚于今天 (signed in the future)",
                                   code="signed_in_future", detail={"field": "signed_on"})  # fmt: skip
        if signed_on < periods.local_date(award.issued_at):
            raise ValidationFailed("签订日期不得早于中标通知书发出之日 (signed before the award)",
                                   code="signed_before_award", detail={"field": "signed_on"})  # fmt: skip
        deadline = periods.contract_deadline(award.issued_at, rules)
        now = clock.now()
        contract = Contract.objects.create(
            public_id=secrets.token_hex(16), award=award, amount=amount, signed_on=signed_on,
            deadline=deadline, late=signed_on > deadline, security_amount=security,
            security_form=security_form,
            publication_due=periods.publication_due(signed_on, rules),
            filing_due=periods.filing_due(signed_on, rules),
            recorded_by=actor, recorded_at=now,
        )  # fmt: skip
        if security > 0:
            Obligation.objects.create(
                contract=contract, kind=ObligationKind.PERFORMANCE_DEPOSIT, name="履约保证金",
                amount=security, due_on=signed_on, created_by=actor, created_at=now,
            )  # fmt: skip
        event(actor, section, "award.contract_recorded", {
            "contract": contract.public_id, "amount": str(amount),
            "signed_on": signed_on.isoformat(), "deadline": deadline.isoformat(),
            "late": contract.late, "rule": rules.contract_within.rule,
            "security_amount": str(security), "security_form": security_form,
            "publication_due": _iso_day(contract.publication_due),
            "filing_due": _iso_day(contract.filing_due),
        })  # fmt: skip
        at = datetime.combine(signed_on, time.min, tzinfo=clock.CHINA)
        for deposit in Deposit.objects.filter(section=section):
            schedule_refund(deposit=deposit, trigger="contract_signed", at=at, actor=SYSTEM)
    return contract


def _iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _locked(contract: Contract) -> Contract:
    return (
        Contract.objects.select_for_update()
        .select_related("award__section__project")
        .get(pk=contract.pk)
    )


def publish_contract(*, actor: Any, contract: Contract) -> Contract:
    """The contract is published on the platform (R27: within 2 working days, procurement)."""
    section = contract.award.section
    require_manager(actor, section)
    with transaction.atomic():
        contract = _locked(contract)
        if contract.published_at is not None:
            raise Conflict("合同已公告 (already published)", code="already_published")
        contract.published_at = clock.now()
        contract.save(update_fields=["published_at"])
        due = contract.publication_due
        event(actor, section, "award.contract_published", {
            "contract": contract.public_id,
            "late": due is not None and clock.today() > due, "due": _iso_day(due),
        })  # fmt: skip
    return contract


def file_contract(*, actor: Any, contract: Contract, reference: str) -> Contract:
    """The tenderer records the filing of the contract's copy (备案; R27: within 7 working days
    under government procurement)."""
    section = contract.award.section
    require_manager(actor, section)
    reference = checks.text(reference, "reference", max_length=64)
    with transaction.atomic():
        contract = _locked(contract)
        if contract.filed_at is not None:
            raise Conflict("合同已备案 (already filed)", code="already_filed")
        contract.filed_at, contract.filing_reference = clock.now(), reference
        contract.save(update_fields=["filed_at", "filing_reference"])
        due = contract.filing_due
        event(actor, section, "award.contract_filed", {
            "contract": contract.public_id, "reference": reference,
            "late": due is not None and clock.today() > due, "due": _iso_day(due),
        })  # fmt: skip
    return contract


# --- obligations (三金一款) ------------------------------------------------------------------------


def add_obligation(
    *,
    actor: Any,
    contract: Contract,
    kind: str,
    name: str,
    amount: Any,
    due_on: date,
    refund_due_on: date | None = None,
) -> Obligation:
    """The tenderer enters a quality deposit (with when it is to be refunded) or a progress
    payment of the schedule. Progress payments together stay within the contract amount."""
    section = contract.award.section
    require_manager(actor, section)
    if kind not in ENTERED_KINDS:
        raise ValidationFailed("类别无效 (bad kind)", code="bad_obligation_kind",
                               detail={"field": "kind", "allowed": sorted(ENTERED_KINDS)})  # fmt: skip
    name = checks.text(name, "name", max_length=100)
    amount = inputs.money(amount, "amount")
    due_on = inputs.day(due_on, "due_on")
    if refund_due_on is not None:
        refund_due_on = inputs.day(refund_due_on, "refund_due_on")
        if kind not in DEPOSIT_KINDS:
            raise ValidationFailed("只有保证金有退还日期 (only deposits are refunded)",
                                   code="refund_not_applicable",
                                   detail={"field": "refund_due_on"})  # fmt: skip
        if refund_due_on < due_on:
            raise ValidationFailed("退还日期不得早于应缴日期 (refund before payment)",
                                   code="bad_refund_date", detail={"field": "refund_due_on"})  # fmt: skip
    with transaction.atomic():
        contract = _locked(contract)
        if kind == ObligationKind.PROGRESS_PAYMENT:
            scheduled = sum(
                (o.amount for o in contract.obligations.filter(kind=kind)), start=Decimal(0)
            )
            if scheduled + amount > contract.amount:
                raise ValidationFailed(
                    "工程款合计不得超过合同金额 (payments exceed the contract amount)",
                    code="payments_exceed_contract",
                    detail={"field": "amount", "scheduled": str(scheduled),
                            "contract_amount": str(contract.amount)},
                )  # fmt: skip
        row = Obligation.objects.create(
            contract=contract, kind=kind, name=name, amount=amount, due_on=due_on,
            refund_due_on=refund_due_on, created_by=actor, created_at=clock.now(),
        )  # fmt: skip
        event(actor, section, "award.obligation_added", {
            "contract": contract.public_id, "obligation": row.pk, "kind": kind,
            "amount": str(amount), "due_on": due_on.isoformat(),
            "refund_due_on": _iso_day(refund_due_on),
        })  # fmt: skip
    return row


def settle_obligation(
    *, actor: Any, obligation: Obligation, status: str, on: date, reference: str = ""
) -> Obligation:
    """Record a payment (``paid``) or a deposit's refund (``refunded``) on the day it happened:
    not in the future, a refund not before the payment, a payment not before the contract was
    signed — the performance deposit not before the award notice (the winner gives it to
    obtain the contract, 条例58)."""
    section = obligation.contract.award.section
    require_manager(actor, section)
    on = inputs.day(on, "on")
    reference = checks.text(reference, "reference", max_length=64, required=False)
    if on > clock.today():
        raise ValidationFailed("日期不得晚于今天 (a day in the future)", code="date_in_future",
                               detail={"field": "on"})  # fmt: skip
    with transaction.atomic():
        row = (
            Obligation.objects.select_for_update()
            .select_related("contract__award")
            .get(pk=obligation.pk)
        )
        if status not in obligation_moves(row.kind, row.status):
            raise Conflict("当前状态不允许此操作 (not allowed in the current status)",
                           code="wrong_state",
                           detail={"status": row.status, "target": status})  # fmt: skip
        _check_settled_on(row, status, on)
        if status == ObligationStatus.PAID:
            row.paid_on = on
        else:
            row.refunded_on = on
        row.status = status
        row.reference = reference or row.reference
        row.save(update_fields=["status", "paid_on", "refunded_on", "reference"])
        event(actor, section, "award.obligation_settled", {
            "obligation": row.pk, "kind": row.kind, "status": status, "on": on.isoformat(),
            "reference": reference,
        })  # fmt: skip
    return row


def _check_settled_on(row: Obligation, status: str, on: date) -> None:
    if status == ObligationStatus.REFUNDED:
        if row.paid_on is not None and on < row.paid_on:
            raise ValidationFailed("退还日期不得早于缴纳日期 (refunded before it was paid)",
                                   code="refunded_before_paid",
                                   detail={"field": "on", "paid_on": row.paid_on.isoformat()})  # fmt: skip
        return
    contract = row.contract
    if row.kind == ObligationKind.PERFORMANCE_DEPOSIT:
        issued = periods.local_date(contract.award.issued_at)
        if on < issued:
            raise ValidationFailed("履约保证金缴纳日期不得早于中标通知书发出之日 (paid before the "
                                   "award)", code="paid_before_award",
                                   detail={"field": "on", "issued_on": issued.isoformat()})  # fmt: skip
    elif on < contract.signed_on:
        raise ValidationFailed("缴纳/支付日期不得早于合同签订日期 (paid before the contract)",
                               code="paid_before_contract",
                               detail={"field": "on",
                                       "signed_on": contract.signed_on.isoformat()})  # fmt: skip
