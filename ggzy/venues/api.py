"""Venues API (``/api/v1/venues``): sites and venues (center admin), bookings (the organizing
desk), remote evaluation sessions and their layout, experts at venues, each venue's witness log,
and the shared session state a venue polls (``GET /sessions/{id}/state?since=``). Thin: parse,
call one service or selector, render; every refusal is ``{"code", "message", "detail"}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from ggzy.core.schemas import ErrorOut, OkOut
from ggzy.experts import selectors as experts
from ggzy.experts.models import Expert
from ggzy.registry.models import Region
from ggzy.tendering import selectors as tendering
from ggzy.venues import checks, selectors, services, sessions
from ggzy.venues.models import Booking, ExpertAssignment, RemoteSession, Site, Venue
from ggzy.venues.schemas import (
    BookingCancelIn,
    BookingIn,
    BookingOut,
    BookingReasonIn,
    RemoteSessionIn,
    RemoteSessionOut,
    RemoteSessionStateOut,
    SecondaryVenueIn,
    SiteIn,
    SiteOut,
    SitePatch,
    VenueAssignIn,
    VenueIn,
    VenueOut,
    VenuePatch,
    VenueWitnessIn,
    WitnessEventIn,
    WitnessEventOut,
)
from ggzy.venues.states import VenueKind

router = Router(tags=["venues"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 422)}


# --- rendering ----------------------------------------------------------------------------------


def site_out(s: Site) -> dict[str, Any]:
    return {"code": s.code, "name": s.name, "region": s.region_id, "region_name": s.region.name,
            "address": s.address, "opens_at": s.opens_at, "closes_at": s.closes_at,
            "active": s.active}  # fmt: skip


def venue_out(v: Venue) -> dict[str, Any]:
    return {"id": v.pk, "label": v.label, "site": v.site.code, "site_name": v.site.name,
            "region": v.site.region_id, "code": v.code, "name": v.name, "kind": v.kind,
            "capacity": v.capacity, "video_recording": v.video_recording,
            "remote_link": v.remote_link, "status": v.status, "version": v.version}  # fmt: skip


def assignment_out(a: ExpertAssignment) -> dict[str, Any]:
    return {"expert": a.expert.public_id, "name": a.expert.name, "assigned_at": a.assigned_at,
            "checked_in_at": a.checked_in_at}  # fmt: skip


def booking_out(actor: Any, b: Booking) -> dict[str, Any]:
    """An evaluation's (or unpublished project's) section and project stay sealed (R17), as in
    ``venue_taken``; the experts placed show only to whoever may see them yet."""
    sv = getattr(b, "session_venue", None)
    shown = not services.sealed(b)
    return {
        "id": b.public_id, "venue": venue_out(b.venue), "start": b.start, "end": b.end,
        "purpose": b.purpose, "state": b.state,
        "section": b.section.public_id if shown else None,
        "project": b.section.project.name if shown else None,
        "booked_by": b.booked_by.username,
        "override_reason": b.override_reason, "state_reason": b.state_reason,
        "session": sv.session.public_id if sv else None,
        "experts": [assignment_out(a) for a in b.assignments.all()]
        if selectors.experts_visible(actor, b, sv) else [],
    }  # fmt: skip


def event_out(actor: Any, e: Any) -> dict[str, Any]:
    shown = e.expert is not None and selectors.experts_visible(actor, e.venue.booking, e.venue)
    return {"seq": e.seq, "booking": e.venue.booking.public_id, "venue": e.venue.booking.venue.label,
            "role": e.venue.role, "kind": e.kind, "at": e.at,
            "expert": e.expert.public_id if shown else None, "digest": e.digest,
            "note": e.note, "state": e.state_after, "witness": e.recorded_by.username}  # fmt: skip


def session_out(actor: Any, state: dict[str, Any]) -> dict[str, Any]:
    s: RemoteSession = state["session"]
    return {
        "id": s.public_id, "section": s.section.public_id, "project": s.section.project.name,
        "state": s.state, "started_at": s.started_at, "ended_at": s.ended_at,
        "last_seq": state["last_seq"],
        "venues": [
            {"booking": sv.booking.public_id, "venue": venue_out(sv.booking.venue),
             "role": sv.role, "witness": sv.witness.username, "state": sv.state,
             "recording": sv.recording, "seats": sv.booking.venue.capacity,
             "experts": [assignment_out(a) for a in placed]
             if selectors.experts_visible(actor, sv.booking, sv, session=s) else []}
            for sv, placed in state["venues"]
        ],
    }  # fmt: skip


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _session(request: HttpRequest, remote_session_id: str) -> RemoteSession:
    return selectors.get_session(_actor(request), remote_session_id)


def _layout(request: HttpRequest, session: RemoteSession) -> dict[str, Any]:
    session.refresh_from_db()
    state = selectors.session_state(_actor(request), session, since=session.last_seq)
    return session_out(_actor(request), state)


def _expert(request: HttpRequest, public_id: str) -> Expert:
    return experts.get_expert_for(_actor(request), public_id)


# --- sites and venues ---------------------------------------------------------------------------


@router.get("/sites", response={200: list[SiteOut], **ERRORS})
def list_sites(request: HttpRequest) -> Any:
    return [site_out(s) for s in selectors.sites(_actor(request))]


@router.post("/sites", response={201: SiteOut, **ERRORS})
def create_site(request: HttpRequest, payload: SiteIn) -> Any:
    """A trading center's premises in a region (center admin)."""
    data = payload.dict()
    region = Region.objects.filter(code=data.pop("region")).first()
    if region is None:
        raise checks.refuse("region", "region_not_found", "地区不存在 (no such region)")
    return Status(201, site_out(services.create_site(actor=_actor(request), region=region, **data)))


@router.patch("/sites/{site_code}", response={200: SiteOut, **ERRORS})
def change_site(request: HttpRequest, site_code: str, payload: SitePatch) -> Any:
    site = selectors.get_site(_actor(request), site_code)
    changed = services.update_site(actor=_actor(request), site=site,
                                   changes=payload.dict(exclude_unset=True))  # fmt: skip
    return site_out(Site.objects.select_related("region").get(pk=changed.pk))


@router.get("/rooms", response={200: list[VenueOut], **ERRORS})
def list_venues(
    request: HttpRequest,
    site: str = Query("", max_length=16),
    kind: str = Query("", max_length=16),
    region: str = Query("", max_length=6),
) -> Any:
    """Opening halls, evaluation rooms and witness rooms, by site, kind or region."""
    if kind and kind not in VenueKind.values:
        raise checks.refuse("kind", "bad_venue_kind", "场地类型无效 (bad kind)")
    qs = selectors.venues(_actor(request), site=site, kind=kind, region=region)
    return [venue_out(v) for v in qs]


@router.post("/rooms", response={201: VenueOut, **ERRORS})
def create_venue(request: HttpRequest, payload: VenueIn) -> Any:
    """A room at a site: seats and equipment (center admin)."""
    data = payload.dict()
    site = selectors.get_site(_actor(request), data.pop("site"))
    venue = services.create_venue(actor=_actor(request), site=site, **data)
    return Status(201, venue_out(venue))


@router.patch("/rooms/{venue_id}", response={200: VenueOut, **ERRORS})
def change_venue(request: HttpRequest, venue_id: int, payload: VenuePatch) -> Any:
    venue = selectors.get_venue(_actor(request), venue_id)
    changed = services.update_venue(actor=_actor(request), venue=venue,
                                    changes=payload.dict(exclude_unset=True))  # fmt: skip
    return venue_out(changed)


# --- bookings -----------------------------------------------------------------------------------


@router.get("/bookings", response={200: list[BookingOut], **ERRORS})
def list_bookings(
    request: HttpRequest,
    start: datetime | None = None,
    end: datetime | None = None,
    site: str = Query("", max_length=16),
    section: str = Query("", max_length=32),
    live_only: bool = False,
) -> Any:
    """Bookings overlapping ``[start, end)`` (the venue calendar), by site or section."""
    qs = selectors.bookings(_actor(request), start=start, end=end, site=site, section=section,
                            live_only=live_only)  # fmt: skip
    return [booking_out(_actor(request), b) for b in qs[:500]]


@router.post("/bookings", response={201: BookingOut, **ERRORS})
def book(request: HttpRequest, payload: BookingIn) -> Any:
    """Hold a venue for a section's opening or evaluation. ``409 venue_taken`` names the
    conflicting bookings' times (never an evaluation's project); hours outside the site's working
    calendar need ``override_reason``."""
    venue = selectors.get_venue(_actor(request), payload.venue)
    section = tendering.get_section(_actor(request), payload.section)
    booking = services.book_venue(
        actor=_actor(request), venue=venue, section=section, purpose=payload.purpose,
        start=payload.start, end=payload.end, override_reason=payload.override_reason,
    )  # fmt: skip
    return Status(201, booking_out(_actor(request), _booking(request, booking.public_id)))


@router.get("/bookings/{booking_id}", response={200: BookingOut, **ERRORS})
def booking_detail(request: HttpRequest, booking_id: str) -> Any:
    return booking_out(_actor(request), _booking(request, booking_id))


def _booking(request: HttpRequest, booking_id: str) -> Booking:
    return selectors.get_booking(_actor(request), booking_id)


@router.post("/bookings/{booking_id}/confirm", response={200: BookingOut, **ERRORS})
def confirm(request: HttpRequest, booking_id: str) -> Any:
    b = services.confirm_booking(actor=_actor(request), booking=_booking(request, booking_id))
    return booking_out(_actor(request), _booking(request, b.public_id))


@router.post("/bookings/{booking_id}/release", response={200: BookingOut, **ERRORS})
def release(request: HttpRequest, booking_id: str, payload: BookingReasonIn) -> Any:
    """Give the slot back: the venue is free again."""
    b = services.release_booking(actor=_actor(request), booking=_booking(request, booking_id),
                                 reason=payload.reason)  # fmt: skip
    return booking_out(_actor(request), _booking(request, b.public_id))


@router.post("/bookings/{booking_id}/cancel", response={200: BookingOut, **ERRORS})
def cancel(request: HttpRequest, booking_id: str, payload: BookingCancelIn) -> Any:
    b = services.cancel_booking(actor=_actor(request), booking=_booking(request, booking_id),
                                reason=payload.reason)  # fmt: skip
    return booking_out(_actor(request), _booking(request, b.public_id))


@router.post("/bookings/{booking_id}/experts", response={201: BookingOut, **ERRORS})
def assign(request: HttpRequest, booking_id: str, payload: VenueAssignIn) -> Any:
    """Place an expert at a venue booking (generic: the committee calls it per member). R62:
    ``evaluator_at_opening``; seats: ``venue_full``; one venue per session: ``expert_elsewhere``."""
    booking = _booking(request, booking_id)
    sessions.assign_expert(actor=_actor(request), booking=booking,
                           expert=_expert(request, payload.expert))  # fmt: skip
    return Status(201, booking_out(_actor(request), _booking(request, booking.public_id)))


@router.delete("/bookings/{booking_id}/experts/{expert_id}", response={200: OkOut, **ERRORS})
def unassign(request: HttpRequest, booking_id: str, expert_id: str) -> Any:
    booking = _booking(request, booking_id)
    sessions.unassign_expert(actor=_actor(request), booking=booking,
                             expert=_expert(request, expert_id))  # fmt: skip
    return {"ok": True}


# --- remote evaluation sessions -----------------------------------------------------------------


@router.get("/sessions", response={200: list[RemoteSessionOut], **ERRORS})
def list_sessions(request: HttpRequest, limit: int = Query(50, ge=1, le=200)) -> Any:
    actor = _actor(request)
    return [session_out(actor, state) for state in selectors.session_rows(actor, limit=limit)]


@router.post("/sessions", response={201: RemoteSessionOut, **ERRORS})
def create_session(request: HttpRequest, payload: RemoteSessionIn) -> Any:
    """Lay out a section's evaluation: its main venue booking and the witness there."""
    booking = _booking(request, payload.booking)
    session = sessions.create_session(actor=_actor(request), booking=booking,
                                      witness=sessions.witness_account(payload.witness))  # fmt: skip
    return Status(201, _layout(request, session))


@router.get("/sessions/{remote_session_id}", response={200: RemoteSessionOut, **ERRORS})
def session_detail(request: HttpRequest, remote_session_id: str) -> Any:
    return _layout(request, _session(request, remote_session_id))


@router.get("/sessions/{remote_session_id}/state", response={200: RemoteSessionStateOut, **ERRORS})
def session_state(
    request: HttpRequest, remote_session_id: str, since: int = Query(0, ge=0, le=2**31)
) -> Any:
    """The state every venue shares, each venue's state and check-ins, and the witness events
    after ``since`` (pass the ``last_seq`` you saw; at most 200 at a time)."""
    state = selectors.session_state(
        _actor(request), _session(request, remote_session_id), since=since
    )
    return session_out(_actor(request), state) | {
        "events": [event_out(_actor(request), e) for e in state["events"]]
    }


@router.post("/sessions/{remote_session_id}/venues", response={201: RemoteSessionOut, **ERRORS})
def add_venue(request: HttpRequest, remote_session_id: str, payload: SecondaryVenueIn) -> Any:
    """Add a secondary venue (副场) in another region, with its witness."""
    session = _session(request, remote_session_id)
    sessions.add_secondary_venue(actor=_actor(request), session=session,
                                 booking=_booking(request, payload.booking),
                                 witness=sessions.witness_account(payload.witness))  # fmt: skip
    return Status(201, _layout(request, session))


@router.delete(
    "/sessions/{remote_session_id}/venues/{booking_id}", response={200: RemoteSessionOut, **ERRORS}
)
def remove_venue(request: HttpRequest, remote_session_id: str, booking_id: str) -> Any:
    session = _session(request, remote_session_id)
    sv = selectors.get_session_venue(session, booking_id)
    sessions.remove_secondary_venue(actor=_actor(request), session_venue=sv)
    return _layout(request, session)


@router.put("/sessions/{remote_session_id}/venues/{booking_id}/witness",
            response={200: RemoteSessionOut, **ERRORS})  # fmt: skip
def set_witness(
    request: HttpRequest, remote_session_id: str, booking_id: str, payload: VenueWitnessIn
) -> Any:
    session = _session(request, remote_session_id)
    sv = selectors.get_session_venue(session, booking_id)
    sessions.assign_witness(actor=_actor(request), session_venue=sv,
                            witness=sessions.witness_account(payload.witness))  # fmt: skip
    return _layout(request, session)


@router.post("/sessions/{remote_session_id}/venues/{booking_id}/events",
             response={201: WitnessEventOut, **ERRORS})  # fmt: skip
def record(
    request: HttpRequest, remote_session_id: str, booking_id: str, payload: WitnessEventIn
) -> Any:
    """The venue's own witness records an event (见证记录). On the main venue the state events
    drive the state every venue shares. Another venue's witness: ``403 forbidden``."""
    session = _session(request, remote_session_id)
    sv = selectors.get_session_venue(session, booking_id)
    expert = _expert(request, payload.expert) if payload.expert else None
    row = sessions.record_event(actor=_actor(request), session_venue=sv, kind=payload.kind,
                                expert=expert, digest=payload.digest, note=payload.note)  # fmt: skip
    return Status(201, event_out(_actor(request), row))
