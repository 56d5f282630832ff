"""Term checks at each rule's boundary: deposit caps (R10/R11), no minimum price (R59), criteria
and the price weight (R33), the bid period (R1/R2), the sale period (R3, R4 in working days)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ggzy.catalog import selectors as catalog
from ggzy.catalog.services import install_default_catalog
from ggzy.core import clock
from ggzy.core.errors import ValidationFailed
from ggzy.core.services import set_calendar_day
from ggzy.tendering import checks
from tests.bidding.world import section_terms


@pytest.fixture
def rules(db):  # type: ignore[no-untyped-def]
    install_default_catalog(actor="system:test")

    def of(category: str) -> dict[str, Any]:
        return catalog.current_ruleset(catalog.get_category(category)).rules

    return of


def works(rules: Any, budget: str = "100000000.00", **overrides: Any) -> dict[str, Any]:
    return checks.section_terms(
        section_terms(**overrides), rules=rules("works"), budget=Decimal(budget),
        subject_type="works", procurement=False,
    )  # fmt: skip


def procurement(rules: Any, subject_type: str, **overrides: Any) -> dict[str, Any]:
    return checks.section_terms(
        section_terms(**overrides), rules=rules("procurement"), budget=Decimal("100000000.00"),
        subject_type=subject_type, procurement=True,
    )  # fmt: skip


def refused(code: str, fn: Any, *args: Any, **kwargs: Any) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == code, (exc.value.code, exc.value.message)
    return exc.value


# --- deposits (R10/R11) -------------------------------------------------------------------------


def test_deposit_exactly_two_percent_is_accepted(rules):
    assert works(rules, deposit="200000.00")["deposit"] == Decimal("200000.00")


def test_deposit_one_cent_above_two_percent_is_refused(rules):
    exc = refused("deposit_too_high", works, rules, deposit="200000.01")
    assert exc.detail == {"cap": "200000.00", "rule": "R10/R11"}


def test_works_deposit_capped_at_800k(rules):
    big = {"estimated_price": "50000000.00", "max_price": None}  # 2% would be ¥1,000,000
    assert works(rules, deposit="800000.00", **big)["deposit"] == Decimal("800000.00")
    exc = refused("deposit_too_high", works, rules, deposit="800000.01", **big)
    assert exc.detail["cap"] == "800000.00"


def test_procurement_deposit_two_percent_without_the_works_cap(rules):
    big = {"estimated_price": "50000000.00", "max_price": None}
    assert procurement(rules, "goods", deposit="1000000.00", **big)["deposit"] == Decimal("1e6")
    refused("deposit_too_high", procurement, rules, "goods", deposit="1000000.01", **big)


def test_zero_deposit_allowed_negative_refused(rules):
    assert works(rules, deposit="0")["deposit"] == 0
    refused("bad_amount", works, rules, deposit="-0.01")


# --- minimum price (R59) and money --------------------------------------------------------------


@pytest.mark.parametrize("key", ["min_price", "minimum_price", "lowest_price_limit"])
def test_minimum_price_is_forbidden(rules, key):
    exc = refused("minimum_price_forbidden", works, rules, **{key: "100.00"})
    assert exc.detail == {"rule": "R59"}


@pytest.mark.parametrize("value", [1.5, True, None, "abc", "1e400", "NaN", "Infinity", [1]])
def test_money_refuses_non_amounts(rules, value):
    refused("bad_amount", works, rules, deposit=value)


def test_estimate_and_max_price_within_budget(rules):
    refused("estimate_above_budget", works, rules, budget="9999999.99")
    refused("max_price_above_budget", works, rules, budget="10000000.00", max_price="10000000.01")


# --- criteria (R33) -----------------------------------------------------------------------------


def crit(price: str, technical: str) -> list[dict[str, str]]:
    return [
        {"name": "投标报价", "weight": price, "kind": "price"},
        {"name": "技术", "weight": technical, "kind": "technical"},
    ]


def test_weights_must_sum_to_100(rules):
    exc = refused("bad_weights", works, rules, criteria=crit("60", "39.99"))
    assert exc.detail == {"total": "99.99"}
    refused("bad_weights", works, rules, criteria=crit("60", "40.01"))
    assert len(works(rules, criteria=crit("60", "40"))["criteria"]) == 2


def test_exactly_one_price_criterion(rules):
    two = [
        {"name": "a", "weight": "50", "kind": "price"},
        {"name": "b", "weight": "50", "kind": "price"},
    ]
    refused("bad_criteria", works, rules, criteria=two)
    refused(
        "bad_criteria", works, rules, criteria=[{"name": "a", "weight": "100", "kind": "technical"}]
    )


def test_lowest_price_method_takes_no_weights(rules):
    refused("bad_criteria", works, rules, evaluation_method="lowest_price")
    assert works(rules, evaluation_method="lowest_price", criteria=[])["criteria"] == []


@pytest.mark.parametrize(("subject", "floor"), [("goods", "30"), ("services", "10")])
def test_procurement_price_weight_floor(rules, subject, floor):
    low = str(Decimal(floor) - Decimal("0.01"))
    ok = procurement(rules, subject, criteria=crit(floor, str(100 - Decimal(floor))))
    assert ok["criteria"][0]["weight"] == f"{floor}.00"
    exc = refused("price_weight_too_low", procurement, rules, subject,
                  criteria=crit(low, str(100 - Decimal(low))))  # fmt: skip
    assert exc.detail == {"minimum": floor, "rule": "R33"}


def test_works_has_no_price_weight_floor(rules):
    assert works(rules, criteria=crit("5", "95"))["criteria"][0]["weight"] == "5.00"


# --- the bid period (R1/R2) ---------------------------------------------------------------------

START = datetime(2026, 12, 1, 9, 0, tzinfo=clock.CHINA)


def schedule(rules: dict[str, Any], *, until: timedelta | datetime = timedelta(days=10),
             deadline: timedelta = timedelta(days=20), start: datetime = START) -> None:  # fmt: skip
    checks.schedule(
        rules,
        documents_from=start,
        documents_until=until if isinstance(until, datetime) else start + until,
        bid_deadline=start + deadline,
    )


@pytest.mark.parametrize(("category", "rule"), [("works", "R1"), ("procurement", "R2")])
def test_bid_period_exactly_20_days(rules, category, rule):
    schedule(rules(category))
    exc = refused("bid_period_too_short", schedule, rules(category),
                  deadline=timedelta(days=20) - timedelta(seconds=1))  # fmt: skip
    assert exc.detail["rule"] == rule and exc.detail["days"] == 20


def test_sale_period_must_end_between_issue_and_deadline(rules):
    refused("bad_sale_period", schedule, rules("works"), until=timedelta(0))
    refused("bad_sale_period", schedule, rules("works"), until=timedelta(days=21))


def test_works_sale_period_5_days_r3(rules):
    schedule(rules("works"), until=timedelta(days=5))
    exc = refused("sale_period_too_short", schedule, rules("works"),
                  until=timedelta(days=5) - timedelta(seconds=1))  # fmt: skip
    assert exc.detail == {"rule": "R3", "days": 5}


# --- the sale period in working days (R4) -------------------------------------------------------

FRIDAY = datetime(2026, 12, 4, 9, 0, tzinfo=clock.CHINA)  # Fri 2026-12-04


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=clock.CHINA)


def test_r4_counts_working_days_across_a_weekend(rules):
    procurement_rules = rules("procurement")
    # Fri, Mon, Tue, Wed, Thu: five working days, the weekend skipped
    schedule(procurement_rules, start=FRIDAY, until=at(date(2026, 12, 10)))
    exc = refused("sale_period_too_short", schedule, procurement_rules, start=FRIDAY,
                  until=at(date(2026, 12, 9)))  # fmt: skip
    assert exc.detail == {"rule": "R4", "working_days": 5}
    # a day counts only in full: ending earlier in the day than the issue loses it
    refused("sale_period_too_short", schedule, procurement_rules, start=FRIDAY,
            until=at(date(2026, 12, 10), hour=8))  # fmt: skip


def test_r4_skips_a_holiday_from_the_calendar(rules, users):
    procurement_rules = rules("procurement")
    set_calendar_day(actor=users["center_admin"], day=date(2026, 12, 7), is_working_day=False,
                     name="调休")  # fmt: skip
    refused("sale_period_too_short", schedule, procurement_rules, start=FRIDAY,
            until=at(date(2026, 12, 10)))  # fmt: skip
    schedule(procurement_rules, start=FRIDAY, until=at(date(2026, 12, 11)))


def test_r4_counts_a_make_up_working_saturday(rules, users):
    procurement_rules = rules("procurement")
    set_calendar_day(actor=users["center_admin"], day=date(2026, 12, 5), is_working_day=True,
                     name="补班")  # fmt: skip
    schedule(procurement_rules, start=FRIDAY, until=at(date(2026, 12, 9)))


# --- other terms --------------------------------------------------------------------------------


def test_investment_code_format():
    assert checks.investment_code("2026-320100-47-01-000123", required=True)
    refused("investment_code_required", checks.investment_code, "", required=True)
    refused("bad_investment_code", checks.investment_code, "2026-1", required=False)
    assert checks.investment_code("", required=False) == ""


@pytest.mark.parametrize(("value", "code"), [("", "required"), ("a\x00", "bad_text"),
                                             ("x" * 201, "too_long"), (5, "bad_text")])  # fmt: skip
def test_text(value, code):
    refused(code, checks.text, value, "name", max_length=200)


def test_moment_reads_naive_as_china_time():
    parsed = checks.moment("2026-12-01T09:00:00", "t")
    assert parsed == START
    refused("bad_time", checks.moment, "tomorrow", "t")
    refused("bad_time", checks.moment, 5, "t")


# --- the benchmark price method (评标基准价) ------------------------------------------------------

RULE = {
    "points_off_per_percent_above": "1",
    "points_off_per_percent_below": "0.5",
    "trim_count": 1,
    "trim_min_bids": 5,
    "coefficient_range": ["0.95", "0.975"],
}


def benchmark_criteria(rule: Any = RULE) -> list[dict[str, Any]]:
    return [
        {"name": "投标报价", "weight": "60", "kind": "price", "benchmark": rule},
        {"name": "施工组织设计", "weight": "40", "kind": "technical"},
    ]


def test_the_benchmark_method_stores_its_rule_on_the_price_criterion(rules):
    terms = works(rules, evaluation_method="benchmark", criteria=benchmark_criteria())
    assert terms["criteria"][0]["benchmark"] == {
        "points_off_per_percent_above": "1",
        "points_off_per_percent_below": "0.5",
        "trim_count": 1,
        "trim_percent": None,
        "trim_min_bids": 5,
        "coefficient_range": ["0.95", "0.975"],
    }
    by_percent = {**RULE, "trim_count": None, "trim_percent": "10"}
    stored = works(rules, evaluation_method="benchmark", criteria=benchmark_criteria(by_percent))
    assert stored["criteria"][0]["benchmark"]["trim_percent"] == "10"


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({**RULE, "coefficient_range": ["0.98", "0.95"]}, "bad_benchmark_rule"),  # low > high
        ({**RULE, "coefficient_range": ["0", "0.95"]}, "bad_benchmark_rule"),  # K must be > 0
        ({**RULE, "coefficient_range": "0.95"}, "bad_benchmark_rule"),
        ({**RULE, "trim_count": 3}, "bad_benchmark_rule"),  # 2 × 3 ≥ 5: nothing would remain
        ({**RULE, "trim_percent": "10"}, "bad_benchmark_rule"),  # both a count and a percentage
        ({**RULE, "points_off_per_percent_above": "-1"}, "bad_benchmark_rule"),
        ({**RULE, "points_off_per_percent_above": "0.00001"}, "bad_benchmark_rule"),
        ({**RULE, "points_off_per_percent_below": True}, "bad_benchmark_rule"),
        ({**RULE, "trim_min_bids": "5"}, "bad_benchmark_rule"),
        ({**RULE, "extra": 1}, "bad_benchmark_rule"),
        ("1%", "bad_benchmark_rule"),
    ],
)
def test_a_bad_benchmark_rule_is_refused(rules, rule, code):
    refused(code, works, rules, evaluation_method="benchmark", criteria=benchmark_criteria(rule))


def test_the_benchmark_method_needs_its_rule_and_works(rules):
    plain = [{k: v for k, v in c.items() if k != "benchmark"} for c in benchmark_criteria()]
    refused("benchmark_rule_missing", works, rules, evaluation_method="benchmark", criteria=plain)
    # the rule belongs to the price criterion, and to the benchmark method only
    misplaced = [plain[0], {**plain[1], "benchmark": RULE}]
    refused("bad_benchmark_rule", works, rules, evaluation_method="benchmark", criteria=misplaced)
    refused("bad_criteria", works, rules, criteria=benchmark_criteria())
    # government procurement scores the price by 87号令's formula (R32): not this method
    refused("method_not_allowed", procurement, rules, "goods", evaluation_method="benchmark",
            criteria=benchmark_criteria())  # fmt: skip
