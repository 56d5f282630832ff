"""The result stage's legal periods, worked by hand on the calendar of December 2026 – March
2027 (weekends, plus the holidays a test enters in the center's table).

December 2026: Mon 14, Thu 17, Fri 18, Mon 21, Mon 28, Thu 31. January 2027: Fri 1 (元旦 when
entered), Mon 4, Tue 5, Tue 12, Sun 17, Mon 18.
"""

from __future__ import annotations

from datetime import date

import pytest

from ggzy.award import periods
from ggzy.award.periods import PROCUREMENT, WORKS
from ggzy.award.states import Level
from ggzy.core.models import CalendarDay
from tests.award.world import cn

pytestmark = pytest.mark.django_db


def holiday(day: date, name: str = "节假日") -> None:
    CalendarDay.objects.create(day=day, is_working_day=False, name=name)


def test_r25_publicity_starts_within_3_days_of_the_report_and_lasts_3_days() -> None:
    signed = cn(2026, 12, 14, 10, 0, 1)  # Monday
    # the day of the report does not count: Tue 15, Wed 16, Thu 17 — Thursday is the last day
    assert periods.last_start_day(signed, WORKS) == date(2026, 12, 17)
    # a publicity starting Monday 10:00:01 may end Thursday 10:00:01 at the earliest
    assert periods.earliest_end(signed, WORKS) == cn(2026, 12, 17, 10, 0, 1)
    # calendar days: a weekend inside changes nothing
    assert periods.earliest_end(cn(2026, 12, 18, 9), WORKS) == cn(2026, 12, 21, 9)


def test_r31_procurement_counts_working_days_and_skips_holidays() -> None:
    signed = cn(2026, 12, 18, 16)  # Friday
    # 2 working days: Mon 21, Tue 22
    assert periods.last_start_day(signed, PROCUREMENT) == date(2026, 12, 22)
    # 1 working day: Friday 16:00 → Monday 16:00
    assert periods.earliest_end(signed, PROCUREMENT) == cn(2026, 12, 21, 16)
    holiday(date(2026, 12, 21))
    # with Monday a holiday: Tue 22, Wed 23; and the publicity lasts until Tuesday
    assert periods.last_start_day(signed, PROCUREMENT) == date(2026, 12, 23)
    assert periods.earliest_end(signed, PROCUREMENT) == cn(2026, 12, 22, 16)


def test_r9_and_r30_objection_replies_are_due_at_the_end_of_the_last_day() -> None:
    raised = cn(2026, 12, 17, 15)  # Thursday
    # works, 3 days: Fri 18, Sat 19, Sun 20 — due when Sunday ends
    assert periods.reply_due(raised, WORKS) == cn(2026, 12, 21, 0)
    # procurement, 7 working days: Fri 18 (1), Mon 21 – Fri 25 (2–6), Mon 28 (7)
    assert periods.reply_due(raised, PROCUREMENT) == cn(2026, 12, 29, 0)


def test_r26_r27_contract_within_30_days_of_the_award_notice() -> None:
    issued = cn(2026, 12, 18, 10)
    # 30 calendar days after Friday 18 December: Sunday 17 January
    assert periods.contract_deadline(issued, WORKS) == date(2027, 1, 17)
    assert periods.contract_deadline(issued, PROCUREMENT) == date(2027, 1, 17)
    # late in the evening in China is still the same day (the instant is 15:30 UTC)
    assert periods.contract_deadline(cn(2026, 12, 18, 23, 30), WORKS) == date(2027, 1, 17)


def test_r27_publication_2_and_filing_7_working_days_across_new_year() -> None:
    holiday(date(2027, 1, 1), "元旦")
    signed = date(2026, 12, 31)  # Thursday
    # Fri 1 (holiday), Sat 2, Sun 3 skipped: Mon 4 (1), Tue 5 (2)
    assert periods.publication_due(signed, PROCUREMENT) == date(2027, 1, 5)
    # … Wed 6 (3), Thu 7 (4), Fri 8 (5), Mon 11 (6), Tue 12 (7)
    assert periods.filing_due(signed, PROCUREMENT) == date(2027, 1, 12)
    # works tendering has neither duty on the platform
    assert periods.publication_due(signed, WORKS) is None
    assert periods.filing_due(signed, WORKS) is None


def test_r37_award_30_working_days_before_the_validity_ends() -> None:
    # bids valid 90 days from the deadline Monday 14 December 2026: until Sunday 14 March 2027
    deadline = cn(2026, 12, 14, 10)
    assert periods.validity_ends(deadline, 90) == date(2027, 3, 14)
    # 30 working days back from 14 March: six full weeks of five — Monday 1 February
    assert periods.award_by(deadline, 90, WORKS) == date(2027, 2, 1)
    holiday(date(2027, 2, 10), "春节")
    assert periods.award_by(deadline, 90, WORKS) == date(2027, 1, 29)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 6), None),  # 4 days ahead: not yet
        (date(2026, 12, 7), Level.UPCOMING),  # 3 days ahead
        (date(2026, 12, 10), Level.UPCOMING),  # the due day itself
        (date(2026, 12, 11), Level.OVERDUE),
        (date(2026, 12, 13), Level.OVERDUE),  # 3 days over
        (date(2026, 12, 14), Level.ESCALATED),  # 4 days over
    ],
)
def test_warning_levels_before_and_after_a_due_date(today: date, expected: Level | None) -> None:
    assert periods.level(date(2026, 12, 10), today, before=3, after=3) == expected


def test_the_regime_follows_the_ruleset() -> None:
    assert periods.regime_of({"bid_period_days": 20}) == "works"
    assert periods.regime_of({"procurement_bid_period_days": 20}) == "procurement"
