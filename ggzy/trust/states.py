"""Trust-store statuses and their transitions (pure: no queries)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Family(models.TextChoices):
    SM2 = "sm2", _("SM2/SM3")
    ECDSA = "ecdsa", _("ECDSA P-256/SHA-256")
    RSA = "rsa", _("RSA/SHA-256")


class CAStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    SUSPENDED = "suspended", _("暂停")
    RETIRED = "retired", _("已退出")


# from -> allowed targets. A retired CA stays retired: re-joining is a new onboarding.
CA_TRANSITIONS: dict[str, frozenset[str]] = {
    CAStatus.ACTIVE: frozenset({CAStatus.SUSPENDED, CAStatus.RETIRED}),
    CAStatus.SUSPENDED: frozenset({CAStatus.ACTIVE, CAStatus.RETIRED}),
    CAStatus.RETIRED: frozenset(),
}


def can_move_ca(current: str, target: str) -> bool:
    return target in CA_TRANSITIONS.get(current, frozenset())
