"""Evaluation writes, part two: the qualification and compliance review. ``start_review``
runs the automated checks (``review.py``); each member confirms or overrules each finding
(``cast_votes``) and the majority of the committee decides; ``start_scoring`` closes the review
— bids that failed a finding are invalid, with the reason — flags abnormally low prices and
starts the scoring time. Conventions as in ``services``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import require
from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.evaluation import config, review
from ggzy.evaluation.inputs import BidInput
from ggzy.evaluation.models import EvaluationSession, Finding, FindingVote, SessionBid
from ggzy.evaluation.prices import abnormally_low_findings, evaluated_price
from ggzy.evaluation.services import (
    SCORING_HOURS,
    event,
    expect,
    locked,
    move,
    reason_text,
    require_member,
)
from ggzy.evaluation.states import CheckKind, LowPriceOutcome, SessionStatus, majority
from ggzy.tendering.models import Section

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


def _void_related_groups(
    session: EvaluationSession, bids: list[SessionBid], failed: dict[int, list[str]]
) -> None:
    """R48 (条例34) voids *all* the bids of related bidders: once the committee upholds the
    finding of one bid of a group, every bid of the group fails it, whatever its own vote."""
    by_label = {b.label: b.pk for b in bids}
    related = list(session.findings.filter(kind=CheckKind.RELATED_BIDDERS, passed=False))
    messages = {f.bid_id: f.message for f in related}
    for finding in related:
        if finding.outcome is not False:
            continue
        for label in finding.detail.get("related", []):
            bid_id = by_label.get(label)
            if bid_id is None:
                continue
            message = messages.get(bid_id, finding.message)
            if message not in failed.get(bid_id, []):
                failed.setdefault(bid_id, []).append(message)


def start_scoring(*, actor: User, session: EvaluationSession) -> EvaluationSession:
    """Close the review: every finding decided; bids that failed one are invalid, with the
    reason — and every bid of a related group once one of them is (R48). Valid bids with an abnormally low price wait for the bidder's explanation; the
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
        _void_related_groups(session, bids, failed)
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
