"""The scoring scheme (评分办法): criteria, weights and method, validated when built.

A scheme is configuration, not code (house rule 4): the three methods share one engine and
differ only in how the price criterion is scored.

Weights and points. Every scored criterion carries a ``weight``: its share, in points, of a
100-point total (the weights of the price, technical and commercial criteria sum to exactly
100). Experts score a technical or commercial criterion on its own scale ``min_points`` …
``max_points`` in multiples of ``step`` from ``min_points``; the scale is mapped onto the weight,
``criterion points = mean × weight / max_points``. The usual tender document gives a criterion
"技术方案 40分", i.e. ``max_points == weight`` and the mapping is the identity; a scheme written
the 87号令 Art 55 way (``Fi`` scored out of 100, ``Ai`` a fraction) is ``max_points = 100`` and
``weight = Ai × 100``.

Pass/fail criteria (符合性/资格性审查) carry no weight and no points: 87号令 Art 55 forbids
qualification conditions as scoring factors. A bid fails one when the committee does not find it
passed by a majority (Art 61).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ggzy.core.errors import ValidationFailed

HUNDRED = Decimal(100)

# R33 (87号令 Art 55): the price weight's floor per procurement category; no upper bound.
PRICE_WEIGHT_FLOOR: dict[str, Decimal] = {"goods": Decimal(30), "services": Decimal(10)}


class ScoringError(ValidationFailed):
    """A scheme, an input or a score the engine refuses; ``code`` names the rule broken."""


class Method(StrEnum):
    LOWEST_EVALUATED_PRICE = "lowest_evaluated_price"  # 最低评标价法 (R35)
    COMPREHENSIVE_87 = "comprehensive_87"  # 综合评分法, 87号令 price formula (R32)
    BENCHMARK_PRICE = "benchmark_price"  # 综合评估法, engineering benchmark price


class Category(StrEnum):
    GOODS = "goods"  # 货物
    SERVICES = "services"  # 服务
    WORKS = "works"  # 工程


class CriterionKind(StrEnum):
    PRICE = "price"  # 价格分, computed by the method's formula, never scored by experts
    TECHNICAL = "technical"  # 技术分
    COMMERCIAL = "commercial"  # 商务分
    PASS_FAIL = "pass_fail"  # 资格性/符合性审查, no points

    @property
    def expert_scored(self) -> bool:
        return self in (CriterionKind.TECHNICAL, CriterionKind.COMMERCIAL)


def _refuse(code: str, message: str, **detail: Any) -> ScoringError:
    return ScoringError(message, code=code, detail=detail or None)


def as_decimal(value: object, what: str) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise _refuse("not_a_decimal", f"{what}须为十进制数 (a Decimal, never a float)", field=what)


@dataclass(frozen=True)
class Criterion:
    """One scoring factor (评审因素)."""

    id: str
    name: str
    kind: CriterionKind
    weight: Decimal = Decimal(0)
    max_points: Decimal = Decimal(0)
    min_points: Decimal = Decimal(0)
    step: Decimal = Decimal("0.01")

    def __post_init__(self) -> None:
        for name in ("weight", "max_points", "min_points", "step"):
            object.__setattr__(self, name, as_decimal(getattr(self, name), f"{self.id}.{name}"))
        if not self.id:
            raise _refuse("bad_criterion", "评审因素缺少编号 (criterion id missing)")
        if self.kind is CriterionKind.PASS_FAIL:
            if self.weight != 0:
                raise _refuse(
                    "pass_fail_weighted",
                    f"资格性/符合性审查项“{self.name}”不得计分 (a pass/fail criterion has no weight)",
                    criterion=self.id,
                )
            return
        if self.weight <= 0:
            raise _refuse(
                "bad_criterion", f"“{self.name}”的权重须大于0", criterion=self.id, field="weight"
            )
        if self.kind.expert_scored and not (
            0 <= self.min_points < self.max_points and self.step > 0
        ):
            raise _refuse(
                "bad_criterion",
                f"“{self.name}”的分值范围无效 (need 0 ≤ min < max and step > 0)",
                criterion=self.id,
            )

    def check_points(self, points: Decimal) -> str | None:
        """``None`` when an expert may give ``points``, else why not (``range`` or ``step``)."""
        if not (self.min_points <= points <= self.max_points):
            return "range"
        if (points - self.min_points) % self.step != 0:
            return "step"
        return None


@dataclass(frozen=True)
class BenchmarkRule:
    """The engineering benchmark price (评标基准价), see :mod:`ggzy.evaluation.prices`.

    ``trim_count`` highest and as many lowest valid prices are removed (or, with
    ``trim_percent``, ``floor(n × trim_percent / 100)`` from each end) — but nothing is removed
    when fewer than ``trim_min_bids`` valid bids remain. The coefficient K is drawn at the
    opening and passed with the section's input; it must lie in ``coefficient_range``.
    """

    points_off_per_percent_above: Decimal
    points_off_per_percent_below: Decimal
    trim_count: int | None = 1
    trim_percent: Decimal | None = None
    trim_min_bids: int = 5
    coefficient_range: tuple[Decimal, Decimal] = (Decimal(1), Decimal(1))

    def __post_init__(self) -> None:
        above = as_decimal(self.points_off_per_percent_above, "points_off_per_percent_above")
        below = as_decimal(self.points_off_per_percent_below, "points_off_per_percent_below")
        object.__setattr__(self, "points_off_per_percent_above", above)
        object.__setattr__(self, "points_off_per_percent_below", below)
        low, high = (as_decimal(v, "coefficient_range") for v in self.coefficient_range)
        object.__setattr__(self, "coefficient_range", (low, high))
        if above < 0 or below < 0:
            raise _refuse("bad_benchmark_rule", "扣分值不得为负 (deductions must be ≥ 0)")
        if (self.trim_count is None) == (self.trim_percent is None):
            raise _refuse(
                "bad_benchmark_rule",
                "去掉最高最低报价须按家数或按比例二选一 (give trim_count or trim_percent)",
            )
        if self.trim_percent is not None:
            percent = as_decimal(self.trim_percent, "trim_percent")
            object.__setattr__(self, "trim_percent", percent)
            if not 0 <= percent < 50:
                raise _refuse("bad_benchmark_rule", "去除比例须在0–50%之间 (0 ≤ pct < 50)")
        if self.trim_count is not None and (
            self.trim_count < 0 or self.trim_min_bids <= 2 * self.trim_count
        ):
            raise _refuse(
                "bad_benchmark_rule",
                "去除家数须满足 0 ≤ N 且 2N < 最少家数 (at least one price must remain)",
                trim_count=self.trim_count,
                trim_min_bids=self.trim_min_bids,
            )
        if not 0 < low <= high:
            raise _refuse("bad_benchmark_rule", "下浮系数范围无效 (need 0 < low ≤ high)")


@dataclass(frozen=True)
class AbnormallyLowRule:
    """When a price is flagged ``abnormally_low`` for a written explanation (87号令 Art 60).

    A flag never rejects a bid: the committee decides after the explanation. Either test may be
    switched off with ``None``.
    """

    # flagged when price < ratio × the average of the other valid bids' prices
    others_average_ratio: Decimal | None = Decimal("0.80")
    # flagged when price < benchmark × (1 − percent / 100); benchmark method only
    below_benchmark_percent: Decimal | None = None

    def __post_init__(self) -> None:
        if self.others_average_ratio is not None:
            ratio = as_decimal(self.others_average_ratio, "others_average_ratio")
            object.__setattr__(self, "others_average_ratio", ratio)
            if not 0 < ratio <= 1:
                raise _refuse("bad_abnormal_rule", "异常低价比例须在(0, 1]之间")
        if self.below_benchmark_percent is not None:
            percent = as_decimal(self.below_benchmark_percent, "below_benchmark_percent")
            object.__setattr__(self, "below_benchmark_percent", percent)
            if not 0 <= percent < 100:
                raise _refuse("bad_abnormal_rule", "低于基准价的比例须在[0, 100)之间")


@dataclass(frozen=True)
class ScoringScheme:
    """A section's scoring scheme; refused at construction when it breaks a rule."""

    method: Method
    category: Category
    criteria: tuple[Criterion, ...]
    benchmark: BenchmarkRule | None = None
    abnormally_low: AbnormallyLowRule = field(default_factory=AbnormallyLowRule)
    candidate_count: int = 3  # R24: at most 3 ranked candidates

    def __post_init__(self) -> None:
        ids = [c.id for c in self.criteria]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise _refuse("duplicate_criterion", "评审因素编号重复", criteria=duplicates)
        if not 1 <= self.candidate_count <= 3:
            raise _refuse(
                "candidate_count_out_of_range",
                "中标候选人应为1至3名 (R24)",
                candidate_count=self.candidate_count,
            )
        prices = [c for c in self.criteria if c.kind is CriterionKind.PRICE]
        if self.method is Method.LOWEST_EVALUATED_PRICE:
            self._check_lowest_price()
        else:
            if len(prices) != 1:
                raise _refuse(
                    "price_criterion_count",
                    "综合评分须有且仅有一个价格评审因素",
                    price_criteria=[c.id for c in prices],
                )
            self._check_weights(prices[0])
        if self.method is Method.BENCHMARK_PRICE and self.category != Category.WORKS:
            # R32/R33: government goods and services score the price by 87号令's formula
            raise _refuse("method_not_allowed", "基准价法只适用于工程 (benchmark method: works only)",
                          method=str(self.method), category=str(self.category))  # fmt: skip
        if self.method is Method.BENCHMARK_PRICE and self.benchmark is None:
            raise _refuse("benchmark_rule_missing", "基准价法须配置评标基准价规则")
        if self.method is not Method.BENCHMARK_PRICE and self.benchmark is not None:
            raise _refuse("benchmark_rule_unexpected", "只有基准价法使用评标基准价规则")

    def _check_lowest_price(self) -> None:
        # R35: only the price decides; other factors can only be pass/fail.
        scored = [c.id for c in self.criteria if c.kind.expert_scored]
        if scored:
            raise _refuse(
                "criterion_not_allowed",
                "最低评标价法只评审价格，其他因素只能为符合性审查 (R35)",
                criteria=scored,
            )

    def _check_weights(self, price: Criterion) -> None:
        total = sum((c.weight for c in self.criteria), Decimal(0))
        if total != HUNDRED:
            raise _refuse("weights_not_100", "各评审因素权重之和须为100", total=str(total))
        floor = PRICE_WEIGHT_FLOOR.get(self.category)
        if self.method is Method.COMPREHENSIVE_87 and floor is not None and price.weight < floor:
            raise _refuse(
                "price_weight_too_low",
                f"价格分值比重不得低于{floor}%（87号令第五十五条，R33）",
                category=str(self.category),
                weight=str(price.weight),
                minimum=str(floor),
            )

    @property
    def price_criterion(self) -> Criterion | None:
        return next((c for c in self.criteria if c.kind is CriterionKind.PRICE), None)

    @property
    def scored_criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.kind.expert_scored)

    @property
    def pass_fail_criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.kind is CriterionKind.PASS_FAIL)

    def criterion(self, criterion_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.id == criterion_id), None)
