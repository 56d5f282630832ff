"""Result pages (中标结果): the list (public results for everyone; with the warnings for the
center, supervision and a tenderer side), a section's public result (candidates' publicity,
award notice with its signature, the published contract), the tenderer's confirmation page
(publish the candidates, answer objections, confirm the winner, record the contract and its
obligations), and a bidder's own result (R61) with its objection form. Views parse, call one
service or selector, and render."""

from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ggzy.award import periods, selectors, services, services_contract
from ggzy.award.models import Publicity
from ggzy.award.services import rules_for
from ggzy.award.states import ENTERED_KINDS, ObligationKind, SecurityForm, WithdrawalGround
from ggzy.core import clock
from ggzy.core.errors import DomainError, NotFound
from ggzy.registry.models import Entity
from ggzy.tendering.models import Section
from ggzy.web.views.common import error_page

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MOMENT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MOMENT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


# --- forms (shape only; every rule is the services') --------------------------------------------


class PublicityForm(forms.Form):
    starts_at = forms.DateTimeField(label=gettext_lazy("公示开始时间"), required=False,
                                    widget=MOMENT, input_formats=MOMENT_FORMATS,
                                    help_text=gettext_lazy("留空为立即开始（北京时间）"))  # fmt: skip
    ends_at = forms.DateTimeField(label=gettext_lazy("公示结束时间"), widget=MOMENT,
                                  input_formats=MOMENT_FORMATS)  # fmt: skip


class ReplyForm(forms.Form):
    reply = forms.CharField(label=gettext_lazy("答复"), max_length=5000, widget=forms.Textarea)


class AwardForm(forms.Form):
    rank = forms.TypedChoiceField(label=gettext_lazy("中标人"), coerce=int)
    reason = forms.CharField(label=gettext_lazy("未选第一名的理由"), max_length=2000,
                             required=False, widget=forms.Textarea)  # fmt: skip

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rank"].choices = choices  # type: ignore[attr-defined]


class WithdrawForm(forms.Form):
    rank = forms.TypedChoiceField(label=gettext_lazy("中标候选人"), coerce=int)
    ground = forms.ChoiceField(label=gettext_lazy("退出情形"), choices=WithdrawalGround.choices)
    reason = forms.CharField(label=gettext_lazy("说明"), max_length=2000, widget=forms.Textarea)

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rank"].choices = choices  # type: ignore[attr-defined]


class ReportForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("书面报告文号"), max_length=64)


class ContractForm(forms.Form):
    amount = forms.CharField(label=gettext_lazy("合同金额（元）"), max_length=20)
    signed_on = forms.DateField(label=gettext_lazy("签订日期"), widget=DATE)
    security_amount = forms.CharField(label=gettext_lazy("履约保证金（元）"), max_length=20,
                                      initial="0")  # fmt: skip
    security_form = forms.ChoiceField(label=gettext_lazy("履约保证金形式"),
                                      choices=SecurityForm.choices)  # fmt: skip


class FilingForm(forms.Form):
    reference = forms.CharField(label=gettext_lazy("备案编号"), max_length=64)


class ObligationForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类别"),
                             choices=[(k, ObligationKind(k).label) for k in sorted(ENTERED_KINDS)])  # fmt: skip
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    amount = forms.CharField(label=gettext_lazy("金额（元）"), max_length=20)
    due_on = forms.DateField(label=gettext_lazy("应缴/应付日期"), widget=DATE)
    refund_due_on = forms.DateField(label=gettext_lazy("应退还日期（保证金）"), required=False,
                                    widget=DATE)  # fmt: skip


class SettleForm(forms.Form):
    status = forms.ChoiceField(choices=[("paid", gettext_lazy("已缴纳/已支付")),
                                        ("refunded", gettext_lazy("已退还"))])  # fmt: skip
    on = forms.DateField(label=gettext_lazy("日期"), widget=DATE)
    reference = forms.CharField(label=gettext_lazy("凭证号"), max_length=64, required=False)


class ObjectionForm(forms.Form):
    entity = forms.ChoiceField(label=gettext_lazy("异议人"))
    reason = forms.CharField(label=gettext_lazy("异议事项及理由"), max_length=5000,
                             widget=forms.Textarea)  # fmt: skip

    def __init__(self, *args: Any, entities: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = entities  # type: ignore[attr-defined]


def show_refusal(form: forms.Form, exc: DomainError) -> None:
    field = exc.detail.get("field") if isinstance(exc.detail, dict) else None
    form.add_error(field if field in form.fields else None, exc.message)


def _section(request: HttpRequest, section_id: str) -> Section | HttpResponse:
    try:
        return selectors.get_section(request.user, section_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


def _first_error(form: forms.Form) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return _("请检查填写内容")


# --- the list -------------------------------------------------------------------------------------


def awards(request: HttpRequest) -> HttpResponse:
    """Everyone sees the results whose publicity has started; the center, supervision and a
    tenderer side see their results in every stage, with the warnings."""
    actor = request.user
    rows = selectors.overview(actor) if request.user.is_authenticated else []
    scoped = bool(rows) or selectors.can_view_all(actor)
    if not scoped:
        rows = selectors.public_overview()
    warnings = selectors.warnings(actor) if scoped else []
    return render(request, "web/award/list.html", {"rows": rows, "warnings": warnings,
                                                   "scoped": scoped})  # fmt: skip


# --- a section's public result -----------------------------------------------------------------


def _public_context(request: HttpRequest, section: Section) -> dict[str, Any]:
    actor = request.user
    context: dict[str, Any] = {"section": section,
                               "stage": selectors.visible_stage(actor, section),
                               "publicity": None, "candidates": [], "show_scores": False,
                               "award": None, "verified": False, "contract": None}  # fmt: skip
    try:
        publicity = selectors.visible_publicity(actor, section)
    except NotFound:
        return context
    context["publicity"], context["candidates"] = publicity, selectors.candidates(publicity)
    context["show_scores"] = selectors.scores_public(actor, publicity)
    award = selectors.award_of(section)
    if award is not None:
        context["award"], context["verified"] = award, selectors.award_verified(award)
    with contextlib.suppress(NotFound):
        context["contract"] = selectors.visible_contract(actor, section)
    return context


def result(request: HttpRequest, section_id: str) -> HttpResponse:
    section = _section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    context = _public_context(request, section)
    context["can_manage"] = selectors.can_manage(request.user, section)
    context["now"] = clock.now()
    return render(request, "web/award/result.html", context)


# --- the tenderer's confirmation page -----------------------------------------------------------


def _manage_context(request: HttpRequest, section: Section, **forms_in: Any) -> dict[str, Any]:
    context = _public_context(request, section)
    publicity: Publicity | None = selectors.publicity_of(section)
    context["publicity"] = publicity
    context["candidates"] = selectors.candidates(publicity) if publicity else []
    context["preview"] = [] if publicity else selectors.report_candidates(section)
    context["show_scores"] = True  # the tenderer side and staff only (checked by ``manage``)
    context["objections"] = selectors.objections_for(request.user, publicity) if publicity else []
    context["contract"] = selectors.contract_of(section)
    context["tracker"] = selectors.obligations_for(request.user, section)
    context["can_manage"] = selectors.can_manage(request.user, section)
    choices = [(c.rank, f"{c.rank}. {c.entity.name}") for c in context["candidates"]
               if c.withdrawn_at is None]  # fmt: skip
    award = context["award"]
    context["award_report_due"] = (
        periods.award_report_due(award.issued_at, rules_for(section)) if award else None
    )
    context["forms"] = {
        "publicity": forms_in.get("publicity") or PublicityForm(),
        "award": forms_in.get("award") or AwardForm(choices=choices),
        "withdraw": forms_in.get("withdraw") or WithdrawForm(choices=choices),
        "report": forms_in.get("report") or ReportForm(),
        "contract": forms_in.get("contract") or ContractForm(
            initial={"amount": context["award"].amount if context["award"] else ""}),
        "filing": forms_in.get("filing") or FilingForm(),
        "obligation": forms_in.get("obligation") or ObligationForm(),
        "reply": ReplyForm(), "settle": SettleForm(),
    }  # fmt: skip
    return context


@login_required
def manage(request: HttpRequest, section_id: str, *, status: int = 200,
           **forms_in: Any) -> HttpResponse:  # fmt: skip
    section = _section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    if not selectors.can_view_all(request.user, section):
        return error_page(request, 404, _("页面不存在"))
    return render(request, "web/award/manage.html", _manage_context(request, section, **forms_in),
                  status=status)  # fmt: skip


def _manage_post(request: HttpRequest, section_id: str, form_name: str, form: forms.Form,
                 action: Any, done: str) -> HttpResponse:  # fmt: skip
    """Validate ``form``, run ``action(section, cleaned_data)``; back to the page on success,
    the page with the form's errors (400) on a refusal."""
    section = _section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    if form.is_valid():
        try:
            action(section, form.cleaned_data)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, done)
            return redirect("web:award_manage", section.public_id)
    return manage(request, section_id, status=400, **{form_name: form})


@login_required
@require_POST
def publish(request: HttpRequest, section_id: str) -> HttpResponse:
    def act(section: Section, d: dict[str, Any]) -> None:
        services.publish_candidates(actor=request.user, section=section, ends_at=d["ends_at"],
                                    starts_at=d["starts_at"] or None)  # fmt: skip

    return _manage_post(request, section_id, "publicity", PublicityForm(request.POST), act,
                        _("中标候选人公示已发布。"))  # fmt: skip


@login_required
@require_POST
def reply(request: HttpRequest, section_id: str, objection_id: str) -> HttpResponse:
    form = ReplyForm(request.POST)
    try:
        objection = selectors.get_objection_for(request.user, objection_id)
        if not form.is_valid():
            raise DomainError(_first_error(form), code="validation_error")
        services.answer_objection(actor=request.user, objection=objection,
                                  reply=form.cleaned_data["reply"])  # fmt: skip
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("异议已答复。"))
    return redirect("web:award_manage", section_id)


@login_required
@require_POST
def confirm(request: HttpRequest, section_id: str) -> HttpResponse:
    section = _section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    publicity = selectors.publicity_of(section)
    choices = (
        [(c.rank, c.entity.name) for c in selectors.candidates(publicity)] if publicity else []
    )

    def act(section: Section, d: dict[str, Any]) -> None:
        services.issue_award(actor=request.user, section=section, rank=d["rank"],
                             reason=d["reason"])  # fmt: skip

    return _manage_post(request, section_id, "award", AwardForm(request.POST, choices=choices),
                        act, _("中标通知书已发出。"))  # fmt: skip


def _rank_choices(section: Section) -> list[tuple[int, str]]:
    publicity = selectors.publicity_of(section)
    return [(c.rank, c.entity.name) for c in selectors.candidates(publicity)] if publicity else []


@login_required
@require_POST
def withdraw(request: HttpRequest, section_id: str) -> HttpResponse:
    section = _section(request, section_id)
    if isinstance(section, HttpResponse):
        return section

    def act(section: Section, d: dict[str, Any]) -> None:
        services.withdraw_candidate(actor=request.user, section=section, rank=d["rank"],
                                    ground=d["ground"], reason=d["reason"])  # fmt: skip

    form = WithdrawForm(request.POST, choices=_rank_choices(section))
    return _manage_post(request, section_id, "withdraw", form, act,
                        _("中标候选人退出已记录。"))  # fmt: skip


@login_required
@require_POST
def report(request: HttpRequest, section_id: str) -> HttpResponse:
    def act(section: Section, d: dict[str, Any]) -> None:
        services.file_award_report(actor=request.user, section=section,
                                   reference=d["reference"])  # fmt: skip

    return _manage_post(request, section_id, "report", ReportForm(request.POST), act,
                        _("书面报告已记录。"))  # fmt: skip


@login_required
@require_POST
def contract(request: HttpRequest, section_id: str) -> HttpResponse:
    def act(section: Section, d: dict[str, Any]) -> None:
        row = services_contract.record_contract(
            actor=request.user, section=section, amount=d["amount"], signed_on=d["signed_on"],
            security_amount=d["security_amount"], security_form=d["security_form"],
        )  # fmt: skip
        if row.late:
            messages.warning(request, _("合同签订已超过法定期限，已记录为逾期签订。"))

    return _manage_post(request, section_id, "contract", ContractForm(request.POST), act,
                        _("合同已登记。"))  # fmt: skip


def _contract_step(request: HttpRequest, section_id: str, form_name: str, form: forms.Form,
                   step: Any, done: str) -> HttpResponse:  # fmt: skip
    def act(section: Section, d: dict[str, Any]) -> None:
        row = selectors.contract_of(section)
        if row is None:
            raise NotFound(_("合同尚未登记"), code="contract_not_found")
        step(row, d)

    return _manage_post(request, section_id, form_name, form, act, done)


@login_required
@require_POST
def publish_contract(request: HttpRequest, section_id: str) -> HttpResponse:
    return _contract_step(
        request, section_id, "filing", forms.Form(request.POST),
        lambda row, d: services_contract.publish_contract(actor=request.user, contract=row),
        _("合同已公告。"),
    )  # fmt: skip


@login_required
@require_POST
def file_contract(request: HttpRequest, section_id: str) -> HttpResponse:
    return _contract_step(
        request, section_id, "filing", FilingForm(request.POST),
        lambda row, d: services_contract.file_contract(actor=request.user, contract=row,
                                                       reference=d["reference"]),
        _("合同备案已记录。"),
    )  # fmt: skip


@login_required
@require_POST
def add_obligation(request: HttpRequest, section_id: str) -> HttpResponse:
    return _contract_step(
        request, section_id, "obligation", ObligationForm(request.POST),
        lambda row, d: services_contract.add_obligation(
            actor=request.user, contract=row, kind=d["kind"], name=d["name"], amount=d["amount"],
            due_on=d["due_on"], refund_due_on=d["refund_due_on"]),
        _("款项已添加。"),
    )  # fmt: skip


@login_required
@require_POST
def settle(request: HttpRequest, section_id: str, obligation_id: int) -> HttpResponse:
    form = SettleForm(request.POST)
    try:
        row = selectors.get_obligation_for(request.user, obligation_id)
        if not form.is_valid():
            raise DomainError(_first_error(form), code="validation_error")
        services_contract.settle_obligation(actor=request.user, obligation=row,
                                            status=form.cleaned_data["status"],
                                            on=form.cleaned_data["on"],
                                            reference=form.cleaned_data["reference"])  # fmt: skip
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已记录。"))
    return redirect("web:award_manage", section_id)


# --- a bidder's own result (R61) ------------------------------------------------------------------


def _my_entities(request: HttpRequest, section: Section) -> list[tuple[str, str]]:
    publicity = selectors.publicity_of(section)
    if publicity is None:
        return []
    rows = Entity.objects.filter(
        memberships__user_id=request.user.pk,
        pk__in=publicity.session.bids.values("entity_id"),
    ).order_by("name")
    return [(e.uscc, e.name) for e in rows]


@login_required
def mine(request: HttpRequest, section_id: str, *, form: ObjectionForm | None = None,
         status: int = 200) -> HttpResponse:  # fmt: skip
    section = _section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    try:
        results = selectors.my_results(request.user, section)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    publicity = selectors.publicity_of(section)
    assert publicity is not None
    now = clock.now()
    return render(request, "web/award/mine.html", {
        "section": section, "results": results, "publicity": publicity,
        "objections": selectors.objections_for(request.user, publicity),
        "open": publicity.starts_at <= now < publicity.ends_at
        and selectors.award_of(section) is None,
        "form": form or ObjectionForm(entities=_my_entities(request, section)),
    }, status=status)  # fmt: skip


@login_required
@require_POST
def object_to(request: HttpRequest, section_id: str) -> HttpResponse:
    section = _section(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    form = ObjectionForm(request.POST, entities=_my_entities(request, section))
    if form.is_valid():
        try:
            publicity = selectors.visible_publicity(request.user, section)
            entity = Entity.objects.get(uscc=form.cleaned_data["entity"])
            services.raise_objection(actor=request.user, publicity=publicity, entity=entity,
                                     reason=form.cleaned_data["reason"])  # fmt: skip
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("异议已提交，招标人应在法定期限内答复。"))
            return redirect("web:award_mine", section.public_id)
    return mine(request, section_id, form=form, status=400)


URLS = [
    path("award/", awards, name="awards"),
    path("award/sections/<str:section_id>/", result, name="award_result"),
    path("award/sections/<str:section_id>/mine/", mine, name="award_mine"),
    path("award/sections/<str:section_id>/mine/objections/", object_to, name="award_object"),
    path("award/sections/<str:section_id>/manage/", manage, name="award_manage"),
    path("award/sections/<str:section_id>/manage/candidates/", publish, name="award_publish"),
    path("award/sections/<str:section_id>/manage/objections/<str:objection_id>/reply/", reply,
         name="award_reply"),
    path("award/sections/<str:section_id>/manage/award/", confirm, name="award_confirm"),
    path("award/sections/<str:section_id>/manage/withdraw/", withdraw, name="award_withdraw"),
    path("award/sections/<str:section_id>/manage/report/", report, name="award_report"),
    path("award/sections/<str:section_id>/manage/contract/", contract, name="award_contract"),
    path("award/sections/<str:section_id>/manage/contract/publish/", publish_contract,
         name="award_contract_publish"),
    path("award/sections/<str:section_id>/manage/contract/filing/", file_contract,
         name="award_contract_file"),
    path("award/sections/<str:section_id>/manage/obligations/", add_obligation,
         name="award_obligation_add"),
    path("award/sections/<str:section_id>/manage/obligations/<int:obligation_id>/settle/", settle,
         name="award_obligation_settle"),
]  # fmt: skip
