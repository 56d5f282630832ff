"""The alert inbox: raising is idempotent and reopens on new evidence; the regulators' work
(assign, annotate, dismiss, escalate, reopen) through the services, the API, the pages and the
CLI; who may do what; the thresholds and their refusals."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from ggzy.accounts.roles import Role
from ggzy.core.errors import Conflict, PermissionDenied, ValidationFailed
from ggzy.ledger.models import Event
from ggzy.supervision import services, thresholds
from ggzy.supervision.models import Alert, AlertKind, AlertStatus, NoteKind
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db: Any) -> dict[str, Any]:
    return {
        "regulator": make_user("reg1", Role.REGULATOR),
        "inspector": make_user("insp1", Role.INSPECTOR),
        "auditor": make_user("aud1", Role.AUDITOR),
        "center": make_user("ops1", Role.CENTER_OPERATIONS),
        "bidder": make_user("bid1", Role.BIDDER),
    }


def _raise(evidence: dict[str, Any] | None = None) -> tuple[Alert, bool, bool]:
    return services.raise_alert(kind=AlertKind.SCREENS, code="SCREENS", key="screens:test",
                                title="测试预警", evidence=evidence or {"cv": 0.01}, score=80.0)  # fmt: skip


def test_raising_the_same_evidence_twice_raises_once() -> None:
    alert, new, changed = _raise()
    assert (new, changed) == (True, True)
    again, new, changed = _raise()
    assert again.pk == alert.pk and (new, changed) == (False, False)
    assert Alert.objects.count() == 1
    assert Event.objects.filter(event_type="supervision.alert_raised").count() == 1


def test_new_evidence_reopens_a_dismissed_alert_but_not_an_escalated_one(staff: Any) -> None:
    alert, *_ = _raise()
    services.dismiss(actor=staff["regulator"], alert=alert, reason="报价差异有合理解释")
    alert, new, changed = _raise({"cv": 0.005})
    assert (new, changed) == (False, True)
    assert alert.status == AlertStatus.OPEN and alert.closed_at is None
    assert [n.kind for n in alert.notes.all()][-1] == NoteKind.REOPEN
    services.escalate(actor=staff["regulator"], alert=alert, target="complaint", text="立案调查")
    alert, *_ = _raise({"cv": 0.004})
    assert alert.status == AlertStatus.ESCALATED


def test_the_ledger_event_carries_no_evidence() -> None:
    _raise({"bids": [{"uscc": "91320100MA1234567X", "price": "1.00"}]})
    event = Event.objects.get(event_type="supervision.alert_raised")
    assert "91320100MA1234567X" not in event.payload


def test_work_on_an_alert(staff: Any) -> None:
    alert, *_ = _raise()
    services.assign(actor=staff["regulator"], alert=alert, assignee=staff["inspector"])
    services.annotate(actor=staff["inspector"], alert=alert, text="已调取投标文件")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ASSIGNED and alert.assignee == staff["inspector"]
    services.dismiss(actor=staff["inspector"], alert=alert, reason="经核查为正常竞争")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED and alert.outcome == "经核查为正常竞争"
    with pytest.raises(Conflict):  # closed: reopen first
        services.dismiss(actor=staff["inspector"], alert=alert, reason="再次")
    services.reopen(actor=staff["regulator"], alert=alert, reason="发现新线索")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ASSIGNED  # back to its assignee
    kinds = [n.kind for n in alert.notes.all()]
    assert kinds == [NoteKind.RAISED, NoteKind.ASSIGN, NoteKind.NOTE, NoteKind.DISMISS,
                     NoteKind.REOPEN]  # fmt: skip


@pytest.mark.parametrize("who", ["auditor", "center", "bidder"])
def test_only_regulators_and_inspectors_work_alerts(staff: Any, who: str) -> None:
    alert, *_ = _raise()
    with pytest.raises(PermissionDenied):
        services.dismiss(actor=staff[who], alert=alert, reason="x")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_refusals_change_nothing(staff: Any) -> None:
    alert, *_ = _raise()
    seq = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    for call in (
        lambda: services.dismiss(actor=staff["regulator"], alert=alert, reason="  "),
        lambda: services.escalate(
            actor=staff["regulator"], alert=alert, target="nowhere", text="x"
        ),
        lambda: services.assign(actor=staff["regulator"], alert=alert, assignee=staff["auditor"]),
        lambda: services.annotate(actor=staff["regulator"], alert=alert, text="a\x00b"),
    ):
        with pytest.raises(ValidationFailed):
            call()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.notes.count() == 1
    assert Event.objects.order_by("-seq").values_list("seq", flat=True).first() == seq


def test_thresholds_are_validated_and_recorded(staff: Any) -> None:
    row = services.update_setting(actor=staff["regulator"], name="screens", value={"cv": 0.03})
    assert row.version == 1 and row.value["cv"] == 0.03
    assert thresholds.current("screens").cv == 0.03
    for bad in ({"cv": -1}, {"cv": "x"}, {"no_such_screen": 1}, {"rd": float("nan")}):
        with pytest.raises(ValidationFailed) as caught:
            services.update_setting(actor=staff["regulator"], name="screens", value=bad)
        assert caught.value.code == "threshold_out_of_range"
    with pytest.raises(ValidationFailed):
        services.update_setting(actor=staff["regulator"], name="alerting",
                                value={"screens_min_score": 101})  # fmt: skip
    with pytest.raises(PermissionDenied):  # inspectors work alerts, regulators set thresholds
        services.update_setting(actor=staff["inspector"], name="screens", value={"cv": 0.02})
    assert thresholds.current("screens").cv == 0.03
    assert Event.objects.filter(event_type="supervision.settings_changed").count() == 1


# --- the API ------------------------------------------------------------------------------------


def test_api_inbox(staff: Any) -> None:
    alert, *_ = _raise()
    client = Client()
    client.force_login(staff["auditor"])
    r = client.get("/api/v1/supervision/alerts?status=active")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["total"] == 1 and body["alerts"][0]["public_id"] == alert.public_id
    assert body["counts"]["open"] == 1
    r = client.get(f"/api/v1/supervision/alerts/{alert.public_id}")
    assert r.json()["evidence"] == {"cv": 0.01}


def _bearer(username: str) -> dict[str, str]:
    from ggzy.accounts.models import User
    from ggzy.accounts.services import issue_token

    user = User.objects.get(username=username)
    _row, secret = issue_token(actor=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_api_refusals_are_4xx_in_the_error_shape(staff: Any) -> None:
    alert, *_ = _raise()
    client, auth = Client(), _bearer("reg1")
    url = f"/api/v1/supervision/alerts/{alert.public_id}"
    cases = [
        ("get", "/api/v1/supervision/alerts?status=bogus", None, 422, "bad_filter"),
        ("get", "/api/v1/supervision/alerts/nope", None, 404, "alert_not_found"),
        ("post", f"{url}/dismiss", {"reason": ""}, 422, "required"),
        ("post", f"{url}/escalate", {"target": "x", "text": "y"}, 422, "bad_target"),
        ("post", f"{url}/assign", {"assignee": "nobody"}, 404, "user_not_found"),
        ("post", f"{url}/assign", {"assignee": "aud1"}, 422, "bad_assignee"),
        ("put", "/api/v1/supervision/settings/screens", {"values": {"cv": -2}}, 422,
         "threshold_out_of_range"),
        ("put", "/api/v1/supervision/settings/nope", {"values": {}}, 404, "setting_not_found"),
    ]  # fmt: skip
    for method, path, body, status, code in cases:
        kwargs: dict[str, Any] = dict(auth)
        if body is not None:
            kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
        r = getattr(client, method)(path, **kwargs)
        assert r.status_code == status, (path, r.content)
        assert r.json()["code"] == code and set(r.json()) == {"code", "message", "detail"}
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    r = client.get("/api/v1/supervision/alerts", **_bearer("bid1"))
    assert r.status_code == 403
    assert Client().get("/api/v1/supervision/alerts").status_code == 401


def test_api_dismiss_and_settings(staff: Any) -> None:
    alert, *_ = _raise()
    client, auth = Client(), _bearer("reg1")
    r = client.post(f"/api/v1/supervision/alerts/{alert.public_id}/dismiss",
                    data=json.dumps({"reason": "正常"}), content_type="application/json", **auth)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert [n["kind"] for n in r.json()["notes"]] == ["raised", "dismiss"]
    r = client.put("/api/v1/supervision/settings/alerting",
                   data=json.dumps({"values": {"screens_min_score": 40}}),
                   content_type="application/json", **auth)  # fmt: skip
    assert r.status_code == 200 and r.json()["values"]["screens_min_score"] == 40
    groups = client.get("/api/v1/supervision/settings", **_bearer("aud1")).json()
    assert {g["name"] for g in groups} >= {"screens", "alerting"}


# --- pages and CLI ------------------------------------------------------------------------------


def test_pages(staff: Any) -> None:
    alert, *_ = _raise()
    client = Client()
    assert client.get("/supervision/").status_code == 302  # sign in first
    client.force_login(staff["bidder"])
    assert client.get("/supervision/").status_code == 403
    client.force_login(staff["regulator"])
    page = client.get("/supervision/").content.decode()
    assert "测试预警" in page
    r = client.post(f"/supervision/alerts/{alert.public_id}/",
                    {"action": "escalate", "target": "credit", "text": "记入不良行为"})  # fmt: skip
    assert r.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ESCALATED and "信用记录" in alert.outcome
    page = client.get(f"/supervision/alerts/{alert.public_id}/").content.decode()
    assert "记入不良行为" in page and "重新打开" in page
    assert client.get("/supervision/settings/").status_code == 200
    client.force_login(staff["auditor"])  # auditors read, without the forms
    page = client.get(f"/supervision/alerts/{alert.public_id}/").content.decode()
    assert "测试预警" in page and 'name="action"' not in page


def test_cli(staff: Any) -> None:
    alert, *_ = _raise()
    out = StringIO()
    call_command("supervision", "alerts", "--as", "reg1", stdout=out)
    assert alert.public_id in out.getvalue()
    call_command("supervision", "dismiss", alert.public_id, "--reason", "正常", "--as", "insp1",
                 stdout=StringIO())  # fmt: skip
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    with pytest.raises(CommandError, match="alert_closed"):
        call_command("supervision", "escalate", alert.public_id, "--target", "credit", "--text",
                     "x", "--as", "insp1")  # fmt: skip
    call_command("supervision", "set", "screens", "cv=0.04", "--as", "reg1", stdout=StringIO())
    assert thresholds.current("screens").cv == 0.04
    with pytest.raises(CommandError, match="threshold_out_of_range"):
        call_command("supervision", "set", "screens", "cv=-1", "--as", "reg1")
    with pytest.raises(CommandError):
        call_command("supervision", "alerts", "--as", "bid1")
