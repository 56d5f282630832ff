"""Venue writes: sites and venues (center admin), and bookings (the organizing desk) — held,
confirmed, released, cancelled. Each write checks the actor's right through the access gate and
the state against the transition table, writes in one transaction and appends one ledger event.

Conflict-free booking: the venue's row is locked (``select_for_update``) before its live
bookings are read, so two bookings of one venue are serialised on SQLite and PostgreSQL alike;
PostgreSQL also holds the exclusion constraint ``booking_no_overlap`` (migration 0002), the last
word if anything ever writes around this service.
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from ggzy.accounts.gate import require
from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.errors import Conflict, ValidationFailed
from ggzy.ledger.services import append_event
from ggzy.registry.models import Region
from ggzy.tendering.models import Section
from ggzy.tendering.states import ProjectStatus
from ggzy.venues import checks
from ggzy.venues.models import Booking, Site, Venue
from ggzy.venues.states import (
    LIVE_STATES,
    PURPOSE_KINDS,
    BookingState,
    Purpose,
    SessionState,
    VenueKind,
    VenueStatus,
    can_move_booking,
)

MAX_BOOKING = timedelta(days=7)
BOOKABLE_PROJECTS = frozenset({ProjectStatus.ACCEPTED, ProjectStatus.PUBLISHED})
VENUE_FIELDS = ("name", "capacity", "video_recording", "remote_link", "status")
SITE_FIELDS = ("name", "address", "opens_at", "closes_at", "active")


def _booking_event(actor: Any, booking: Booking, event_type: str, **extra: Any) -> None:
    append_event(
        actor=actor, event_type=event_type, subject=f"booking:{booking.public_id}",
        payload={"venue": booking.venue.label, "start": booking.start, "end": booking.end,
                 "purpose": booking.purpose, "section": booking.section.public_id,
                 "state": booking.state, **extra},
    )  # fmt: skip


# --- sites and venues (center admin) -----------------------------------------------------------


def _hours(opens_at: time, closes_at: time) -> None:
    if closes_at <= opens_at:
        raise checks.refuse(
            "closes_at", "bad_hours", "关闭时间应晚于开放时间 (closes before it opens)"
        )


def create_site(*, actor: User, code: str, name: str, region: Region, address: str,
                opens_at: time = time(8, 30), closes_at: time = time(17, 30)) -> Site:  # fmt: skip
    require(actor, "venues.manage")
    code = checks.code("code", code)
    _hours(opens_at, closes_at)
    site = Site(code=code, name=checks.text("name", name, limit=100), region=region,
                address=checks.text("address", address), opens_at=opens_at,
                closes_at=closes_at, updated_at=clock.now())  # fmt: skip
    try:
        with transaction.atomic():
            site.save()
            append_event(actor=actor, event_type="venues.site_created", subject=f"site:{code}",
                         payload={"region": region.code, "opens_at": opens_at,
                                  "closes_at": closes_at})  # fmt: skip
    except IntegrityError as exc:
        raise Conflict("场所代码已存在 (code taken)", code="site_exists",
                       detail={"field": "code"}) from exc  # fmt: skip
    return site


def update_site(*, actor: User, site: Site, changes: dict[str, Any]) -> Site:
    require(actor, "venues.manage")
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        closing = changes.get("active") is False and locked.active
        ahead = Booking.objects.filter(venue__site=locked, state__in=LIVE_STATES,
                                       end__gt=clock.now())  # fmt: skip
        if closing and ahead.exists():
            raise Conflict("该场所仍有未结束的预订 (live bookings ahead)",
                           code="site_has_bookings")  # fmt: skip
        for key in SITE_FIELDS:
            if key in changes and changes[key] is not None:
                value = changes[key]
                if key == "name":
                    value = checks.text("name", value, limit=100)
                elif key == "address":
                    value = checks.text("address", value)
                setattr(locked, key, value)
        _hours(locked.opens_at, locked.closes_at)
        locked.updated_at = clock.now()
        locked.save()
        append_event(actor=actor, event_type="venues.site_changed", subject=f"site:{locked.code}",
                     payload={"fields": sorted(k for k in changes if k in SITE_FIELDS)})  # fmt: skip
    return locked


def _capacity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 500:
        raise checks.refuse("capacity", "bad_capacity", "座位数应为1–500 (capacity 1–500)")
    return value


def create_venue(*, actor: User, site: Site, code: str, name: str, kind: str, capacity: int,
                 video_recording: bool = True, remote_link: bool = False) -> Venue:  # fmt: skip
    require(actor, "venues.manage")
    code = checks.code("code", code)
    if kind not in VenueKind.values:
        raise checks.refuse("kind", "bad_venue_kind", "场地类型无效 (bad kind)")
    venue = Venue(site=site, code=code, name=checks.text("name", name, limit=100), kind=kind,
                  capacity=_capacity(capacity), video_recording=video_recording,
                  remote_link=remote_link, updated_at=clock.now())  # fmt: skip
    try:
        with transaction.atomic():
            venue.save()
            append_event(actor=actor, event_type="venues.venue_created",
                         subject=f"venue:{venue.label}",
                         payload={"kind": kind, "capacity": venue.capacity,
                                  "video_recording": video_recording,
                                  "remote_link": remote_link})  # fmt: skip
    except IntegrityError as exc:
        raise Conflict("该场所已有此场地代码 (code taken)", code="venue_exists",
                       detail={"field": "code"}) from exc  # fmt: skip
    return venue


def update_venue(*, actor: User, venue: Venue, changes: dict[str, Any]) -> Venue:
    """Change a venue's name, seats, equipment or status. A venue with live bookings ahead
    cannot be closed (release or cancel them first)."""
    require(actor, "venues.manage")
    with transaction.atomic():
        locked = (
            Venue.objects.select_for_update(of=("self",)).select_related("site").get(pk=venue.pk)
        )
        given = {k: v for k, v in changes.items() if k in VENUE_FIELDS and v is not None}
        if "name" in given:
            given["name"] = checks.text("name", given["name"], limit=100)
        if "capacity" in given:
            given["capacity"] = _capacity(given["capacity"])
        if given.get("status", VenueStatus.ACTIVE) not in VenueStatus.values:
            raise checks.refuse("status", "bad_status", "状态无效 (bad status)")
        closing = given.get("status") == VenueStatus.CLOSED != locked.status
        if closing and _live(locked).filter(end__gt=clock.now()).exists():
            raise Conflict("该场地仍有未结束的预订 (live bookings ahead)",
                           code="venue_has_bookings")  # fmt: skip
        changed = sorted(k for k, v in given.items() if getattr(locked, k) != v)
        if not changed:
            return locked
        for key in changed:
            setattr(locked, key, given[key])
        locked.version += 1
        locked.updated_at = clock.now()
        locked.save()
        append_event(actor=actor, event_type="venues.venue_changed",
                     subject=f"venue:{locked.label}",
                     payload={"fields": changed, "version": locked.version,
                              "status": locked.status, "capacity": locked.capacity})  # fmt: skip
    return locked


# --- bookings (the organizing desk) ------------------------------------------------------------


def _live(venue: Venue) -> Any:
    return Booking.objects.filter(venue=venue, state__in=LIVE_STATES)


def sealed(booking: Booking) -> bool:
    """Whether a booking's project is sealed to other bookers: an evaluation's place and time
    stay confidential (R17 keeps the committee secret), and an unpublished project is not
    public yet. An opening of a published project is public (its time is in the announcement)."""
    return booking.purpose == Purpose.EVALUATION or (
        booking.section.project.status != ProjectStatus.PUBLISHED
    )


def conflict_detail(venue: Venue, rows: list[Booking]) -> dict[str, Any]:
    out = []
    for b in rows:
        item: dict[str, Any] = {"start": b.start, "end": b.end, "purpose": b.purpose}
        if not sealed(b):
            item["section"] = b.section.public_id
            item["project"] = b.section.project.name
        out.append(item)
    return {"venue": venue.label, "conflicts": out}


def _overlapping(venue: Venue, start: datetime, end: datetime) -> list[Booking]:
    return list(
        _live(venue).filter(start__lt=end, end__gt=start).select_related("section__project")
    )


def _taken(venue: Venue, rows: list[Booking]) -> Conflict:
    return Conflict("该场地该时段已被预订 (venue taken)", code="venue_taken",
                    detail=conflict_detail(venue, rows))  # fmt: skip


def _check_section(section: Section, purpose: str, start: datetime, end: datetime) -> None:
    if section.project.status not in BOOKABLE_PROJECTS or section.failed_at is not None:
        raise Conflict("该标段尚未受理或已流标，不能预订场地 (section not bookable)",
                       code="section_not_bookable",
                       detail={"status": section.project.status})  # fmt: skip
    deadline = section.bid_deadline
    if deadline is None:
        return
    if purpose == Purpose.OPENING and not start <= deadline < end:
        # 招标投标法第34条: the opening takes place at the bid deadline
        raise ValidationFailed("开标场地应覆盖投标截止时间 (the opening is at the bid deadline)",
                               code="opening_time_mismatch",
                               detail={"field": "start", "bid_deadline": deadline})  # fmt: skip
    if purpose == Purpose.EVALUATION and start < deadline:
        raise ValidationFailed("评标不得早于开标 (evaluation before the opening)",
                               code="evaluation_before_opening",
                               detail={"field": "start", "bid_deadline": deadline})  # fmt: skip


def _check_venue(venue: Venue, purpose: str) -> None:
    if venue.status != VenueStatus.ACTIVE or not venue.site.active:
        raise Conflict("场地已停用 (venue closed)", code="venue_closed")
    if venue.kind not in PURPOSE_KINDS[purpose]:
        raise ValidationFailed("场地类型与用途不符 (venue kind does not fit the purpose)",
                               code="venue_kind_mismatch",
                               detail={"field": "venue", "kind": venue.kind})  # fmt: skip
    if not venue.video_recording:
        # R62 (87号令39、40): opening and evaluation are recorded on audio and video
        raise ValidationFailed("开标、评标场地须具备录音录像设备（R62）(no video recording)",
                               code="no_video_recording", detail={"field": "venue"})  # fmt: skip


def _check_times(venue: Venue, start: datetime, end: datetime, override_reason: str) -> str:
    if start.tzinfo is None or end.tzinfo is None:
        raise checks.refuse("start", "naive_datetime", "时间须带时区 (timezone required)")
    if not (checks.in_range(start) and checks.in_range(end)):
        raise checks.refuse("start", "date_out_of_range", "日期超出范围 (date out of range)")
    if end <= start:
        raise checks.refuse("end", "bad_period", "结束时间应晚于开始时间 (end before start)")
    if end - start > MAX_BOOKING:
        raise checks.refuse("end", "booking_too_long", "一次预订最长7天 (at most 7 days)")
    if start < clock.now():
        raise checks.refuse("start", "booking_in_past", "不能预订过去的时间 (in the past)")
    reason = checks.text("override_reason", override_reason, limit=300, required=False)
    hours = checks.within_hours(start, end, venue.site.opens_at, venue.site.closes_at)
    if not hours.ok and not reason:
        raise ValidationFailed(
            "预订时间不在交易场所工作时间内，须填写理由 (outside the working calendar)",
            code="outside_working_hours",
            detail={"field": "start", "problem": hours.problem, "day": hours.day,
                    "working_day": hours.working_day, "opens_at": hours.opens_at,
                    "closes_at": hours.closes_at},
        )  # fmt: skip
    return reason if not hours.ok else ""


def book_venue(*, actor: User, venue: Venue, section: Section, purpose: str, start: datetime,
               end: datetime, override_reason: str = "") -> Booking:  # fmt: skip
    """Hold a venue for a section's opening or evaluation, ``[start, end)``. Refused with
    ``venue_taken`` (the conflicting bookings' times in ``detail``) if a live booking of the
    venue overlaps; adjacent bookings are fine."""
    require(actor, "venues.book")
    if purpose not in Purpose.values:
        raise checks.refuse("purpose", "bad_purpose", "用途无效 (bad purpose)")
    _check_venue(venue, purpose)
    reason = _check_times(venue, start, end, override_reason)
    _check_section(section, purpose, start, end)
    now = clock.now()
    booking = Booking(public_id=secrets.token_hex(16), venue=venue, section=section,
                      purpose=purpose, start=start, end=end, booked_by=actor,
                      override_reason=reason, created_at=now, updated_at=now)  # fmt: skip
    try:
        with transaction.atomic():
            locked = Venue.objects.select_for_update().get(pk=venue.pk)  # serialises the venue
            if locked.status != VenueStatus.ACTIVE:
                raise Conflict("场地已停用 (venue closed)", code="venue_closed")
            clashes = _overlapping(locked, start, end)
            if clashes:
                raise _taken(venue, clashes)
            booking.save()
            extra = {"override_reason": reason} if reason else {}
            _booking_event(actor, booking, "venues.booking_held", **extra)
    except IntegrityError as exc:  # the exclusion constraint (PostgreSQL), if ever reached
        raise _taken(venue, _overlapping(venue, start, end)) from exc
    return booking


def _move(actor: Any, booking: Booking, target: str, event_type: str, reason: str = "") -> Booking:
    with transaction.atomic():
        locked = (Booking.objects.select_for_update(of=("self",))
                  .select_related("venue__site", "section__project").get(pk=booking.pk))  # fmt: skip
        if not can_move_booking(locked.state, target):
            raise Conflict(f"预订当前状态（{locked.get_state_display()}）不允许此操作 (not now)",
                           code="bad_booking_state",
                           detail={"state": locked.state, "target": target})  # fmt: skip
        if target in (BookingState.RELEASED, BookingState.CANCELLED):
            session_venue = getattr(locked, "session_venue", None)
            if session_venue is not None and session_venue.session.state != SessionState.ENDED:
                raise Conflict("该预订属于未结束的评标活动 (part of a session not ended)",
                               code="booking_in_session",
                               detail={"session": session_venue.session.public_id})  # fmt: skip
        locked.state, locked.state_reason = target, reason
        locked.updated_at = clock.now()
        locked.save(update_fields=["state", "state_reason", "updated_at"])
        _booking_event(actor, locked, event_type, **({"reason": reason} if reason else {}))
    return locked


def confirm_booking(*, actor: User, booking: Booking) -> Booking:
    require(actor, "venues.book")
    return _move(actor, booking, BookingState.CONFIRMED, "venues.booking_confirmed")


def release_booking(*, actor: User, booking: Booking, reason: str = "") -> Booking:
    """Give the slot back (not needed, or used and done): the venue is free again."""
    require(actor, "venues.book")
    reason = checks.text("reason", reason, limit=300, required=False)
    return _move(actor, booking, BookingState.RELEASED, "venues.booking_released", reason)


def cancel_booking(*, actor: User, booking: Booking, reason: str) -> Booking:
    """The center cancels a booking (the venue is out of service, the section failed…)."""
    require(actor, "venues.book")
    reason = checks.text("reason", reason, limit=300)
    return _move(actor, booking, BookingState.CANCELLED, "venues.booking_cancelled", reason)
