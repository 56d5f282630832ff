"""Result writes, part one: the candidates' publicity (R24/R25), objections to it (条例54, R9)
and the award notice. Each write checks the actor's right through the access gate, the stage
against the stored rows and the clock, writes in one transaction and appends one ledger event
on ``award:<section public id>`` in it. The contract and its obligations are in
``services_contract``.

A refused write changes nothing and appends nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.award import inputs, periods
from ggzy.award import notice as notices
from ggzy.award.models import AwardNotice, Candidate, Objection, Publicity
from ggzy.award.periods import AwardRules, rules_of
from ggzy.award.rules import AwardScope
from ggzy.award.selectors import ranked_candidates
from ggzy.award.states import OBJECTION_TRANSITIONS, ObjectionStatus, WithdrawalGround
from ggzy.bidding.deposits import schedule_refund
from ggzy.bidding.models import Deposit
from ggzy.core import clock
from ggzy.core.errors import Conflict, PermissionDenied, ValidationFailed
from ggzy.evaluation.models import EvaluationSession
from ggzy.evaluation.states import SessionStatus
from ggzy.ledger.chain import hasher
from ggzy.ledger.services import append_event
from ggzy.registry.models import Entity
from ggzy.tendering import checks
from ggzy.tendering.models import Section

MAX_PUBLICITY_DAYS = 30  # a publicity longer than this is a typo, not a decision
SYSTEM = "system:award"


def subject(section: Section) -> str:
    return f"award:{section.public_id}"


def event(actor: Any, section: Section, event_type: str, payload: dict[str, Any]) -> int:
    return append_event(
        actor=actor, event_type=event_type, subject=subject(section), payload=payload
    )


def sm3(text: str) -> str:
    return hasher("sm3")(text.encode("utf-8")).hex()


def rules_for(section: Section) -> AwardRules:
    return rules_of(periods.regime_of(section.project.ruleset.rules or {}))


def require_manager(actor: Any, section: Section) -> None:
    require(actor, "award.manage", AwardScope(section))


def locked_section(section: Section) -> Section:
    return (
        Section.objects.select_for_update()
        .select_related("project__ruleset", "project__tenderer")
        .get(pk=section.pk)
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(clock.CHINA).isoformat()


# --- the candidates' publicity ------------------------------------------------------------------


def _signed_session(section: Section) -> EvaluationSession:
    session = EvaluationSession.objects.filter(section=section).first()
    if session is None or session.status != SessionStatus.SIGNED or session.signed_at is None:
        raise Conflict(
            "评标报告尚未经全体评标委员会成员签署，不能公示中标候选人 (the evaluation report "
            "is not signed)",
            code="report_not_signed",
            detail={"status": session.status if session else None},
        )
    if hashlib.sha256(bytes(session.report or b"")).hexdigest() != session.report_sha256:
        raise Conflict("评标报告内容与其摘要不符 (the report does not match its digest)",
                       code="report_digest_mismatch")  # fmt: skip
    return session


def _check_window(
    signed_at: datetime, starts: datetime, ends: datetime, now: datetime, rules: AwardRules
) -> bool:
    """R25 (works) / R31 (procurement): the publicity starts within the period after the report
    is signed and lasts at least the minimum. Returns whether the start is late.

    A start after the last day is refused while it can still be avoided — scheduled later
    than the limit — but once the last day has passed the publicity may still start at once,
    flagged late: refusing it would leave the section without any possible award."""
    if starts < now - timedelta(minutes=1):
        raise ValidationFailed("公示开始时间不得早于当前时间 (the publicity cannot start in the "
                               "past)", code="publicity_start_past",
                               detail={"field": "starts_at", "now": _iso(now)})  # fmt: skip
    last_day = periods.last_start_day(signed_at, rules)
    late = periods.local_date(starts) > last_day
    if late and starts > now + timedelta(minutes=1):
        raise Conflict(
            f"中标候选人公示应在收到评标报告之日起{rules.publicity_start.label()}内开始"
            f"（{rules.publicity_start.rule}）(the publicity starts too late)",
            code="publicity_too_late",
            detail={"rule": rules.publicity_start.rule, "report_signed_at": _iso(signed_at),
                    "last_start_day": last_day.isoformat()},
        )  # fmt: skip
    earliest = periods.earliest_end(starts, rules)
    if ends < earliest:
        raise ValidationFailed(
            f"公示期不得少于{rules.publicity_min.label()}（{rules.publicity_min.rule}）"
            "(the publicity is too short)",
            code="publicity_too_short",
            detail={"field": "ends_at", "rule": rules.publicity_min.rule,
                    "earliest_end": _iso(earliest)},
        )  # fmt: skip
    if ends > starts + timedelta(days=MAX_PUBLICITY_DAYS):
        raise ValidationFailed(f"公示期不超过{MAX_PUBLICITY_DAYS}日 (the publicity is too long)",
                               code="publicity_too_long", detail={"field": "ends_at"})  # fmt: skip
    return late


def publish_candidates(
    *, actor: Any, section: Section, ends_at: datetime, starts_at: datetime | None = None
) -> Publicity:
    """The tenderer publishes the winning candidates of the signed report (中标候选人公示):
    at most three, ranked as the report ranks them (R24), starting within the period after the
    report was signed and lasting at least the minimum (R25 / R31). Once the last start day
    has passed, an immediate start is recorded flagged ``late``."""
    require_manager(actor, section)
    now = clock.now()
    starts = now if starts_at is None else inputs.moment(starts_at, "starts_at")
    ends_at = inputs.moment(ends_at, "ends_at")
    with transaction.atomic():
        section = locked_section(section)
        if Publicity.objects.filter(section=section).exists():
            raise Conflict("该标段已公示中标候选人 (already published)",
                           code="candidates_published")  # fmt: skip
        session = _signed_session(section)
        assert session.signed_at is not None
        rules = rules_for(section)
        late = _check_window(session.signed_at, starts, ends_at, now, rules)
        candidates = ranked_candidates(session)
        if not candidates:
            raise Conflict("评标报告中没有中标候选人 (the report names no candidate)",
                           code="no_candidates")  # fmt: skip
        publicity = Publicity.objects.create(
            public_id=secrets.token_hex(16), section=section, session=session,
            regime=rules.regime.value, report_sha256=session.report_sha256,
            report_signed_at=session.signed_at, starts_at=starts, ends_at=ends_at, late=late,
            published_by=actor, published_at=now,
        )  # fmt: skip
        Candidate.objects.bulk_create([
            Candidate(publicity=publicity, rank=c["rank"], label=c["label"], bid=c["bid"],
                      entity=c["entity"], price=c["price"], evaluated_price=c["evaluated_price"],
                      total=c["total"])
            for c in candidates
        ])  # fmt: skip
        event(actor, section, "award.candidates_published", {
            "publicity": publicity.public_id, "regime": rules.regime.value,
            "report_sha256": session.report_sha256, "starts_at": _iso(starts),
            "ends_at": _iso(ends_at), "late": late, "rule": rules.publicity_start.rule,
            "last_start_day": periods.last_start_day(session.signed_at, rules).isoformat(),
            "candidates": [{"rank": c["rank"], "bid": c["bid"].public_id,
                            "uscc": c["entity"].uscc, "price": str(c["price"])}
                           for c in candidates],
        })  # fmt: skip
    return publicity


# --- objections ---------------------------------------------------------------------------------


def raise_objection(*, actor: Any, publicity: Publicity, entity: Entity, reason: str) -> Objection:
    """A bidder of the section objects to the result during the publicity (条例54); the tenderer
    answers within the period (R9 / R30) and the award waits for the answer."""
    require(actor, "award.object")
    require(actor, "entity.act", entity)
    reason = checks.text(reason, "reason", max_length=5000)
    now = clock.now()
    with transaction.atomic():
        publicity = Publicity.objects.select_for_update().select_related(
            "section__project").get(pk=publicity.pk)  # fmt: skip
        if not publicity.session.bids.filter(entity=entity).exists():
            raise PermissionDenied("仅本标段投标人可以提出异议 (bidders of this section only)",
                                   code="not_a_bidder")  # fmt: skip
        awarded = AwardNotice.objects.filter(publicity=publicity).exists()
        if awarded or not publicity.starts_at <= now < publicity.ends_at:
            raise Conflict("异议应在中标候选人公示期间提出 (objections only during the publicity)",
                           code="objection_window_closed",
                           detail={"starts_at": _iso(publicity.starts_at),
                                   "ends_at": _iso(publicity.ends_at)})  # fmt: skip
        rules = rules_of(publicity.regime)
        objection = Objection.objects.create(
            public_id=secrets.token_hex(16), publicity=publicity, entity=entity, raised_by=actor,
            reason=reason, raised_at=now, reply_due=periods.reply_due(now, rules),
        )  # fmt: skip
        event(actor, publicity.section, "award.objection_raised", {
            "objection": objection.public_id, "uscc": entity.uscc,
            "reply_due": _iso(objection.reply_due), "rule": rules.objection_reply.rule,
            "reason_sm3": sm3(reason),
        })  # fmt: skip
    return objection


def answer_objection(*, actor: Any, objection: Objection, reply: str) -> Objection:
    """The tenderer (or its agent) answers; an answer after the period is recorded as late."""
    section = objection.publicity.section
    require_manager(actor, section)
    reply = checks.text(reply, "reply", max_length=5000)
    now = clock.now()
    with transaction.atomic():
        locked = Objection.objects.select_for_update().get(pk=objection.pk)
        if ObjectionStatus.ANSWERED not in OBJECTION_TRANSITIONS[locked.status]:
            raise Conflict("该异议已答复 (already answered)", code="already_answered")
        locked.status, locked.reply = ObjectionStatus.ANSWERED, reply
        locked.replied_by, locked.replied_at = actor, now
        locked.save(update_fields=["status", "reply", "replied_by", "replied_at"])
        event(actor, section, "award.objection_answered", {
            "objection": locked.public_id, "late": locked.late, "reply_sm3": sm3(reply),
        })  # fmt: skip
    return locked


# --- the award notice ---------------------------------------------------------------------------


def _publicity_for_award(section: Section, now: datetime) -> Publicity:
    # locked as ``raise_objection`` locks it: an objection raised at the last instant of the
    # publicity is either seen here or refused there, never committed beside the award
    publicity = Publicity.objects.select_for_update().filter(section=section).first()
    if publicity is None:
        raise Conflict("尚未公示中标候选人 (the candidates are not published)",
                       code="candidates_not_published")  # fmt: skip
    if AwardNotice.objects.filter(section=section).exists():
        raise Conflict("已发出中标通知书 (the award notice is issued)", code="award_exists")
    if now < publicity.ends_at:
        raise Conflict("公示期未满，不能确定中标人 (the publicity is still running)",
                       code="publicity_running", detail={"ends_at": _iso(publicity.ends_at)})  # fmt: skip
    unanswered = list(publicity.objections.filter(status=ObjectionStatus.OPEN)
                      .values_list("public_id", flat=True))  # fmt: skip
    if unanswered:
        raise Conflict("异议答复前暂停中标活动（R9）(an objection awaits its answer)",
                       code="objection_unanswered", detail={"objections": unanswered})  # fmt: skip
    return publicity


def _check_validity(section: Section) -> None:
    """No award on bids no longer valid (条例25: valid from the bid deadline for the period the
    tender sets); the R37 margin before that is only warned about."""
    ends = periods.validity_ends(section.bid_deadline, section.bid_validity_days)
    if ends is not None and clock.today() > ends:
        raise Conflict("投标有效期已届满，不能确定中标人 (the bids' validity has expired)",
                       code="bid_validity_expired",
                       detail={"validity_ends": ends.isoformat(),
                               "bid_validity_days": section.bid_validity_days})  # fmt: skip


def _choose(
    section: Section, publicity: Publicity, rank: int, reason: str, rules: AwardRules
) -> tuple[Candidate, bool]:
    """The candidate the tenderer may confirm, and whether it is the deemed choice (R31).

    The first candidate still in the running is the normal choice. Another needs a recorded
    reason — and is not open at all where state capital controls the project (条例55) or once
    the purchaser's decision period is over (R31, 87号令68: the first is then deemed chosen)."""
    candidates = list(publicity.candidates.select_related("entity", "bid"))
    winner = next((c for c in candidates if c.rank == rank), None)
    if winner is None:
        raise ValidationFailed("没有该排名的中标候选人 (no candidate of that rank)",
                               code="candidate_not_found", detail={"field": "rank"})  # fmt: skip
    if winner.withdrawn_at is not None:
        raise Conflict("该中标候选人已退出 (the candidate has withdrawn)",
                       code="candidate_withdrawn",
                       detail={"rank": rank, "ground": winner.withdrawal_ground})  # fmt: skip
    first = min(c.rank for c in candidates if c.withdrawn_at is None)
    if rank == first:
        due = periods.decision_due(publicity.report_signed_at, rules)
        return winner, due is not None and clock.today() > due
    if section.project.state_controlled:
        raise Conflict("国有资金占控股或者主导地位的项目，应当确定排名第一的中标候选人为中标人"
                       "（条例55）(state capital controls the project: the first candidate in the "
                       "running must be chosen)", code="first_candidate_required",
                       detail={"rank": first, "rule": "条例55"})  # fmt: skip
    due = periods.decision_due(publicity.report_signed_at, rules)
    if due is not None and clock.today() > due:
        raise Conflict("采购人未在评标报告送达后5个工作日内确定中标人，视为确定排名第一的中标候选人"
                       "（R31，87号令68）(the decision period is over: the first candidate is "
                       "deemed chosen)", code="decision_period_over",
                       detail={"rank": first, "decision_due": due.isoformat(), "rule": "R31"})  # fmt: skip
    if not reason:
        raise ValidationFailed("未确定排名第一的中标候选人为中标人的，须说明理由 (a reason is "
                               "required for any candidate but the first)",
                               code="reason_required", detail={"field": "reason"})  # fmt: skip
    return winner, False


def withdraw_candidate(
    *, actor: Any, section: Section, rank: int, ground: str, reason: str
) -> Candidate:
    """A candidate drops out before the award (条例55: gave up, force majeure, no performance
    security, unlawful conduct found): the tenderer records it with the ground and the
    explanation; the next candidate by rank may then be chosen, or the section tendered again
    when none is left. The publicity itself stands."""
    require_manager(actor, section)
    if ground not in WithdrawalGround.values:
        raise ValidationFailed("退出情形无效 (unknown ground)", code="bad_ground",
                               detail={"field": "ground", "allowed": list(WithdrawalGround.values)})  # fmt: skip
    reason = checks.text(reason, "reason", max_length=2000)
    if isinstance(rank, bool) or not isinstance(rank, int):
        raise ValidationFailed("排名无效 (bad rank)", code="candidate_not_found",
                               detail={"field": "rank"})  # fmt: skip
    with transaction.atomic():
        section = locked_section(section)
        publicity = Publicity.objects.filter(section=section).first()
        if publicity is None:
            raise Conflict("尚未公示中标候选人 (the candidates are not published)",
                           code="candidates_not_published")  # fmt: skip
        if AwardNotice.objects.filter(section=section).exists():
            raise Conflict("已发出中标通知书 (the award notice is issued)", code="award_exists")
        candidate = publicity.candidates.select_related("entity").filter(rank=rank).first()
        if candidate is None:
            raise ValidationFailed("没有该排名的中标候选人 (no candidate of that rank)",
                                   code="candidate_not_found", detail={"field": "rank"})  # fmt: skip
        if candidate.withdrawn_at is not None:
            raise Conflict("该中标候选人已退出 (the candidate has withdrawn)",
                           code="candidate_withdrawn", detail={"rank": rank})  # fmt: skip
        candidate.withdrawn_at = clock.now()
        candidate.withdrawal_ground = ground
        candidate.withdrawal_reason = reason
        candidate.save(update_fields=["withdrawn_at", "withdrawal_ground", "withdrawal_reason"])
        left = publicity.candidates.filter(withdrawn_at__isnull=True).count()
        event(actor, section, "award.candidate_withdrawn", {
            "rank": rank, "uscc": candidate.entity.uscc, "ground": ground,
            "reason_sm3": sm3(reason), "candidates_left": left,
        })  # fmt: skip
    return candidate


def file_award_report(*, actor: Any, section: Section, reference: str) -> AwardNotice:
    """R28 (法47): within 15 days of the award the tenderer reports the tendering to the
    supervisor in writing; the platform records when and under which reference (a report
    filed after the period is recorded as it happened, and stays warned about)."""
    require_manager(actor, section)
    reference = checks.text(reference, "reference", max_length=64)
    with transaction.atomic():
        section = locked_section(section)
        notice = AwardNotice.objects.filter(section=section).first()
        if notice is None:
            raise Conflict("尚未发出中标通知书 (no award notice yet)", code="award_not_issued")
        rules = rules_for(section)
        due = periods.award_report_due(notice.issued_at, rules)
        if due is None:
            raise Conflict("政府采购项目无需提交此书面报告，合同备案见R27 (no such report under "
                           "government procurement: the contract is filed instead)",
                           code="report_not_required")  # fmt: skip
        if notice.report_filed_at is not None:
            raise Conflict("书面报告已提交 (the report is already filed)", code="report_filed")
        notice.report_filed_at = clock.now()
        notice.report_reference = reference
        notice.save(update_fields=["report_filed_at", "report_reference"])
        event(actor, section, "award.report_filed", {
            "notice": notice.public_id, "reference": reference, "due": due.isoformat(),
            "late": clock.today() > due,
        })  # fmt: skip
    return notice


def issue_award(*, actor: Any, section: Section, rank: int = 1, reason: str = "") -> AwardNotice:
    """The tenderer confirms the winner after the publicity — the first candidate still in the
    running, or another with a recorded reason where the rules allow it (:func:`_choose`) — and
    the platform signs and publishes the award notice (中标通知书).
    Under government procurement the losers' deposits fall due for refund (R13)."""
    require_manager(actor, section)
    reason = checks.text(reason, "reason", max_length=2000, required=False)
    if isinstance(rank, bool) or not isinstance(rank, int):
        raise ValidationFailed("排名无效 (bad rank)", code="candidate_not_found",
                               detail={"field": "rank"})  # fmt: skip
    now = clock.now()
    with transaction.atomic():
        section = locked_section(section)
        publicity = _publicity_for_award(section, now)
        rules = rules_for(section)
        winner, deemed = _choose(section, publicity, rank, reason, rules)
        _check_validity(section)
        limit = periods.award_by(section.bid_deadline, section.bid_validity_days, rules)
        notice = AwardNotice(
            public_id=secrets.token_hex(16), section=section, publicity=publicity,
            winner=winner, entity=winner.entity, amount=winner.price, reason=reason,
            validity_warning=limit is not None and clock.today() > limit, deemed=deemed,
            issued_by=actor, issued_at=now,
        )  # fmt: skip
        notices.sign(notice, rules)
        notice.save()
        notice.record_seq = event(actor, section, "award.notice_issued", {
            "notice": notice.public_id, "record_sha256": notice.record_sha256,
            "signature": notice.signature, "key_id": notice.key_id, "rank": rank,
            "uscc": winner.entity.uscc, "amount": str(notice.amount),
            "reason_sm3": sm3(reason) if reason else None,
            "validity_warning": notice.validity_warning, "deemed_chosen": deemed,
            "award_by": limit.isoformat() if limit else None,
        })  # fmt: skip
        notice.save(update_fields=["record_seq"])
        if rules.refund_losers_on_award:
            losers = Deposit.objects.filter(section=section).exclude(entity=winner.entity)
            for deposit in losers:
                schedule_refund(deposit=deposit, trigger="award_notice", at=now, actor=SYSTEM)
    return notice
