"""The venues API through HTTP: book, conflict, lay out a session, witness events and the state
a venue polls with ``since``."""

from __future__ import annotations

import pytest

from ggzy.accounts.services import issue_token
from ggzy.ledger.models import Event
from tests.api.support import api_client, assert_error
from tests.venues.world import DIGEST, VenueWorld

pytestmark = pytest.mark.django_db
V = "/api/v1/venues"


def _token(user) -> str:  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


def test_booking_and_its_conflict_over_http(vw: VenueWorld) -> None:
    http, token = api_client(), _token(vw.booker)
    start, end = vw.evaluation_times(vw.main_section)
    body = {"venue": vw.venues["NJ/E1"].pk, "section": vw.main_section.public_id,
            "purpose": "evaluation", "start": start.isoformat(), "end": end.isoformat()}  # fmt: skip
    r = http.call("POST", f"{V}/bookings", body=body, token=token)
    assert r.status_code == 201, r.content
    made = r.json()
    assert (made["state"], made["venue"]["label"], made["session"]) == ("held", "NJ/E1", None)
    # the same slot again: 409 venue_taken with the first booking's times, and nothing changed
    seq = Event.objects.count()
    detail = assert_error(http.call("POST", f"{V}/bookings", body=body, token=token), 409,
                          "venue_taken")["detail"]  # fmt: skip
    assert detail["venue"] == "NJ/E1" and len(detail["conflicts"]) == 1
    assert set(detail["conflicts"][0]) == {"start", "end", "purpose"}
    assert Event.objects.count() == seq
    # the calendar lists it; release frees it
    listed = http.call("GET", f"{V}/bookings", query={"site": "NJ"}, token=token).json()
    assert [b["id"] for b in listed] == [made["id"]]
    r = http.call(
        "POST", f"{V}/bookings/{made['id']}/release", body={"reason": "改期"}, token=token
    )
    assert r.json()["state"] == "released"
    assert http.call("POST", f"{V}/bookings", body=body, token=token).status_code == 201


def test_outside_hours_over_http(vw: VenueWorld) -> None:
    start, _ = vw.evaluation_times(vw.main_section)
    body = {"venue": vw.venues["NJ/E1"].pk, "section": vw.main_section.public_id,
            "purpose": "evaluation", "start": start.replace(hour=18).isoformat(),
            "end": start.replace(hour=20).isoformat()}  # fmt: skip
    r = api_client().call("POST", f"{V}/bookings", body=body, token=_token(vw.booker))
    assert assert_error(r, 422, "outside_working_hours")["detail"]["problem"] == "outside_hours"


def test_a_session_over_http_and_the_state_a_venue_polls(vw: VenueWorld) -> None:
    http, token = api_client(), _token(vw.booker)
    section = vw.section(days=22)
    main_b, sz_b = vw.book("NJ/E1", section), vw.book("SZ/E1", section)
    r = http.call("POST", f"{V}/sessions",
                  body={"booking": main_b.public_id, "witness": vw.witness.username}, token=token)  # fmt: skip
    assert r.status_code == 201, r.content
    sid = r.json()["id"]
    r = http.call("POST", f"{V}/sessions/{sid}/venues",
                  body={"booking": sz_b.public_id, "witness": vw.witnesses[0].username},
                  token=token)  # fmt: skip
    assert [v["role"] for v in r.json()["venues"]] == ["main", "secondary"]
    expert = vw.expert(0)
    r = http.call("POST", f"{V}/bookings/{sz_b.public_id}/experts",
                  body={"expert": expert.public_id}, token=token)  # fmt: skip
    assert [e["expert"] for e in r.json()["experts"]] == [expert.public_id]
    # the main witness opens check-in; the Suzhou witness checks the expert in
    events = f"{V}/sessions/{sid}/venues"
    r = http.call("POST", f"{events}/{main_b.public_id}/events", body={"kind": "check_in_opened"},
                  token=token)  # fmt: skip
    assert (r.status_code, r.json()["seq"]) == (201, 1)
    sz_token = _token(vw.witnesses[0])
    r = http.call("POST", f"{events}/{sz_b.public_id}/events",
                  body={"kind": "check_in", "expert": expert.public_id}, token=sz_token)  # fmt: skip
    assert r.json()["seq"] == 2
    # the Suzhou witness cannot write Nanjing's log
    r = http.call("POST", f"{events}/{main_b.public_id}/events",
                  body={"kind": "incident", "note": "x"}, token=sz_token)  # fmt: skip
    assert_error(r, 403, "forbidden")
    # a venue polls the state with the last seq it saw
    state = http.call("GET", f"{V}/sessions/{sid}/state", query={"since": "1"}, token=sz_token)
    body = state.json()
    assert (body["state"], body["last_seq"]) == ("checking_in", 2)
    assert [(e["seq"], e["kind"], e["venue"]) for e in body["events"]] == [(2, "check_in", "SZ/E1")]
    sz = next(v for v in body["venues"] if v["role"] == "secondary")
    assert sz["experts"][0]["checked_in_at"] is not None and sz["seats"] == 3
    nothing_new = http.call("GET", f"{V}/sessions/{sid}/state", query={"since": "2"},
                            token=sz_token).json()  # fmt: skip
    assert nothing_new["events"] == []
    # a recording stopped needs its file's digest
    for kind in ("recording_started",):
        http.call("POST", f"{events}/{sz_b.public_id}/events", body={"kind": kind}, token=sz_token)
    r = http.call("POST", f"{events}/{sz_b.public_id}/events",
                  body={"kind": "recording_stopped", "digest": DIGEST}, token=sz_token)  # fmt: skip
    assert r.json()["digest"] == DIGEST


def test_strangers_do_not_see_venues(vw: VenueWorld, users) -> None:  # type: ignore[no-untyped-def]
    booking = vw.book("NJ/E1")
    r = api_client().call("GET", f"{V}/bookings/{booking.public_id}", token=_token(users["bidder"]))
    assert_error(r, 404, "booking_not_found")
    r = api_client().call("GET", f"{V}/bookings/{booking.public_id}",
                          token=_token(users["regulator"]))  # fmt: skip
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", f"{V}/bookings?start=9999-12-31T23:00:00-12:00", None),
        ("GET", f"{V}/bookings?end=0001-01-01T00:00:00%2B14:00", None),
        ("POST", f"{V}/bookings", "far"),
    ],
)
def test_dates_at_the_edge_are_refused_not_crashed(vw: VenueWorld, method: str, url: str,
                                                   body: str | None) -> None:  # fmt: skip
    payload = None
    if body:
        payload = {"venue": vw.venues["NJ/E1"].pk, "section": vw.main_section.public_id,
                   "purpose": "evaluation", "start": "9999-12-31T20:00:00-10:00",
                   "end": "9999-12-31T22:00:00-10:00", "override_reason": "x"}  # fmt: skip
    r = api_client().call(method, url, body=payload, token=_token(vw.booker))
    assert_error(r, 422, "date_out_of_range")


def test_the_calendar_tolerates_a_far_week(vw: VenueWorld) -> None:
    from django.test import Client

    c = Client()
    c.force_login(vw.booker)
    assert c.get("/venues/", {"week": "9999-12-31"}).status_code == 200


def test_r62_over_http_is_refused_and_recorded(vw: VenueWorld) -> None:
    booking, expert = vw.assigned()
    opening = vw.book("NJ/H1", booking.section, "opening")
    token = _token(vw.booker)
    seq = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    r = api_client().call("POST", f"{V}/bookings/{opening.public_id}/experts",
                          body={"expert": expert.public_id}, token=token)  # fmt: skip
    assert_error(r, 409, "evaluator_at_opening")
    assert list(Event.objects.filter(seq__gt=seq).values_list("event_type", flat=True)) == [
        "venues.expert_assignment_refused"
    ]
    assert not opening.assignments.exists()
