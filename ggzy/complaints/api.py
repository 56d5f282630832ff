"""Complaints API (``/api/v1/complaints``): a bidder files a complaint for its entity and lists
its own; the supervision roles list every case (open ones with their clocks) and the warnings;
the regulator accepts, refuses, transfers, pauses and resumes the decision clock and decides;
either side uploads evidence (the raw body, ``?name=``).

Refusals, each in the one error shape: ``complaint_not_found`` / ``section_not_found`` /
``entity_not_found`` (404), ``forbidden`` (403), ``bad_status`` / ``case_closed`` /
``case_paused`` / ``section_not_published`` (409), ``payload_too_large`` (413),
``unsupported_media_type`` (415), ``bad_matter`` / ``bad_kind`` / ``bad_outcome`` /
``known_on_in_future`` / ``objection_not_found`` / ``same_department`` / ``bad_file_type`` /
``empty_file`` / ``bad_filter`` (422)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from ggzy.complaints import selectors, services, timers
from ggzy.complaints.models import Complaint
from ggzy.core.schemas import ErrorOut, StrictSchema
from ggzy.core.uploads import spool_body
from ggzy.registry import selectors as registry
from ggzy.tendering import selectors as tendering

router = Router(tags=["complaints"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 413, 415, 422)}
UPLOAD_TYPES = ("application/octet-stream", *sorted(set(services.EVIDENCE_TYPES.values())))


class ComplaintClockOut(Schema):
    deadline: str
    due: date
    days_left: int
    paused: bool
    overdue: bool
    warning: bool


class ComplaintFlagOut(Schema):
    code: str
    rule: str
    source: str
    message: str
    last_day: str | None = None


class ComplaintOut(Schema):
    public_id: str
    section: str
    project: str
    project_name: str
    complainant: str
    complainant_uscc: str
    regime: str
    matter: str
    status: str
    known_on: date
    objection_kind: str
    objection: str
    filed_at: datetime
    filing_last_day: date | None
    admissible: bool
    flags: list[ComplaintFlagOut]
    department: str
    acceptance_due: date
    accepted_at: datetime | None
    acceptance_late: bool
    decision_due: date | None
    paused_working_days: int
    outcome: str
    closed_at: datetime | None
    clock: ComplaintClockOut | None


class ComplaintPauseOut(Schema):
    kind: str
    started_on: date
    ended_on: date | None
    working_days: int | None


class ComplaintTransferOut(Schema):
    from_department: str
    to_department: str
    at: datetime


class ComplaintEvidenceOut(Schema):
    public_id: str
    party: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class ComplaintDetailOut(ComplaintOut):
    text: str
    refusal_reason: str
    decision_text: str
    decision_late: bool
    decision_record: dict[str, Any] | None
    decision_sha256: str
    decision_signature: str
    decision_key_id: str
    pauses: list[ComplaintPauseOut]
    transfers: list[ComplaintTransferOut]
    evidence: list[ComplaintEvidenceOut]


class ComplaintPeriodOut(Schema):
    regime: str
    period: str
    count: int
    working_days: bool
    rule: str
    source: str


class ComplaintFileIn(StrictSchema):
    section: str = Field(..., max_length=32)
    entity: str = Field(..., min_length=18, max_length=18)
    matter: str = Field(..., max_length=16)
    text: str = Field(..., max_length=services.MAX_TEXT)
    known_on: date
    objection: str = Field("", max_length=64)


class ComplaintListQuery(Schema):
    status: str = Field("", max_length=16)


class ComplaintReasonIn(StrictSchema):
    reason: str = Field(..., max_length=services.MAX_REASON)


class ComplaintTransferIn(StrictSchema):
    department: str = Field(..., max_length=200)
    reason: str = Field(..., max_length=services.MAX_REASON)


class ComplaintPauseIn(StrictSchema):
    kind: str = Field(..., max_length=16)
    reason: str = Field(..., max_length=services.MAX_REASON)


class ComplaintDecideIn(StrictSchema):
    outcome: str = Field(..., max_length=16)
    text: str = Field(..., max_length=services.MAX_TEXT)


class ComplaintEvidenceQuery(Schema):
    name: str = Field(..., min_length=1, max_length=200)


def clock_out(ck: selectors.Clock | None) -> dict[str, Any] | None:
    if ck is None:
        return None
    return {"deadline": ck.deadline, "due": ck.due, "days_left": ck.days_left,
            "paused": ck.paused, "overdue": ck.overdue, "warning": ck.warning}  # fmt: skip


def complaint_out(c: Complaint, ck: selectors.Clock | None = None) -> dict[str, Any]:
    project = c.section.project
    return {
        "public_id": c.public_id, "section": c.section.public_id, "project": project.public_id,
        "project_name": project.name, "complainant": c.entity.name,
        "complainant_uscc": c.entity.uscc, "regime": c.regime, "matter": c.matter,
        "status": c.status, "known_on": c.known_on, "objection_kind": c.objection_kind,
        "objection": c.objection_ref, "filed_at": c.filed_at,
        "filing_last_day": c.filing_last_day, "admissible": c.admissible, "flags": c.flags,
        "department": c.department, "acceptance_due": c.acceptance_due,
        "accepted_at": c.accepted_at, "acceptance_late": c.acceptance_late,
        "decision_due": c.decision_due, "paused_working_days": c.paused_days,
        "outcome": c.outcome, "closed_at": c.closed_at,
        "clock": clock_out(ck if ck is not None else selectors.clock_of(c)),
    }  # fmt: skip


def detail_out(c: Complaint) -> dict[str, Any]:
    return {
        **complaint_out(c), "text": c.text, "refusal_reason": c.refusal_reason,
        "decision_text": c.decision_text, "decision_late": c.decision_late,
        "decision_record": c.decision_record, "decision_sha256": c.decision_sha256,
        "decision_signature": c.decision_signature, "decision_key_id": c.decision_key_id,
        "pauses": [{"kind": p.kind, "started_on": p.started_on, "ended_on": p.ended_on,
                    "working_days": p.working_days} for p in selectors.pauses(c)],
        "transfers": [{"from_department": t.from_department, "to_department": t.to_department,
                       "at": t.at} for t in selectors.transfers(c)],
        "evidence": [{"public_id": e.public_id, "party": e.party, "name": e.name,
                      "content_type": e.content_type, "size": e.size, "sha256": e.sha256,
                      "uploaded_at": e.uploaded_at} for e in selectors.evidence(c)],
    }  # fmt: skip


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _fresh(request: HttpRequest, c: Complaint) -> dict[str, Any]:
    return detail_out(selectors.get_complaint(_actor(request), c.public_id))


@router.get("/periods", response={200: list[ComplaintPeriodOut], **ERRORS})
def periods(request: HttpRequest) -> Any:
    """The statutory periods in force (R29 works, R30 government procurement)."""
    return timers.table()


@router.post("/cases", response={201: ComplaintDetailOut, **ERRORS})
def file_complaint(request: HttpRequest, payload: ComplaintFileIn) -> Any:
    """File a complaint for an entity you act for about a section's documents, opening or
    result. A late complaint, or one without the required prior objection, is recorded but
    flagged inadmissible with the rule (``flags``)."""
    actor = _actor(request)
    section = tendering.get_section(actor, payload.section)
    entity = registry.get_entity(actor=actor, uscc=payload.entity)
    c = services.file_complaint(actor=actor, section=section, entity=entity,
                                matter=payload.matter, text=payload.text,
                                known_on=payload.known_on, objection=payload.objection)  # fmt: skip
    return Status(201, _fresh(request, c))


@router.get("/mine", response={200: list[ComplaintOut], **ERRORS})
def my_complaints(request: HttpRequest) -> Any:
    """The complaints of the entities you act for."""
    return [complaint_out(c) for c in selectors.mine(_actor(request))[:500]]


@router.get("/cases", response={200: list[ComplaintOut], **ERRORS})
def list_cases(request: HttpRequest, query: Query[ComplaintListQuery]) -> Any:
    """Every case (supervision roles), newest first; ``status=open`` lists the open cases with
    their clocks, overdue first."""
    actor = _actor(request)
    if query.status == "open":
        return [complaint_out(c, ck) for c, ck in selectors.open_cases(actor)]
    return [complaint_out(c) for c in selectors.all_complaints(actor, status=query.status)[:500]]


@router.get("/warnings", response={200: list[ComplaintOut], **ERRORS})
def warnings(request: HttpRequest) -> Any:
    """Open cases whose deadline is within one working day, or past."""
    return [complaint_out(c, ck) for c, ck in selectors.warnings(_actor(request))]


@router.get("/cases/{complaint_id}", response={200: ComplaintDetailOut, **ERRORS})
def get_case(request: HttpRequest, complaint_id: str) -> Any:
    return detail_out(selectors.get_complaint(_actor(request), complaint_id))


@router.post("/cases/{complaint_id}/accept", response={200: ComplaintDetailOut, **ERRORS})
def accept(request: HttpRequest, complaint_id: str) -> Any:
    """受理 (regulator): the 30-working-day decision clock starts."""
    actor = _actor(request)
    c = services.accept(actor=actor, complaint=selectors.get_complaint(actor, complaint_id))
    return _fresh(request, c)


@router.post("/cases/{complaint_id}/refuse", response={200: ComplaintDetailOut, **ERRORS})
def refuse(request: HttpRequest, complaint_id: str, payload: ComplaintReasonIn) -> Any:
    """不予受理 (regulator), with the reason."""
    actor = _actor(request)
    c = services.refuse(actor=actor, complaint=selectors.get_complaint(actor, complaint_id),
                        reason=payload.reason)  # fmt: skip
    return _fresh(request, c)


@router.post("/cases/{complaint_id}/transfer", response={200: ComplaintDetailOut, **ERRORS})
def transfer(request: HttpRequest, complaint_id: str, payload: ComplaintTransferIn) -> Any:
    """移送 to another department (regulator); the clocks run on."""
    actor = _actor(request)
    c = services.transfer(actor=actor, complaint=selectors.get_complaint(actor, complaint_id),
                          department=payload.department, reason=payload.reason)  # fmt: skip
    return _fresh(request, c)


@router.post("/cases/{complaint_id}/pause", response={200: ComplaintDetailOut, **ERRORS})
def pause(request: HttpRequest, complaint_id: str, payload: ComplaintPauseIn) -> Any:
    """Stop the decision clock for ``expert_review``, ``testing`` or ``inspection``."""
    actor = _actor(request)
    c = services.pause(actor=actor, complaint=selectors.get_complaint(actor, complaint_id),
                       kind=payload.kind, reason=payload.reason)  # fmt: skip
    return _fresh(request, c)


@router.post("/cases/{complaint_id}/resume", response={200: ComplaintDetailOut, **ERRORS})
def resume(request: HttpRequest, complaint_id: str) -> Any:
    """Restart the decision clock; its due date moves by the paused working days."""
    actor = _actor(request)
    c = services.resume(actor=actor, complaint=selectors.get_complaint(actor, complaint_id))
    return _fresh(request, c)


@router.post("/cases/{complaint_id}/evidence", response={201: ComplaintEvidenceOut, **ERRORS})
def add_evidence(
    request: HttpRequest, complaint_id: str, query: Query[ComplaintEvidenceQuery]
) -> Any:
    """An evidence file as the raw body (``?name=`` with its extension), from the complainant
    or the regulator, until the decision."""
    actor = _actor(request)
    c = selectors.get_complaint(actor, complaint_id)
    spooled = spool_body(request, accepted=UPLOAD_TYPES,
                         limit=settings.GGZY_COMPLAINT_EVIDENCE_MAX_BYTES,
                         directory=services.evidence_dir(), what="证据材料 (evidence)")  # fmt: skip
    try:
        with open(spooled, "rb") as stream:
            e = services.add_evidence(actor=actor, complaint=c, name=query.name, stream=stream)
    finally:
        spooled.unlink(missing_ok=True)
    return Status(201, {"public_id": e.public_id, "party": e.party, "name": e.name,
                        "content_type": e.content_type, "size": e.size, "sha256": e.sha256,
                        "uploaded_at": e.uploaded_at})  # fmt: skip


@router.post("/cases/{complaint_id}/decide", response={200: ComplaintDetailOut, **ERRORS})
def decide(request: HttpRequest, complaint_id: str, payload: ComplaintDecideIn) -> Any:
    """处理决定 (regulator): ``upheld``, ``partly`` or ``dismissed`` with the text; the record is
    signed by the platform and its SHA-256 is in the ledger."""
    actor = _actor(request)
    c = services.decide(actor=actor, complaint=selectors.get_complaint(actor, complaint_id),
                        outcome=payload.outcome, text=payload.text)  # fmt: skip
    return _fresh(request, c)
