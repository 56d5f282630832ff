"""Evaluation reads, with the access check built in. A session exists for the center, the
supervision roles and its own committee members; for anyone else it does not.

What each reader sees: the center and supervision see the bidders, and — until the report is
built — how many scores each member has given, never the points. A member's scoring sheet
shows the bid documents by their anonymous labels (暗标) only: no bidder name, no USCC, no
bid id, until the report is signed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from ggzy.accounts.gate import allowed, holds_role_permission
from ggzy.core.errors import NotFound
from ggzy.evaluation import config
from ggzy.evaluation.models import (
    CommitteeMember,
    EvaluationSession,
    Finding,
    FindingVote,
    ReportSignature,
    Score,
    SessionBid,
    ViewingSpan,
)
from ggzy.evaluation.services import member_of
from ggzy.evaluation.services_report import progress
from ggzy.evaluation.states import SessionStatus

MAX_TEXT = 20_000  # characters of a technical document shown on the sheet


def _not_found() -> NotFound:
    return NotFound("评标会不存在 (no such evaluation session)", code="session_not_found")


def get_session_for(actor: Any, public_id: str) -> EvaluationSession:
    session = (
        EvaluationSession.objects.select_related("section__project", "opening")
        .filter(public_id=str(public_id)[:32])
        .first()
    )
    if session is None or not allowed(actor, "evaluation.view", session):
        raise _not_found()
    return session


def sessions_for(actor: Any) -> QuerySet[EvaluationSession]:
    """Every session for the center and supervision; a member's own sessions otherwise."""
    qs = EvaluationSession.objects.select_related("section__project").order_by("-created_at")
    if holds_role_permission(actor, "evaluation.view"):
        return qs
    if not getattr(actor, "is_authenticated", False):
        return qs.none()
    return qs.filter(members__user_id=actor.pk)


def is_staff_reader(actor: Any, session: EvaluationSession) -> bool:
    """The staff view (bidders, prices) is the center's and supervision's — never a committee
    member's, who scores blind whatever other roles the account holds."""
    return holds_role_permission(actor, "evaluation.view") and member_of(actor, session) is None


def staff_view(actor: Any, sessions: list[EvaluationSession]) -> set[int]:
    """:func:`is_staff_reader` for a page of sessions, in one query: the ids shown staff-wise."""
    if not holds_role_permission(actor, "evaluation.view"):
        return set()
    seated = set(
        CommitteeMember.objects.filter(user_id=actor.pk, session__in=sessions).values_list(
            "session_id", flat=True
        )
    )
    return {s.pk for s in sessions if s.pk not in seated}


DETAIL = (
    Prefetch("bids", queryset=SessionBid.objects.select_related("entity", "bid")),
    "members",
    Prefetch("signatures", queryset=ReportSignature.objects.select_related("member")),
)


def with_details(sessions: list[EvaluationSession]) -> list[EvaluationSession]:
    """Bids, members and signatures of the sessions loaded at once (already loaded: kept)."""
    prefetch_related_objects(sessions, *DETAIL)
    return sessions


def can_run(actor: Any) -> bool:
    return allowed(actor, "evaluation.run")


def members(session: EvaluationSession) -> list[CommitteeMember]:
    return list(session.members.select_related("expert"))


def bids(session: EvaluationSession) -> list[SessionBid]:
    return list(session.bids.select_related("entity", "bid"))


def findings(session: EvaluationSession) -> list[Finding]:
    return list(session.findings.select_related("bid").prefetch_related("votes"))


def my_votes(session: EvaluationSession, member: CommitteeMember) -> dict[int, FindingVote]:
    return {v.finding_id: v for v in FindingVote.objects.filter(member=member,
                                                                finding__session=session)}  # fmt: skip


def signatures(session: EvaluationSession) -> dict[int, ReportSignature]:
    return {s.member_id: s for s in session.signatures.select_related("signature")}


def console(session: EvaluationSession) -> dict[str, Any]:
    """The center's console: state, and who has scored what — counts, not points."""
    return {
        "status": session.status,
        "progress": progress(session),
        "extension_requests": session.extension_requests.count(),
        "signed": session.signatures.count(),
    }


def technical_documents(bid: SessionBid) -> list[dict[str, Any]]:
    """The decrypted files of a bid other than its opening form, as the sheet shows them: by
    their role in the bid, never the bidder's own file names."""
    from ggzy.bidding.opening import BID_FORM, opened_dir

    directory = opened_dir(bid.bid)
    out = []
    files = sorted(p for p in directory.glob("**/*") if p.is_file()) if directory.exists() else []
    for n, path in enumerate(p for p in files if p.name != BID_FORM):
        out.append({"title": f"技术文件 {n + 1}", "size": path.stat().st_size,
                    "text": _text(path)})  # fmt: skip
    return out


def _text(path: Path) -> str | None:
    """The start of a document as text, from a bounded prefix. A character the cut splits at
    the prefix's end is dropped; a file that is not UTF-8 text before that shows none."""
    limit = MAX_TEXT * 4
    with path.open("rb") as f:
        head = f.read(limit)
    try:
        return head.decode("utf-8")[:MAX_TEXT]
    except UnicodeDecodeError as exc:
        if len(head) < limit or exc.start < len(head) - 3:
            return None  # invalid before the cut: not text
        return head[: exc.start].decode("utf-8")[:MAX_TEXT]


def sheet(actor: Any, session: EvaluationSession) -> dict[str, Any]:
    """A member's scoring sheet: per bid document (by label), the criteria with their ranges,
    the member's own scores and justifications, whether the bid is still valid."""
    member = member_of(actor, session)
    if member is None:
        raise _not_found()
    scheme = config.scheme(session.scheme)
    mine = {(s.bid_id, s.criterion): s for s in Score.objects.filter(member=member)}
    criteria = [
        {"id": c.id, "name": c.name, "kind": str(c.kind), "weight": str(c.weight),
         "min": str(c.min_points), "max": str(c.max_points), "step": str(c.step)}
        for c in scheme.scored_criteria
    ]  # fmt: skip
    documents = []
    for bid in session.bids.select_related("bid").order_by("label"):
        documents.append({
            "label": bid.label,
            "title": f"投标文件 {bid.label}",
            "valid": bid.valid,
            "invalid_reason": bid.invalid_reason,
            "low_price": bid.low_price,
            "scores": {c["id"]: {"points": str(mine[(bid.pk, c["id"])].points),
                                 "justification": mine[(bid.pk, c["id"])].justification}
                       for c in criteria if (bid.pk, c["id"]) in mine},
            "documents": technical_documents(bid) if bid.valid else [],
        })  # fmt: skip
    return {
        "session": session.public_id,
        "status": session.status,
        "member": member.ref,
        "is_chair": member.is_chair,
        "method": scheme.method.value,
        "criteria": criteria,
        "bids": documents,
        "scoring_deadline": session.scoring_deadline,
    }


def report_data(session: EvaluationSession) -> dict[str, Any] | None:
    if not session.report:
        return None
    return json.loads(bytes(session.report).decode("utf-8"))  # type: ignore[no-any-return]


def revealed_labels(session: EvaluationSession) -> list[dict[str, Any]] | None:
    """The label → bidder mapping, once the report is signed (``None`` before)."""
    if session.status != SessionStatus.SIGNED:
        return None
    return [
        {"label": b.label, "bid": b.bid.public_id, "bidder": b.entity.name, "uscc": b.entity.uscc}
        for b in with_details([session])[0].bids.all()
    ]


def viewing_time(session: EvaluationSession) -> list[dict[str, Any]]:
    """Seconds each member spent on each bid document (supervision)."""
    totals: dict[tuple[str, str], int] = {}
    refs = dict(session.members.values_list("pk", "ref"))
    labels = dict(session.bids.values_list("pk", "label"))
    for span in ViewingSpan.objects.filter(session=session):
        key = (refs[span.member_id], labels[span.bid_id])
        totals[key] = totals.get(key, 0) + span.seconds
    return [{"member": m, "bid": b, "seconds": s} for (m, b), s in sorted(totals.items())]
