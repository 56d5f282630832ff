"""Engineering benchmark-price method: trimmed average × K, deductions per 1 % off it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ggzy.evaluation.report import build_report
from ggzy.evaluation.scheme import AbnormallyLowRule, BenchmarkRule, ScoringError
from ggzy.evaluation.scoring import ABNORMALLY_LOW, score_section
from tests.evaluation.builders import benchmark_scheme, bid, section, sheet

D = Decimal
PRICES = {
    "P1": "800000",
    "P2": "880000",
    "P3": "900000",
    "P4": "950000",
    "P5": "1000000",
    "P6": "1200000",
}


def _bids(prices: dict[str, str]) -> list:  # type: ignore[type-arg]
    return [bid(b, p) for b, p in prices.items()]


def _scores(ids: list[str] | dict[str, str], tech: int = 30) -> tuple:  # type: ignore[type-arg]
    return sheet({b: {"tech": [tech] * 5} for b in ids})


def test_worked_example_from_the_module_doc() -> None:
    scheme = benchmark_scheme()  # price 60, X = 1 per 1 % above, Y = 0.5 per 1 % below
    bids = [*_bids(PRICES), bid("Z", "500000", invalid_reason="资质证书过期")]
    result = score_section(section(scheme, bids, _scores(PRICES), coefficient="0.97"))

    b = result.benchmark
    assert b is not None
    # 6 valid bids ≥ 5 → drop the lowest (800,000) and the highest (1,200,000); Z is invalid
    assert (b.removed_low, b.removed_high) == (("P1",), ("P6",))
    assert b.kept == ("P2", "P3", "P4", "P5")
    # (880,000 + 900,000 + 950,000 + 1,000,000) / 4 = 3,730,000 / 4 = 932,500.00
    assert b.average == D("932500.00")
    # 932,500 × 0.97 = 904,525.00
    assert b.benchmark == D("904525.00")
    points = {x.bid_id: x.price_points for x in result.bids if x.valid}
    # each deduction starts from the printed deviation (to 0.01), so the report can be redone
    assert points == {
        # (800000 − 904525)/904525 = −11.5558 % → −11.56 → 60 − 0.5 × 11.56 = 54.22
        "P1": D("54.22"),
        # −24525/904525 = −2.7114 % → −2.71 → 60 − 0.5 × 2.71 = 58.645 → 58.65
        "P2": D("58.65"),
        # −4525/904525 = −0.50026 % → −0.50 → 60 − 0.5 × 0.50 = 59.75
        "P3": D("59.75"),
        # +45475/904525 = 5.0275 % → 5.03 → 60 − 5.03 = 54.97
        "P4": D("54.97"),
        # +95475/904525 = 10.5553 % → 10.56 → 60 − 10.56 = 49.44
        "P5": D("49.44"),
        # +295475/904525 = 32.6663 % → 32.67 → 60 − 32.67 = 27.33
        "P6": D("27.33"),
    }
    assert result.bid("P4").deviation_percent == D("5.03")
    # all have technical 30.00 → the price decides: 59.75 > 58.65 > 54.97 > 54.22 > 49.44 > 27.33
    assert result.ranking == ("P3", "P2", "P4", "P1", "P5", "P6")
    assert result.bid("P3").total == D("89.75")
    assert result.bid("Z").rank is None


def test_the_printed_deviation_reproduces_the_printed_points() -> None:
    # given two bids averaging 1,000,000 (2 < 5: no trim, K = 1), X = Y = 1, weight 60
    scheme = benchmark_scheme(below="1")
    prices = {"A": "1050250", "B": "949750"}
    # when the section is scored and its report built
    report = build_report(
        score_section(section(scheme, _bids(prices), _scores(prices), coefficient="1"))
    )
    # then A's exact deviation 5.025 % is printed 5.03 and its points 60 − 5.03 = 54.97
    # (not 60 − 5.025 = 54.975 → 54.98), so the signed report can be redone by hand
    a = next(b for b in report["bids"] if b["bid_id"] == "A")
    assert (a["deviation_percent"], a["price_points"]) == ("5.03", "54.97")
    assert D(a["price_points"]) == D(60) - D(a["deviation_percent"])


def test_had_the_invalid_bid_counted_the_benchmark_would_differ() -> None:
    # control: with Z valid, 7 bids drop 500,000 and 1,200,000 → 4,530,000/5 = 906,000 × 0.97
    bids = [*_bids(PRICES), bid("Z", "500000")]
    result = score_section(
        section(benchmark_scheme(), bids, _scores([*PRICES, "Z"]), coefficient="0.97")
    )
    assert result.benchmark is not None and result.benchmark.average == D("906000.00")
    assert result.benchmark.benchmark == D("878820.00")


def test_fewer_bids_than_the_threshold_remove_nothing() -> None:
    prices = {"P1": "800000", "P2": "900000", "P3": "1000000", "P4": "1300000"}
    result = score_section(
        section(benchmark_scheme(), _bids(prices), _scores(prices), coefficient="1.00")
    )

    b = result.benchmark
    assert b is not None and not b.trimmed and b.removed_low == () and b.removed_high == ()
    # 4 < 5: (800,000 + 900,000 + 1,000,000 + 1,300,000) / 4 = 1,000,000.00 × 1.00
    assert b.benchmark == D("1000000.00")
    # at the benchmark: full 60.00; 1,300,000 is 30 % above → 60 − 30 = 30.00
    assert result.bid("P3").price_points == D("60.00")
    assert result.bid("P4").price_points == D("30.00")
    # 800,000 is 20 % below → 60 − 0.5 × 20 = 50.00
    assert result.bid("P1").price_points == D("50.00")


def test_trim_by_percentage() -> None:
    prices = {f"B{i:02}": str(900000 + 10000 * i) for i in range(10)}  # 900,000 … 990,000
    scheme = benchmark_scheme(trim_count=None, trim_percent="20")
    result = score_section(section(scheme, _bids(prices), _scores(prices), coefficient="1.00"))

    b = result.benchmark
    assert b is not None
    # floor(10 × 20 / 100) = 2 from each end: drop 900k, 910k and 980k, 990k
    assert b.removed_low == ("B00", "B01") and b.removed_high == ("B08", "B09")
    # (920k + 930k + … + 970k) / 6 = 5,670,000 / 6 = 945,000.00
    assert b.average == D("945000.00")


def test_points_floor_at_zero() -> None:
    prices = {"P1": "1000000", "P2": "1000000", "P3": "3000000"}
    scheme = benchmark_scheme(above="2")
    result = score_section(
        section(scheme, _bids(prices), _scores(prices), coefficient="1.00", seed="s")
    )
    # 3 < 5 → no trim: 5,000,000 / 3 = 1,666,666.67; P3 is +80 % → 60 − 2 × 80 < 0 → 0.00
    assert result.bid("P3").price_points == D("0.00")


def test_abnormally_low_below_the_benchmark() -> None:
    rule = AbnormallyLowRule(others_average_ratio=D("0.80"), below_benchmark_percent=D(10))
    scheme = benchmark_scheme(abnormally_low=rule)
    result = score_section(section(scheme, _bids(PRICES), _scores(PRICES), coefficient="0.97"))

    # benchmark 904,525.00 × (1 − 10 %) = 814,072.50; P1's 800,000 is below → flagged.
    # its others' average (880k+900k+950k+1,000k+1,200k)/5 = 986,000 × 0.8 = 788,800 → not
    p1 = result.bid("P1")
    assert p1.flags == (ABNORMALLY_LOW,)
    assert [(f.basis, f.threshold) for f in p1.low_price] == [("benchmark", D("814072.50"))]
    assert all(not b.flags for b in result.bids if b.bid_id != "P1")


@pytest.mark.parametrize(
    ("k", "code"), [(None, "coefficient_missing"), ("0.94", "coefficient_out_of_range")]
)
def test_coefficient_is_required_and_in_range(k: str | None, code: str) -> None:
    with pytest.raises(ScoringError) as refused:
        score_section(section(benchmark_scheme(), _bids(PRICES), _scores(PRICES), coefficient=k))
    assert refused.value.code == code


@pytest.mark.parametrize(
    "kwargs",
    [
        {"trim_count": 1, "trim_percent": D(10)},  # both
        {"trim_count": None},  # neither
        {"trim_count": 2, "trim_min_bids": 4},  # nothing would remain
        {"trim_count": None, "trim_percent": D(50)},
        {"coefficient_range": (D("1.1"), D("0.9"))},
    ],
)
def test_bad_benchmark_rules_are_refused(kwargs: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ScoringError) as refused:
        BenchmarkRule(
            points_off_per_percent_above=D(1), points_off_per_percent_below=D(1), **kwargs
        )
    assert refused.value.code == "bad_benchmark_rule"
