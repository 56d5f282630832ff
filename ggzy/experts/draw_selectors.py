"""Reads of the draw, with the access check built in. A draw exists for center and supervision
staff only (``experts.draw_view``); while it is sealed they see its terms, commitment and counts
— a seat's status and the public pseudonym, never who (R17); the staff running the session see
who once it is revealed. An expert sees their own invitations only; to anyone else an invitation
does not exist."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from ggzy.accounts.gate import allowed
from ggzy.core.errors import NotFound
from ggzy.experts import draw_seal, selectors
from ggzy.experts.draw_models import Draw, DrawnExpert, DrawNotification
from ggzy.experts.draw_states import DrawnStatus

ANSWERED_OR_OPEN = [s for s in DrawnStatus.values if s != DrawnStatus.STANDBY]


def _not_found() -> NotFound:
    return NotFound("抽取不存在 (no such draw)", code="draw_not_found")


def can_view(actor: Any) -> bool:
    return allowed(actor, "experts.draw_view")


def get_draw_for(actor: Any, public_id: str) -> Draw:
    draw = (
        Draw.objects.select_related("section__project", "home_region", "tops_up")
        .filter(public_id=str(public_id)[:32])
        .first()
    )
    if draw is None or not can_view(actor):
        raise _not_found()
    return draw


def draws_for(actor: Any, *, section: str = "", status: str = "") -> QuerySet[Draw]:
    if not can_view(actor):
        return Draw.objects.none()
    qs = Draw.objects.select_related("section__project", "home_region", "tops_up")
    if section:
        qs = qs.filter(section__public_id=section)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-requested_at", "-pk")


def draw_summary(draw: Draw) -> dict[str, Any]:
    """What staff see of a draw: identities only once it is revealed."""
    rows = list(
        draw.drawn.select_related("quota", "expert").order_by("quota__position", "position")
    )
    revealed = draw.revealed_at is not None
    quotas = []
    for q in draw.quotas.order_by("position"):
        mine = [r for r in rows if r.quota_id == q.pk]
        counts = {s: sum(1 for r in mine if r.status == s) for s in DrawnStatus.values}
        quotas.append(
            {
                "quota": q.code,
                "count": q.count,
                "backups": q.backups,
                "min_other_regions": q.min_other,
                "seats": counts,
                "confirmed": counts[DrawnStatus.CONFIRMED],
                "exhausted": q.exhausted_at is not None,
            }
        )
    drawn = []
    for r in rows:
        entry: dict[str, Any] = {
            "quota": r.quota.code,
            "position": r.position,
            "role": r.role,
            "status": r.status,
            "seat": r.seat,
            "pseudonym": r.pseudonym,
            "expert": None,
        }
        if revealed and r.expert is not None:
            entry["expert"] = {"public_id": r.expert.public_id, "name": r.expert.name}
        drawn.append(entry)
    section = draw.section
    return {
        "id": draw.public_id,
        "status": draw.status,
        "section": {
            "id": section.public_id,
            "code": section.code or section.label,
            "name": section.name,
        },
        "project": section.project.name,
        "tops_up": draw.tops_up.public_id if draw.tops_up else None,
        "session_at": draw.session_at,
        "evaluation_date": draw.evaluation_date,
        "regions": {
            "include": draw.include_regions,
            "exclude": draw.exclude_regions,
            "other_regions_only": draw.other_regions_only,
            "home": draw.home_region_id,
        },
        "avoid_days": draw.avoid_days,
        "requested_at": draw.requested_at,
        "commitment": draw.commitment,
        "commit_seq": draw.commit_seq,
        "tree_size": draw.tree_size,
        "tree_root": draw.tree_root,
        "inputs_sha256": draw.inputs_sha256,
        "drawn_at": draw.drawn_at,
        "revealed_at": draw.revealed_at,
        "secret": draw.revealed_secret or None,
        "sealed": not revealed,
        "unfillable": draw.unfillable,
        "quotas": quotas,
        "drawn": drawn,
    }


# --- the expert's own invitations --------------------------------------------------------------


def my_invitations(actor: Any) -> list[DrawnExpert]:
    expert = selectors.my_expert(actor)
    if expert is None:
        return []
    return list(
        DrawnExpert.objects.filter(
            invitee_tag=draw_seal.invitee_tag(expert.pk), status__in=ANSWERED_OR_OPEN
        )
        .select_related("draw__section__project", "quota")
        .order_by("-notified_at", "-pk")
    )


def get_invitation_for(actor: Any, public_id: str) -> DrawnExpert:
    row = (
        DrawnExpert.objects.select_related("draw__section__project", "quota")
        .filter(public_id=str(public_id)[:32], status__in=ANSWERED_OR_OPEN)
        .first()
    )
    expert = selectors.my_expert(actor)
    if row is None or expert is None or draw_seal.invitee_tag(expert.pk) != row.invitee_tag:
        raise NotFound("邀请不存在 (no such invitation)", code="invitation_not_found")
    return row


def invitation_out(row: DrawnExpert) -> dict[str, Any]:
    draw, section = row.draw, row.draw.section
    return {
        "id": row.public_id,
        "draw": draw.public_id,
        "section": section.code or section.label,
        "section_name": section.name,
        "project": section.project.name,
        "quota": row.quota.code,
        "session_at": draw.session_at,
        "status": row.status if row.status != DrawnStatus.REPLACED else row.outcome,
        "notified_at": row.notified_at,
        "answer_due": row.answer_due,
        "answered_at": row.answered_at,
    }


def my_notifications(actor: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The notification channel's messages to the signed-in expert (unsealed for them)."""
    expert = selectors.my_expert(actor)
    if expert is None:
        return []
    tag = draw_seal.invitee_tag(expert.pk)
    out = []
    for n in DrawNotification.objects.filter(recipient_tag=tag).order_by("-created_at", "-pk")[
        :limit
    ]:
        out.append(draw_seal.unseal("notice", tag, n.sealed_body) | {"created_at": n.created_at})
    return out
