"""Evaluation writes, part one: the session, its committee (R17/R18/R19) and the
qualification review. Each write checks the actor's right through the access gate and the
state against the transition table, writes in one transaction and appends one ledger event on
``evaluation:<public_id>``. Ledger payloads name no expert and no bidder while the labels are
sealed.

Scoring, viewing spans, time extensions and low-price explanations are in
``services_scoring``; the report and its signatures in ``services_report``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import is_authenticated, require
from ggzy.accounts.models import User
from ggzy.bidding import opening as openings
from ggzy.bidding.models import Bid, Opening
from ggzy.bidding.states import OpeningStatus
from ggzy.core import clock
from ggzy.core.errors import (
    Conflict,
    DomainError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from ggzy.evaluation import config, review
from ggzy.evaluation.committee import committee_violations
from ggzy.evaluation.inputs import BidInput
from ggzy.evaluation.models import (
    CommitteeMember,
    EvaluationSession,
    Finding,
    FindingVote,
    SessionBid,
)
from ggzy.evaluation.prices import abnormally_low_findings, evaluated_price
from ggzy.evaluation.scheme import ScoringError
from ggzy.evaluation.states import (
    LowPriceOutcome,
    MemberKind,
    SessionStatus,
    blind_label,
    can_move,
    majority,
)
from ggzy.experts.models import Expert
from ggzy.experts.states import drawable_on
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Membership
from ggzy.tendering.models import Section

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
    """Seat the drawn and confirmed experts (and, on a works committee, the tenderer's
    representatives). Refused when the committee breaks R17/R18/R19, an expert is not active,
    has no account, or works for a bidder of the section."""
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
    bidders = set(session.bids.values_list("entity_id", flat=True))
    conflicted = [e.public_id for e in expert_list if e.employer_id in bidders]
    if conflicted:
        raise Conflict("专家的工作单位是本标段投标人，应当回避（R21）(employer is a bidder)",
                       code="member_conflict", detail={"experts": conflicted, "rule": "R21"})  # fmt: skip
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


def _check_size(
    session: EvaluationSession, section: Section, *, members: int, experts: int
) -> None:
    from ggzy.evaluation.committee import Panel

    violations = committee_violations(
        Panel(session.panel), members=members, experts=experts, budget=section.estimated_price
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
    from ggzy.evaluation.committee import Panel

    if Panel(session.panel) is not Panel.WORKS_TENDER:
        raise ValidationFailed("只有工程招标的评标委员会可有招标人代表 (works committees only)",
                               code="tenderer_reps_not_allowed")  # fmt: skip
    tenderer = section.project.tenderer_id
    outsiders = [u.username for u in reps if not Membership.objects.filter(
        user=u, entity_id=tenderer).exists()]  # fmt: skip
    if outsiders or any(u.pk in expert_users for u in reps):
        raise ValidationFailed("招标人代表须为招标人的成员 (a representative acts for the tenderer)",
                               code="not_tenderer_rep", detail={"users": outsiders})  # fmt: skip


# --- the qualification and compliance review ----------------------------------------------------


def start_review(*, actor: User, session: EvaluationSession) -> EvaluationSession:
    """Run the automated checks of every bid; the members then confirm or overrule them."""
    require(actor, "evaluation.run")
    with transaction.atomic():
        session = locked(session)
        expect(session, SessionStatus.FORMING)
        if not session.members.exists():
            raise Conflict("评标委员会尚未组建 (form the committee first)",
                           code="committee_not_formed")  # fmt: skip
        section = Section.objects.select_related("project").get(pk=session.section_id)
        bids = list(session.bids.select_related("entity"))
        day = (
            section.bid_deadline.astimezone(clock.CHINA).date()
            if section.bid_deadline
            else clock.today()
        )
        checks = review.run_checks(
            section,
            [review.Subject(b.label, b.entity, b.decryption, b.price) for b in bids],
            day,
        )
        Finding.objects.bulk_create([
            Finding(session=session, bid=b, kind=c.kind, passed=c.passed, message=c.message,
                    detail=c.detail)
            for b in bids for c in checks[b.label]
        ])  # fmt: skip
        move(session, SessionStatus.QUALIFICATION)
        session.save(update_fields=["status"])
        failed = sorted({b.label for b in bids for c in checks[b.label] if not c.passed})
        event(actor, session, "evaluation.review_started", {
            "findings": sum(len(v) for v in checks.values()), "failed_bids": failed,
        })  # fmt: skip
    return session


def cast_votes(
    *, actor: User, session: EvaluationSession, votes: Sequence[tuple[int, bool, str]]
) -> list[Finding]:
    """A member confirms (``agrees``) or overrules automated findings: ``(finding id, agrees,
    reason)``. Overruling needs a reason. A finding is decided once a majority of the
    committee agrees one way. All or nothing."""
    member = require_member(actor, session)
    if not votes:
        raise ValidationFailed("没有审查意见 (no votes)", code="no_votes")
    cleaned = [(int(f), bool(a), reason_text(r, required=not a)) for f, a, r in votes]
    if len({f for f, _, _ in cleaned}) != len(cleaned):
        raise ValidationFailed("同一审查项重复表决 (a finding voted twice)", code="duplicate_vote")
    now = clock.now()
    with transaction.atomic():
        session = locked(session)
        expect(session, SessionStatus.QUALIFICATION)
        findings = {f.pk: f for f in Finding.objects.select_for_update().filter(
            session=session, pk__in=[f for f, _, _ in cleaned])}  # fmt: skip
        unknown = [f for f, _, _ in cleaned if f not in findings]
        if unknown:
            raise NotFound("审查项不存在 (no such finding)", code="finding_not_found",
                           detail={"findings": unknown})  # fmt: skip
        voted = set(FindingVote.objects.filter(member=member, finding_id__in=list(findings))
                    .values_list("finding_id", flat=True))  # fmt: skip
        if voted:
            raise Conflict("已表决过 (already voted)", code="already_voted",
                           detail={"findings": sorted(voted)})  # fmt: skip
        FindingVote.objects.bulk_create([
            FindingVote(finding_id=f, member=member, agrees=a, reason=r, voted_at=now)
            for f, a, r in cleaned
        ])  # fmt: skip
        size = session.members.count()
        decided = _decide(list(findings.values()), size, now)
        event(actor, session, "evaluation.findings_voted", {
            "member": member.ref, "votes": len(cleaned),
            "overruled": sorted(f for f, a, _ in cleaned if not a), "decided": decided,
        })  # fmt: skip
    return list(findings.values())


def _decide(findings: list[Finding], size: int, now: Any) -> list[int]:
    decided = []
    counts: dict[int, list[bool]] = {}
    for finding_id, agrees in FindingVote.objects.filter(
        finding_id__in=[f.pk for f in findings]
    ).values_list("finding_id", "agrees"):
        counts.setdefault(finding_id, []).append(agrees)
    for finding in findings:
        if finding.outcome is not None:
            continue
        given = counts.get(finding.pk, [])
        agree, overrule = sum(given), len(given) - sum(given)
        if majority(agree, size) or majority(overrule, size):
            finding.outcome = finding.passed if majority(agree, size) else not finding.passed
            finding.decided_at = now
            finding.save(update_fields=["outcome", "decided_at"])
            decided.append(finding.pk)
    return decided


def start_scoring(*, actor: User, session: EvaluationSession) -> EvaluationSession:
    """Close the review: every finding decided; bids that failed one are invalid, with the
    reason. Valid bids with an abnormally low price wait for the bidder's explanation; the
    scoring deadline starts."""
    require(actor, "evaluation.run")
    now = clock.now()
    with transaction.atomic():
        session = locked(session)
        expect(session, SessionStatus.QUALIFICATION)
        pending = session.findings.filter(outcome__isnull=True).count()
        if pending:
            raise Conflict("尚有审查项未形成多数意见 (findings still undecided)",
                           code="review_incomplete", detail={"undecided": pending})  # fmt: skip
        failed: dict[int, list[str]] = {}
        for bid_id, message in session.findings.filter(outcome=False).values_list(
            "bid_id", "message"
        ):
            failed.setdefault(bid_id, []).append(message)
        bids = list(session.bids.all())
        for bid in bids:
            if bid.pk in failed:
                bid.invalid_reason = "；".join(failed[bid.pk])[:500]
        valid = [b for b in bids if b.valid and b.price is not None]
        scheme = config.scheme(session.scheme)
        low = abnormally_low_findings(
            {b.label: evaluated_price(BidInput(b.label, b.label, b.price)).corrected
             for b in valid},
            scheme.abnormally_low, None,
        )  # fmt: skip
        for bid in bids:
            if bid.label in low:
                bid.low_price = LowPriceOutcome.PENDING
        SessionBid.objects.bulk_update(bids, ["invalid_reason", "low_price"])
        move(session, SessionStatus.SCORING)
        session.scoring_started_at = now
        session.scoring_deadline = now + timedelta(hours=SCORING_HOURS)
        session.save(update_fields=["status", "scoring_started_at", "scoring_deadline"])
        event(actor, session, "evaluation.scoring_started", {
            "invalid": sorted(b.label for b in bids if not b.valid),
            "abnormally_low": sorted(low), "deadline": session.scoring_deadline.isoformat(),
        })  # fmt: skip
    return session
