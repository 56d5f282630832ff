"""A complaint's statuses, the transition table and the pure guards (no queries)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Matter(models.TextChoices):
    DOCUMENTS = "documents", _("招标文件（采购文件）")
    OPENING = "opening", _("开标")
    RESULT = "result", _("评标结果（中标结果）")


class ObjectionKind(models.TextChoices):
    """Which prior objection (异议 / 质疑) the complaint follows, by the matter it is about."""

    TENDERING = "tendering", _("对招标文件的异议")
    OPENING = "opening", _("开标现场异议")
    AWARD = "award", _("对评标结果的异议")


OBJECTION_FOR_MATTER = {
    Matter.DOCUMENTS: ObjectionKind.TENDERING,
    Matter.OPENING: ObjectionKind.OPENING,
    Matter.RESULT: ObjectionKind.AWARD,
}


class Status(models.TextChoices):
    FILED = "filed", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    PAUSED = "paused", _("暂停计时")
    REFUSED = "refused", _("不予受理")
    DECIDED = "decided", _("已作出处理决定")


class Outcome(models.TextChoices):
    UPHELD = "upheld", _("投诉成立")
    PARTLY = "partly", _("投诉部分成立")
    DISMISSED = "dismissed", _("投诉不成立，驳回")


class PauseKind(models.TextChoices):
    """What the decision period excludes (条例61): testing, appraisal and expert review."""

    EXPERT_REVIEW = "expert_review", _("专家评审")
    TESTING = "testing", _("检验检测")
    INSPECTION = "inspection", _("鉴定、勘验")


class Party(models.TextChoices):
    COMPLAINANT = "complainant", _("投诉人")
    REGULATOR = "regulator", _("行政监督部门")


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.FILED: frozenset({Status.ACCEPTED, Status.REFUSED}),
    Status.ACCEPTED: frozenset({Status.PAUSED, Status.DECIDED}),
    Status.PAUSED: frozenset({Status.ACCEPTED}),
    Status.REFUSED: frozenset(),
    Status.DECIDED: frozenset(),
}
OPEN = frozenset({Status.FILED, Status.ACCEPTED, Status.PAUSED})


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def is_open(status: str) -> bool:
    return status in OPEN
