"""Remote evaluation sessions (远程异地评标): the layout (one main venue booking, any number of
secondary venue bookings in other regions, a witness at each), experts assigned to venue
bookings, and each venue's witness log, whose state events on the main venue drive the state
every venue shares.

Each write checks the actor's right (the witness log: the venue's own witness, an object rule),
locks the session row (which also numbers the witness events), writes and appends one ledger
event on ``venue-session:<public_id>`` in the same transaction.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction

from ggzy.accounts.gate import allowed, require
from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.clock import CHINA
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.experts.models import Expert
from ggzy.experts.states import drawable_on
from ggzy.ledger.services import append_event, record_refusal
from ggzy.venues import checks
from ggzy.venues.models import Booking, ExpertAssignment, RemoteSession, SessionVenue, WitnessEvent
from ggzy.venues.states import (
    CHECK_IN_STATES,
    LAYOUT_OPEN,
    LIVE_STATES,
    NEEDS_RECORDING,
    RUNNING,
    SECONDARY_NEEDS,
    STATE_EVENTS,
    BookingState,
    EventKind,
    Purpose,
    SessionState,
    VenueRole,
    next_state,
    overlaps,
)


def _event(actor: Any, session: RemoteSession, event_type: str, payload: dict[str, Any]) -> int:
    return append_event(actor=actor, event_type=event_type,
                        subject=f"venue-session:{session.public_id}", payload=payload)  # fmt: skip


def _locked(session: RemoteSession) -> RemoteSession:
    return (
        RemoteSession.objects.select_for_update(of=("self",))
        .select_related("section")
        .get(pk=session.pk)
    )


def _layout_open(session: RemoteSession) -> None:
    if session.state not in LAYOUT_OPEN:
        raise Conflict("评标已开始，不能再调整场地安排 (the session has started)",
                       code="session_started", detail={"state": session.state})  # fmt: skip


def witness_account(username: str) -> User | None:
    """The active account named, if any (``_witness`` refuses none with ``not_a_witness``)."""
    return User.objects.filter(username=str(username)[:150], is_active=True).first()


def _witness(user: User | None) -> User:
    if user is None or not user.is_active or not allowed(user, "venues.witness"):
        raise ValidationFailed("见证人须为交易中心组织岗人员 (not a witness)",
                               code="not_a_witness", detail={"field": "witness"})  # fmt: skip
    return user


def _evaluation_booking(booking: Booking) -> None:
    if booking.state not in LIVE_STATES:
        raise Conflict("预订已释放或取消 (booking not live)", code="booking_not_live")
    if booking.purpose != Purpose.EVALUATION:
        raise ValidationFailed("须为评标场地预订 (not an evaluation booking)",
                               code="not_an_evaluation_booking",
                               detail={"field": "booking"})  # fmt: skip
    if SessionVenue.objects.filter(booking=booking).exists():
        raise Conflict("该预订已用于评标活动 (booking already in a session)",
                       code="booking_in_session")  # fmt: skip


def _witness_free(session: RemoteSession, witness: User, keep: SessionVenue | None = None) -> None:
    others = session.venues.filter(witness=witness)
    if keep is not None:
        others = others.exclude(pk=keep.pk)
    if others.exists():
        raise Conflict("该见证人已在本次评标的其他场地 (witness at another venue)",
                       code="witness_elsewhere", detail={"field": "witness"})  # fmt: skip


def _venue_out(sv: SessionVenue) -> dict[str, Any]:
    return {"booking": sv.booking.public_id, "venue": sv.booking.venue.label, "role": sv.role,
            "region": sv.booking.venue.site.region_id}  # fmt: skip


def create_session(*, actor: User, booking: Booking, witness: User) -> RemoteSession:
    """Lay out a section's evaluation with ``booking`` as its main venue and ``witness`` there."""
    require(actor, "venues.book")
    _evaluation_booking(booking)
    _witness(witness)
    try:
        with transaction.atomic():
            Booking.objects.select_for_update().get(pk=booking.pk)
            running = RemoteSession.objects.filter(section=booking.section).exclude(
                state=SessionState.ENDED
            )
            if running.exists():
                raise Conflict("该标段已有未结束的评标活动 (a session exists)",
                               code="session_exists",
                               detail={"session": running.first().public_id})  # type: ignore[union-attr]  # fmt: skip
            session = RemoteSession.objects.create(
                public_id=secrets.token_hex(16), section=booking.section, created_by=actor,
                created_at=clock.now(),
            )  # fmt: skip
            main = SessionVenue.objects.create(session=session, booking=booking,
                                               role=VenueRole.MAIN, witness=witness)  # fmt: skip
            _event(actor, session, "venues.session_created",
                   {"section": booking.section.public_id, "main": _venue_out(main),
                    "witness": witness.username})  # fmt: skip
    except IntegrityError as exc:
        raise Conflict("该预订已用于评标活动 (booking already in a session)",
                       code="booking_in_session") from exc  # fmt: skip
    return session


def main_venue(session: RemoteSession) -> SessionVenue:
    return session.venues.select_related("booking__venue__site").get(role=VenueRole.MAIN)


def add_secondary_venue(*, actor: User, session: RemoteSession, booking: Booking,
                        witness: User) -> SessionVenue:  # fmt: skip
    """Add a secondary venue (副场) in another region, at the same time as the main venue."""
    require(actor, "venues.book")
    _evaluation_booking(booking)
    _witness(witness)
    try:
        with transaction.atomic():
            locked = _locked(session)
            _layout_open(locked)
            main = main_venue(locked)
            if booking.section_id != locked.section_id or not overlaps(
                booking.start, booking.end, main.booking.start, main.booking.end
            ):
                raise ValidationFailed("副场预订须为同一标段、与主场同时段 (booking mismatch)",
                                       code="booking_mismatch",
                                       detail={"field": "booking"})  # fmt: skip
            regions = {sv.booking.venue.site.region_id for sv in
                       locked.venues.select_related("booking__venue__site")}  # fmt: skip
            if booking.venue.site.region_id in regions:
                raise ValidationFailed("副场须在主场及其他副场以外的地区 (same region)",
                                       code="secondary_same_region",
                                       detail={"field": "booking"})  # fmt: skip
            if not (booking.venue.remote_link and main.booking.venue.remote_link):
                raise ValidationFailed("主副场须具备远程音视频连线 (no remote link)",
                                       code="no_remote_link", detail={"field": "booking"})  # fmt: skip
            _witness_free(locked, witness)
            sv = SessionVenue.objects.create(session=locked, booking=booking,
                                             role=VenueRole.SECONDARY, witness=witness)  # fmt: skip
            _event(actor, locked, "venues.secondary_venue_added",
                   _venue_out(sv) | {"witness": witness.username})  # fmt: skip
    except IntegrityError as exc:
        raise Conflict("该预订已用于评标活动 (booking already in a session)",
                       code="booking_in_session") from exc  # fmt: skip
    return sv


def remove_secondary_venue(*, actor: User, session_venue: SessionVenue) -> None:
    require(actor, "venues.book")
    with transaction.atomic():
        locked = _locked(session_venue.session)
        _layout_open(locked)
        if session_venue.role != VenueRole.SECONDARY:
            raise Conflict("主场不能移除 (the main venue stays)", code="main_venue")
        if session_venue.booking.assignments.exists():
            raise Conflict("该场地已安排专家 (experts assigned)", code="venue_has_experts")
        if session_venue.events.exists():  # a witness record is never erased
            raise Conflict("该场地已有见证记录 (the venue has a witness log)",
                           code="venue_has_events")  # fmt: skip
        payload = _venue_out(session_venue)
        session_venue.delete()
        _event(actor, locked, "venues.secondary_venue_removed", payload)


def assign_witness(*, actor: User, session_venue: SessionVenue, witness: User) -> SessionVenue:
    """Put another witness at a venue (before the session ends)."""
    require(actor, "venues.book")
    _witness(witness)
    with transaction.atomic():
        locked = _locked(session_venue.session)
        if locked.state == SessionState.ENDED:
            raise Conflict("评标已结束 (session ended)", code="session_ended")
        sv = SessionVenue.objects.select_for_update().get(pk=session_venue.pk)
        _witness_free(locked, witness, keep=sv)
        before = sv.witness.username
        sv.witness = witness
        sv.save(update_fields=["witness"])
        _event(actor, locked, "venues.witness_assigned",
               {"booking": sv.booking.public_id, "from": before, "to": witness.username})  # fmt: skip
    return sv


# --- experts at venues -------------------------------------------------------------------------


def _r62(booking: Booking, expert: Expert) -> bool:
    """R62 (87号令40): evaluators do not attend the opening of the section they evaluate. A
    released booking still counts — the expert was there; only a cancelled one does not."""
    other = Purpose.OPENING if booking.purpose == Purpose.EVALUATION else Purpose.EVALUATION
    return ExpertAssignment.objects.filter(
        expert=expert, booking__section_id=booking.section_id, booking__purpose=other,
    ).exclude(booking__state=BookingState.CANCELLED).exists()  # fmt: skip


def placed_at_opening(section_id: int, experts: list[Expert]) -> list[str]:
    """The experts (public ids) placed at an opening hall of the section — the evaluation
    committee refuses them (R62). Released bookings count, cancelled ones do not."""
    return sorted(
        ExpertAssignment.objects.filter(
            expert__in=experts, booking__section_id=section_id, booking__purpose=Purpose.OPENING
        )
        .exclude(booking__state=BookingState.CANCELLED)
        .values_list("expert__public_id", flat=True)
        .distinct()
    )


def assign_expert(*, actor: User, booking: Booking, expert: Expert) -> ExpertAssignment:
    """Place an expert at a venue booking. Generic: one row per expert and booking; for an
    evaluation the booking must be laid out in a session first, and an expert sits at one venue
    of a session only."""
    require(actor, "venues.book")
    if booking.state not in LIVE_STATES:
        raise Conflict("预订已释放或取消 (booking not live)", code="booking_not_live")
    if not drawable_on(expert.status, expert.suspended_until,
                       booking.start.astimezone(CHINA).date()):  # fmt: skip
        raise Conflict("该专家当前不可参加评标 (expert not available)",
                       code="expert_not_available", detail={"status": expert.status})  # fmt: skip
    with transaction.atomic():
        row = _place(actor, booking, expert)
    if row is None:
        record_refusal(actor=actor, event_type="venues.expert_assignment_refused",
                       subject=f"booking:{booking.public_id}", reason="evaluator_at_opening",
                       expert=expert.public_id)  # fmt: skip
        raise Conflict("评标专家不得参加同一标段的开标（R62）(evaluator at the opening)",
                       code="evaluator_at_opening")  # fmt: skip
    return row


def _place(actor: User, booking: Booking, expert: Expert) -> ExpertAssignment | None:
    """The locked part of :func:`assign_expert`; ``None`` when R62 refuses it. The expert row
    is locked first so that two placements of one expert (opening and evaluation) serialise."""
    list(Expert.objects.select_for_update().filter(pk=expert.pk).values_list("pk", flat=True))
    locked = (
        Booking.objects.select_for_update(of=("self",)).select_related("venue").get(pk=booking.pk)
    )
    if _r62(locked, expert):
        return None
    session = None
    if locked.purpose == Purpose.EVALUATION:
        sv = SessionVenue.objects.filter(booking=locked).select_related("session").first()
        if sv is None:
            raise Conflict("请先将该评标场地安排进评标活动 (booking not in a session)",
                           code="booking_not_in_session")  # fmt: skip
        session = _locked(sv.session)
        _layout_open(session)
        placed = ExpertAssignment.objects.filter(session=session, expert=expert).first()
        if placed is not None:
            same = placed.booking_id == locked.pk
            raise Conflict("该专家已安排在本次评标的场地 (already placed)",
                           code="already_assigned" if same else "expert_elsewhere")  # fmt: skip
    elif ExpertAssignment.objects.filter(booking=locked, expert=expert).exists():
        raise Conflict("该专家已安排在此场地 (already placed)", code="already_assigned")
    if locked.assignments.count() >= locked.venue.capacity:
        raise Conflict("场地座位已满 (venue full)", code="venue_full",
                       detail={"capacity": locked.venue.capacity})  # fmt: skip
    row = ExpertAssignment.objects.create(booking=locked, session=session, expert=expert,
                                          assigned_by=actor, assigned_at=clock.now())  # fmt: skip
    payload = {"booking": locked.public_id, "expert": expert.public_id}
    if session is not None:
        _event(actor, session, "venues.expert_assigned", payload)
    else:
        append_event(actor=actor, event_type="venues.expert_assigned",
                     subject=f"booking:{locked.public_id}", payload=payload)  # fmt: skip
    return row


def unassign_expert(*, actor: User, booking: Booking, expert: Expert) -> None:
    require(actor, "venues.book")
    with transaction.atomic():
        row = (ExpertAssignment.objects.select_for_update(of=("self",)).select_related("session")
               .filter(booking=booking, expert=expert).first())  # fmt: skip
        if row is None:
            raise NotFound("该专家未安排在此场地 (not assigned here)", code="assignment_not_found")
        if row.session is not None:
            _layout_open(_locked(row.session))
        if row.checked_in_at is not None:
            raise Conflict("专家已签到 (already checked in)", code="already_checked_in")
        session = row.session
        row.delete()
        payload = {"booking": booking.public_id, "expert": expert.public_id}
        if session is not None:
            _event(actor, session, "venues.expert_unassigned", payload)
        else:
            append_event(actor=actor, event_type="venues.expert_unassigned",
                         subject=f"booking:{booking.public_id}", payload=payload)  # fmt: skip


# --- the witness log ---------------------------------------------------------------------------


def _state_event(session: RemoteSession, sv: SessionVenue, kind: str) -> str:
    """The venue's state after a state event, moving the shared state on the main venue."""
    if sv.is_main:
        target = next_state(kind, sv.state, main=True)
        if (
            target == SessionState.ENDED
            and session.venues.filter(role=VenueRole.SECONDARY, state__in=RUNNING).exists()
        ):
            raise Conflict("仍有副场未结束评标 (a secondary venue is still running)",
                           code="secondary_running")  # fmt: skip
    else:
        if session.state not in SECONDARY_NEEDS[kind]:
            raise Conflict("副场状态不能领先于主场 (ahead of the main venue)",
                           code="ahead_of_main", detail={"session_state": session.state})  # fmt: skip
        target = next_state(kind, sv.state, main=False)
    if target is None:
        raise Conflict("当前状态不允许此操作 (not allowed in this state)",
                       code="bad_session_state",
                       detail={"state": sv.state, "event": kind})  # fmt: skip
    if kind in NEEDS_RECORDING and not sv.recording:
        raise Conflict("须先开始录音录像（R62）(recording required)", code="recording_required")
    if sv.is_main:
        session.state = target
        now = clock.now()
        if target == SessionState.IN_PROGRESS and session.started_at is None:
            session.started_at = now
        if target == SessionState.ENDED:
            session.ended_at = now
    return target


def _check_in(session: RemoteSession, sv: SessionVenue, expert: Expert | None) -> None:
    if expert is None:
        raise checks.refuse("expert", "expert_required", "请选择签到的专家 (expert required)")
    if session.state not in CHECK_IN_STATES or sv.state == SessionState.ENDED:
        raise Conflict("当前不在签到时间 (check-in not open)", code="check_in_closed",
                       detail={"state": session.state})  # fmt: skip
    row = ExpertAssignment.objects.select_for_update().filter(
        booking=sv.booking, expert=expert).first()  # fmt: skip
    if row is None:
        raise Conflict("该专家未安排在本场地 (expert not assigned here)", code="expert_not_here")
    if row.checked_in_at is not None:
        raise Conflict("该专家已签到 (already checked in)", code="already_checked_in")
    row.checked_in_at = clock.now()
    row.save(update_fields=["checked_in_at"])


def record_event(*, actor: User, session_venue: SessionVenue, kind: str,
                 expert: Expert | None = None, digest: str = "", note: str = "") -> WitnessEvent:  # fmt: skip
    """The venue's witness records one event (见证记录). On the main venue, the state events
    (check-in opened, started, paused, resumed, ended) move the state every venue shares."""
    require(actor, "venues.record", session_venue)
    if kind not in EventKind.values:
        raise checks.refuse("kind", "bad_event_kind", "事件类型无效 (bad kind)")
    note = checks.text("note", note, limit=1000, required=kind == EventKind.INCIDENT)
    if kind == EventKind.RECORDING_STOPPED:
        digest = checks.digest(digest)
    elif digest:
        digest = ""  # only a stopped recording has a file to digest
    with transaction.atomic():
        session = _locked(session_venue.session)
        sv = (SessionVenue.objects.select_for_update(of=("self",))
              .select_related("booking__venue__site").get(pk=session_venue.pk))  # fmt: skip
        after_end_ok = kind in (EventKind.RECORDING_STOPPED, EventKind.INCIDENT)
        if session.state == SessionState.ENDED and not after_end_ok:
            raise Conflict("评标已结束 (session ended)", code="session_ended")
        if kind in STATE_EVENTS:
            sv.state = _state_event(session, sv, kind)
        elif kind == EventKind.CHECK_IN:
            _check_in(session, sv, expert)
        elif kind == EventKind.RECORDING_STARTED:
            if sv.recording:
                raise Conflict("已在录音录像 (already recording)", code="already_recording")
            sv.recording = True
        elif kind == EventKind.RECORDING_STOPPED:
            if not sv.recording:
                raise Conflict("未在录音录像 (not recording)", code="not_recording")
            if sv.state in RUNNING and sv.state != SessionState.PAUSED:
                raise Conflict("评标进行中不得停止录音录像（R62）(recording required)",
                               code="recording_required")  # fmt: skip
            sv.recording = False
        sv.save(update_fields=["state", "recording"])
        session.last_seq += 1
        session.save(update_fields=["state", "last_seq", "started_at", "ended_at"])
        who = expert if kind == EventKind.CHECK_IN else None
        payload: dict[str, Any] = {"seq": session.last_seq, "booking": sv.booking.public_id,
                                   "venue": sv.booking.venue.label, "role": sv.role,
                                   "kind": kind, "state": sv.state,
                                   "session_state": session.state}  # fmt: skip
        if who is not None:
            payload["expert"] = who.public_id
        if digest:
            payload["digest"] = digest
        if note:
            payload["note"] = note
        ref = _event(actor, session, "venues.witness_event", payload)
        return WitnessEvent.objects.create(
            session=session, venue=sv, seq=session.last_seq, kind=kind, at=clock.now(),
            expert=who, digest=digest, note=note, state_after=sv.state, recorded_by=actor,
            ledger_ref=ref,
        )  # fmt: skip
