"""States of the result of a section (中标结果): the stage it is at, derived from what is stored
and the clock; the objection and obligation statuses with their transition tables. Pure: no
queries.

A section's stage is never stored: the publicity runs from ``starts_at`` to ``ends_at`` on the
clock, an unanswered objection suspends the award (条例54, R9), and the award notice and the
contract are rows that exist or do not.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class Regime(models.TextChoices):
    WORKS = "works", _("工程建设项目招标投标")
    PROCUREMENT = "procurement", _("政府采购")


class Stage(models.TextChoices):
    """Where a section's result is now (derived, never stored)."""

    EVALUATING = "evaluating", _("评标尚未完成")
    AWAITING = "awaiting", _("评标报告已签署，待公示候选人")
    SCHEDULED = "scheduled", _("候选人公示待开始")
    PUBLICITY = "publicity", _("中标候选人公示中")
    SUSPENDED = "suspended", _("异议待答复（暂停）")
    ENDED = "ended", _("公示期满，待确定中标人")
    AWARDED = "awarded", _("已发出中标通知书，待签订合同")
    CONTRACTED = "contracted", _("合同已签订")


class WithdrawalGround(models.TextChoices):
    """Why a candidate drops out before the award (条例55): the next one by rank may then be
    chosen, or the section tendered again."""

    GAVE_UP = "gave_up", _("放弃中标")
    FORCE_MAJEURE = "force_majeure", _("因不可抗力不能履行合同")
    NO_SECURITY = "no_security", _("不按照招标文件要求提交履约保证金")
    UNLAWFUL = "unlawful", _("被查实存在影响中标结果的违法行为")


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")


OBJECTION_TRANSITIONS: dict[str, frozenset[str]] = {
    ObjectionStatus.OPEN: frozenset({ObjectionStatus.ANSWERED}),
    ObjectionStatus.ANSWERED: frozenset(),
}


class SecurityForm(models.TextChoices):
    """How the winner provides the performance security (履约保证金)."""

    NONE = "none", _("不要求")
    BANK_GUARANTEE = "bank_guarantee", _("银行保函")
    GUARANTEE = "guarantee", _("担保机构保函")
    INSURANCE = "insurance", _("保证保险")
    CHEQUE = "cheque", _("支票、汇票、本票")
    CASH = "cash", _("现金或转账")


# 政府采购法实施条例48: the performance security is given in a non-cash form
NON_CASH = frozenset(SecurityForm.values) - {SecurityForm.CASH, SecurityForm.NONE}


class ObligationKind(models.TextChoices):
    """三金一款: the bid deposit (from ``bidding.Deposit``), the performance deposit, the quality
    deposit (retention) and the progress payments."""

    BID_DEPOSIT = "bid_deposit", _("投标保证金")
    PERFORMANCE_DEPOSIT = "performance_deposit", _("履约保证金")
    QUALITY_DEPOSIT = "quality_deposit", _("质量保证金")
    PROGRESS_PAYMENT = "progress_payment", _("工程款（进度款）")


DEPOSIT_KINDS = frozenset({ObligationKind.PERFORMANCE_DEPOSIT, ObligationKind.QUALITY_DEPOSIT})
# what the tenderer enters itself (the performance deposit comes with the contract)
ENTERED_KINDS = frozenset({ObligationKind.QUALITY_DEPOSIT, ObligationKind.PROGRESS_PAYMENT})


class ObligationStatus(models.TextChoices):
    DUE = "due", _("待履行")
    PAID = "paid", _("已缴纳/已支付")
    REFUNDED = "refunded", _("已退还")


def obligation_moves(kind: str, status: str) -> frozenset[str]:
    """Statuses an obligation of ``kind`` may move to from ``status``: a payment is paid once;
    a deposit is paid (received) and later refunded."""
    if status == ObligationStatus.DUE:
        return frozenset({ObligationStatus.PAID})
    if status == ObligationStatus.PAID and kind in DEPOSIT_KINDS:
        return frozenset({ObligationStatus.REFUNDED})
    return frozenset()


def stage(
    *,
    report_signed: bool,
    published: bool,
    starts_at: datetime | None,
    ends_at: datetime | None,
    open_objections: int,
    awarded: bool,
    contracted: bool,
    now: datetime,
) -> Stage:
    if contracted:
        return Stage.CONTRACTED
    if awarded:
        return Stage.AWARDED
    if not published or starts_at is None or ends_at is None:
        return Stage.AWAITING if report_signed else Stage.EVALUATING
    if open_objections:
        return Stage.SUSPENDED
    if now < starts_at:
        return Stage.SCHEDULED
    if now < ends_at:
        return Stage.PUBLICITY
    return Stage.ENDED


class Level(models.TextChoices):
    """How urgent a due date is: coming within the warning window, passed, or passed by more
    than the escalation window."""

    UPCOMING = "upcoming", _("即将到期")
    OVERDUE = "overdue", _("已逾期")
    ESCALATED = "escalated", _("严重逾期")
