"""Bad input: each refused with its own code, never a crash."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ggzy.evaluation.inputs import BidInput, ExpertScore, ExpertVerdict
from ggzy.evaluation.scheme import (
    BenchmarkRule,
    Category,
    Criterion,
    CriterionKind,
    Method,
    ScoringError,
    ScoringScheme,
)
from ggzy.evaluation.scoring import score_section
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
SCHEME = scheme_87(price(30), technical(50), commercial(20))
BIDS = (bid("A", "900000"), bid("B", "1000000"), bid("C", "1100000"))
FULL = {b: {"tech": [40] * 5, "biz": [10] * 5} for b in "ABC"}


def _refused(*extra: ExpertScore, drop: int = 0, **kwargs: object) -> ScoringError:
    scores = list(sheet(FULL))[drop:] + list(extra)
    with pytest.raises(ScoringError) as refused:
        score_section(section(SCHEME, kwargs.pop("bids", BIDS), scores, **kwargs))  # type: ignore[arg-type]
    return refused.value


def _one(
    points: str, criterion: str = "tech", expert: str = "E1", bid_id: str = "A"
) -> ExpertScore:
    return ExpertScore(expert, bid_id, criterion, D(points))


@pytest.mark.parametrize(
    ("points", "problem"),
    [("50.5", "range"), ("-0.5", "range"), ("40.3", "step"), ("40.25", "step")],
)
def test_score_outside_range_or_off_step(points: str, problem: str) -> None:
    # technical: 0–50 in steps of 0.5; E1's score for A replaced by the bad one
    error = _refused(_one(points), drop=1)
    assert error.code == "score_out_of_range"
    assert error.detail["problem"] == problem
    assert error.detail | {"points": points} == {
        "expert": "E1",
        "bid": "A",
        "criterion": "tech",
        "points": points,
        "problem": problem,
        "min": "0",
        "max": "50",
        "step": "0.5",
    }


def test_bounds_themselves_are_allowed() -> None:
    scores = [s for s in sheet(FULL) if not (s.expert_id == "E1" and s.bid_id == "A")]
    scores += [_one("50"), _one("0", criterion="biz")]
    assert score_section(section(SCHEME, BIDS, scores)).bid("A").criteria[0].mean == D("42.00")


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        (_one("10", criterion="design"), "unknown_criterion"),
        (_one("10", expert="E9"), "unknown_expert"),
        (_one("10", bid_id="Q"), "unknown_bid"),
        (_one("10", criterion="price"), "criterion_not_expert_scored"),
        (_one("41"), "duplicate_score"),
    ],
)
def test_bad_entries(entry: ExpertScore, code: str) -> None:
    error = _refused(entry)
    assert error.code == code
    assert {"expert", "bid", "criterion"} <= set(error.detail)


def test_missing_score_lists_who_and_what() -> None:
    error = _refused(drop=1)  # E1's technical score for A is missing
    assert error.code == "missing_score"
    assert error.detail == {"count": 1, "first": [["E1", "A", "tech"]]}


def test_score_for_an_invalid_bid_is_refused() -> None:
    bids = (*BIDS, bid("X", "1", invalid_reason="未盖章"))
    error = _refused(_one("10", bid_id="X"), bids=bids)
    assert error.code == "bid_invalid"


def test_valid_bid_needs_a_price_and_it_must_be_positive() -> None:
    assert _refused(bids=(*BIDS[:2], bid("C", None))).code == "price_missing"
    assert _refused(bids=(*BIDS[:2], bid("C", "0"))).code == "price_not_positive"
    # an invalid bid may have no price (e.g. it could not be decrypted)
    ok = score_section(
        section(SCHEME, (*BIDS, bid("X", None, invalid_reason="解密失败")), sheet(FULL))
    )
    assert ok.bid("X").invalid_reason == "解密失败"


def test_committee_and_bid_ids_are_unique() -> None:
    assert _refused(committee=(*EXPERTS5, "E1")).code == "duplicate_expert"
    assert _refused(committee=()).code == "empty_committee"
    assert _refused(bids=(*BIDS, bid("A", "1"))).code == "duplicate_bid"


def test_verdicts_are_checked() -> None:
    scheme = scheme_87(qualification(), price(30), technical(70, step="1"))
    scores = sheet({b: {"tech": [40] * 5} for b in "ABC"})
    verdicts = list(all_pass("ABC"))

    def refused(vs: list[ExpertVerdict]) -> str:
        with pytest.raises(ScoringError) as error:
            score_section(section(scheme, BIDS, scores, verdicts=vs))
        return error.value.code

    assert refused(verdicts[1:]) == "missing_verdict"
    assert refused([*verdicts, verdicts[0]]) == "duplicate_verdict"
    assert refused([*verdicts, ExpertVerdict("E1", "A", "tech", True)]) == "criterion_not_pass_fail"


def test_scheme_refusals() -> None:
    def code(build: object) -> str:
        with pytest.raises(ScoringError) as error:
            build()  # type: ignore[operator]
        return error.value.code

    assert code(lambda: scheme_87(technical(100))) == "price_criterion_count"
    assert code(lambda: scheme_87(price(30), price(70))) in ("duplicate_criterion",)
    assert (
        code(lambda: scheme_87(price(30), technical(70), technical(0, cid="t2"))) == "bad_criterion"
    )
    assert (
        code(lambda: Criterion("q", "资格", CriterionKind.PASS_FAIL, weight=D(5)))
        == "pass_fail_weighted"
    )
    assert (
        code(lambda: Criterion("t", "技术", CriterionKind.TECHNICAL, weight=D(50), max_points=D(0)))
        == "bad_criterion"
    )
    assert (
        code(lambda: Criterion("t", "技术", CriterionKind.TECHNICAL, weight=50.0))
        == "not_a_decimal"
    )  # type: ignore[arg-type]
    assert (
        code(
            lambda: ScoringScheme(
                Method.COMPREHENSIVE_87, Category.GOODS, (price(100),), candidate_count=4
            )
        )
        == "candidate_count_out_of_range"
    )
    assert (
        code(lambda: ScoringScheme(Method.BENCHMARK_PRICE, Category.WORKS, (price(100),)))
        == "benchmark_rule_missing"
    )


@pytest.mark.parametrize("category", [Category.GOODS, Category.SERVICES])
def test_the_benchmark_method_is_for_works_only(category: Category) -> None:
    # given a benchmark rule, which would escape R32's formula and R33's price-weight floor
    rule = BenchmarkRule(points_off_per_percent_above=D(1), points_off_per_percent_below=D(1),
                         trim_count=1, trim_min_bids=5)  # fmt: skip
    # when a goods or services scheme uses the benchmark method with a 5-point price
    with pytest.raises(ScoringError) as error:
        ScoringScheme(Method.BENCHMARK_PRICE, category, (price(5), technical(95, step="1")),
                      benchmark=rule)  # fmt: skip
    # then it is refused: government procurement scores the price by 87号令
    assert error.value.code == "method_not_allowed"


def test_a_price_too_large_to_hold_to_the_cent_is_refused() -> None:
    # given a price with more digits than the decimal context holds
    # when a bid is built with it
    with pytest.raises(ScoringError) as error:
        BidInput("A", "甲", D("1E+30"))
    # then it is a scoring error with its own code, not decimal.InvalidOperation
    assert error.value.code == "amount_out_of_range"


def test_floats_are_refused_for_money_and_points() -> None:
    with pytest.raises(ScoringError) as error:
        BidInput("A", "甲", 900000.0)  # type: ignore[arg-type]
    assert error.value.code == "not_a_decimal"
    with pytest.raises(ScoringError) as error:
        ExpertScore("E1", "A", "tech", 40.5)  # type: ignore[arg-type]
    assert error.value.code == "not_a_decimal"


def test_a_scoring_error_is_a_422_with_the_house_shape() -> None:
    error = _refused(drop=1)
    assert error.status == 422
    assert set(error.as_dict()) == {"code", "message", "detail"}
