"""Expert-pool reads, with the access check built in: an expert's record is private (center,
supervision and the expert themself); to anyone else it does not exist. Plus the candidate
selector a draw counts and picks from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from ggzy.accounts.gate import allowed, require
from ggzy.core.errors import NotFound
from ggzy.experts.models import (
    DeclaredConflict,
    Expert,
    ExpertSpecialty,
    ExpertStatusChange,
    Specialty,
    Unavailability,
)
from ggzy.experts.states import ExpertStatus
from ggzy.registry.models import Region

MAX_PK = 2**63 - 1


def _not_found() -> NotFound:
    return NotFound("专家不存在 (no such expert)", code="expert_not_found")


def can_view(actor: Any, expert: Expert) -> bool:
    return allowed(actor, "experts.view_private", expert)


def _with_related(qs: QuerySet[Expert]) -> QuerySet[Expert]:
    return qs.select_related("employer", "region", "primary_specialty", "user")


def get_expert_for(actor: Any, public_id: str) -> Expert:
    """One expert by public id, for who may see it; everyone else gets ``expert_not_found``."""
    expert = _with_related(Expert.objects.filter(public_id=str(public_id)[:32])).first()
    if expert is None or not can_view(actor, expert):
        raise _not_found()
    return expert


def my_expert(actor: Any) -> Expert | None:
    """The signed-in user's own record (application or pool entry), if any."""
    if not getattr(actor, "is_authenticated", False):
        return None
    return _with_related(Expert.objects.filter(user_id=actor.pk)).first()


def region_codes(codes: Iterable[str]) -> set[str]:
    """The regions named and every region under them (a province names its cities)."""
    found = set(Region.objects.filter(code__in=list(codes)).values_list("code", flat=True))
    frontier = set(found)
    while frontier:
        frontier = (
            set(Region.objects.filter(parent_id__in=frontier).values_list("code", flat=True))
            - found
        )
        found |= frontier
    return found


def subtree_ids(codes: Iterable[str]) -> list[int]:
    """Specialty ids of the codes named and all their sub-specialties: ``A01`` covers ``A01.*``,
    a class ``A`` covers every ``A…`` code."""
    query = Q(pk__in=[])
    for code in codes:
        code = code.strip().upper()
        below = code if len(code) == 1 else f"{code}."
        query |= Q(code=code) | Q(code__startswith=below)
    return list(Specialty.objects.filter(query).values_list("pk", flat=True))


def pool(
    actor: Any, *, q: str = "", specialty: str = "", region: str = "", status: str = ""
) -> QuerySet[Expert]:
    """The pool for center and supervision staff, filtered; newest first."""
    require(actor, "experts.view_private")
    qs = _with_related(Expert.objects.all())
    if q:
        qs = qs.filter(
            Q(name__contains=q) | Q(resident_id=q.upper()) | Q(employer__name__contains=q)
        )
    if specialty:
        qs = qs.filter(specialty_rows__specialty_id__in=subtree_ids([specialty])).distinct()
    if region:
        qs = qs.filter(region_id__in=region_codes([region]))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-pk")


def application_queue(actor: Any) -> QuerySet[Expert]:
    """Applications waiting for approval, oldest first."""
    require(actor, "experts.manage")
    return (
        _with_related(Expert.objects.filter(status=ExpertStatus.PENDING))
        .prefetch_related(Prefetch("specialty_rows", queryset=_ordered_specialty_rows()))
        .order_by("applied_at", "pk")
    )


def specialties(*, active_only: bool = False) -> QuerySet[Specialty]:
    qs = Specialty.objects.select_related("parent").order_by("code")
    return qs.filter(active=True) if active_only else qs


def _ordered_specialty_rows() -> QuerySet[ExpertSpecialty]:
    return ExpertSpecialty.objects.select_related("specialty").order_by(
        "-is_primary", "specialty__code"
    )


def specialty_rows(expert: Expert) -> list[ExpertSpecialty]:
    """The expert's specialties, primary first (prefetched by ``application_queue``)."""
    if "specialty_rows" in getattr(expert, "_prefetched_objects_cache", {}):
        return list(expert.specialty_rows.all())
    return list(_ordered_specialty_rows().filter(expert=expert))


def history(expert: Expert) -> dict[str, list[Any]]:
    """What the expert (and staff) see of an expert's record over time: status changes, the
    ratings (never who gave them), the sessions sat on, the calendar and declared conflicts."""
    return {
        "status_history": list(
            expert.status_history.prefetch_related("causes").order_by("changed_at", "pk")
        ),
        "ratings": list(expert.ratings.order_by("-rated_at", "-pk")),
        "unavailability": list(expert.unavailability.order_by("start", "pk")),
        "conflicts": list(expert.conflicts.select_related("entity").order_by("declared_at", "pk")),
        "seats": committee_seats(expert),
    }


def committee_seats(expert: Expert) -> list[Any]:
    """The evaluation sessions the expert sat on as an expert, newest first."""
    from ggzy.evaluation.models import CommitteeMember
    from ggzy.evaluation.states import MemberKind

    return list(
        CommitteeMember.objects.filter(expert=expert, kind=MemberKind.EXPERT)
        .select_related("session__section__project")
        .order_by("-session__created_at", "-pk")
    )


def suspensions(expert: Expert) -> list[ExpertStatusChange]:
    """Each suspension and extension of the expert, oldest first, with the ratings that caused
    it (``causes``; none for one decided by staff)."""
    return list(
        expert.status_history.filter(to_status=ExpertStatus.SUSPENDED)
        .prefetch_related("causes")
        .order_by("changed_at", "pk")
    )


def get_period(expert: Expert, period_id: int) -> Unavailability:
    row = None
    if 0 < period_id <= MAX_PK:
        row = expert.unavailability.filter(pk=period_id).first()
    if row is None:
        raise NotFound("不可参评日期不存在 (no such period)", code="period_not_found")
    return row


def get_conflict(expert: Expert, conflict_id: int) -> DeclaredConflict:
    row = None
    if 0 < conflict_id <= MAX_PK:
        row = expert.conflicts.filter(pk=conflict_id, withdrawn_at__isnull=True).first()
    if row is None:
        raise NotFound("回避申报不存在 (no such declaration)", code="conflict_not_found")
    return row


# --- for the draw ------------------------------------------------------------------------------


def drawable_q(day: date) -> Q:
    """Draw-table rows of experts who may be drawn on ``day`` (see ``states.drawable_on``)."""
    return Q(status=ExpertStatus.ACTIVE) | Q(status=ExpertStatus.SUSPENDED, suspended_until__lt=day)


def draw_candidates(
    *,
    specialties: Iterable[str],
    day: date,
    regions: Iterable[str] | None = None,
    avoid_entities: Iterable[int] = (),
    exclude_experts: Iterable[int] = (),
) -> QuerySet[ExpertSpecialty, int]:
    """Expert ids (ascending, distinct) that a draw may pick for a quota: a specialty or any
    sub-specialty, in the regions (and the regions under them; ``None``: every region), in the
    pool and not suspended on ``day``, not unavailable that day, not employed by nor declaring a
    conflict with an entity in ``avoid_entities``, and not already in ``exclude_experts``.

    A draw counts this (``.count()``) and picks by offset (``[k]``): both read the draw index
    ``expertspec_draw`` (docs/domains/experts.md). This selector has no actor: the draw service
    that calls it checks its own right. The remaining avoidance rules (relations through the
    registry, service for the same tenderer) are the draw's, as further ``exclude_experts``."""
    qs = ExpertSpecialty.objects.filter(drawable_q(day), specialty_id__in=subtree_ids(specialties))
    if regions is not None:
        qs = qs.filter(region_id__in=region_codes(regions))
    qs = qs.exclude(
        expert_id__in=Unavailability.objects.filter(start__lte=day, end__gte=day).values(
            "expert_id"
        )
    )
    avoid = list(avoid_entities)
    if avoid:
        qs = qs.exclude(
            expert_id__in=DeclaredConflict.objects.filter(
                entity_id__in=avoid, withdrawn_at__isnull=True
            ).values("expert_id")
        ).exclude(expert__employer_id__in=avoid)
    excluded = list(exclude_experts)
    if excluded:
        qs = qs.exclude(expert_id__in=excluded)
    return qs.values_list("expert_id", flat=True).distinct().order_by("expert_id")


def eligible_experts(
    *, specialties: Iterable[str], day: date, regions: Iterable[str] | None = None,
    avoid_entities: Iterable[int] = (),
) -> QuerySet[Expert]:  # fmt: skip
    """The experts themselves, for pages and checks (a draw uses ``draw_candidates``)."""
    ids = draw_candidates(
        specialties=specialties, day=day, regions=regions, avoid_entities=avoid_entities
    )
    return _with_related(Expert.objects.filter(pk__in=ids)).order_by("pk")
