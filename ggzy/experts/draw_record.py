"""The record of a draw: its ledger events, the sealed inputs, the sealed rows of the experts
drawn, the notifications (the only channel that sees who was drawn), and what an unfillable draw
says about its binding constraint. Written by ``draw_services`` (the draw) and ``draw_answers``
(answers, replacements, the reveal)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from ggzy.core.errors import ValidationFailed
from ggzy.experts import draw_pool, draw_seal
from ggzy.experts.draw_models import Draw, DrawnExpert, DrawNotification, DrawQuota
from ggzy.experts.draw_select import RECORD_VERSION, QuotaOutcome, RegionRule
from ggzy.experts.draw_states import POOL_FILTERS, REASONS, DrawnRole, DrawnStatus
from ggzy.ledger.models import TreeHead
from ggzy.ledger.services import append_event

SYSTEM = "system:draw-timer"


def subject(draw: Draw) -> str:
    return f"expert-draw:{draw.public_id}"


def event(actor: Any, draw: Draw, event_type: str, payload: dict[str, Any]) -> int:
    return append_event(
        actor=actor,
        event_type=event_type,
        subject=subject(draw),
        payload={"draw": draw.public_id, **payload},
    )


def refuse(message: str, code: str, field: str, **detail: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail={"field": field, **detail})


def secret_of(draw: Draw) -> bytes:
    return bytes.fromhex(draw_seal.unseal("secret", draw.public_id, draw.sealed_secret))


def inputs_record(
    draw: Draw,
    head: TreeHead,
    ctx: draw_pool.PoolContext,
    rule: RegionRule,
    outcome: list[QuotaOutcome],
) -> dict[str, Any]:
    """The sealed inputs: enough to replay the draw exactly, whatever the pool becomes."""
    return {
        "version": RECORD_VERSION,
        "draw": draw.public_id,
        "nonce": secrets.token_hex(16),
        "day": draw.evaluation_date.isoformat(),
        "commitment": draw.commitment,
        "commit_seq": draw.commit_seq,
        "tree_size": head.size,
        "tree_root": head.root,
        "parties": ctx.parties.as_record(),
        "max_id": ctx.max_id,
        "regions": {
            "include": rule.include,
            "exclude": rule.exclude,
            "home": rule.home,
            "other_only": rule.other_only,
        },
        "quotas": [
            {
                "quota": q.spec.code,
                "specialties": q.spec.specialties,
                "count": q.spec.count,
                "backups": q.spec.backups,
                "min_other": q.spec.min_other,
                "strata": [s.as_record() for s in q.strata],
            }
            for q in outcome
        ],
    }


def answer_due(draw: Draw, now: datetime) -> datetime:
    """An invitation's answer time: ``GGZY_DRAW_ANSWER_MINUTES``, never past the session start
    — but a backup called at or after the start (the session waits for it) gets the full time."""
    full = now + timedelta(minutes=settings.GGZY_DRAW_ANSWER_MINUTES)
    return full if now >= draw.session_at else min(full, draw.session_at)


def write_drawn(
    draw: Draw, quotas: list[DrawQuota], outcome: list[QuotaOutcome], now: datetime
) -> list[DrawnExpert]:
    by_code = {q.code: q for q in quotas}
    rows: list[DrawnExpert] = []
    for q in outcome:
        quota = by_code[q.spec.code]
        for position, (expert, role, other) in enumerate(q.picks()):
            main = role == DrawnRole.MAIN
            rows.append(
                DrawnExpert(
                    public_id=secrets.token_hex(16),
                    draw=draw,
                    quota=quota,
                    position=position,
                    role=role,
                    status=DrawnStatus.NOTIFIED if main else DrawnStatus.STANDBY,
                    pseudonym=draw_seal.pseudonym(draw.public_id, expert),
                    invitee_tag=draw_seal.invitee_tag(expert),
                    sealed_identity=draw_seal.seal(
                        "identity",
                        draw.public_id,
                        {"expert": expert, "quota": quota.code, "position": position},
                    ),
                    other_region=other,
                    seat=position if main else None,
                    notified_at=now if main else None,
                    answer_due=answer_due(draw, now) if main else None,
                    created_at=now,
                )
            )
    DrawnExpert.objects.bulk_create(rows)
    DrawNotification.objects.bulk_create(
        [notice(draw, row, "invitation", now) for row in rows if row.status == DrawnStatus.NOTIFIED]
    )
    return rows


def unfillable_detail(outcome: list[QuotaOutcome], day: Any) -> dict[str, Any]:
    """Per unfillable quota: needed, eligible, the binding constraint (the filter that removed
    most candidates; ``specialty`` when the pool has too few of the specialty at all) and what
    each filter removed."""
    order = [*POOL_FILTERS[1:], *REASONS]
    out = []
    for q in outcome:
        for s in q.strata:
            if s.filled:
                continue
            counts = draw_pool.pool_counts(s.spec, day)
            removed = {
                "status": counts["specialty"] - counts["status"],
                "region": counts["status"] - counts["region"],
            }
            for c in s.candidates():
                for r in c["reasons"]:
                    removed[r] = removed.get(r, 0) + 1
            if counts["specialty"] < s.spec.need:
                binding = "specialty"
            else:
                binding = max(order, key=lambda k: (removed.get(k, 0), -order.index(k)))
            out.append(
                {
                    "quota": q.spec.code,
                    "stratum": s.spec.name,
                    "needed": s.spec.need,
                    "eligible": len(s.taken),
                    "binding": binding,
                    "in_pool": counts["specialty"],
                    "removed": {k: removed[k] for k in order if removed.get(k)},
                }
            )
    return {"quotas": out}


# --- notifications (the only channel that sees who was drawn) ----------------------------------


def notice(draw: Draw, row: DrawnExpert, kind: str, now: datetime) -> DrawNotification:
    section = draw.section
    body = {
        "kind": kind,
        "invitation": row.public_id,
        "draw": draw.public_id,
        "section": section.code or section.label,
        "section_name": section.name,
        "project": section.project.name,
        "session_at": draw.session_at.isoformat(),
        "answer_due": row.answer_due.isoformat() if row.answer_due else None,
    }
    return DrawNotification(
        recipient_tag=row.invitee_tag,
        kind=kind,
        created_at=now,
        sealed_body=draw_seal.seal("notice", row.invitee_tag, body),
    )


def notify(draw: Draw, row: DrawnExpert, kind: str, now: datetime) -> DrawNotification:
    row_notice = notice(draw, row, kind, now)
    row_notice.save()
    return row_notice


def identity(row: DrawnExpert) -> dict[str, Any]:
    """Who a drawn row is. Only the notification channel, the expert's own workspace, the reveal
    and the verification call this."""
    value: dict[str, Any] = draw_seal.unseal("identity", row.draw.public_id, row.sealed_identity)
    return value
