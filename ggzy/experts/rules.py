"""The statutory eligibility rule for works experts (R20) and who may act on an expert beyond
their platform roles: the expert's own account.

R20 (招标投标法第37条; 评标委员会和评标方法暂行规定第11条, [V]): an expert who evaluates works
bids has at least 8 years in the field and a senior title (高级职称: 正高 or 副高) or an equivalent
professional level (同等专业水平, stated and judged by the center on approval).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ggzy.experts.states import TitleLevel

R20_MIN_YEARS = 8
SENIOR_LEVELS = frozenset({TitleLevel.SENIOR, TitleLevel.ASSOCIATE_SENIOR})

# what the expert's own account may do on their record
OWN_PERMISSIONS = {"experts.view_private", "experts.self"}


@dataclass(frozen=True)
class Eligibility:
    """The outcome of R20 for one expert: ``unmet`` names each condition not met."""

    works: bool
    unmet: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.unmet


def works_eligibility(
    *, works: bool, years_in_field: int, title_level: str, senior_equivalent: str
) -> Eligibility:
    """R20 for an expert with (``works=True``) or without a works specialty."""
    if not works:
        return Eligibility(False, ())
    unmet = []
    if years_in_field < R20_MIN_YEARS:
        unmet.append("years_in_field")
    if title_level not in SENIOR_LEVELS and not senior_equivalent.strip():
        unmet.append("senior_title")
    return Eligibility(True, tuple(unmet))


def expert_rule(actor: Any, permission: str, expert: Any) -> bool:
    """The expert's own account sees their record and history and keeps their calendar and
    declared conflicts."""
    return (
        permission in OWN_PERMISSIONS
        and expert.user_id is not None
        and expert.user_id == getattr(actor, "pk", None)
    )
