"""Lowest evaluated price (R35): rank by evaluated price; only arithmetic and policy adjustments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ggzy.evaluation.inputs import AdjustmentKind, PriceAdjustment
from ggzy.evaluation.scheme import Category, Method, ScoringError, ScoringScheme
from ggzy.evaluation.scoring import ABNORMALLY_LOW, score_section
from tests.evaluation.builders import all_pass, bid, qualification, section, technical

D = Decimal
SCHEME = ScoringScheme(Method.LOWEST_EVALUATED_PRICE, Category.GOODS, (qualification(),))
SME = PriceAdjustment(AdjustmentKind.POLICY, "小微企业价格扣除10%", percent=D(10))
SUM_FIX = PriceAdjustment(
    AdjustmentKind.ARITHMETIC, "单价汇总与总价不一致，以单价为准", amount=D(5000)
)


def test_rank_by_evaluated_price_with_allowed_adjustments() -> None:
    bids = (
        bid("A", "1000000", adjustments=(SME,)),  # 1,000,000 × (1 − 10 %) = 900,000.00
        bid("B", "950000"),  # 950,000.00
        bid("C", "920000", adjustments=(SUM_FIX,)),  # 920,000 + 5,000 = 925,000.00
    )
    result = score_section(section(SCHEME, bids, verdicts=all_pass("ABC")))

    assert result.ranking == ("A", "C", "B")
    a, c = result.bid("A"), result.bid("C")
    assert (a.corrected_price, a.evaluated_price) == (D("1000000.00"), D("900000.00"))
    assert (c.corrected_price, c.evaluated_price) == (D("925000.00"), D("925000.00"))
    assert a.total is None and a.price_points is None  # no points under this method
    assert result.candidates == ("A", "C", "B")
    # others' averages: A's 1,000,000 vs (925,000+950,000)/2 = 937,500 → none is abnormally low
    assert all(b.flags == () for b in result.bids)


def test_abnormally_low_is_flagged_not_rejected() -> None:
    bids = (
        bid("A", "1000000", adjustments=(SME,)),
        bid("B", "950000"),
        bid("C", "920000", adjustments=(SUM_FIX,)),
        bid("D", "600000"),
    )
    result = score_section(section(SCHEME, bids, verdicts=all_pass("ABCD")))

    # D: others average (1,000,000 + 950,000 + 925,000) / 3 = 958,333.33;
    # threshold 958,333.33 × 0.80 = 766,666.66; 600,000 < 766,666.66 → flagged
    d = result.bid("D")
    assert d.flags == (ABNORMALLY_LOW,)
    (finding,) = d.low_price
    assert (finding.basis, finding.reference, finding.threshold) == (
        "others_average",
        D("958333.33"),
        D("766666.66"),
    )
    # still valid and ranked: the committee asks for an explanation (87号令 Art 60)
    assert d.valid and result.ranking[0] == "D"
    assert result.candidates == ("D", "A", "C")


def test_abnormally_low_uses_the_corrected_price_not_the_policy_deduction() -> None:
    # A's policy deduction brings it to 700,000 for comparison, but its price is 1,000,000
    deep = PriceAdjustment(AdjustmentKind.POLICY, "政策扣除30%", percent=D(30))
    bids = (bid("A", "1000000", adjustments=(deep,)), bid("B", "950000"), bid("C", "980000"))
    result = score_section(section(SCHEME, bids, verdicts=all_pass("ABC")))

    assert result.ranking[0] == "A"
    assert result.bid("A").flags == ()


def test_equal_evaluated_prices_are_tied_and_drawn() -> None:
    bids = (bid("A", "900000"), bid("B", "900000"), bid("C", "950000"))
    with pytest.raises(ScoringError) as refused:
        score_section(section(SCHEME, bids, verdicts=all_pass("ABC")))
    assert refused.value.code == "tie_draw_seed_required"

    result = score_section(section(SCHEME, bids, verdicts=all_pass("ABC"), seed="seed-1"))
    assert set(result.ranking[:2]) == {"A", "B"} and result.ranking[2] == "C"
    assert result.tie_breaks[0].total is None


def test_scored_criteria_are_not_allowed() -> None:
    with pytest.raises(ScoringError) as refused:
        ScoringScheme(Method.LOWEST_EVALUATED_PRICE, Category.GOODS, (technical(100),))
    assert refused.value.code == "criterion_not_allowed"


def test_invalid_bid_counts_in_no_average() -> None:
    bids = (
        bid("A", "1000000"),
        bid("B", "1000000"),
        bid("C", "790000"),
        bid("X", "100", invalid_reason="报价超过最高限价"),
    )
    result = score_section(section(SCHEME, bids, verdicts=all_pass("ABC"), seed="s"))

    # C vs the others (1,000,000 + 1,000,000) / 2 = 1,000,000 → threshold 800,000 → flagged;
    # had X's 100 counted, the average would be 666,700 and C would not be flagged
    assert result.bid("C").flags == (ABNORMALLY_LOW,)
    assert result.bid("C").low_price[0].reference == D("1000000.00")
    assert result.bid("X").invalid_reason == "报价超过最高限价"
