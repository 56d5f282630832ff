"""Tendering writes: register, edit, submit, accept (受理) or return a project; upload and
publish its documents; clarifications (R6) and objections (R7/R9). Each write checks the actor's
right, the project's state and its ruleset, and appends one ledger event on ``project:<id>``,
so the public project page's timeline is the ledger itself."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.db import transaction
from django.db.models import Max

from ggzy.accounts.gate import allowed, require
from ggzy.bidding.register import sealed_actor
from ggzy.catalog import selectors as catalog
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.core.services import issue_trading_code
from ggzy.ledger.chain import hasher
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Entity, Region
from ggzy.tendering import checks
from ggzy.tendering.invitations import require_invited
from ggzy.tendering.models import (
    Clarification,
    Download,
    Objection,
    Project,
    Section,
    TenderDocument,
)
from ggzy.tendering.states import (
    EDITABLE,
    PROJECT_TRANSITIONS,
    DocumentKind,
    ObjectionStatus,
    ProjectStatus,
    SubjectType,
)

TENDER_PROCEDURES = {"open_tender", "invited_tender"}
DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain",
    ".zip": "application/zip",
    ".dwg": "application/acad",
}


def _sm3hex(value: str) -> str:
    return hasher("sm3")(value.encode()).hex()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _subject(project: Project) -> str:
    return f"project:{project.public_id}"


def _event(actor: Any, project: Project, event_type: str, payload: dict[str, Any]) -> int:
    sealed = isinstance(actor, str) and actor.startswith("sealed:")
    return append_event(
        actor=actor,
        event_type=event_type,
        subject=_subject(project),
        payload=payload,
        addr="" if sealed else None,
    )


def _move(project: Project, target: str) -> None:
    if target not in PROJECT_TRANSITIONS.get(project.status, frozenset()):
        raise Conflict(
            f"项目当前状态（{project.get_status_display()}）不允许此操作 (not allowed now)",
            code="bad_project_state",
            detail={"status": project.status, "target": target},
        )
    project.status = target


def _locked(project: Project) -> Project:
    return (
        Project.objects.select_for_update().select_related("ruleset", "category").get(pk=project.pk)
    )


# --- registration -------------------------------------------------------------------------------


@dataclass
class ProjectTerms:
    name: str
    category: str
    procedure: str
    region: str
    funding_source: str
    budget: Any
    sections: list[dict[str, Any]]
    subject_type: str = SubjectType.WORKS
    investment_project_code: str = ""
    description: str = ""
    state_controlled: bool = False


def _acting_entities(actor: Any, tenderer: Entity, agent: Entity | None) -> None:
    require(actor, "tendering.register")
    if not tenderer.is_tenderer:
        raise ValidationFailed("该主体未登记为招标人 (not a registered tenderer)",
                               code="not_a_tenderer")  # fmt: skip
    if agent is not None:
        if not agent.is_agent:
            raise ValidationFailed("该主体未登记为招标代理机构 (not a registered agent)",
                                   code="not_an_agent")  # fmt: skip
        if not allowed(actor, "entity.act", tenderer):  # the tenderer may name its agent
            require(actor, "entity.act", agent)
    else:
        require(actor, "entity.act", tenderer)
    for entity in (tenderer, agent):
        if entity is not None and entity.status != "active":
            raise Conflict("主体已暂停 (entity suspended)", code="entity_suspended",
                           detail={"uscc": entity.uscc})  # fmt: skip


def _clean(terms: ProjectTerms) -> dict[str, Any]:
    category = catalog.get_category(terms.category)
    if terms.procedure not in TENDER_PROCEDURES:
        raise ValidationFailed(
            "本模块办理公开招标和邀请招标 (open or invited tender only)",
            code="procedure_not_supported",
            detail={"procedure": terms.procedure},
        )
    if not any(p.code == terms.procedure for p in category.procedures.all()):
        raise ValidationFailed("该类别不允许此交易方式 (procedure not allowed in this category)",
                               code="procedure_not_allowed")  # fmt: skip
    ruleset = catalog.current_ruleset(category)
    if checks.bid_period_rule(ruleset.rules) is None:
        raise ValidationFailed("该类别不适用招标程序 (no tender rules in this category)",
                               code="category_not_tendered")  # fmt: skip
    region = Region.objects.filter(code=str(terms.region)).first()
    if region is None:
        raise ValidationFailed("地区不存在 (unknown region)", code="unknown_region")
    if terms.subject_type not in SubjectType.values:
        raise ValidationFailed("标的类型无效 (bad subject type)", code="bad_subject_type")
    budget = checks.money(terms.budget, "budget")
    procurement = "procurement_bid_period_days" in ruleset.rules
    if not isinstance(terms.sections, list) or not 1 <= len(terms.sections) <= checks.MAX_SECTIONS:
        raise ValidationFailed(f"标段数应为1–{checks.MAX_SECTIONS} (1–50 sections)",
                               code="bad_sections")  # fmt: skip
    sections = [
        checks.section_terms(
            s,
            rules=ruleset.rules,
            budget=budget,
            subject_type=terms.subject_type,
            procurement=procurement,
        )
        for s in terms.sections
    ]
    if sum(s["estimated_price"] for s in sections) > budget:
        raise ValidationFailed("各标段估算价之和超出项目预算 (sections exceed the budget)",
                               code="estimate_above_budget")  # fmt: skip
    return {
        "fields": {
            "name": checks.text(terms.name, "name", max_length=200),
            "category": category,
            "ruleset": ruleset,
            "procedure_id": terms.procedure,
            "region": region,
            "subject_type": terms.subject_type,
            "investment_project_code": checks.investment_code(
                terms.investment_project_code, required=category.code == "works"
            ),
            "funding_source": checks.text(terms.funding_source, "funding_source", max_length=120),
            "state_controlled": checks.flag(terms.state_controlled, "state_controlled"),
            "budget": budget,
            "description": checks.text(
                terms.description, "description", max_length=5000, required=False
            ),
        },
        "sections": sections,
    }


def _write_sections(project: Project, sections: list[dict[str, Any]]) -> None:
    project.sections.all().delete()
    Section.objects.bulk_create(
        [
            Section(project=project, number=n, public_id=secrets.token_hex(16), **terms)
            for n, terms in enumerate(sections, start=1)
        ]
    )


def _terms_payload(project: Project) -> dict[str, Any]:
    return {
        "name": project.name,
        "category": project.category_id,
        "ruleset_version": project.ruleset.version,
        "procedure": project.procedure_id,
        "tenderer": project.tenderer.uscc,
        "agent": project.agent.uscc if project.agent else None,
        "budget": str(project.budget),
        "sections": [
            {"number": s.number, "name": s.name, "estimated_price": str(s.estimated_price),
             "max_price": str(s.max_price) if s.max_price is not None else None,
             "deposit": str(s.deposit), "evaluation_method": s.evaluation_method}
            for s in project.sections.all()
        ],
    }  # fmt: skip


def register_project(
    *, actor: Any, tenderer: Entity, agent: Entity | None = None, terms: ProjectTerms
) -> Project:
    """A tenderer (or its agent) registers a project with its sections, as a draft."""
    _acting_entities(actor, tenderer, agent)
    cleaned = _clean(terms)
    with transaction.atomic():
        by_tenderer = agent is not None and allowed(actor, "entity.act", tenderer)
        project = Project.objects.create(
            public_id=secrets.token_hex(16),
            tenderer=tenderer,
            agent=agent,
            created_by=actor,
            created_at=clock.now(),
            agency_confirmed_at=clock.now() if by_tenderer else None,
            agency_confirmed_by=actor if by_tenderer else None,
            **cleaned["fields"],
        )
        _write_sections(project, cleaned["sections"])
        _event(actor, project, "tendering.project_registered", _terms_payload(project))
    return project


def edit_project(*, actor: Any, project: Project, terms: ProjectTerms) -> Project:
    """Change a draft or returned project's terms (its sections are replaced)."""
    require(actor, "tendering.edit", project)
    cleaned = _clean(terms)
    with transaction.atomic():
        project = _locked(project)
        if project.status not in EDITABLE:
            raise Conflict("项目已提交，不能修改 (submitted projects cannot be edited)",
                           code="bad_project_state", detail={"status": project.status})  # fmt: skip
        for field, value in cleaned["fields"].items():
            setattr(project, field, value)
        project.save()
        _write_sections(project, cleaned["sections"])
        _event(actor, project, "tendering.project_edited", _terms_payload(project))
    return project


def confirm_agency(*, actor: Any, project: Project) -> Project:
    """The tenderer confirms that the agent acts for it on this project (委托代理). A project an
    agent registered cannot be submitted before this: nobody tenders in another's name."""
    require(actor, "entity.act", project.tenderer)
    with transaction.atomic():
        project = _locked(project)
        if project.agent_id is None or project.agency_confirmed_at is not None:
            raise Conflict("无需确认委托 (nothing to confirm)", code="agency_not_pending")
        if project.status not in EDITABLE:
            raise Conflict("项目状态不允许此操作 (not now)", code="bad_project_state")
        project.agency_confirmed_at, project.agency_confirmed_by = clock.now(), actor
        project.save(update_fields=["agency_confirmed_at", "agency_confirmed_by"])
        _event(actor, project, "tendering.agency_confirmed",
               {"agent": project.agent.uscc if project.agent else None})  # fmt: skip
    return project


def submit_project(*, actor: Any, project: Project) -> Project:
    require(actor, "tendering.edit", project)
    with transaction.atomic():
        project = _locked(project)
        if project.agent_id is not None and project.agency_confirmed_at is None:
            raise Conflict(
                "招标人尚未确认委托代理 (the tenderer has not confirmed the agent)",
                code="agency_unconfirmed",
            )
        _move(project, ProjectStatus.SUBMITTED)
        project.submitted_at = clock.now()
        project.save(update_fields=["status", "submitted_at"])
        _event(actor, project, "tendering.project_submitted", {})
    return project


def accept_project(*, actor: Any, project: Project) -> Project:
    """Center intake accepts (受理) a submitted project: the trading code is assigned now, and
    each section's code is the trading code and its number."""
    require(actor, "tendering.accept")
    with transaction.atomic():
        project = _locked(project)
        _move(project, ProjectStatus.ACCEPTED)
        code = issue_trading_code(
            region=project.region.code if len(project.region.code) == 6 else "000000",
            category=project.category.trading_category,
            subject=_subject(project),
        )
        project.trading_code = str(code)
        project.accepted_at = clock.now()
        project.accepted_by = actor
        project.return_reason = ""
        project.save(update_fields=["status", "trading_code", "accepted_at", "accepted_by",
                                    "return_reason"])  # fmt: skip
        for section in project.sections.all():
            section.code = f"{code}-{section.number:03d}"
            section.save(update_fields=["code"])
        _event(actor, project, "tendering.project_accepted", {"trading_code": str(code)})
    return project


def return_project(*, actor: Any, project: Project, reason: str) -> Project:
    require(actor, "tendering.accept")
    reason = checks.text(reason, "reason", max_length=2000)
    with transaction.atomic():
        project = _locked(project)
        _move(project, ProjectStatus.RETURNED)
        project.return_reason = reason
        project.save(update_fields=["status", "return_reason"])
        _event(actor, project, "tendering.project_returned", {"reason": reason})
    return project


# --- documents ----------------------------------------------------------------------------------


def document_dir() -> Path:
    path = Path(settings.GGZY_DOCUMENT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def document_path(document: TenderDocument) -> Path:
    return document_dir() / document.storage_name


def _safe_name(name: str) -> str:
    name = checks.text(Path(str(name or "")).name, "name", max_length=200)
    if name.startswith("."):
        raise ValidationFailed("文件名无效 (bad file name)", code="bad_file_name")
    return name


def _extract_text(path: Path, suffix: str) -> str:
    from ggzy.fairness.extract import extract_text

    return extract_text(path, suffix)


def upload_document(
    *, actor: Any, project: Project, kind: str, name: str, stream: IO[bytes]
) -> TenderDocument:
    """Store a tender document (or a clarification's file) with its SHA-256 and SM3 digests and
    its extracted text; it becomes public when the project (or the clarification) is published."""
    require(actor, "tendering.edit", project)
    if kind not in DocumentKind.values:
        raise ValidationFailed("文件类型无效 (bad document kind)", code="bad_document_kind")
    name = _safe_name(name)
    suffix = Path(name).suffix.lower()
    if suffix not in DOCUMENT_TYPES:
        raise ValidationFailed(
            "仅接受 .pdf .docx .txt .zip .dwg 文件 (file type not accepted)",
            code="bad_file_type",
            detail={"accepted": sorted(DOCUMENT_TYPES)},
        )
    if kind == DocumentKind.TENDER and project.status == ProjectStatus.PUBLISHED:
        raise Conflict("招标文件已发布；修改请发布澄清 (published: issue a clarification)",
                       code="already_published")  # fmt: skip
    if project.status not in {*EDITABLE, ProjectStatus.SUBMITTED, ProjectStatus.ACCEPTED,
                              ProjectStatus.PUBLISHED}:  # fmt: skip
        raise Conflict("项目状态不允许上传 (not now)", code="bad_project_state")
    storage_name = f"{secrets.token_hex(16)}{suffix}"
    target = document_dir() / storage_name
    sha, sm3, size = hashlib.sha256(), hashes.Hash(hashes.SM3()), 0
    limit = settings.GGZY_DOCUMENT_MAX_BYTES
    try:
        with open(target, "xb") as out:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise ValidationFailed("文件过大 (file too large)", code="file_too_large",
                                           detail={"max_bytes": limit})  # fmt: skip
                sha.update(chunk)
                sm3.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationFailed("文件为空 (empty file)", code="empty_file")
        extracted = _extract_text(target, suffix)
        with transaction.atomic():
            document = TenderDocument.objects.create(
                project=project,
                public_id=secrets.token_hex(16),
                kind=kind,
                name=name,
                content_type=DOCUMENT_TYPES[suffix],
                size=size,
                sha256=sha.hexdigest(),
                sm3=sm3.finalize().hex(),
                storage_name=storage_name,
                text=extracted,
                uploaded_by=actor,
                uploaded_at=clock.now(),
            )
            _event(actor, project, "tendering.document_uploaded",
                   {"document": document.public_id, "name": name, "kind": kind, "size": size,
                    "sha256": document.sha256, "sm3": document.sm3})  # fmt: skip
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return document


def remove_document(*, actor: Any, document: TenderDocument) -> None:
    project = document.project
    require(actor, "tendering.edit", project)
    if document.published_at is not None:
        raise Conflict("已发布的文件不能删除 (published documents stay)", code="already_published")
    with transaction.atomic():
        _event(actor, project, "tendering.document_removed", {"document": document.public_id})
        document.delete()
    document_path(document).unlink(missing_ok=True)


def record_download(*, actor: Any, document: TenderDocument) -> Path:
    """Anyone may download a published document, signed in or not (R60). A signed-in
    downloader's identity is sealed (R42): nobody sees who or how many until the deadline."""
    from ggzy.bidding import register

    if document.published_at is None:
        raise NotFound("文件不存在 (no such document)", code="document_not_found")
    tag, sealed = "", ""
    if getattr(actor, "is_authenticated", False):
        scope = document.project.public_id
        tag = register.tag("downloader", scope, actor.pk)
        sealed = register.seal("downloader", scope, {"user": actor.pk, "name": actor.username})
    Download.objects.create(
        document_tag=register.tag("download", "documents", document.public_id),
        downloader_tag=tag,
        sealed_identity=sealed,
        downloaded_at=clock.now(),
    )
    return document_path(document)


# --- publication --------------------------------------------------------------------------------


def publish_project(
    *,
    actor: Any,
    project: Project,
    announcement: str,
    documents_from: datetime | None = None,
    documents_until: datetime | None = None,
    bid_deadline: datetime | None = None,
) -> Project:
    """Publish the tender announcement and documents. The bid period (R1/R2) and the sale period
    (R3/R4) are checked per section against the project's own ruleset; the fair-competition
    review must have no unresolved blocking finding. Dates given here apply to every section;
    otherwise each section's planned dates are used. Documents are issued no earlier than now."""
    from ggzy.fairness.services import ensure_current_review, require_publishable
    from ggzy.tendering.invitations import require_enough_invitations

    require(actor, "tendering.publish", project)
    announcement = checks.text(announcement, "announcement", max_length=20000)
    if project.status == ProjectStatus.ACCEPTED:
        ensure_current_review(project)  # kept even if the publication below is refused
    now = clock.now()
    with transaction.atomic():
        project = _locked(project)
        if project.status != ProjectStatus.ACCEPTED:
            raise Conflict("项目须经受理后发布 (accept before publishing)",
                           code="bad_project_state", detail={"status": project.status})  # fmt: skip
        documents = list(project.documents.filter(kind=DocumentKind.TENDER))
        if not documents:
            raise ValidationFailed("请先上传招标文件 (upload the tender documents first)",
                                   code="no_tender_documents")  # fmt: skip
        require_publishable(project)
        require_enough_invitations(project)  # an invited tender: 3 invitees first (法17)
        sections = list(project.sections.all())
        for section in sections:
            start = max(documents_from or section.documents_from or now, now)
            until = documents_until or section.documents_until
            deadline = bid_deadline or section.bid_deadline
            if until is None or deadline is None:
                raise ValidationFailed("请填写发售截止和投标截止时间 (dates required)",
                                       code="dates_required",
                                       detail={"section": section.number})  # fmt: skip
            checks.schedule(project.ruleset.rules, documents_from=start, documents_until=until,
                            bid_deadline=deadline)  # fmt: skip
            section.documents_from, section.documents_until = start, until
            section.bid_deadline = section.original_deadline = deadline
            section.save(update_fields=["documents_from", "documents_until", "bid_deadline",
                                        "original_deadline"])  # fmt: skip
        _move(project, ProjectStatus.PUBLISHED)
        project.published_at, project.announcement = now, announcement
        project.save(update_fields=["status", "published_at", "announcement"])
        TenderDocument.objects.filter(pk__in=[d.pk for d in documents]).update(published_at=now)
        _event(actor, project, "tendering.project_published", {
            "announcement_sm3": _sm3hex(announcement),
            "documents": [{"document": d.public_id, "name": d.name, "sha256": d.sha256,
                           "sm3": d.sm3} for d in documents],
            "sections": [{"number": s.number, "code": s.code,
                          "documents_from": _iso(s.documents_from),
                          "documents_until": _iso(s.documents_until),
                          "bid_deadline": _iso(s.bid_deadline)} for s in sections],
        })  # fmt: skip
    return project


# --- clarifications and objections --------------------------------------------------------------


def _open_sections(project: Project, now: datetime) -> list[Section]:
    return [
        s
        for s in project.sections.select_for_update().order_by("number")
        if s.bid_deadline is not None and now < s.bid_deadline and s.failed_at is None
    ]


def issue_clarification(
    *,
    actor: Any,
    project: Project,
    title: str,
    body: str,
    affects_bids: bool = True,
    document: TenderDocument | None = None,
    objection: Objection | None = None,
) -> Clarification:
    """Publish a clarification or amendment (澄清/修改). If it may affect bid preparation and is
    issued less than 15 days before a section's deadline, that deadline moves to 15 days after
    the clarification (R6) — automatically, no one has to remember."""
    require(actor, "tendering.answer", project)
    title = checks.text(title, "title", max_length=200)
    body = checks.text(body, "body", max_length=20000)
    now = clock.now()
    with transaction.atomic():
        project = _locked(project)
        if project.status != ProjectStatus.PUBLISHED:
            raise Conflict("项目尚未发布 (not published)", code="bad_project_state")
        sections = _open_sections(project, now)
        if not sections:
            raise Conflict("投标已截止，不能再澄清 (deadline passed)", code="deadline_passed")
        if document is not None and (
            document.project_id != project.pk or document.published_at is not None
        ):
            raise ValidationFailed("澄清附件无效 (bad attachment)", code="bad_attachment")
        minimum = timedelta(days=int(project.ruleset.rules["clarification_before_deadline_days"]))
        moved = []
        before = min(s.bid_deadline for s in sections if s.bid_deadline)
        for section in sections:
            assert section.bid_deadline is not None
            if affects_bids and section.bid_deadline < now + minimum:
                old = section.bid_deadline
                section.bid_deadline = now + minimum
                section.save(update_fields=["bid_deadline"])
                moved.append({"section": section.number, "from": old.isoformat(),
                              "to": section.bid_deadline.isoformat()})  # fmt: skip
        number = (project.clarifications.aggregate(n=Max("number"))["n"] or 0) + 1
        clarification = Clarification.objects.create(
            project=project, number=number, title=title, body=body, affects_bids=affects_bids,
            document=document, objection=objection, deadline_before=before,
            deadline_after=min(s.bid_deadline for s in sections if s.bid_deadline),
            issued_by=actor, issued_at=now,
        )  # fmt: skip
        if document is not None:
            TenderDocument.objects.filter(pk=document.pk).update(published_at=now)
        _event(actor, project, "tendering.clarification_issued", {
            "number": number, "title": title, "affects_bids": affects_bids,
            "body_sm3": _sm3hex(body),
            "document": document.public_id if document else None, "deadlines_moved": moved,
        })  # fmt: skip
    return clarification


def raise_objection(*, actor: Any, project: Project, entity: Entity, text: str) -> Objection:
    """A potential bidder objects to the tender documents, at least 10 days before the deadline
    (R7); the tenderer must answer within 3 days (R9) and the procedure waits until it does."""
    require(actor, "tendering.object")
    require(actor, "entity.act", entity)
    text = checks.text(text, "text", max_length=10000)
    require_invited(actor, project, entity, subject=_subject(project))
    now = clock.now()
    too_late: Conflict | None = None
    with transaction.atomic():
        project = _locked(project)
        if project.status != ProjectStatus.PUBLISHED:
            raise NotFound("项目不存在或未发布 (no such published project)",
                           code="project_not_found")  # fmt: skip
        rules = project.ruleset.rules
        sections = _open_sections(project, now)
        limit_days = int(rules.get("objection_before_deadline_days", 10))
        deadline = min((s.bid_deadline for s in sections if s.bid_deadline), default=None)
        if deadline is None or now > deadline - timedelta(days=limit_days):
            too_late = Conflict(
                f"对招标文件的异议应在投标截止{limit_days}日前提出（R7）(objection too late)",
                code="objection_too_late",
                detail={"rule": "R7", "last_moment": (deadline - timedelta(days=limit_days))
                        .isoformat() if deadline else None},
            )  # fmt: skip
        else:
            objection = Objection.objects.create(
                project=project, public_id=secrets.token_hex(16), entity=entity,
                raised_by=actor, text=text, raised_at=now,
                reply_due=now + timedelta(days=int(rules.get("objection_reply_days", 3))),
            )  # fmt: skip
            # who objects (a potential bidder) is not public before the deadline (R42)
            _event(sealed_actor(actor, f"objection:{objection.public_id}"), project,
                   "tendering.objection_raised", {
                "objection": objection.public_id, "reply_due": objection.reply_due.isoformat(),
                "text_sm3": _sm3hex(text),
            })  # fmt: skip
    if too_late is not None:  # recorded after the transaction, which wrote nothing
        record_refusal(actor=actor, event_type="tendering.objection_refused",
                       subject=_subject(project), reason="objection_too_late")  # fmt: skip
        raise too_late
    return objection


def answer_objection(*, actor: Any, objection: Objection, reply: str) -> Objection:
    """The tenderer (or its agent) answers; the suspension ends. An answer that changes the
    documents is also issued as a clarification (R6 applies to it)."""
    project = objection.project
    require(actor, "tendering.answer", project)
    reply = checks.text(reply, "reply", max_length=10000)
    now = clock.now()
    with transaction.atomic():
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if locked.status != ObjectionStatus.OPEN:
            raise Conflict("该异议已答复 (already answered)", code="already_answered")
        locked.status, locked.reply = ObjectionStatus.ANSWERED, reply
        locked.replied_by, locked.replied_at = actor, now
        locked.save(update_fields=["status", "reply", "replied_by", "replied_at"])
        _event(actor, project, "tendering.objection_answered", {
            "objection": locked.public_id, "late": now > locked.reply_due,
            "reply_sm3": _sm3hex(reply),
        })  # fmt: skip
    return locked


def open_objections(project: Project) -> Iterable[Objection]:
    return project.objections.filter(status=ObjectionStatus.OPEN)
