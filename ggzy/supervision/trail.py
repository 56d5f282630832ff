"""The supervision channel (监督通道): regulators, inspectors and auditors read every project —
whatever its state, published or not — with the full ledger trail of it and of everything that
belongs to it, and follow key projects (重点项目跟踪): each new event of a followed project is
news to the follower until they mark it seen.

A project's trail is every ledger event on the project itself and on what hangs off it: its
sections' results (``award:``), evaluation sessions, expert draws, deposits, the alerts on its
sections, and its bids — a bid only once its section is known, i.e. after the opening: before
it, which bids belong to which section is sealed (R42), for supervisors too."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from ggzy.accounts.gate import require
from ggzy.bidding.models import Bid, Deposit
from ggzy.core import clock
from ggzy.core.errors import NotFound
from ggzy.evaluation.models import EvaluationSession
from ggzy.experts.draw_models import Draw
from ggzy.ledger.models import Event
from ggzy.ledger.services import append_event
from ggzy.supervision.models import Alert, Tracking
from ggzy.tendering.models import Project

PAGE = 100
# following a project is the supervisor's own business: not on the project's trail (whose
# events a follower is told about), so following does not announce itself
TRACKING_SUBJECT = "supervision:tracking"


def projects(actor: Any, *, q: str = "") -> QuerySet[Project]:
    """Every project, newest first; ``q`` matches the name or the id."""
    require(actor, "supervision.view")
    rows = Project.objects.select_related("tenderer", "category", "region")
    text = q.strip()[:100] if isinstance(q, str) else ""
    if text:
        rows = rows.filter(Q(name__icontains=text) | Q(public_id=text) | Q(trading_code=text))
    return rows.order_by("-pk")


def get_project(actor: Any, public_id: str) -> Project:
    require(actor, "supervision.view")
    row = Project.objects.select_related("tenderer", "category", "region", "procedure").filter(
        public_id=str(public_id)[:32]).first()  # fmt: skip
    if row is None:
        raise NotFound("项目不存在 (no such project)", code="project_not_found")
    return row


def subjects(project: Project) -> list[str]:
    """The ledger subjects of the project and of what belongs to it (see the module docstring)."""
    sections = list(project.sections.values_list("pk", "public_id"))
    ids = [pk for pk, _ in sections]
    out = [f"project:{project.public_id}"]
    out += [f"award:{public_id}" for _, public_id in sections]
    out += [f"section:{public_id}" for _, public_id in sections]
    out += [f"evaluation:{p}" for p in
            EvaluationSession.objects.filter(section_id__in=ids).values_list("public_id", flat=True)]  # fmt: skip
    out += [f"expert-draw:{p}" for p in
            Draw.objects.filter(section_id__in=ids).values_list("public_id", flat=True)]  # fmt: skip
    out += [f"deposit:{pk}" for pk in
            Deposit.objects.filter(section_id__in=ids).values_list("pk", flat=True)]  # fmt: skip
    out += [f"bid:{p}" for p in  # known only once opened
            Bid.objects.filter(section_id__in=ids).values_list("public_id", flat=True)]  # fmt: skip
    out += [f"alert:{p}" for p in
            Alert.objects.filter(section_id__in=ids).values_list("public_id", flat=True)]  # fmt: skip
    return out


def trail(actor: Any, project: Project, *, after: int = 0, limit: int = PAGE) -> list[Event]:
    """The project's events after ``after``, oldest first."""
    require(actor, "supervision.view")
    return list(Event.objects.filter(subject__in=subjects(project), seq__gt=max(0, after))
                .order_by("seq")[:max(1, min(limit, 1000))])  # fmt: skip


def _head() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def track(*, actor: Any, project: Project) -> Tracking:
    """Follow ``project`` from now on (already followed: as it was)."""
    require(actor, "supervision.view")
    existing = Tracking.objects.filter(user=actor, project=project).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            row = Tracking.objects.create(user=actor, project=project, created_at=clock.now(),
                                          seen_seq=_head())  # fmt: skip
            append_event(actor=actor, event_type="supervision.project_tracked",
                         subject=TRACKING_SUBJECT, payload={"project": project.public_id})  # fmt: skip
    except IntegrityError:  # followed by a concurrent request
        return Tracking.objects.get(user=actor, project=project)
    return row


def untrack(*, actor: Any, project: Project) -> None:
    require(actor, "supervision.view")
    with transaction.atomic():
        deleted, _ = Tracking.objects.filter(user=actor, project=project).delete()
        if deleted:
            append_event(actor=actor, event_type="supervision.project_untracked",
                         subject=TRACKING_SUBJECT, payload={"project": project.public_id})  # fmt: skip


def followed(actor: Any) -> list[dict[str, Any]]:
    """The actor's followed projects, each with its new events (up to 20 shown, all counted)."""
    require(actor, "supervision.view")
    out = []
    for row in Tracking.objects.filter(user=actor).select_related("project").order_by("-pk"):
        names = subjects(row.project)
        new = Event.objects.filter(subject__in=names, seq__gt=row.seen_seq)
        out.append({"tracking": row, "project": row.project, "new_count": new.count(),
                    "new": list(new.order_by("-seq")[:20])})  # fmt: skip
    return out


def mark_seen(*, actor: Any, project: Project) -> Tracking:
    require(actor, "supervision.view")
    row = Tracking.objects.filter(user=actor, project=project).first()
    if row is None:
        raise NotFound("未跟踪该项目 (the project is not followed)", code="not_tracking")
    row.seen_seq = _head()
    row.save(update_fields=["seen_seq"])
    return row


def tracking_of(actor: Any, project: Project) -> Tracking | None:
    return Tracking.objects.filter(user=actor, project=project).first()


def tracked_ids(actor: Any) -> set[int]:
    """The ids of the projects ``actor`` follows (one query for a whole list)."""
    return set(Tracking.objects.filter(user=actor).values_list("project_id", flat=True))


def is_tracking(actor: Any, project: Project) -> bool:
    return Tracking.objects.filter(user=actor, project=project).exists()
