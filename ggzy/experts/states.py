"""States of an expert in the pool (专家库), the transition table and the pure guards.

An application waits (``pending``) until center staff approve it (R20 checked) or reject it; a
rejected applicant may apply again. An expert in the pool is ``active`` — drawable — until
suspended (for a period or indefinitely) or retired (退出, final). A suspension with an end date
lapses by itself: whether an expert is drawable on a day is derived from the stored status, the
end date and the day, never from a scheduler having run.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExpertStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    REJECTED = "rejected", _("未通过")
    ACTIVE = "active", _("在库")
    SUSPENDED = "suspended", _("暂停")
    RETIRED = "retired", _("已退出")


class TitleLevel(models.TextChoices):
    """Professional title level (职称级别)."""

    SENIOR = "senior", _("正高")
    ASSOCIATE_SENIOR = "associate_senior", _("副高")
    INTERMEDIATE = "intermediate", _("中级")
    JUNIOR = "junior", _("初级")


class RaterKind(models.TextChoices):
    CENTER = "center", _("交易中心")
    TENDERER = "tenderer", _("招标人")


# status -> statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    ExpertStatus.PENDING: frozenset({ExpertStatus.ACTIVE, ExpertStatus.REJECTED}),
    ExpertStatus.REJECTED: frozenset({ExpertStatus.PENDING}),
    ExpertStatus.ACTIVE: frozenset({ExpertStatus.SUSPENDED, ExpertStatus.RETIRED}),
    ExpertStatus.SUSPENDED: frozenset({ExpertStatus.ACTIVE, ExpertStatus.RETIRED}),
    ExpertStatus.RETIRED: frozenset(),
}
IN_POOL = frozenset({ExpertStatus.ACTIVE, ExpertStatus.SUSPENDED, ExpertStatus.RETIRED})
# what an applicant may still change themselves (re-applying)
APPLICANT_EDITABLE = frozenset({ExpertStatus.PENDING, ExpertStatus.REJECTED})


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def drawable_on(status: str, suspended_until: date | None, day: date) -> bool:
    """Whether an expert in this status may be drawn on ``day``: active, or suspended with an
    end date before that day (the suspension has lapsed)."""
    if status == ExpertStatus.ACTIVE:
        return True
    return (
        status == ExpertStatus.SUSPENDED and suspended_until is not None and suspended_until < day
    )
