"""Small helpers the portal pages share: error pages, htmx detection, display rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from ggzy.ledger.models import EPOCH, Event, TreeHead


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    titles = {403: _("无权访问"), 404: _("页面不存在"), 500: _("服务器内部错误")}
    return render(
        request,
        "web/error.html",
        {"status": status, "title": titles.get(status, _("出错了")), "message": message},
        status=status,
    )


def is_htmx_partial(request: HttpRequest) -> bool:
    """An htmx request for a fragment (not a history restore, which needs the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def from_time_us(time_us: int) -> datetime:
    return EPOCH + timedelta(microseconds=time_us)


def subject_url(subject: str) -> str | None:
    """A page for a ledger subject, where the portal has one."""
    kind, _sep, key = subject.partition(":")
    if kind == "entity" and key:
        return reverse("web:entity", args=[key])
    return None


def event_row(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "recorded_at": event.recorded_at,
        "type": event.event_type,
        "subject": event.subject,
        "subject_url": subject_url(event.subject),
    }


def head_context(head: TreeHead | None) -> dict[str, Any] | None:
    if head is None:
        return None
    return {
        "size": head.size,
        "root": head.root,
        "alg": head.alg,
        "signed_at": from_time_us(head.time_us),
        "key_id": head.key_id,
        "signature": head.signature,
    }


def region_choices() -> list[tuple[str, str]]:
    """Regions for filters and forms, cities indented under their province."""
    from ggzy.registry.selectors import regions

    rows = regions()
    return [(code, f"\u3000{name}" if parent else name) for code, name, parent in rows]
