"""The rating policy as a pure rule (ggzy.experts.rating_rules): hand-worked cases, no database.

Default thresholds: a score ≤ 2 is low; low ratings from 3 sessions within the 365 days ending
on the rating day suspend for 180 days; misconduct suspends at once for 365 days. A suspension
of n days starting on day d ends (inclusive) on d + (n − 1)."""

from __future__ import annotations

from datetime import date

import pytest

from ggzy.experts.rating_rules import (
    LOW_RATINGS,
    MISCONDUCT,
    Action,
    Decision,
    RatingFact,
    RatingPolicy,
    Suspension,
    decide,
    suspension_due,
)

POLICY = RatingPolicy()
TODAY = date(2026, 11, 23)


def fact(rating: int, session: str, day: date = TODAY, score: int = 2, **kw: bool) -> RatingFact:
    return RatingFact(rating=rating, session=session, day=day, score=score, **kw)


def test_low_is_at_or_below_the_configured_score() -> None:
    assert [POLICY.is_low(s) for s in (1, 2, 3, 4, 5)] == [True, True, False, False, False]
    assert RatingPolicy(low_score=3).is_low(3) is True


def test_a_good_rating_never_suspends_whatever_came_before() -> None:
    earlier = [fact(1, "S1", date(2026, 3, 1)), fact(2, "S2", date(2026, 5, 1)),
               fact(3, "S3", date(2026, 9, 1))]  # fmt: skip
    assert suspension_due(POLICY, new=fact(4, "S4", score=3), earlier=earlier) is None


def test_misconduct_suspends_at_once_for_a_year() -> None:
    due = suspension_due(POLICY, new=fact(7, "S1", score=4, misconduct=True), earlier=[])
    # 2026-11-23 + 364 days: drawable again on 2027-11-23
    assert due == Suspension(until=date(2027, 11, 22), causes=(MISCONDUCT,), ratings=(7,))


def test_low_ratings_from_three_sessions_in_the_window_suspend_for_180_days() -> None:
    earlier = [fact(1, "S1", date(2026, 1, 10), score=1), fact(2, "S2", date(2026, 6, 1))]
    due = suspension_due(POLICY, new=fact(3, "S3"), earlier=earlier)
    # 2026-11-23 + 179 days
    assert due == Suspension(until=date(2027, 5, 21), causes=(LOW_RATINGS,), ratings=(1, 2, 3))


def test_two_low_sessions_are_not_enough() -> None:
    earlier = [fact(1, "S1", date(2026, 6, 1))]
    assert suspension_due(POLICY, new=fact(2, "S2"), earlier=earlier) is None


@pytest.mark.parametrize(
    ("first_day", "suspended"),
    [
        (date(2025, 11, 24), True),  # 364 days before the rating day: inside the 365 days
        (date(2025, 11, 23), False),  # 365 days before: just outside
    ],
)
def test_the_window_is_the_365_days_ending_on_the_rating_day(first_day, suspended) -> None:  # type: ignore[no-untyped-def]
    earlier = [fact(1, "S1", first_day), fact(2, "S2", date(2026, 6, 1))]
    due = suspension_due(POLICY, new=fact(3, "S3"), earlier=earlier)
    assert (due is not None) is suspended
    if due is not None:
        assert due.ratings == (1, 2, 3)


def test_both_sides_rating_one_session_low_is_one_occurrence() -> None:
    # the center and the tenderer both rate S1 and S2 low: two sessions, no suspension yet
    earlier = [fact(1, "S1", date(2026, 5, 1)), fact(2, "S1", date(2026, 5, 1), score=1),
               fact(3, "S2", date(2026, 8, 1))]  # fmt: skip
    assert suspension_due(POLICY, new=fact(4, "S2"), earlier=earlier) is None
    # a third session's low rating suspends, naming every low rating counted
    due = suspension_due(POLICY, new=fact(5, "S3"), earlier=[*earlier, fact(4, "S2")])
    assert due == Suspension(until=date(2027, 5, 21), causes=(LOW_RATINGS,),
                             ratings=(1, 2, 3, 4, 5))  # fmt: skip


def test_ratings_that_already_caused_a_suspension_are_not_counted_again() -> None:
    earlier = [fact(1, "S1", date(2026, 2, 1), counted=True),
               fact(2, "S2", date(2026, 3, 1), counted=True), fact(3, "S3", date(2026, 4, 1))]  # fmt: skip
    assert suspension_due(POLICY, new=fact(4, "S4"), earlier=earlier) is None
    due = suspension_due(POLICY, new=fact(6, "S5"), earlier=[*earlier, fact(4, "S4")])
    assert due is not None and due.ratings == (3, 4, 6)


def test_ratings_that_are_not_low_do_not_count() -> None:
    earlier = [fact(1, "S1", date(2026, 2, 1), score=3), fact(2, "S2", date(2026, 3, 1), score=5)]
    assert suspension_due(POLICY, new=fact(3, "S3", score=1), earlier=earlier) is None


def test_an_earlier_misconduct_does_not_trigger_again() -> None:
    earlier = [fact(1, "S1", date(2026, 2, 1), score=4, misconduct=True, counted=True)]
    assert suspension_due(POLICY, new=fact(2, "S2", score=2), earlier=earlier) is None


def test_misconduct_and_the_low_threshold_together_take_the_later_end() -> None:
    earlier = [fact(1, "S1", date(2026, 1, 10)), fact(2, "S2", date(2026, 6, 1))]
    due = suspension_due(POLICY, new=fact(3, "S3", score=1, misconduct=True), earlier=earlier)
    assert due == Suspension(until=date(2027, 11, 22), causes=(MISCONDUCT, LOW_RATINGS),
                             ratings=(1, 2, 3))  # fmt: skip


def test_the_thresholds_are_configuration() -> None:
    strict = RatingPolicy(low_score=3, low_sessions_to_suspend=2, window_days=30,
                          suspend_days=30, misconduct_suspend_days=90)  # fmt: skip
    earlier = [fact(1, "S1", date(2026, 11, 1), score=3)]
    due = suspension_due(strict, new=fact(2, "S2", score=3), earlier=earlier)
    assert due == Suspension(until=date(2026, 12, 22), causes=(LOW_RATINGS,), ratings=(1, 2))
    # 30 days back (2026-10-24) is outside a 30-day window
    assert suspension_due(strict, new=fact(2, "S2", score=3),
                          earlier=[fact(1, "S1", date(2026, 10, 24), score=3)]) is None  # fmt: skip
    due = suspension_due(strict, new=fact(3, "S3", score=5, misconduct=True), earlier=[])
    assert due is not None and due.until == date(2027, 2, 20)  # 2026-11-23 + 89 days


@pytest.mark.parametrize(
    "values",
    [{"low_score": 0}, {"low_score": 6}, {"low_sessions_to_suspend": 0}, {"window_days": 0},
     {"suspend_days": 0}, {"misconduct_suspend_days": -1}],
)  # fmt: skip
def test_a_policy_out_of_range_is_refused(values) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        RatingPolicy(**values)


DUE = Suspension(until=date(2027, 5, 21), causes=(LOW_RATINGS,), ratings=(1, 2, 3))


@pytest.mark.parametrize(
    ("status", "until", "decision"),
    [
        ("active", None, Decision(Action.SUSPEND, date(2027, 5, 21))),
        ("suspended", None, Decision(Action.KEEP)),  # indefinite: never shortened
        ("suspended", date(2027, 12, 31), Decision(Action.KEEP)),  # longer: kept
        ("suspended", date(2027, 5, 21), Decision(Action.KEEP)),  # the same end: kept
        ("suspended", date(2027, 1, 31), Decision(Action.EXTEND, date(2027, 5, 21))),
        ("suspended", date(2026, 1, 1), Decision(Action.EXTEND, date(2027, 5, 21))),  # lapsed
        ("retired", None, Decision(Action.KEEP)),
        ("pending", None, Decision(Action.KEEP)),
    ],
)
def test_a_due_suspension_never_shortens_one_already_running(status, until, decision) -> None:  # type: ignore[no-untyped-def]
    assert decide(status=status, suspended_until=until, due=DUE) == decision
