"""The rating policy (专家动态管理): when the ratings given after evaluation sessions suspend an
expert from draws, and for how long. Pure: facts in, a decision out — no database, no clock, no
settings (the rating service reads those and passes them in).

Two causes (the thresholds are configuration, ``GGZY_EXPERT_*`` in settings):

- **misconduct** (违规行为): a rating that records misconduct suspends the expert at once for
  ``misconduct_suspend_days``;
- **low ratings** (评价差): a rating is low when its score is at most ``low_score``. When the
  expert has low ratings from at least ``low_sessions_to_suspend`` different sessions in the
  ``window_days`` days ending on the rating day (that day included), they are suspended for
  ``suspend_days``. Two low ratings of one session (the center's and the tenderer's) are one
  occurrence: one evaluation, two witnesses. A rating that already caused a suspension is not
  counted again.

A suspension of ``n`` days starts on the rating day: the expert is suspended up to and including
day ``n - 1`` after it (``suspended_until`` is inclusive, ``states.drawable_on``) and may be
drawn again on day ``n``. A suspension never shortens one already running: an indefinite one,
or one ending on or after the due end, is kept as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from ggzy.experts.states import ExpertStatus

MISCONDUCT = "misconduct"
LOW_RATINGS = "low_ratings"


@dataclass(frozen=True)
class RatingPolicy:
    """The configured thresholds (``GGZY_EXPERT_LOW_RATING`` and friends)."""

    low_score: int = 2
    low_sessions_to_suspend: int = 3
    window_days: int = 365
    suspend_days: int = 180
    misconduct_suspend_days: int = 365

    def __post_init__(self) -> None:
        if not 1 <= self.low_score <= 5:
            raise ValueError("low_score must be within 1–5")
        for name in ("low_sessions_to_suspend", "window_days", "suspend_days",
                     "misconduct_suspend_days"):  # fmt: skip
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")

    def is_low(self, score: int) -> bool:
        return score <= self.low_score


@dataclass(frozen=True)
class RatingFact:
    """What the policy reads of one rating: its id, its session, the day it was given (on the
    platform's calendar), the score, the misconduct flag, and whether it already caused a
    suspension (``counted``)."""

    rating: int
    session: str
    day: date
    score: int
    misconduct: bool = False
    counted: bool = False


@dataclass(frozen=True)
class Suspension:
    """A suspension the policy calls for: its last day (inclusive), why, and the ratings that
    caused it (ascending ids)."""

    until: date
    causes: tuple[str, ...]
    ratings: tuple[int, ...]


class Action(StrEnum):
    SUSPEND = "suspend"  # active → suspended
    EXTEND = "extend"  # a running (or lapsed) suspension gets a later end
    KEEP = "keep"  # nothing changes


@dataclass(frozen=True)
class Decision:
    action: Action
    until: date | None = None


def last_day(start: date, days: int) -> date:
    """The inclusive end of ``days`` days starting on ``start``."""
    return start + timedelta(days=days - 1)


def in_window(policy: RatingPolicy, day: date, today: date) -> bool:
    """Within the ``window_days`` days ending on ``today`` (both ends included)."""
    return today - timedelta(days=policy.window_days) < day <= today


def suspension_due(
    policy: RatingPolicy, *, new: RatingFact, earlier: Sequence[RatingFact]
) -> Suspension | None:
    """Whether recording ``new`` (after the expert's ``earlier`` ratings) calls for a
    suspension. Only the new rating can trigger one: a misconduct rating at once, a low rating
    when it brings the low sessions in the window up to the threshold."""
    today = new.day
    due: list[tuple[date, str, tuple[int, ...]]] = []
    if new.misconduct:
        due.append((last_day(today, policy.misconduct_suspend_days), MISCONDUCT, (new.rating,)))
    if policy.is_low(new.score):
        low = [f for f in (*earlier, new) if not f.counted and policy.is_low(f.score)
               and in_window(policy, f.day, today)]  # fmt: skip
        if len({f.session for f in low}) >= policy.low_sessions_to_suspend:
            ids = tuple(f.rating for f in low)
            due.append((last_day(today, policy.suspend_days), LOW_RATINGS, ids))
    if not due:
        return None
    return Suspension(
        until=max(d[0] for d in due),
        causes=tuple(d[1] for d in due),
        ratings=tuple(sorted({r for d in due for r in d[2]})),
    )


def decide(*, status: str, suspended_until: date | None, due: Suspension) -> Decision:
    """What a due suspension does to an expert in ``status``: an active expert is suspended; a
    suspension with an earlier end (running or lapsed) is extended; an indefinite or longer one
    is kept; an expert out of the pool (retired) is left alone."""
    if status == ExpertStatus.ACTIVE:
        return Decision(Action.SUSPEND, due.until)
    ends_earlier = suspended_until is not None and suspended_until < due.until
    if status == ExpertStatus.SUSPENDED and ends_earlier:
        return Decision(Action.EXTEND, due.until)
    return Decision(Action.KEEP)
