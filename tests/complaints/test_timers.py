"""The statutory periods (R29 / R30) on the center's calendar, at their boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from ggzy.complaints import timers
from ggzy.core.models import CalendarDay

WORKS = timers.rules_for(timers.WORKS)
PROCUREMENT = timers.rules_for(timers.PROCUREMENT)


def holiday(day: date) -> None:
    CalendarDay.objects.create(day=day, is_working_day=False, name="假日")


def test_the_table_names_every_number_with_its_rule() -> None:
    rows = {(r["regime"], r["period"]): (r["count"], r["working_days"], r["rule"])
            for r in timers.table()}  # fmt: skip
    assert rows == {
        ("works", "filing"): (10, False, "R29"),
        ("works", "acceptance"): (3, True, "R29"),
        ("works", "decision"): (30, True, "R29"),
        ("procurement", "filing"): (15, True, "R30"),
        ("procurement", "acceptance"): (5, True, "R30"),
        ("procurement", "decision"): (30, True, "R30"),
    }


@pytest.mark.django_db
def test_works_filing_is_ten_calendar_days_moved_off_a_holiday() -> None:
    # knew on Mon 2026-11-02: day 10 is Thu 11-12
    assert timers.filing_last_day(WORKS, known_on=date(2026, 11, 2), objection_raised_on=None,
                                  objection_answered_on=None) == date(2026, 11, 12)  # fmt: skip
    # knew on Wed 11-04: day 10 is Sat 11-14 -> Mon 11-16; a holiday on Monday -> Tue 11-17
    holiday(date(2026, 11, 16))
    assert timers.filing_last_day(WORKS, known_on=date(2026, 11, 4), objection_raised_on=None,
                                  objection_answered_on=None) == date(2026, 11, 17)  # fmt: skip


@pytest.mark.django_db
def test_works_filing_excludes_the_objections_reply_period() -> None:
    # the objection waited 3 days for its answer (条例60): those days do not count
    assert timers.filing_last_day(
        WORKS,
        known_on=date(2026, 11, 2),
        objection_raised_on=date(2026, 11, 3),
        objection_answered_on=date(2026, 11, 6),
    ) == date(2026, 11, 16)  # 11-12 + 3 = Sun 11-15 -> Mon 11-16


@pytest.mark.django_db
def test_procurement_filing_is_fifteen_working_days_after_the_reply() -> None:
    holiday(date(2026, 11, 11))  # a Wednesday inside the period
    # replied Mon 11-02: 15 working days -> Mon 11-23, one more for the holiday -> Tue 11-24
    assert timers.filing_last_day(PROCUREMENT, known_on=date(2026, 11, 1),
                                  objection_raised_on=date(2026, 10, 26),
                                  objection_answered_on=date(2026, 11, 2)) == date(2026, 11, 24)  # fmt: skip
    assert timers.filing_last_day(PROCUREMENT, known_on=date(2026, 11, 1),
                                  objection_raised_on=None, objection_answered_on=None) is None  # fmt: skip


@pytest.mark.django_db
def test_acceptance_and_decision_in_working_days_with_a_holiday() -> None:
    holiday(date(2026, 11, 25))
    # filed Mon 11-23: 3 working days -> Thu 11-26, the Wednesday holiday -> Fri 11-27
    assert timers.acceptance_due(date(2026, 11, 23), WORKS) == date(2026, 11, 27)
    assert timers.acceptance_due(date(2026, 11, 23), PROCUREMENT) == date(2026, 12, 1)
    # accepted Mon 11-23: 30 working days, one holiday -> Tue 2027-01-05
    assert timers.decision_due(date(2026, 11, 23), WORKS, 0) == date(2027, 1, 5)
    assert timers.decision_due(date(2026, 11, 23), WORKS, 2) == date(2027, 1, 7)


@pytest.mark.django_db
def test_working_days_left() -> None:
    assert timers.working_days_left(date(2026, 11, 23), date(2026, 11, 23)) == 0
    assert timers.working_days_left(date(2026, 11, 23), date(2026, 11, 24)) == 1
    assert timers.working_days_left(date(2026, 11, 24), date(2026, 11, 23)) == -1
    # the Saturday after a Friday deadline: past, though no working day has gone by
    assert timers.working_days_left(date(2026, 11, 28), date(2026, 11, 27)) == -1
    assert timers.paused_working_days(date(2026, 11, 23), date(2026, 11, 30)) == 5


def test_procurement_acceptance_is_configurable(settings) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_COMPLAINT_PROCUREMENT_ACCEPTANCE_WD = 8
    assert timers.rules_for(timers.PROCUREMENT).acceptance.count == 8


def test_an_overdue_clock_counts_the_days_past_as_a_positive_number() -> None:
    from datetime import date

    from ggzy.complaints.selectors import Clock

    late = Clock(deadline="acceptance", due=date(2026, 12, 1), days_left=-3, paused=False)
    assert late.overdue and late.days_overdue == 3
    assert (
        Clock(deadline="decision", due=date(2026, 12, 9), days_left=2, paused=False).days_overdue
        == 0
    )
