"""The home page and the error handlers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from ggzy.ledger.proofs import latest_tree_head
from ggzy.ledger.selectors import latest_events
from ggzy.registry.selectors import entity_directory
from ggzy.web.views.common import error_page, event_row, head_context


def home(request: HttpRequest) -> HttpResponse:
    head = latest_tree_head()
    return render(
        request,
        "web/home.html",
        {
            "entity_count": entity_directory().count(),
            "event_count": head.size if head else 0,
            "head": head_context(head),
            "events": [event_row(e) for e in latest_events(limit=10)],
        },
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404, _("您访问的页面不存在或已被移除。"))


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        return error_page(request, 500, _("服务器内部错误，请稍后再试。"))
    except Exception:  # the page itself needs the database; never fail while reporting a failure
        return HttpResponse(
            "<!doctype html><title>500</title><h1>500</h1><p>服务器内部错误 (internal error)</p>",
            status=500,
        )
