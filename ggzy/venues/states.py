"""States of venues, bookings and remote evaluation sessions, their transition tables and the
pure guards (no queries).

A booking is ``held`` (a slot kept for a section), then ``confirmed``; it ends ``released``
(given back: not needed, or used and done) or ``cancelled`` (by the center, with a reason).
Only held and confirmed bookings are *live*: two live bookings of one venue never overlap (the
service under a row lock on the venue, and on PostgreSQL an exclusion constraint).

A remote evaluation session (远程异地评标) is driven by the main venue's witness:
``scheduled → checking_in → in_progress ↔ paused → ended``. Each secondary venue keeps its own
state through the same table, driven by its own witness, never ahead of the shared one.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class VenueKind(models.TextChoices):
    OPENING_HALL = "opening_hall", _("开标室")
    EVALUATION_ROOM = "evaluation_room", _("评标室")
    WITNESS_ROOM = "witness_room", _("见证室")


class VenueStatus(models.TextChoices):
    ACTIVE = "active", _("启用")
    CLOSED = "closed", _("停用")


class Purpose(models.TextChoices):
    OPENING = "opening", _("开标")
    EVALUATION = "evaluation", _("评标")


class BookingState(models.TextChoices):
    HELD = "held", _("预订")
    CONFIRMED = "confirmed", _("已确认")
    RELEASED = "released", _("已释放")
    CANCELLED = "cancelled", _("已取消")


class SessionState(models.TextChoices):
    SCHEDULED = "scheduled", _("待开始")
    CHECKING_IN = "checking_in", _("签到中")
    IN_PROGRESS = "in_progress", _("评标中")
    PAUSED = "paused", _("暂停")
    ENDED = "ended", _("已结束")


class VenueRole(models.TextChoices):
    MAIN = "main", _("主场")
    SECONDARY = "secondary", _("副场")


class EventKind(models.TextChoices):
    CHECK_IN_OPENED = "check_in_opened", _("开始签到")
    CHECK_IN = "check_in", _("专家签到")
    SESSION_STARTED = "session_started", _("评标开始")
    SESSION_PAUSED = "session_paused", _("评标暂停")
    SESSION_RESUMED = "session_resumed", _("评标恢复")
    SESSION_ENDED = "session_ended", _("评标结束")
    RECORDING_STARTED = "recording_started", _("开始录音录像")
    RECORDING_STOPPED = "recording_stopped", _("停止录音录像")
    INCIDENT = "incident", _("异常情况")


LIVE_STATES = frozenset({BookingState.HELD, BookingState.CONFIRMED})
# which venue kinds serve which purpose
PURPOSE_KINDS: dict[str, frozenset[str]] = {
    Purpose.OPENING: frozenset({VenueKind.OPENING_HALL}),
    Purpose.EVALUATION: frozenset({VenueKind.EVALUATION_ROOM}),
}

BOOKING_TRANSITIONS: dict[str, frozenset[str]] = {
    BookingState.HELD: frozenset(
        {BookingState.CONFIRMED, BookingState.RELEASED, BookingState.CANCELLED}
    ),
    BookingState.CONFIRMED: frozenset({BookingState.RELEASED, BookingState.CANCELLED}),
    BookingState.RELEASED: frozenset(),
    BookingState.CANCELLED: frozenset(),
}

# event kind -> (states it may follow, the state it leads to)
STATE_EVENTS: dict[str, tuple[frozenset[str], str]] = {
    EventKind.CHECK_IN_OPENED: (frozenset({SessionState.SCHEDULED}), SessionState.CHECKING_IN),
    EventKind.SESSION_STARTED: (
        frozenset({SessionState.SCHEDULED, SessionState.CHECKING_IN}),
        SessionState.IN_PROGRESS,
    ),
    EventKind.SESSION_PAUSED: (frozenset({SessionState.IN_PROGRESS}), SessionState.PAUSED),
    EventKind.SESSION_RESUMED: (frozenset({SessionState.PAUSED}), SessionState.IN_PROGRESS),
    EventKind.SESSION_ENDED: (
        frozenset({SessionState.IN_PROGRESS, SessionState.PAUSED}),
        SessionState.ENDED,
    ),
}
# the main venue's start needs check-in first: a secondary venue may start straight away once the
# shared session runs
MAIN_START_FROM = frozenset({SessionState.CHECKING_IN})
# a secondary venue may not be ahead of the shared session: the shared states each event needs
SECONDARY_NEEDS: dict[str, frozenset[str]] = {
    EventKind.CHECK_IN_OPENED: frozenset(
        {SessionState.CHECKING_IN, SessionState.IN_PROGRESS, SessionState.PAUSED}
    ),
    EventKind.SESSION_STARTED: frozenset({SessionState.IN_PROGRESS}),
    EventKind.SESSION_PAUSED: frozenset({SessionState.IN_PROGRESS, SessionState.PAUSED}),
    EventKind.SESSION_RESUMED: frozenset({SessionState.IN_PROGRESS}),
    EventKind.SESSION_ENDED: frozenset(
        {SessionState.IN_PROGRESS, SessionState.PAUSED, SessionState.ENDED}
    ),
}
# experts check in while check-in is open or the session runs (late arrivals are recorded)
CHECK_IN_STATES = frozenset(
    {SessionState.CHECKING_IN, SessionState.IN_PROGRESS, SessionState.PAUSED}
)
# R62: a venue's session runs only while it is being recorded
NEEDS_RECORDING = frozenset({EventKind.SESSION_STARTED, EventKind.SESSION_RESUMED})
# the layout (venues, witnesses, experts) may change until the session starts
LAYOUT_OPEN = frozenset({SessionState.SCHEDULED, SessionState.CHECKING_IN})
RUNNING = frozenset({SessionState.IN_PROGRESS, SessionState.PAUSED})


def can_move_booking(current: str, target: str) -> bool:
    return target in BOOKING_TRANSITIONS.get(current, frozenset())


def next_state(kind: str, current: str, *, main: bool) -> str | None:
    """The state a venue moves to on a state event, or ``None`` if the event is not allowed
    from ``current``."""
    if kind not in STATE_EVENTS:
        return None
    sources, target = STATE_EVENTS[kind]
    if main and kind == EventKind.SESSION_STARTED:
        sources = MAIN_START_FROM
    return target if current in sources else None


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals ``[start, end)``: adjacent bookings do not overlap."""
    return a_start < b_end and b_start < a_end
