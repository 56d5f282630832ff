"""The supervision rows of the API-wide matrices (tests/api/test_errors.py and
tests/api/test_permissions.py): an alert, a closed alert, a data set, a watchlist entry and a
followed project of the world, each made on first use."""

from __future__ import annotations

import secrets
from typing import Any

from ggzy.supervision import datasets, services, trail, watchlist
from ggzy.supervision.models import Alert, AlertKind, AlertStatus, Dataset, WatchEntry
from ggzy.tendering.models import Project

SUP = "/api/v1/supervision"
CSV = ("tender_id,date,bidder_id,bidder_name,amount,winner\n"
       "T1,2025-01-02,A,甲公司,100,1\nT1,2025-01-02,B,乙公司,101,0\nT1,2025-01-02,C,丙公司,103,0\n")  # fmt: skip


def alert(*, closed: bool = False, actor: Any = None) -> Alert:
    """An open alert (``closed``: a dismissed one, dismissed by ``actor``)."""
    status = AlertStatus.DISMISSED if closed else AlertStatus.OPEN
    row = Alert.objects.filter(key__startswith="matrix:", status=status).first()
    if row is None:
        row, *_ = services.raise_alert(kind=AlertKind.SCREENS, code="SCREENS",
                                       key=f"matrix:{secrets.token_hex(4)}", title="矩阵测试预警",
                                       evidence={"cv": 0.01}, score=60.0)  # fmt: skip
        if closed:
            row = services.dismiss(actor=actor, alert=row, reason="矩阵测试")
    return row


def dataset(actor: Any) -> Dataset:
    row = Dataset.objects.first()
    if row is None:
        row = datasets.import_dataset(actor=actor, name="矩阵测试数据", source_format="csv",
                                      data=CSV.encode())  # fmt: skip
    return row


def watch(actor: Any) -> WatchEntry:
    row = WatchEntry.objects.filter(active=True).first()
    if row is None:
        row = watchlist.add(actor=actor, kind="phone", value="13900000000", reason="矩阵测试")
    return row


def followed(actor: Any, project: Project) -> Project:
    trail.track(actor=actor, project=project)
    return project


# --- tests/api/test_errors.py ------------------------------------------------------------------

PATH_VALUES: dict[str, Any] = {
    "alert_id": lambda w: alert().public_id,
    "dataset_id": lambda w: dataset(w.omni).public_id,
    "name": lambda w: "screens",
    "entry_id": lambda w: watch(w.omni).public_id,
}
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "alert_id": [("nope", 404, "alert_not_found"), ("x" * 200, 404, "alert_not_found")],
    "dataset_id": [("nope", 404, "dataset_not_found"), ("x" * 200, 404, "dataset_not_found")],
    "name": [("nope", 404, "setting_not_found"), ("x" * 200, 404, "setting_not_found")],
    "entry_id": [("nope", 404, "watch_not_found"), ("x" * 200, 404, "watch_not_found")],
}
BAD_PUBLIC_IDS: dict[str, list[tuple[str, int, str]]] = {
    f"{SUP}/projects/": [("nope", 404, "project_not_found"), ("x" * 200, 404, "project_not_found")],
}


def _alert_call(body: dict[str, Any], *, closed: bool = False) -> Any:
    return lambda w: ({"alert_id": alert(closed=closed, actor=w.omni).public_id}, body)


PREPARED: dict[str, Any] = {
    f"POST {SUP}/alerts/{{alert_id}}/assign": _alert_call({"assignee": "omni"}),
    f"POST {SUP}/alerts/{{alert_id}}/notes": _alert_call({"text": "已调阅材料"}),
    f"POST {SUP}/alerts/{{alert_id}}/dismiss": _alert_call({"reason": "正常竞争"}),
    f"POST {SUP}/alerts/{{alert_id}}/escalate": _alert_call(
        {"target": "complaint", "text": "转投诉处理"}
    ),
    f"POST {SUP}/alerts/{{alert_id}}/reopen": _alert_call({"reason": "新线索"}, closed=True),
    f"PUT {SUP}/settings/{{name}}": lambda w: ({"name": "screens"}, {"values": {"cv": 0.04}}),
    f"POST {SUP}/watchlist": lambda w: (
        {},
        {"kind": "email", "value": "x@y.cn", "reason": "矩阵测试"},
    ),
    f"POST {SUP}/projects/{{public_id}}/seen": lambda w: (
        {"public_id": followed(w.omni, w.tender.draft()).public_id},
        None,
    ),
    f"DELETE {SUP}/projects/{{public_id}}/track": lambda w: (
        {"public_id": followed(w.omni, w.tender.draft()).public_id},
        None,
    ),
}
QUERY_VALUES: dict[str, dict[str, Any]] = {f"POST {SUP}/datasets": {"name": "矩阵上传"}}
RAW_UPLOADS: dict[str, tuple[str, Any]] = {
    f"POST {SUP}/datasets": ("GGZY_SUPERVISION_MAX_BYTES", lambda w: None),
}


def upload_body(w: Any) -> Any:
    from tests.api.support import Raw

    return {}, Raw(CSV.encode(), "text/csv")


PREPARED[f"POST {SUP}/datasets"] = upload_body


# --- tests/api/test_permissions.py --------------------------------------------------------------

MANAGE = frozenset({"regulator", "inspector"})
VIEW = frozenset({"regulator", "inspector", "auditor"})


def permission_rules(rule: Any) -> dict[str, Any]:
    """``rule`` is the matrix's ``WriteRule``: regulators and inspectors work alerts, import data
    and keep the watchlist; regulators set thresholds; every supervision role follows
    projects; everyone else signed in is refused (403)."""

    def on_alert(suffix: str, body: dict[str, Any], *, closed: bool = False) -> Any:
        def request(c: Any, actor: str) -> tuple[str, Any]:
            row = alert(closed=closed, actor=c.users["regulator"])
            return f"{SUP}/alerts/{row.public_id}{suffix}", body

        return request

    def on_project(suffix: str, *, follow: bool) -> Any:
        def request(c: Any, actor: str) -> tuple[str, Any]:
            project = Project.objects.order_by("pk").first() or c.tender.draft()
            if follow and actor in c.users and actor in VIEW:
                trail.track(actor=c.users[actor], project=project)
            return f"{SUP}/projects/{project.public_id}{suffix}", None

        return request

    def on_watch(c: Any, actor: str) -> tuple[str, Any]:
        return f"{SUP}/watchlist/{watch(c.users['regulator']).public_id}", None

    return {
        f"POST {SUP}/alerts/{{alert_id}}/assign": rule(
            MANAGE, 200, ("supervision.alert_assigned",),
            on_alert("/assign", {"assignee": "u_inspector"})),
        f"POST {SUP}/alerts/{{alert_id}}/notes": rule(
            MANAGE, 201, ("supervision.alert_noted",), on_alert("/notes", {"text": "批注"})),
        f"POST {SUP}/alerts/{{alert_id}}/dismiss": rule(
            MANAGE, 200, ("supervision.alert_dismissed",), on_alert("/dismiss", {"reason": "正常"})),
        f"POST {SUP}/alerts/{{alert_id}}/escalate": rule(
            MANAGE, 200, ("supervision.alert_escalated",),
            on_alert("/escalate", {"target": "credit", "text": "记入信用"})),
        f"POST {SUP}/alerts/{{alert_id}}/reopen": rule(
            MANAGE, 200, ("supervision.alert_reopened",),
            on_alert("/reopen", {"reason": "新线索"}, closed=True)),
        f"PUT {SUP}/settings/{{name}}": rule(
            frozenset({"regulator"}), 200, ("supervision.settings_changed",),
            lambda c, a: (f"{SUP}/settings/screens", {"values": {"cv": 0.04}})),
        f"POST {SUP}/scan": rule(MANAGE, 200, (), lambda c, a: (f"{SUP}/scan", None)),
        f"POST {SUP}/datasets": rule(
            MANAGE, 201, ("supervision.dataset_imported",),
            lambda c, a: (f"{SUP}/datasets?name=x", _raw())),
        f"POST {SUP}/watchlist": rule(
            MANAGE, 201, ("supervision.watch_added",),
            lambda c, a: (f"{SUP}/watchlist", {"kind": "email", "value": "w@x.cn", "reason": "x"})),
        f"DELETE {SUP}/watchlist/{{entry_id}}": rule(
            MANAGE, 200, ("supervision.watch_removed",), on_watch),
        f"POST {SUP}/projects/{{public_id}}/track": rule(
            VIEW, 200, ("supervision.project_tracked",), on_project("/track", follow=False)),
        f"DELETE {SUP}/projects/{{public_id}}/track": rule(
            VIEW, 200, ("supervision.project_untracked",), on_project("/track", follow=True)),
        f"POST {SUP}/projects/{{public_id}}/seen": rule(
            VIEW, 200, (), on_project("/seen", follow=True)),
    }  # fmt: skip


def _raw() -> Any:
    from tests.api.support import Raw

    return Raw(CSV.encode(), "text/csv")
