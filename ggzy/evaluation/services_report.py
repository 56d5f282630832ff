"""Evaluation writes, part three: the report (评标报告) and its signatures.

When every member has scored every valid bid, :func:`build_report` runs the engine
(:func:`~ggzy.evaluation.scoring.score_section`) and stores the canonical report bytes with
their SHA-256. Every member signs exactly those bytes with their person certificate through the
trust service; a signature over other bytes is ``signature_mismatch``. With the last signature
the session is ``signed`` and the anonymous labels are revealed (the mapping and its seed, which
the ledger committed to when the session was created).

The report names bids by their labels (``投标文件 A``): the members sign before the mapping is
revealed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.db.models import Count

from ggzy.accounts.gate import require
from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.core.errors import Conflict, ValidationFailed
from ggzy.evaluation import config
from ggzy.evaluation.inputs import BidInput, ExpertScore, SectionScoring
from ggzy.evaluation.models import EvaluationSession, ReportSignature, Score
from ggzy.evaluation.report import report_bytes
from ggzy.evaluation.scheme import ScoringError
from ggzy.evaluation.scoring import ScoringResult, score_section
from ggzy.evaluation.services import event, expect, locked, move, require_member
from ggzy.evaluation.states import LowPriceOutcome, MemberKind, SessionStatus
from ggzy.trust import signing
from ggzy_client import keys

REPORT_NAME = "评标报告"


def bid_name(label: str) -> str:
    return f"投标文件 {label}"


def section_scoring(session: EvaluationSession) -> SectionScoring:
    """What the engine scores, read from the session's tables (one query each)."""
    scheme = config.scheme(session.scheme)
    bids = list(session.bids.all())
    valid = {b.pk for b in bids if b.valid}
    refs = dict(session.members.values_list("pk", "ref"))
    labels = {b.pk: b.label for b in bids}
    scored = {c.id for c in scheme.scored_criteria}
    scores = tuple(
        ExpertScore(refs[m], labels[b], c, p, note=j)
        for m, b, c, p, j in Score.objects.filter(session=session)
        .values_list("member_id", "bid_id", "criterion", "points", "justification")
        .iterator(chunk_size=5000)
        if b in valid and c in scored
    )
    return SectionScoring(
        section_id=session.section.code or session.section.public_id,
        scheme=scheme,
        committee=tuple(refs.values()),
        bids=tuple(
            BidInput(b.label, bid_name(b.label), b.price, invalid_reason=b.invalid_reason or None)
            for b in bids
        ),
        scores=scores,
        draw_seed=session.draw_seed,
        benchmark_coefficient=config.benchmark_coefficient(session.scheme, session.draw_seed),
    )


def progress(session: EvaluationSession, counts: dict[int, int] | None = None) -> dict[str, Any]:
    """Who has scored what — counts, never points: per member, scores given of those due.
    ``counts`` (member id → scores, :func:`score_counts`) when a page of sessions has them."""
    scheme = config.scheme(session.scheme)
    valid = sum(1 for b in session.bids.all() if b.valid)
    due = valid * len(scheme.scored_criteria)
    if counts is None:
        counts = score_counts([session])
    return {
        "due_per_member": due,
        "members": [
            {
                "ref": m.ref,
                "name": m.name,
                "kind": m.kind,
                "is_chair": m.is_chair,
                "scored": counts.get(m.pk, 0),
                "complete": counts.get(m.pk, 0) >= due,
            }
            for m in session.members.all()
        ],
    }


def score_counts(sessions: list[EvaluationSession]) -> dict[int, int]:
    """Scores on valid bids per committee member of the sessions, in one query."""
    return dict(
        Score.objects.filter(session__in=sessions, bid__invalid_reason="")
        .values_list("member_id")
        .annotate(n=Count("pk"))
    )


def build_report(*, actor: User, session: EvaluationSession) -> ScoringResult:
    """Score the section and store the report bytes every member is to sign."""
    require(actor, "evaluation.run")
    with transaction.atomic():
        session = locked(session)
        expect(session, SessionStatus.SCORING)
        pending = list(session.bids.filter(low_price=LowPriceOutcome.PENDING)
                       .values_list("label", flat=True))  # fmt: skip
        if pending:
            raise Conflict("异常低价投标尚无委员会结论 (explanations still to decide)",
                           code="low_price_pending", detail={"bids": pending})  # fmt: skip
        state = progress(session)
        behind = [m["ref"] for m in state["members"] if not m["complete"]]
        if behind:
            raise Conflict("尚有评委未完成评分 (scoring not complete)", code="scoring_incomplete",
                           detail={"members": behind, "due": state["due_per_member"]})  # fmt: skip
        try:
            result = score_section(section_scoring(session))
        except ScoringError as exc:
            raise Conflict(exc.message, code=exc.code, detail=exc.detail) from None
        data = report_bytes(result)
        session.report = data
        session.report_sha256 = hashlib.sha256(data).hexdigest()
        session.report_built_at = clock.now()
        move(session, SessionStatus.REPORT)
        session.save(update_fields=["report", "report_sha256", "report_built_at", "status"])
        event(actor, session, "evaluation.report_built", {
            "sha256": session.report_sha256, "candidates": list(result.candidates),
            "warnings": list(result.warnings),
        })  # fmt: skip
    return result


def _digest_of(sigfile: Any, data: bytes) -> tuple[str, str] | None:
    """(what the signature claims, what the report's digest is) in the sigfile's algorithm."""
    if not isinstance(sigfile, dict):
        return None
    alg, claimed = sigfile.get("digest_alg"), sigfile.get("document_digest")
    if alg not in ("sm3", "sha256") or not isinstance(claimed, str):
        return None
    return claimed.strip().lower(), keys.digest(alg, data).hex()


def sign_report(
    *, actor: User, session: EvaluationSession, sigfile: dict[str, Any]
) -> ReportSignature:
    """A member signs the report bytes with their person certificate."""
    member = require_member(actor, session)
    session = EvaluationSession.objects.get(pk=session.pk)
    expect(session, SessionStatus.REPORT)
    data = bytes(session.report or b"")
    digests = _digest_of(sigfile, data)
    if digests is not None and digests[0] != digests[1]:
        raise ValidationFailed(
            "签名所针对的内容与评标报告不一致 (the signature is over different bytes)",
            code="signature_mismatch",
            detail={"report_sha256": session.report_sha256},
        )
    with transaction.atomic():
        session = locked(session)
        expect(session, SessionStatus.REPORT)
        if ReportSignature.objects.filter(session=session, member=member).exists():
            raise Conflict("您已签署评标报告 (already signed)", code="already_signed")
        try:
            recorded = signing.record_signature(
                actor=actor, document_name=f"{REPORT_NAME} {session.public_id}", document=data,
                sigfile=sigfile,
            )  # fmt: skip
        except ValidationFailed as exc:
            if exc.code == "digest_mismatch":
                raise ValidationFailed(
                    "签名所针对的内容与评标报告不一致 (the signature is over different bytes)",
                    code="signature_mismatch",
                ) from None
            raise
        binding = recorded.binding
        if binding.entity_id is not None:
            raise ValidationFailed("须使用个人证书签署 (sign with a person certificate)",
                                   code="not_a_person_certificate")  # fmt: skip
        if (
            member.kind == MemberKind.EXPERT
            and member.expert is not None
            and (binding.subject_identifier.upper() != member.expert.resident_id.upper())
        ):
            raise ValidationFailed("证书不属于该评标专家 (the certificate is not the expert's)",
                                   code="certificate_not_member")  # fmt: skip
        now = clock.now()
        row = ReportSignature.objects.create(session=session, member=member, signature=recorded,
                                             signed_at=now)  # fmt: skip
        signed = session.signatures.count()
        size = session.members.count()
        event(actor, session, "evaluation.report_signed", {
            "member": member.ref, "sha256": session.report_sha256, "signature": recorded.pk,
            "signed": signed, "members": size,
        })  # fmt: skip
        if signed == size:
            move(session, SessionStatus.SIGNED)
            session.signed_at = now
            session.save(update_fields=["status", "signed_at"])
            event(actor, session, "evaluation.report_completed", {
                "sha256": session.report_sha256, "label_seed": session.label_seed,
                "labels": labels(session),
            })  # fmt: skip
    return row


def labels(session: EvaluationSession) -> dict[str, str]:
    """bid public id -> label (what the commitment covers)."""
    return dict(session.bids.values_list("bid__public_id", "label"))
