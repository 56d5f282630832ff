from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """An exception to the weekend rule, kept by the center: a public holiday on a weekday
    (``is_working_day=False``) or a make-up working day on a weekend (调休, ``True``)."""

    day = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=60, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")

    def __str__(self) -> str:
        return f"{self.day} {self.name} ({'班' if self.is_working_day else '休'})"


class TradingCodeSequence(models.Model):
    """The next free sequence number for one region, year and trading category."""

    region = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=2)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "category"], name="uniq_code_sequence"
            )
        ]


class IssuedTradingCode(models.Model):
    """Every trading code ever issued. Rows are never deleted, so a code is never reused."""

    code = models.CharField(max_length=18, unique=True)
    issued_at = models.DateTimeField()
    subject = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("交易标识码")
        verbose_name_plural = _("交易标识码")

    def __str__(self) -> str:
        return self.code
