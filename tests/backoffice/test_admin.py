"""The back office follows the platform roles; rows change only through services."""

from __future__ import annotations

import pytest
from django.test import Client

from ggzy.core.models import CalendarDay
from ggzy.ledger.models import Event
from ggzy.registry.models import Entity
from tests.api.support import register

pytestmark = pytest.mark.django_db


def _staff_client(user) -> Client:  # type: ignore[no-untyped-def]
    type(user).objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "role", ["center_intake", "center_operations", "center_archive", "center_admin"]
)
def test_center_staff_read_the_registry_and_the_ledger(users, region, role) -> None:  # type: ignore[no-untyped-def]
    entity = register(users["bidder"], 1)
    client = _staff_client(users[role])
    for url in (
        "/admin/registry/entity/",
        f"/admin/registry/entity/{entity.pk}/change/",
        "/admin/ledger/event/",
        "/admin/core/calendarday/",
    ):
        assert client.get(url).status_code == 200, url
    # Viewing is not changing: a POST to the entity page is refused and nothing moves.
    before = (Event.objects.count(), Entity.objects.get().name)
    assert (
        client.post(f"/admin/registry/entity/{entity.pk}/change/", {"name": "x"}).status_code == 403
    )
    assert (Event.objects.count(), Entity.objects.get().name) == before


@pytest.mark.parametrize("role", ["bidder", "regulator", "expert"])
def test_others_have_no_back_office(users, role) -> None:  # type: ignore[no-untyped-def]
    client = _staff_client(users[role])  # even if someone ticked is_staff
    assert client.get("/admin/registry/entity/").status_code == 403


def test_calendar_edits_in_the_back_office_go_through_the_service(users) -> None:  # type: ignore[no-untyped-def]
    before = Event.objects.count()
    intake = _staff_client(users["center_intake"])
    form = {"day": "2026-12-31", "is_working_day": "", "name": "跨年"}
    assert intake.post("/admin/core/calendarday/add/", form).status_code == 403
    admin = _staff_client(users["center_admin"])
    assert admin.post("/admin/core/calendarday/add/", form).status_code == 302
    assert CalendarDay.objects.get().name == "跨年"
    assert Event.objects.count() == before + 1
