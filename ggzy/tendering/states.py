"""States of projects and sections. A section's *phase* is derived from its stored timestamps and
the clock (DESIGN.md "Time"), so a deadline takes effect without any scheduler having run."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    RETURNED = "returned", _("已退回")
    PUBLISHED = "published", _("已发布")


class SubjectType(models.TextChoices):
    WORKS = "works", _("工程")
    GOODS = "goods", _("货物")
    SERVICES = "services", _("服务")


class EvaluationMethod(models.TextChoices):
    LOWEST_PRICE = "lowest_price", _("经评审的最低投标价法")
    COMPREHENSIVE = "comprehensive", _("综合评估法")
    # works only: the price scored against the benchmark price (评标基准价), whose rule is the
    # price criterion's "benchmark" (ggzy.evaluation.scheme.BenchmarkRule)
    BENCHMARK = "benchmark", _("综合评估法（评标基准价）")


class DocumentKind(models.TextChoices):
    TENDER = "tender", _("招标文件")
    CLARIFICATION = "clarification", _("澄清/修改文件")
    DRAWING = "drawing", _("图纸及附件")


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")


class Phase(models.TextChoices):
    """Where a section is now (derived, never stored)."""

    PLANNED = "planned", _("未受理")
    ACCEPTED = "accepted", _("待发布")
    BIDDING = "bidding", _("投标中")
    SUSPENDED = "suspended", _("暂停（异议待答复）")
    CLOSED = "closed", _("投标截止，待开标")
    OPENING = "opening", _("开标中")
    OPENED = "opened", _("已开标")
    FAILED = "failed", _("流标（重新招标）")


# project status -> statuses it may move to
PROJECT_TRANSITIONS: dict[str, frozenset[str]] = {
    ProjectStatus.DRAFT: frozenset({ProjectStatus.SUBMITTED}),
    ProjectStatus.SUBMITTED: frozenset({ProjectStatus.ACCEPTED, ProjectStatus.RETURNED}),
    ProjectStatus.RETURNED: frozenset({ProjectStatus.SUBMITTED}),
    ProjectStatus.ACCEPTED: frozenset({ProjectStatus.PUBLISHED}),
    ProjectStatus.PUBLISHED: frozenset(),
}
EDITABLE = frozenset({ProjectStatus.DRAFT, ProjectStatus.RETURNED})
