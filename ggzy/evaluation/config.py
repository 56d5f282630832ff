"""A section's scoring scheme, pinned on its evaluation session as plain JSON, and the engine's
:class:`~ggzy.evaluation.scheme.ScoringScheme` made from it.

The tender documents name each factor with a weight and a kind (``price``, ``technical``,
``business``, ``credit``, ``other``); an expert scores a non-price factor from 0 to its weight in
steps of :data:`SCORE_STEP`. The lowest evaluated price method (R35) scores nothing but price.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ggzy.evaluation.committee import Panel
from ggzy.evaluation.scheme import (
    Category,
    Criterion,
    CriterionKind,
    Method,
    ScoringScheme,
)

SCORE_STEP = Decimal("0.5")
METHODS = {"lowest_price": Method.LOWEST_EVALUATED_PRICE, "comprehensive": Method.COMPREHENSIVE_87}
KINDS = {"price": CriterionKind.PRICE, "technical": CriterionKind.TECHNICAL}


def section_config(section: Any) -> dict[str, Any]:
    """The scheme of ``section`` as JSON: method, category and the criteria with their scales."""
    method = METHODS[section.evaluation_method]
    criteria = []
    for n, item in enumerate(section.criteria or [], start=1):
        kind = KINDS.get(item.get("kind", "other"), CriterionKind.COMMERCIAL)
        weight = str(Decimal(item["weight"]))
        criteria.append({
            "id": "price" if kind is CriterionKind.PRICE else f"c{n}",
            "name": item["name"],
            "kind": str(kind),
            "weight": weight,
            "max_points": "0" if kind is CriterionKind.PRICE else weight,
            "min_points": "0",
            "step": "0.01" if kind is CriterionKind.PRICE else str(SCORE_STEP),
        })  # fmt: skip
    return {
        "method": str(method),
        "category": section.project.subject_type,
        "criteria": criteria,
    }


def scheme(config: dict[str, Any]) -> ScoringScheme:
    return ScoringScheme(
        method=Method(config["method"]),
        category=Category(config["category"]),
        criteria=tuple(
            Criterion(
                id=c["id"],
                name=c["name"],
                kind=CriterionKind(c["kind"]),
                weight=Decimal(c["weight"]),
                max_points=Decimal(c["max_points"]),
                min_points=Decimal(c["min_points"]),
                step=Decimal(c["step"]),
            )
            for c in config["criteria"]
        ),
    )


def panel(section: Any) -> Panel:
    """Which committee rule applies: government procurement (R18), its negotiation or inquiry
    panels (R19), or works tendering (R17)."""
    procedure = section.project.procedure.code
    if "negotiation" in procedure:
        return Panel.NEGOTIATION
    if "inquiry" in procedure:
        return Panel.INQUIRY
    if "procurement_bid_period_days" in (section.project.ruleset.rules or {}):
        return Panel.GOVERNMENT_TENDER
    return Panel.WORKS_TENDER
