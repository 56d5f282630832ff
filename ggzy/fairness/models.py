"""The fair-competition review (公平竞争审查): the rule list the center maintains, each review of
a project's tender documents, and what it found."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

User = settings.AUTH_USER_MODEL


class Severity(models.TextChoices):
    BLOCKING = "blocking", _("阻止发布")
    WARNING = "warning", _("提示")


class Resolution(models.TextChoices):
    OPEN = "open", _("待处理")
    REASON_RECORDED = "reason_recorded", _("已记录理由")


class FairnessRule(models.Model):
    """One screen for a barrier to fair competition: regular expressions over the clauses of a
    tender document, with the law or policy it comes from. ``version`` moves on every change, so
    a review records exactly which rules it applied."""

    code = models.CharField(_("规则编号"), max_length=40, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    patterns = models.JSONField(_("匹配式"), default=list)  # regular expressions, any may hit
    exclude_patterns = models.JSONField(_("排除式"), default=list, blank=True)  # clause passes
    source = models.CharField(_("依据"), max_length=200)
    source_text = models.TextField(_("依据原文"), blank=True)
    severity = models.CharField(
        _("级别"), max_length=10, choices=Severity.choices, default=Severity.BLOCKING
    )
    active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(_("修改时间"))
    updated_by = models.CharField(_("修改人"), max_length=64)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("审查规则")
        verbose_name_plural = _("审查规则")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Review(models.Model):
    """One run of the rules over a project's tender and clarification documents. The latest
    review is the project's report; an earlier one is kept as history."""

    project = models.ForeignKey(
        "tendering.Project", on_delete=models.CASCADE, related_name="fairness_reviews"
    )
    rules = models.JSONField(_("适用规则"), default=list)  # [{"code", "version"}]
    rules_digest = models.CharField(max_length=64)
    documents = models.JSONField(_("审查文件"), default=list)  # [{"document", "name", "sha256"}]
    documents_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("审查时间"))
    created_by = models.CharField(_("审查人"), max_length=64)
    supersedes = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("公平竞争审查")
        verbose_name_plural = _("公平竞争审查")

    def __str__(self) -> str:
        return f"{self.project} @ {self.created_at:%Y-%m-%d %H:%M}"


class Finding(models.Model):
    """A clause that hit a rule. A blocking finding stops publication until the clause is
    changed (a new document, a new review) or a reason is recorded by center staff."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="findings")
    public_id = models.CharField(max_length=32, unique=True)
    document = models.ForeignKey(
        "tendering.TenderDocument", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    document_name = models.CharField(_("文件"), max_length=200)
    rule = models.ForeignKey(FairnessRule, on_delete=models.PROTECT, related_name="findings")
    rule_version = models.PositiveIntegerField()
    clause = models.TextField(_("条款"))
    clause_digest = models.CharField(max_length=64)
    matched = models.CharField(_("命中文字"), max_length=200)
    position = models.PositiveIntegerField(
        pgettext_lazy("text position", "位置")
    )  # character offset in the document text
    severity = models.CharField(_("级别"), max_length=10, choices=Severity.choices)
    resolution = models.CharField(
        _("处理"), max_length=16, choices=Resolution.choices, default=Resolution.OPEN
    )
    reason = models.TextField(_("理由"), blank=True)
    resolved_by = models.CharField(_("处理人"), max_length=64, blank=True)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        ordering = ["review", "document_name", "position", "pk"]
        verbose_name = _("审查发现")
        verbose_name_plural = _("审查发现")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resolution="open") | ~models.Q(reason=""),
                name="finding_reason_when_resolved",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule.code}: {self.clause[:40]}"
