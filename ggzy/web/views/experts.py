"""Expert-pool pages: the expert's own application, profile and history; the center's approval
queue, pool list with filters, one expert's record with its status actions, the Excel import
with its row-level error report, and the rating of a signed session's experts (the center and
the section's tenderer). Views parse, call one service or selector, and render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ggzy.accounts.gate import allowed
from ggzy.core.errors import DomainError, NotFound, PermissionDenied
from ggzy.evaluation.states import SessionStatus
from ggzy.experts import excel, ratings, selectors, services
from ggzy.experts.checks import ExpertData
from ggzy.experts.models import Expert
from ggzy.experts.states import APPLICANT_EDITABLE, ExpertStatus, RaterKind
from ggzy.registry import selectors as registry
from ggzy.web.forms_experts import (
    AccountForm,
    ConflictForm,
    ExpertForm,
    ImportForm,
    PeriodForm,
    PoolFilterForm,
    ReasonForm,
    SuspendForm,
)
from ggzy.web.views.common import error_page, region_choices

REPORT_SESSION_KEY = "experts_import_errors"


def show_refusal(form: forms.Form, exc: DomainError) -> None:
    field = exc.detail.get("field") if isinstance(exc.detail, dict) else None
    form.add_error(field if field in form.fields else None, exc.message)


def _specialty_choices() -> list[tuple[str, str]]:
    return [(s.code, f"{s.code} {s.name}") for s in selectors.specialties(active_only=True)]


def _expert_form(data: Any = None, initial: Any = None) -> ExpertForm:
    return ExpertForm(data, initial=initial, regions=region_choices(),
                      specialties=_specialty_choices())  # fmt: skip


def _data(form: ExpertForm) -> ExpertData:
    d = form.cleaned_data
    return ExpertData(
        name=d["name"], resident_id=d["resident_id"], phone=d["phone"], email=d["email"],
        title_level=d["title_level"], title_name=d["title_name"],
        senior_equivalent=d["senior_equivalent"], years_in_field=d["years_in_field"],
        employer=d["employer"], region=d["region"], primary_specialty=d["primary_specialty"],
        other_specialties=[c for c in d["other_specialties"] if c != d["primary_specialty"]],
    )  # fmt: skip


def _initial(expert: Expert | None) -> dict[str, Any] | None:
    if expert is None:
        return None
    rows = selectors.specialty_rows(expert)
    return {
        "name": expert.name, "resident_id": expert.resident_id, "phone": expert.phone,
        "email": expert.email, "title_level": expert.title_level, "title_name": expert.title_name,
        "senior_equivalent": expert.senior_equivalent, "years_in_field": expert.years_in_field,
        "employer": expert.employer.uscc, "region": expert.region_id,
        "primary_specialty": expert.primary_specialty.code,
        "other_specialties": [r.specialty.code for r in rows if not r.is_primary],
    }  # fmt: skip


# --- the expert's own page ----------------------------------------------------------------------


def _record_context(expert: Expert) -> dict[str, Any]:
    return {"expert": expert, "specialties": selectors.specialty_rows(expert),
            "policy_actor": ratings.POLICY_ACTOR, **selectors.history(expert)}  # fmt: skip


@login_required
def my_record(request: HttpRequest, *, forms_: dict[str, Any] | None = None,
              status: int = 200) -> HttpResponse:  # fmt: skip
    """Apply (or re-apply), see the record and its history, keep the calendar and conflicts."""
    expert = selectors.my_expert(request.user)
    if expert is None and not allowed(request.user, "experts.apply"):
        return error_page(request, 403, _("仅评标专家账户可以申请入库。"))
    given = forms_ or {}
    context: dict[str, Any] = {"expert": expert}
    if expert is None or expert.status in APPLICANT_EDITABLE:
        context["form"] = given.get("form") or _expert_form(initial=_initial(expert))
    if expert is not None:
        context.update(_record_context(expert))
        context["period_form"] = given.get("period_form") or PeriodForm(prefix="period")
        context["conflict_form"] = given.get("conflict_form") or ConflictForm(prefix="conflict")
    return render(request, "web/experts/me.html", context, status=status)


@login_required
@require_POST
def apply(request: HttpRequest) -> HttpResponse:
    form = _expert_form(request.POST)
    if form.is_valid():
        try:
            services.apply(actor=request.user, data=_data(form))
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("申请已提交，请等待交易中心审核。"))
            return redirect("web:expert_me")
    return my_record(request, forms_={"form": form}, status=400)


def _mine(request: HttpRequest) -> Expert | HttpResponse:
    expert = selectors.my_expert(request.user)
    if expert is None:
        return error_page(request, 404, _("您尚未申请入库。"))
    return expert


@login_required
@require_POST
def add_period(request: HttpRequest) -> HttpResponse:
    expert = _mine(request)
    if isinstance(expert, HttpResponse):
        return expert
    form = PeriodForm(request.POST, prefix="period")
    if form.is_valid():
        try:
            services.add_unavailability(actor=request.user, expert=expert, **form.cleaned_data)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("已登记不可参评日期。"))
            return redirect("web:expert_me")
    return my_record(request, forms_={"period_form": form}, status=400)


@login_required
@require_POST
def remove_period(request: HttpRequest, period_id: int) -> HttpResponse:
    expert = _mine(request)
    if isinstance(expert, HttpResponse):
        return expert
    try:
        period = selectors.get_period(expert, period_id)
        services.remove_unavailability(actor=request.user, expert=expert, period_id=period.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:expert_me")


@login_required
@require_POST
def declare_conflict(request: HttpRequest) -> HttpResponse:
    expert = _mine(request)
    if isinstance(expert, HttpResponse):
        return expert
    form = ConflictForm(request.POST, prefix="conflict")
    if form.is_valid():
        try:
            entity = registry.get_entity(actor=request.user, uscc=form.cleaned_data["entity"])
            services.declare_conflict(actor=request.user, expert=expert, entity=entity,
                                      reason=form.cleaned_data["reason"])  # fmt: skip
        except NotFound as exc:
            form.add_error("entity", exc.message)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("回避申报已登记。"))
            return redirect("web:expert_me")
    return my_record(request, forms_={"conflict_form": form}, status=400)


@login_required
@require_POST
def withdraw_conflict(request: HttpRequest, conflict_id: int) -> HttpResponse:
    expert = _mine(request)
    if isinstance(expert, HttpResponse):
        return expert
    try:
        row = selectors.get_conflict(expert, conflict_id)
        services.withdraw_conflict(actor=request.user, expert=expert, conflict_id=row.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:expert_me")


# --- center staff -------------------------------------------------------------------------------


def _staff_only(
    request: HttpRequest, permission: str = "experts.view_private"
) -> HttpResponse | None:
    if not allowed(request.user, permission):
        return error_page(request, 403, _("仅交易中心专家管理人员可访问。"))
    return None


@login_required
def pool(request: HttpRequest) -> HttpResponse:
    if refused := _staff_only(request):
        return refused
    form = PoolFilterForm(request.GET or None, regions=region_choices(),
                          specialties=[(s.code, f"{s.code} {s.name}") for s in selectors.specialties()])  # fmt: skip
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = selectors.pool(request.user, q=filters.get("q", "").strip(),
                        specialty=filters.get("specialty", ""), region=filters.get("region", ""),
                        status=filters.get("status", ""))  # fmt: skip
    context = {"form": form, "experts": qs[:200], "count": qs.count(),
               "can_manage": allowed(request.user, "experts.manage")}  # fmt: skip
    return render(request, "web/experts/pool.html", context)


@login_required
def queue(request: HttpRequest, *, reject_forms: Any = None, status: int = 200) -> HttpResponse:
    if refused := _staff_only(request, "experts.manage"):
        return refused
    rows = [{"expert": e, "specialties": selectors.specialty_rows(e),
             "reject_form": (reject_forms or {}).get(e.pk) or ReasonForm(prefix=e.public_id)}
            for e in selectors.application_queue(request.user)]  # fmt: skip
    return render(request, "web/experts/queue.html", {"rows": rows}, status=status)


def _expert_or_page(request: HttpRequest, public_id: str) -> Expert | HttpResponse:
    try:
        return selectors.get_expert_for(request.user, public_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


@login_required
@require_POST
def approve(request: HttpRequest, public_id: str) -> HttpResponse:
    if refused := _staff_only(request, "experts.manage"):
        return refused
    expert = _expert_or_page(request, public_id)
    if isinstance(expert, HttpResponse):
        return expert
    try:
        services.approve_application(actor=request.user, expert=expert)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已批准入库：%(name)s") % {"name": expert.name})
    return redirect("web:expert_queue")


@login_required
@require_POST
def reject(request: HttpRequest, public_id: str) -> HttpResponse:
    if refused := _staff_only(request, "experts.manage"):
        return refused
    expert = _expert_or_page(request, public_id)
    if isinstance(expert, HttpResponse):
        return expert
    form = ReasonForm(request.POST, prefix=expert.public_id)
    if form.is_valid():
        try:
            services.reject_application(actor=request.user, expert=expert,
                                        reason=form.cleaned_data["reason"])  # fmt: skip
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("已退回申请。"))
            return redirect("web:expert_queue")
    return queue(request, reject_forms={expert.pk: form}, status=400)


STATUS_ACTIONS = {
    "suspend": (services.suspend_expert, SuspendForm, _("已暂停。")),
    "reinstate": (services.reinstate_expert, ReasonForm, _("已恢复。")),
    "retire": (services.retire_expert, ReasonForm, _("已退出专家库。")),
    "account": (services.link_account, AccountForm, _("已关联专家账户。")),
}


def _action_forms(expert: Expert, data: Any = None, action: str = "") -> dict[str, Any]:
    allowed_actions = {
        ExpertStatus.ACTIVE: ("suspend", "retire"),
        ExpertStatus.SUSPENDED: ("reinstate", "retire"),
    }.get(expert.status, ())  # type: ignore[call-overload]
    if expert.user_id is None and expert.status in (ExpertStatus.ACTIVE, ExpertStatus.SUSPENDED):
        allowed_actions = ("account", *allowed_actions)
    return {a: STATUS_ACTIONS[a][1](data if a == action else None, prefix=a)
            for a in allowed_actions}  # fmt: skip


@login_required
def record(request: HttpRequest, public_id: str, *, action_forms: Any = None,
           status: int = 200) -> HttpResponse:  # fmt: skip
    if refused := _staff_only(request):
        return refused
    expert = _expert_or_page(request, public_id)
    if isinstance(expert, HttpResponse):
        return expert
    context = _record_context(expert)
    context["can_rate"] = allowed(request.user, "experts.rate")
    if allowed(request.user, "experts.manage"):
        context["action_forms"] = action_forms or _action_forms(expert)
    return render(request, "web/experts/record.html", context, status=status)


@login_required
@require_POST
def change_status(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    if refused := _staff_only(request, "experts.manage"):
        return refused
    expert = _expert_or_page(request, public_id)
    if isinstance(expert, HttpResponse):
        return expert
    if action not in STATUS_ACTIONS:
        return error_page(request, 404, _("页面不存在"))
    service, form_class, done = STATUS_ACTIONS[action]
    forms_ = _action_forms(expert, request.POST, action)
    form = forms_.get(action) or form_class(request.POST, prefix=action)
    if form.is_valid():
        try:
            service(actor=request.user, expert=expert, **form.cleaned_data)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, done)
            return redirect("web:expert_record", public_id=expert.public_id)
    forms_[action] = form
    return record(request, public_id, action_forms=forms_, status=400)


# --- import and export --------------------------------------------------------------------------


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=excel.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a file; every row is checked; a refused file shows its row-level report."""
    if refused := _staff_only(request, "experts.manage"):
        return refused
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "columns": excel.COLUMNS,
                               "max_rows": excel.max_rows()}  # fmt: skip
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = excel.import_experts(actor=request.user, data=form.cleaned_data["file"])
            except excel.ImportRowsInvalid as exc:
                request.session[REPORT_SESSION_KEY] = exc.detail["errors"]
                context.update(errors=exc.detail["errors"], error_count=exc.detail["error_count"],
                               rows=exc.detail["rows"])  # fmt: skip
            except DomainError as exc:
                show_refusal(form, exc)
            else:
                request.session.pop(REPORT_SESSION_KEY, None)
                messages.success(request, _("已导入 %(n)s 名专家。") % {"n": len(result.experts)})
                return redirect("web:expert_pool")
    return render(request, "web/experts/import.html", context, status=status)


@login_required
def import_report(request: HttpRequest) -> HttpResponse:
    if refused := _staff_only(request, "experts.manage"):
        return refused
    errors = request.session.get(REPORT_SESSION_KEY)
    if not errors:
        return error_page(request, 404, _("没有导入错误报告。"))
    return _xlsx(excel.error_report(errors), "import-errors.xlsx")


@login_required
def export(request: HttpRequest) -> HttpResponse:
    if refused := _staff_only(request, "experts.manage"):
        return refused
    return _xlsx(excel.export_pool(actor=request.user), "experts.xlsx")


@login_required
def template(request: HttpRequest) -> HttpResponse:
    if refused := _staff_only(request, "experts.manage"):
        return refused
    return _xlsx(excel.template(), "experts-template.xlsx")


# --- rating a signed session's experts (the center; the section's tenderer) --------------------


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=gettext_lazy("评分"), coerce=int,
        choices=[(5, gettext_lazy("5 优秀")), (4, gettext_lazy("4 良好")),
                 (3, gettext_lazy("3 合格")), (2, gettext_lazy("2 较差")),
                 (1, gettext_lazy("1 差"))],
    )  # fmt: skip
    comment = forms.CharField(label=gettext_lazy("评价"), max_length=1000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    misconduct = forms.BooleanField(
        label=gettext_lazy("有违规行为（将立即暂停其抽取资格）"), required=False
    )


@login_required
def rating_sessions(request: HttpRequest) -> HttpResponse:
    """Signed sessions the user rates (the center: all; a tenderer: its projects')."""
    sessions = list(ratings.sessions_to_rate(request.user)[: ratings.MAX_SESSIONS])
    return render(request, "web/experts/rating_sessions.html", {"sessions": sessions})


@login_required
def rate_session(request: HttpRequest, public_id: str, *, forms_: Any = None,
                 status: int = 200) -> HttpResponse:  # fmt: skip
    """A signed session's experts, the ratings the user's sides gave, a form for each one
    still to give."""
    try:
        desk, kinds = ratings.get_desk_for(request.user, public_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    except PermissionDenied as exc:
        return error_page(request, 403, exc.message)
    session = desk.session
    signed = session.status == SessionStatus.SIGNED
    given = ratings.ratings_given(session, kinds)
    rows = []
    for member in ratings.committee_experts(session):
        for kind in sorted(kinds):
            rating = given.get((member.expert_id, kind))
            prefix = f"{member.expert.public_id}-{kind}"
            form = None
            if rating is None and signed:
                form = (forms_ or {}).get(prefix) or RatingForm(prefix=prefix)
            rows.append({"member": member, "kind": kind, "kind_label": RaterKind(kind).label,
                         "rating": rating, "form": form})  # fmt: skip
    context = {"session": session, "signed": signed, "rows": rows}
    return render(request, "web/experts/rate.html", context, status=status)


@login_required
@require_POST
def rate_expert(request: HttpRequest, public_id: str, expert_id: str, kind: str) -> HttpResponse:
    if kind not in RaterKind.values:
        return error_page(request, 404, _("页面不存在"))
    prefix = f"{expert_id}-{kind}"
    form = RatingForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            ratings.record_rating(actor=request.user, session_ref=public_id, expert_ref=expert_id,
                                  rater_kind=kind, **form.cleaned_data)  # fmt: skip
        except NotFound as exc:
            return error_page(request, 404, exc.message)
        except PermissionDenied as exc:
            return error_page(request, 403, exc.message)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("评价已提交。"))
            return redirect("web:expert_rate_session", public_id=public_id)
    return rate_session(request, public_id, forms_={prefix: form}, status=400)
