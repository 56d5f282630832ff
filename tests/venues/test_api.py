"""The venues API through HTTP: book, conflict, lay out a session, witness events and the state
a venue polls with ``since``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ggzy.accounts.services import issue_token
from ggzy.ledger.models import Event
from ggzy.venues import sessions
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


def _queries(http, url: str, token: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        r = http.call("GET", url, token=token)
        assert r.status_code == 200, r.content
    return len(ctx.captured_queries)


def test_the_booking_list_costs_the_same_queries_for_more_rows(vw: VenueWorld) -> None:
    # given one booking in a session with an expert, read once (the token is warm)
    http, token = api_client(), _token(vw.booker)
    vw.assigned()
    _queries(http, f"{V}/bookings", token)
    few = _queries(http, f"{V}/bookings", token)
    # when five more bookings are made
    for n in range(5):
        vw.book("NJ/E1", vw.section(days=30 + n), override_reason="加班")
    # then the list needs no more queries
    assert _queries(http, f"{V}/bookings", token) == few


def test_the_session_list_costs_the_same_queries_for_more_rows(vw: VenueWorld) -> None:
    # given one session, read once (the token is warm)
    http, token = api_client(), _token(vw.booker)
    vw.assigned()
    _queries(http, f"{V}/sessions", token)
    few = _queries(http, f"{V}/sessions", token)
    # when four more sessions are laid out
    for n in range(4):
        booking = vw.book("NJ/E1", vw.section(days=40 + n), override_reason="加班")
        sessions.create_session(actor=vw.booker, booking=booking, witness=vw.witness)
    # then the list needs no more queries
    assert _queries(http, f"{V}/sessions", token) == few


def test_an_evaluation_booking_keeps_its_section_sealed_in_the_calendar(
    vw: VenueWorld,
    users,  # type: ignore[no-untyped-def]
) -> None:
    # given an evaluation booking (sealed, R17: venue_taken names no section either)
    section = vw.section()
    vw.book("NJ/E1", section, override_reason="加班")
    url = f"{V}/bookings?section={section.public_id}"
    # when the booker reads it by its section / then the row names no section nor project
    rows = api_client().call("GET", url, token=_token(vw.booker)).json()
    assert len(rows) == 1 and rows[0]["section"] is None and rows[0]["project"] is None
    # and whoever may not book does not find it by its section at all
    assert api_client().call("GET", url, token=_token(users["center_intake"])).json() == []


def test_placed_experts_stay_sealed_until_the_session_starts(vw: VenueWorld, users) -> None:  # type: ignore[no-untyped-def]
    # given an expert placed at the main venue of a scheduled session
    booking, expert = vw.assigned()
    session = vw.session()
    http = api_client()
    urls = [f"{V}/bookings/{booking.public_id}", f"{V}/sessions/{session.public_id}/state",
            f"{V}/sessions", f"{V}/bookings"]  # fmt: skip

    def seen(user) -> list[str]:  # type: ignore[no-untyped-def]
        bodies = [http.call("GET", u, token=_token(user)).content.decode() for u in urls]
        return [u for u, b in zip(urls, bodies, strict=True) if expert.public_id in b]

    # when center staff who do not book read the layout / then no expert is named
    assert seen(users["center_intake"]) == []
    # but the organizing desk and the venue's witness see who is placed
    assert seen(vw.booker) == urls
    assert f"{V}/sessions/{session.public_id}/state" in seen(vw.witness)
