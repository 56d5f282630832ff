"""The fairness API: shapes, and every refusal a 4xx in the one error shape with nothing changed."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from ggzy.accounts.services import issue_token
from ggzy.fairness.models import Finding, Review
from ggzy.ledger.models import Event

BASE = "/api/v1/fairness"


def _call(user, method: str, path: str, body=None, raw: bytes | None = None):  # type: ignore[no-untyped-def]
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(actor=user, name='t')[1]}"
    client = Client()
    if method == "GET":
        return client.get(BASE + path, **headers)
    data = raw if raw is not None else json.dumps(body or {})
    return client.post(BASE + path, data=data, content_type="application/json", **headers)


def _error(response, status: int, code: str | None = None):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    if code:
        assert body["code"] == code
    return body


def test_rules_are_public(world) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(BASE + "/rules")
    assert response.status_code == 200
    rules = response.json()
    assert len(rules) >= 15
    assert set(rules[0]) == {"code", "title", "severity", "source", "source_text", "patterns",
                             "exclude_patterns", "version"}  # fmt: skip
    assert rules[0]["code"] == "F01" and "41号" in rules[0]["source"]


def test_report_before_and_after_a_review(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    intake = users["center_intake"]
    body = _call(intake, "GET", f"/projects/{project.public_id}/review").json()
    assert body["review"] is None and body["findings"] == [] and body["publishable"] is False

    response = _call(intake, "POST", f"/projects/{project.public_id}/review")
    assert response.status_code == 201
    body = response.json()
    assert body["review"]["current"] is True
    assert body["counts"] == {"findings": 1, "blocking": 1, "blocking_open": 1, "warnings": 0}
    [finding] = body["findings"]
    assert finding["rule"] == "F01" and finding["severity"] == "blocking"
    assert finding["clause"] == "投标人须在本市设立分支机构或办事处。"
    assert finding["resolution"] == "open" and "41号" in finding["source"]
    assert body["publishable"] is False and body["may_record_reason"] is True

    response = _call(intake, "POST", f"/findings/{finding['id']}/reason", {"reason": "就近服务"})
    assert response.status_code == 200
    assert response.json()["resolution"] == "reason_recorded"
    body = _call(users["regulator"], "GET", f"/projects/{project.public_id}/review").json()
    assert body["publishable"] is True and body["findings"][0]["reason"] == "就近服务"


def test_the_project_members_see_and_run_their_review(tenderer, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    assert _call(tenderer, "POST", f"/projects/{project.public_id}/review").status_code == 201
    body = _call(tenderer, "GET", f"/projects/{project.public_id}/review").json()
    assert body["may_review"] is True and body["may_record_reason"] is False


def test_anonymous_is_refused(bad_document, project) -> None:  # type: ignore[no-untyped-def]
    before = Event.objects.filter(event_type__startswith="fairness.").count()
    _error(_call(None, "GET", f"/projects/{project.public_id}/review"), 401)
    _error(_call(None, "POST", f"/projects/{project.public_id}/review"), 401)
    _error(_call(None, "POST", "/findings/abc/reason", {"reason": "x"}), 401)
    assert (
        Event.objects.filter(event_type__startswith="fairness.").count() == before
        and not Review.objects.exists()
    )


@pytest.mark.parametrize("role", ["bidder", "tenderer", "agent", "expert"])
def test_strangers_do_not_learn_the_project_exists(users, bad_document, project, role) -> None:  # type: ignore[no-untyped-def]
    for method in ("GET", "POST"):
        _error(_call(users[role], method, f"/projects/{project.public_id}/review"), 404,
               "project_not_found")  # fmt: skip
    assert not Review.objects.exists()


def test_staff_who_may_see_but_not_run_get_403(users, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    _error(_call(users["regulator"], "POST", f"/projects/{project.public_id}/review"), 403)
    assert not Review.objects.exists()


def test_reason_refusals(users, tenderer, bad_document, project) -> None:  # type: ignore[no-untyped-def]
    _call(users["center_intake"], "POST", f"/projects/{project.public_id}/review")
    finding = Finding.objects.get()
    path = f"/findings/{finding.public_id}/reason"
    before = Event.objects.filter(event_type__startswith="fairness.").count()
    _error(_call(tenderer, "POST", path, {"reason": "理由"}), 403)
    _error(_call(users["bidder"], "POST", path, {"reason": "理由"}), 404, "finding_not_found")
    _error(_call(users["center_intake"], "POST", "/findings/nope/reason", {"reason": "x"}), 404,
           "finding_not_found")  # fmt: skip
    intake = users["center_intake"]
    _error(_call(intake, "POST", path, {"reason": "甲" * 100_000}), 422, "validation_error")
    _error(_call(intake, "POST", path, {"reason": ""}), 422)
    _error(_call(intake, "POST", path, {"reason": "a\u0000b"}), 422, "nul_character")
    _error(_call(intake, "POST", path, {"reason": "x", "extra": 1}), 422)
    _error(_call(intake, "POST", path, raw=b"{not json"), 400)
    _error(_call(intake, "POST", path, {"reason": 12}), 422)
    assert Event.objects.filter(event_type__startswith="fairness.").count() == before
    finding.refresh_from_db()
    assert finding.resolution == "open"


@pytest.mark.parametrize("public_id", ["0" * 32, "x" * 5000, "%00", "..%2F..", "本市"])
def test_unknown_projects_are_404(users, world, public_id: str) -> None:  # type: ignore[no-untyped-def]
    response = _call(users["center_intake"], "GET", f"/projects/{public_id}/review")
    assert 400 <= response.status_code < 500
    if response.status_code == 404:
        assert response.json()["code"] in {"project_not_found", "not_found"}
