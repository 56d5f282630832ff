"""The draw's pages: the organizing desk's draw request and a draw's status (counts and
pseudonyms only while it is sealed, R17; who, once the session has started and it is revealed),
the expert's own invitations with confirm and decline, and the supervision's verification page.
Views parse, call one service or selector, and render."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ggzy.accounts.gate import allowed
from ggzy.bidding.models import Opening
from ggzy.bidding.states import OpeningStatus
from ggzy.core import clock
from ggzy.core.errors import DomainError, NotFound
from ggzy.experts import draw_answers, draw_selectors, draw_services, draw_verify
from ggzy.experts.draw_services import QuotaTerms
from ggzy.tendering.models import Section
from ggzy.web.views.common import error_page, region_choices

QUOTA_LINE = re.compile(r"^\s*([A-Za-z][0-9.]*)\s+(\d{1,2})(?:\s+(\d{1,2}))?(?:\s+(\d{1,2}))?\s*$")


class DrawForm(forms.Form):
    section = forms.ChoiceField(label=gettext_lazy("标段（已开标）"))
    session_at = forms.DateTimeField(
        label=gettext_lazy("评标开始时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    quotas = forms.CharField(
        label=gettext_lazy("专业名额"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "每行一个：专业代码 正选人数 [备选人数] [至少外地人数]，如 A01 5 2 2"
        ),
    )
    include_regions = forms.MultipleChoiceField(label=gettext_lazy("限定地区"), required=False)
    exclude_regions = forms.MultipleChoiceField(label=gettext_lazy("排除地区"), required=False)
    other_regions_only = forms.BooleanField(
        label=gettext_lazy("仅从外地抽取（远程异地评标）"), required=False
    )
    home_region = forms.ChoiceField(label=gettext_lazy("本地（默认项目所在地）"), required=False)
    avoid_days = forms.IntegerField(
        label=gettext_lazy("同一招标人回避期（日）"), required=False, min_value=0, max_value=1095
    )

    def __init__(self, *args: Any, sections: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = region_choices()
        self.fields["section"].choices = sections
        self.fields["include_regions"].choices = regions
        self.fields["exclude_regions"].choices = regions
        self.fields["home_region"].choices = [("", "—"), *regions]

    def clean_quotas(self) -> list[QuotaTerms]:
        out = []
        for n, line in enumerate(self.cleaned_data["quotas"].splitlines(), start=1):
            if not line.strip():
                continue
            m = QUOTA_LINE.match(line)
            if m is None:
                raise forms.ValidationError(_("第%(n)d行格式有误") % {"n": n})
            code, count, backups, other = m.groups()
            out.append(QuotaTerms(code.upper(), int(count), int(backups or 0), int(other or 0)))
        if not out:
            raise forms.ValidationError(_("至少一个专业名额"))
        return out


class DeclineForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("拒绝理由"), max_length=300)


def _opened_sections() -> list[tuple[str, str]]:
    held = Opening.objects.exclude(status=OpeningStatus.FAILED).values_list("section_id", flat=True)
    rows = Section.objects.select_related("project").filter(pk__in=held).order_by("-pk")[:200]
    return [(s.public_id, f"{s.code or s.label} {s.project.name} {s.name}") for s in rows]


def _staff(request: HttpRequest) -> HttpResponse | None:
    if not allowed(request.user, "experts.draw_view"):
        return error_page(request, 403, _("仅交易中心与监督人员可访问专家抽取。"))
    return None


def _draw_or_page(request: HttpRequest, public_id: str) -> Any:
    try:
        return draw_selectors.get_draw_for(request.user, public_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


# --- staff -------------------------------------------------------------------------------------


@login_required
def draws(request: HttpRequest, *, form: DrawForm | None = None, status: int = 200) -> HttpResponse:
    """The draws, newest first, and (for the organizing desk) the request form."""
    if refused := _staff(request):
        return refused
    context: dict[str, Any] = {
        "draws": [
            draw_selectors.draw_summary(d) for d in draw_selectors.draws_for(request.user)[:50]
        ],
        "can_draw": allowed(request.user, "experts.draw"),
    }
    if context["can_draw"]:
        context["form"] = form or DrawForm(sections=_opened_sections())
    return render(request, "web/experts/draws.html", context, status=status)


@login_required
@require_POST
def request_draw(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, "experts.draw"):
        return error_page(request, 403, _("仅交易中心组织岗可以申请抽取。"))
    form = DrawForm(request.POST, sections=_opened_sections())
    if not form.is_valid():
        return draws(request, form=form, status=400)
    d = form.cleaned_data
    section = Section.objects.select_related("project").get(public_id=d["section"])
    session_at = d["session_at"]
    if timezone.is_naive(session_at):
        session_at = timezone.make_aware(session_at, clock.CHINA)
    try:
        draw = draw_services.request_draw(
            actor=request.user,
            section=section,
            session_at=session_at,
            quotas=d["quotas"],
            include_regions=d["include_regions"],
            exclude_regions=d["exclude_regions"],
            other_regions_only=d["other_regions_only"],
            home_region=d["home_region"] or "",
            avoid_days=d["avoid_days"],
        )
    except draw_services.DrawUnfillable as exc:
        messages.error(request, exc.message)
        return redirect("web:draw", public_id=exc.detail["draw"])
    except DomainError as exc:
        field = exc.detail.get("field") if isinstance(exc.detail, dict) else None
        form.add_error(field if field in form.fields else None, exc.message)
        return draws(request, form=form, status=400)
    messages.success(request, _("已抽取，正选专家已通知；抽取结果在评标开始前保密。"))
    return redirect("web:draw", public_id=draw.public_id)


@login_required
def draw(request: HttpRequest, public_id: str) -> HttpResponse:
    """A draw's status: counts and pseudonyms while sealed, who once revealed."""
    if refused := _staff(request):
        return refused
    found = _draw_or_page(request, public_id)
    if isinstance(found, HttpResponse):
        return found
    context = {
        "d": draw_selectors.draw_summary(found),
        "can_reveal": allowed(request.user, "experts.draw")
        and found.revealed_at is None
        and clock.now() >= found.session_at,
        "can_verify": allowed(request.user, "experts.draw_verify"),
    }
    return render(request, "web/experts/draw.html", context)


@login_required
@require_POST
def reveal(request: HttpRequest, public_id: str) -> HttpResponse:
    found = _draw_or_page(request, public_id)
    if isinstance(found, HttpResponse):
        return found
    try:
        draw_answers.reveal_draw(actor=request.user, draw=found)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("评标已开始：抽取结果已揭示，随机数已公开。"))
    return redirect("web:draw", public_id=found.public_id)


@login_required
def verify(request: HttpRequest, public_id: str) -> HttpResponse:
    """The supervision's verification: every check, quota by quota."""
    if not allowed(request.user, "experts.draw_verify"):
        return error_page(request, 403, _("仅审计、行政监督与纪检监察人员可复核抽取。"))
    found = _draw_or_page(request, public_id)
    if isinstance(found, HttpResponse):
        return found
    report = draw_verify.verify_draw(found, identities=allowed(request.user, "experts.draw_unseal"))
    return render(request, "web/experts/draw_verify.html", {"r": report, "draw": found})


# --- the expert ---------------------------------------------------------------------------------


@login_required
def invitations(
    request: HttpRequest, *, forms_: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    if not allowed(request.user, "experts.answer"):
        return error_page(request, 403, _("仅评标专家账户可查看评标邀请。"))
    rows = [
        {
            "i": draw_selectors.invitation_out(r),
            "form": (forms_ or {}).get(r.public_id) or DeclineForm(prefix=r.public_id),
        }
        for r in draw_selectors.my_invitations(request.user)
    ]
    context = {"rows": rows, "notices": draw_selectors.my_notifications(request.user)}
    return render(request, "web/experts/draw_invitations.html", context, status=status)


def _invitation(request: HttpRequest, invitation_id: str) -> Any:
    try:
        return draw_selectors.get_invitation_for(request.user, invitation_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


@login_required
@require_POST
def confirm(request: HttpRequest, invitation_id: str) -> HttpResponse:
    row = _invitation(request, invitation_id)
    if isinstance(row, HttpResponse):
        return row
    try:
        draw_answers.answer_invitation(actor=request.user, invitation=row, accept=True)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认参加评标。"))
    return redirect("web:my_invitations")


@login_required
@require_POST
def decline(request: HttpRequest, invitation_id: str) -> HttpResponse:
    row = _invitation(request, invitation_id)
    if isinstance(row, HttpResponse):
        return row
    form = DeclineForm(request.POST, prefix=row.public_id)
    if form.is_valid():
        try:
            draw_answers.answer_invitation(
                actor=request.user, invitation=row, accept=False, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已拒绝；将由备选专家递补。"))
        return redirect("web:my_invitations")
    return invitations(request, forms_={row.public_id: form}, status=400)
