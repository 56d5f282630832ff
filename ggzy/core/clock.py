"""The platform clock: every domain timestamp comes from here.

Production reads the system clock. Tests (and the demo) freeze it and move it, so legal deadlines
are tested by moving time, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

_global_frozen: list[datetime] = []


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    if _global_frozen:
        return _global_frozen[-1]
    return datetime.now(UTC)


def today() -> date:
    """Today's date on the platform's legal calendar (China Standard Time)."""
    return now().astimezone(CHINA).date()


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the clock only accepts timezone-aware datetimes")
    return moment.astimezone(UTC)


class FrozenClock:
    """A handle on a frozen clock: ``advance`` and ``set`` move it."""

    def __init__(self, moment: datetime) -> None:
        self._moment = _aware(moment)

    @property
    def moment(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        self._moment = _aware(moment)
        _global_frozen[-1] = self._moment

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.set(self._moment + (delta if delta is not None else timedelta(**kwargs)))
        return self._moment


@contextmanager
def frozen(moment: datetime) -> Iterator[FrozenClock]:
    """Freeze the clock for every thread until the block ends."""
    handle = FrozenClock(moment)
    _global_frozen.append(handle.moment)
    try:
        yield handle
    finally:
        _global_frozen.pop()
