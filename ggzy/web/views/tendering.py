"""Tendering pages: the public project list and project page (with its timeline and, after the
opening, the signed record), the tenderer's and agent's workspace, and the center's intake
queue. Views parse, call one service or selector, and render; a service's refusal is shown on
the form (or as a 403/404 page when it is about the whole page)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ggzy.accounts.gate import allowed
from ggzy.bidding import opening as openings
from ggzy.catalog import selectors as catalog
from ggzy.core.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied
from ggzy.registry import selectors as registry
from ggzy.registry.models import Membership
from ggzy.tendering import invitations, selectors, services
from ggzy.tendering.models import Project, Section
from ggzy.tendering.states import ObjectionStatus, Phase, ProjectStatus
from ggzy.web.forms_tendering import (
    FIELD_FOR_CODE,
    ClarificationForm,
    DocumentUploadForm,
    ObjectionForm,
    ProjectFilterForm,
    ProjectForm,
    PublishForm,
    ReplyForm,
    ReturnForm,
)
from ggzy.web.views.common import error_page, region_choices

FAIRNESS_PATH = "/projects/{}/fairness/"  # web:project_fairness


def show_refusal(form: forms.Form, exc: DomainError) -> None:
    """Put a service's refusal next to the field it names, else on the form as a whole."""
    field = exc.detail.get("field") if isinstance(exc.detail, dict) else None
    field = field if isinstance(field, str) else FIELD_FOR_CODE.get(exc.code)
    form.add_error(field if field in form.fields else None, exc.message)


def refused_page(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """A refusal about the whole page: not found and forbidden look the same to an outsider."""
    if isinstance(exc, NotFound):
        return error_page(request, 404, exc.message)
    return error_page(request, 403, exc.message)


def _category_choices() -> list[tuple[str, str]]:
    return [(c.code, c.name) for c in catalog.categories()]


def display_record(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """The signed record as shown: its ISO times read back as datetimes (shown in China time)."""
    if not record:
        return record
    rows = [
        {**row, "received_at": datetime.fromisoformat(row["received_at"])}
        if isinstance(row.get("received_at"), str) else row
        for row in record.get("bids", [])
    ]  # fmt: skip
    return {**record, "bids": rows}


def section_rows(project: Project) -> list[dict[str, Any]]:
    suspended = project.objections.filter(status=ObjectionStatus.OPEN).exists()
    rows = []
    for section in project.sections.all():
        phase = selectors.phase(section, suspended=suspended)
        opening = None
        if phase in (Phase.OPENING, Phase.OPENED, Phase.FAILED):
            opening = getattr(section, "opening", None)
        rows.append(
            {
                "section": section,
                "phase": phase,
                "phase_label": Phase(phase).label,
                "opening": opening,
                "record": display_record(opening.record) if opening else None,
                "record_verified": bool(
                    opening and opening.record and openings.verify_record(opening)
                ),
                "bidding": phase == Phase.BIDDING,
            }
        )
    return rows


# --- public ------------------------------------------------------------------------------------


def project_list(request: HttpRequest) -> HttpResponse:
    form = ProjectFilterForm(request.GET or None, categories=_category_choices())
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    projects = selectors.public_projects(
        category=filters.get("category", ""), q=filters.get("q", "").strip()
    )
    rows = [{"project": p, "sections": section_rows(p)} for p in projects[:100]]
    return render(request, "web/tendering/list.html", {"form": form, "rows": rows})


def _project_or_page(request: HttpRequest, public_id: str) -> Project | HttpResponse:
    try:
        return selectors.get_project(request.user, public_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)


def _objection_form(request: HttpRequest, data: Any = None) -> ObjectionForm | None:
    if not allowed(request.user, "tendering.object"):
        return None
    entities = [(e.uscc, e.name) for e in registry.entities_for_user(request.user) if e.is_bidder]
    return ObjectionForm(data, entities=entities, prefix="objection") if entities else None


def project_page(request: HttpRequest, public_id: str, *, objection_form: Any = None,
                 status: int = 200) -> HttpResponse:  # fmt: skip
    project = _project_or_page(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    context = {
        "project": project,
        "sections": section_rows(project),
        "documents": selectors.published_documents(project),
        "clarifications": selectors.clarifications(project),
        "timeline": selectors.public_timeline(project),
        "objections": selectors.objections_for(request.user, project),
        "objection_form": objection_form or _objection_form(request),
        "is_member": selectors.can_view_private(request.user, project),
        "can_bid": allowed(request.user, "bidding.submit"),
        "can_complain": allowed(request.user, "complaints.file")
        and project.status == ProjectStatus.PUBLISHED,
        "invited_tender": project.procedure_id == invitations.INVITED_TENDER,
        "my_invitations": selectors.own_invitations(request.user, project),
    }
    return render(request, "web/tendering/project.html", context, status=status)


def download(request: HttpRequest, public_id: str, document_id: str) -> HttpResponse:
    """Anyone may download a published document (R60); the download is recorded, sealed."""
    try:
        document = selectors.get_document(request.user, document_id)
        if document.project.public_id != public_id:
            raise NotFound("文件不存在 (no such document)", code="document_not_found")
        path = services.record_download(actor=request.user, document=document)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    return FileResponse(
        open(path, "rb"),  # FileResponse closes it
        as_attachment=True,
        filename=document.name,
        content_type=document.content_type,
    )


@login_required
@require_POST
def raise_objection(request: HttpRequest, public_id: str) -> HttpResponse:
    project = _project_or_page(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    form = _objection_form(request, request.POST)
    if form is None:
        return error_page(request, 403, _("只有投标人可以对招标文件提出异议。"))
    if form.is_valid():
        try:
            entity = registry.get_entity(actor=request.user, uscc=form.cleaned_data["entity"])
            services.raise_objection(
                actor=request.user, project=project, entity=entity, text=form.cleaned_data["text"]
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("异议已提交，招标人应在3日内答复；答复前招标活动暂停。"))
            return redirect("web:project", public_id=project.public_id)
    return project_page(request, public_id, objection_form=form, status=400)


# --- tenderer / agent workspace ---------------------------------------------------------------


def _acting_choices(request: HttpRequest) -> dict[str, list[tuple[str, str]]]:
    mine = list(registry.entities_for_user(request.user))
    return {
        "tenderers": [(e.uscc, e.name) for e in mine if e.is_tenderer],
        "agents": [(e.uscc, e.name) for e in mine if e.is_agent],
        "categories": _category_choices(),
        "regions": region_choices(),
    }


def _terms(form: ProjectForm) -> services.ProjectTerms:
    data = form.cleaned_data
    return services.ProjectTerms(
        name=data["name"],
        category=data["category"],
        procedure=data["procedure"],
        region=data["region"],
        funding_source=data["funding_source"],
        state_controlled=data["state_controlled"],
        budget=str(data["budget"]),
        sections=form.sections(),
        subject_type=data["subject_type"],
        investment_project_code=data["investment_project_code"],
        description=data["description"],
    )


def _tenderer_and_agent(request: HttpRequest, form: ProjectForm) -> tuple[Any, Any]:
    tenderer = registry.get_entity(actor=request.user, uscc=form.cleaned_data["tenderer"])
    agent_uscc = form.cleaned_data.get("agent")
    agent = registry.get_entity(actor=request.user, uscc=agent_uscc) if agent_uscc else None
    return tenderer, agent


@login_required
def my_projects(request: HttpRequest) -> HttpResponse:
    projects = selectors.my_projects(request.user)
    return render(
        request,
        "web/tendering/my_projects.html",
        {
            "rows": [{"project": p, "sections": section_rows(p)} for p in projects],
            "can_register": allowed(request.user, "tendering.register"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_project(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, "tendering.register"):
        return error_page(request, 403, _("只有招标人或招标代理机构可以登记项目。"))
    choices = _acting_choices(request)
    if not choices["tenderers"] and not choices["agents"]:
        return error_page(request, 403, _("请先登记为招标人或招标代理机构的市场主体。"))
    if not choices["tenderers"]:  # an agent acts for a tenderer it is not a member of
        choices["tenderers"] = [(e.uscc, e.name) for e in
                                registry.entity_directory(role="tenderer")[:200]]  # fmt: skip
    form = ProjectForm(request.POST or None, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            tenderer, agent = _tenderer_and_agent(request, form)
            project = services.register_project(
                actor=request.user, tenderer=tenderer, agent=agent, terms=_terms(form)
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("项目已登记为草稿。"))
            return redirect("web:workspace_project", public_id=project.public_id)
    return render(request, "web/tendering/project_form.html", {"form": form, "project": None})


def _my_project(request: HttpRequest, public_id: str) -> Project | HttpResponse:
    """A project the signed-in person acts on as tenderer or agent (else 404: not theirs)."""
    try:
        project = selectors.get_project(request.user, public_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
    if not allowed(request.user, "tendering.edit", project):
        return error_page(request, 404, _("项目不存在 (no such project)"))
    return project


def _downloads(request: HttpRequest, project: Project) -> dict[str, Any]:
    try:
        return {"rows": selectors.downloads(request.user, project), "sealed": None}
    except PermissionDenied as exc:
        return {"rows": [], "sealed": exc.message}


def _workspace_page(request: HttpRequest, project: Project, status: int = 200,
                    **forms_: Any) -> HttpResponse:  # fmt: skip
    context = {
        "project": project,
        "sections": section_rows(project),
        "documents": list(project.documents.all()),
        "clarifications": selectors.clarifications(project),
        "objections": selectors.objections_for(request.user, project),
        "downloads": _downloads(request, project),
        "timeline": [
            {
                "seq": e.seq,
                "at": e.recorded_at,
                "label": selectors.EVENT_LABELS.get(e.event_type, e.event_type),
            }
            for e in selectors.timeline(project)
        ],
        "fairness_url": FAIRNESS_PATH.format(project.public_id),
        "upload_form": forms_.get("upload_form") or DocumentUploadForm(),
        "clarification_form": forms_.get("clarification_form") or ClarificationForm(),
        "reply_forms": forms_.get("reply_forms", {}),
        "reply_form": ReplyForm(),
        "editable": project.status in ("draft", "returned"),
        "is_tenderer_member": Membership.objects.filter(
            user_id=request.user.pk, entity_id=project.tenderer_id
        ).exists(),
        "invited_tender": project.procedure_id == invitations.INVITED_TENDER,
        "invitations": selectors.invitations_for(request.user, project),
        "minimum_invitees": invitations.minimum(project),
        "invitation_form": forms_.get("invitation_form") or InvitationForm(),
    }
    return render(request, "web/tendering/workspace_project.html", context, status=status)


@login_required
def workspace_project(request: HttpRequest, public_id: str) -> HttpResponse:
    project = _my_project(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    return _workspace_page(request, project)


@login_required
@require_http_methods(["GET", "POST"])
def edit_project(request: HttpRequest, public_id: str) -> HttpResponse:
    project = _my_project(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    choices = _acting_choices(request)
    current = (project.tenderer.uscc, project.tenderer.name)
    if current not in choices["tenderers"]:
        choices["tenderers"].insert(0, current)
    if project.agent and (project.agent.uscc, project.agent.name) not in choices["agents"]:
        choices["agents"].insert(0, (project.agent.uscc, project.agent.name))
    form = ProjectForm(request.POST or None, initial=ProjectForm.initial_from(project), **choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_project(actor=request.user, project=project, terms=_terms(form))
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("项目已修改。"))
            return redirect("web:workspace_project", public_id=project.public_id)
    return render(request, "web/tendering/project_form.html", {"form": form, "project": project})


def _act(
    request: HttpRequest, public_id: str, action: Callable[[Project], Any], done: str
) -> HttpResponse:
    """A button on the workspace page: one service call, then back to the page."""
    project = _my_project(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    try:
        action(project)
    except (NotAuthenticated, PermissionDenied) as exc:
        return error_page(request, 403, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("web:workspace_project", public_id=project.public_id)


@login_required
@require_POST
def confirm_agency(request: HttpRequest, public_id: str) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda p: services.confirm_agency(actor=request.user, project=p),
        _("已确认委托代理。"),
    )


@login_required
@require_POST
def submit_project(request: HttpRequest, public_id: str) -> HttpResponse:
    return _act(
        request,
        public_id,
        lambda p: services.submit_project(actor=request.user, project=p),
        _("已提交交易中心受理。"),
    )


@login_required
@require_POST
def upload_document(request: HttpRequest, public_id: str) -> HttpResponse:
    project = _my_project(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            services.upload_document(actor=request.user, project=project,
                                     kind=form.cleaned_data["kind"], name=upload.name,
                                     stream=upload)  # fmt: skip
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("文件已上传：%(name)s") % {"name": upload.name})
            return redirect("web:workspace_project", public_id=project.public_id)
    return _workspace_page(request, project, status=400, upload_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def publish_project(request: HttpRequest, public_id: str) -> HttpResponse:
    project = _my_project(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    form = PublishForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.publish_project(actor=request.user, project=project,
                                     announcement=data["announcement"],
                                     documents_until=data["documents_until"],
                                     bid_deadline=data["bid_deadline"])  # fmt: skip
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("招标公告已发布。"))
            return redirect("web:workspace_project", public_id=project.public_id)
    context = {"project": project, "form": form,
               "fairness_url": FAIRNESS_PATH.format(project.public_id)}  # fmt: skip
    return render(request, "web/tendering/publish.html", context)


@login_required
@require_POST
def issue_clarification(request: HttpRequest, public_id: str) -> HttpResponse:
    project = _my_project(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    form = ClarificationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.issue_clarification(actor=request.user, project=project, title=data["title"],
                                         body=data["body"],
                                         affects_bids=data["affects_bids"])  # fmt: skip
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("澄清/修改已发布。"))
            return redirect("web:workspace_project", public_id=project.public_id)
    return _workspace_page(request, project, status=400, clarification_form=form)


class InvitationForm(forms.Form):
    """The invitees' USCCs, one per line (or separated by spaces or commas). Kept beside its one
    view; the service checks each code (法17)."""

    entities = forms.CharField(
        label=gettext_lazy("受邀投标人统一社会信用代码（每行一个）"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )

    def usccs(self) -> list[str]:
        text = self.cleaned_data["entities"].replace(",", " ").replace("，", " ")
        return text.split()


@login_required
@require_POST
def invite_bidders(request: HttpRequest, public_id: str) -> HttpResponse:
    project = _my_project(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            made = invitations.invite_bidders(actor=request.user, project=project,
                                              usccs=form.usccs())  # fmt: skip
        except (NotAuthenticated, PermissionDenied) as exc:
            return error_page(request, 403, exc.message)
        except DomainError as exc:
            uscc = exc.detail.get("uscc") if isinstance(exc.detail, dict) else None
            form.add_error("entities", f"{exc.message}{'：' + uscc if uscc else ''}")
        else:
            messages.success(request, _("已发出投标邀请：%(n)d家") % {"n": len(made)})
            return redirect("web:workspace_project", public_id=project.public_id)
    return _workspace_page(request, project, status=400, invitation_form=form)


@login_required
@require_POST
def answer_objection(request: HttpRequest, public_id: str, objection_id: str) -> HttpResponse:
    project = _my_project(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    objection = (
        selectors.objections_for(request.user, project).filter(public_id=objection_id[:32]).first()
    )
    if objection is None:
        return error_page(request, 404, _("异议不存在。"))
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.answer_objection(
                actor=request.user, objection=objection, reply=form.cleaned_data["reply"]
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("异议已答复。"))
            return redirect("web:workspace_project", public_id=project.public_id)
    return _workspace_page(request, project, status=400, reply_forms={objection.pk: form})


# --- center intake ----------------------------------------------------------------------------


def _intake_only(request: HttpRequest) -> HttpResponse | None:
    if not allowed(request.user, "tendering.accept"):
        return error_page(request, 403, _("仅交易中心受理人员可访问。"))
    return None


@login_required
def intake_queue(request: HttpRequest, *, return_forms: Any = None,
                 status: int = 200) -> HttpResponse:  # fmt: skip
    if refused := _intake_only(request):
        return refused
    rows = [
        {"project": p, "fairness_url": FAIRNESS_PATH.format(p.public_id),
         "return_form": (return_forms or {}).get(p.pk) or ReturnForm(prefix=p.public_id)}
        for p in selectors.intake_queue()
    ]  # fmt: skip
    return render(request, "web/tendering/intake.html", {"rows": rows}, status=status)


def _queued(request: HttpRequest, public_id: str) -> Project | HttpResponse:
    project = next((p for p in selectors.intake_queue() if p.public_id == public_id), None)
    if project is None:
        return error_page(request, 404, _("受理队列中没有该项目。"))
    return project


@login_required
@require_POST
def accept_project(request: HttpRequest, public_id: str) -> HttpResponse:
    if refused := _intake_only(request):
        return refused
    project = _queued(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    try:
        accepted = services.accept_project(actor=request.user, project=project)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已受理，交易编码 %(code)s") % {"code": accepted.trading_code})
    return redirect("web:intake")


@login_required
@require_POST
def return_project(request: HttpRequest, public_id: str) -> HttpResponse:
    if refused := _intake_only(request):
        return refused
    project = _queued(request, public_id)
    if isinstance(project, HttpResponse):
        return project
    form = ReturnForm(request.POST, prefix=project.public_id)
    if form.is_valid():
        try:
            services.return_project(
                actor=request.user, project=project, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, _("已退回。"))
            return redirect("web:intake")
    return intake_queue(request, return_forms={project.pk: form}, status=400)


def section_for_page(request: HttpRequest, section_id: str) -> Section | HttpResponse:
    try:
        return selectors.get_section(request.user, section_id)
    except NotFound as exc:
        return error_page(request, 404, exc.message)
