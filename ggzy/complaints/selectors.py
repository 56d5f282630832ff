"""Complaint reads, with the access check built in: the supervision roles see every case; the
complainant's members see their entity's own; to anyone else a case does not exist. Each open
case has a clock: the working days left to its next deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from ggzy.accounts.gate import allowed, is_authenticated, require
from ggzy.complaints import timers
from ggzy.complaints.models import Complaint, Evidence, Pause, Transfer
from ggzy.complaints.states import OPEN, Status
from ggzy.core import calendar, clock
from ggzy.core.errors import NotAuthenticated, NotFound, ValidationFailed

WARN_WITHIN = 1  # working days: a deadline this close (or past) is a warning


@dataclass(frozen=True)
class Clock:
    """The next deadline of an open case: ``acceptance`` or ``decision``, its last day, the
    working days left (0 on the day, negative once past), and whether it is stopped."""

    deadline: str
    due: date
    days_left: int
    paused: bool

    @property
    def overdue(self) -> bool:
        return not self.paused and self.days_left < 0

    @property
    def days_overdue(self) -> int:
        """Working days past the deadline (0 while it has not passed)."""
        return max(0, -self.days_left)

    @property
    def warning(self) -> bool:
        return not self.paused and self.days_left <= WARN_WITHIN


def clock_of(c: Complaint, today: date | None = None) -> Clock | None:
    today = today or clock.today()
    if c.status == Status.FILED:
        return Clock("acceptance", c.acceptance_due,
                     timers.working_days_left(today, c.acceptance_due), False)  # fmt: skip
    if c.status in (Status.ACCEPTED, Status.PAUSED) and c.decision_due is not None:
        due, paused = c.decision_due, c.status == Status.PAUSED
        if paused:  # the due date as it stands if the pause ended today
            open_pause = next((p for p in c.pauses.all() if p.ended_at is None), None)
            if open_pause is not None:
                extra = timers.paused_working_days(open_pause.started_on, today)
                due = calendar.add_working_days(due, extra)
        return Clock("decision", due, timers.working_days_left(today, due), paused)
    return None


def _base() -> QuerySet[Complaint]:
    return Complaint.objects.select_related(
        "section__project", "entity", "filed_by", "handled_by"
    ).prefetch_related("pauses")


def can_view(actor: Any, c: Complaint) -> bool:
    return allowed(actor, "complaints.view") or allowed(actor, "entity.act", c.entity)


def get_complaint(actor: Any, public_id: str) -> Complaint:
    if not is_authenticated(actor):
        raise NotAuthenticated("请先登录 (sign in first)")
    c = _base().filter(public_id=str(public_id)[:32]).first()
    if c is None or not can_view(actor, c):
        raise NotFound("投诉不存在 (no such complaint)", code="complaint_not_found")
    return c


def mine(actor: Any) -> QuerySet[Complaint]:
    """The complaints of the entities ``actor`` acts for, newest first."""
    if not is_authenticated(actor):
        raise NotAuthenticated("请先登录 (sign in first)")
    return _base().filter(entity__memberships__user=actor).distinct().order_by("-filed_at", "-pk")


def all_complaints(actor: Any, *, status: str = "") -> QuerySet[Complaint]:
    require(actor, "complaints.view")
    rows = _base()
    if status == "open":
        rows = rows.filter(status__in=OPEN)
    elif status:
        if status not in Status.values:
            raise ValidationFailed("status无效 (unknown status)", code="bad_filter",
                                   detail={"field": "status",
                                           "allowed": ["open", *Status.values]})  # fmt: skip
        rows = rows.filter(status=status)
    return rows.order_by("-filed_at", "-pk")


def open_cases(actor: Any) -> list[tuple[Complaint, Clock]]:
    """Every open case with its clock: overdue first, then by working days left; paused last."""
    today = clock.today()
    out = []
    for c in all_complaints(actor, status="open"):
        ck = clock_of(c, today)
        if ck is not None:
            out.append((c, ck))
    out.sort(key=lambda pair: (pair[1].paused, pair[1].days_left, pair[0].filed_at))
    return out


def warnings(actor: Any) -> list[tuple[Complaint, Clock]]:
    """Open cases whose running deadline is within one working day, or past."""
    return [(c, ck) for c, ck in open_cases(actor) if ck.warning]


def pauses(c: Complaint) -> list[Pause]:
    return list(c.pauses.select_related("started_by", "ended_by"))


def transfers(c: Complaint) -> list[Transfer]:
    return list(c.transfers.select_related("by"))


def evidence(c: Complaint) -> list[Evidence]:
    return list(c.evidence.select_related("uploaded_by"))
