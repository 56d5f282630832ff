"""Supervision reads, each behind ``supervision.view`` (regulators, inspectors, auditors): the
alert inbox with its filters, one alert with its history, the datasets."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from ggzy.accounts.gate import require
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.supervision.models import Alert, AlertKind, AlertStatus, Dataset

PAGE = 50


def _clean(value: Any, allowed: set[str], field: str) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or value not in allowed:
        raise ValidationFailed(f"{field}无效 (unknown {field})", code="bad_filter",
                               detail={"field": field, "allowed": sorted(allowed)})  # fmt: skip
    return value


def alerts(
    actor: Any,
    *,
    status: str = "",
    kind: str = "",
    section: str = "",
    mine: bool = False,
) -> QuerySet[Alert]:
    """The inbox: newest first, filtered. ``status='active'`` is open and assigned together."""
    require(actor, "supervision.view")
    status = _clean(status, {*AlertStatus.values, "active"}, "status")
    kind = _clean(kind, set(AlertKind.values), "kind")
    rows = Alert.objects.select_related("section__project", "assignee")
    if status == "active":
        rows = rows.filter(status__in=[AlertStatus.OPEN, AlertStatus.ASSIGNED])
    elif status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    if section:
        rows = rows.filter(section__public_id=str(section)[:32])
    if mine:
        rows = rows.filter(assignee=actor)
    return rows.order_by("-raised_at", "-pk")


def counts(actor: Any) -> dict[str, int]:
    require(actor, "supervision.view")
    found = dict(
        Alert.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {s: int(found.get(s, 0)) for s in AlertStatus.values}


def get_alert(actor: Any, public_id: str) -> Alert:
    require(actor, "supervision.view")
    alert = (
        Alert.objects.select_related("section__project", "assignee")
        .filter(public_id=str(public_id)[:32])
        .first()
    )
    if alert is None:
        raise NotFound("预警不存在 (no such alert)", code="alert_not_found")
    return alert


def notes(alert: Alert) -> list[Any]:
    return list(alert.notes.select_related("author"))


def datasets(actor: Any) -> QuerySet[Dataset]:
    require(actor, "supervision.view")
    return Dataset.objects.select_related("uploaded_by")


def get_dataset(actor: Any, public_id: str) -> Dataset:
    require(actor, "supervision.view")
    row = (
        Dataset.objects.select_related("uploaded_by").filter(public_id=str(public_id)[:32]).first()
    )
    if row is None:
        raise NotFound("数据集不存在 (no such dataset)", code="dataset_not_found")
    return row
