"""Tendering reads: a section's phase (derived from its timestamps and the clock), the public
project view and timeline (the ledger events on the project), workspaces and staff queues.
Nothing here reveals a bid, a bidder or a downloader before the deadline (R42)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from ggzy.accounts.gate import allowed
from ggzy.core import clock
from ggzy.core.errors import NotFound, PermissionDenied
from ggzy.ledger.models import Event
from ggzy.registry.models import Membership
from ggzy.tendering.models import (
    Clarification,
    Invitation,
    Objection,
    Project,
    Section,
    TenderDocument,
)
from ggzy.tendering.states import ObjectionStatus, Phase, ProjectStatus

PUBLIC_STATUSES = (ProjectStatus.PUBLISHED,)


def phase(section: Section, *, now: datetime | None = None, suspended: bool | None = None) -> str:
    """Where the section is now. ``suspended``: whether an objection awaits its answer (pass it
    when known, to save a query)."""
    now = now or clock.now()
    project = section.project
    if project.status in (ProjectStatus.DRAFT, ProjectStatus.SUBMITTED, ProjectStatus.RETURNED):
        return Phase.PLANNED
    if project.status == ProjectStatus.ACCEPTED or section.bid_deadline is None:
        return Phase.ACCEPTED
    if section.failed_at is not None:
        return Phase.FAILED
    try:
        opening = section.opening  # cached by select_related("opening") where lists use it
    except ObjectDoesNotExist:
        opening = None
    if opening is not None:
        return Phase.OPENING if opening.status == "decrypting" else Phase.OPENED
    if suspended is None:
        suspended = project.objections.filter(status=ObjectionStatus.OPEN).exists()
    if suspended:
        return Phase.SUSPENDED
    return Phase.BIDDING if now < section.bid_deadline else Phase.CLOSED


def _with_sections(qs: QuerySet[Project]) -> QuerySet[Project]:
    return qs.select_related(
        "category", "procedure", "tenderer", "agent", "region"
    ).prefetch_related(
        Prefetch("sections", queryset=Section.objects.order_by("number").select_related("opening"))
    )


def public_projects(*, category: str = "", q: str = "") -> QuerySet[Project]:
    qs = Project.objects.filter(status__in=PUBLIC_STATUSES)
    if category:
        qs = qs.filter(category_id=category)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(trading_code__icontains=q))
    return _with_sections(qs).order_by("-published_at")


def member_entity_ids(actor: Any) -> list[int]:
    if not getattr(actor, "is_authenticated", False):
        return []
    return list(Membership.objects.filter(user_id=actor.pk).values_list("entity_id", flat=True))


def my_projects(actor: Any) -> QuerySet[Project]:
    """Projects of the tenderers and agents the actor acts for."""
    ids = member_entity_ids(actor)
    return _with_sections(
        Project.objects.filter(Q(tenderer_id__in=ids) | Q(agent_id__in=ids))
    ).order_by("-created_at")


def intake_queue() -> QuerySet[Project]:
    return _with_sections(Project.objects.filter(status=ProjectStatus.SUBMITTED)).order_by(
        "submitted_at"
    )


def openings_due(*, now: datetime | None = None) -> list[Section]:
    """Sections whose deadline has passed and whose opening has not been held (today's queue)."""
    now = now or clock.now()
    return list(
        Section.objects.filter(
            project__status=ProjectStatus.PUBLISHED,
            bid_deadline__lte=now,
            failed_at__isnull=True,
            opening__isnull=True,
        )
        .select_related("project")
        .order_by("bid_deadline")
    )


def can_view_private(actor: Any, project: Project) -> bool:
    return allowed(actor, "tendering.view_private", project)


def get_project(actor: Any, public_id: str) -> Project:
    """A project the actor may see: published ones for everyone, others for its members and
    center/supervision staff; anyone else gets 404 (an unpublished project's existence is not
    public)."""
    project = _with_sections(Project.objects.filter(public_id=str(public_id)[:32])).first()
    if project is None or (
        project.status not in PUBLIC_STATUSES and not can_view_private(actor, project)
    ):
        raise NotFound("项目不存在 (no such project)", code="project_not_found")
    return project


def get_section(actor: Any, public_id: str) -> Section:
    section = (
        Section.objects.select_related("project").filter(public_id=str(public_id)[:32]).first()
    )
    if section is None:
        raise NotFound("标段不存在 (no such section)", code="section_not_found")
    get_project(actor, section.project.public_id)
    return section


def get_document(actor: Any, public_id: str) -> TenderDocument:
    doc = (
        TenderDocument.objects.select_related("project")
        .filter(public_id=str(public_id)[:32])
        .first()
    )
    if doc is None or (doc.published_at is None and not can_view_private(actor, doc.project)):
        raise NotFound("文件不存在 (no such document)", code="document_not_found")
    return doc


def timeline(project: Project) -> list[Event]:
    """The project's disclosed steps: every ledger event on ``project:<id>``."""
    return list(Event.objects.filter(subject=f"project:{project.public_id}").order_by("seq"))


EVENT_LABELS: dict[str, Any] = {
    "tendering.project_registered": _("项目登记"),
    "tendering.project_edited": _("项目修改"),
    "tendering.agency_confirmed": _("招标人确认委托代理"),
    "tendering.project_submitted": _("提交受理"),
    "tendering.project_accepted": _("交易中心受理"),
    "tendering.project_returned": _("退回"),
    "tendering.document_uploaded": _("上传文件"),
    "tendering.document_removed": _("删除文件"),
    "tendering.project_published": _("发布招标公告"),
    "tendering.clarification_issued": _("发布澄清/修改"),
    "tendering.objection_raised": _("收到异议（暂停）"),
    "tendering.objection_answered": _("答复异议"),
    "tendering.objection_refused": _("异议被拒收（逾期）"),
    "fairness.reviewed": _("公平竞争审查"),
    "fairness.reason_recorded": _("审查意见说明"),
    "bidding.opening_started": _("开标（解密开始）"),
    "bidding.bid_decrypted": _("投标文件解密"),
    "bidding.decryption_failed": _("解密失败"),
    "bidding.opening_objection": _("开标现场异议"),
    "bidding.opening_objection_answered": _("开标异议答复"),
    "bidding.opening_closed": _("开标记录发布"),
    "bidding.opening_failed": _("投标人不足三家，不予开标"),
}
# before publication, the timeline is private
PUBLIC_BEFORE_PUBLICATION: frozenset[str] = frozenset()


def public_timeline(project: Project) -> list[dict[str, Any]]:
    rows = []
    for event in timeline(project):
        if project.published_at is None and event.event_type not in PUBLIC_BEFORE_PUBLICATION:
            continue
        rows.append(
            {
                "seq": event.seq,
                "at": event.recorded_at,
                "type": event.event_type,
                "label": str(EVENT_LABELS.get(event.event_type, event.event_type)),
            }
        )
    return rows


def published_documents(project: Project) -> list[TenderDocument]:
    return [d for d in project.documents.all() if d.published_at is not None]


def clarifications(project: Project) -> QuerySet[Clarification]:
    return project.clarifications.select_related("document")


def objections_for(actor: Any, project: Project) -> QuerySet[Objection]:
    """The project's members and staff see every objection; a bidder its own."""
    if can_view_private(actor, project):
        return project.objections.select_related("entity")
    return project.objections.filter(entity_id__in=member_entity_ids(actor)).select_related(
        "entity"
    )


def downloads(actor: Any, project: Project) -> list[dict[str, Any]]:
    """Who downloaded the documents: sealed until the earliest bid deadline has passed (R42)."""
    from ggzy.bidding import register
    from ggzy.tendering.models import Download

    if not (
        allowed(actor, "tendering.view_downloads")
        or allowed(actor, "tendering.view_private", project)
    ):
        raise PermissionDenied("无权查看 (not permitted)", code="forbidden")
    # the documents are the whole project's: sealed until the last open section's deadline
    deadlines = [
        s.bid_deadline for s in project.sections.all() if s.bid_deadline and not s.failed_at
    ]
    if not deadlines or clock.now() < max(deadlines):
        raise PermissionDenied("投标截止前下载人信息保密（R42）(sealed until the deadline)",
                               code="sealed_until_deadline")  # fmt: skip
    rows = []
    names = {
        register.tag("download", "documents", doc.public_id): doc.name
        for doc in project.documents.all()
    }
    for d in Download.objects.filter(document_tag__in=list(names)).order_by("pk"):
        who = (
            register.unseal("downloader", project.public_id, d.sealed_identity)
            if d.sealed_identity
            else None
        )
        rows.append({"document": names[d.document_tag], "at": d.downloaded_at,
                     "user": who["name"] if who else None})  # fmt: skip
    return rows


def get_objection(actor: Any, public_id: str) -> Objection:
    """An objection its project's members and staff, or the objecting entity's members, may see;
    404 for anyone else."""
    objection = (
        Objection.objects.select_related("project", "entity")
        .filter(public_id=str(public_id)[:32])
        .first()
    )
    if objection is None or not (
        can_view_private(actor, objection.project)
        or objection.entity_id in member_entity_ids(actor)
    ):
        raise NotFound("异议不存在 (no such objection)", code="objection_not_found")
    return objection


def invitations_for(actor: Any, project: Project) -> QuerySet[Invitation]:
    """Who was invited to an invited tender (R42): every invitation for the project's members and
    center/supervision staff; an invitee its own only; nobody else any."""
    qs = project.invitations.select_related("entity").order_by("invited_at", "pk")
    if can_view_private(actor, project):
        return qs
    return qs.filter(entity_id__in=member_entity_ids(actor))


def my_invitations(actor: Any) -> QuerySet[Invitation]:
    """Every invitation to bid of the entities the actor acts for, in published projects (a
    draft's invitations are the tenderer's business until it publishes), newest first: the
    bidder's "受邀投标" list."""
    return (
        Invitation.objects.filter(entity_id__in=member_entity_ids(actor),
                                  project__status=ProjectStatus.PUBLISHED)
        .select_related("entity", "project", "project__tenderer")
        .order_by("-invited_at", "-pk")
    )  # fmt: skip


def own_invitations(actor: Any, project: Project) -> QuerySet[Invitation]:
    """The invitations of the entities the actor acts for ("您已受邀投标"), whoever else the
    actor is: a page everyone may see lists no one else's."""
    return project.invitations.filter(entity_id__in=member_entity_ids(actor)).select_related(
        "entity"
    )
