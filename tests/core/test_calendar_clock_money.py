from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ggzy.core import calendar, clock
from ggzy.core.models import CalendarDay
from ggzy.core.money import format_yuan, yuan

pytestmark = pytest.mark.django_db


@pytest.fixture
def national_day_2026() -> None:
    for d in (1, 2, 5, 6, 7):
        CalendarDay.objects.create(day=date(2026, 10, d), is_working_day=False, name="国庆节")
    CalendarDay.objects.create(day=date(2026, 10, 10), is_working_day=True, name="调休上班")


def test_weekends_are_skipped() -> None:
    friday = date(2026, 11, 20)
    assert calendar.add_working_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert calendar.add_working_days(friday, 5) == date(2026, 11, 27)
    assert calendar.add_working_days(friday, 0) == friday
    assert calendar.add_working_days(date(2026, 11, 23), -1) == friday


def test_holidays_and_make_up_days_count(national_day_2026: None) -> None:
    # Sept 30 (Wed) + 3 working days: Oct 1, 2 holidays, 3–4 weekend, 5–7 holidays, 8, 9, 10 (Sat, make-up)
    assert calendar.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert calendar.count_working_days(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert calendar.is_working_day(date(2026, 10, 10))
    assert not calendar.is_working_day(date(2026, 10, 5))


def test_count_is_inverse_of_add() -> None:
    start = date(2026, 1, 1)
    for n in range(0, 40):
        assert calendar.count_working_days(start, calendar.add_working_days(start, n)) == n
    assert calendar.count_working_days(date(2026, 11, 27), date(2026, 11, 20)) == -5


def test_frozen_clock_moves_only_when_told() -> None:
    t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with clock.frozen(t0) as handle:
        assert clock.now() == t0
        handle.advance(hours=2)
        assert clock.now() == t0 + timedelta(hours=2)
        assert clock.today() == date(2026, 3, 1)
        handle.set(datetime(2026, 3, 1, 17, 0, tzinfo=UTC))
        assert clock.today() == date(2026, 3, 2)  # 01:00 next day in Beijing
    assert clock.now() != t0


def test_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError), clock.frozen(datetime(2026, 1, 1)):
        pass


def test_money_is_decimal_yuan() -> None:
    assert yuan("1234.565") == Decimal("1234.57")
    assert yuan(3) == Decimal("3.00")
    assert format_yuan(Decimal("1234567.5")) == "¥1,234,567.50"
    with pytest.raises(TypeError):
        yuan(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        yuan("abc")
    with pytest.raises(ValueError):
        yuan("NaN")
