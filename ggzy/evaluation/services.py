"""Evaluation writes, part one: the session and its committee (R17/R18/R19). Each write checks the actor's right through the access gate and the
state against the transition table, writes in one transaction and appends one ledger event on
``evaluation:<public_id>``. Ledger payloads name no expert and no bidder while the labels are
sealed.

The qualification review is in ``services_review``; scoring, viewing spans, time extensions
and low-price explanations in ``services_scoring``; the report and its signatures in
``services_report``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import holds_role_permission, is_authenticated, require
from ggzy.accounts.models import User
from ggzy.bidding import opening as openings
from ggzy.bidding.models import Bid, Opening
from ggzy.bidding.states import OpeningStatus
from ggzy.core import clock
from ggzy.core.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    PermissionDenied,
    ValidationFailed,
)
from ggzy.evaluation import config
from ggzy.evaluation.committee import committee_violations
from ggzy.evaluation.models import (
    CommitteeMember,
    EvaluationSession,
    SessionBid,
)
from ggzy.evaluation.scheme import ScoringError
from ggzy.evaluation.states import (
    MemberKind,
    SessionStatus,
    blind_label,
    can_move,
)
from ggzy.experts.models import Expert
from ggzy.experts.states import drawable_on
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Membership
from ggzy.tendering.models import Section
from ggzy.venues.sessions import placed_at_opening

SCORING_HOURS = 4  # the scoring time a session starts with
EXTENSION_HOURS = 2  # what R23 adds when more than a third of the committee asks
MAX_REASON = 500


def subject(session: EvaluationSession) -> str:
    return f"evaluation:{session.public_id}"


def event(actor: Any, session: EvaluationSession, event_type: str, payload: dict[str, Any]) -> int:
    return append_event(
        actor=actor, event_type=event_type, subject=subject(session), payload=payload
    )


def refuse(
    actor: Any, session: EvaluationSession, event_type: str, exc: DomainError
) -> DomainError:
    """Record a refused attempt a supervisor wants to see (in its own transaction)."""
    record_refusal(actor=actor, event_type=event_type, subject=subject(session), reason=exc.code)
    return exc


def reason_text(reason: str, *, required: bool = True) -> str:
    out = (reason or "").strip()
    if required and not out:
        raise ValidationFailed("请填写理由 (reason required)", code="reason_required",
                               detail={"field": "reason"})  # fmt: skip
    if len(out) > MAX_REASON:
        raise ValidationFailed("理由过长 (too long)", code="too_long", detail={"field": "reason"})
    return out


def locked(session: EvaluationSession) -> EvaluationSession:
    return EvaluationSession.objects.select_for_update().get(pk=session.pk)


def expect(session: EvaluationSession, *statuses: str) -> None:
    if session.status not in statuses:
        raise Conflict(
            "评标会当前状态不允许此操作 (not allowed in the session's current state)",
            code="wrong_state",
            detail={"status": session.status, "expected": list(statuses)},
        )


def move(session: EvaluationSession, target: str) -> None:
    if not can_move(session.status, target):  # pragma: no cover - guarded by ``expect``
        raise Conflict("状态转换无效", code="wrong_state", detail={"status": session.status})
    session.status = target


def member_of(actor: Any, session: EvaluationSession) -> CommitteeMember | None:
    if not getattr(actor, "is_authenticated", False):
        return None
    return CommitteeMember.objects.filter(session=session, user_id=actor.pk).first()


def require_member(
    actor: Any, session: EvaluationSession, refusal_event: str | None = None
) -> CommitteeMember:
    """The actor's seat on the committee, or ``not_on_committee`` (recorded when asked)."""
    if not is_authenticated(actor):
        raise NotAuthenticated("请先登录 (sign in first)")
    member = member_of(actor, session)
    if member is None:
        exc = PermissionDenied(
            "您不是本评标委员会成员 (not on this committee)", code="not_on_committee"
        )
        raise refuse(actor, session, refusal_event, exc) if refusal_event else exc
    require(actor, "evaluation.score", session)
    return member


# --- the session ---------------------------------------------------------------------------------


def _signed_opening(section: Section) -> Opening:
    opening = Opening.objects.filter(section=section).first()
    if opening is None:
        raise Conflict("该标段尚未开标 (not opened)", code="opening_not_found")
    if opening.status != OpeningStatus.CLOSED or not openings.verify_record(opening):
        raise Conflict(
            "开标记录尚未签署或签名无效 (the opening record is not signed)",
            code="opening_not_signed",
        )
    return opening


def _labels(bid_ids: list[str], seed: str) -> dict[str, str]:
    """bid public id -> label: a shuffle decided by ``seed`` (sealed until the report is signed)."""
    order = sorted(bid_ids, key=lambda b: hashlib.sha256(f"{seed}:{b}".encode()).hexdigest())
    return {bid: blind_label(n) for n, bid in enumerate(order)}


def _entity_id(bid: Bid) -> int:
    assert bid.entity_id is not None  # filled in at the opening
    return bid.entity_id


def label_commitment(seed: str, labels: dict[str, str]) -> str:
    """What the ledger shows of the mapping before it is revealed."""
    return hashlib.sha256(canonical_json({"seed": seed, "labels": labels})).hexdigest()


def create_session(*, actor: User, section: Section) -> EvaluationSession:
    """Open the evaluation of a section whose opening record is signed."""
    require(actor, "evaluation.run")
    section = Section.objects.select_related("project__procedure", "project__ruleset").get(
        pk=section.pk
    )
    opening = _signed_opening(section)
    rows = (opening.record or {}).get("bids", [])
    if not rows:
        raise Conflict("开标记录中没有投标 (no bids in the record)", code="no_bids")
    scheme_config = config.section_config(section)
    try:
        config.scheme(scheme_config)
    except ScoringError as exc:
        raise ValidationFailed(exc.message, code=exc.code, detail=exc.detail) from None
    bids = {b.public_id: b for b in Bid.objects.filter(public_id__in=[r["bid"] for r in rows])}
    seed = secrets.token_hex(32)
    labels = _labels(list(bids), seed)
    with transaction.atomic():
        Opening.objects.select_for_update().filter(pk=opening.pk).first()  # one creator at a time
        if EvaluationSession.objects.filter(section=section).exists():
            raise Conflict("该标段已有评标会 (already being evaluated)", code="session_exists")
        session = EvaluationSession.objects.create(
            public_id=secrets.token_hex(8),
            section=section,
            opening=opening,
            panel=str(config.panel(section)),
            scheme=scheme_config,
            label_seed=seed,
            label_commitment=label_commitment(seed, labels),
            draw_seed=secrets.token_hex(16),
            created_by=actor,
            created_at=clock.now(),
        )
        SessionBid.objects.bulk_create(
            [
                SessionBid(
                    session=session,
                    bid=bids[row["bid"]],
                    entity_id=_entity_id(bids[row["bid"]]),
                    label=labels[row["bid"]],
                    price=row["price"],
                    duration_days=row.get("duration_days"),
                    decryption=row["decryption"],
                )
                for row in rows
            ]
        )
        event(actor, session, "evaluation.session_created", {
            "section": section.code, "opening_seq": opening.record_seq, "bids": len(rows),
            "method": scheme_config["method"], "label_commitment": session.label_commitment,
            # the seed that breaks unresolved ties (R34) is fixed before any score is given
            "draw_seed_sha256": hashlib.sha256(session.draw_seed.encode()).hexdigest(),
        })  # fmt: skip
    return session


# --- the committee ------------------------------------------------------------------------------


def form_committee(
    *,
    actor: User,
    session: EvaluationSession,
    experts: Sequence[Expert],
    chair: Expert | User,
    tenderer_reps: Sequence[User] = (),
) -> EvaluationSession:
    """Seat the drawn and confirmed experts and the tenderer's (purchaser's) representatives. Refused when the committee breaks R17/R18/R19, an expert is not active,
    has no account, works for a bidder of the section, or was placed at the section's opening
    hall (R62, ``ggzy.venues``)."""
    require(actor, "evaluation.run")
    section = session.section
    expert_list = list(experts)
    reps = list(tenderer_reps)
    ids = [e.pk for e in expert_list]
    if len(set(ids)) != len(ids) or len({u.pk for u in reps}) != len(reps):
        raise ValidationFailed("委员会成员重复 (a member is listed twice)", code="duplicate_member")
    _check_size(session, section, members=len(ids) + len(reps), experts=len(ids))
    day = clock.today()
    inactive = [
        e.public_id for e in expert_list if not drawable_on(e.status, e.suspended_until, day)
    ]
    if inactive:
        raise Conflict("专家不在库或已暂停 (expert not active)", code="expert_not_active",
                       detail={"experts": inactive})  # fmt: skip
    no_account = [e.public_id for e in expert_list if e.user_id is None]
    if no_account:
        raise ValidationFailed("专家没有平台账号，无法评标 (expert has no account)",
                               code="expert_without_account", detail={"experts": no_account})  # fmt: skip
    _check_avoidance(session, section, expert_list, day)
    staff = [e.public_id for e in expert_list if _is_staff(e.user)]
    staff += [u.username for u in reps if _is_staff(u)]
    if staff:
        raise Conflict("中心或监督人员不得担任评标委员会成员 (a staff account is not seated)",
                       code="member_is_staff", detail={"members": staff})  # fmt: skip
    at_opening = placed_at_opening(section.pk, expert_list)
    if at_opening:
        raise Conflict("评标专家不得参加同一标段的开标（R62）(evaluator at the opening)",
                       code="evaluator_at_opening",
                       detail={"experts": at_opening, "rule": "R62"})  # fmt: skip
    if reps:
        _check_reps(session, section, reps, {e.user_id for e in expert_list})
    chair_user = chair.user_id if isinstance(chair, Expert) else chair.pk
    members = [e.user_id for e in expert_list] + [u.pk for u in reps]
    if chair_user not in members:
        raise ValidationFailed("主任委员须为委员会成员 (the chair must be a member)",
                               code="chair_not_member")  # fmt: skip
    now = clock.now()
    with transaction.atomic():
        session = locked(session)
        expect(session, SessionStatus.FORMING)
        if session.members.exists():
            raise Conflict("评标委员会已组建 (already formed)", code="committee_formed")
        rows = [
            CommitteeMember(session=session, kind=MemberKind.EXPERT, expert=e, user=e.user,
                            ref=e.public_id[:32], name=e.name, is_chair=e.user_id == chair_user,
                            joined_at=now)
            for e in expert_list
        ] + [
            CommitteeMember(session=session, kind=MemberKind.TENDERER_REP, user=u,
                            ref=f"rep-{u.pk}", name=u.display_name or u.username,
                            is_chair=u.pk == chair_user, joined_at=now)
            for u in reps
        ]  # fmt: skip
        CommitteeMember.objects.bulk_create(rows)
        session.committee_formed_at = now
        session.save(update_fields=["committee_formed_at"])
        event(actor, session, "evaluation.committee_formed", {
            "members": [r.ref for r in rows], "experts": len(expert_list),
            "tenderer_reps": len(reps), "chair": next(r.ref for r in rows if r.is_chair),
        })  # fmt: skip
    return session


def _check_avoidance(
    session: EvaluationSession, section: Section, experts: list[Expert], day: Any
) -> None:
    """Every avoidance rule a draw applies (R21/R22), with the draw's own facts and reasons
    (``draw_pool.seating_conflicts``): employer a bidder, the tenderer, the agent or related to a
    party; a party's legal representative; an open declared conflict; unavailable that day."""
    from ggzy.experts.draw_pool import seating_conflicts

    project = section.project
    found = seating_conflicts(
        section.pk, project.tenderer_id, project.agent_id, [e.pk for e in experts], day
    )
    bidders = set(session.bids.values_list("entity_id", flat=True))
    for e in experts:  # the opening record's bidders, whatever the register says now
        if e.employer_id in bidders and "employer_bidder" not in found.get(e.pk, []):
            found.setdefault(e.pk, []).insert(0, "employer_bidder")
    if found:
        reasons = {e.public_id: found[e.pk] for e in experts if e.pk in found}
        raise Conflict(
            "专家与本标段当事人存在应当回避的情形（R21）(an expert must recuse)",
            code="member_conflict",
            detail={"experts": list(reasons), "rule": "R21", "reasons": reasons},
        )


def _is_staff(user: Any) -> bool:
    """An account that runs or watches evaluations (``evaluation.run``/``evaluation.view``)
    would see the bidders behind the labels: it is not seated (blind scoring)."""
    return holds_role_permission(user, "evaluation.run") or holds_role_permission(
        user, "evaluation.view"
    )


def _check_size(
    session: EvaluationSession, section: Section, *, members: int, experts: int
) -> None:
    from ggzy.evaluation.committee import Panel

    violations = committee_violations(
        Panel(session.panel),
        members=members,
        experts=experts,
        budget=section.estimated_price,
        technically_complex=section.technically_complex,
        high_social_impact=section.high_social_impact,
    )
    if violations:
        first = violations[0]
        raise ValidationFailed(
            f"评标委员会组成不符合{first.rule} (the committee breaks {first.rule})",
            code=first.code,
            detail={"rule": first.rule, **first.detail,
                    "violations": [v.code for v in violations]},
        )  # fmt: skip


def _check_reps(
    session: EvaluationSession, section: Section, reps: list[User], expert_users: set[Any]
) -> None:
    """Every panel may seat the tenderer's (purchaser's) representatives: 招标投标法37 (R17),
    87号令47 (R18), 政府采购法38/40 (R19); the experts' two thirds is ``_check_size``'s."""
    tenderer = section.project.tenderer_id
    outsiders = [u.username for u in reps if not Membership.objects.filter(
        user=u, entity_id=tenderer).exists()]  # fmt: skip
    if outsiders or any(u.pk in expert_users for u in reps):
        raise ValidationFailed("招标人代表须为招标人的成员 (a representative acts for the tenderer)",
                               code="not_tenderer_rep", detail={"users": outsiders})  # fmt: skip


# --- the committee from a draw -----------------------------------------------------------------


def _draw_chain(draw: Any) -> list[Any]:
    """The draw and every further draw that topped it up, in order."""
    chain, todo = [], [draw]
    while todo:
        current = todo.pop(0)
        chain.append(current)
        todo.extend(current.top_ups.order_by("requested_at", "pk"))
    return chain


def form_committee_from_draw(
    *,
    actor: User,
    session: EvaluationSession,
    draw: Any,
    chair: Expert | User | None = None,
    tenderer_reps: Sequence[User] = (),
) -> EvaluationSession:
    """Seat the experts who confirmed a revealed draw of the section (and of the draws that
    topped it up): the draw is the source of the committee, not a list typed in by staff. A draw
    whose session time has come and that is not revealed yet is revealed here (the session start
    reveals it, with its ledger event, in its own transaction: the reveal is due whether or not
    the seating then succeeds). Refused while the draw is sealed (R17: before the
    session), while an invitation still waits for its answer, for a draw of another section, a
    top-up, or any draw but the section's first that drew experts (``draw_not_first``); the
    committee rules are ``form_committee``'s, avoidance re-checked on the seating day."""
    from ggzy.experts import draw_answers
    from ggzy.experts.draw_models import Draw

    require(actor, "evaluation.run")
    draw = Draw.objects.get(pk=draw.pk)  # as it is now: a copy read before the reveal is stale
    if draw.section_id != session.section_id or draw.tops_up_id is not None:
        raise ValidationFailed(
            "须使用本标段的专家抽取（原抽取，不是补抽）(a draw of this section, not a top-up)",
            code="draw_not_for_session",
            detail={"draw": draw.public_id},
        )
    first = (
        Draw.objects.filter(section_id=draw.section_id, tops_up__isnull=True, drawn__isnull=False)
        .order_by("requested_at", "pk")
        .values_list("public_id", flat=True)
        .first()
    )
    if first is not None and first != draw.public_id:
        raise Conflict(
            "本标段的专家来自其第一次抽取 (the committee comes from the section's first draw)",
            code="draw_not_first",
            detail={"draw": draw.public_id, "first": first},
        )
    now = clock.now()
    for d in _draw_chain(draw):  # the session start reveals the draw (R17), as the desk does:
        if d.revealed_at is None and now >= d.session_at:  # due whatever the seating's fate
            draw_answers.reveal_at_session(actor=actor, draw=d)
    draw = Draw.objects.get(pk=draw.pk)  # as revealed
    return _seat_chain(actor, session, draw, _draw_chain(draw), chair, tenderer_reps)


def _seat_chain(
    actor: User,
    session: EvaluationSession,
    draw: Any,
    chain: list[Any],
    chair: Expert | User | None,
    tenderer_reps: Sequence[User],
) -> EvaluationSession:
    from ggzy.experts import draw_answers
    from ggzy.experts.draw_states import DrawnStatus

    waiting = sum(d.drawn.filter(status=DrawnStatus.NOTIFIED).count() for d in chain)
    if waiting:
        raise Conflict(
            "仍有受邀专家未答复 (invitations still waiting for an answer)",
            code="draw_answers_pending",
            detail={"draw": draw.public_id, "waiting": waiting},
        )
    experts: list[Expert] = []
    for d in chain:
        experts += draw_answers.seated_experts(d)  # refused while that draw is sealed
    if chair is None and experts:
        chair = experts[0]
    if chair is None:
        raise ValidationFailed(
            "抽取没有已确认的专家 (no confirmed expert)", code="draw_without_experts"
        )
    return form_committee(
        actor=actor, session=session, experts=experts, chair=chair, tenderer_reps=tenderer_reps
    )
