"""Ratings of experts after an evaluation session (专家评价) and the suspensions they cause
(专家动态管理).

Once a session's report is signed, two sides rate each expert who sat on its committee, once
each: the center (``center``: the organizing desk, ``experts.rate``) and the section's tenderer
(``tenderer``: a member of the project's tenderer entity, or of its confirmed agent —
``experts.rate_tenderer``, an object rule on :class:`RatingDesk`). In the same transaction the
rating policy (``ggzy.experts.rating_rules``, thresholds in settings) may suspend the expert
from draws through the pool's status path, by the system actor, naming the ratings that caused
it. A refused rater is recorded in the ledger (``experts.rating_refused``, in its own
transaction, after nothing was written); to anyone who may not see the session it does not
exist (``session_not_found``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from ggzy.accounts.gate import allowed, is_authenticated, register_object_rule
from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from ggzy.evaluation.models import CommitteeMember, EvaluationSession
from ggzy.evaluation.states import MemberKind, SessionStatus
from ggzy.experts import checks, services
from ggzy.experts.models import Expert, Rating
from ggzy.experts.rating_rules import (
    LOW_RATINGS,
    MISCONDUCT,
    Action,
    RatingFact,
    RatingPolicy,
    Suspension,
    decide,
    suspension_due,
)
from ggzy.experts.states import RaterKind
from ggzy.ledger.context import actor_ref
from ggzy.ledger.services import append_event, record_refusal

POLICY_ACTOR = "system:rating-policy"
MAX_SESSIONS = 100  # sessions listed to rate


@dataclass(frozen=True)
class RatingDesk:
    """One session seen as the place its experts are rated: what the gate's object rule for
    ``experts.rate_tenderer`` is asked about."""

    session: EvaluationSession


def tenderer_rule(actor: Any, permission: str, desk: RatingDesk) -> bool:
    """Members of the project's tenderer, or of its agent once the tenderer confirmed the
    appointment (委托), rate as the tenderer."""
    if permission != "experts.rate_tenderer":
        return False
    from ggzy.registry.models import Membership

    project = desk.session.section.project
    entities = [project.tenderer_id]
    if project.agent_id is not None and project.agency_confirmed_at is not None:
        entities.append(project.agent_id)
    return Membership.objects.filter(user_id=actor.pk, entity_id__in=entities).exists()


# registered with the type it guards: no RatingDesk exists before this module is imported
register_object_rule(RatingDesk, tenderer_rule)


def policy() -> RatingPolicy:
    """The configured thresholds (settings ``GGZY_EXPERT_*``)."""
    return RatingPolicy(
        low_score=int(settings.GGZY_EXPERT_LOW_RATING),
        low_sessions_to_suspend=int(settings.GGZY_EXPERT_LOW_RATINGS_TO_SUSPEND),
        window_days=int(settings.GGZY_EXPERT_RATING_WINDOW_DAYS),
        suspend_days=int(settings.GGZY_EXPERT_SUSPEND_DAYS),
        misconduct_suspend_days=int(settings.GGZY_EXPERT_MISCONDUCT_SUSPEND_DAYS),
    )


def rater_kinds(actor: Any, session: EvaluationSession) -> set[str]:
    """The sides ``actor`` may rate the experts of ``session`` as: never the tenderer's for
    anyone on the session's committee (its representative does not rate its fellow experts)."""
    kinds: set[str] = set()
    if allowed(actor, "experts.rate"):
        kinds.add(str(RaterKind.CENTER))
    if allowed(actor, "experts.rate_tenderer", RatingDesk(session)) and not on_committee(
        actor, session
    ):
        kinds.add(str(RaterKind.TENDERER))
    return kinds


def on_committee(actor: Any, session: EvaluationSession) -> bool:
    return bool(getattr(actor, "is_authenticated", False)) and (
        CommitteeMember.objects.filter(session=session, user_id=actor.pk).exists()
    )


# --- reads -------------------------------------------------------------------------------------


def _session_not_found() -> NotFound:
    return NotFound("评标会不存在 (no such evaluation session)", code="session_not_found")


def _find_session(session_ref: str) -> EvaluationSession | None:
    return (
        EvaluationSession.objects.select_related("section__project")
        .filter(public_id=str(session_ref)[:32])
        .first()
    )


def _not_a_rater() -> PermissionDenied:
    return PermissionDenied("您不是本评标会的评价方 (not a rater of this session)",
                            code="not_a_rater")  # fmt: skip


def get_desk_for(actor: Any, session_ref: str) -> tuple[RatingDesk, set[str]]:
    """A session to rate and the sides ``actor`` rates it as. Who rates it as neither side
    gets ``not_a_rater`` if they see the session otherwise, ``session_not_found`` if not (a
    read: recording a refused write is the service's)."""
    session = _find_session(session_ref)
    if session is None:
        raise _session_not_found()
    kinds = rater_kinds(actor, session)
    if not kinds:
        seen = on_committee(actor, session) or allowed(actor, "evaluation.view", session)
        raise _not_a_rater() if seen else _session_not_found()
    return RatingDesk(session), kinds


def sessions_to_rate(actor: Any) -> QuerySet[EvaluationSession]:
    """Signed sessions ``actor`` may rate: every one for the center's organizing desk, the
    sessions of its projects for a tenderer's (or confirmed agent's) member; newest first."""
    qs = (
        EvaluationSession.objects.filter(status=SessionStatus.SIGNED)
        .select_related("section__project")
        .order_by("-signed_at", "-pk")
    )
    if allowed(actor, "experts.rate"):
        return qs
    if not is_authenticated(actor):
        return qs.none()
    from ggzy.registry.models import Membership

    entities = Membership.objects.filter(user_id=actor.pk).values("entity_id")
    return qs.filter(
        Q(section__project__tenderer_id__in=entities)
        | Q(section__project__agent_id__in=entities,
            section__project__agency_confirmed_at__isnull=False)
    )  # fmt: skip


def committee_experts(session: EvaluationSession) -> list[CommitteeMember]:
    """The expert seats of the committee (tenderer's representatives are not rated), in seat
    order, with their expert."""
    return list(
        session.members.filter(kind=MemberKind.EXPERT, expert__isnull=False)
        .select_related("expert")
        .order_by("pk")
    )


def ratings_given(session: EvaluationSession, kinds: set[str]) -> dict[tuple[int, str], Rating]:
    """(expert id, rater kind) → the rating already recorded on ``session`` by those sides."""
    rows = Rating.objects.filter(session=session, rater_kind__in=sorted(kinds))
    return {(r.expert_id, r.rater_kind): r for r in rows}


# --- the write ---------------------------------------------------------------------------------


def _refused(actor: Any, session: EvaluationSession, expert_ref: str, rater_kind: str,
             exc: PermissionDenied | NotFound) -> PermissionDenied | NotFound:  # fmt: skip
    """Record a refused rater for supervision (its own transaction; nothing else was written)."""
    record_refusal(actor=actor, event_type="experts.rating_refused",
                   subject=f"evaluation:{session.public_id}", reason=exc.code,
                   rater_kind=rater_kind, expert=str(expert_ref)[:32])  # fmt: skip
    return exc


def _check_rater(actor: Any, session: EvaluationSession, expert_ref: str, rater_kind: str) -> None:
    kinds = rater_kinds(actor, session)
    if rater_kind in kinds:
        return
    exc: PermissionDenied | NotFound
    if kinds:
        exc = PermissionDenied("不能以该评价方身份评价 (not your side)",
                               code="rater_kind_not_yours", detail={"field": "rater_kind"})  # fmt: skip
    elif on_committee(actor, session) or allowed(actor, "evaluation.view", session):
        exc = _not_a_rater()
    else:
        exc = _session_not_found()
    raise _refused(actor, session, expert_ref, rater_kind, exc)


def _seated_expert(session: EvaluationSession, expert_ref: str) -> Expert:
    seat = (
        CommitteeMember.objects.select_related("expert")
        .filter(session=session, kind=MemberKind.EXPERT, expert__public_id=str(expert_ref)[:32])
        .first()
    )
    if seat is None or seat.expert is None:
        raise NotFound("该专家不是本评标委员会成员 (not on this session's committee)",
                       code="not_on_committee", detail={"field": "expert"})  # fmt: skip
    return seat.expert


def _clean(rater_kind: str, score: Any, comment: str) -> str:
    if rater_kind not in RaterKind.values:
        raise ValidationFailed("评价方无效 (bad rater kind)", code="bad_rater_kind",
                               detail={"field": "rater_kind"})  # fmt: skip
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationFailed(
            "评分应为1–5 (score 1–5)", code="bad_score", detail={"field": "score"}
        )
    return checks.text("comment", comment, required=False)


def record_rating(
    *, actor: User, session_ref: str, expert_ref: str, rater_kind: str, score: int,
    comment: str = "", misconduct: bool = False,
) -> Rating:  # fmt: skip
    """Rate an expert who sat on the committee of a signed session, as one side, once. May
    suspend the expert under the rating policy, in the same transaction."""
    if not is_authenticated(actor):
        raise NotAuthenticated("请先登录 (sign in first)")
    comment = _clean(rater_kind, score, comment)
    session = _find_session(session_ref)
    if session is None:
        raise _session_not_found()
    _check_rater(actor, session, expert_ref, rater_kind)
    expert = _seated_expert(session, expert_ref)
    if expert.user_id is not None and expert.user_id == actor.pk:
        raise _refused(actor, session, expert_ref, rater_kind, PermissionDenied(
            "不能评价本人 (not your own record)", code="own_record"))  # fmt: skip
    if session.status != SessionStatus.SIGNED:
        raise Conflict("评标报告签署后方可评价 (the report is not signed yet)",
                       code="session_not_signed", detail={"status": session.status})  # fmt: skip
    with transaction.atomic():
        # one rating of an expert at a time: the policy counts the ratings before this one
        locked = Expert.objects.select_for_update().get(pk=expert.pk)
        try:
            with transaction.atomic():
                row = Rating.objects.create(
                    expert=locked, session=session, session_ref=session.public_id,
                    rater_kind=rater_kind, score=score, comment=comment, misconduct=misconduct,
                    rated_by=actor_ref(actor), rated_at=clock.now(),
                )  # fmt: skip
        except IntegrityError as exc:
            raise Conflict("该评标会已评价 (already rated)", code="rating_exists") from exc
        append_event(actor=actor, event_type="experts.expert_rated",
                     subject=f"expert:{locked.public_id}",
                     payload={"rating": row.pk, "session": session.public_id,
                              "rater": rater_kind, "score": score,
                              "misconduct": misconduct})  # fmt: skip
        _apply_policy(locked, row)
    return row


# --- the policy --------------------------------------------------------------------------------


def _fact(r: Rating) -> RatingFact:
    return RatingFact(
        rating=r.pk, session=r.session_ref, day=r.rated_at.astimezone(clock.CHINA).date(),
        score=r.score, misconduct=r.misconduct, counted=r.suspension_id is not None,
    )  # fmt: skip


def _reason(rules: RatingPolicy, due: Suspension) -> str:
    """The stored reason (data, Chinese like every reason staff enter)."""
    parts = []
    if MISCONDUCT in due.causes:
        parts.append(f"评价记录违规行为，暂停{rules.misconduct_suspend_days}天")
    if LOW_RATINGS in due.causes:
        parts.append(f"{rules.window_days}天内{rules.low_sessions_to_suspend}次评标评分不高于"
                     f"{rules.low_score}分，暂停{rules.suspend_days}天")  # fmt: skip
    refs = "、".join(f"#{n}" for n in due.ratings)
    return f"自动暂停：{'；'.join(parts)}（评价 {refs}）"


def _apply_policy(expert: Expert, new: Rating) -> None:
    """Suspend ``expert`` (locked) when ``new`` brings the policy's thresholds up; never
    shorten a suspension already running."""
    rules = policy()
    # the low ratings not yet counted, from a day more than the window back (the rule cuts
    # the window exactly, on the platform's calendar)
    since = new.rated_at - timedelta(days=rules.window_days + 1)
    earlier = expert.ratings.exclude(pk=new.pk).filter(
        score__lte=rules.low_score, suspension__isnull=True, rated_at__gte=since
    )
    due = suspension_due(rules, new=_fact(new), earlier=[_fact(r) for r in earlier])
    if due is None:
        return
    decision = decide(status=expert.status, suspended_until=expert.suspended_until, due=due)
    if decision.action == Action.KEEP or decision.until is None:
        return
    causing = Rating.objects.filter(pk__in=due.ratings)
    sessions = sorted(set(causing.values_list("session_ref", flat=True)))
    thresholds = {
        "low_score": rules.low_score,
        "low_sessions": rules.low_sessions_to_suspend,
        "window_days": rules.window_days,
        "suspend_days": rules.suspend_days,
        "misconduct_suspend_days": rules.misconduct_suspend_days,
    }
    cause: dict[str, Any] = {
        "policy": "rating",
        "causes": list(due.causes),
        "ratings": list(due.ratings),
        "sessions": sessions,
        "thresholds": thresholds,
    }
    change = services.apply_policy_suspension(
        actor=POLICY_ACTOR,
        expert=expert,
        reason=_reason(rules, due)[:500],
        until=decision.until,
        cause=cause,
    )
    causing.update(suspension=change)
