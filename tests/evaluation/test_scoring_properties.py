"""Invariants of the engine over generated sections (hypothesis)."""

from __future__ import annotations

import random
from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ggzy.evaluation.inputs import ExpertScore, SectionScoring
from ggzy.evaluation.report import report_bytes
from ggzy.evaluation.scoring import score_section
from tests.evaluation.builders import benchmark_scheme, bid, price, scheme_87, technical

D = Decimal
EXPERTS = ("E1", "E2", "E3")


@st.composite
def sections(draw: st.DrawFn, benchmark: bool = False) -> SectionScoring:
    count = draw(st.integers(1, 12))
    weight = draw(st.integers(30, 90))
    ids = [f"B{i:02}" for i in range(count)]
    # few distinct prices and scores, so ties happen often
    prices = [draw(st.sampled_from([500_000, 750_000, 900_000, 900_000, 1_234_567])) for _ in ids]
    invalid = [draw(st.booleans()) and draw(st.booleans()) for _ in ids]
    bids = [
        bid(b, str(p), invalid_reason="资格不符" if bad else None)
        for b, p, bad in zip(ids, prices, invalid, strict=True)
    ]
    tech_max = 100 - weight
    scores = [
        ExpertScore(e, b, "tech", D(draw(st.integers(0, tech_max))))
        for b, bad in zip(ids, invalid, strict=True)
        if not bad
        for e in EXPERTS
    ]
    scheme = (
        benchmark_scheme(weight=weight, trim_min_bids=draw(st.integers(3, 8)))
        if benchmark
        else scheme_87(price(weight), technical(tech_max, step="1"))
    )
    return SectionScoring(
        section_id="S",
        scheme=scheme,
        committee=EXPERTS,
        bids=tuple(bids),
        scores=tuple(scores),
        draw_seed=draw(st.text(min_size=1, max_size=8)),
        benchmark_coefficient=D(draw(st.sampled_from(["0.95", "0.97", "1.00"]))),
    )


def _check(section: SectionScoring) -> None:
    result = score_section(section)
    valid = {b.bid_id for b in section.bids if b.invalid_reason is None}
    weight = section.scheme.price_criterion.weight  # type: ignore[union-attr]

    # the ranking is a permutation of the valid bids; candidates are its head, at most 3
    assert sorted(result.ranking) == sorted(valid)
    assert result.candidates == result.ranking[:3]
    assert [b.rank for b in result.bids if b.valid] == list(range(1, len(valid) + 1))
    assert all(b.rank is None for b in result.bids if not b.valid)
    for b in result.bids:
        if b.valid:
            assert b.price_points is not None and b.total is not None
            assert D(0) <= b.price_points <= weight
            assert D(0) <= b.total <= D(100)
    # totals never increase down the ranking; equal totals → price never decreases
    ranked = [result.bid(i) for i in result.ranking]
    for upper, lower in pairwise(ranked):
        assert upper.total >= lower.total  # type: ignore[operator]
        if upper.total == lower.total:
            assert upper.evaluated_price <= lower.evaluated_price  # type: ignore[operator]
    # the same bytes whatever order the input came in
    shuffled = list(section.scores)
    random.Random(0).shuffle(shuffled)
    again = SectionScoring(
        section_id=section.section_id,
        scheme=section.scheme,
        committee=section.committee[::-1],
        bids=section.bids[::-1],
        scores=tuple(shuffled),
        draw_seed=section.draw_seed,
        benchmark_coefficient=section.benchmark_coefficient,
    )
    assert report_bytes(score_section(again)) == report_bytes(result)


@settings(max_examples=150, deadline=None)
@given(sections())
def test_comprehensive_87_invariants(section: SectionScoring) -> None:
    _check(section)
    result = score_section(section)
    if result.ranking:
        weight = section.scheme.price_criterion.weight  # type: ignore[union-attr]
        # the lowest valid evaluated price gets the full price weight
        lowest = [b for b in result.bids if b.valid and b.evaluated_price == result.base_price]
        assert lowest and all(b.price_points == weight for b in lowest)


@settings(max_examples=150, deadline=None)
@given(sections(benchmark=True))
def test_benchmark_invariants(section: SectionScoring) -> None:
    _check(section)
    result = score_section(section)
    if result.benchmark is not None:
        b = result.benchmark
        assert len(b.kept) + len(b.removed_low) + len(b.removed_high) == b.valid_count
        assert len(b.kept) >= 1 and len(b.removed_low) == len(b.removed_high)
