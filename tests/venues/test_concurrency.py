"""Two bookers at once (PostgreSQL, two connections): exactly one booking of an overlapping
slot is made — under the venue's row lock in the service, and by the exclusion constraint
``booking_no_overlap`` for anything written around the service."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from ggzy.core.clock import CHINA
from ggzy.core.errors import DomainError
from ggzy.venues.models import Booking
from tests.venues.world import VenueWorld, local

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two server connections"),
]


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread (its own connection), released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                results[n] = calls[n]()
        except Exception as exc:  # the result under test
            results[n] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_a_concurrent_double_booking_is_refused(vw: VenueWorld) -> None:
    vw.venues  # noqa: B018
    section = vw.main_section
    day = section.bid_deadline
    results = _race([
        lambda: vw.book("NJ/E1", section, start=local(day, 13), end=local(day, 16)),
        lambda: vw.book("NJ/E1", section, start=local(day, 14), end=local(day, 17)),
    ])  # fmt: skip
    made = [r for r in results if isinstance(r, Booking)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "venue_taken"
    (conflict,) = refused[0].detail["conflicts"]
    assert (conflict["start"], conflict["end"]) == (made[0].start, made[0].end)
    assert "project" not in conflict  # an evaluation's project stays sealed
    assert Booking.objects.filter(venue=vw.venues["NJ/E1"]).count() == 1


def test_the_exclusion_constraint_refuses_what_bypasses_the_service(vw: VenueWorld) -> None:
    vw.venues  # noqa: B018
    section = vw.main_section
    day = section.bid_deadline
    venue = vw.venues["NJ/E1"]

    def insert(start: int, end: int) -> Booking:
        now = local(day, 8)
        return Booking.objects.create(
            public_id=secrets.token_hex(16), venue=venue, section=section, purpose="evaluation",
            start=local(day, start), end=local(day, end), booked_by=vw.booker,
            created_at=now, updated_at=now,
        )  # fmt: skip

    results = _race([lambda: insert(13, 16), lambda: insert(14, 17)])
    assert sum(isinstance(r, Booking) for r in results) == 1, results
    assert sum(isinstance(r, IntegrityError) for r in results) == 1, results
    # adjacent is fine, and a released booking no longer holds its slot
    kept = Booking.objects.get(venue=venue)
    with transaction.atomic():
        adjacent = insert(kept.end.astimezone(CHINA).hour, 18)
    assert adjacent.start == kept.end
    Booking.objects.filter(pk=kept.pk).update(state="released")
    with transaction.atomic():
        again = insert(13, 15)
    assert again.end - again.start == timedelta(hours=2)
