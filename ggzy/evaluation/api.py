"""Evaluation API (``/api/v1/evaluation``): sessions, the committee, the review's findings and
votes, scores, viewing spans, requests for more time, abnormally low prices, the report and its
signatures. Thin: parse, call one service or selector, render; every refusal is
``{"code", "message", "detail"}``.

The center's endpoints find the session through the access-checked selector (to anyone who
may not see it, it does not exist). The members' endpoints (votes, scores, viewing, time,
low price, signatures) answer ``not_on_committee`` to anyone who is not on the committee —
a score attempt from outside is recorded for supervision.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from ggzy.accounts.gate import require
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.core.schemas import ErrorOut
from ggzy.evaluation import selectors, services, services_report, services_review, services_scoring
from ggzy.evaluation.models import EvaluationSession
from ggzy.evaluation.schemas import (
    EvalCommitteeIn,
    EvalExtensionIn,
    EvalExtensionOut,
    EvalFindingOut,
    EvalLowPriceIn,
    EvalReportOut,
    EvalScoresIn,
    EvalScoresOut,
    EvalSessionIn,
    EvalSessionOut,
    EvalViewingIn,
    FindingVotesIn,
    ReportSignatureIn,
    ReportSignedOut,
    ViewingSpanOut,
)
from ggzy.experts import draw_selectors
from ggzy.experts.models import Expert
from ggzy.tendering import selectors as tendering

router = Router(tags=["evaluation"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 422)}


# --- rendering ----------------------------------------------------------------------------------


def session_out(
    actor: Any,
    session: EvaluationSession,
    *,
    staff: bool | None = None,
    counts: dict[int, int] | None = None,
) -> dict[str, Any]:
    """One session as its reader may see it. A list passes ``staff`` and ``counts`` computed
    for the whole page (and the sessions loaded ``with_details``), so a row costs no query."""
    if staff is None:
        staff = selectors.is_staff_reader(actor, session)
    selectors.with_details([session])
    state = services_report.progress(session, counts)
    signed = {s.member.ref for s in session.signatures.all()}
    return {
        "public_id": session.public_id,
        "section": session.section.code or session.section.public_id,
        "section_name": session.section.name,
        "status": session.status,
        "panel": session.panel,
        "method": session.scheme["method"],
        "label_commitment": session.label_commitment,
        "scoring_deadline": session.scoring_deadline,
        "extended": session.extended_at is not None,
        "due_per_member": state["due_per_member"],
        "members": [m | {"signed": m["ref"] in signed} for m in state["members"]],
        "bids": [
            {
                "label": b.label,
                "valid": b.valid,
                "invalid_reason": b.invalid_reason,
                "low_price": b.low_price,
                "bidder": b.entity.name if staff else None,
                "price": str(b.price) if staff and b.price is not None else None,
            }
            for b in session.bids.all()
        ],
        "report_sha256": session.report_sha256,
        "revealed": selectors.revealed_labels(session),
    }


def finding_out(f: Any) -> dict[str, Any]:
    votes = list(f.votes.all())
    return {"id": f.pk, "bid": f.bid.label, "kind": f.kind, "passed": f.passed,
            "message": f.message, "detail": f.detail, "outcome": f.outcome,
            "votes": len(votes), "overruled": sum(1 for v in votes if not v.agrees)}  # fmt: skip


def _session(request: HttpRequest, evaluation_id: str) -> EvaluationSession:
    return selectors.get_session_for(request.auth, evaluation_id)  # type: ignore[attr-defined]


def _member_session(evaluation_id: str) -> EvaluationSession:
    """The session for a member's action: whether the caller sits on it is the service's to say."""
    session = EvaluationSession.objects.select_related("section").filter(
        public_id=str(evaluation_id)[:32]).first()  # fmt: skip
    if session is None:
        raise NotFound("评标会不存在 (no such evaluation session)", code="session_not_found")
    return session


def _fresh(request: HttpRequest, session: EvaluationSession) -> dict[str, Any]:
    return session_out(request.auth, _session(request, session.public_id))  # type: ignore[attr-defined]


# --- sessions (the center) ----------------------------------------------------------------------


@router.get("/sessions", response={200: list[EvalSessionOut], **ERRORS})
def list_sessions(request: HttpRequest) -> Any:
    """The sessions the caller may see: all for the center and supervision, a member's own."""
    actor = request.auth  # type: ignore[attr-defined]
    page = selectors.with_details(list(selectors.sessions_for(actor)[:100]))
    staff, counts = selectors.staff_view(actor, page), services_report.score_counts(page)
    return [session_out(actor, s, staff=s.pk in staff, counts=counts) for s in page]


@router.post("/sessions", response={201: EvalSessionOut, **ERRORS})
def create_session(request: HttpRequest, payload: EvalSessionIn) -> Any:
    """Open the evaluation of a section whose opening record is signed."""
    section = tendering.get_section(request.auth, payload.section)  # type: ignore[attr-defined]
    session = services.create_session(actor=request.auth, section=section)  # type: ignore[attr-defined]
    return Status(201, _fresh(request, session))


@router.get("/sessions/{evaluation_id}", response={200: EvalSessionOut, **ERRORS})
def get_session(request: HttpRequest, evaluation_id: str) -> Any:
    """State, members and — counts only — who has scored what."""
    return session_out(request.auth, _session(request, evaluation_id))  # type: ignore[attr-defined]


def _expert(public_id: str) -> Expert:
    expert = Expert.objects.filter(public_id=str(public_id)[:32]).first()
    if expert is None:
        raise NotFound("专家不存在 (no such expert)", code="expert_not_found",
                       detail={"expert": str(public_id)[:32]})  # fmt: skip
    return expert


@router.post("/sessions/{evaluation_id}/committee", response={200: EvalSessionOut, **ERRORS})
def form_committee(request: HttpRequest, evaluation_id: str, payload: EvalCommitteeIn) -> Any:
    """Seat the drawn and confirmed experts (and a works committee's tenderer representatives)."""
    session = _session(request, evaluation_id)
    require(request.auth, "evaluation.run")  # type: ignore[attr-defined]
    if bool(payload.draw) == bool(payload.experts):
        raise ValidationFailed("请给出抽取或专家名单之一 (either a draw or a list of experts)",
                               code="committee_source", detail={"field": "draw"})  # fmt: skip
    draw = draw_selectors.get_draw_for(request.auth, payload.draw) if payload.draw else None
    experts = [_expert(e) for e in payload.experts]
    users = get_user_model().objects
    reps = []
    for name in payload.tenderer_reps:
        user = users.filter(username=name, is_active=True).first()
        if user is None:
            raise NotFound("用户不存在 (no such user)", code="user_not_found")
        reps.append(user)
    chair: Any = next((e for e in experts if e.public_id == payload.chair), None) or next(
        (u for u in reps if u.username == payload.chair), None)  # fmt: skip
    if draw is not None:
        if payload.chair and chair is None:
            chair = _expert(payload.chair)
        services.form_committee_from_draw(actor=request.auth, session=session, draw=draw,  # type: ignore[attr-defined]
                                          chair=chair, tenderer_reps=reps)  # fmt: skip
        return _fresh(request, session)
    if chair is None:
        raise ValidationFailed("主任委员须为委员会成员 (the chair must be a member)",
                               code="chair_not_member")  # fmt: skip
    services.form_committee(actor=request.auth, session=session, experts=experts, chair=chair,  # type: ignore[attr-defined]
                            tenderer_reps=reps)  # fmt: skip
    return _fresh(request, session)


@router.post("/sessions/{evaluation_id}/review", response={200: EvalSessionOut, **ERRORS})
def start_review(request: HttpRequest, evaluation_id: str) -> Any:
    """Run the automated qualification and compliance checks."""
    session = services_review.start_review(
        actor=request.auth, session=_session(request, evaluation_id)
    )  # type: ignore[attr-defined]
    return _fresh(request, session)


@router.get("/sessions/{evaluation_id}/findings", response={200: list[EvalFindingOut], **ERRORS})
def findings(request: HttpRequest, evaluation_id: str) -> Any:
    return [finding_out(f) for f in selectors.findings(_session(request, evaluation_id))]


@router.post("/sessions/{evaluation_id}/scoring", response={200: EvalSessionOut, **ERRORS})
def start_scoring(request: HttpRequest, evaluation_id: str) -> Any:
    """Close the review (every finding decided by a majority) and start scoring."""
    session = services_review.start_scoring(
        actor=request.auth, session=_session(request, evaluation_id)
    )  # type: ignore[attr-defined]
    return _fresh(request, session)


@router.post("/sessions/{evaluation_id}/report", response={200: EvalReportOut, **ERRORS})
def build_report(request: HttpRequest, evaluation_id: str) -> Any:
    """Score the section and store the report every member signs."""
    session = _session(request, evaluation_id)
    services_report.build_report(actor=request.auth, session=session)  # type: ignore[attr-defined]
    return _report(request, session)


def _report(request: HttpRequest, session: EvaluationSession) -> dict[str, Any]:
    session = EvaluationSession.objects.get(pk=session.pk)
    data = selectors.report_data(session)
    if data is None:
        raise NotFound("评标报告尚未生成 (no report yet)", code="report_not_found")
    signed = selectors.signatures(session)
    return {
        "sha256": session.report_sha256,
        "status": session.status,
        "report": data,
        "signatures": [
            {
                "member": m.ref,
                "signed": m.pk in signed,
                "signature": signed[m.pk].signature_id if m.pk in signed else None,
                "signed_at": signed[m.pk].signed_at.isoformat() if m.pk in signed else None,
            }
            for m in selectors.members(session)
        ],
        "revealed": selectors.revealed_labels(session),
    }


@router.get("/sessions/{evaluation_id}/report", response={200: EvalReportOut, **ERRORS})
def get_report(request: HttpRequest, evaluation_id: str) -> Any:
    """The report, its SHA-256 and who has signed it."""
    return _report(request, _session(request, evaluation_id))


@router.get("/sessions/{evaluation_id}/report/bytes", response={200: None, **ERRORS})
def report_bytes(request: HttpRequest, evaluation_id: str) -> Any:
    """Exactly the bytes every member signs (canonical JSON)."""
    session = _session(request, evaluation_id)
    if not session.report:
        raise NotFound("评标报告尚未生成 (no report yet)", code="report_not_found")
    response = HttpResponse(bytes(session.report), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="report-{session.public_id}.json"'
    return response


@router.get("/sessions/{evaluation_id}/viewing", response={200: list[dict[str, Any]], **ERRORS})
def viewing_time(request: HttpRequest, evaluation_id: str) -> Any:
    """Seconds each member spent on each bid document (supervision)."""
    session = _session(request, evaluation_id)
    require(request.auth, "evaluation.view")  # type: ignore[attr-defined]
    return selectors.viewing_time(session)


# --- the members --------------------------------------------------------------------------------


@router.get("/sessions/{evaluation_id}/sheet", response={200: dict[str, Any], **ERRORS})
def sheet(request: HttpRequest, evaluation_id: str) -> Any:
    """The caller's scoring sheet: bid documents by anonymous label, criteria and ranges."""
    return selectors.sheet(request.auth, _session(request, evaluation_id))  # type: ignore[attr-defined]


@router.post("/sessions/{evaluation_id}/votes", response={200: list[EvalFindingOut], **ERRORS})
def cast_votes(request: HttpRequest, evaluation_id: str, payload: FindingVotesIn) -> Any:
    """Confirm or overrule automated findings (overruling needs a reason)."""
    session = _member_session(evaluation_id)
    done = services_review.cast_votes(actor=request.auth, session=session,  # type: ignore[attr-defined]
                               votes=[(v.finding, v.agrees, v.reason) for v in payload.votes])  # fmt: skip
    rows = {f.pk: f for f in selectors.findings(session)}
    return [finding_out(rows[f.pk]) for f in done]


@router.post("/sessions/{evaluation_id}/scores", response={200: EvalScoresOut, **ERRORS})
def submit_scores(request: HttpRequest, evaluation_id: str, payload: EvalScoresIn) -> Any:
    """A member's scores with justifications (new or revised), all or nothing."""
    entries = [services_scoring.ScoreEntry(s.bid, s.criterion, s.points, s.justification)
               for s in payload.scores]  # fmt: skip
    count = services_scoring.submit_scores(
        actor=request.auth,
        session=_member_session(evaluation_id),
        entries=entries,  # type: ignore[attr-defined]
    )
    return {"accepted": count}


@router.post("/sessions/{evaluation_id}/viewing", response={200: ViewingSpanOut, **ERRORS})
def record_viewing(request: HttpRequest, evaluation_id: str, payload: EvalViewingIn) -> Any:
    """The page's open/heartbeat/close events for a bid document."""
    span = services_scoring.record_viewing(actor=request.auth, session=_member_session(evaluation_id),  # type: ignore[attr-defined]
                                           bid=payload.bid, action=payload.action)  # fmt: skip
    assert span is not None
    label = span.bid.label
    return {"bid": label, "started_at": span.started_at, "last_seen_at": span.last_seen_at,
            "ended_at": span.ended_at, "seconds": span.seconds}  # fmt: skip


@router.post(
    "/sessions/{evaluation_id}/extension-requests", response={201: EvalExtensionOut, **ERRORS}
)
def request_extension(request: HttpRequest, evaluation_id: str, payload: EvalExtensionIn) -> Any:
    """Say the time is not enough (R23: more than a third asking extends it)."""
    session = _member_session(evaluation_id)
    services_scoring.request_extension(actor=request.auth, session=session, reason=payload.reason)  # type: ignore[attr-defined]
    session.refresh_from_db()
    return Status(201, {"asking": session.extension_requests.count(),
                        "members": session.members.count(),
                        "extended": session.extended_at is not None,
                        "scoring_deadline": session.scoring_deadline})  # fmt: skip


@router.post("/sessions/{evaluation_id}/bids/{label}/low-price",
             response={200: dict[str, Any], **ERRORS})  # fmt: skip
def decide_low_price(
    request: HttpRequest, evaluation_id: str, label: str, payload: EvalLowPriceIn
) -> Any:
    """The chair records the committee's view of a flagged price's explanation."""
    bid = services_scoring.decide_low_price(actor=request.auth, session=_member_session(evaluation_id),  # type: ignore[attr-defined]
                                            bid=label, accepted=payload.accepted, note=payload.note)  # fmt: skip
    return {"bid": bid.label, "low_price": bid.low_price, "valid": bid.valid}


@router.post("/sessions/{evaluation_id}/signatures", response={201: ReportSignedOut, **ERRORS})
def sign_report(request: HttpRequest, evaluation_id: str, payload: ReportSignatureIn) -> Any:
    """A member's ``ggzy-sig/1`` signature over the report bytes, with their person certificate."""
    session = _member_session(evaluation_id)
    row = services_report.sign_report(actor=request.auth, session=session, sigfile=payload.sigfile)  # type: ignore[attr-defined]
    session.refresh_from_db()
    return Status(201, {"member": row.member.ref, "signature": row.signature_id,
                        "signed": session.signatures.count(),
                        "members": session.members.count(), "status": session.status})  # fmt: skip
