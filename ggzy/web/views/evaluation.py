"""Evaluation pages: the center's session list and console (state, and who has scored what —
counts, not scores, until the report), the qualification review, the expert's scoring sheet
(bid documents by their anonymous labels only, with a heartbeat that records the time spent on
each), and the report with its signature status. Views parse, call one service or selector,
and render."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ggzy.accounts.gate import allowed
from ggzy.bidding.models import Opening
from ggzy.bidding.states import OpeningStatus
from ggzy.core.errors import DomainError, NotFound
from ggzy.evaluation import selectors, services, services_report, services_review, services_scoring
from ggzy.evaluation.models import EvaluationSession
from ggzy.evaluation.report import METHOD_LABELS
from ggzy.evaluation.states import SessionStatus
from ggzy.experts import draw_selectors
from ggzy.experts.models import Expert
from ggzy.tendering import selectors as tendering
from ggzy.web.forms_evaluation import (
    CommitteeForm,
    CreateSessionForm,
    LowPriceForm,
    ReasonForm,
    ScoreSheetForm,
    SignatureForm,
    VoteForm,
)
from ggzy.web.views.common import error_page

HEARTBEAT_SECONDS = services_scoring.HEARTBEAT_SECONDS


def show_refusal(form: forms.Form, exc: DomainError) -> None:
    field = exc.detail.get("field") if isinstance(exc.detail, dict) else None
    form.add_error(field if field in form.fields else None, exc.message)


def _session(request: HttpRequest, public_id: str) -> EvaluationSession | HttpResponse:
    try:
        return selectors.get_session_for(request.user, public_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


def _back(session: EvaluationSession, where: str = "web:evaluation") -> HttpResponse:
    return redirect(where, session.public_id)


# --- the list and the console -------------------------------------------------------------------


@login_required
def sessions(request: HttpRequest, *, form: CreateSessionForm | None = None,
             status: int = 200) -> HttpResponse:  # fmt: skip
    """The center's sessions (and sections whose signed opening awaits evaluation); a
    member's own sessions."""
    rows = list(selectors.sessions_for(request.user)[:100])
    if (
        not rows
        and not allowed(request.user, "evaluation.view")
        and not allowed(request.user, "experts.apply")
    ):
        return error_page(request, 403, _("仅交易中心、监督部门和评标委员会成员可访问。"))
    waiting = []
    if selectors.can_run(request.user):
        waiting = list(
            Opening.objects.filter(status=OpeningStatus.CLOSED, evaluation__isnull=True)
            .select_related("section__project")
            .order_by("-closed_at")[:50]
        )
    return render(request, "web/evaluation/sessions.html", {
        "rows": rows, "waiting": waiting, "form": form or CreateSessionForm(),
        "can_run": selectors.can_run(request.user),
    }, status=status)  # fmt: skip


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    form = CreateSessionForm(request.POST)
    if form.is_valid():
        try:
            section = tendering.get_section(request.user, form.cleaned_data["section"])
            session = services.create_session(actor=request.user, section=section)
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("评标会已创建。"))
            return _back(session)
    return sessions(request, form=form, status=400)


def _console_context(request: HttpRequest, session: EvaluationSession) -> dict[str, Any]:
    member = services.member_of(request.user, session)
    staff = member is None and selectors.is_staff_reader(request.user, session)
    return {
        "session": session,
        "method": METHOD_LABELS.get(session.scheme["method"], session.scheme["method"]),
        "progress": services_report.progress(session),
        "bids": selectors.bids(session),
        "staff": staff,
        "member": member,
        "can_run": selectors.can_run(request.user),
        "signed": {s.member_id for s in session.signatures.all()},
        "revealed": selectors.revealed_labels(session),
        "extension_requests": session.extension_requests.count(),
    }


@login_required
def console(request: HttpRequest, public_id: str, *,
            committee_form: CommitteeForm | None = None, status: int = 200) -> HttpResponse:  # fmt: skip
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    context = _console_context(request, session)
    context["committee_form"] = committee_form or CommitteeForm()
    return render(request, "web/evaluation/console.html", context, status=status)


@login_required
@require_POST
def form_committee(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    form = CommitteeForm(request.POST)
    if form.is_valid():
        try:
            if form.cleaned_data["draw"]:
                return _committee_from_draw(request, session, form)
            if not form.cleaned_data["experts"].strip():
                form.add_error("experts", _("请填写专家抽取编号或专家名单"))
                return console(request, public_id, committee_form=form, status=400)
            experts = []
            for ident in CommitteeForm.lines(form.cleaned_data["experts"]):
                expert = Expert.objects.filter(public_id=ident[:32]).first()
                if expert is None:
                    raise NotFound(
                        _("专家不存在：%(id)s") % {"id": ident[:32]}, code="expert_not_found"
                    )
                experts.append(expert)
            users = get_user_model().objects
            reps = [u for name in CommitteeForm.lines(form.cleaned_data["tenderer_reps"])
                    if (u := users.filter(username=name, is_active=True).first()) is not None]  # fmt: skip
            chair_id = form.cleaned_data["chair"]
            chair: Any = next((e for e in experts if e.public_id == chair_id), None) or next(
                (u for u in reps if u.username == chair_id), None)  # fmt: skip
            if chair is None:
                form.add_error("chair", _("主任委员须为委员会成员"))
            else:
                services.form_committee(actor=request.user, session=session, experts=experts,
                                        chair=chair, tenderer_reps=reps)  # fmt: skip
                messages.success(request, _("评标委员会已组建。"))
                return _back(session)
        except DomainError as exc:
            show_refusal(form, exc)
    return console(request, public_id, committee_form=form, status=400)


def _committee_from_draw(request: HttpRequest, session: Any, form: CommitteeForm) -> HttpResponse:
    """The committee from a revealed draw: every expert who confirmed it is seated."""
    draw = draw_selectors.get_draw_for(request.user, form.cleaned_data["draw"])
    users = get_user_model().objects
    reps = [u for name in CommitteeForm.lines(form.cleaned_data["tenderer_reps"])
            if (u := users.filter(username=name, is_active=True).first()) is not None]  # fmt: skip
    chair_id = form.cleaned_data["chair"]
    chair: Any = None
    if chair_id:
        chair = Expert.objects.filter(public_id=chair_id[:32]).first() or next(
            (u for u in reps if u.username == chair_id), None)  # fmt: skip
        if chair is None:
            raise NotFound(_("专家不存在：%(id)s") % {"id": chair_id[:32]}, code="expert_not_found")
    services.form_committee_from_draw(actor=request.user, session=session, draw=draw,
                                      chair=chair, tenderer_reps=reps)  # fmt: skip
    messages.success(request, _("评标委员会已按专家抽取结果组建。"))
    return _back(session)


def _step(request: HttpRequest, public_id: str, action: Any, done: str) -> HttpResponse:
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    try:
        action(actor=request.user, session=session)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return _back(session)


@login_required
@require_POST
def start_review(request: HttpRequest, public_id: str) -> HttpResponse:
    return _step(
        request,
        public_id,
        services_review.start_review,
        _("已完成自动审查，请委员会成员逐项确认。"),
    )


@login_required
@require_POST
def start_scoring(request: HttpRequest, public_id: str) -> HttpResponse:
    return _step(request, public_id, services_review.start_scoring, _("审查结束，评分开始。"))


@login_required
@require_POST
def build_report(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    try:
        services_report.build_report(actor=request.user, session=session)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(session)
    messages.success(request, _("评标报告已生成，请各成员签署。"))
    return _back(session, "web:evaluation_report")


# --- the qualification review -------------------------------------------------------------------


@login_required
def review(request: HttpRequest, public_id: str, *, errors: dict[int, VoteForm] | None = None,
           status: int = 200) -> HttpResponse:  # fmt: skip
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    member = services.member_of(request.user, session)
    mine = selectors.my_votes(session, member) if member else {}
    rows = []
    for f in selectors.findings(session):
        votes = list(f.votes.all())
        rows.append({
            "finding": f, "votes": len(votes), "overruled": sum(1 for v in votes if not v.agrees),
            "mine": mine.get(f.pk),
            "form": (errors or {}).get(f.pk) or VoteForm(prefix=f"f{f.pk}", initial={"agrees": "yes"}),
        })  # fmt: skip
    return render(request, "web/evaluation/review.html", {
        "session": session, "rows": rows, "member": member,
        "open": session.status == SessionStatus.QUALIFICATION,
    }, status=status)  # fmt: skip


@login_required
@require_POST
def vote(request: HttpRequest, public_id: str, finding_id: int) -> HttpResponse:
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    form = VoteForm(request.POST, prefix=f"f{finding_id}")
    if form.is_valid():
        try:
            services_review.cast_votes(actor=request.user, session=session, votes=[
                (finding_id, form.cleaned_data["agrees"], form.cleaned_data["reason"])])  # fmt: skip
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            return redirect("web:evaluation_review", session.public_id)
    return review(request, public_id, errors={finding_id: form}, status=400)


@login_required
@require_POST
def confirm_all(request: HttpRequest, public_id: str) -> HttpResponse:
    """Confirm every automated finding the member has not voted on yet."""
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    member = services.member_of(request.user, session)
    mine = selectors.my_votes(session, member) if member else {}
    rest = [(f.pk, True, "") for f in selectors.findings(session) if f.pk not in mine]
    try:
        services_review.cast_votes(actor=request.user, session=session, votes=rest)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("web:evaluation_review", session.public_id)


# --- the expert's scoring sheet -----------------------------------------------------------------


@login_required
def sheet(request: HttpRequest, public_id: str, *, form: ScoreSheetForm | None = None,
          status: int = 200) -> HttpResponse:  # fmt: skip
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    try:
        data = selectors.sheet(request.user, session)
    except NotFound:
        return error_page(request, 403, _("仅本评标委员会成员可打开评分表。"))
    label = request.GET.get("bid") or (data["bids"][0]["label"] if data["bids"] else "")
    current = next((b for b in data["bids"] if b["label"] == label), None)
    if form is None and current is not None:
        initial = {}
        for cid, given in current["scores"].items():
            initial[f"points_{cid}"] = given["points"]
            initial[f"note_{cid}"] = given["justification"]
        form = ScoreSheetForm(initial=initial, criteria=data["criteria"])
    return render(request, "web/evaluation/sheet.html", {
        "session": session, "sheet": data, "current": current, "form": form,
        "scoring": session.status == SessionStatus.SCORING,
        "viewing": session.status in (SessionStatus.QUALIFICATION, SessionStatus.SCORING),
        "heartbeat_ms": HEARTBEAT_SECONDS * 1000,
        "extension_form": ReasonForm(prefix="ext"), "low_price_form": LowPriceForm(prefix="low"),
    }, status=status)  # fmt: skip


@login_required
@require_POST
def save_scores(request: HttpRequest, public_id: str, label: str) -> HttpResponse:
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    try:
        data = selectors.sheet(request.user, session)
    except NotFound:
        return error_page(request, 403, _("仅本评标委员会成员可评分。"))
    form = ScoreSheetForm(request.POST, criteria=data["criteria"])
    if form.is_valid():
        entries = [services_scoring.ScoreEntry(label, c["id"], form.cleaned_data[f"points_{c['id']}"],
                                               form.cleaned_data[f"note_{c['id']}"])
                   for c in data["criteria"]]  # fmt: skip
        try:
            services_scoring.submit_scores(actor=request.user, session=session, entries=entries)
        except DomainError as exc:
            criterion = exc.detail.get("criterion") if isinstance(exc.detail, dict) else None
            name = f"points_{criterion}"
            form.add_error(name if name in form.fields else None, exc.message)
        else:
            messages.success(request, _("投标文件 %(label)s 的评分已保存。") % {"label": label})
            return redirect(
                reverse("web:evaluation_sheet", args=[session.public_id]) + f"?bid={label}"
            )
    request.GET = request.GET.copy()
    request.GET["bid"] = label
    return sheet(request, public_id, form=form, status=400)


@login_required
@require_POST
def request_extension(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    form = ReasonForm(request.POST, prefix="ext")
    try:
        if not form.is_valid():
            raise DomainError(_("请填写理由"), code="reason_required")
        services_scoring.request_extension(actor=request.user, session=session,
                                           reason=form.cleaned_data["reason"])  # fmt: skip
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已提出延长评标时间的请求。"))
    return redirect("web:evaluation_sheet", session.public_id)


@login_required
@require_POST
def decide_low_price(request: HttpRequest, public_id: str, label: str) -> HttpResponse:
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    form = LowPriceForm(request.POST, prefix="low")
    try:
        if not form.is_valid():
            raise DomainError(_("请选择意见并填写审查意见"), code="reason_required")
        services_scoring.decide_low_price(actor=request.user, session=session, bid=label,
                                          accepted=form.cleaned_data["accepted"],
                                          note=form.cleaned_data["note"])  # fmt: skip
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已记录委员会对异常低价说明的意见。"))
    return redirect("web:evaluation_sheet", session.public_id)


# --- the report ---------------------------------------------------------------------------------


@login_required
def report(request: HttpRequest, public_id: str, *, form: SignatureForm | None = None,
           status: int = 200) -> HttpResponse:  # fmt: skip
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    data = selectors.report_data(session)
    signed = selectors.signatures(session)
    member = services.member_of(request.user, session)
    names = {c["id"]: c["name"] for c in (data or {}).get("scheme", {}).get("criteria", [])}
    return render(request, "web/evaluation/report.html", {
        "session": session, "report": data, "criteria_names": names,
        "method": METHOD_LABELS.get(session.scheme["method"], session.scheme["method"]),
        "members": [{"member": m, "signature": signed.get(m.pk)} for m in selectors.members(session)],
        "member": member, "can_sign": member is not None and member.pk not in signed
        and session.status == SessionStatus.REPORT,
        "form": form or SignatureForm(), "revealed": selectors.revealed_labels(session),
    }, status=status)  # fmt: skip


@login_required
@require_POST
def sign(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _session(request, public_id)
    if isinstance(session, HttpResponse):
        return session
    form = SignatureForm(request.POST)
    if form.is_valid():
        try:
            services_report.sign_report(actor=request.user, session=session,
                                        sigfile=form.cleaned_data["sigfile"])  # fmt: skip
        except DomainError as exc:
            form.add_error("sigfile", exc.message)
        else:
            messages.success(request, _("您已签署评标报告。"))
            return redirect("web:evaluation_report", session.public_id)
    return report(request, public_id, form=form, status=400)


# the pages' URLs, included by ggzy/web/urls.py (names under ``web:``)
URLS = [
    path("evaluation/", sessions, name="evaluations"),
    path("evaluation/new/", create, name="evaluation_create"),
    path("evaluation/<str:public_id>/", console, name="evaluation"),
    path("evaluation/<str:public_id>/committee/", form_committee, name="evaluation_committee"),
    path("evaluation/<str:public_id>/review/start/", start_review, name="evaluation_review_start"),
    path("evaluation/<str:public_id>/review/", review, name="evaluation_review"),
    path("evaluation/<str:public_id>/review/confirm/", confirm_all,
         name="evaluation_confirm_all"),
    path("evaluation/<str:public_id>/review/<int:finding_id>/", vote, name="evaluation_vote"),
    path("evaluation/<str:public_id>/scoring/start/", start_scoring,
         name="evaluation_scoring_start"),
    path("evaluation/<str:public_id>/sheet/", sheet, name="evaluation_sheet"),
    path("evaluation/<str:public_id>/sheet/<str:label>/", save_scores, name="evaluation_scores"),
    path("evaluation/<str:public_id>/sheet/<str:label>/low-price/", decide_low_price,
         name="evaluation_low_price"),
    path("evaluation/<str:public_id>/extension/", request_extension,
         name="evaluation_extension"),
    path("evaluation/<str:public_id>/report/build/", build_report,
         name="evaluation_report_build"),
    path("evaluation/<str:public_id>/report/", report, name="evaluation_report"),
    path("evaluation/<str:public_id>/report/sign/", sign, name="evaluation_sign"),
]  # fmt: skip
