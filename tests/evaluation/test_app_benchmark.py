"""The engineering benchmark price method (评标基准价) chosen on a section: the rule stored with
the price criterion reaches the session's scheme, the coefficient K is drawn from the session's
committed seed, and the report scores the prices against the benchmark (hand-worked below)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest

from ggzy.evaluation import config, services_report, services_review
from ggzy.evaluation.states import SessionStatus
from tests.evaluation import world as w

RULE = {
    "points_off_per_percent_above": "1",
    "points_off_per_percent_below": "0.5",
    "trim_count": 1,
    "trim_min_bids": 5,
    "coefficient_range": ["0.97", "0.97"],
}
CRITERIA = [
    {"name": "投标报价", "weight": "60", "kind": "price", "benchmark": RULE},
    {"name": "施工组织设计", "weight": "30", "kind": "technical"},
    {"name": "企业信誉", "weight": "10", "kind": "business"},
]
TECH = {"c2": "25", "c3": "8"}


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.make_world(frozen_clock, evaluation_method="benchmark", criteria=CRITERIA)


def test_a_benchmark_section_is_scored_against_the_benchmark(world):  # type: ignore[no-untyped-def]
    # given a section with the benchmark method, opened with three bids
    w.open_section(world, ["9000000.00", "9500000.00", "9300000.00"])
    session = w.seated(world)
    assert session.scheme["method"] == "benchmark_price"
    assert session.scheme["benchmark"]["coefficient_range"] == ["0.97", "0.97"]
    services_review.start_review(actor=world.staff, session=session)
    w.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    labels = sorted(session.bids.values_list("label", flat=True))
    w.score_all(world, session, {label: TECH for label in labels})
    # when the report is built
    result = services_report.build_report(actor=world.staff, session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.REPORT
    # then: 3 valid bids < 5, so none is removed; average 27,800,000 / 3 = 9,266,666.67;
    # K = 0.97 (a one-value range); benchmark = 9,266,666.67 × 0.97 = 8,988,666.67
    report = json.loads(bytes(session.report))
    assert report["scheme"]["method"] == "benchmark_price"
    bench = report["benchmark"]
    assert (bench["trimmed"], bench["average"], bench["coefficient"], bench["benchmark"]) == (
        False, "9266666.67", "0.97", "8988666.67")  # fmt: skip
    # every price is above the benchmark: 1 point off per percent; the cheapest comes first
    by_price = {b.label: b.price for b in session.bids.all()}
    order = sorted(by_price, key=lambda k: by_price[k])
    assert list(result.candidates) == order
    top = result.bid(order[0])
    # (9,000,000 − 8,988,666.67) / 8,988,666.67 = 0.126 %: 60 − 0.13 = 59.87
    assert top.price_points == Decimal("59.87")


def test_the_coefficient_is_drawn_from_the_committed_seed():  # type: ignore[no-untyped-def]
    scheme = {"benchmark": {**RULE, "coefficient_range": ["0.95", "0.975"]}}
    seen = set()
    for n in range(200):
        seed = f"{n:032x}"
        k = config.benchmark_coefficient(scheme, seed)
        assert k is not None and Decimal("0.95") <= k <= Decimal("0.975")
        digest = int.from_bytes(
            hashlib.sha256(f"ggzy-benchmark-k/1:{seed}".encode()).digest(), "big"
        )
        assert k == Decimal("0.95") + Decimal("0.001") * (digest % 26)  # the documented formula
        seen.add(k)
    assert len(seen) > 15  # spread over the 26 values of the range
    assert config.benchmark_coefficient({"benchmark": None}, "00") is None
