"""Tendering API: projects (register, edit, submit, accept/return, publish), their documents
(raw-body upload, anonymous download — R60), clarifications (R6), objections (R7/R9), the public
timeline and the sealed download register (R42). Thin: parse, call one service or selector,
render; every refusal is ``{"code", "message", "detail"}``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Status

from ggzy.accounts.gate import require
from ggzy.api import PUBLIC
from ggzy.core.errors import NotFound
from ggzy.core.schemas import ErrorOut, OkOut
from ggzy.core.uploads import spool_body
from ggzy.registry import selectors as registry
from ggzy.tendering import checks, invitations, selectors, services
from ggzy.tendering.models import (
    Clarification,
    Invitation,
    Objection,
    Project,
    Section,
    TenderDocument,
)
from ggzy.tendering.schemas import (
    ClarificationIn,
    ClarificationOut,
    DocumentOut,
    DownloadOut,
    InvitationOut,
    InvitationsIn,
    ObjectionIn,
    ObjectionOut,
    ProjectEditIn,
    ProjectIn,
    ProjectOut,
    ProjectPageOut,
    ProjectSummaryOut,
    PublishIn,
    ReplyIn,
    ReturnIn,
    SectionDetailOut,
    TimelineOut,
)
from ggzy.tendering.states import ObjectionStatus, ProjectStatus

router = Router(tags=["tendering"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 413, 415, 422)}
UPLOAD_TYPES = (
    "application/octet-stream",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
    "application/zip",
)


# --- rendering ----------------------------------------------------------------------------------


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def _party(entity: Any) -> dict[str, str] | None:
    return None if entity is None else {"uscc": entity.uscc, "name": entity.name}


def section_out(section: Section, *, suspended: bool | None = None) -> dict[str, Any]:
    return {
        "public_id": section.public_id,
        "number": section.number,
        "code": section.code,
        "name": section.name,
        "estimated_price": str(section.estimated_price),
        "max_price": _money(section.max_price),
        "deposit": str(section.deposit),
        "qualification_requirements": section.qualification_requirements,
        "evaluation_method": section.evaluation_method,
        "criteria": section.criteria,
        "technically_complex": section.technically_complex,
        "high_social_impact": section.high_social_impact,
        "bid_validity_days": section.bid_validity_days,
        "duration_days": section.duration_days,
        "documents_from": section.documents_from,
        "documents_until": section.documents_until,
        "bid_deadline": section.bid_deadline,
        "original_deadline": section.original_deadline,
        "phase": selectors.phase(section, suspended=suspended),
        "failure_reason": section.failure_reason,
    }


def _suspended(project: Project) -> bool:
    if project.status != ProjectStatus.PUBLISHED:
        return False
    return project.objections.filter(status=ObjectionStatus.OPEN).exists()


def summary_out(project: Project) -> dict[str, Any]:
    suspended = _suspended(project)
    return {
        "public_id": project.public_id,
        "trading_code": project.trading_code,
        "name": project.name,
        "category": project.category_id,
        "procedure": project.procedure_id,
        "region": project.region.code,
        "status": project.status,
        "tenderer": _party(project.tenderer),
        "agent": _party(project.agent),
        "budget": str(project.budget),
        "published_at": project.published_at,
        "sections": [section_out(s, suspended=suspended) for s in project.sections.all()],
    }


def document_out(document: TenderDocument) -> dict[str, Any]:
    return {
        "public_id": document.public_id,
        "kind": document.kind,
        "name": document.name,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "sm3": document.sm3,
        "uploaded_at": document.uploaded_at,
        "published_at": document.published_at,
    }


def clarification_out(c: Clarification) -> dict[str, Any]:
    return {
        "number": c.number,
        "title": c.title,
        "body": c.body,
        "affects_bids": c.affects_bids,
        "document": c.document.public_id if c.document else None,
        "deadline_before": c.deadline_before,
        "deadline_after": c.deadline_after,
        "issued_at": c.issued_at,
    }


def project_out(actor: Any, project: Project, *, private: bool | None = None) -> dict[str, Any]:
    """The public view, plus the private fields for members and staff (left out, not null, for
    everyone else: the response is rendered with ``exclude_unset``)."""
    if private is None:
        private = selectors.can_view_private(actor, project)
    out = summary_out(project)
    out.pop("status")
    documents = list(project.documents.all()) if private else selectors.published_documents(project)
    out.update(
        subject_type=project.subject_type,
        investment_project_code=project.investment_project_code,
        funding_source=project.funding_source,
        state_controlled=project.state_controlled,
        description=project.description,
        ruleset_version=project.ruleset.version,
        announcement=project.announcement,
        documents=[document_out(d) for d in documents],
        clarifications=[clarification_out(c) for c in selectors.clarifications(project)],
    )
    if private:
        out.update(
            status=project.status,
            return_reason=project.return_reason,
            agency_confirmed=project.agent_id is None or project.agency_confirmed_at is not None,
        )
    return out


def objection_out(o: Objection) -> dict[str, Any]:
    return {
        "public_id": o.public_id,
        "entity": _party(o.entity),
        "text": o.text,
        "raised_at": o.raised_at,
        "reply_due": o.reply_due,
        "status": o.status,
        "reply": o.reply,
        "replied_at": o.replied_at,
    }


def invitation_out(i: Invitation) -> dict[str, Any]:
    return {"public_id": i.public_id, "entity": _party(i.entity), "invited_at": i.invited_at}


# --- helpers ------------------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Any:
    return request.user


def _terms(payload: ProjectIn | ProjectEditIn) -> services.ProjectTerms:
    data = payload.dict(exclude={"tenderer", "agent"})
    return services.ProjectTerms(**data)


def _moment(value: str | None, field: str) -> datetime | None:
    return checks.moment(value, field)


def _spool(request: HttpRequest) -> Path:
    """Stream the raw body to a temporary file next to the document store."""
    return spool_body(
        request,
        accepted=UPLOAD_TYPES,
        limit=settings.GGZY_DOCUMENT_MAX_BYTES,
        directory=services.document_dir(),
        what="招标文件 (document)",
    )


# --- projects: reads ----------------------------------------------------------------------------


@router.get("/projects", response={200: ProjectPageOut, 422: ErrorOut}, auth=PUBLIC)
def list_projects(
    request: HttpRequest,
    category: str = Query("", max_length=40),
    q: str = Query("", max_length=100),
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(20, ge=1, le=100),
) -> Any:
    """Published projects, newest first. Public."""
    qs = selectors.public_projects(category=category, q=q.strip())
    items = [summary_out(p) for p in qs[offset : offset + limit]]
    return {"count": qs.count(), "offset": offset, "limit": limit, "items": items}


@router.get("/projects/mine", response={200: list[ProjectSummaryOut], 401: ErrorOut})
def my_projects(request: HttpRequest) -> Any:
    """Projects of the tenderers and agents you act for, in every state."""
    return [summary_out(p) for p in selectors.my_projects(_actor(request))[:200]]


@router.get(
    "/projects/queue", response={200: list[ProjectSummaryOut], 401: ErrorOut, 403: ErrorOut}
)
def intake_queue(request: HttpRequest) -> Any:
    """Submitted projects awaiting acceptance (受理), oldest first: center intake."""
    require(_actor(request), "tendering.accept")
    return [summary_out(p) for p in selectors.intake_queue()[:500]]


@router.get(
    "/projects/{public_id}",
    response={200: ProjectOut, 404: ErrorOut},
    auth=PUBLIC,
    exclude_unset=True,
)
def get_project(request: HttpRequest, public_id: str) -> Any:
    actor = _actor(request)
    return project_out(actor, selectors.get_project(actor, public_id))


@router.get("/projects/{public_id}/timeline", response={200: list[TimelineOut], 404: ErrorOut},
            auth=PUBLIC)  # fmt: skip
def project_timeline(request: HttpRequest, public_id: str) -> Any:
    """The ledger events on the project; nothing before its publication."""
    return selectors.public_timeline(selectors.get_project(_actor(request), public_id))


@router.get("/projects/{public_id}/objections", response={200: list[ObjectionOut], **ERRORS})
def project_objections(request: HttpRequest, public_id: str) -> Any:
    """All objections for the project's members and staff; a bidder sees its own."""
    actor = _actor(request)
    project = selectors.get_project(actor, public_id)
    return [objection_out(o) for o in selectors.objections_for(actor, project)]


@router.get("/projects/{public_id}/downloads", response={200: list[DownloadOut], **ERRORS})
def project_downloads(request: HttpRequest, public_id: str) -> Any:
    """Who downloaded the documents: sealed until the bid deadline (403 sealed_until_deadline)."""
    actor = _actor(request)
    return selectors.downloads(actor, selectors.get_project(actor, public_id))


@router.get("/sections/{public_id}", response={200: SectionDetailOut, 404: ErrorOut}, auth=PUBLIC)
def get_section(request: HttpRequest, public_id: str) -> Any:
    section = selectors.get_section(_actor(request), public_id)
    return {
        **section_out(section),
        "project": section.project.public_id,
        "project_name": section.project.name,
    }


# --- projects: writes ---------------------------------------------------------------------------


@router.post("/projects", response={201: ProjectOut, **ERRORS}, exclude_unset=True)
def register_project(request: HttpRequest, payload: ProjectIn) -> Any:
    """Register a project with its sections, as a draft, for a tenderer you act for (or as its
    agent: give ``agent``, an agency you act for)."""
    actor = _actor(request)
    tenderer = registry.get_entity(actor=actor, uscc=payload.tenderer)
    agent = registry.get_entity(actor=actor, uscc=payload.agent) if payload.agent else None
    project = services.register_project(
        actor=actor, tenderer=tenderer, agent=agent, terms=_terms(payload)
    )
    return Status(201, project_out(actor, selectors.get_project(actor, project.public_id)))


@router.put("/projects/{public_id}", response={200: ProjectOut, **ERRORS}, exclude_unset=True)
def edit_project(request: HttpRequest, public_id: str, payload: ProjectEditIn) -> Any:
    """Replace a draft or returned project's terms (and its sections)."""
    actor = _actor(request)
    project = selectors.get_project(actor, public_id)
    services.edit_project(actor=actor, project=project, terms=_terms(payload))
    return project_out(actor, selectors.get_project(actor, public_id))


def _transition(request: HttpRequest, public_id: str, action: Any, **kwargs: Any) -> Any:
    actor = _actor(request)
    project = selectors.get_project(actor, public_id)
    action(actor=actor, project=project, **kwargs)
    return project_out(actor, selectors.get_project(actor, public_id))


@router.post("/projects/{public_id}/agency/confirm", response={200: ProjectOut, **ERRORS},
             exclude_unset=True)  # fmt: skip
def confirm_agency(request: HttpRequest, public_id: str) -> Any:
    """The tenderer confirms that the agent who registered the project acts for it (委托);
    until then the project cannot be submitted (``agency_unconfirmed``)."""
    return _transition(request, public_id, services.confirm_agency)


@router.post("/projects/{public_id}/submit", response={200: ProjectOut, **ERRORS},
             exclude_unset=True)  # fmt: skip
def submit_project(request: HttpRequest, public_id: str) -> Any:
    """Submit for acceptance by the trading center."""
    return _transition(request, public_id, services.submit_project)


@router.post("/projects/{public_id}/accept", response={200: ProjectOut, **ERRORS},
             exclude_unset=True)  # fmt: skip
def accept_project(request: HttpRequest, public_id: str) -> Any:
    """Center intake accepts (受理): the trading code and section codes are assigned."""
    return _transition(request, public_id, services.accept_project)


@router.post("/projects/{public_id}/return", response={200: ProjectOut, **ERRORS},
             exclude_unset=True)  # fmt: skip
def return_project(request: HttpRequest, public_id: str, payload: ReturnIn) -> Any:
    """Center intake returns a submitted project, with the reason."""
    return _transition(request, public_id, services.return_project, reason=payload.reason)


@router.post("/projects/{public_id}/publish", response={200: ProjectOut, **ERRORS},
             exclude_unset=True)  # fmt: skip
def publish_project(request: HttpRequest, public_id: str, payload: PublishIn) -> Any:
    """Publish the announcement and the tender documents; dates given apply to every section
    (R1/R2 bid period and R3/R4 sale period are checked against the project's ruleset)."""
    return _transition(
        request,
        public_id,
        services.publish_project,
        announcement=payload.announcement,
        documents_from=_moment(payload.documents_from, "documents_from"),
        documents_until=_moment(payload.documents_until, "documents_until"),
        bid_deadline=_moment(payload.bid_deadline, "bid_deadline"),
    )


# --- documents ----------------------------------------------------------------------------------


@router.post("/projects/{public_id}/documents", response={201: DocumentOut, **ERRORS})
def upload_document(
    request: HttpRequest,
    public_id: str,
    kind: str = Query(..., max_length=20),
    name: str = Query(..., max_length=200),
) -> Any:
    """Upload a file as the raw request body (``?kind=tender&name=招标文件.pdf``); its SHA-256
    and SM3 digests are recorded. It becomes public with the project or its clarification."""
    actor = _actor(request)
    project = selectors.get_project(actor, public_id)
    require(actor, "tendering.edit", project)  # before reading a byte of the body
    upload = _spool(request)
    try:
        with open(upload, "rb") as stream:
            document = services.upload_document(
                actor=actor, project=project, kind=kind, name=name, stream=stream
            )
    finally:
        upload.unlink(missing_ok=True)
    return Status(201, document_out(document))


@router.delete("/documents/{public_id}", response={200: OkOut, **ERRORS})
def remove_document(request: HttpRequest, public_id: str) -> Any:
    """Remove an unpublished document."""
    actor = _actor(request)
    services.remove_document(actor=actor, document=selectors.get_document(actor, public_id))
    return {"ok": True}


@router.get("/documents/{public_id}", response={404: ErrorOut}, auth=PUBLIC)
def download_document(request: HttpRequest, public_id: str) -> Any:
    """Download a published document: anyone, signed in or not (R60); who downloaded stays
    sealed until the deadline (R42). Members also fetch their unpublished files (not recorded)."""
    actor = _actor(request)
    document = selectors.get_document(actor, public_id)
    if document.published_at is None:
        path = services.document_path(document)
    else:
        path = services.record_download(actor=actor, document=document)
    if not path.is_file():
        raise NotFound("文件不存在 (no such document)", code="document_not_found")
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=document.name,
        content_type=document.content_type,
    )
    response["X-Content-SHA256"] = document.sha256
    response["X-Content-SM3"] = document.sm3
    return response


# --- clarifications and objections --------------------------------------------------------------


@router.post("/projects/{public_id}/clarifications", response={201: ClarificationOut, **ERRORS})
def issue_clarification(request: HttpRequest, public_id: str, payload: ClarificationIn) -> Any:
    """Publish a clarification or amendment; less than 15 days before the deadline, one that may
    affect bids moves the deadline to 15 days from now (R6)."""
    actor = _actor(request)
    project = selectors.get_project(actor, public_id)
    document = selectors.get_document(actor, payload.document) if payload.document else None
    clarification = services.issue_clarification(
        actor=actor,
        project=project,
        title=payload.title,
        body=payload.body,
        affects_bids=payload.affects_bids,
        document=document,
    )
    return Status(201, clarification_out(clarification))


@router.post("/projects/{public_id}/objections", response={201: ObjectionOut, **ERRORS})
def raise_objection(request: HttpRequest, public_id: str, payload: ObjectionIn) -> Any:
    """Object to the tender documents for an entity you act for, at least 10 days before the
    deadline (R7); the procedure is suspended until the answer (R9)."""
    actor = _actor(request)
    project = selectors.get_project(actor, public_id)
    entity = registry.get_entity(actor=actor, uscc=payload.entity)
    objection = services.raise_objection(
        actor=actor, project=project, entity=entity, text=payload.text
    )
    return Status(201, objection_out(objection))


@router.post("/objections/{public_id}/reply", response={200: ObjectionOut, **ERRORS})
def answer_objection(request: HttpRequest, public_id: str, payload: ReplyIn) -> Any:
    """The tenderer (or its agent) answers; the suspension ends."""
    actor = _actor(request)
    objection = selectors.get_objection(actor, public_id)
    return objection_out(
        services.answer_objection(actor=actor, objection=objection, reply=payload.reply)
    )


# --- invited tender -----------------------------------------------------------------------------


@router.post("/projects/{public_id}/invitations", response={201: list[InvitationOut], **ERRORS})
def invite_bidders(request: HttpRequest, public_id: str, payload: InvitationsIn) -> Any:
    """Invite bidders (by USCC) to an invited tender: at least three in all (法17), before
    publication or, for more, until the deadline. Answers the invitations made."""
    actor = _actor(request)
    project = selectors.get_project(actor, public_id)
    made = invitations.invite_bidders(actor=actor, project=project, usccs=payload.entities)
    return Status(201, [invitation_out(i) for i in made])


@router.get("/projects/{public_id}/invitations", response={200: list[InvitationOut], **ERRORS})
def project_invitations(request: HttpRequest, public_id: str) -> Any:
    """Who was invited: all for the project's members and staff; an invitee sees its own
    invitation, anyone else none (R42)."""
    actor = _actor(request)
    project = selectors.get_project(actor, public_id)
    return [invitation_out(i) for i in selectors.invitations_for(actor, project)]
