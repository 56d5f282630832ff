"""Remote evaluation sessions: the layout (one main venue, secondary venues in other regions,
a witness each), experts at venues (seats, one venue per session, R62), the witness log (only a
venue's own witness writes it) and the shared state the main venue's witness drives."""

from __future__ import annotations

from typing import Any

import pytest

from ggzy.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from ggzy.ledger.models import Event
from ggzy.venues import services, sessions
from ggzy.venues.models import ExpertAssignment, SessionVenue, WitnessEvent
from tests.venues.world import DIGEST, VenueWorld

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, ...]:
    return (Event.objects.count(), SessionVenue.objects.count(),
            ExpertAssignment.objects.filter(checked_in_at__isnull=False).count(),
            ExpertAssignment.objects.count(), WitnessEvent.objects.count())  # fmt: skip


def _refused(exc: type[DomainError], code: str, call: Any, *, recorded: int = 0) -> DomainError:
    before = _snapshot()
    with pytest.raises(exc) as info:
        call()
    assert info.value.code == code, info.value.as_dict()
    after = _snapshot()
    assert (after[0] - recorded, *after[1:]) == before
    return info.value


def test_a_session_has_one_main_venue_and_secondaries_in_other_regions(vw: VenueWorld) -> None:
    session = vw.session()
    sz = vw.secondary("SZ/E1", 0)
    sh = vw.secondary("SH/E1", 1)
    roles = [(sv.role, sv.booking.venue.label) for sv in session.venues.order_by("pk")]
    assert roles == [("main", "NJ/E1"), ("secondary", "SZ/E1"), ("secondary", "SH/E1")]
    assert (sz.witness, sh.witness) == (vw.witnesses[0], vw.witnesses[1])
    types = list(Event.objects.filter(subject=f"venue-session:{session.public_id}")
                 .values_list("event_type", flat=True))  # fmt: skip
    assert types == ["venues.session_created", *["venues.secondary_venue_added"] * 2]


def test_a_second_main_for_the_section_is_refused(vw: VenueWorld) -> None:
    vw.session()
    other = vw.book("SH/E1")
    _refused(Conflict, "session_exists", lambda: sessions.create_session(
        actor=vw.booker, booking=other, witness=vw.witnesses[0]))  # fmt: skip


def test_layout_refusals(vw: VenueWorld, users) -> None:  # type: ignore[no-untyped-def]
    session = vw.session()
    # an opening booking is no evaluation venue
    opening = vw.book("NJ/H1", purpose="opening")
    _refused(ValidationFailed, "not_an_evaluation_booking", lambda: sessions.add_secondary_venue(
        actor=vw.booker, session=session, booking=opening, witness=vw.witnesses[0]))  # fmt: skip
    # the main venue's booking is in the session already
    main = vw.main()
    _refused(Conflict, "booking_in_session", lambda: sessions.add_secondary_venue(
        actor=vw.booker, session=session, booking=main.booking, witness=vw.witnesses[0]))  # fmt: skip
    # a witness must be organizing staff, and at one venue only
    booking = vw.secondary_booking("SZ/E1")
    _refused(ValidationFailed, "not_a_witness", lambda: sessions.add_secondary_venue(
        actor=vw.booker, session=session, booking=booking, witness=users["bidder"]))  # fmt: skip
    _refused(Conflict, "witness_elsewhere", lambda: sessions.add_secondary_venue(
        actor=vw.booker, session=session, booking=booking, witness=vw.witness))  # fmt: skip
    # another section's booking does not belong here
    stray = vw.book("SH/E1", vw.section())
    _refused(ValidationFailed, "booking_mismatch", lambda: sessions.add_secondary_venue(
        actor=vw.booker, session=session, booking=stray, witness=vw.witnesses[0]))  # fmt: skip
    # only the organizing desk lays out
    _refused(PermissionDenied, "forbidden", lambda: sessions.add_secondary_venue(
        actor=users["center_admin"], session=session, booking=booking,
        witness=vw.witnesses[0]))  # fmt: skip


def test_a_secondary_venue_in_the_main_venues_region_is_refused(vw: VenueWorld) -> None:
    from ggzy.venues import services

    session = vw.session()
    room = services.create_venue(actor=vw.admin, site=vw.sites["NJ"], code="E3", name="第三评标室",
                                 kind="evaluation_room", capacity=9, remote_link=True)  # fmt: skip
    vw.venues["NJ/E3"] = room
    booking = vw.book("NJ/E3")
    _refused(ValidationFailed, "secondary_same_region", lambda: sessions.add_secondary_venue(
        actor=vw.booker, session=session, booking=booking, witness=vw.witnesses[0]))  # fmt: skip


def test_seats_are_respected(vw: VenueWorld) -> None:
    sz = vw.secondary("SZ/E1")  # 3 seats
    for n in range(3):
        sessions.assign_expert(actor=vw.booker, booking=sz.booking, expert=vw.expert(n))
    exc = _refused(Conflict, "venue_full", lambda: sessions.assign_expert(
        actor=vw.booker, booking=sz.booking, expert=vw.expert(3)))  # fmt: skip
    assert exc.detail == {"capacity": 3}


def test_an_expert_sits_at_one_venue_of_a_session(vw: VenueWorld) -> None:
    booking, expert = vw.assigned()
    sz = vw.secondary("SZ/E1")
    _refused(Conflict, "expert_elsewhere", lambda: sessions.assign_expert(
        actor=vw.booker, booking=sz.booking, expert=expert))  # fmt: skip
    _refused(Conflict, "already_assigned", lambda: sessions.assign_expert(
        actor=vw.booker, booking=booking, expert=expert))  # fmt: skip
    # moving: unassign, then assign elsewhere
    sessions.unassign_expert(actor=vw.booker, booking=booking, expert=expert)
    row = sessions.assign_expert(actor=vw.booker, booking=sz.booking, expert=expert)
    assert row.session == sz.session


def test_an_evaluation_booking_must_be_laid_out_first(vw: VenueWorld) -> None:
    free = vw.free_evaluation()
    _refused(Conflict, "booking_not_in_session", lambda: sessions.assign_expert(
        actor=vw.booker, booking=free, expert=vw.expert(0)))  # fmt: skip


def test_r62_an_evaluator_is_not_at_the_opening_of_the_same_section(vw: VenueWorld) -> None:
    booking, expert = vw.assigned()
    opening = vw.book("NJ/H1", booking.section, "opening")
    # when the evaluator is placed in the opening hall of the same section / then R62 refuses,
    # and the refusal is in the ledger for supervision
    _refused(Conflict, "evaluator_at_opening", lambda: sessions.assign_expert(
        actor=vw.booker, booking=opening, expert=expert), recorded=1)  # fmt: skip
    refusal = Event.objects.order_by("-seq").first()
    assert refusal is not None and refusal.event_type == "venues.expert_assignment_refused"
    # and the other way round: someone at the opening is not placed as an evaluator
    other = vw.expert(1)
    sessions.assign_expert(actor=vw.booker, booking=opening, expert=other)
    _refused(Conflict, "evaluator_at_opening", lambda: sessions.assign_expert(
        actor=vw.booker, booking=vw.main().booking, expert=other), recorded=1)  # fmt: skip
    # another section's opening is fine
    elsewhere = vw.book("NJ/H1", vw.section(days=22), "opening")
    sessions.assign_expert(actor=vw.booker, booking=elsewhere, expert=expert)


def test_r62_a_released_opening_booking_still_keeps_its_experts_out(vw: VenueWorld) -> None:
    # given an expert placed at a section's opening hall, the booking then released after use
    opening = vw.book("NJ/H1", vw.main_section, "opening", override_reason="加班")
    at_opening = vw.expert(1)
    sessions.assign_expert(actor=vw.booker, booking=opening, expert=at_opening)
    services.release_booking(actor=vw.booker, booking=opening, reason="开标结束")
    main = vw.main()
    # when the same expert is placed at the evaluation / then R62 still refuses, recorded
    _refused(Conflict, "evaluator_at_opening", lambda: sessions.assign_expert(
        actor=vw.booker, booking=main.booking, expert=at_opening), recorded=1)  # fmt: skip


def test_a_secondary_venue_with_a_witness_log_is_not_removed(vw: VenueWorld) -> None:
    # given a secondary venue whose witness has recorded events
    sz = vw.secondary("SZ/E1", 0)
    vw.record(sz, "recording_started")
    vw.record(sz, "incident", note="副场网络中断")
    # when the booker removes it / then it is refused and the log is kept (never erased)
    _refused(Conflict, "venue_has_events", lambda: sessions.remove_secondary_venue(
        actor=vw.booker, session_venue=sz))  # fmt: skip
    assert WitnessEvent.objects.filter(venue=sz).count() == 2


def test_a_suspended_expert_is_not_placed(vw: VenueWorld) -> None:
    expert, main = vw.expert_world.suspended(), vw.main()
    _refused(Conflict, "expert_not_available", lambda: sessions.assign_expert(
        actor=vw.booker, booking=main.booking, expert=expert))  # fmt: skip


def test_only_a_venues_own_witness_writes_its_log(vw: VenueWorld, users) -> None:  # type: ignore[no-untyped-def]
    main, sz = vw.main(), vw.secondary("SZ/E1", 0)
    # the witness of Suzhou writes Suzhou's log
    vw.record(sz, "incident", note="网络延迟约1分钟")
    # but not Nanjing's; nor does other center staff
    for actor in (vw.witnesses[0], users["center_admin"], vw.witnesses[1]):
        _refused(PermissionDenied, "forbidden", lambda a=actor: sessions.record_event(
            actor=a, session_venue=main, kind="incident", note="越权记录"))  # fmt: skip
    _refused(PermissionDenied, "forbidden", lambda: sessions.record_event(
        actor=vw.witness, session_venue=sz, kind="incident", note="越权记录"))  # fmt: skip


def test_the_shared_state_the_main_witness_drives(vw: VenueWorld) -> None:
    _, expert = vw.assigned()
    main, sz = vw.main(), vw.secondary("SZ/E1", 0)
    sz_expert = vw.expert(1)
    sessions.assign_expert(actor=vw.booker, booking=sz.booking, expert=sz_expert)
    # a secondary venue is never ahead of the main one
    _refused(Conflict, "ahead_of_main", lambda: vw.record(sz, "check_in_opened"))
    # check-in opens on the main venue for every venue
    vw.record(main, "check_in_opened")
    assert main.session.__class__.objects.get(pk=main.session_id).state == "checking_in"
    vw.record(main, "check_in", expert=expert)
    _refused(Conflict, "already_checked_in", lambda: vw.record(main, "check_in", expert=expert))
    _refused(Conflict, "expert_not_here", lambda: vw.record(main, "check_in", expert=sz_expert))
    vw.record(sz, "check_in", expert=sz_expert)
    # R62: a venue's session runs only while recorded
    _refused(Conflict, "recording_required", lambda: vw.record(main, "session_started"))
    vw.record(main, "recording_started")
    _refused(Conflict, "already_recording", lambda: vw.record(main, "recording_started"))
    vw.record(main, "session_started")
    vw.record(sz, "recording_started")
    vw.record(sz, "session_started")
    # the main venue pauses and resumes the whole session
    vw.record(main, "session_paused")
    _refused(Conflict, "ahead_of_main", lambda: vw.record(sz, "session_resumed"))
    _refused(Conflict, "bad_session_state", lambda: vw.record(main, "session_paused"))
    vw.record(main, "session_resumed")
    # the main venue cannot end while a secondary venue still runs
    _refused(Conflict, "secondary_running", lambda: vw.record(main, "session_ended"))
    _refused(Conflict, "recording_required", lambda: vw.record(
        sz, "recording_stopped", digest=DIGEST))  # fmt: skip
    vw.record(sz, "session_ended")
    vw.record(sz, "recording_stopped", digest=DIGEST)
    vw.record(main, "session_ended")
    _refused(ValidationFailed, "bad_digest", lambda: vw.record(
        main, "recording_stopped", digest="not-a-digest"))  # fmt: skip
    vw.record(main, "recording_stopped", digest=DIGEST.upper())
    session = main.session.__class__.objects.get(pk=main.session_id)
    assert (session.state, session.last_seq) == ("ended", 13)
    assert session.started_at is not None and session.ended_at is not None
    _refused(Conflict, "session_ended", lambda: vw.record(main, "session_resumed"))
    log = list(WitnessEvent.objects.filter(venue=sz).values_list("seq", "kind"))
    assert log == [(3, "check_in"), (6, "recording_started"), (7, "session_started"),
                   (10, "session_ended"), (11, "recording_stopped")]  # fmt: skip
    stopped = WitnessEvent.objects.get(venue=main, kind="recording_stopped")
    assert stopped.digest == DIGEST
    ledger = Event.objects.filter(subject=f"venue-session:{session.public_id}",
                                  event_type="venues.witness_event").count()  # fmt: skip
    assert ledger == 13


def test_an_incident_needs_a_note(vw: VenueWorld) -> None:
    main = vw.main()
    _refused(ValidationFailed, "note_required", lambda: vw.record(main, "incident"))
    _refused(ValidationFailed, "bad_event_kind", lambda: vw.record(main, "dance"))


def test_the_layout_is_fixed_once_the_session_runs(vw: VenueWorld) -> None:
    main = vw.main()
    booking = vw.secondary_booking("SZ/E1")
    vw.record(main, "check_in_opened")
    vw.record(main, "recording_started")
    vw.record(main, "session_started")
    _refused(Conflict, "session_started", lambda: sessions.add_secondary_venue(
        actor=vw.booker, session=main.session, booking=booking, witness=vw.witnesses[0]))  # fmt: skip
    _refused(Conflict, "session_started", lambda: sessions.assign_expert(
        actor=vw.booker, booking=main.booking, expert=vw.expert(0)))  # fmt: skip


def test_a_booking_in_a_running_session_is_not_released(vw: VenueWorld) -> None:
    from ggzy.venues import services

    main = vw.main()
    _refused(Conflict, "booking_in_session", lambda: services.release_booking(
        actor=vw.booker, booking=main.booking))  # fmt: skip


def test_a_witness_can_be_replaced(vw: VenueWorld) -> None:
    sz = vw.secondary("SZ/E1", 0)
    sessions.assign_witness(actor=vw.booker, session_venue=sz, witness=vw.witnesses[2])
    sz.refresh_from_db()
    assert sz.witness == vw.witnesses[2]
    _refused(Conflict, "witness_elsewhere", lambda: sessions.assign_witness(
        actor=vw.booker, session_venue=sz, witness=vw.witness))  # fmt: skip


def test_a_secondary_venue_can_be_removed_before_the_start(vw: VenueWorld) -> None:
    sz = vw.secondary("SZ/E1", 0)
    sessions.assign_expert(actor=vw.booker, booking=sz.booking, expert=vw.expert(0))
    _refused(Conflict, "venue_has_experts", lambda: sessions.remove_secondary_venue(
        actor=vw.booker, session_venue=sz))  # fmt: skip
    sessions.unassign_expert(actor=vw.booker, booking=sz.booking, expert=vw.expert(0))
    sessions.remove_secondary_venue(actor=vw.booker, session_venue=sz)
    assert not SessionVenue.objects.filter(pk=sz.pk).exists()
    _refused(Conflict, "main_venue", lambda: sessions.remove_secondary_venue(
        actor=vw.booker, session_venue=vw.main()))  # fmt: skip
