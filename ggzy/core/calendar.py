"""Working-day calendar for legal deadlines: weekends plus the center's holiday table.

Deadlines the law counts in working days (e.g. the objection reply period) use
:func:`add_working_days` and :func:`count_working_days`. The table is small (a few dozen rows a
year), so it is read once per call into a dict; no per-day queries.
"""

from __future__ import annotations

from datetime import date, timedelta


def _exceptions(start: date, end: date) -> dict[date, bool]:
    from ggzy.core.models import CalendarDay

    rows = CalendarDay.objects.filter(day__gte=start, day__lte=end).values_list(
        "day", "is_working_day"
    )
    return dict(rows)


def is_working_day(day: date, exceptions: dict[date, bool] | None = None) -> bool:
    if exceptions is None:
        exceptions = _exceptions(day, day)
    if day in exceptions:
        return exceptions[day]
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted).

    ``days`` may be negative to count backwards. ``add_working_days(d, 0)`` is ``d``.
    """
    if days == 0:
        return start
    step = 1 if days > 0 else -1
    # Look ahead generously: even a long holiday season cannot eat more than 3x the span.
    span = abs(days) * 3 + 30
    lo, hi = sorted((start, start + timedelta(days=step * span)))
    exceptions = _exceptions(lo, hi)
    current, remaining = start, abs(days)
    while remaining:
        current += timedelta(days=step)
        if current < lo or current > hi:  # pragma: no cover - only for absurd holiday tables
            exceptions.update(
                _exceptions(current - timedelta(days=span), current + timedelta(days=span))
            )
            lo, hi = current - timedelta(days=span), current + timedelta(days=span)
        if is_working_day(current, exceptions):
            remaining -= 1
    return current


def count_working_days(start: date, end: date) -> int:
    """Working days in the half-open interval ``(start, end]``; negative if ``end < start``."""
    if end == start:
        return 0
    if end < start:
        return -count_working_days(end, start)
    exceptions = _exceptions(start, end)
    day, total = start, 0
    while day < end:
        day += timedelta(days=1)
        total += is_working_day(day, exceptions)
    return total
