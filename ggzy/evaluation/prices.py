"""Prices: evaluated price, the 87号令 price score, the engineering benchmark, abnormally low.

Rounding, everywhere in this package: money is rounded to the cent and points to 0.01, both
half-up (``ggzy.core.money``); every rounded figure is one the report prints, and each later
step starts from the printed figure, so anyone can redo the arithmetic from the signed report.

Evaluated price (评审价, R35/R36)::

    corrected = price + Σ arithmetic corrections                       (rounded to the cent)
    evaluated = corrected + Σ policy amounts − corrected × Σ policy % / 100   (to the cent)

87号令 price points (R32, 低价优先法; the highest and lowest prices are NOT dropped)::

    base         = min(evaluated price of the valid bids)          (评标基准价)
    price points = base / evaluated × 100 × (weight / 100) = base / evaluated × weight

    e.g. base 900,000.00, bid 1,000,000.00, weight 30 → 900000/1000000 × 30 = 27.00

Engineering benchmark price (评标基准价, configurable ``BenchmarkRule``)::

    sort the n valid evaluated prices; if n ≥ trim_min_bids remove the N lowest and N highest
    (N = trim_count, or floor(n × trim_percent / 100)); otherwise remove none
    average   = mean of the rest                                     (to the cent)
    benchmark = average × K                    (K drawn at the opening; to the cent)
    deviation = (evaluated − benchmark) / benchmark × 100            (in %, to 0.01: printed)
    points    = weight − X × deviation    when deviation ≥ 0 (X = points off per 1 % above)
              = weight − Y × |deviation|  when deviation < 0 (Y = points off per 1 % below)
    from the printed deviation, floored at 0, rounded to 0.01; a fraction of a percent deducts
    pro rata (插值).

    Worked example: prices 800,000; 880,000; 900,000; 950,000; 1,000,000; 1,200,000
    (6 ≥ 5, N = 1: drop 800,000 and 1,200,000) → average 3,730,000 / 4 = 932,500.00;
    K = 0.97 → benchmark 904,525.00. Weight 60, X = 1, Y = 0.5:
    bid 950,000 → deviation 45,475 / 904,525 × 100 = 5.0275…% → 5.03 → 60 − 5.03 = 54.97;
    bid 880,000 → deviation −2.7114…% → −2.71 → 60 − 0.5 × 2.71 = 58.645 → 58.65.

Abnormally low (异常低价, 87号令 Art 60), on the corrected price — the price the bidder is held
to, before any policy deduction, which is an evaluation device and says nothing about cost::

    reference = mean corrected price of the *other* valid bids (to the cent)
    flagged when corrected < ratio × reference (threshold to the cent), and/or, with a
    benchmark, when corrected < benchmark × (1 − percent / 100) (to the cent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ggzy.core.money import yuan
from ggzy.evaluation.inputs import AdjustmentKind, BidInput
from ggzy.evaluation.scheme import HUNDRED, AbnormallyLowRule, BenchmarkRule

POINT = Decimal("0.01")
ZERO = Decimal(0)


def points(value: Decimal) -> Decimal:
    """Points as the report prints them: two places, half-up."""
    return value.quantize(POINT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class EvaluatedPrice:
    corrected: Decimal  # after arithmetic correction: what the bidder is held to
    evaluated: Decimal  # after policy deductions too: what is compared


def evaluated_price(bid: BidInput) -> EvaluatedPrice:
    if bid.price is None:
        raise ValueError("a bid without a price has no evaluated price")
    corrected = yuan(
        bid.price
        + sum((a.amount for a in bid.adjustments if a.kind is AdjustmentKind.ARITHMETIC), ZERO)
    )
    policy = [a for a in bid.adjustments if a.kind is AdjustmentKind.POLICY]
    percent = sum((a.percent for a in policy), ZERO)
    amount = sum((a.amount for a in policy), ZERO)
    return EvaluatedPrice(corrected, yuan(corrected + amount - corrected * percent / HUNDRED))


def price_points_87(base: Decimal, evaluated: Decimal, weight: Decimal) -> Decimal:
    """R32: ``base / evaluated × weight`` — the lowest valid evaluated price gets the weight."""
    return points(base * weight / evaluated)


@dataclass(frozen=True)
class BenchmarkPrice:
    """How the benchmark came about, for the report."""

    valid_count: int
    trimmed: bool  # False when fewer than trim_min_bids valid bids (nothing removed)
    removed_low: tuple[str, ...]  # bid ids
    removed_high: tuple[str, ...]
    kept: tuple[str, ...]
    average: Decimal
    coefficient: Decimal
    benchmark: Decimal


def benchmark_price(
    prices: Sequence[tuple[str, Decimal]], rule: BenchmarkRule, coefficient: Decimal
) -> BenchmarkPrice:
    """The benchmark from ``(bid_id, evaluated price)`` of the valid bids (see module doc)."""
    ordered = sorted(prices, key=lambda item: (item[1], item[0]))
    count = len(ordered)
    trimmed = count >= rule.trim_min_bids
    if not trimmed:
        cut = 0
    elif rule.trim_count is not None:
        cut = rule.trim_count
    else:
        assert rule.trim_percent is not None
        cut = int(count * rule.trim_percent // HUNDRED)
    kept = ordered[cut : count - cut]
    average = yuan(sum((p for _, p in kept), ZERO) / len(kept))
    return BenchmarkPrice(
        valid_count=count,
        trimmed=trimmed,
        removed_low=tuple(b for b, _ in ordered[:cut]),
        removed_high=tuple(b for b, _ in ordered[count - cut :]) if cut else (),
        kept=tuple(b for b, _ in kept),
        average=average,
        coefficient=coefficient,
        benchmark=yuan(average * coefficient),
    )


def deviation_percent(evaluated: Decimal, benchmark: Decimal) -> Decimal:
    """The deviation from the benchmark in %, to 0.01 — the figure the report prints."""
    return points((evaluated - benchmark) * HUNDRED / benchmark)


def benchmark_points(
    evaluated: Decimal, benchmark: Decimal, weight: Decimal, rule: BenchmarkRule
) -> Decimal:
    deviation = deviation_percent(evaluated, benchmark)
    rate = (
        rule.points_off_per_percent_above if deviation >= 0 else rule.points_off_per_percent_below
    )
    return points(max(ZERO, weight - rate * abs(deviation)))


@dataclass(frozen=True)
class LowPriceFinding:
    """Why a price is flagged abnormally low: the basis, its reference figure and threshold."""

    basis: str  # "others_average" | "benchmark"
    reference: Decimal
    threshold: Decimal


def abnormally_low_findings(
    corrected: dict[str, Decimal], rule: AbnormallyLowRule, benchmark: Decimal | None
) -> dict[str, tuple[LowPriceFinding, ...]]:
    """Findings per valid bid id (bids without a finding are left out)."""
    total = sum(corrected.values(), ZERO)
    others = len(corrected) - 1
    found: dict[str, tuple[LowPriceFinding, ...]] = {}
    for bid_id, price in corrected.items():
        findings: list[LowPriceFinding] = []
        if rule.others_average_ratio is not None and others > 0:
            reference = yuan((total - price) / others)
            threshold = yuan(reference * rule.others_average_ratio)
            if price < threshold:
                findings.append(LowPriceFinding("others_average", reference, threshold))
        if rule.below_benchmark_percent is not None and benchmark is not None:
            threshold = yuan(benchmark * (HUNDRED - rule.below_benchmark_percent) / HUNDRED)
            if price < threshold:
                findings.append(LowPriceFinding("benchmark", benchmark, threshold))
        if findings:
            found[bid_id] = tuple(findings)
    return found
