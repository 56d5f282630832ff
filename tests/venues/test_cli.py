"""``ggzy venues``: through the services; a refusal is one line ``[code] message``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ggzy.venues.models import Booking
from tests.venues.world import VenueWorld

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("venues", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_list_book_release_and_sessions(vw: VenueWorld) -> None:
    listed = run("list", "--site", "NJ").splitlines()
    assert [line.split()[0] for line in listed] == ["NJ/E1", "NJ/E2", "NJ/H1"]
    start, end = vw.evaluation_times(vw.main_section)
    line = run("book", "NJ/E1", "--section", vw.main_section.public_id, "--purpose",
               "evaluation", "--start", start.isoformat(), "--end", end.isoformat(),
               "--as", vw.booker.username)  # fmt: skip
    booking = Booking.objects.get()
    assert booking.public_id in line and "held" in line
    day = start.date().isoformat()
    assert booking.public_id in run("bookings", "--site", "NJ", "--from", day)
    # the same slot again: one line with its code
    with pytest.raises(CommandError, match=r"^\[venue_taken\]"):
        run("book", "NJ/E1", "--section", vw.main_section.public_id, "--purpose", "evaluation",
            "--start", start.isoformat(), "--end", end.isoformat(), "--as", vw.booker.username)  # fmt: skip
    assert "released" in run("release", booking.public_id, "--reason", "改期", "--as",
                             vw.booker.username)  # fmt: skip
    vw.secondary("SZ/E1")
    (session,) = [json.loads(x) for x in run("sessions", "--json").splitlines()]
    assert [v["venue"] for v in session["venues"]] == ["NJ/E1", "SZ/E1"]
    assert "scheduled" in run("sessions", "--state", "scheduled")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["book", "XX/E1", "--section", "x", "--purpose", "opening", "--start", "x", "--end",
          "x", "--as", "u_center_operations"], "section_not_found"),
        (["release", "nope", "--as", "u_center_operations"], "booking_not_found"),
        (["release", "nope", "--as", "nobody"], "user_not_found"),
        (["bookings", "--from", "2026-02-30"], "bad_date"),
    ],
)  # fmt: skip
def test_refusals_are_one_line(vw: VenueWorld, args: list[str], code: str) -> None:
    with pytest.raises(CommandError, match=rf"^\[{code}\]"):
        run(*args)


def test_a_naive_time_is_refused(vw: VenueWorld) -> None:
    with pytest.raises(CommandError, match=r"^\[naive_datetime\]"):
        run("book", "NJ/E1", "--section", vw.main_section.public_id, "--purpose", "evaluation",
            "--start", "2026-12-14T13:00", "--end", "2026-12-14T15:00", "--as", "u_center_operations")  # fmt: skip
    with pytest.raises(CommandError, match=r"^\[forbidden\]"):
        start, end = vw.evaluation_times(vw.main_section)
        run("book", "NJ/E1", "--section", vw.main_section.public_id, "--purpose", "evaluation",
            "--start", start.isoformat(), "--end", end.isoformat(), "--as", "u_bidder")  # fmt: skip
