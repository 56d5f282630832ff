"""Smart supervision (智慧监管): the alerts computed on the platform's own data and the
regulators' work on them (the inbox), the regulators' tunable thresholds, imported historical
bid data with its report, and the scan's position in the ledger.

Nothing here is read by the trading apps: supervision reads them (and the ledger) and writes only
its own tables, so a slow or failing scan can never hold up a trading step."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertKind(models.TextChoices):
    SCREENS = "screens", _("报价统计筛查")
    REDFLAG = "redflag", _("红旗指标")
    HARDLINK = "hardlink", _("硬关联（条例第四十条）")
    RELATED = "related", _("关联投标人（条例第三十四条）")
    SIMILARITY = "similarity", _("投标文件雷同")
    NETWORK = "network", _("围标串标团伙")
    TOOLBOX = "toolbox", _("评标偏离")
    WATCHLIST = "watchlist", _("重点关注名单")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ASSIGNED = "assigned", _("处理中")
    DISMISSED = "dismissed", _("已排除")
    ESCALATED = "escalated", _("已移交")


class Alert(models.Model):
    """One warning with its evidence. ``key`` names what it is about (rule, section, the bidders
    involved), so the nightly pass and the event-driven scan raise it once and refresh its
    evidence instead of repeating it; a dismissed alert stays dismissed unless its evidence
    changes."""

    public_id = models.CharField(max_length=32, unique=True)
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(_("类别"), max_length=12, choices=AlertKind.choices)
    code = models.CharField(_("规则"), max_length=32)
    rule = models.CharField(_("依据"), max_length=120, blank=True)
    section = models.ForeignKey(
        "tendering.Section", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("摘要"), max_length=300)
    score = models.FloatField(_("风险分"), null=True, blank=True)
    evidence = models.JSONField(_("证据"), default=dict)
    evidence_sha256 = models.CharField(max_length=64)
    status = models.CharField(
        _("状态"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(_("处理结论"), blank=True)
    raised_at = models.DateTimeField(_("预警时间"))
    refreshed_at = models.DateTimeField(_("证据更新时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["status", "-raised_at"], name="supervision_alert_inbox")]
        verbose_name = _("监管预警")
        verbose_name_plural = _("监管预警")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class NoteKind(models.TextChoices):
    RAISED = "raised", _("发出预警")
    REFRESHED = "refreshed", _("证据更新")
    NOTE = "note", _("批注")
    ASSIGN = "assign", _("指派")
    DISMISS = "dismiss", _("排除预警")
    ESCALATE = "escalate", _("移交")
    REOPEN = "reopen", _("重新打开")


class AlertNote(models.Model):
    """The alert's history: every action on it, with who and when (also in the ledger)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=10, choices=NoteKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("预警处理记录")
        verbose_name_plural = _("预警处理记录")


class Setting(models.Model):
    """A regulator-tuned group of thresholds (``screens``, ``redflags``, ``network``, …), as the
    validated mapping its module's settings class accepts; every change is a ledger event."""

    name = models.CharField(max_length=32, unique=True)
    value = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("监管阈值")
        verbose_name_plural = _("监管阈值")


class DatasetFormat(models.TextChoices):
    CSV = "csv", _("CSV 投标明细")
    OCDS = "ocds", _("OCDS 发布（含投标扩展）")


class Dataset(models.Model):
    """Imported historical bid-level data (历史数据): the validated rows are kept as a Parquet
    file beside the database (``GGZY_SUPERVISION_DIR``), the report computed from them too; the
    table holds what a list page shows. A file with bad rows is refused whole unless the importer
    asked to skip them, so a dataset never holds half a file."""

    public_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    source_format = models.CharField(_("格式"), max_length=8, choices=DatasetFormat.choices)
    file_name = models.CharField(_("文件名"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")  # fmt: skip
    uploaded_at = models.DateTimeField(_("导入时间"))
    rows = models.PositiveIntegerField(_("投标记录数"))
    tenders = models.PositiveIntegerField(_("项目数"))
    bidders = models.PositiveIntegerField(_("投标人数"))
    skipped = models.JSONField(_("跳过的行"), default=list)
    summary = models.JSONField(_("报告摘要"), default=dict)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("历史数据集")
        verbose_name_plural = _("历史数据集")

    def __str__(self) -> str:
        return self.name


class ScanState(models.Model):
    """How far the event-driven scan has read the ledger (``position`` = last event seq)."""

    key = models.CharField(max_length=32, unique=True)
    position = models.BigIntegerField(default=0)
    scanned_at = models.DateTimeField(null=True, blank=True)


class Tracking(models.Model):
    """A supervisor follows a key project (重点项目跟踪): every ledger event of the project after
    ``seen_seq`` is new to them until they mark it seen."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("tendering.Project", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    seen_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="uniq_supervision_tracking")
        ]
        verbose_name = _("重点项目跟踪")
        verbose_name_plural = _("重点项目跟踪")


class WatchEntry(models.Model):
    """One entry of the watchlist (重点关注名单): an entity (USCC or name), a person (ID number
    or name), a phone, an e-mail, a bank account or an IP address / network, and why it is
    watched. A listed subject logging in, bidding (seen at the opening) or sitting on an
    evaluation committee raises an alert. Removing an entry keeps it, inactive."""

    public_id = models.CharField(max_length=32, unique=True)
    kind = models.CharField(_("类别"), max_length=16)
    value = models.CharField(_("值"), max_length=200)
    reason = models.CharField(_("关注原因"), max_length=500)
    active = models.BooleanField(_("有效"), default=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")  # fmt: skip
    added_at = models.DateTimeField(_("加入时间"))
    removed_at = models.DateTimeField(_("移出时间"), null=True, blank=True)

    class Meta:
        ordering = ["-added_at", "-pk"]
        verbose_name = _("重点关注名单")
        verbose_name_plural = _("重点关注名单")
