"""Committee sizes (R17/R18/R19) and the time-extension rule (R23)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ggzy.evaluation.committee import Panel, committee_violations, time_extension_required
from ggzy.evaluation.scheme import ScoringError

D = Decimal


def codes(*args: object, **kwargs: object) -> list[str]:
    return [v.code for v in committee_violations(*args, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("members", "asking", "extend"),
    [
        (9, 3, False),  # 3/9 = 1/3 exactly: not more than a third
        (9, 4, True),
        (5, 1, False),
        (5, 2, True),  # 2/5 > 1/3
        (7, 2, False),  # 2/7 < 1/3
        (7, 3, True),
        (9, 0, False),
        (9, 9, True),
    ],
)
def test_r23_time_extension(members: int, asking: int, extend: bool) -> None:
    assert time_extension_required(members, asking) is extend


@pytest.mark.parametrize(("members", "asking"), [(0, 0), (5, 6), (5, -1)])
def test_r23_refuses_impossible_counts(members: int, asking: int) -> None:
    with pytest.raises(ScoringError):
        time_extension_required(members, asking)


def test_r17_works_committee() -> None:
    assert codes(Panel.WORKS_TENDER, members=5, experts=4) == []
    # 3 × 3 = 9 < 2 × 5 = 10 → experts below two thirds
    assert codes(Panel.WORKS_TENDER, members=5, experts=3) == ["experts_below_two_thirds"]
    assert codes(Panel.WORKS_TENDER, members=6, experts=6) == ["committee_even"]
    assert codes(Panel.WORKS_TENDER, members=3, experts=3) == ["committee_too_small"]
    assert codes(Panel.WORKS_TENDER, members=4, experts=2) == [
        "committee_too_small",
        "committee_even",
        "experts_below_two_thirds",
    ]
    # a large budget does not raise the works minimum (that is R18's rule)
    assert codes(Panel.WORKS_TENDER, members=5, experts=5, budget=D(50_000_000)) == []


def test_r18_government_committee() -> None:
    assert codes(Panel.GOVERNMENT_TENDER, members=5, experts=4) == []
    # 1000万元以上 includes 10,000,000 itself
    too_small = codes(Panel.GOVERNMENT_TENDER, members=5, experts=4, budget=D("10000000.00"))
    assert too_small == ["committee_too_small"]
    assert codes(Panel.GOVERNMENT_TENDER, members=5, experts=4, budget=D("9999999.99")) == []
    assert codes(Panel.GOVERNMENT_TENDER, members=5, experts=4, technically_complex=True) == [
        "committee_too_small"
    ]
    assert codes(Panel.GOVERNMENT_TENDER, members=5, experts=4, high_social_impact=True) == [
        "committee_too_small"
    ]
    assert codes(Panel.GOVERNMENT_TENDER, members=7, experts=5, budget=D(20_000_000)) == []
    assert codes(Panel.GOVERNMENT_TENDER, members=8, experts=8, budget=D(20_000_000)) == [
        "committee_even"
    ]
    (violation,) = committee_violations(
        Panel.GOVERNMENT_TENDER, members=5, experts=5, budget=D(10_000_000)
    )
    assert violation.rule == "R18" and violation.detail == {"members": 5, "min": 7}


def test_r19_negotiation_and_inquiry_panels() -> None:
    assert codes(Panel.NEGOTIATION, members=3, experts=2) == []  # 3 × 2 = 6 ≥ 2 × 3
    assert codes(Panel.INQUIRY, members=3, experts=1) == ["experts_below_two_thirds"]
    assert codes(Panel.INQUIRY, members=4, experts=4) == ["committee_even"]
    assert codes(Panel.NEGOTIATION, members=1, experts=1) == ["committee_too_small"]
    assert codes(Panel.NEGOTIATION, members=3, experts=3, suppliers=2) == ["too_few_suppliers"]
    assert codes(Panel.NEGOTIATION, members=3, experts=3, suppliers=3) == []


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ScoringError):
        committee_violations(Panel.WORKS_TENDER, members=5, experts=6)
