"""Small builders for scoring tests: a scheme, bids and a full score sheet in a few lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from ggzy.evaluation.inputs import BidInput, ExpertScore, ExpertVerdict, SectionScoring
from ggzy.evaluation.scheme import (
    BenchmarkRule,
    Category,
    Criterion,
    CriterionKind,
    Method,
    ScoringScheme,
)

D = Decimal
EXPERTS5 = ("E1", "E2", "E3", "E4", "E5")


def price(weight: int | str = 30) -> Criterion:
    return Criterion("price", "价格", CriterionKind.PRICE, weight=D(weight))


def technical(weight: int | str = 50, *, step: str = "0.5", cid: str = "tech") -> Criterion:
    return Criterion(
        cid,
        "技术方案",
        CriterionKind.TECHNICAL,
        weight=D(weight),
        max_points=D(weight),
        step=D(step),
    )


def commercial(weight: int | str = 20, *, step: str = "1", cid: str = "biz") -> Criterion:
    return Criterion(
        cid,
        "商务条款",
        CriterionKind.COMMERCIAL,
        weight=D(weight),
        max_points=D(weight),
        step=D(step),
    )


def qualification(cid: str = "qual") -> Criterion:
    return Criterion(cid, "资格审查", CriterionKind.PASS_FAIL)


def scheme_87(*criteria: Criterion, category: Category = Category.GOODS) -> ScoringScheme:
    return ScoringScheme(Method.COMPREHENSIVE_87, category, criteria)


def bid(bid_id: str, amount: int | str | None, **kwargs: object) -> BidInput:
    return BidInput(bid_id, f"投标人{bid_id}", None if amount is None else D(amount), **kwargs)  # type: ignore[arg-type]


def sheet(
    table: Mapping[str, Mapping[str, Sequence[int | str]]], experts: Sequence[str] = EXPERTS5
) -> tuple[ExpertScore, ...]:
    """``{bid: {criterion: [points of E1, E2, …]}}`` → the scores."""
    return tuple(
        ExpertScore(expert, bid_id, criterion, D(str(p)))
        for bid_id, by_criterion in table.items()
        for criterion, given in by_criterion.items()
        for expert, p in zip(experts, given, strict=True)
    )


def all_pass(
    bids: Sequence[str], criterion: str = "qual", experts: Sequence[str] = EXPERTS5
) -> tuple[ExpertVerdict, ...]:
    return tuple(ExpertVerdict(e, b, criterion, True) for b in bids for e in experts)


def section(
    scheme: ScoringScheme,
    bids: Sequence[BidInput],
    scores: Sequence[ExpertScore] = (),
    *,
    verdicts: Sequence[ExpertVerdict] = (),
    committee: Sequence[str] = EXPERTS5,
    seed: str | None = None,
    coefficient: str | None = None,
) -> SectionScoring:
    return SectionScoring(
        section_id="S-001",
        scheme=scheme,
        committee=tuple(committee),
        bids=tuple(bids),
        scores=tuple(scores),
        verdicts=tuple(verdicts),
        draw_seed=seed,
        benchmark_coefficient=None if coefficient is None else D(coefficient),
    )


def benchmark_scheme(
    *,
    weight: int = 60,
    above: str = "1",
    below: str = "0.5",
    trim_count: int | None = 1,
    trim_percent: str | None = None,
    trim_min_bids: int = 5,
    k_range: tuple[str, str] = ("0.95", "1.00"),
    **kwargs: object,
) -> ScoringScheme:
    rule = BenchmarkRule(
        points_off_per_percent_above=D(above),
        points_off_per_percent_below=D(below),
        trim_count=trim_count,
        trim_percent=None if trim_percent is None else D(trim_percent),
        trim_min_bids=trim_min_bids,
        coefficient_range=(D(k_range[0]), D(k_range[1])),
    )
    return ScoringScheme(
        Method.BENCHMARK_PRICE,
        Category.WORKS,
        (price(weight), technical(100 - weight, step="1")),
        benchmark=rule,
        **kwargs,  # type: ignore[arg-type]
    )
