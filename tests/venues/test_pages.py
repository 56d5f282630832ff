"""The venue pages through the Django test client: calendar, booking form, session layout, the
shared state (htmx partial and its no-JavaScript refresh) and the witness console."""

from __future__ import annotations

import pytest
from django.test import Client

from ggzy.core.clock import CHINA
from ggzy.venues.models import Booking, RemoteSession, SessionVenue, WitnessEvent
from tests.venues.world import VenueWorld

pytestmark = pytest.mark.django_db


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_the_calendar_shows_a_week_of_bookings_per_venue(vw: VenueWorld) -> None:
    booking = vw.book("NJ/E1")
    day = booking.start.astimezone(CHINA).date()
    r = _client(vw.booker).get("/venues/", {"week": day.isoformat(), "site": "NJ"})
    body = r.content.decode()
    assert r.status_code == 200
    assert f"/venues/bookings/{booking.public_id}/" in body and "13:00–17:30" in body
    assert "NJ/H1" in body and "SZ/E1" not in body
    assert "场地与远程评标" in body  # the nav link


def test_strangers_are_refused_the_pages(vw: VenueWorld, users) -> None:  # type: ignore[no-untyped-def]
    c = _client(users["bidder"])
    assert c.get("/venues/").status_code == 403
    booking = vw.book("NJ/E1")
    assert c.get(f"/venues/bookings/{booking.public_id}/").status_code == 404
    assert "场地与远程评标" not in c.get("/").content.decode()


def test_the_booking_form_books_and_shows_a_conflict(vw: VenueWorld) -> None:
    c = _client(vw.booker)
    start, _ = vw.evaluation_times(vw.main_section)
    form = {"venue": vw.venues["NJ/E1"].pk, "section": vw.main_section.public_id,
            "purpose": "evaluation", "day": start.astimezone(CHINA).date().isoformat(),
            "start": "13:00", "end": "15:00"}  # fmt: skip
    assert c.get("/venues/book/").status_code == 200
    r = c.post("/venues/book/", form)
    booking = Booking.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/venues/bookings/{booking.public_id}/"
    r = c.post("/venues/book/", form | {"start": "14:00", "end": "16:00"})
    assert r.status_code == 400
    assert "venue_taken" in r.content.decode() and "13:00–15:00" in r.content.decode()
    r = c.post("/venues/book/", form | {"start": "18:00", "end": "19:00"})
    assert "outside_working_hours" in r.content.decode()
    # release from the booking page
    r = c.post(f"/venues/bookings/{booking.public_id}/release/", {"reason": "改期"})
    assert r.status_code == 302
    booking.refresh_from_db()
    assert booking.state == "released"


def test_a_session_is_laid_out_from_the_pages(vw: VenueWorld) -> None:
    c = _client(vw.booker)
    main_b, sz_b = vw.book("NJ/E1"), vw.book("SZ/E1")
    assert main_b.public_id in c.get("/venues/sessions/").content.decode()
    r = c.post("/venues/sessions/new/", {"booking": main_b.public_id,
                                         "witness": vw.witness.username})  # fmt: skip
    session = RemoteSession.objects.get()
    assert r["Location"] == f"/venues/sessions/{session.public_id}/layout/"
    layout = c.get(r["Location"]).content.decode()
    assert sz_b.public_id in layout  # offered as a secondary venue
    assert f'<option value="{vw.expert(0).public_id}">' in layout  # experts to choose from
    c.post(f"/venues/sessions/{session.public_id}/venues/",
           {"booking": sz_b.public_id, "witness": vw.witnesses[0].username})  # fmt: skip
    assert SessionVenue.objects.filter(session=session).count() == 2
    r = c.post(f"/venues/bookings/{sz_b.public_id}/experts/",
               {"expert": vw.expert(0).public_id,
                "back": f"/venues/sessions/{session.public_id}/layout/"})  # fmt: skip
    assert r["Location"] == f"/venues/sessions/{session.public_id}/layout/"
    assert vw.expert(0).name in c.get(r["Location"]).content.decode()


def test_the_shared_state_page_polls_and_the_witness_console_records(vw: VenueWorld) -> None:
    main = vw.main()
    vw.secondary("SZ/E1", 0)
    s = main.session
    page = _client(vw.booker).get(f"/venues/sessions/{s.public_id}/")
    body = page.content.decode()
    assert 'hx-trigger="every 2s"' in body and "<noscript>" in body and "SZ/E1" in body
    partial = _client(vw.booker).get(f"/venues/sessions/{s.public_id}/", HTTP_HX_REQUEST="true")
    assert partial.content.decode().startswith('<div id="session-state"')
    # the main witness opens check-in from the console
    console = f"/venues/sessions/{s.public_id}/venues/{main.booking.public_id}"
    assert "记录见证事件" in _client(vw.witness).get(f"{console}/console/").content.decode()
    r = _client(vw.witness).post(f"{console}/events/", {"kind": "check_in_opened"})
    assert r.status_code == 302
    s.refresh_from_db()
    assert s.state == "checking_in"
    # the Suzhou witness sees the shared state, but cannot write Nanjing's log
    other = _client(vw.witnesses[0])
    assert "记录见证事件" not in other.get(f"{console}/console/").content.decode()
    assert other.post(f"{console}/events/", {"kind": "incident", "note": "x"}).status_code == 403
    assert WitnessEvent.objects.count() == 1
    # a refusal is shown on the console with its code
    r = _client(vw.witness).post(f"{console}/events/", {"kind": "session_started"}, follow=True)
    assert "recording_required" in r.content.decode()
    assert "签到中" in _client(vw.booker).get(f"/venues/sessions/{s.public_id}/").content.decode()
