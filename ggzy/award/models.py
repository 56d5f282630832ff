"""The result of a section (中标结果): the candidates' publicity taken from the signed evaluation
report, the bidders' objections to it, the award notice signed by the platform, the contract,
and the contract's money obligations (三金一款). The stage a section is at is derived
(``ggzy.award.states.stage``), never stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.award.states import (
    ObjectionStatus,
    ObligationKind,
    ObligationStatus,
    Regime,
    SecurityForm,
    WithdrawalGround,
)

User = settings.AUTH_USER_MODEL


class Publicity(models.Model):
    """The publicity of a section's winning candidates (中标候选人公示, R24/R25): up to three,
    ranked, exactly as the signed report ranks them; public from ``starts_at``, open to
    objections until ``ends_at``. A publicity started after the legal period (R25 / R31) is
    recorded as it happened, flagged ``late``."""

    public_id = models.CharField(max_length=32, unique=True)
    section = models.OneToOneField(
        "tendering.Section", on_delete=models.PROTECT, related_name="award_publicity"
    )
    session = models.OneToOneField(
        "evaluation.EvaluationSession", on_delete=models.PROTECT, related_name="publicity"
    )
    regime = models.CharField(_("适用规则"), max_length=12, choices=Regime.choices)
    report_sha256 = models.CharField(_("评标报告SHA-256"), max_length=64)
    report_signed_at = models.DateTimeField(_("评标报告签署时间"))
    starts_at = models.DateTimeField(_("公示开始时间"))
    ends_at = models.DateTimeField(_("公示结束时间"))
    late = models.BooleanField(_("逾期公示"), default=False)
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("发布时间"))

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("中标候选人公示")
        verbose_name_plural = _("中标候选人公示")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="publicity_has_length"
            ),
        ]

    def __str__(self) -> str:
        return f"中标候选人公示 {self.public_id}"


class Candidate(models.Model):
    """One winning candidate (中标候选人), in the report's order: its label in the report, its
    bid, its price and points."""

    publicity = models.ForeignKey(Publicity, on_delete=models.CASCADE, related_name="candidates")
    rank = models.PositiveSmallIntegerField(_("排名"))
    label = models.CharField(_("暗标编号"), max_length=8)
    bid = models.ForeignKey("bidding.Bid", on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("投标报价（元）"), max_digits=16, decimal_places=2)
    evaluated_price = models.DecimalField(
        _("评审价（元）"), null=True, blank=True, max_digits=16, decimal_places=2
    )
    total = models.DecimalField(
        _("综合得分"), null=True, blank=True, max_digits=8, decimal_places=2
    )
    # 条例55: a candidate that drops out before the award (never deleted: the publicity stands)
    withdrawn_at = models.DateTimeField(_("退出时间"), null=True, blank=True)
    withdrawal_ground = models.CharField(
        _("退出情形"), max_length=20, choices=WithdrawalGround.choices, blank=True
    )
    withdrawal_reason = models.TextField(_("退出说明"), blank=True)

    class Meta:
        ordering = ["publicity", "rank"]
        verbose_name = _("中标候选人")
        verbose_name_plural = _("中标候选人")
        constraints = [
            models.UniqueConstraint(fields=["publicity", "rank"], name="uniq_candidate_rank"),
            models.UniqueConstraint(fields=["publicity", "entity"], name="uniq_candidate_entity"),
            models.CheckConstraint(
                condition=models.Q(rank__gte=1, rank__lte=3), name="candidate_rank_r24"
            ),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="candidate_price"),
        ]


class Objection(models.Model):
    """A bidder's objection to the result (对评标结果的异议, 条例54): raised during the publicity,
    answered by the tenderer within the period (R9 / R30); the award waits for the answer."""

    public_id = models.CharField(max_length=32, unique=True)
    publicity = models.ForeignKey(Publicity, on_delete=models.CASCADE, related_name="objections")
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("异议事项及理由"))
    raised_at = models.DateTimeField(_("提出时间"))
    reply_due = models.DateTimeField(_("答复期限"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    reply = models.TextField(_("答复"), blank=True)
    replied_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]
        verbose_name = _("中标结果异议")
        verbose_name_plural = _("中标结果异议")

    @property
    def late(self) -> bool:
        return self.replied_at is not None and self.replied_at >= self.reply_due


class AwardNotice(models.Model):
    """The award notice (中标通知书): the winner the tenderer confirmed — normally candidate 1;
    another only with a recorded reason — as a canonical record signed by the platform's key."""

    public_id = models.CharField(max_length=32, unique=True)
    section = models.OneToOneField(
        "tendering.Section", on_delete=models.PROTECT, related_name="award_notice"
    )
    publicity = models.OneToOneField(Publicity, on_delete=models.PROTECT, related_name="award")
    winner = models.ForeignKey(Candidate, on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("中标金额（元）"), max_digits=16, decimal_places=2)
    reason = models.TextField(_("未选第一名的理由"), blank=True)
    record = models.JSONField(_("通知书内容"))
    record_sha256 = models.CharField(max_length=64)
    signature = models.TextField()
    key_id = models.CharField(max_length=64)
    record_seq = models.BigIntegerField(null=True, blank=True)
    validity_warning = models.BooleanField(_("晚于R37期限"), default=False)
    # 87号令68 / R31: the purchaser did not decide in time, so the first candidate is deemed chosen
    deemed = models.BooleanField(_("视为确定排名第一"), default=False)
    # R28 (法47): the tenderer's written report to the supervisor within 15 days of the award
    report_filed_at = models.DateTimeField(_("书面报告提交时间"), null=True, blank=True)
    report_reference = models.CharField(_("书面报告文号"), max_length=64, blank=True)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("发出时间"))

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("中标通知书")
        verbose_name_plural = _("中标通知书")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="award_amount"),
        ]

    def __str__(self) -> str:
        return f"中标通知书 {self.public_id}"


class Contract(models.Model):
    """The contract (合同) the tenderer and the winner signed, as the tenderer records it. A
    contract signed after the legal period is recorded as it happened, flagged ``late``."""

    public_id = models.CharField(max_length=32, unique=True)
    award = models.OneToOneField(AwardNotice, on_delete=models.PROTECT, related_name="contract")
    amount = models.DecimalField(_("合同金额（元）"), max_digits=16, decimal_places=2)
    signed_on = models.DateField(_("签订日期"))
    deadline = models.DateField(_("法定签订期限"))
    late = models.BooleanField(_("逾期签订"), default=False)
    security_amount = models.DecimalField(
        _("履约保证金（元）"), max_digits=16, decimal_places=2, default=0
    )
    security_form = models.CharField(
        _("履约保证金形式"), max_length=16, choices=SecurityForm.choices
    )
    publication_due = models.DateField(_("公告期限"), null=True, blank=True)
    published_at = models.DateTimeField(_("公告时间"), null=True, blank=True)
    filing_due = models.DateField(_("备案期限"), null=True, blank=True)
    filed_at = models.DateTimeField(_("备案时间"), null=True, blank=True)
    filing_reference = models.CharField(_("备案编号"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("登记时间"))

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="contract_amount"),
            models.CheckConstraint(
                condition=models.Q(security_amount__gte=0), name="contract_security"
            ),
        ]

    def __str__(self) -> str:
        return f"合同 {self.public_id}"


class Obligation(models.Model):
    """One of a contract's money obligations (三金一款) other than the bid deposit (which is the
    ``bidding.Deposit`` itself): the performance deposit, a quality deposit, a progress payment;
    each with its due date and, for a deposit, when it is to be refunded."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="obligations")
    kind = models.CharField(_("类别"), max_length=20, choices=ObligationKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    amount = models.DecimalField(_("金额（元）"), max_digits=16, decimal_places=2)
    due_on = models.DateField(_("应缴/应付日期"))
    refund_due_on = models.DateField(_("应退还日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ObligationStatus.choices, default=ObligationStatus.DUE
    )
    paid_on = models.DateField(_("缴纳/支付日期"), null=True, blank=True)
    refunded_on = models.DateField(_("退还日期"), null=True, blank=True)
    reference = models.CharField(_("凭证号"), max_length=64, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["contract", "due_on", "pk"]
        verbose_name = _("三金一款")
        verbose_name_plural = _("三金一款")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="obligation_amount"),
        ]
