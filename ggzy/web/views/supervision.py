"""Smart supervision pages (智慧监管) for regulators, inspectors and auditors: the alert inbox,
one alert with its evidence, history and the forms that work it, the thresholds, and the
historical data sets with their reports. Plain forms (no JS needed); the charts are an addition
over tables that carry the same numbers."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ggzy.accounts.gate import allowed
from ggzy.core.errors import DomainError, NotFound, PermissionDenied
from ggzy.supervision import (
    datasets,
    platform,
    scan,
    selectors,
    services,
    thresholds,
    trail,
    watchlist,
)
from ggzy.supervision.models import AlertKind, AlertStatus, DatasetFormat
from ggzy.web.views.common import error_page, event_row


def _guard(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('web:login')}?next={request.path}")
    if not allowed(request.user, "supervision.view"):
        return error_page(request, 403, _("仅行政监督、纪检监察和审计人员可以访问。"))
    return None


@require_http_methods(["GET", "POST"])
def inbox(request: HttpRequest) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    if request.method == "POST":  # run the scan now
        try:
            out = scan.catch_up(actor=request.user)
            messages.success(request, _("扫描完成：新增预警 %(raised)d 条，更新 %(refreshed)d 条。")
                             % {"raised": out.raised, "refreshed": out.refreshed})  # fmt: skip
        except PermissionDenied:
            return error_page(request, 403, _("无权执行此操作。"))
        return redirect(request.path)
    status = request.GET.get("status", "active")
    kind = request.GET.get("kind", "")
    try:
        rows = selectors.alerts(request.user, status=status, kind=kind,
                                mine=request.GET.get("mine") == "1")  # fmt: skip
    except DomainError as exc:
        return error_page(request, 400, exc.message)
    page, counts = _page(request), selectors.counts(request.user)
    start = (page - 1) * selectors.PAGE
    total = rows.count()
    context = {
        "alerts": rows[start:start + selectors.PAGE], "total": total, "page": page,
        "has_next": start + selectors.PAGE < total, "status": status, "kind": kind,
        "status_counts": [(label, counts[value]) for value, label in AlertStatus.choices],
        "statuses": AlertStatus.choices,
        "kinds": AlertKind.choices, "may_manage": allowed(request.user, "supervision.manage"),
        "current": "supervision",
    }  # fmt: skip
    return render(request, "web/supervision/inbox.html", context)


def _page(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 100_000 else 1


@require_http_methods(["GET", "POST"])
def alert(request: HttpRequest, alert_id: str) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    try:
        row = selectors.get_alert(request.user, alert_id)
    except NotFound:
        return error_page(request, 404, _("预警不存在。"))
    if request.method == "POST":
        try:
            _act(request, row)
        except PermissionDenied:
            return error_page(request, 403, _("无权执行此操作。"))
        except DomainError as exc:
            messages.error(request, f"{exc.message} [{exc.code}]")
        return redirect(request.path)
    context = {
        "alert": row, "notes": selectors.notes(row), "current": "supervision",
        "evidence_json": json.dumps(row.evidence, ensure_ascii=False, indent=1, sort_keys=True),
        "may_manage": allowed(request.user, "supervision.manage"),
        "targets": services.ESCALATION_TARGETS.items(), "max_text": services.MAX_TEXT,
        "closed": row.status in (AlertStatus.DISMISSED, AlertStatus.ESCALATED),
    }  # fmt: skip
    return render(request, "web/supervision/alert.html", context)


def _act(request: HttpRequest, row: Any) -> None:
    action, post = request.POST.get("action", ""), request.POST
    if action == "assign":
        services.assign(actor=request.user, alert=row,
                        assignee=services.assignee_by_username(request.user, post.get("assignee", "")))  # fmt: skip
        messages.success(request, _("已指派。"))
    elif action == "note":
        services.annotate(actor=request.user, alert=row, text=post.get("text", ""))
        messages.success(request, _("已添加批注。"))
    elif action == "dismiss":
        services.dismiss(actor=request.user, alert=row, reason=post.get("reason", ""))
        messages.success(request, _("已排除。"))
    elif action == "escalate":
        services.escalate(actor=request.user, alert=row, target=post.get("target", ""),
                          text=post.get("text", ""))  # fmt: skip
        messages.success(request, _("已移交。"))
    elif action == "reopen":
        services.reopen(actor=request.user, alert=row, reason=post.get("reason", ""))
        messages.success(request, _("已重新打开。"))
    else:
        messages.error(request, _("未知操作。"))


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    if request.method == "POST":
        name = request.POST.get("group", "")
        values = {k.removeprefix("v:"): _number(v) for k, v in request.POST.items()
                  if k.startswith("v:")}  # fmt: skip
        weights = {k.removeprefix("w:"): _number(v) for k, v in request.POST.items()
                   if k.startswith("w:")}  # fmt: skip
        if weights:
            values["weights"] = weights
        try:
            services.update_setting(actor=request.user, name=name, value=values)
            messages.success(request, _("阈值已更新。"))
        except PermissionDenied:
            return error_page(request, 403, _("无权执行此操作。"))
        except DomainError as exc:
            messages.error(request, f"{exc.message} [{exc.code}]")
        return redirect(request.path)
    context = {"groups": thresholds.describe(request.user), "current": "supervision",
               "may_configure": allowed(request.user, "supervision.configure")}  # fmt: skip
    return render(request, "web/supervision/settings.html", context)


def _number(raw: str) -> Any:
    """A form value as the number it spells (int before float); otherwise the text, so the
    validator names it in its refusal."""
    text = raw.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


@require_http_methods(["GET", "POST"])
def dataset_list(request: HttpRequest) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DomainError(_("请选择文件。"), code="file_required")
            if upload.size is not None and upload.size > datasets.max_bytes():
                raise DomainError(_("文件过大。"), code="payload_too_large")
            row = datasets.import_dataset(
                actor=request.user, name=request.POST.get("name", ""),
                source_format=request.POST.get("format", ""), data=upload.read(),
                file_name=upload.name or "", skip_bad_rows=request.POST.get("skip") == "1",
            )  # fmt: skip
        except PermissionDenied:
            return error_page(request, 403, _("无权执行此操作。"))
        except DomainError as exc:
            context = _datasets_context(request)
            context.update({"error": exc, "problems": _problems(exc)})
            return render(request, "web/supervision/datasets.html", context, status=422)
        messages.success(request, _("已导入，报告已生成。"))
        return redirect("web:supervision_dataset", dataset_id=row.public_id)
    return render(request, "web/supervision/datasets.html", _datasets_context(request))


def _problems(exc: DomainError) -> list[Any]:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    problems = detail.get("problems")
    return problems if isinstance(problems, list) else []


def _datasets_context(request: HttpRequest) -> dict[str, Any]:
    return {"datasets": selectors.datasets(request.user)[:200], "formats": DatasetFormat.choices,
            "may_manage": allowed(request.user, "supervision.manage"),
            "current": "supervision"}  # fmt: skip


def dataset(request: HttpRequest, dataset_id: str) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    try:
        row = selectors.get_dataset(request.user, dataset_id)
    except NotFound:
        return error_page(request, 404, _("数据集不存在。"))
    context = {"dataset": row, "report": datasets.report_view(row), "current": "supervision",
               "parts": datasets.PARTS}  # fmt: skip
    return render(request, "web/supervision/dataset.html", context)


def dataset_csv(request: HttpRequest, dataset_id: str, part: str) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    try:
        row = selectors.get_dataset(request.user, dataset_id)
        content = datasets.report_csv(row, part)
    except NotFound:
        return error_page(request, 404, _("数据集不存在。"))
    except DomainError as exc:
        return error_page(request, 404, exc.message)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{row.public_id}-{part}.csv"'
    return response


def projects(request: HttpRequest) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    q = request.GET.get("q", "")
    page = _page(request)
    rows = list(trail.projects(request.user, q=q)[(page - 1) * 50 : page * 50 + 1])
    context = {"projects": rows[:50], "q": q, "page": page, "has_next": len(rows) > 50,
               "followed": trail.followed(request.user), "current": "supervision"}  # fmt: skip
    return render(request, "web/supervision/projects.html", context)


@require_http_methods(["GET", "POST"])
def project(request: HttpRequest, public_id: str) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    try:
        row = trail.get_project(request.user, public_id)
    except NotFound:
        return error_page(request, 404, _("项目不存在。"))
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "track":
            trail.track(actor=request.user, project=row)
            messages.success(request, _("已开始跟踪该项目：其后的每一项操作都会提示。"))
        elif action == "untrack":
            trail.untrack(actor=request.user, project=row)
            messages.success(request, _("已取消跟踪。"))
        elif action == "seen":
            try:
                trail.mark_seen(actor=request.user, project=row)
            except NotFound:
                messages.error(request, _("未跟踪该项目。"))
        return redirect(request.path)
    after = request.GET.get("after", "0")
    start = int(after) if after.isdigit() and len(after) < 19 else 0  # a ledger seq (bigint)
    events = trail.trail(request.user, row, after=start)
    followed = trail.tracking_of(request.user, row)
    tracking, seen = followed is not None, followed.seen_seq if followed else None
    context = {
        "project": row, "sections": list(row.sections.all()), "tracking": tracking,
        "events": [{**event_row(e), "new": seen is not None and e.seq > seen} for e in events],
        "next_after": events[-1].seq if len(events) == trail.PAGE else None,
        "alerts": selectors.alerts(request.user).filter(section__project=row)[:50],
        "current": "supervision",
    }  # fmt: skip
    return render(request, "web/supervision/project.html", context)


def dashboard(request: HttpRequest) -> HttpResponse:
    """The platform's own opened sections: the screens' distributions and the co-bidding graph."""
    if (refused := _guard(request)) is not None:
        return refused
    data = platform.dashboard(platform.platform_bids())
    return render(request, "web/supervision/dashboard.html",
                  {"data": data, "current": "supervision"})  # fmt: skip


def dataset_dashboard(request: HttpRequest, dataset_id: str) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    try:
        row = selectors.get_dataset(request.user, dataset_id)
        bids = datasets.stored_bids(row)
    except NotFound:
        return error_page(request, 404, _("数据集不存在。"))
    return render(request, "web/supervision/dashboard.html",
                  {"data": platform.dashboard(bids), "dataset": row, "current": "supervision"})  # fmt: skip


@require_http_methods(["GET", "POST"])
def watchlist_page(request: HttpRequest) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                watchlist.remove(actor=request.user, public_id=request.POST.get("entry", ""))
                messages.success(request, _("已移出名单。"))
            else:
                watchlist.add(actor=request.user, kind=request.POST.get("kind", ""),
                              value=request.POST.get("value", ""),
                              reason=request.POST.get("reason", ""))  # fmt: skip
                messages.success(request, _("已加入重点关注名单。"))
        except PermissionDenied:
            return error_page(request, 403, _("无权执行此操作。"))
        except DomainError as exc:
            messages.error(request, f"{exc.message} [{exc.code}]")
        return redirect(request.path)
    context = {"entries": watchlist.entries(request.user), "kinds": watchlist.KIND_LABELS.items(),
               "may_manage": allowed(request.user, "supervision.manage"),
               "current": "supervision"}  # fmt: skip
    return render(request, "web/supervision/watchlist.html", context)


URLS = [
    path("supervision/watchlist/", watchlist_page, name="supervision_watchlist"),
    path("supervision/dashboard/", dashboard, name="supervision_dashboard"),
    path(
        "supervision/datasets/<str:dataset_id>/dashboard/",
        dataset_dashboard,
        name="supervision_dataset_dashboard",
    ),
    path("supervision/projects/", projects, name="supervision_projects"),
    path("supervision/projects/<str:public_id>/", project, name="supervision_project"),
    path("supervision/", inbox, name="supervision"),
    path("supervision/alerts/<str:alert_id>/", alert, name="supervision_alert"),
    path("supervision/settings/", settings_page, name="supervision_settings"),
    path("supervision/datasets/", dataset_list, name="supervision_datasets"),
    path("supervision/datasets/<str:dataset_id>/", dataset, name="supervision_dataset"),
    path(
        "supervision/datasets/<str:dataset_id>/<str:part>.csv",
        dataset_csv,
        name="supervision_dataset_csv",
    ),
]
