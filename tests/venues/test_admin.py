"""Sites and venues are kept in the back office by the center admin, through the services;
other staff only read; bookings and sessions are read-only there."""

from __future__ import annotations

import pytest
from django.test import Client

from ggzy.accounts.models import User
from ggzy.venues.models import Venue
from tests.api.support import event_types_since, last_seq
from tests.venues.world import VenueWorld

pytestmark = pytest.mark.django_db


def _staff(user: User) -> Client:
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


def test_center_admin_adds_and_changes_a_venue(vw: VenueWorld) -> None:
    client = _staff(vw.admin)
    seq = last_seq()
    r = client.post("/admin/venues/venue/add/", {
        "site": vw.sites["NJ"].pk, "code": "E5", "name": "第五评标室", "kind": "evaluation_room",
        "capacity": "7", "video_recording": "on", "status": "active"})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    venue = Venue.objects.get(site=vw.sites["NJ"], code="E5")
    r = client.post(f"/admin/venues/venue/{venue.pk}/change/", {
        "name": "第五评标室", "capacity": "11", "video_recording": "on", "remote_link": "on",
        "status": "active"})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    venue.refresh_from_db()
    assert (venue.capacity, venue.remote_link, venue.version) == (11, True, 2)
    assert event_types_since(seq) == ["venues.venue_created", "venues.venue_changed"]


def test_other_staff_only_read_it(vw: VenueWorld, users) -> None:  # type: ignore[no-untyped-def]
    client = _staff(users["center_operations"])
    assert client.get("/admin/venues/venue/").status_code == 200
    assert client.get("/admin/venues/venue/add/").status_code == 403
    assert client.get("/admin/venues/booking/add/").status_code == 403
