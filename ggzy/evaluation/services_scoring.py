"""Evaluation writes, part two: the members' scores, the time they spend on each bid document,
their requests for more time (R23) and the committee's view of an abnormally low price.

Scores are refused, each with its own code: by someone not on the committee
(``not_on_committee``, recorded), after the report is signed (``report_signed``, recorded) or
built (``scoring_closed``), for an invalid bid (``bid_invalid``), for a criterion experts do not
score (``unknown_criterion``), and outside the criterion's range or off its step
(``score_out_of_range``, the engine's own check).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ggzy.evaluation import config
from ggzy.evaluation.committee import time_extension_required
from ggzy.evaluation.models import (
    CommitteeMember,
    EvaluationSession,
    ExtensionRequest,
    Score,
    SessionBid,
    ViewingSpan,
)
from ggzy.evaluation.scheme import Criterion, ScoringError
from ggzy.evaluation.services import (
    EXTENSION_HOURS,
    event,
    expect,
    locked,
    reason_text,
    refuse,
    require_member,
)
from ggzy.evaluation.states import LowPriceOutcome, SessionStatus

HEARTBEAT_SECONDS = 15  # how often the open page says "viewing"
STALE_SECONDS = 60  # a span with no heartbeat for this long ended at its last one
MAX_JUSTIFICATION = 1000
MAX_BATCH = 20_000


@dataclass(frozen=True)
class ScoreEntry:
    """One score as a member gives it: the bid's label, the criterion, points, justification."""

    bid: str
    criterion: str
    points: Any
    justification: str = ""


def _points(value: Any) -> Decimal:
    try:
        points = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        points = None
    if points is None or not points.is_finite() or isinstance(value, bool | float):
        raise ValidationFailed("分值须为十进制数字 (points must be a decimal number)",
                               code="bad_points", detail={"points": str(value)[:40]})  # fmt: skip
    return points


def _check_range(criterion: Criterion, points: Decimal, entry: ScoreEntry) -> None:
    problem = criterion.check_points(points)
    if problem is not None:
        raise ScoringError(
            f"“{criterion.name}”的得分须在{criterion.min_points}–{criterion.max_points}"
            f"之间且为{criterion.step}的整数倍",
            code="score_out_of_range",
            detail={"bid": entry.bid, "criterion": criterion.id, "points": str(points),
                    "problem": problem, "min": str(criterion.min_points),
                    "max": str(criterion.max_points), "step": str(criterion.step)},
        )  # fmt: skip


def _scoring_open(actor: Any, session: EvaluationSession) -> None:
    if session.status == SessionStatus.SIGNED:
        raise refuse(actor, session, "evaluation.score_refused", Conflict(
            "评标报告已签署，不得再评分 (the report is signed)", code="report_signed"))  # fmt: skip
    if session.status == SessionStatus.REPORT:
        raise Conflict("评标报告已生成，评分已结束 (scoring is closed)", code="scoring_closed")
    expect(session, SessionStatus.SCORING)


def submit_scores(*, actor: User, session: EvaluationSession, entries: Sequence[ScoreEntry]) -> int:
    """A member's scores (new or revised while scoring is open), all or nothing."""
    member = require_member(actor, session, "evaluation.score_refused")
    session = EvaluationSession.objects.get(pk=session.pk)
    _scoring_open(actor, session)
    if not entries or len(entries) > MAX_BATCH:
        raise ValidationFailed("评分条数无效 (give 1 to 20000 scores)", code="no_scores")
    scheme = config.scheme(session.scheme)
    scored = {c.id: c for c in scheme.scored_criteria}
    bids = {b.label: b for b in session.bids.all()}
    rows: dict[tuple[int, str], tuple[Decimal, str]] = {}
    for entry in entries:
        bid = bids.get(str(entry.bid))
        if bid is None:
            raise NotFound("投标文件不存在 (no such bid document)", code="bid_not_found",
                           detail={"bid": str(entry.bid)[:8]})  # fmt: skip
        criterion = scored.get(str(entry.criterion))
        if criterion is None:
            raise ValidationFailed("未知的评分因素或该因素不由评委打分 (unknown criterion)",
                                   code="unknown_criterion",
                                   detail={"criterion": str(entry.criterion)[:16]})  # fmt: skip
        if not bid.valid:
            raise Conflict("无效投标不再评分 (the bid is invalid)", code="bid_invalid",
                           detail={"bid": bid.label, "reason": bid.invalid_reason})  # fmt: skip
        points = _points(entry.points)
        _check_range(criterion, points, entry)
        note = (entry.justification or "").strip()
        if len(note) > MAX_JUSTIFICATION:
            raise ValidationFailed("评分理由过长 (justification too long)", code="too_long",
                                   detail={"field": "justification"})  # fmt: skip
        key = (bid.pk, criterion.id)
        if key in rows:
            raise ValidationFailed("同一因素重复评分 (scored twice)", code="duplicate_score",
                                   detail={"bid": bid.label, "criterion": criterion.id})  # fmt: skip
        rows[key] = (points, note)
    now = clock.now()
    with transaction.atomic():
        session = locked(session)
        _scoring_open(actor, session)
        existing = {
            (s.bid_id, s.criterion): s
            for s in Score.objects.select_for_update().filter(
                member=member, bid_id__in={b for b, _ in rows}
            )
        }
        new, changed = [], []
        for (bid_id, criterion_id), (points, note) in rows.items():
            row = existing.get((bid_id, criterion_id))
            if row is None:
                new.append(Score(session=session, member=member, bid_id=bid_id,
                                 criterion=criterion_id, points=points, justification=note,
                                 scored_at=now))  # fmt: skip
            else:
                row.points, row.justification, row.scored_at = points, note, now
                changed.append(row)
        Score.objects.bulk_create(new, batch_size=2000)
        Score.objects.bulk_update(
            changed, ["points", "justification", "scored_at"], batch_size=2000
        )
        digest = hashlib.sha256(
            repr(sorted((b, c, str(p), n) for (b, c), (p, n) in rows.items())).encode()
        ).hexdigest()
        event(actor, session, "evaluation.scores_submitted", {
            "member": member.ref, "new": len(new), "revised": len(changed), "sha256": digest,
        })  # fmt: skip
    return len(rows)


# --- time spent on each bid document ------------------------------------------------------------


def _bid(session: EvaluationSession, label: str) -> SessionBid:
    bid = session.bids.filter(label=str(label)[:8]).first()
    if bid is None:
        raise NotFound("投标文件不存在 (no such bid document)", code="bid_not_found")
    return bid


def record_viewing(
    *, actor: User, session: EvaluationSession, bid: str, action: str
) -> ViewingSpan | None:
    """``start`` opens a span on a bid document (ending any other open one), ``viewing`` is
    the page's heartbeat (it extends the open span, or starts one when there is none or it went
    stale), ``stop`` ends it. Returns the span touched."""
    member = require_member(actor, session)
    session = EvaluationSession.objects.get(pk=session.pk)
    if action not in ("start", "viewing", "stop"):
        raise ValidationFailed("操作须为 start/viewing/stop", code="bad_action")
    if session.status not in (SessionStatus.QUALIFICATION, SessionStatus.SCORING):
        raise Conflict("不在评审阶段 (not reviewing)", code="not_reviewing",
                       detail={"status": session.status})  # fmt: skip
    target = _bid(session, bid)
    now = clock.now()
    with transaction.atomic():
        # one member's events one at a time: two pages posting at once must not both open a span
        CommitteeMember.objects.select_for_update().filter(pk=member.pk).first()
        open_span = ViewingSpan.objects.select_for_update().filter(
            member=member, ended_at__isnull=True).first()  # fmt: skip
        stale = open_span is not None and now - open_span.last_seen_at > timedelta(
            seconds=STALE_SECONDS)  # fmt: skip
        if action == "viewing" and open_span and open_span.bid_id == target.pk and not stale:
            open_span.last_seen_at = now
            open_span.save(update_fields=["last_seen_at"])
            return open_span
        if open_span is not None:
            open_span.ended_at = open_span.last_seen_at if stale else now
            open_span.save(update_fields=["ended_at"])
            event(actor, session, "evaluation.viewing_stopped", {
                "member": member.ref, "bid": _label(open_span), "seconds": open_span.seconds})  # fmt: skip
        if action == "stop":
            if open_span is None or open_span.bid_id != target.pk:
                raise Conflict("该投标文件没有打开的浏览记录 (not viewing this document)",
                               code="not_viewing")  # fmt: skip
            return open_span
        span = ViewingSpan.objects.create(session=session, member=member, bid=target,
                                          started_at=now, last_seen_at=now)  # fmt: skip
        event(actor, session, "evaluation.viewing_started", {"member": member.ref,
                                                             "bid": target.label})  # fmt: skip
        return span


def _label(span: ViewingSpan) -> str:
    return SessionBid.objects.filter(pk=span.bid_id).values_list("label", flat=True).get()


# --- R23: more time -----------------------------------------------------------------------------


def request_extension(*, actor: User, session: EvaluationSession, reason: str) -> ExtensionRequest:
    """A member says the time is not enough. When more than a third of the committee has said
    so (R23, 条例48), the scoring deadline moves by :data:`EXTENSION_HOURS`, once. Only while
    scoring: before it the deadline does not exist yet, and ``start_scoring`` sets it afresh."""
    member = require_member(actor, session)
    text = reason_text(reason)
    now = clock.now()
    with transaction.atomic():
        session = locked(session)
        if session.status != SessionStatus.SCORING:
            raise Conflict("评分开始后方可申请延长 (only while scoring)",
                           code="extension_not_scoring", detail={"status": session.status})  # fmt: skip
        if ExtensionRequest.objects.filter(session=session, member=member).exists():
            raise Conflict("已提出过延长请求 (already asked)", code="extension_already_requested")
        request = ExtensionRequest.objects.create(session=session, member=member, reason=text,
                                                  requested_at=now)  # fmt: skip
        asking = session.extension_requests.count()
        size = session.members.count()
        event(actor, session, "evaluation.extension_requested",
              {"member": member.ref, "asking": asking, "members": size})  # fmt: skip
        if session.extended_at is None and time_extension_required(size, asking):
            assert session.scoring_deadline is not None  # set by start_scoring
            session.scoring_deadline += timedelta(hours=EXTENSION_HOURS)
            session.extended_at = now
            session.save(update_fields=["scoring_deadline", "extended_at"])
            event(actor, session, "evaluation.time_extended", {
                "asking": asking, "members": size, "rule": "R23",
                "deadline": session.scoring_deadline.isoformat()})  # fmt: skip
    return request


# --- abnormally low prices (87号令 Art 60; 条例51) -------------------------------------------------


def decide_low_price(
    *, actor: User, session: EvaluationSession, bid: str, accepted: bool, note: str
) -> SessionBid:
    """The committee's conclusion on the bidder's written explanation of a flagged price,
    recorded by the chair: accepted, or rejected — then the bid is invalid."""
    member = require_member(actor, session)
    if not member.is_chair:
        raise PermissionDenied("由主任委员记录委员会意见 (the chair records it)", code="chair_only")
    text = reason_text(note)
    with transaction.atomic():
        session = locked(session)
        expect(session, SessionStatus.SCORING)
        target = SessionBid.objects.select_for_update().get(pk=_bid(session, bid).pk)
        if target.low_price != LowPriceOutcome.PENDING:
            raise Conflict("该投标未被标记为异常低价或已有结论 (no pending explanation)",
                           code="no_low_price_pending")  # fmt: skip
        target.low_price = LowPriceOutcome.ACCEPTED if accepted else LowPriceOutcome.REJECTED
        target.low_price_note = text
        if not accepted:
            target.invalid_reason = "报价明显低于其他投标报价且不能合理说明，按无效投标处理"
        target.save(update_fields=["low_price", "low_price_note", "invalid_reason"])
        event(actor, session, "evaluation.low_price_decided",
              {"bid": target.label, "accepted": accepted, "member": member.ref})  # fmt: skip
    return target


def members(session: EvaluationSession) -> list[CommitteeMember]:
    return list(session.members.all())
