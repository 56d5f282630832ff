"""States of an expert draw (专家抽取) and of each drawn expert, and the avoidance reasons.

A draw is ``requested`` (its terms stored), ``committed`` (the platform's secret is committed in
the ledger), then ``drawn`` (experts chosen, the mains notified) or ``unfillable`` (some quota
cannot be filled: nothing is drawn). Answers follow: a draw whose every main seat is confirmed is
``complete``; a draw that runs out of backups for a quota becomes ``unfillable`` too (staff top
it up with a further draw for the section). The reveal at the session start is a time stamp, not
a state: answers and replacements may still follow it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DrawStatus(models.TextChoices):
    REQUESTED = "requested", _("已申请")
    COMMITTED = "committed", _("已承诺")
    DRAWN = "drawn", _("已抽取")
    COMPLETE = "complete", _("已确认齐")
    UNFILLABLE = "unfillable", _("无法抽满")


class DrawnRole(models.TextChoices):
    MAIN = "main", _("正选")
    BACKUP = "backup", _("备选")


class DrawnStatus(models.TextChoices):
    STANDBY = "standby", _("候补")  # a backup not called (yet)
    NOTIFIED = "notified", _("已通知")
    CONFIRMED = "confirmed", _("已确认")
    DECLINED = "declined", _("已拒绝")
    NO_ANSWER = "no_answer", _("未答复")
    REPLACED = "replaced", _("已替补")  # declined or no answer, and a backup took the seat


# a drawn expert who holds a seat (is expected, or has agreed, to sit)
SEATED = frozenset({DrawnStatus.NOTIFIED, DrawnStatus.CONFIRMED})
OPEN_DRAW = frozenset({DrawStatus.DRAWN, DrawStatus.UNFILLABLE, DrawStatus.COMPLETE})


# Why a candidate was skipped (回避, R21/R22), in the order they are checked and reported.
class Reason(models.TextChoices):
    UNAVAILABLE = "unavailable", _("当日不可参评")
    DECLARED_CONFLICT = "declared_conflict", _("申报回避")
    EMPLOYER_BIDDER = "employer_bidder", _("工作单位为投标人")
    EMPLOYER_TENDERER = "employer_tenderer", _("工作单位为招标人")
    EMPLOYER_AGENT = "employer_agent", _("工作单位为招标代理")
    EMPLOYER_RELATED = "employer_related", _("工作单位与当事人同一法定代表人")
    LEGAL_REPRESENTATIVE = "legal_representative", _("本人为当事人法定代表人")
    SERVED_TENDERER = "served_tenderer", _("近期曾为同一招标人评标")
    ALREADY_DRAWN = "already_drawn", _("已被本标段抽中")


REASONS = tuple(Reason.values)
# the filters before avoidance, for the binding constraint of an unfillable quota
POOL_FILTERS = ("specialty", "status", "region")
