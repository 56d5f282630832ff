"""Deposits (投标保证金) and guarantees, sealed bids (加密投标文件) and the opening (开标).

Before the bid deadline the bid register reveals nothing: a bid row holds no section and no
bidder in clear — only keyed tags (``section_tag``, ``bidder_tag``) and the identity sealed under
the bid-register key, which lives outside the database (``bidding.register``). Counting a
section's bids or seeing who bid needs that key, and the services use it only after the deadline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.bidding.states import BidStatus, DepositMethod, DepositStatus, OpeningStatus

User = settings.AUTH_USER_MODEL


class Deposit(models.Model):
    """One bidder's deposit for one section: a virtual sub-account to pay into, an electronic
    guarantee, or an exemption; then its refund."""

    section = models.ForeignKey("tendering.Section", on_delete=models.PROTECT, related_name="+")
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("缴纳方式"), max_length=12, choices=DepositMethod.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=DepositStatus.choices, default=DepositStatus.PENDING
    )
    amount = models.DecimalField(_("应缴金额（元）"), max_digits=16, decimal_places=2)
    virtual_account = models.CharField(_("虚拟子账号"), max_length=32, unique=True, null=True)
    paid_amount = models.DecimalField(
        _("到账金额（元）"), null=True, blank=True, max_digits=16, decimal_places=2
    )
    paid_at = models.DateTimeField(_("到账时间"), null=True, blank=True)
    payer_account = models.CharField(_("付款账号"), max_length=40, blank=True)
    payer_name = models.CharField(_("付款户名"), max_length=200, blank=True)
    payer_bank = models.CharField(_("付款行"), max_length=120, blank=True)
    guarantee_issuer = models.CharField(_("保函出具机构"), max_length=200, blank=True)
    guarantee_number = models.CharField(_("保函编号"), max_length=64, blank=True)
    guarantee_signature = models.ForeignKey(
        "trust.DocumentSignature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    guarantee_valid_until = models.DateField(_("保函有效期至"), null=True, blank=True)
    exemption_reason = models.CharField(_("免缴理由"), max_length=300, blank=True)
    refund_due = models.DateField(_("应退还日期"), null=True, blank=True)
    refund_trigger = models.CharField(_("退还依据"), max_length=40, blank=True)
    refunded_at = models.DateTimeField(_("退还时间"), null=True, blank=True)
    refund_reference = models.CharField(_("退款流水号"), max_length=64, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("投标保证金")
        verbose_name_plural = _("投标保证金")
        constraints = [
            models.UniqueConstraint(fields=["section", "entity"], name="uniq_deposit"),
        ]


class BankNotification(models.Model):
    """A credit notice from the deposit bank (到账通知). Imported once per bank reference."""

    bank_reference = models.CharField(_("银行流水号"), max_length=64, unique=True)
    virtual_account = models.CharField(_("虚拟子账号"), max_length=32)
    amount = models.DecimalField(_("金额（元）"), max_digits=16, decimal_places=2)
    payer_account = models.CharField(_("付款账号"), max_length=40)
    payer_name = models.CharField(_("付款户名"), max_length=200)
    payer_bank = models.CharField(_("付款行"), max_length=120, blank=True)
    credited_at = models.DateTimeField(_("到账时间"))
    received_at = models.DateTimeField()
    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, null=True, related_name="+")
    outcome = models.CharField(max_length=32)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("银行到账通知")
        verbose_name_plural = _("银行到账通知")


class Bid(models.Model):
    """A sealed bid in the register. See the module docstring for what is (not) in clear."""

    public_id = models.CharField(max_length=32, unique=True)
    section_tag = models.CharField(max_length=64, db_index=True)
    bidder_tag = models.CharField(max_length=64, db_index=True)
    owner_tag = models.CharField(max_length=64, db_index=True)
    sealed_identity = models.TextField()
    envelope_id = models.CharField(max_length=32, unique=True)
    storage_name = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField()
    file_sha256 = models.CharField(max_length=64)
    manifest_digest = models.CharField(max_length=64)
    receipt_seq = models.BigIntegerField(null=True)
    receipt_entry = models.BigIntegerField(null=True)
    receipt_signature = models.TextField(blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    status = models.CharField(max_length=16, choices=BidStatus.choices, default=BidStatus.RECEIVED)
    received_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # filled in at opening, from the sealed identity and the decrypted bid form
    section = models.ForeignKey(
        "tendering.Section", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entity = models.ForeignKey(
        "registry.Entity", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    key_submitted_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=40, blank=True)
    price = models.DecimalField(null=True, blank=True, max_digits=16, decimal_places=2)
    duration_days = models.PositiveIntegerField(null=True, blank=True)
    bid_form = models.JSONField(null=True, blank=True)
    files = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]
        verbose_name = _("投标文件")
        verbose_name_plural = _("投标文件")


class Opening(models.Model):
    """The opening session (开标) of one section, and its signed record."""

    section = models.OneToOneField(
        "tendering.Section", on_delete=models.PROTECT, related_name="opening"
    )
    status = models.CharField(max_length=12, choices=OpeningStatus.choices)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    window_ends_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    bid_count = models.PositiveIntegerField(default=0)
    record = models.JSONField(null=True, blank=True)
    record_signature = models.TextField(blank=True)
    record_key_id = models.CharField(max_length=64, blank=True)
    record_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("开标")
        verbose_name_plural = _("开标")


class OpeningObjection(models.Model):
    """An objection raised on the spot during the opening (开标现场异议), answered there."""

    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="objections")
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    raised_at = models.DateTimeField()
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]
        verbose_name = _("开标异议")
        verbose_name_plural = _("开标异议")
