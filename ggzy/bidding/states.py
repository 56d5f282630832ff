"""States of deposits, bids and openings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DepositMethod(models.TextChoices):
    TRANSFER = "transfer", _("银行转账（虚拟子账户）")
    GUARANTEE = "guarantee", _("电子保函")
    EXEMPT = "exempt", _("免缴")


class DepositStatus(models.TextChoices):
    PENDING = "pending", _("待缴纳")
    PAID = "paid", _("已缴纳")
    GUARANTEED = "guaranteed", _("保函已验证")
    EXEMPT = "exempt", _("免缴")
    REFUND_DUE = "refund_due", _("待退还")
    REFUNDED = "refunded", _("已退还")


class BidStatus(models.TextChoices):
    RECEIVED = "received", _("已递交")
    WITHDRAWN = "withdrawn", _("已撤回")
    REPLACED = "replaced", _("已被替换")
    OPENED = "opened", _("已解密")
    REVOKED = "revoked", _("解密失败（投标人原因，视为撤销）")
    PLATFORM_FAILED = "platform_failed", _("解密失败（非投标人原因，视为撤回）")


ACTIVE_BID = frozenset({BidStatus.RECEIVED, BidStatus.OPENED})


class OpeningStatus(models.TextChoices):
    DECRYPTING = "decrypting", _("解密中")
    CLOSED = "closed", _("开标结束")
    FAILED = "failed", _("不足三家，不予开标")
