"""The national data exchange (国家公共资源交易平台数据交换): the receivers the platform pushes
to, the signed batches it built per dataset, what it last exported of each record (the change
cursor), and each receiver's delivery of each batch with its acknowledgement."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Receiver(models.Model):
    """A platform the batches are pushed to (the provincial or national service platform). It
    holds no secret: ``credential_ref`` names where the credential lives — ``env:NAME`` (an
    environment variable holding a bearer token) — or is empty for none."""

    name = models.SlugField(_("名称"), max_length=64, unique=True)
    url = models.URLField(_("接收地址"), max_length=500)
    active = models.BooleanField(_("启用"), default=True)
    credential_ref = models.CharField(_("凭据引用"), max_length=120, blank=True)
    datasets = models.JSONField(_("接收的数据集"), default=list, blank=True)  # [] = every one
    created_at = models.DateTimeField(_("登记时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("数据接收方")
        verbose_name_plural = _("数据接收方")

    def __str__(self) -> str:
        return self.name

    def takes(self, dataset: str) -> bool:
        return not self.datasets or dataset in self.datasets


class Batch(models.Model):
    """One signed batch of a dataset: the records that changed since the dataset's previous
    batch, as canonical JSON bytes (stored exactly as sent), their SHA-256 and SM3 digests and
    the platform's signature over the bytes. Never changed once built."""

    batch_id = models.CharField(_("批次号"), max_length=64, unique=True)
    dataset = models.CharField(_("数据集"), max_length=8)
    sequence = models.PositiveIntegerField(_("批次序号"))
    record_count = models.PositiveIntegerField(_("记录数"))
    content = models.TextField(_("批次内容"))  # canonical JSON (UTF-8), the bytes as sent
    sha256 = models.CharField(max_length=64)
    sm3 = models.CharField(max_length=64)
    signature = models.TextField()
    signature_alg = models.CharField(max_length=32)
    key_id = models.CharField(max_length=64)
    config_digest = models.CharField(max_length=64)
    report = models.JSONField(_("批次报告"), default=dict)  # the refused records and why
    built_at = models.DateTimeField(_("生成时间"))
    ledger_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-built_at", "-pk"]
        verbose_name = _("数据批次")
        verbose_name_plural = _("数据批次")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "sequence"], name="uniq_batch_sequence"),
            models.CheckConstraint(condition=models.Q(record_count__gt=0), name="batch_not_empty"),
        ]

    def __str__(self) -> str:
        return self.batch_id

    @property
    def data(self) -> bytes:
        return self.content.encode("utf-8")


class Cursor(models.Model):
    """How far a dataset has been exported: its last batch. Locked while a batch is built, so
    two builders never put the same change in two batches."""

    dataset = models.CharField(max_length=8, primary_key=True)
    sequence = models.PositiveIntegerField(default=0)
    last_batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导出游标")
        verbose_name_plural = _("导出游标")


class ExportedRecord(models.Model):
    """The digest of a record's row as last exported: a record is in the next batch when its
    current row's digest differs (or it was never exported)."""

    dataset = models.CharField(max_length=8)
    key = models.CharField(max_length=120)
    digest = models.CharField(max_length=64)
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "key"], name="uniq_exported_record")
        ]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待推送")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    REFUSED = "refused", _("被拒收")
    FAILED = "failed", _("推送失败（待重试）")


class Delivery(models.Model):
    """One batch to one receiver: its attempts, the last error, and the receiver's receipt."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="deliveries")
    receiver = models.ForeignKey(Receiver, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(
        _("状态"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)  # a pusher is sending it
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    receipt_id = models.CharField(_("回执号"), max_length=120, blank=True)

    class Meta:
        ordering = ["batch", "receiver"]
        verbose_name = _("批次推送")
        verbose_name_plural = _("批次推送")
        constraints = [
            models.UniqueConstraint(fields=["batch", "receiver"], name="uniq_delivery"),
            models.CheckConstraint(
                condition=~models.Q(status="acknowledged")
                | models.Q(acknowledged_at__isnull=False),
                name="delivery_ack_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch} → {self.receiver}"


class ExternalSystem(models.Model):
    """An accredited market-operated e-trading system (市场主体建设运营的电子交易系统) that
    sends its projects to the platform (不得排斥, 国办发〔2019〕41号). It authenticates with an
    API key; only the key's SHA-256 is kept (the key is shown once, when issued)."""

    code = models.SlugField(_("系统代码"), max_length=64, unique=True)
    name = models.CharField(_("系统名称"), max_length=200)
    operator = models.ForeignKey(
        "registry.Entity", on_delete=models.PROTECT, related_name="+", verbose_name=_("运营机构")
    )
    homepage = models.URLField(_("网址"), max_length=300, blank=True)
    key_digest = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(max_length=12)  # the key's first characters, to tell keys apart
    active = models.BooleanField(_("启用"), default=True)
    accredited_at = models.DateTimeField(_("接入时间"))
    records = models.PositiveIntegerField(_("已接收记录"), default=0)
    last_received_at = models.DateTimeField(_("最近接收"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("外部交易系统")
        verbose_name_plural = _("外部交易系统")

    def __str__(self) -> str:
        return self.name


class IngestedRecord(models.Model):
    """One record an external system sent, as accepted: its idempotency key (unique per
    system), the canonical content and its digest, and the ledger event that recorded it. A
    later version of the same record (same ``record_id``) is a new row; the portal shows the
    latest."""

    system = models.ForeignKey(ExternalSystem, on_delete=models.PROTECT, related_name="ingested")
    idempotency_key = models.CharField(max_length=128)
    record_id = models.CharField(_("外部记录标识"), max_length=64)
    kind = models.CharField(_("类别"), max_length=20)
    content = models.JSONField(_("内容"))
    content_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(_("接收时间"))
    ledger_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("外部系统数据")
        verbose_name_plural = _("外部系统数据")
        constraints = [
            models.UniqueConstraint(
                fields=["system", "idempotency_key"], name="uniq_ingest_idempotency"
            )
        ]
        indexes = [models.Index(fields=["system", "record_id"], name="ingest_record")]
