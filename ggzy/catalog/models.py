"""The trading catalog (交易目录): categories of public resource trading, the procedures each
allows, and their rulesets — versioned, so every project keeps the rules it was created under."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Procedure(models.Model):
    """A trading procedure (交易方式): open tender, inquiry, auction, listing…"""

    code = models.SlugField(_("代码"), max_length=40, primary_key=True)
    name = models.CharField(_("名称"), max_length=60)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("交易方式")
        verbose_name_plural = _("交易方式")

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A catalog category (交易目录类别), with the procedures it allows and the rule items its
    rulesets carry."""

    code = models.SlugField(_("代码"), max_length=40, primary_key=True)
    name = models.CharField(_("名称"), max_length=60)
    trading_category = models.CharField(_("交易标识码类别"), max_length=2)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    procedures = models.ManyToManyField(Procedure, verbose_name=_("允许的交易方式"))
    rule_keys = models.JSONField(_("规则项"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("交易目录类别")
        verbose_name_plural = _("交易目录类别")

    def __str__(self) -> str:
        return self.name


class Ruleset(models.Model):
    """One published version of a category's rules. Never changed: a change is a new version,
    and a project points at the version it was created under."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="rulesets")
    version = models.PositiveIntegerField(_("版本"))
    rules = models.JSONField(_("规则"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    published_at = models.DateTimeField(_("发布时间"))
    published_by = models.CharField(_("发布人"), max_length=64)

    class Meta:
        ordering = ["category", "-version"]
        verbose_name = _("规则集")
        verbose_name_plural = _("规则集")
        constraints = [
            models.UniqueConstraint(fields=["category", "version"], name="uniq_ruleset_version")
        ]

    def __str__(self) -> str:
        return f"{self.category} v{self.version}"
