"""States of an evaluation session (评标), the transition table and the pure guards.

``forming`` (the committee is being seated) → ``qualification`` (automated checks per bid,
each confirmed or overruled by the members) → ``scoring`` (per-expert, per-criterion scores)
→ ``report`` (the report is built; the members sign it) → ``signed`` (every member signed).
Publishing the candidates is a later step.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionStatus(models.TextChoices):
    FORMING = "forming", _("组建评标委员会")
    QUALIFICATION = "qualification", _("资格与符合性审查")
    SCORING = "scoring", _("评分")
    REPORT = "report", _("评标报告待签")
    SIGNED = "signed", _("评标报告已签署")


class MemberKind(models.TextChoices):
    EXPERT = "expert", _("评标专家")
    TENDERER_REP = "tenderer_rep", _("招标人代表")


class CheckKind(models.TextChoices):
    QUALIFICATION = "qualification", _("资质有效")
    RELATED_BIDDERS = "related_bidders", _("关联投标人（R48）")
    DEPOSIT = "deposit", _("投标保证金")
    DECRYPTION = "decryption", _("投标文件解密")


class LowPriceOutcome(models.TextChoices):
    NONE = "", _("无")
    PENDING = "pending", _("待说明")
    ACCEPTED = "accepted", _("说明合理，接受")
    REJECTED = "rejected", _("不能合理说明，按无效投标处理")


# status -> statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    SessionStatus.FORMING: frozenset({SessionStatus.QUALIFICATION}),
    SessionStatus.QUALIFICATION: frozenset({SessionStatus.SCORING}),
    SessionStatus.SCORING: frozenset({SessionStatus.REPORT}),
    SessionStatus.REPORT: frozenset({SessionStatus.SIGNED}),
    SessionStatus.SIGNED: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def majority(count: int, members: int) -> bool:
    """More than half of the committee (87号令 Art 61; a split of an even body is no majority)."""
    return 2 * count > members


def blind_label(n: int) -> str:
    """``0 → A``, ``25 → Z``, ``26 → AA``: the anonymous name of a bid document (暗标)."""
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("A") + rest) + out
    return out
