"""Committee size (R17/R18/R19) and the time-extension rule (R23), as pure functions.

Counts are integers and fractions are compared by cross-multiplying, never with floats:
"experts ≥ 2/3 of the members" is ``3 × experts ≥ 2 × members``; "more than 1/3 ask for more
time" is ``3 × asking > members``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ggzy.evaluation.scheme import ScoringError

# R18 (87号令 Art 47): "1000万元以上" — 以上 includes the number itself (Art 86).
LARGE_BUDGET = Decimal(10_000_000)


class Panel(StrEnum):
    WORKS_TENDER = "works_tender"  # 招标投标法37 (R17): ≥ 5, odd, experts ≥ 2/3
    GOVERNMENT_TENDER = "government_tender"  # 87号令47 (R18): ≥ 5 odd; ≥ 7 odd if large
    NEGOTIATION = "negotiation"  # 政府采购法38 竞争性谈判 (R19): ≥ 3 odd
    INQUIRY = "inquiry"  # 政府采购法40 询价 (R19): ≥ 3 odd


@dataclass(frozen=True)
class Violation:
    code: str  # committee_too_small | committee_even | experts_below_two_thirds | too_few_suppliers
    rule: str  # R-number in cn-rules.md
    detail: dict[str, int] = field(default_factory=dict)


def committee_violations(
    panel: Panel,
    *,
    members: int,
    experts: int,
    budget: Decimal | None = None,
    technically_complex: bool = False,
    high_social_impact: bool = False,
    suppliers: int | None = None,
) -> tuple[Violation, ...]:
    """Every rule the committee breaks (empty when it is lawful).

    ``experts`` counts the technical and economic experts among the ``members`` (the rest are
    the tenderer's or purchaser's representatives). ``suppliers`` is checked for negotiation and
    inquiry panels only (≥ 3 invited, R19).
    """
    if members < 0 or not 0 <= experts <= members:
        raise ScoringError(
            "委员会人数无效", code="bad_committee", detail={"members": members, "experts": experts}
        )
    rule = {
        Panel.WORKS_TENDER: "R17",
        Panel.GOVERNMENT_TENDER: "R18",
        Panel.NEGOTIATION: "R19",
        Panel.INQUIRY: "R19",
    }[panel]
    minimum = minimum_members(
        panel,
        budget=budget,
        technically_complex=technically_complex,
        high_social_impact=high_social_impact,
    )
    found: list[Violation] = []
    if members < minimum:
        found.append(Violation("committee_too_small", rule, {"members": members, "min": minimum}))
    if members % 2 == 0:
        found.append(Violation("committee_even", rule, {"members": members}))
    if 3 * experts < 2 * members:
        found.append(
            Violation("experts_below_two_thirds", rule, {"experts": experts, "members": members})
        )
    if panel in (Panel.NEGOTIATION, Panel.INQUIRY) and suppliers is not None and suppliers < 3:
        found.append(Violation("too_few_suppliers", rule, {"suppliers": suppliers, "min": 3}))
    return tuple(found)


def minimum_members(
    panel: Panel,
    *,
    budget: Decimal | None = None,
    technically_complex: bool = False,
    high_social_impact: bool = False,
) -> int:
    if panel in (Panel.NEGOTIATION, Panel.INQUIRY):
        return 3
    large = (budget is not None and budget >= LARGE_BUDGET) or technically_complex
    if panel is Panel.GOVERNMENT_TENDER and (large or high_social_impact):
        return 7
    return 5


def time_extension_required(members: int, asking: int) -> bool:
    """R23 (条例48): the evaluation time must be extended when more than 1/3 of the committee
    says it is not enough — 9 members: 3 asking → no, 4 → yes."""
    if members <= 0 or not 0 <= asking <= members:
        raise ScoringError(
            "人数无效", code="bad_committee", detail={"members": members, "asking": asking}
        )
    return 3 * asking > members
