"""Score one section: :func:`score_section` turns a :class:`SectionScoring` into a result.

The steps, in order:

1. Refuse malformed input (unknown expert, bid or criterion, duplicates, a score outside its
   criterion's range or off its step, a missing score or verdict) — one ``ScoringError`` each.
2. Pass/fail review: a bid fails a pass/fail criterion unless a majority of the committee finds
   it passed (87号令 Art 61; with an even committee a split counts as not passed). A failed bid
   joins the bids the input already marked invalid; scores given for it are not used.
3. Prices of the valid bids only (invalid bids count in no baseline): evaluated price, then the
   method's price points (:mod:`ggzy.evaluation.prices`).
4. Every technical or commercial criterion: the arithmetic mean of *all* committee members'
   scores (no trimming: 87号令 Art 55 has each member score independently and the scores
   "汇总"; Art 64 corrects abnormal scores by re-review, not by dropping them), printed to 0.01,
   then mapped onto the weight: ``points = mean × weight / max_points`` (to 0.01).
5. ``total = price points + Σ criterion points``, exact sum of the printed figures.
6. Rank (R34, :mod:`ggzy.evaluation.ranking`); candidates are the first ``candidate_count``
   (≤ 3, R24). Abnormally low prices are flagged, never rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

from ggzy.evaluation.inputs import BidInput, ExpertScore, PriceAdjustment, SectionScoring
from ggzy.evaluation.prices import (
    ZERO,
    BenchmarkPrice,
    EvaluatedPrice,
    LowPriceFinding,
    abnormally_low_findings,
    benchmark_points,
    benchmark_price,
    deviation_percent,
    evaluated_price,
    points,
    price_points_87,
)
from ggzy.evaluation.ranking import RankEntry, TieBreak, rank_bids
from ggzy.evaluation.scheme import Criterion, Method, ScoringError, ScoringScheme
from ggzy.evaluation.validation import check_inputs

ABNORMALLY_LOW = "abnormally_low"
TIE_DRAWN = "tie_drawn"
FEWER_THAN_THREE_VALID = "fewer_than_three_valid_bids"  # 87号令 Art 44; 评标暂行规定 Art 27


@dataclass(frozen=True)
class CriterionScore:
    """One bid's result on one technical or commercial criterion."""

    criterion_id: str
    expert_points: tuple[tuple[str, Decimal], ...]  # (expert_id, points), by expert id
    mean: Decimal  # to 0.01
    points: Decimal  # mean mapped onto the weight, to 0.01
    notes: tuple[tuple[str, str], ...] = ()  # (expert_id, justification), where one was given


@dataclass(frozen=True)
class PassFailFinding:
    criterion_id: str
    passed: bool
    verdicts: tuple[tuple[str, bool], ...]  # (expert_id, passed), by expert id


@dataclass(frozen=True)
class BidResult:
    bid_id: str
    bidder_name: str
    price: Decimal | None
    adjustments: tuple[PriceAdjustment, ...]
    corrected_price: Decimal | None
    evaluated_price: Decimal | None
    valid: bool
    invalid_reason: str | None
    pass_fail: tuple[PassFailFinding, ...]
    price_points: Decimal | None  # None under the lowest evaluated price method
    deviation_percent: Decimal | None  # from the benchmark, to 0.01 (benchmark method)
    criteria: tuple[CriterionScore, ...]
    total: Decimal | None
    rank: int | None
    candidate: bool
    low_price: tuple[LowPriceFinding, ...]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ScoringResult:
    section_id: str
    scheme: ScoringScheme
    committee: tuple[str, ...]  # sorted
    bids: tuple[BidResult, ...]  # valid bids by rank, then invalid bids by id
    ranking: tuple[str, ...]
    candidates: tuple[str, ...]
    base_price: Decimal | None  # 87号令: the lowest valid evaluated price
    benchmark: BenchmarkPrice | None
    tie_breaks: tuple[TieBreak, ...]
    draw_seed: str | None
    warnings: tuple[str, ...]

    def bid(self, bid_id: str) -> BidResult:
        return next(b for b in self.bids if b.bid_id == bid_id)


def score_section(section: SectionScoring) -> ScoringResult:
    """Score, rank and flag the bids of one section; refuses bad input with ``ScoringError``."""
    # A fixed context: the result must not depend on whatever context the caller left behind.
    with localcontext(Context(prec=34, rounding=ROUND_HALF_EVEN)):
        return _score(section)


def _score(section: SectionScoring) -> ScoringResult:
    scheme = section.scheme
    committee = tuple(sorted(section.committee))
    scores, verdicts = check_inputs(section)
    pass_fail = _pass_fail(section, committee, verdicts)
    valid = [
        b
        for b in section.bids
        if b.invalid_reason is None and all(f.passed for f in pass_fail[b.bid_id])
    ]
    _check_complete(scheme, committee, valid, scores)
    prices = {b.bid_id: evaluated_price(b) for b in valid}
    _check_positive(prices)

    base_price: Decimal | None = None
    benchmark: BenchmarkPrice | None = None
    price_points: dict[str, Decimal] = {}
    deviations: dict[str, Decimal] = {}
    price = scheme.price_criterion
    if prices and scheme.method is Method.COMPREHENSIVE_87:
        assert price is not None
        base_price = min(p.evaluated for p in prices.values())
        price_points = {
            b: price_points_87(base_price, p.evaluated, price.weight) for b, p in prices.items()
        }
    elif prices and scheme.method is Method.BENCHMARK_PRICE:
        assert price is not None and scheme.benchmark is not None
        coefficient = _coefficient(section)
        benchmark = benchmark_price(
            [(b, p.evaluated) for b, p in prices.items()], scheme.benchmark, coefficient
        )
        for b, p in prices.items():
            price_points[b] = benchmark_points(
                p.evaluated, benchmark.benchmark, price.weight, scheme.benchmark
            )
            deviations[b] = deviation_percent(p.evaluated, benchmark.benchmark)

    criteria = {b.bid_id: _criterion_scores(scheme, committee, b.bid_id, scores) for b in valid}
    totals: dict[str, Decimal | None] = {
        b.bid_id: None
        if scheme.method is Method.LOWEST_EVALUATED_PRICE
        else price_points[b.bid_id] + sum((c.points for c in criteria[b.bid_id]), ZERO)
        for b in valid
    }
    ranking, tie_breaks = rank_bids(
        [RankEntry(b, totals[b], p.evaluated) for b, p in prices.items()],
        section_id=section.section_id,
        seed=section.draw_seed,
    )
    candidates = ranking[: scheme.candidate_count]
    low = abnormally_low_findings(
        {b: p.corrected for b, p in prices.items()},
        scheme.abnormally_low,
        benchmark.benchmark if benchmark else None,
    )
    drawn = {b for t in tie_breaks for b in t.bid_ids}
    rank_of = {b: i + 1 for i, b in enumerate(ranking)}
    by_id = {b.bid_id: b for b in section.bids}

    results: list[BidResult] = []
    for bid_id in ranking:
        flags = ((ABNORMALLY_LOW,) if bid_id in low else ()) + (
            (TIE_DRAWN,) if bid_id in drawn else ()
        )
        results.append(
            _result(
                by_id[bid_id],
                prices[bid_id],
                pass_fail[bid_id],
                price_points=price_points.get(bid_id),
                deviation=deviations.get(bid_id),
                criteria=criteria[bid_id],
                total=totals[bid_id],
                rank=rank_of[bid_id],
                candidate=bid_id in candidates,
                low_price=low.get(bid_id, ()),
                flags=flags,
            )
        )
    for bid in sorted(section.bids, key=lambda b: b.bid_id):
        if bid.bid_id not in prices:
            results.append(_invalid_result(scheme, bid, pass_fail[bid.bid_id]))

    return ScoringResult(
        section_id=section.section_id,
        scheme=scheme,
        committee=committee,
        bids=tuple(results),
        ranking=ranking,
        candidates=candidates,
        base_price=base_price,
        benchmark=benchmark,
        tie_breaks=tie_breaks,
        draw_seed=section.draw_seed,
        warnings=(FEWER_THAN_THREE_VALID,) if len(valid) < 3 else (),
    )


def _pass_fail(
    section: SectionScoring,
    committee: tuple[str, ...],
    verdicts: dict[tuple[str, str, str], bool],
) -> dict[str, tuple[PassFailFinding, ...]]:
    found: dict[str, tuple[PassFailFinding, ...]] = {}
    missing: list[list[str]] = []
    for bid in section.bids:
        findings: list[PassFailFinding] = []
        if bid.invalid_reason is None:
            for criterion in section.scheme.pass_fail_criteria:
                given: list[tuple[str, bool]] = []
                for expert in committee:
                    key = (bid.bid_id, criterion.id, expert)
                    if key not in verdicts:
                        missing.append([expert, bid.bid_id, criterion.id])
                    else:
                        given.append((expert, verdicts[key]))
                yes = sum(1 for _, passed in given if passed)
                findings.append(
                    PassFailFinding(criterion.id, 2 * yes > len(committee), tuple(given))
                )
        found[bid.bid_id] = tuple(findings)
    if missing:
        raise ScoringError(
            "有评委未完成符合性审查", code="missing_verdict", detail=_missing_detail(missing)
        )
    return found


def _check_complete(
    scheme: ScoringScheme,
    committee: tuple[str, ...],
    valid: list[BidInput],
    scores: dict[tuple[str, str, str], ExpertScore],
) -> None:
    missing = [
        [expert, bid.bid_id, criterion.id]
        for bid in valid
        for criterion in scheme.scored_criteria
        for expert in committee
        if (bid.bid_id, criterion.id, expert) not in scores
    ]
    if missing:
        raise ScoringError(
            "有评委未完成评分", code="missing_score", detail=_missing_detail(missing)
        )


def _missing_detail(missing: list[list[str]]) -> dict[str, object]:
    # the first few (expert, bid, criterion) triples and how many in all
    return {"count": len(missing), "first": missing[:10]}


def _check_positive(prices: dict[str, EvaluatedPrice]) -> None:
    bad = sorted(b for b, p in prices.items() if p.evaluated <= 0 or p.corrected <= 0)
    if bad:
        raise ScoringError(
            "有效投标的评审价须大于0", code="price_not_positive", detail={"bids": bad}
        )


def _coefficient(section: SectionScoring) -> Decimal:
    rule = section.scheme.benchmark
    assert rule is not None
    k = section.benchmark_coefficient
    if k is None:
        raise ScoringError("基准价法须给出开标时抽取的下浮系数", code="coefficient_missing")
    low, high = rule.coefficient_range
    if not low <= k <= high:
        raise ScoringError(
            f"下浮系数须在{low}–{high}之间",
            code="coefficient_out_of_range",
            detail={"coefficient": str(k), "low": str(low), "high": str(high)},
        )
    return k


def _criterion_scores(
    scheme: ScoringScheme,
    committee: tuple[str, ...],
    bid_id: str,
    scores: dict[tuple[str, str, str], ExpertScore],
) -> tuple[CriterionScore, ...]:
    return tuple(
        _criterion_score(c, [scores[(bid_id, c.id, e)] for e in committee])
        for c in scheme.scored_criteria
    )


def _criterion_score(criterion: Criterion, given: list[ExpertScore]) -> CriterionScore:
    mean = points(sum((s.points for s in given), ZERO) / len(given))
    mapped = (
        mean
        if criterion.weight == criterion.max_points
        else points(mean * criterion.weight / criterion.max_points)
    )
    return CriterionScore(
        criterion_id=criterion.id,
        expert_points=tuple((s.expert_id, s.points) for s in given),
        mean=mean,
        points=mapped,
        notes=tuple((s.expert_id, s.note) for s in given if s.note),
    )


def _result(
    bid: BidInput,
    price: EvaluatedPrice,
    pass_fail: tuple[PassFailFinding, ...],
    *,
    price_points: Decimal | None,
    deviation: Decimal | None,
    criteria: tuple[CriterionScore, ...],
    total: Decimal | None,
    rank: int,
    candidate: bool,
    low_price: tuple[LowPriceFinding, ...],
    flags: tuple[str, ...],
) -> BidResult:
    return BidResult(
        bid_id=bid.bid_id,
        bidder_name=bid.bidder_name,
        price=bid.price,
        adjustments=bid.adjustments,
        corrected_price=price.corrected,
        evaluated_price=price.evaluated,
        valid=True,
        invalid_reason=None,
        pass_fail=pass_fail,
        price_points=price_points,
        deviation_percent=deviation,
        criteria=criteria,
        total=total,
        rank=rank,
        candidate=candidate,
        low_price=low_price,
        flags=flags,
    )


def _invalid_result(
    scheme: ScoringScheme, bid: BidInput, pass_fail: tuple[PassFailFinding, ...]
) -> BidResult:
    names = {c.id: c.name for c in scheme.criteria}
    failed = [names[f.criterion_id] for f in pass_fail if not f.passed]
    reason = bid.invalid_reason or "未通过" + "、".join(failed)
    return BidResult(
        bid_id=bid.bid_id,
        bidder_name=bid.bidder_name,
        price=bid.price,
        adjustments=bid.adjustments,
        corrected_price=None,
        evaluated_price=None,
        valid=False,
        invalid_reason=reason,
        pass_fail=pass_fail,
        price_points=None,
        deviation_percent=None,
        criteria=(),
        total=None,
        rank=None,
        candidate=False,
        low_price=(),
        flags=(),
    )
