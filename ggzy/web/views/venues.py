"""Venue pages: the venue calendar (a week of bookings per venue), the booking form and a
booking's page, remote evaluation sessions — their layout (main and secondary venues,
witnesses, experts), the state every venue shares (polled with htmx, a refresh link without
JavaScript) and each venue's witness console. Views parse, call one service or selector, and
render; every refusal is shown with its message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ggzy.accounts.gate import allowed
from ggzy.core import clock
from ggzy.core.clock import CHINA
from ggzy.core.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from ggzy.experts import selectors as experts
from ggzy.tendering import selectors as tendering
from ggzy.venues import checks, selectors, services, sessions
from ggzy.venues.models import Booking, RemoteSession, SessionVenue
from ggzy.venues.states import LIVE_STATES, EventKind, Purpose
from ggzy.web.forms_venues import (
    BookingForm,
    CalendarForm,
    EventForm,
    ExpertForm,
    ReasonForm,
    SecondaryForm,
    SessionForm,
    WitnessForm,
)
from ggzy.web.views.common import error_page, is_htmx_partial

Page = HttpResponse


def _staff(request: HttpRequest) -> HttpResponse | None:
    if not allowed(request.user, "venues.view"):
        return error_page(request, 403, _("仅交易中心及监督人员可访问场地安排。"))
    return None


def _act(request: HttpRequest, action: Callable[[], Any], done: str, back: str) -> Page:
    """Run one service call from a button; show its refusal or its success, then go back."""
    try:
        action()
    except (NotAuthenticated, PermissionDenied) as exc:
        return error_page(request, 403, exc.message)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    except DomainError as exc:
        messages.error(request, f"{exc.message} [{exc.code}]")
    else:
        messages.success(request, done)
    return redirect(back)


def _show_refusal(form: forms.Form, exc: DomainError) -> None:
    field = exc.detail.get("field") if isinstance(exc.detail, dict) else None
    form.add_error(field if field in form.fields else None, f"{exc.message} [{exc.code}]")


# --- the calendar and bookings -----------------------------------------------------------------


def _venue_choices(request: HttpRequest) -> list[tuple[str, str]]:
    return [(str(v.pk), f"{v.label} {v.site.name} {v.name}（{v.get_kind_display()}，{v.capacity}座）")
            for v in selectors.venues(request.user, active_only=True)]  # fmt: skip


@login_required
def calendar(request: HttpRequest) -> Page:
    """A week of bookings per venue (Monday to Sunday, China time)."""
    if (refused := _staff(request)) is not None:
        return refused
    sites = [(s.code, s.name) for s in selectors.sites(request.user)]
    form = CalendarForm(request.GET or None, sites=sites)
    day, site = clock.today(), ""
    if form.is_valid():
        week = form.cleaned_data["week"]
        day = week if week is not None and checks.in_range(week) else day
        site = form.cleaned_data["site"]
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    start = datetime(monday.year, monday.month, monday.day, tzinfo=CHINA)
    rooms = list(selectors.venues(request.user, site=site))
    rows: dict[int, list[list[Booking]]] = {v.pk: [[] for _d in days] for v in rooms}
    for b in selectors.bookings(request.user, start=start, end=start + timedelta(days=7),
                                site=site, live_only=True):  # fmt: skip
        n = (b.start.astimezone(CHINA).date() - monday).days
        if b.venue_id in rows and 0 <= n < 7:
            rows[b.venue_id][n].append(b)
    return render(request, "web/venues/calendar.html", {
        "form": form, "days": days, "site": site,
        "rows": [(v, list(zip(days, rows[v.pk], strict=True))) for v in rooms],
        "previous": monday - timedelta(days=7), "next": monday + timedelta(days=7),
        "can_book": allowed(request.user, "venues.book"),
    })  # fmt: skip


@login_required
def book(request: HttpRequest) -> Page:
    if (refused := _staff(request)) is not None:
        return refused
    initial = {
        k: request.GET[k] for k in ("venue", "day", "section", "purpose") if k in request.GET
    }
    form = BookingForm(request.POST or None, initial=initial, venues=_venue_choices(request))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            venue = selectors.get_venue(request.user, int(d["venue"]))
            section = tendering.get_section(request.user, d["section"])
            start, end = form.moments()
            booking = services.book_venue(actor=request.user, venue=venue, section=section,
                                          purpose=d["purpose"], start=start, end=end,
                                          override_reason=d["override_reason"])  # fmt: skip
        except (NotAuthenticated, PermissionDenied) as exc:
            return error_page(request, 403, exc.message)
        except DomainError as exc:
            _show_refusal(form, exc)
            if exc.code == "venue_taken":
                form.add_error(None, _("冲突时段：") + "；".join(
                    f"{c['start'].astimezone(CHINA):%m-%d %H:%M}–{c['end'].astimezone(CHINA):%H:%M}"
                    for c in exc.detail["conflicts"]))  # fmt: skip
        else:
            messages.success(request, _("场地已预订。"))
            return redirect("web:venue_booking", booking_id=booking.public_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/venues/book.html", {"form": form}, status=status)


def _booking_or_page(request: HttpRequest, booking_id: str) -> Booking | Page:
    try:
        return selectors.get_booking(request.user, booking_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


@login_required
def booking(request: HttpRequest, booking_id: str) -> Page:
    b = _booking_or_page(request, booking_id)
    if isinstance(b, HttpResponse):
        return b
    sv = SessionVenue.objects.filter(booking=b).select_related("session").first()
    return render(request, "web/venues/booking.html", {
        "booking": b, "session_venue": sv, "assignments": selectors.assignments(b),
        "live": b.state in LIVE_STATES, "can_book": allowed(request.user, "venues.book"),
        "reason_form": ReasonForm(), "expert_form": ExpertForm(),
    })  # fmt: skip


def _on_booking(request: HttpRequest, booking_id: str, act: Callable[[Booking], Any],
                done: str) -> Page:  # fmt: skip
    b = _booking_or_page(request, booking_id)
    if isinstance(b, HttpResponse):
        return b
    back = request.POST.get("back") or ""
    target = back if back.startswith("/venues/") else f"/venues/bookings/{b.public_id}/"
    return _act(request, lambda: act(b), done, target)


@login_required
@require_POST
def booking_confirm(request: HttpRequest, booking_id: str) -> Page:
    return _on_booking(request, booking_id,
                       lambda b: services.confirm_booking(actor=request.user, booking=b),
                       _("预订已确认。"))  # fmt: skip


@login_required
@require_POST
def booking_release(request: HttpRequest, booking_id: str) -> Page:
    reason = request.POST.get("reason", "")
    return _on_booking(request, booking_id, lambda b: services.release_booking(
        actor=request.user, booking=b, reason=reason), _("预订已释放，时段已空出。"))  # fmt: skip


@login_required
@require_POST
def booking_assign(request: HttpRequest, booking_id: str) -> Page:
    ident = request.POST.get("expert", "")
    return _on_booking(request, booking_id, lambda b: sessions.assign_expert(
        actor=request.user, booking=b, expert=experts.get_expert_for(request.user, ident)),
        _("专家已安排到该场地。"))  # fmt: skip


@login_required
@require_POST
def booking_unassign(request: HttpRequest, booking_id: str, expert_id: str) -> Page:
    return _on_booking(request, booking_id, lambda b: sessions.unassign_expert(
        actor=request.user, booking=b, expert=experts.get_expert_for(request.user, expert_id)),
        _("已取消该专家的场地安排。"))  # fmt: skip


# --- remote evaluation sessions ----------------------------------------------------------------


def _free_evaluations(request: HttpRequest) -> list[tuple[str, str]]:
    qs = selectors.bookings(request.user, start=clock.now(), live_only=True).filter(
        purpose=Purpose.EVALUATION, session_venue__isnull=True)  # fmt: skip
    return [(b.public_id, f"{b.venue.label} {b.start.astimezone(CHINA):%Y-%m-%d %H:%M} "
             f"{b.section.project.name}") for b in qs[:200]]  # fmt: skip


@login_required
def session_list(request: HttpRequest) -> Page:
    if (refused := _staff(request)) is not None:
        return refused
    return render(request, "web/venues/sessions.html", {
        "sessions": list(selectors.sessions(request.user)[:100]),
        "mine": selectors.my_venues(request.user),
        "form": SessionForm(bookings=_free_evaluations(request)),
        "can_book": allowed(request.user, "venues.book"),
    })  # fmt: skip


@login_required
@require_POST
def session_create(request: HttpRequest) -> Page:
    made: list[RemoteSession] = []

    def create() -> None:
        b = selectors.get_booking(request.user, request.POST.get("booking", ""))
        w = sessions.witness_account(request.POST.get("witness", ""))
        made.append(sessions.create_session(actor=request.user, booking=b, witness=w))

    page = _act(request, create, _("评标活动已创建。"), "/venues/sessions/")
    return redirect("web:venue_session_layout", made[0].public_id) if made else page


def _session_or_page(request: HttpRequest, session_id: str) -> RemoteSession | Page:
    try:
        return selectors.get_session(request.user, session_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


@login_required
def session_layout(request: HttpRequest, session_id: str) -> Page:
    s = _session_or_page(request, session_id)
    if isinstance(s, HttpResponse):
        return s
    state = selectors.session_state(request.user, s, since=s.last_seq)
    free = [c for c in _free_evaluations(request) if Booking.objects.filter(
        public_id=c[0], section_id=s.section_id).exists()]  # fmt: skip
    return render(request, "web/venues/layout.html", {
        "session": s, "venues": state["venues"], "can_book": allowed(request.user, "venues.book"),
        "secondary_form": SecondaryForm(bookings=free), "witness_form": WitnessForm(),
        "expert_form": ExpertForm(), "candidates": _candidates(request),
    })  # fmt: skip


def _candidates(request: HttpRequest) -> list[Any]:
    """Active experts to choose from (the committee, once drawn, is placed through the API)."""
    if not allowed(request.user, "experts.view_private"):
        return []
    return list(experts.pool(request.user, status="active")[:300])


def _on_session_venue(request: HttpRequest, session_id: str, booking_id: str,
                      act: Callable[[SessionVenue], Any], done: str, back: str = "layout") -> Page:  # fmt: skip
    s = _session_or_page(request, session_id)
    if isinstance(s, HttpResponse):
        return s
    try:
        sv = selectors.get_session_venue(s, booking_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    target = (f"/venues/sessions/{s.public_id}/layout/" if back == "layout"
              else f"/venues/sessions/{s.public_id}/venues/{booking_id}/console/")  # fmt: skip
    return _act(request, lambda: act(sv), done, target)


@login_required
@require_POST
def session_add_venue(request: HttpRequest, session_id: str) -> Page:
    s = _session_or_page(request, session_id)
    if isinstance(s, HttpResponse):
        return s
    return _act(request, lambda: sessions.add_secondary_venue(
        actor=request.user, session=s,
        booking=selectors.get_booking(request.user, request.POST.get("booking", "")),
        witness=sessions.witness_account(request.POST.get("witness", ""))),
        _("副场已加入。"), f"/venues/sessions/{s.public_id}/layout/")  # fmt: skip


@login_required
@require_POST
def session_remove_venue(request: HttpRequest, session_id: str, booking_id: str) -> Page:
    return _on_session_venue(request, session_id, booking_id, lambda sv: sessions.remove_secondary_venue(
        actor=request.user, session_venue=sv), _("副场已移除。"))  # fmt: skip


@login_required
@require_POST
def session_witness(request: HttpRequest, session_id: str, booking_id: str) -> Page:
    name = request.POST.get("witness", "")
    return _on_session_venue(request, session_id, booking_id, lambda sv: sessions.assign_witness(
        actor=request.user, session_venue=sv, witness=sessions.witness_account(name)),
        _("见证人已更换。"))  # fmt: skip


def _state_context(request: HttpRequest, s: RemoteSession) -> dict[str, Any]:
    state = selectors.session_state(request.user, s, since=s.last_seq)
    latest = selectors.latest_events(s)
    return {"session": s, "venues": [(sv, placed, latest.get(sv.pk, []))
                                     for sv, placed in state["venues"]]}  # fmt: skip


@never_cache
@login_required
def session_state(request: HttpRequest, session_id: str) -> Page:
    """The state every venue shares; htmx polls the partial, without JavaScript a link
    (and a meta refresh) reloads the page."""
    s = _session_or_page(request, session_id)
    if isinstance(s, HttpResponse):
        return s
    template = "web/venues/_state.html" if is_htmx_partial(request) else "web/venues/state.html"
    return render(request, template, _state_context(request, s))


@never_cache
@login_required
def witness_console(request: HttpRequest, session_id: str, booking_id: str) -> Page:
    s = _session_or_page(request, session_id)
    if isinstance(s, HttpResponse):
        return s
    try:
        sv = selectors.get_session_venue(s, booking_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    placed = [(a.expert.public_id, a.expert.name) for a in selectors.assignments(sv.booking)
              if a.checked_in_at is None]  # fmt: skip
    return render(request, "web/venues/console.html", {
        **_state_context(request, s), "venue": sv,
        "is_witness": allowed(request.user, "venues.record", sv),
        "form": EventForm(experts=placed), "log": selectors.events(s, venue=sv),
        "kinds": EventKind,
    })  # fmt: skip


@login_required
@require_POST
def witness_record(request: HttpRequest, session_id: str, booking_id: str) -> Page:
    kind, ident = request.POST.get("kind", ""), request.POST.get("expert", "")

    def record(sv: SessionVenue) -> None:
        expert = experts.get_expert_for(request.user, ident) if ident else None
        sessions.record_event(actor=request.user, session_venue=sv, kind=kind, expert=expert,
                              digest=request.POST.get("digest", ""),
                              note=request.POST.get("note", ""))  # fmt: skip

    return _on_session_venue(request, session_id, booking_id, record, _("见证记录已保存。"),
                             back="console")  # fmt: skip
