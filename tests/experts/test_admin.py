"""The taxonomy is edited in the back office by the center admin, through the services."""

from __future__ import annotations

from django.test import Client

from ggzy.accounts.models import User
from ggzy.experts.models import Specialty
from tests.api.support import event_types_since, last_seq


def _staff(user: User) -> Client:
    User.objects.filter(pk=user.pk).update(is_staff=True)
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


def test_center_admin_adds_and_renames_a_specialty(xw):  # type: ignore[no-untyped-def]
    client = _staff(xw.staff)
    seq = last_seq()
    r = client.post("/admin/experts/specialty/add/",
                    {"code": "A01.09", "name": "幕墙", "is_works": "on", "active": "on"})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    row = Specialty.objects.get(code="A01.09")
    assert row.parent.code == "A01"
    r = client.post(f"/admin/experts/specialty/{row.pk}/change/",
                    {"name": "建筑幕墙", "is_works": "on", "active": "on",
                     "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"})  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    row.refresh_from_db()
    assert (row.name, row.version) == ("建筑幕墙", 2)
    assert event_types_since(seq) == ["experts.specialty_created", "experts.specialty_changed"]


def test_other_staff_only_read_it(xw, users):  # type: ignore[no-untyped-def]
    client = _staff(users["center_operations"])
    assert client.get("/admin/experts/specialty/").status_code == 200
    assert client.get("/admin/experts/specialty/add/").status_code == 403
