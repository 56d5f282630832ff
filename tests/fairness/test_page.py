"""The report page: staff and the project's members see it; strangers get 404, anonymous users
are sent to sign in; center intake records a reason with a plain CSRF-checked form."""

from __future__ import annotations

import pytest
from django.test import Client

from ggzy.fairness import services
from ggzy.fairness.models import Finding, Review


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _url(project) -> str:  # type: ignore[no-untyped-def]
    return f"/projects/{project.public_id}/fairness/"


@pytest.mark.parametrize("role", ["center_intake", "center_operations", "regulator", "auditor"])
def test_staff_see_the_report(users, bad_document, project, role) -> None:  # type: ignore[no-untyped-def]
    services.review_project(actor=users["center_intake"], project=project)
    response = _client(users[role]).get(_url(project))
    assert response.status_code == 200
    page = response.content.decode()
    assert "公平竞争审查报告" in page and "投标人须在本市设立分支机构或办事处。" in page
    assert "国办函〔2019〕41号" in page
    assert ('name="reason"' in page) is (role == "center_intake")


def test_the_tenderer_sees_its_report_and_may_review(tenderer, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    client = _client(tenderer)
    assert "尚未进行公平竞争审查" in client.get(_url(project)).content.decode()
    response = client.post(_url(project), {"action": "review"})
    assert response.status_code == 302
    assert Review.objects.filter(project=project).count() == 1
    assert 'name="reason"' not in client.get(_url(project)).content.decode()


@pytest.mark.parametrize("role", ["bidder", "tenderer", "agent", "expert"])
def test_strangers_get_404(users, bad_document, project, role) -> None:  # type: ignore[no-untyped-def]
    client = _client(users[role])
    assert client.get(_url(project)).status_code == 404
    assert client.post(_url(project), {"action": "review"}).status_code == 404
    assert not Review.objects.exists()


def test_anonymous_is_sent_to_sign_in(bad_document, project) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(_url(project))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_project_is_404(users, world) -> None:  # type: ignore[no-untyped-def]
    assert _client(users["center_intake"]).get("/projects/nope/fairness/").status_code == 404


def test_intake_records_a_reason(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    services.review_project(actor=users["center_intake"], project=project)
    finding = Finding.objects.get()
    client = _client(users["center_intake"])
    response = client.post(_url(project), {"action": "reason", "finding": finding.public_id,
                                           "reason": "驻场服务须就近设点。"})  # fmt: skip
    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.resolution == "reason_recorded" and finding.reason == "驻场服务须就近设点。"
    assert "可以发布" in client.get(_url(project)).content.decode()


def test_a_tenderer_cannot_record_a_reason(tenderer, users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    services.review_project(actor=users["center_intake"], project=project)
    finding = Finding.objects.get()
    response = _client(tenderer).post(_url(project), {"action": "reason",
                                                      "finding": finding.public_id, "reason": "x"})  # fmt: skip
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.resolution == "open"


def test_bad_reason_shows_a_message_and_changes_nothing(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    services.review_project(actor=users["center_intake"], project=project)
    finding = Finding.objects.get()
    client = _client(users["center_intake"])
    response = client.post(_url(project), {"action": "reason", "finding": finding.public_id,
                                           "reason": "甲" * 5000}, follow=True)  # fmt: skip
    assert response.status_code == 200 and "too_long" in response.content.decode()
    finding.refresh_from_db()
    assert finding.resolution == "open"


def test_the_form_is_csrf_checked(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["center_intake"])
    assert client.post(_url(project), {"action": "review"}).status_code == 403
    assert not Review.objects.exists()
