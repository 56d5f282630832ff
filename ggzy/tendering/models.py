"""Tender projects (招标项目) and their sections (标段/包), the published documents, their
downloads, clarifications and objections."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.tendering.states import (
    DocumentKind,
    EvaluationMethod,
    ObjectionStatus,
    ProjectStatus,
    SubjectType,
)

User = settings.AUTH_USER_MODEL


class Project(models.Model):
    """A project registered by its tenderer (or an agent acting for it), created under the
    ruleset of its category that was current at the time — and kept on it for life."""

    public_id = models.CharField(max_length=32, unique=True)
    trading_code = models.CharField(
        _("交易编码"), max_length=40, unique=True, null=True, blank=True
    )
    name = models.CharField(_("项目名称"), max_length=200)
    category = models.ForeignKey("catalog.Category", on_delete=models.PROTECT, related_name="+")
    ruleset = models.ForeignKey("catalog.Ruleset", on_delete=models.PROTECT, related_name="+")
    procedure = models.ForeignKey("catalog.Procedure", on_delete=models.PROTECT, related_name="+")
    tenderer = models.ForeignKey(
        "registry.Entity", on_delete=models.PROTECT, related_name="tendered_projects"
    )
    agent = models.ForeignKey(
        "registry.Entity",
        on_delete=models.PROTECT,
        related_name="agented_projects",
        null=True,
        blank=True,
    )
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    investment_project_code = models.CharField(_("投资项目代码"), max_length=24, blank=True)
    subject_type = models.CharField(
        _("采购标的类型"), max_length=10, choices=SubjectType.choices, default=SubjectType.WORKS
    )
    funding_source = models.CharField(_("资金来源"), max_length=120)
    # 国有资金占控股或者主导地位 (条例55): the first candidate must be chosen unless it drops out
    state_controlled = models.BooleanField(_("国有资金占控股或主导地位"), default=False)
    budget = models.DecimalField(_("项目预算/估算（元）"), max_digits=16, decimal_places=2)
    description = models.TextField(_("项目概况"), blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT
    )
    return_reason = models.TextField(_("退回理由"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("登记时间"))
    # an agent acts for the tenderer only once the tenderer confirms the appointment (委托)
    agency_confirmed_at = models.DateTimeField(_("委托确认时间"), null=True, blank=True)
    agency_confirmed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    published_at = models.DateTimeField(_("公告发布时间"), null=True, blank=True)
    announcement = models.TextField(_("招标公告"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("招标项目")
        verbose_name_plural = _("招标项目")
        constraints = [
            models.CheckConstraint(condition=models.Q(budget__gt=0), name="project_budget_positive")
        ]

    def __str__(self) -> str:
        return self.name


class Section(models.Model):
    """A section (标段/包): what is bid on, opened and evaluated."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sections")
    number = models.PositiveSmallIntegerField(_("标段号"))
    public_id = models.CharField(max_length=32, unique=True)
    code = models.CharField(_("标段编号"), max_length=48, unique=True, null=True, blank=True)
    name = models.CharField(_("标段名称"), max_length=200)
    estimated_price = models.DecimalField(
        _("估算价/预算金额（元）"), max_digits=16, decimal_places=2
    )
    max_price = models.DecimalField(
        _("最高投标限价（元）"), null=True, blank=True, max_digits=16, decimal_places=2
    )
    deposit = models.DecimalField(_("投标保证金（元）"), max_digits=16, decimal_places=2)
    qualification_requirements = models.TextField(_("资格条件"))
    evaluation_method = models.CharField(
        _("评标办法"), max_length=20, choices=EvaluationMethod.choices
    )
    criteria = models.JSONField(_("评分因素及权重"), default=list, blank=True)
    # government procurement (R18, 87号令47): a committee of at least 7 when the purchaser
    # declares the project technically complex or of high social impact
    technically_complex = models.BooleanField(_("技术复杂"), default=False)
    high_social_impact = models.BooleanField(_("社会影响较大"), default=False)
    bid_validity_days = models.PositiveSmallIntegerField(_("投标有效期（日）"))
    duration_days = models.PositiveIntegerField(_("工期/服务期（日）"), null=True, blank=True)
    documents_from = models.DateTimeField(_("招标文件发出时间"), null=True, blank=True)
    documents_until = models.DateTimeField(_("招标文件发售截止"), null=True, blank=True)
    bid_deadline = models.DateTimeField(_("投标截止/开标时间"), null=True, blank=True)
    original_deadline = models.DateTimeField(_("原投标截止时间"), null=True, blank=True)
    failed_at = models.DateTimeField(_("流标时间"), null=True, blank=True)
    failure_reason = models.CharField(_("流标原因"), max_length=300, blank=True)

    class Meta:
        ordering = ["project", "number"]
        verbose_name = _("标段")
        verbose_name_plural = _("标段")
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="uniq_section_number"),
            models.CheckConstraint(
                condition=models.Q(estimated_price__gt=0), name="section_estimate_positive"
            ),
            models.CheckConstraint(condition=models.Q(deposit__gte=0), name="section_deposit"),
        ]

    def __str__(self) -> str:
        return f"{self.project} 第{self.number}标段"

    @property
    def label(self) -> str:
        return self.code or f"{self.project.public_id[:8]}-{self.number:03d}"


class TenderDocument(models.Model):
    """A published file (招标文件, 澄清, 图纸): stored once, addressed by its digest."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    public_id = models.CharField(max_length=32, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=DocumentKind.choices)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    sm3 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=80)
    text = models.TextField(_("文本"), blank=True)  # extracted, for review and search
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("招标文件")
        verbose_name_plural = _("招标文件")

    def __str__(self) -> str:
        return self.name


class Download(models.Model):
    """A download of a published document. Anyone may download (R60); who downloaded stays
    sealed until the bid deadline (R42): the identity is encrypted under the bid-register key,
    which is kept outside the database; the document is named by a keyed tag too, so a database
    dump taken before the deadline does not even tell how often a project's documents were
    downloaded."""

    document_tag = models.CharField(max_length=64, db_index=True)  # keyed: no count per project
    downloader_tag = models.CharField(max_length=64, blank=True)
    sealed_identity = models.TextField(blank=True)
    downloaded_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("下载记录")
        verbose_name_plural = _("下载记录")


class Clarification(models.Model):
    """A clarification or amendment (澄清/修改). One issued less than 15 days before the bid
    deadline that may affect bids moves the deadline (R6)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="clarifications")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    affects_bids = models.BooleanField(_("可能影响投标文件编制"), default=True)
    document = models.ForeignKey(
        TenderDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    objection = models.ForeignKey(
        "Objection", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deadline_before = models.DateTimeField()
    deadline_after = models.DateTimeField()
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("发布时间"))

    class Meta:
        ordering = ["project", "number"]
        verbose_name = _("澄清/修改")
        verbose_name_plural = _("澄清/修改")
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="uniq_clarification")
        ]


class Objection(models.Model):
    """An objection to the tender documents (对招标文件的异议, R7): raised by a potential bidder
    up to 10 days before the deadline, answered by the tenderer within 3 days (R9); the procedure
    is suspended until the answer."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="objections")
    public_id = models.CharField(max_length=32, unique=True)
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("异议内容"))
    raised_at = models.DateTimeField(_("提出时间"))
    reply_due = models.DateTimeField(_("答复期限"))
    status = models.CharField(
        max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    reply = models.TextField(_("答复"), blank=True)
    replied_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        ordering = ["raised_at", "pk"]
        verbose_name = _("异议")
        verbose_name_plural = _("异议")


class Invitation(models.Model):
    """An invitation to bid (投标邀请书) in an invited tender (邀请招标, 招标投标法第17条): the
    project's tenderer (or its confirmed agent) invites a specific registered bidder. Only an
    invited entity may bid. Who was invited is known to the tenderer, its agent, center and
    supervision staff, and to each invitee about itself only (R42); an invitation is final."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    public_id = models.CharField(max_length=32, unique=True)
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(_("邀请时间"))

    class Meta:
        ordering = ["invited_at", "pk"]
        verbose_name = _("投标邀请")
        verbose_name_plural = _("投标邀请")
        constraints = [
            models.UniqueConstraint(fields=["project", "entity"], name="uniq_invitation")
        ]

    def __str__(self) -> str:
        return f"{self.project} → {self.entity}"
