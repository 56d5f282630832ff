"""Deposit pages (投标保证金): the center's finance desk (the bank's credit notices, one at a time
or as the bank's CSV file, and the refunds due with R12/R13 deadlines), a section's deposits for
staff once its bid deadline has passed (R42), and the bidder's electronic guarantee."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ggzy.accounts.gate import allowed, holds_role_permission
from ggzy.bidding import deposits
from ggzy.bidding.models import Deposit
from ggzy.bidding.states import DepositMethod, DepositStatus
from ggzy.core import clock
from ggzy.core.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from ggzy.tendering.models import Section
from ggzy.web.forms_deposits import BankFileForm, BankNoticeForm, GuaranteeForm, RefundForm
from ggzy.web.views.common import error_page
from ggzy.web.views.tendering import refused_page, section_for_page, show_refusal

# what a refused CSV row means, for codes the import report gives without a message
ROW_MESSAGES = {
    **{code: message for _kind, code, message in deposits.OUTCOME_ERRORS.values()},
    "bank_reference_reused": "银行流水号已用于另一笔到账 (bank reference reused)",
    "credited_in_future": "到账时间晚于当前时间 (credited in the future)",
    "bad_time": "到账时间格式错误，应为 ISO 8601 (bad time)",
    "bad_amount": "金额格式错误 (not an amount)",
    "required": "必填列为空 (a required column is empty)",
    "too_long": "字段过长 (a value is too long)",
    "bad_text": "字段含非法字符 (bad text)",
}


def _can_desk(user: Any) -> bool:
    return allowed(user, "bidding.bank_notice") or allowed(user, "bidding.refund")


# --- the finance desk -------------------------------------------------------------------------


def refund_rule(section: Section) -> dict[str, Any]:
    """The refund period the section's ruleset pins: R13 working days, or R12 calendar days."""
    rules = dict(section.project.ruleset.rules)
    if "deposit_refund_working_days" in rules:
        return {"rule": "R13", "days": int(rules["deposit_refund_working_days"]), "working": True}
    return {"rule": "R12", "days": int(rules.get("deposit_refund_days", 5)), "working": False}


def _refund_row(deposit: Deposit, today: date) -> dict[str, Any]:
    late = (today - deposit.refund_due).days if deposit.refund_due else 0
    return {
        "deposit": deposit,
        "rule": refund_rule(deposit.section),
        "overdue": late > 0,
        "days_late": max(late, 0),
        "sealed": deposits.sealed_until_deadline(deposit.section),  # R42: no section, no bidder
    }


def _refund_rows(user: Any) -> list[dict[str, Any]] | None:
    if not allowed(user, "bidding.refund"):
        return None
    today = clock.today()
    rows = deposits.refunds(user).select_related("section__project__ruleset")
    return [_refund_row(d, today) for d in rows]


def _import_rows(report: deposits.ImportReport) -> list[dict[str, Any]]:
    rows = []
    for result in report.results:
        code = result.get("code")
        message = ROW_MESSAGES.get(code, code) if code else _("已入账")
        rows.append({**result, "ok": code is None, "message": message})
    return rows


def _desk(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    user = request.user
    can_notice = allowed(user, "bidding.bank_notice")
    context = {
        "can_notice": can_notice,
        "file_form": extra.pop("file_form", None) or (BankFileForm() if can_notice else None),
        "notice_form": extra.pop("notice_form", None)
        or (BankNoticeForm(prefix="notice") if can_notice else None),
        "refunds": _refund_rows(user),
        "refund_form": RefundForm(),
        "today": clock.today(),
        **extra,
    }
    return render(request, "web/deposits/desk.html", context, status=status)


def _desk_only(request: HttpRequest) -> HttpResponse | None:
    if not _can_desk(request.user):
        return error_page(request, 403, _("仅交易中心财务人员可访问。"))
    return None


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    return _desk_only(request) or _desk(request)


@login_required
@require_POST
def import_notices(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, "bidding.bank_notice"):
        return error_page(request, 403, _("仅交易中心财务人员可录入到账通知。"))
    form = BankFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _desk(request, 400, file_form=form)
    try:  # not atomic: each row commits on its own, so one bad row keeps the others
        report = deposits.import_bank_notices(
            actor=request.user, csv_text=form.cleaned_data["file"]
        )
    except DomainError as exc:
        missing = (exc.detail or {}).get("missing") if isinstance(exc.detail, dict) else None
        note = f"{exc.message}：{', '.join(missing)}" if missing else exc.message
        form.add_error("file", note)
        return _desk(request, 400, file_form=form)
    return _desk(request, report=report, report_rows=_import_rows(report))


@login_required
@require_POST
def record_notice(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, "bidding.bank_notice"):
        return error_page(request, 403, _("仅交易中心财务人员可录入到账通知。"))
    form = BankNoticeForm(request.POST, prefix="notice")
    if form.is_valid():
        try:
            deposits.record_bank_notice(actor=request.user, **form.notice())
        except DomainError as exc:
            show_refusal(form, exc)
            return _desk(request, 400, notice_form=form, notice_code=exc.code)
        messages.success(request, _("到账通知已入账，保证金已缴纳。"))
        return redirect("web:deposit_desk")
    return _desk(request, 400, notice_form=form)


@login_required
@require_POST
def mark_refunded(request: HttpRequest, deposit_id: int) -> HttpResponse:
    if refused := _desk_only(request):
        return refused
    try:
        deposit = deposits.get_deposit_for(request.user, deposit_id, action="refund")
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    form = RefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写退款流水号。"))
        return redirect("web:deposit_desk")
    try:
        deposits.mark_refunded(
            actor=request.user, deposit=deposit, reference=form.cleaned_data["reference"]
        )
    except (NotAuthenticated, PermissionDenied) as exc:
        return error_page(request, 403, exc.message)
    except DomainError as exc:
        messages.error(request, f"{exc.message}（{exc.code}）")
    else:
        messages.success(request, _("已登记退还。"))
    return redirect("web:deposit_desk")


# --- a section's deposits (staff, after the deadline) -----------------------------------------


def _shared_payers(rows: list[Deposit]) -> set[str]:
    """Payer accounts from which more than one bidder paid: a sign of collusion (串通投标)."""
    entities: dict[str, set[int]] = defaultdict(set)
    for d in rows:
        if d.payer_account:
            entities[d.payer_account].add(d.entity_id)
    return {account for account, ids in entities.items() if len(ids) > 1}


@login_required
def section_deposits(request: HttpRequest, section_id: str) -> HttpResponse:
    if not holds_role_permission(request.user, "bidding.view_deposit"):
        return error_page(request, 403, _("仅交易中心和监督人员可访问。"))
    section = section_for_page(request, section_id)
    if isinstance(section, HttpResponse):
        return section
    context: dict[str, Any] = {"section": section, "project": section.project}
    try:
        rows = list(deposits.deposits_for_section(request.user, section))
    except PermissionDenied as exc:
        if exc.code != "sealed_until_deadline":
            return error_page(request, 403, exc.message)
        return render(request, "web/deposits/section.html", {**context, "sealed": exc.message})
    shared = _shared_payers(rows)
    context["rows"] = [{"deposit": d, "shared_payer": d.payer_account in shared} for d in rows]
    context["shared_count"] = len(shared)
    return render(request, "web/deposits/section.html", context)


# --- the bidder's electronic guarantee --------------------------------------------------------


def _guarantee_page(
    request: HttpRequest, deposit: Deposit, form: GuaranteeForm, status: int = 200, **extra: Any
) -> HttpResponse:
    open_for_guarantee = (
        deposit.method == DepositMethod.GUARANTEE and deposit.status == DepositStatus.PENDING
    )
    context = {"deposit": deposit, "form": form, "open": open_for_guarantee, **extra}
    return render(request, "web/deposits/guarantee.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def submit_guarantee(request: HttpRequest, deposit_id: int) -> HttpResponse:
    try:
        deposit = deposits.get_deposit_for(request.user, deposit_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    if request.method == "GET":
        return _guarantee_page(request, deposit, GuaranteeForm())
    form = GuaranteeForm(request.POST, request.FILES)
    if not form.is_valid():
        return _guarantee_page(request, deposit, form, 400)
    try:
        deposits.submit_guarantee(actor=request.user, deposit=deposit,
                                  document=form.cleaned_data["document"],
                                  **form.signature_kwargs())  # fmt: skip
    except (NotAuthenticated, PermissionDenied) as exc:
        return refused_page(request, exc)
    except DomainError as exc:
        refusal = {"message": exc.message, "code": exc.code}
        return _guarantee_page(request, deposit, form, 400, refusal=refusal)
    messages.success(request, _("电子保函已验证，保证金已落实。"))
    section = deposit.section
    return redirect("web:bid_submit", public_id=section.project.public_id,
                    section_id=section.public_id)  # fmt: skip
