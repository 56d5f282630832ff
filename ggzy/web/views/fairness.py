"""The fair-competition review report of a project (公平竞争审查报告): center and supervision
staff and the project's own members see it; center intake records a reason on a finding, and
the project's members or intake run the review again, with plain POST forms (no JS needed)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ggzy.core.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from ggzy.fairness import selectors, services
from ggzy.web.views.common import error_page


@require_http_methods(["GET", "POST"])
def project_review(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        project = selectors.get_project_for(request.user, public_id)
    except NotAuthenticated:
        return redirect(f"{reverse('web:login')}?next={request.path}")
    except NotFound:
        return error_page(request, 404, _("项目不存在。"))
    if request.method == "POST":
        try:
            _act(request, project)
        except PermissionDenied:
            return error_page(request, 403, _("无权执行此操作。"))
        except DomainError as exc:
            messages.error(request, f"{exc.message} [{exc.code}]")
        return redirect(request.path)
    context = {"report": selectors.report(request.user, project), "project": project,
               "max_reason": services.MAX_REASON_CHARS}  # fmt: skip
    return render(request, "web/fairness/review.html", context)


def _act(request: HttpRequest, project: object) -> None:
    action = request.POST.get("action", "")
    if action == "review":
        services.review_project(actor=request.user, project=project)  # type: ignore[arg-type]
        messages.success(request, _("已完成公平竞争审查。"))
    elif action == "reason":
        finding = selectors.get_finding_for(request.user, request.POST.get("finding", ""))
        if finding.review.project_id != getattr(project, "pk", None):
            raise NotFound("审查发现不存在 (no such finding)", code="finding_not_found")
        reason = request.POST.get("reason", "")
        services.record_reason(actor=request.user, finding=finding, reason=reason)
        messages.success(request, _("已记录理由。"))
    else:
        messages.error(request, _("未知操作。"))
