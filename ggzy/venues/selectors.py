"""Venue reads, with the access check built in: sites, venues, bookings and sessions are the
center's and supervision's (``venues.view``); to anyone else they do not exist. The shared
session state is read in a few queries, so every venue can poll it cheaply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from ggzy.accounts.gate import allowed, require
from ggzy.core import clock
from ggzy.core.errors import NotFound
from ggzy.tendering.states import ProjectStatus
from ggzy.venues import checks
from ggzy.venues.models import (
    Booking,
    ExpertAssignment,
    RemoteSession,
    SessionVenue,
    Site,
    Venue,
    WitnessEvent,
)
from ggzy.venues.states import LIVE_STATES, Purpose

MAX_PK = 2**63 - 1
MAX_EVENTS = 200  # per poll; a venue asks again from the last seq it saw


def _gate(actor: Any, code: str, message: str) -> None:
    if not allowed(actor, "venues.view"):
        raise NotFound(message, code=code)


def sites(actor: Any) -> QuerySet[Site]:
    require(actor, "venues.view")
    return Site.objects.select_related("region").order_by("region", "code")


def get_site(actor: Any, code: str) -> Site:
    _gate(actor, "site_not_found", "交易场所不存在 (no such site)")
    site = Site.objects.select_related("region").filter(code=str(code).upper()[:16]).first()
    if site is None:
        raise NotFound("交易场所不存在 (no such site)", code="site_not_found")
    return site


def venues(actor: Any, *, site: str = "", kind: str = "", region: str = "",
           active_only: bool = False) -> QuerySet[Venue]:  # fmt: skip
    require(actor, "venues.view")
    qs = Venue.objects.select_related("site__region")
    if site:
        qs = qs.filter(site__code=site.upper())
    if kind:
        qs = qs.filter(kind=kind)
    if region:
        qs = qs.filter(site__region_id=region)
    if active_only:
        qs = qs.filter(status="active", site__active=True)
    return qs.order_by("site__region", "site__code", "code")


def get_venue(actor: Any, venue_id: int) -> Venue:
    _gate(actor, "venue_not_found", "场地不存在 (no such venue)")
    venue = None
    if 0 < venue_id <= MAX_PK:
        venue = Venue.objects.select_related("site__region").filter(pk=venue_id).first()
    if venue is None:
        raise NotFound("场地不存在 (no such venue)", code="venue_not_found")
    return venue


def _bookings() -> QuerySet[Booking]:
    return Booking.objects.select_related(
        "venue__site", "section__project", "booked_by", "session_venue__session"
    ).prefetch_related(
        Prefetch("assignments", queryset=ExpertAssignment.objects.select_related("expert"))
    )


def experts_visible(
    actor: Any, booking: Booking, sv: SessionVenue | None, *, session: RemoteSession | None = None
) -> bool:
    """Who is placed at a venue stays sealed (R17) until the session has started (an opening:
    until it begins) — except to the organizing desk (``venues.book``) and the venue's own
    witness, who checks the experts in."""
    if allowed(actor, "venues.book"):
        return True
    if sv is not None and sv.witness_id == getattr(actor, "pk", None):
        return True
    if sv is None:
        return booking.start <= clock.now()
    return (session or sv.session).started_at is not None


def _sealed_rows() -> Q:
    """As ``services.sealed``: evaluations, and bookings of projects not yet published."""
    return Q(purpose=Purpose.EVALUATION) | ~Q(section__project__status=ProjectStatus.PUBLISHED)


def get_booking(actor: Any, public_id: str) -> Booking:
    _gate(actor, "booking_not_found", "预订不存在 (no such booking)")
    booking = _bookings().filter(public_id=str(public_id)[:32]).first()
    if booking is None:
        raise NotFound("预订不存在 (no such booking)", code="booking_not_found")
    return booking


def bookings(actor: Any, *, start: datetime | None = None, end: datetime | None = None,
             venue: Venue | None = None, site: str = "", live_only: bool = False,
             section: str = "") -> QuerySet[Booking]:  # fmt: skip
    """Bookings overlapping ``[start, end)`` (either open), for a venue or a site."""
    require(actor, "venues.view")
    for moment in (start, end):
        if moment is not None and not checks.in_range(moment):
            raise checks.refuse("start", "date_out_of_range", "日期超出范围 (date out of range)")
    qs = _bookings()
    if start is not None:
        qs = qs.filter(end__gt=start)
    if end is not None:
        qs = qs.filter(start__lt=end)
    if venue is not None:
        qs = qs.filter(venue=venue)
    if site:
        qs = qs.filter(venue__site__code=site.upper())
    if section:
        qs = qs.filter(section__public_id=section)
        if not allowed(actor, "venues.book"):
            qs = qs.exclude(_sealed_rows())  # a sealed booking is not found by its section
    if live_only:
        qs = qs.filter(state__in=LIVE_STATES)
    return qs.order_by("start", "pk")


def session_rows(actor: Any, *, limit: int) -> list[dict[str, Any]]:
    """:func:`session_state` for a page of sessions, without events, in a fixed few queries."""
    rows = list(
        sessions(actor).prefetch_related(
            Prefetch("venues", queryset=SessionVenue.objects.select_related(
                "booking__venue__site__region", "witness").order_by("role", "pk")),
            Prefetch("assignments", queryset=ExpertAssignment.objects.select_related("expert")
                     .order_by("pk")),
        )[:limit]
    )  # fmt: skip
    out = []
    for s in rows:
        placed: dict[int, list[ExpertAssignment]] = {}
        for a in s.assignments.all():
            placed.setdefault(a.booking_id, []).append(a)
        venues = [(sv, placed.get(sv.booking_id, [])) for sv in s.venues.all()]
        out.append({"session": s, "venues": venues, "events": [], "last_seq": s.last_seq})
    return out


def assignments(booking: Booking) -> list[ExpertAssignment]:
    return list(booking.assignments.select_related("expert").order_by("pk"))


def sessions(actor: Any) -> QuerySet[RemoteSession]:
    require(actor, "venues.view")
    return RemoteSession.objects.select_related("section__project").order_by("-created_at", "-pk")


def get_session(actor: Any, public_id: str) -> RemoteSession:
    _gate(actor, "session_not_found", "评标活动不存在 (no such session)")
    session = (RemoteSession.objects.select_related("section__project")
               .filter(public_id=str(public_id)[:32]).first())  # fmt: skip
    if session is None:
        raise NotFound("评标活动不存在 (no such session)", code="session_not_found")
    return session


def session_venues(session: RemoteSession) -> list[SessionVenue]:
    return list(
        session.venues.select_related("booking__venue__site__region", "witness").order_by(
            "role", "pk"
        )
    )


def get_session_venue(session: RemoteSession, booking_id: str) -> SessionVenue:
    sv = (session.venues.select_related("booking__venue__site", "witness")
          .filter(booking__public_id=str(booking_id)[:32]).first())  # fmt: skip
    if sv is None:
        raise NotFound("该评标活动无此场地 (no such venue in the session)",
                       code="booking_not_found")  # fmt: skip
    return sv


def my_venues(actor: Any) -> list[SessionVenue]:
    """The venues the actor witnesses in sessions not ended, for the witness's own list."""
    if not getattr(actor, "is_authenticated", False):
        return []
    return list(
        SessionVenue.objects.filter(witness_id=actor.pk)
        .exclude(session__state="ended")
        .select_related("session__section__project", "booking__venue__site")
        .order_by("booking__start")
    )


def events(session: RemoteSession, *, since: int = 0, venue: SessionVenue | None = None,
           limit: int = MAX_EVENTS) -> list[WitnessEvent]:  # fmt: skip
    qs = session.events.filter(seq__gt=max(0, since)).select_related(
        "venue__booking__venue", "venue__session", "expert", "recorded_by"
    )
    if venue is not None:
        qs = qs.filter(venue=venue)
    return list(qs.order_by("seq")[:limit])


def latest_events(session: RemoteSession, per_venue: int = 5) -> dict[int, list[WitnessEvent]]:
    """Each venue's latest witness events, newest first."""
    out: dict[int, list[WitnessEvent]] = {}
    for sv in session.venues.all():
        out[sv.pk] = list(sv.events.select_related("expert").order_by("-seq")[:per_venue])
    return out


def session_state(actor: Any, session: RemoteSession, *, since: int = 0) -> dict[str, Any]:
    """What every venue shows: the shared state, each venue's state, seats and check-ins, and
    the witness events after ``since`` (a venue passes the last ``seq`` it saw)."""
    _gate(actor, "session_not_found", "评标活动不存在 (no such session)")
    rows = session_venues(session)
    placed: dict[int, list[ExpertAssignment]] = {}
    for a in (ExpertAssignment.objects.filter(session=session)
              .select_related("expert").order_by("pk")):  # fmt: skip
        placed.setdefault(a.booking_id, []).append(a)
    return {
        "session": session,
        "venues": [(sv, placed.get(sv.booking_id, [])) for sv in rows],
        "events": events(session, since=since),
        "last_seq": session.last_seq,
    }
