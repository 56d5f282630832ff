"""Comprehensive scoring with the 87号令 price formula (R32, R33, R34), worked by hand."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from ggzy.evaluation.inputs import ExpertVerdict
from ggzy.evaluation.scheme import Category, ScoringError
from ggzy.evaluation.scoring import FEWER_THAN_THREE_VALID, TIE_DRAWN, score_section
from tests.evaluation.builders import (
    EXPERTS5,
    all_pass,
    bid,
    commercial,
    price,
    qualification,
    scheme_87,
    section,
    sheet,
    technical,
)

D = Decimal

# Goods: price 30, technical 50 (step 0.5), commercial 20 (step 1); a committee of five.
SCHEME = scheme_87(price(30), technical(50), commercial(20))
BIDS = (
    bid("A", "900000"),
    bid("B", "1000000"),
    bid("C", "1200000"),
    # the cheapest, but its deposit is missing: out of every baseline
    bid("D", "850000", invalid_reason="未按招标文件规定提交投标保证金"),
)
SCORES = sheet(
    {
        "A": {"tech": [40, 42, 38, 41, 39], "biz": [15, 16, 14, 15, 15]},
        "B": {"tech": [45, 44, 46, "45.5", "44.5"], "biz": [16, 16, 17, 15, 16]},
        "C": {"tech": [48, 47, 49, 48, "47.5"], "biz": [18, 18, 19, 17, 18]},
    }
)


def test_price_points_mean_scores_totals_and_rank() -> None:
    result = score_section(section(SCHEME, BIDS, SCORES))

    # base = min valid evaluated price = 900,000 (D's 850,000 is invalid and does not count)
    assert result.base_price == D("900000.00")
    a, b, c = result.bid("A"), result.bid("B"), result.bid("C")
    # A: 900000/900000×30 = 30.00 · B: 900000/1000000×30 = 27.00 · C: 900000/1200000×30 = 22.50
    assert (a.price_points, b.price_points, c.price_points) == (D("30.00"), D("27.00"), D("22.50"))
    # technical means: A 200/5 = 40.00 · B 225/5 = 45.00 · C 239.5/5 = 47.90
    # commercial means: A 75/5 = 15.00 · B 80/5 = 16.00 · C 90/5 = 18.00
    assert [x.mean for x in c.criteria] == [D("47.90"), D("18.00")]
    assert [x.points for x in a.criteria] == [D("40.00"), D("15.00")]
    # totals: A 30+40+15 = 85.00 · B 27+45+16 = 88.00 · C 22.50+47.90+18 = 88.40
    assert (a.total, b.total, c.total) == (D("85.00"), D("88.00"), D("88.40"))
    assert result.ranking == ("C", "B", "A")
    assert [x.rank for x in (c, b, a)] == [1, 2, 3]
    assert result.candidates == ("C", "B", "A")
    assert result.tie_breaks == () and result.warnings == ()


def test_invalid_bid_is_ranked_nowhere_and_keeps_its_reason() -> None:
    result = score_section(section(SCHEME, BIDS, SCORES))

    d = result.bid("D")
    assert not d.valid and d.rank is None and not d.candidate
    assert d.invalid_reason == "未按招标文件规定提交投标保证金"
    assert d.price_points is None and d.total is None and d.criteria == ()
    assert "D" not in result.ranking
    assert [x.bid_id for x in result.bids] == ["C", "B", "A", "D"]


def test_price_points_round_half_up_to_the_hundredth() -> None:
    bids = (bid("A", "900000"), bid("B", "950000"), bid("C", "1100000"))
    scores = sheet({b: {"tech": [40] * 5, "biz": [10] * 5} for b in "ABC"})
    result = score_section(section(SCHEME, bids, scores))

    # 900000/950000×30 = 28.4210… → 28.42 · 900000/1100000×30 = 24.5454… → 24.55
    assert result.bid("B").price_points == D("28.42")
    assert result.bid("C").price_points == D("24.55")
    assert result.bid("A").price_points == D("30.00")


def test_extremes_are_not_dropped() -> None:
    # a very low and a very high price both stay: the lowest sets the base (R32)
    bids = (bid("A", "100000"), bid("B", "1000000"), bid("C", "9000000"))
    scores = sheet({b: {"tech": [40] * 5, "biz": [10] * 5} for b in "ABC"})
    result = score_section(section(SCHEME, bids, scores))

    assert result.base_price == D("100000.00")
    # 100000/1000000×30 = 3.00 · 100000/9000000×30 = 0.3333… → 0.33
    assert result.bid("B").price_points == D("3.00")
    assert result.bid("C").price_points == D("0.33")


def test_policy_deduction_counts_in_base_and_bid() -> None:
    from ggzy.evaluation.inputs import AdjustmentKind, PriceAdjustment

    sme = PriceAdjustment(AdjustmentKind.POLICY, "小微企业价格扣除10%", percent=D(10))
    bids = (bid("A", "1000000", adjustments=(sme,)), bid("B", "950000"), bid("C", "980000"))
    scores = sheet({b: {"tech": [40] * 5, "biz": [10] * 5} for b in "ABC"})
    result = score_section(section(SCHEME, bids, scores))

    # A evaluated at 1,000,000 × 90 % = 900,000 → it is the base and gets 30.00
    assert result.bid("A").evaluated_price == D("900000.00")
    assert result.base_price == D("900000.00")
    assert result.bid("A").price_points == D("30.00")
    # B: 900000/950000×30 = 28.42
    assert result.bid("B").price_points == D("28.42")


def test_score_tie_goes_to_the_lower_price() -> None:
    scheme = scheme_87(price(30), technical(70, step="1"))
    bids = (bid("A", "900000"), bid("B", "1000000"))
    # A: 30.00 + 60.00 = 90.00 · B: 27.00 + 63.00 = 90.00 → equal; A's price is lower (R34)
    scores = sheet({"A": {"tech": [60] * 5}, "B": {"tech": [63] * 5}})
    result = score_section(section(scheme, bids, scores))

    assert result.bid("A").total == result.bid("B").total == D("90.00")
    assert result.ranking == ("A", "B")
    assert result.tie_breaks == ()  # resolved by price, no draw
    assert result.warnings == (FEWER_THAN_THREE_VALID,)


FULL_TIE_BIDS = (bid("P", "1000000"), bid("Q", "1000000"), bid("R", "1200000"))
FULL_TIE_SCORES = sheet({"P": {"tech": [60] * 5}, "Q": {"tech": [60] * 5}, "R": {"tech": [50] * 5}})


def test_full_tie_needs_a_seed() -> None:
    scheme = scheme_87(price(30), technical(70, step="1"))
    with pytest.raises(ScoringError) as refused:
        score_section(section(scheme, FULL_TIE_BIDS, FULL_TIE_SCORES))

    assert refused.value.code == "tie_draw_seed_required"
    assert refused.value.detail == {"ties": [["P", "Q"]]}


def test_full_tie_is_decided_by_the_documented_seeded_draw() -> None:
    scheme = scheme_87(price(30), technical(70, step="1"))
    seed = "ledger-head-8f3a"
    result = score_section(section(scheme, FULL_TIE_BIDS, FULL_TIE_SCORES, seed=seed))

    # P and Q: 30.00 + 60.00 = 90.00 at 1,000,000 each; order by SHA-256 of the documented text
    def digest(bid_id: str) -> str:
        return hashlib.sha256(f"ggzy-tie-draw/1\n{seed}\nS-001\n{bid_id}".encode()).hexdigest()

    expected = tuple(sorted(("P", "Q"), key=digest))
    assert result.ranking[:2] == expected and result.ranking[2] == "R"
    (tie,) = result.tie_breaks
    assert tie.bid_ids == ("P", "Q") and tie.order == expected
    assert tie.total == D("90.00") and tie.evaluated_price == D("1000000.00")
    assert dict(tie.draws) == {"P": digest("P"), "Q": digest("Q")}
    assert result.draw_seed == seed
    assert TIE_DRAWN in result.bid("P").flags and TIE_DRAWN not in result.bid("R").flags
    # reproducible: the same seed, the same order, whatever order the bids came in
    again = score_section(section(scheme, FULL_TIE_BIDS[::-1], FULL_TIE_SCORES[::-1], seed=seed))
    assert again.ranking == result.ranking


def test_seeds_decide_ties_both_ways() -> None:
    scheme = scheme_87(price(30), technical(70, step="1"))
    firsts = {
        score_section(section(scheme, FULL_TIE_BIDS, FULL_TIE_SCORES, seed=f"s{i}")).ranking[0]
        for i in range(20)
    }
    assert firsts == {"P", "Q"}


@pytest.mark.parametrize(
    ("category", "weight", "refused"),
    [
        (Category.GOODS, 29, True),
        (Category.GOODS, 30, False),  # 不得低于30% — 30 itself is allowed
        (Category.SERVICES, 9, True),
        (Category.SERVICES, 10, False),
        (Category.GOODS, 100, False),  # no upper bound under 87号令
    ],
)
def test_r33_price_weight_floor(category: Category, weight: int, refused: bool) -> None:
    criteria = (price(weight),) + ((technical(100 - weight),) if weight < 100 else ())
    if refused:
        with pytest.raises(ScoringError) as error:
            scheme_87(*criteria, category=category)
        assert error.value.code == "price_weight_too_low"
        assert error.value.detail["minimum"] == ("30" if category is Category.GOODS else "10")
        assert error.value.status == 422
    else:
        assert scheme_87(*criteria, category=category).price_criterion is not None


def test_weights_must_sum_to_100() -> None:
    with pytest.raises(ScoringError) as error:
        scheme_87(price(30), technical(50), commercial(15))
    assert error.value.code == "weights_not_100"
    assert error.value.detail == {"total": "95"}
    assert error.value.as_dict()["code"] == "weights_not_100"


def test_criterion_scored_on_its_own_scale_is_mapped_onto_its_weight() -> None:
    from ggzy.evaluation.scheme import Criterion, CriterionKind

    # 87号令 Art 55 form: technical Fi out of 100 with Ai = 0.70 → weight 70, max 100
    tech = Criterion("tech", "技术", CriterionKind.TECHNICAL, weight=D(70), max_points=D(100))
    scheme = scheme_87(price(30), tech)
    bids = (bid("A", "900000"), bid("B", "1000000"), bid("C", "1000000"))
    scores = sheet(
        {"A": {"tech": [80] * 5}, "B": {"tech": [85, 86, 84, 85, 85]}, "C": {"tech": [81] * 5}}
    )
    result = score_section(section(scheme, bids, scores))

    # A: 80.00 × 70/100 = 56.00 → total 86.00 · B: 425/5 = 85.00 × 0.7 = 59.50 → 86.50
    assert result.bid("A").criteria[0].points == D("56.00")
    assert result.bid("B").total == D("86.50")
    # C: 81 × 0.7 = 56.70; 27.00 + 56.70 = 83.70
    assert result.ranking == ("B", "A", "C")


def test_pass_fail_majority_decides_validity() -> None:
    scheme = scheme_87(qualification(), price(30), technical(70, step="1"))
    bids = (bid("A", "900000"), bid("B", "1000000"), bid("C", "800000"))
    verdicts = list(all_pass(["A", "B"]))
    # C: three of five find its qualification insufficient → invalid, excluded from the base
    verdicts += [ExpertVerdict(e, "C", "qual", e in ("E1", "E2")) for e in EXPERTS5]
    # B: two of five object, three pass it → valid
    verdicts = [
        ExpertVerdict(v.expert_id, v.bid_id, v.criterion_id, v.expert_id not in ("E4", "E5"))
        if v.bid_id == "B"
        else v
        for v in verdicts
    ]
    scores = sheet({"A": {"tech": [60] * 5}, "B": {"tech": [65] * 5}})  # none needed for C
    result = score_section(section(scheme, bids, scores, verdicts=verdicts))

    c = result.bid("C")
    assert not c.valid and c.invalid_reason == "未通过资格审查"
    assert c.pass_fail[0].passed is False
    assert result.bid("B").valid
    assert result.base_price == D("900000.00")  # not C's 800,000
    # A 30.00 + 60.00 = 90.00 · B 27.00 + 65.00 = 92.00
    assert result.ranking == ("B", "A")
