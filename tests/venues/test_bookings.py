"""Bookings: conflict-free per venue (adjacent fine, overlaps refused with the other booking's
times, a released slot free again), inside the working calendar unless overridden with a
reason, the right kind of venue with video recording (R62), for a bookable section."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from ggzy.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from ggzy.core.models import CalendarDay
from ggzy.ledger.models import Event
from ggzy.venues import services
from ggzy.venues.models import Booking
from tests.venues.world import VenueWorld, local

pytestmark = pytest.mark.django_db


def _refused(exc: type[DomainError], code: str, call) -> DomainError:  # type: ignore[no-untyped-def]
    bookings, events = Booking.objects.count(), Event.objects.count()
    with pytest.raises(exc) as info:
        call()
    assert info.value.code == code, info.value.as_dict()
    assert (Booking.objects.count(), Event.objects.count()) == (bookings, events)
    return info.value


def test_a_booking_is_held_with_its_ledger_event(vw: VenueWorld) -> None:
    booking = vw.book("NJ/H1", purpose="opening")
    assert (booking.state, booking.purpose, booking.venue.label) == ("held", "opening", "NJ/H1")
    event = Event.objects.order_by("-seq").first()
    assert event is not None
    assert (event.event_type, event.subject) == (
        "venues.booking_held",
        f"booking:{booking.public_id}",
    )


def test_adjacent_bookings_are_allowed_and_overlaps_refused(vw: VenueWorld) -> None:
    section = vw.main_section
    day = section.bid_deadline
    first = vw.book("NJ/E1", start=local(day, 13), end=local(day, 15))
    # when a second booking starts exactly when the first ends / then it is accepted
    second = vw.book("NJ/E1", start=local(day, 15), end=local(day, 17))
    assert second.state == "held"
    # when a third overlaps both / then venue_taken names both bookings' times
    exc = _refused(Conflict, "venue_taken", lambda: vw.book(
        "NJ/E1", start=local(day, 14), end=local(day, 16)))  # fmt: skip
    assert exc.detail["venue"] == "NJ/E1"
    assert [(c["start"], c["end"]) for c in exc.detail["conflicts"]] == [
        (first.start, first.end),
        (second.start, second.end),
    ]
    # an evaluation's project is sealed: the detail says when, never for what
    assert all(set(c) == {"start", "end", "purpose"} for c in exc.detail["conflicts"])


def test_an_opening_of_a_published_project_names_its_project(vw: VenueWorld) -> None:
    held = vw.book("NJ/H1", purpose="opening")
    exc = _refused(Conflict, "venue_taken", lambda: vw.book("NJ/H1", purpose="opening"))
    (conflict,) = exc.detail["conflicts"]
    assert conflict["section"] == held.section.public_id
    assert conflict["project"] == held.section.project.name


def test_a_released_booking_frees_its_slot(vw: VenueWorld) -> None:
    first = vw.book("NJ/E1")
    _refused(Conflict, "venue_taken", lambda: vw.book("NJ/E1"))
    services.release_booking(actor=vw.booker, booking=first, reason="改期")
    again = vw.book("NJ/E1")
    assert again.state == "held"
    # and a released booking stays released
    _refused(Conflict, "bad_booking_state",
             lambda: services.confirm_booking(actor=vw.booker, booking=first))  # fmt: skip


def test_a_cancelled_booking_frees_its_slot_too(vw: VenueWorld) -> None:
    first = services.confirm_booking(actor=vw.booker, booking=vw.book("NJ/E1"))
    assert first.state == "confirmed"
    _refused(ValidationFailed, "reason_required",
             lambda: services.cancel_booking(actor=vw.booker, booking=first, reason=" "))  # fmt: skip
    services.cancel_booking(actor=vw.booker, booking=first, reason="设备检修")
    assert vw.book("NJ/E1").state == "held"


def test_other_venues_are_independent(vw: VenueWorld) -> None:
    vw.book("NJ/E1")
    assert vw.book("SZ/E1").venue.label == "SZ/E1"


def test_outside_working_hours_needs_a_reason(vw: VenueWorld) -> None:
    day = vw.main_section.bid_deadline
    late = {"start": local(day, 17), "end": local(day, 19)}
    exc = _refused(ValidationFailed, "outside_working_hours", lambda: vw.book("NJ/E1", **late))
    assert exc.detail["problem"] == "outside_hours"
    booking = vw.book("NJ/E1", override_reason="评标延时，经中心负责人同意", **late)
    assert booking.override_reason == "评标延时，经中心负责人同意"
    event = Event.objects.order_by("-seq").first()
    assert event is not None and "评标延时" in event.payload


def test_a_holiday_is_not_a_working_day(vw: VenueWorld) -> None:
    day = vw.main_section.bid_deadline
    CalendarDay.objects.create(day=(day + timedelta(days=1)).date(), is_working_day=False,
                               name="临时休息日")  # fmt: skip
    nxt = day + timedelta(days=1)
    exc = _refused(ValidationFailed, "outside_working_hours", lambda: vw.book(
        "NJ/E1", start=local(nxt, 9), end=local(nxt, 11)))  # fmt: skip
    assert exc.detail["problem"] == "not_a_working_day"


@pytest.mark.parametrize(
    ("venue", "purpose", "code"),
    [
        ("NJ/E1", "opening", "venue_kind_mismatch"),
        ("NJ/H1", "evaluation", "venue_kind_mismatch"),
        ("NJ/E2", "evaluation", "no_video_recording"),  # R62
    ],
)
def test_the_venue_must_fit_the_purpose(vw: VenueWorld, venue: str, purpose: str,
                                        code: str) -> None:  # fmt: skip
    _refused(ValidationFailed, code, lambda: vw.book(venue, purpose=purpose))


def test_a_closed_venue_takes_no_booking_and_cannot_close_with_bookings(vw: VenueWorld) -> None:
    vw.book("NJ/E1")
    venue = vw.venues["NJ/E1"]
    _refused(Conflict, "venue_has_bookings", lambda: services.update_venue(
        actor=vw.admin, venue=venue, changes={"status": "closed"}))  # fmt: skip
    services.update_venue(actor=vw.admin, venue=vw.venues["SZ/E1"], changes={"status": "closed"})
    vw.venues["SZ/E1"].refresh_from_db()
    _refused(Conflict, "venue_closed", lambda: vw.book("SZ/E1"))


def test_a_site_with_live_bookings_ahead_is_not_deactivated(vw: VenueWorld) -> None:
    # given a live booking ahead at one of the site's venues
    vw.book("NJ/E1")
    site = vw.venues["NJ/E1"].site
    # when the center admin deactivates the whole site / then it is refused, as for a venue
    _refused(Conflict, "site_has_bookings", lambda: services.update_site(
        actor=vw.admin, site=site, changes={"active": False}))  # fmt: skip
    site.refresh_from_db()
    assert site.active
    # and a site with nothing ahead closes
    other = vw.venues["SZ/E1"].site
    services.update_site(actor=vw.admin, site=other, changes={"active": False})
    other.refresh_from_db()
    assert not other.active


def test_times_are_checked_against_the_section(vw: VenueWorld) -> None:
    section = vw.main_section
    day = section.bid_deadline
    _refused(ValidationFailed, "opening_time_mismatch", lambda: vw.book(
        "NJ/H1", purpose="opening", start=local(day, 10), end=local(day, 11)))  # fmt: skip
    _refused(ValidationFailed, "evaluation_before_opening", lambda: vw.book(
        "NJ/E1", start=local(day, 8, 30), end=local(day, 9, 30)))  # fmt: skip


def test_bad_periods_are_refused(vw: VenueWorld) -> None:
    day = vw.main_section.bid_deadline
    _refused(ValidationFailed, "bad_period", lambda: vw.book(
        "NJ/E1", start=local(day, 15), end=local(day, 14)))  # fmt: skip
    _refused(ValidationFailed, "booking_too_long", lambda: vw.book(
        "NJ/E1", start=local(day, 13), end=local(day + timedelta(days=8), 13),
        override_reason="x"))  # fmt: skip
    now = vw.main_section.project.published_at
    assert now is not None
    _refused(ValidationFailed, "booking_in_past", lambda: vw.book(
        "NJ/E1", start=now - timedelta(hours=2), end=now - timedelta(hours=1),
        override_reason="x"))  # fmt: skip


def test_an_unaccepted_section_is_not_bookable(vw: VenueWorld) -> None:
    from ggzy.tendering import services as tendering
    from tests.bidding.world import project_terms

    vw.venues  # noqa: B018 - made before the count
    project = tendering.register_project(actor=vw.tenderer, tenderer=vw.tenderer_entity,
                                         terms=project_terms())  # fmt: skip
    draft = project.sections.get()
    _refused(Conflict, "section_not_bookable", lambda: vw.book("NJ/E1", draft, start=local(
        vw.main_section.bid_deadline, 13), end=local(vw.main_section.bid_deadline, 15)))  # fmt: skip


def test_an_accepted_unpublished_section_is_bookable_and_sealed(vw: VenueWorld) -> None:
    section = vw.section(publish=False)
    day = vw.main_section.bid_deadline
    vw.book("NJ/H1", section, "opening", start=local(day, 14), end=local(day, 15))
    exc = _refused(Conflict, "venue_taken", lambda: vw.book(
        "NJ/H1", section, "opening", start=local(day, 14), end=local(day, 16)))  # fmt: skip
    assert "project" not in exc.detail["conflicts"][0]


@pytest.mark.parametrize("who", ["bidder", "center_admin", "regulator", "expert"])
def test_only_the_organizing_desk_books(vw: VenueWorld, users, who: str) -> None:  # type: ignore[no-untyped-def]
    section, venue = vw.main_section, vw.venues["NJ/E1"]
    start, end = vw.evaluation_times(section)
    _refused(PermissionDenied, "forbidden", lambda: services.book_venue(
        actor=users[who], venue=venue, section=section, purpose="evaluation", start=start,
        end=end))  # fmt: skip


def test_sites_and_venues_are_kept_by_the_center_admin(vw: VenueWorld, users) -> None:  # type: ignore[no-untyped-def]
    site = vw.sites["NJ"]
    _refused(PermissionDenied, "forbidden", lambda: services.create_venue(
        actor=users["center_operations"], site=site, code="E9", name="x", kind="evaluation_room",
        capacity=5))  # fmt: skip
    _refused(Conflict, "venue_exists", lambda: services.create_venue(
        actor=vw.admin, site=site, code="E1", name="x", kind="evaluation_room", capacity=5))  # fmt: skip
    _refused(ValidationFailed, "bad_capacity", lambda: services.create_venue(
        actor=vw.admin, site=site, code="E9", name="x", kind="evaluation_room", capacity=0))  # fmt: skip
    _refused(Conflict, "site_exists", lambda: services.create_site(
        actor=vw.admin, code="nj", name="x", region=site.region, address="x"))  # fmt: skip
    changed = services.update_venue(actor=vw.admin, venue=vw.venues["NJ/E1"],
                                    changes={"capacity": 12})  # fmt: skip
    assert (changed.capacity, changed.version) == (12, 2)


def test_random_bookings_never_overlap_and_every_refusal_is_a_real_overlap(vw: VenueWorld) -> None:
    import random

    rng = random.Random(62)
    day = vw.main_section.bid_deadline
    made: list[Booking] = []
    for _n in range(40):
        start_q = rng.randrange(52, 70)  # quarter hours from 13:00 to 17:30
        length = rng.randrange(1, 6)
        end_q = min(start_q + length, 70)
        start = local(day, start_q // 4, start_q % 4 * 15)
        end = local(day, end_q // 4, end_q % 4 * 15)
        if end <= start:
            continue
        overlapping = [b for b in made if b.start < end and start < b.end]
        try:
            made.append(vw.book("NJ/E1", start=start, end=end))
            assert not overlapping
        except Conflict as exc:
            assert exc.code == "venue_taken" and overlapping
            assert {(c["start"], c["end"]) for c in exc.detail["conflicts"]} == {
                (b.start, b.end) for b in overlapping
            }
        if made and rng.random() < 0.2:  # give a slot back now and then
            services.release_booking(actor=vw.booker, booking=made.pop(rng.randrange(len(made))))
    live = sorted(Booking.objects.filter(state="held"), key=lambda b: b.start)
    assert sorted(b.pk for b in live) == sorted(b.pk for b in made)
    assert all(a.end <= b.start for a, b in itertools.pairwise(live))
