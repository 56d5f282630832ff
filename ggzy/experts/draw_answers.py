"""Answers to a draw's invitations, replacements from the backups, timeouts, and the reveal at
the session start (R17). Each step is a ledger event on the draw's subject; an expert's own
answer has a keyed pseudonym as its ledger actor, not their account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound
from ggzy.experts import draw_seal, selectors
from ggzy.experts.draw_models import Draw, DrawnExpert
from ggzy.experts.draw_record import (
    SYSTEM,
    answer_due,
    event,
    identity,
    notify,
    refuse,
    secret_of,
    subject,
)
from ggzy.experts.draw_states import SEATED, DrawnStatus, DrawStatus
from ggzy.experts.models import Expert


def _invitee(actor: Any, row: DrawnExpert) -> Expert:
    expert = selectors.my_expert(actor)
    if expert is None or draw_seal.invitee_tag(expert.pk) != row.invitee_tag:
        raise NotFound("邀请不存在 (no such invitation)", code="invitation_not_found")
    return expert


def answer_invitation(
    *, actor: Any, invitation: DrawnExpert, accept: bool, reason: str = ""
) -> DrawnExpert:
    """The drawn expert confirms (``accept``) or declines (a reason) their own invitation."""
    require(actor, "experts.answer")
    _invitee(actor, invitation)
    reason = (reason or "").strip()
    if not accept and not reason:
        raise refuse("请填写拒绝理由 (reason required)", "reason_required", "reason")
    if len(reason) > 300:
        raise refuse("理由过长 (too long)", "too_long", "reason")
    now = clock.now()
    with transaction.atomic():
        draw = (
            Draw.objects.select_for_update()
            .select_related("section__project")
            .get(pk=invitation.draw_id)
        )
        _expire(draw, now)
        row = DrawnExpert.objects.select_related("quota", "draw").get(pk=invitation.pk)
        if row.status != DrawnStatus.NOTIFIED:
            raise Conflict(
                "该邀请已结束 (the invitation is closed)",
                code="invitation_closed",
                detail={"status": row.status},
            )
        who = draw_seal.sealed_actor(actor, subject(draw))
        row.answered_at = now
        payload = {"quota": row.quota.code, "seat": row.seat, "pseudonym": row.pseudonym}
        if accept:
            row.status = DrawnStatus.CONFIRMED
            row.save(update_fields=["status", "answered_at"])
            event(who, draw, "experts.draw_confirmed", payload)
            _maybe_complete(draw, now)
        else:
            row.status = DrawnStatus.DECLINED
            row.sealed_reason = draw_seal.seal("reason", draw.public_id, reason)
            row.save(update_fields=["status", "answered_at", "sealed_reason"])
            event(who, draw, "experts.draw_declined", payload)
            _replace(draw, row, now)
    row.refresh_from_db()
    return row


def _maybe_complete(draw: Draw, now: datetime) -> None:
    if draw.status != DrawStatus.DRAWN:
        return
    for quota in draw.quotas.all():
        if quota.drawn.filter(status=DrawnStatus.CONFIRMED).count() < quota.count:
            return
    draw.status, draw.completed_at = DrawStatus.COMPLETE, now
    draw.save(update_fields=["status", "completed_at"])
    event(
        SYSTEM,
        draw,
        "experts.draw_complete",
        {"quotas": [{"quota": q.code, "confirmed": q.count} for q in draw.quotas.all()]},
    )


def _replace(draw: Draw, row: DrawnExpert, now: datetime) -> DrawnExpert | None:
    """Give ``row``'s seat to the next backup of its quota (one from another region when the
    quota's minimum would be broken otherwise)."""
    quota = row.quota
    others_seated = quota.drawn.filter(status__in=SEATED, other_region=True).exclude(pk=row.pk)
    need_other = quota.min_other > 0 and others_seated.count() < quota.min_other
    standby = quota.drawn.filter(status=DrawnStatus.STANDBY).order_by("position")
    backup = (standby.filter(other_region=True) if need_other else standby).first()
    if backup is None:
        quota.exhausted_at = now
        quota.save(update_fields=["exhausted_at"])
        seated = quota.drawn.filter(status__in=SEATED).count()
        entry = {
            "quota": quota.code,
            "needed": quota.count,
            "seated": seated,
            "binding": "backups_exhausted",
            "eligible": standby.count(),
        }
        detail = draw.unfillable or {"quotas": []}
        detail["quotas"] = [q for q in detail["quotas"] if q.get("quota") != quota.code] + [entry]
        draw.status, draw.unfillable = DrawStatus.UNFILLABLE, detail
        draw.save(update_fields=["status", "unfillable"])
        event(SYSTEM, draw, "experts.draw_backups_exhausted", entry | {"seat": row.seat})
        return None
    backup.status, backup.seat = DrawnStatus.NOTIFIED, row.seat
    backup.notified_at, backup.answer_due = now, answer_due(draw, now)
    if draw.revealed_at is not None:
        backup.expert_id = identity(backup)["expert"]
    backup.save(update_fields=["status", "seat", "notified_at", "answer_due", "expert"])
    row.outcome, row.status, row.replaced_by = row.status, DrawnStatus.REPLACED, backup
    row.save(update_fields=["outcome", "status", "replaced_by"])
    notify(draw, backup, "invitation", now)
    event(
        SYSTEM,
        draw,
        "experts.draw_replaced",
        {
            "quota": quota.code,
            "seat": backup.seat,
            "out": row.pseudonym,
            "in": backup.pseudonym,
            "cause": row.outcome,
            "backup_position": backup.position,
        },
    )
    return backup


def _expire(draw: Draw, now: datetime, *, at_reveal: bool = False) -> int:
    """Invitations of ``draw`` not answered in time: no answer, replaced (under the draw's lock).
    ``at_reveal``: every invitation still open at the reveal (its time is up at the session
    start, even when it was due exactly then)."""
    due = {"answer_due__lte": now} if at_reveal else {"answer_due__lt": now}
    overdue = list(
        DrawnExpert.objects.select_related("quota")
        .filter(draw=draw, status=DrawnStatus.NOTIFIED, **due)
        .order_by("answer_due", "pk")
    )
    for row in overdue:
        row.status = DrawnStatus.NO_ANSWER
        row.save(update_fields=["status"])
        event(
            SYSTEM,
            draw,
            "experts.draw_no_answer",
            {"quota": row.quota.code, "seat": row.seat, "pseudonym": row.pseudonym},
        )
        _replace(draw, row, now)
    return len(overdue)


def expire_overdue(*, draw: Draw | None = None) -> int:
    """Sweep (``ggzy experts draw sweep``, every minute from a timer): every invitation past its
    answer time counts as no answer and is replaced. Returns how many."""
    now = clock.now()
    ids = (
        [draw.pk]
        if draw is not None
        else list(
            DrawnExpert.objects.filter(status=DrawnStatus.NOTIFIED, answer_due__lt=now)
            .values_list("draw_id", flat=True)
            .distinct()
        )
    )
    total = 0
    for pk in ids:
        with transaction.atomic():
            locked = Draw.objects.select_for_update().select_related("section__project").get(pk=pk)
            total += _expire(locked, now)
    return total


# --- the reveal ---------------------------------------------------------------------------------


def reveal_draw(*, actor: Any, draw: Draw) -> Draw:
    """At the session start: publish the secret (anyone may then recompute the seed) and unseal
    who was drawn for the staff running the session (R17: not before). Every invitation still
    open counts as no answer, and its seat goes to the next backup (who gets
    ``GGZY_DRAW_ANSWER_MINUTES`` from then)."""
    require(actor, "experts.draw")
    return reveal_at_session(actor=actor, draw=draw)


def reveal_at_session(*, actor: Any, draw: Draw) -> Draw:
    """The reveal itself, for a caller that checked its own right (the desk's ``reveal_draw``;
    the evaluation seating the committee once the session time has come)."""
    now = clock.now()
    with transaction.atomic():
        draw = Draw.objects.select_for_update().select_related("section__project").get(pk=draw.pk)
        if draw.status in (DrawStatus.REQUESTED, DrawStatus.COMMITTED):
            raise Conflict("尚未抽取 (not drawn yet)", code="draw_not_drawn")
        if draw.revealed_at is not None:
            raise Conflict("已揭示 (already revealed)", code="already_revealed")
        if now < draw.session_at:
            raise Conflict(
                "评标开始前不得揭示抽取结果（R17）(not before the session starts)",
                code="session_not_started",
                detail={"session_at": draw.session_at.isoformat()},
            )
        _expire(draw, now, at_reveal=True)
        secret = secret_of(draw).hex()
        rows = list(draw.drawn.select_related("draw"))
        for row in rows:
            row.expert_id = identity(row)["expert"]
        DrawnExpert.objects.bulk_update(rows, ["expert"])
        draw.revealed_secret, draw.revealed_at = secret, now
        draw.save(update_fields=["revealed_secret", "revealed_at"])
        event(
            actor, draw, "experts.draw_revealed", {"secret": secret, "commitment": draw.commitment}
        )
    return draw


def seated_experts(draw: Draw) -> list[Expert]:
    """The confirmed experts of a revealed draw, quota by quota (what the session seats)."""
    if draw.revealed_at is None:
        raise Conflict(
            "评标开始前抽取结果保密（R17）(sealed until the session starts)", code="draw_sealed"
        )
    rows = draw.drawn.filter(status=DrawnStatus.CONFIRMED).select_related("expert", "quota")
    return [r.expert for r in rows.order_by("quota__position", "seat") if r.expert is not None]
