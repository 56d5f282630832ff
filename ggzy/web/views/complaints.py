"""Complaint pages (投诉): a bidder files one (from a section's page, or with the section's id)
and follows its own; the supervision roles see the open cases with their clocks, overdue first,
and each case; the regulator works a case with plain POST forms. No JavaScript needed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ggzy.accounts.gate import allowed
from ggzy.complaints import selectors, services
from ggzy.complaints.states import Matter, Outcome, PauseKind, is_open
from ggzy.core.errors import DomainError, NotFound, PermissionDenied
from ggzy.registry.models import Entity
from ggzy.tendering import selectors as tendering
from ggzy.web.views.common import error_page


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('web:login')}?next={request.path}")
    return None


def _entities(user: Any) -> list[Entity]:
    return list(Entity.objects.filter(memberships__user=user).order_by("name"))


@require_http_methods(["GET", "POST"])
def file_page(request: HttpRequest) -> HttpResponse:
    if (refused := _signed_in(request)) is not None:
        return refused
    if not allowed(request.user, "complaints.file"):
        return error_page(request, 403, _("仅投标人可以提出投诉。"))
    data = request.POST if request.method == "POST" else request.GET
    values = {k: data.get(k, "") for k in ("section", "entity", "matter", "text", "known_on",
                                          "objection")}  # fmt: skip
    if request.method == "POST":
        try:
            section = tendering.get_section(request.user, values["section"].strip())
            entity = next((e for e in _entities(request.user) if e.uscc == values["entity"]), None)
            if entity is None:
                raise NotFound(_("请选择您所代表的市场主体。"), code="entity_not_found")
            try:
                known_on = date.fromisoformat(values["known_on"])
            except ValueError:
                raise NotFound(
                    _("请填写知道或应当知道之日（YYYY-MM-DD）。"), code="bad_date"
                ) from None
            c = services.file_complaint(actor=request.user, section=section, entity=entity,
                                        matter=values["matter"], text=values["text"],
                                        known_on=known_on, objection=values["objection"])  # fmt: skip
        except PermissionDenied:
            return error_page(request, 403, _("无权执行此操作。"))
        except DomainError as exc:
            messages.error(request, f"{exc.message} [{exc.code}]")
        else:
            if c.admissible:
                messages.success(request, _("投诉已提交。"))
            else:
                messages.warning(request, _("投诉已记录，但不符合受理条件，见下方说明。"))
            return redirect("web:complaint", complaint_id=c.public_id)
    context = {"values": values, "entities": _entities(request.user), "matters": Matter.choices,
               "current": "complaints"}  # fmt: skip
    return render(request, "web/complaints/file.html", context)


def cases(request: HttpRequest) -> HttpResponse:
    """The supervision roles: the open cases with their clocks; a bidder: its own."""
    if (refused := _signed_in(request)) is not None:
        return refused
    if allowed(request.user, "complaints.view"):
        context = {"open_cases": selectors.open_cases(request.user),
                   "closed": selectors.all_complaints(request.user).exclude(
                       status__in=["filed", "accepted", "paused"])[:100],
                   "handler": True, "current": "complaints"}  # fmt: skip
    else:
        rows = [(c, selectors.clock_of(c)) for c in selectors.mine(request.user)[:200]]
        context = {"open_cases": rows, "closed": [], "handler": False,
                   "may_file": allowed(request.user, "complaints.file"),
                   "current": "complaints"}  # fmt: skip
    return render(request, "web/complaints/cases.html", context)


@require_http_methods(["GET", "POST"])
def case(request: HttpRequest, complaint_id: str) -> HttpResponse:
    if (refused := _signed_in(request)) is not None:
        return refused
    try:
        c = selectors.get_complaint(request.user, complaint_id)
    except NotFound:
        return error_page(request, 404, _("投诉不存在。"))
    if request.method == "POST":
        try:
            _act(request, c)
        except PermissionDenied:
            return error_page(request, 403, _("无权执行此操作。"))
        except DomainError as exc:
            messages.error(request, f"{exc.message} [{exc.code}]")
        return redirect(request.path)
    context = {
        "c": c, "clock": selectors.clock_of(c), "pauses": selectors.pauses(c),
        "transfers": selectors.transfers(c), "evidence": selectors.evidence(c),
        "may_handle": allowed(request.user, "complaints.handle"),
        "may_add_evidence": is_open(c.status) and (
            allowed(request.user, "complaints.handle")
            or allowed(request.user, "entity.act", c.entity)),
        "outcomes": Outcome.choices, "pause_kinds": PauseKind.choices, "current": "complaints",
    }  # fmt: skip
    return render(request, "web/complaints/case.html", context)


def _act(request: HttpRequest, c: Any) -> None:
    action, post, actor = request.POST.get("action", ""), request.POST, request.user
    if action == "accept":
        services.accept(actor=actor, complaint=c)
        messages.success(request, _("已受理。"))
    elif action == "refuse":
        services.refuse(actor=actor, complaint=c, reason=post.get("reason", ""))
        messages.success(request, _("已决定不予受理。"))
    elif action == "transfer":
        services.transfer(actor=actor, complaint=c, department=post.get("department", ""),
                          reason=post.get("reason", ""))  # fmt: skip
        messages.success(request, _("已移送。"))
    elif action == "pause":
        services.pause(actor=actor, complaint=c, kind=post.get("kind", ""),
                       reason=post.get("reason", ""))  # fmt: skip
        messages.success(request, _("已暂停计时。"))
    elif action == "resume":
        services.resume(actor=actor, complaint=c)
        messages.success(request, _("已恢复计时。"))
    elif action == "decide":
        services.decide(actor=actor, complaint=c, outcome=post.get("outcome", ""),
                        text=post.get("text", ""))  # fmt: skip
        messages.success(request, _("已作出处理决定。"))
    elif action == "evidence":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择文件。"))
            return
        with upload.open("rb") as stream:
            services.add_evidence(actor=actor, complaint=c, name=upload.name or "",
                                  stream=stream)  # fmt: skip
        messages.success(request, _("证据材料已上传。"))
    else:
        messages.error(request, _("未知操作。"))


URLS = [
    path("complaints/", cases, name="complaints"),
    path("complaints/new/", file_page, name="complaint_file"),
    path("complaints/<str:complaint_id>/", case, name="complaint"),
]
