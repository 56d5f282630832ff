"""The expert-pool pages: apply, approve, the pool, a record's status actions, the import with
its row-level report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ggzy.experts.models import Expert
from tests.conftest import make_user
from tests.experts import xlsx


def _client(user):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_apply_then_approve_through_the_pages(xw):  # type: ignore[no-untyped-def]
    expert_page = _client(xw.owner)
    assert "申请入库" in expert_page.get("/experts/me/").content.decode()
    data = xw.data()
    form = {"name": data.name, "resident_id": data.resident_id, "phone": data.phone,
            "title_level": "associate_senior", "title_name": "高级工程师", "years_in_field": "12",
            "employer": xw.employer.uscc, "region": "320100", "primary_specialty": "A01.01",
            "other_specialties": ["A02"]}  # fmt: skip
    r = expert_page.post("/experts/me/apply/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    expert = Expert.objects.get(user=xw.owner)
    staff = _client(xw.staff)
    assert expert.name in staff.get("/staff/experts/queue/").content.decode()
    assert staff.post(f"/staff/experts/{expert.public_id}/approve/").status_code == 302
    expert.refresh_from_db()
    assert expert.status == "active"
    page = staff.get("/staff/experts/", {"specialty": "A01", "status": "active"}).content.decode()
    assert expert.name in page
    r = staff.post(f"/staff/experts/{expert.public_id}/suspend/",
                   {"suspend-reason": "违规", "suspend-until": "2027-01-01"})  # fmt: skip
    assert r.status_code == 302
    expert.refresh_from_db()
    assert expert.status == "suspended"
    assert "违规" in expert_page.get("/experts/me/").content.decode()


def test_an_ineligible_application_is_refused_on_approval(xw):  # type: ignore[no-untyped-def]
    expert = xw.pending(years_in_field=3)
    staff = _client(xw.staff)
    r = staff.post(f"/staff/experts/{expert.public_id}/approve/", follow=True)
    assert "R20" in r.content.decode()
    expert.refresh_from_db()
    assert expert.status == "pending"


def test_a_bad_apply_form_shows_the_refusal(xw):  # type: ignore[no-untyped-def]
    form = {"name": "张三", "resident_id": "320102197001010010", "phone": "13900000000",
            "title_level": "senior", "title_name": "教授", "years_in_field": "20",
            "employer": xw.employer.uscc, "region": "320100", "primary_specialty": "A01.01"}  # fmt: skip
    r = _client(xw.owner).post("/experts/me/apply/", form)
    assert r.status_code == 400 and "校验位" in r.content.decode()
    assert not Expert.objects.exists()


def test_import_page_shows_the_report_and_offers_it_as_xlsx(xw):  # type: ignore[no-untyped-def]
    staff = _client(xw.staff)
    bad = xlsx.workbook([xlsx.row(xw.employer.uscc, primary_specialty="Z99")])
    r = staff.post("/staff/experts/import/", {"file": SimpleUploadedFile("a.xlsx", bad)})
    assert r.status_code == 400 and "unknown_specialty" in r.content.decode()
    report = staff.get("/staff/experts/import/report.xlsx")
    assert report.status_code == 200 and report.content.startswith(b"PK")
    r = staff.post("/staff/experts/import/", {"file": SimpleUploadedFile("a.pdf", b"%PDF")})
    assert r.status_code == 400 and "xlsx" in r.content.decode()
    good = xlsx.workbook([xlsx.row(xw.employer.uscc)])
    assert staff.post("/staff/experts/import/",
                      {"file": SimpleUploadedFile("a.xlsx", good)}).status_code == 302  # fmt: skip
    assert Expert.objects.count() == 1
    assert staff.get("/staff/experts/export.xlsx").content.startswith(b"PK")


@pytest.mark.parametrize("who", ["bidder", "tenderer", "expert"])
def test_staff_pages_are_closed_to_others(xw, users, who):  # type: ignore[no-untyped-def]
    client = _client(users[who])
    for url in ("/staff/experts/", "/staff/experts/queue/", "/staff/experts/import/",
                "/staff/experts/export.xlsx"):  # fmt: skip
        assert client.get(url).status_code == 403
    assert _client(users["bidder"]).get("/experts/me/").status_code == 403


def _queue_page_queries(xw, applications: int) -> int:  # type: ignore[no-untyped-def]
    for i in range(applications):
        xw.pending(owner=make_user(f"queue{applications}_{i}", "expert"))
    client = _client(xw.staff)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/staff/experts/queue/").status_code == 200
    Expert.objects.filter(status="pending").delete()
    return len(ctx.captured_queries)


def test_the_approval_queue_page_makes_no_query_per_application(xw):  # type: ignore[no-untyped-def]
    # given 2, then 6 applications waiting
    # when staff open the approval queue
    # then the page makes as many queries for 6 as for 2 (specialties are prefetched)
    assert _queue_page_queries(xw, 2) == _queue_page_queries(xw, 6)
