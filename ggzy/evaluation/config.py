"""A section's scoring scheme, pinned on its evaluation session as plain JSON, and the engine's
:class:`~ggzy.evaluation.scheme.ScoringScheme` made from it.

The tender documents name each factor with a weight and a kind (``price``, ``technical``,
``business``, ``credit``, ``other``); an expert scores a non-price factor from 0 to its weight in
steps of :data:`SCORE_STEP`. The lowest evaluated price method (R35) scores nothing but price.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from ggzy.evaluation.committee import Panel
from ggzy.evaluation.scheme import (
    BenchmarkRule,
    Category,
    Criterion,
    CriterionKind,
    Method,
    ScoringScheme,
)

SCORE_STEP = Decimal("0.5")
METHODS = {
    "lowest_price": Method.LOWEST_EVALUATED_PRICE,
    "comprehensive": Method.COMPREHENSIVE_87,
    "benchmark": Method.BENCHMARK_PRICE,
}
K_STEP = Decimal("0.001")  # the benchmark coefficient K is drawn in steps of this
KINDS = {"price": CriterionKind.PRICE, "technical": CriterionKind.TECHNICAL}


def section_config(section: Any) -> dict[str, Any]:
    """The scheme of ``section`` as JSON: method, category and the criteria with their scales."""
    method = METHODS[section.evaluation_method]
    criteria = []
    benchmark = None
    for n, item in enumerate(section.criteria or [], start=1):
        kind = KINDS.get(item.get("kind", "other"), CriterionKind.COMMERCIAL)
        if kind is CriterionKind.PRICE and item.get("benchmark"):
            benchmark = dict(item["benchmark"])
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
    out = {
        "method": str(method),
        "category": section.project.subject_type,
        "criteria": criteria,
    }
    if method is Method.BENCHMARK_PRICE:
        out["benchmark"] = benchmark
    return out


def benchmark_rule(config: dict[str, Any]) -> BenchmarkRule | None:
    rule = config.get("benchmark")
    if not rule:
        return None
    percent = rule.get("trim_percent")
    return BenchmarkRule(
        points_off_per_percent_above=Decimal(rule["points_off_per_percent_above"]),
        points_off_per_percent_below=Decimal(rule["points_off_per_percent_below"]),
        trim_count=rule.get("trim_count"),
        trim_percent=None if percent is None else Decimal(percent),
        trim_min_bids=int(rule.get("trim_min_bids", 5)),
        coefficient_range=(
            Decimal(rule["coefficient_range"][0]),
            Decimal(rule["coefficient_range"][1]),
        ),
    )


def benchmark_coefficient(config: dict[str, Any], draw_seed: str) -> Decimal | None:
    """The coefficient K of the benchmark method, drawn from the session's seed (whose SHA-256 is
    in the ledger from the session's creation, so K cannot be chosen after the prices are known):
    ``low + (H mod (n + 1)) × 0.001`` with ``n = (high − low) / 0.001`` and ``H`` the SHA-256 of
    ``"ggzy-benchmark-k/1:" + seed`` as an integer; the fixed ``low`` when the range is one value."""
    rule = benchmark_rule(config)
    if rule is None:
        return None
    low, high = rule.coefficient_range
    steps = int((high - low) / K_STEP)
    digest = hashlib.sha256(f"ggzy-benchmark-k/1:{draw_seed}".encode()).digest()
    return low + K_STEP * (int.from_bytes(digest, "big") % (steps + 1))


def scheme(config: dict[str, Any]) -> ScoringScheme:
    return ScoringScheme(
        method=Method(config["method"]),
        category=Category(config["category"]),
        benchmark=benchmark_rule(config),
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
