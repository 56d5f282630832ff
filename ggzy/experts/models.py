"""The expert pool (评标专家库): one pool for every region of the platform.

A specialty taxonomy kept by the center, experts with their title, years, employer and region,
their status history, availability calendar, declared conflicts and rating history — and the
compact draw table (``ExpertSpecialty``) a draw counts and picks from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ggzy.experts.states import ExpertStatus, RaterKind, TitleLevel

User = settings.AUTH_USER_MODEL
SPECIALTY_CODE_REGEX = r"^[A-Z]([0-9]{2}(\.[0-9]{2}){0,3})?$"  # A, A01, A01.02 …


class Specialty(models.Model):
    """A specialty (评标专业) in the center's taxonomy. The code carries the hierarchy: ``A01.02``
    is a child of ``A01``, itself a child of the class ``A``. ``is_works``: experts of this specialty
    evaluate works bids, so R20 applies to them. Specialties are never deleted, only
    deactivated; each change is a new version."""

    code = models.CharField(_("专业代码"), max_length=16, unique=True)
    name = models.CharField(_("专业名称"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_works = models.BooleanField(_("工程类专业（适用R20）"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("评标专业")
        verbose_name_plural = _("评标专业")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SpecialtyVersion(models.Model):
    """One change to a specialty: who, when, each field's old and new value."""

    specialty = models.ForeignKey(Specialty, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    changed_at = models.DateTimeField()
    changed_by = models.CharField(max_length=64)
    changes = models.JSONField()

    class Meta:
        ordering = ["specialty", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["specialty", "version"], name="uniq_specialty_version")
        ]


class Expert(models.Model):
    """An evaluation expert (评标专家): an application until approved, then in the pool."""

    public_id = models.CharField(max_length=32, unique=True)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="expert"
    )
    name = models.CharField(_("姓名"), max_length=60)
    resident_id = models.CharField(_("身份证号码"), max_length=18, unique=True)
    phone = models.CharField(_("手机"), max_length=20)
    email = models.CharField(_("邮箱"), max_length=254, blank=True)
    title_level = models.CharField(_("职称级别"), max_length=20, choices=TitleLevel.choices)
    title_name = models.CharField(_("职称名称"), max_length=60)
    senior_equivalent = models.CharField(
        _("同等专业水平说明"), max_length=200, blank=True, help_text=_("无高级职称时填写")
    )
    years_in_field = models.PositiveSmallIntegerField(_("从业年限"))
    employer = models.ForeignKey(
        "registry.Entity", on_delete=models.PROTECT, related_name="+", verbose_name=_("工作单位")
    )
    region = models.ForeignKey(
        "registry.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在地区")
    )
    primary_specialty = models.ForeignKey(
        Specialty, on_delete=models.PROTECT, related_name="+", verbose_name=_("主专业")
    )
    specialties: models.ManyToManyField[Specialty, ExpertSpecialty] = models.ManyToManyField(
        Specialty, through="ExpertSpecialty", related_name="experts", verbose_name=_("评标专业")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=ExpertStatus.choices, default=ExpertStatus.PENDING
    )
    status_reason = models.CharField(_("状态原因"), max_length=500, blank=True)
    suspended_until = models.DateField(_("暂停至"), null=True, blank=True)
    applied_at = models.DateTimeField(_("申请时间"))
    approved_at = models.DateTimeField(_("入库时间"), null=True, blank=True)
    approved_by = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("评标专家")
        verbose_name_plural = _("评标专家")
        indexes = [models.Index(fields=["status", "region"], name="expert_status_region")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(years_in_field__lte=70), name="expert_years_in_range"
            ),
            models.CheckConstraint(
                condition=models.Q(suspended_until__isnull=True)
                | models.Q(status=ExpertStatus.SUSPENDED),
                name="expert_until_only_when_suspended",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.primary_specialty.code}）"


class ExpertSpecialty(models.Model):
    """One specialty of an expert — and one row of the draw table. ``region``, ``status`` and
    ``suspended_until`` are copies of the expert's, kept by the services in the same transaction,
    so a draw counts and picks candidates of a specialty and region from one index
    (``expertspec_draw``) without touching the expert table (docs/domains/experts.md)."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="specialty_rows")
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="+")
    is_primary = models.BooleanField(default=False)
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=ExpertStatus.choices)
    suspended_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["expert", "specialty"]
        constraints = [
            models.UniqueConstraint(fields=["expert", "specialty"], name="uniq_expert_specialty"),
            models.UniqueConstraint(
                fields=["expert"], condition=models.Q(is_primary=True), name="one_primary_specialty"
            ),
        ]
        indexes = [
            # count and pick by offset: WHERE specialty_id IN (…) AND status = 'active'
            # AND region_id IN (…) ORDER BY expert_id — an index-only scan
            models.Index(
                fields=["specialty", "status", "region", "expert"], name="expertspec_draw"
            ),
            # the draw's probes (ggzy.experts.draw_pool): is expert k a candidate of the quota?
            # — an index-only lookup per probed id
            models.Index(
                fields=["expert", "specialty", "status", "region", "suspended_until"],
                name="expertspec_probe",
            ),
        ]


class ExpertStatusChange(models.Model):
    """One status change of an expert: from, to, the reason, the suspension's end, who."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="status_history")
    from_status = models.CharField(max_length=12, choices=ExpertStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=ExpertStatus.choices)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    until = models.DateField(_("暂停至"), null=True, blank=True)
    actor = models.CharField(max_length=64)
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["expert", "changed_at", "pk"]
        verbose_name = _("专家状态变更")
        verbose_name_plural = _("专家状态变更")


class Unavailability(models.Model):
    """Days an expert cannot be drawn (出差、休假…): ``start`` to ``end`` inclusive."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="unavailability")
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"))
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["expert", "start", "pk"]
        verbose_name = _("不可参评日期")
        verbose_name_plural = _("不可参评日期")
        indexes = [models.Index(fields=["expert", "start", "end"], name="unavail_expert_days")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="unavailability_order"
            )
        ]


class DeclaredConflict(models.Model):
    """An entity the expert declares a conflict of interest with (R21 回避): the expert is never
    drawn for a section where it is a party. Withdrawn declarations are kept."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="conflicts")
    entity = models.ForeignKey("registry.Entity", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("回避原因"), max_length=300)
    declared_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expert", "declared_at", "pk"]
        verbose_name = _("申报回避")
        verbose_name_plural = _("申报回避")
        constraints = [
            models.UniqueConstraint(
                fields=["expert", "entity"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="uniq_open_conflict",
            )
        ]
        indexes = [models.Index(fields=["entity", "expert"], name="conflict_entity")]


class Rating(models.Model):
    """A rating of an expert after an evaluation session whose report is signed, by the center
    or by the section's tenderer (ggzy.experts.ratings). ``session`` is the truth;
    ``session_ref`` is its public id, kept for ratings recorded before sessions were linked
    (``session`` null). ``suspension``: the status change this rating caused under the rating
    policy (ggzy.experts.rating_rules) — a rating causes at most one."""

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="ratings")
    session = models.ForeignKey(
        "evaluation.EvaluationSession", null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("评标会"),
    )  # fmt: skip
    session_ref = models.CharField(_("评标活动"), max_length=64)
    rater_kind = models.CharField(_("评价方"), max_length=10, choices=RaterKind.choices)
    score = models.PositiveSmallIntegerField(_("评分（1–5）"))
    comment = models.CharField(_("评价"), max_length=1000, blank=True)
    misconduct = models.BooleanField(_("违规行为"), default=False)
    rated_by = models.CharField(max_length=64)
    rated_at = models.DateTimeField()
    suspension = models.ForeignKey(
        ExpertStatusChange, null=True, blank=True, on_delete=models.PROTECT, related_name="causes"
    )

    class Meta:
        ordering = ["expert", "-rated_at", "-pk"]
        verbose_name = _("专家评价")
        verbose_name_plural = _("专家评价")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1) & models.Q(score__lte=5), name="rating_score_1_5"
            ),
            models.UniqueConstraint(
                fields=["expert", "session_ref", "rater_kind"], name="uniq_rating_per_session"
            ),
            models.UniqueConstraint(
                fields=["expert", "session", "rater_kind"], name="uniq_rating_per_session_fk"
            ),
        ]


# the draw's tables (专家抽取) live in their own module of this app
from ggzy.experts.draw_models import (  # noqa: E402, F401
    Draw,
    DrawnExpert,
    DrawNotification,
    DrawQuota,
)
