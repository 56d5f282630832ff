"""Expert-pool API (``/api/v1/experts``): the taxonomy, applications and their approval, the
pool for staff, status changes, the expert's own calendar and declared conflicts, ratings, and
the Excel import (raw .xlsx body) and export. Thin: parse, call one service or selector, render;
every refusal is ``{"code", "message", "detail"}``."""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from ggzy.api import PUBLIC
from ggzy.core.errors import NotFound
from ggzy.core.schemas import ErrorOut, OkOut
from ggzy.core.uploads import read_body
from ggzy.experts import draw_api, excel, ratings, selectors, services, taxonomy
from ggzy.experts.checks import ExpertData
from ggzy.experts.models import Expert, Specialty
from ggzy.experts.schemas import (
    AccountLinkIn,
    ConflictIn,
    ConflictOut,
    ExpertEntryIn,
    ExpertHistoryOut,
    ExpertImportOut,
    ExpertIn,
    ExpertOut,
    ExpertPatch,
    ExpertReasonIn,
    PeriodIn,
    PeriodOut,
    PoolOut,
    RatingIn,
    RatingOut,
    RatingSessionOut,
    SpecialtyIn,
    SpecialtyOut,
    SpecialtyPatch,
    StatusIn,
    SuspendIn,
)
from ggzy.registry import selectors as registry

router = Router(tags=["experts"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 413, 415, 422)}
IMPORT_TYPES = (excel.XLSX_TYPE, "application/octet-stream")


# --- rendering ----------------------------------------------------------------------------------


def specialty_out(s: Specialty) -> dict[str, Any]:
    return {"code": s.code, "name": s.name, "parent": s.parent.code if s.parent else None,
            "is_works": s.is_works, "active": s.active, "version": s.version}  # fmt: skip


def brief_out(e: Expert) -> dict[str, Any]:
    return {
        "public_id": e.public_id,
        "name": e.name,
        "status": e.status,
        "title_level": e.title_level,
        "years_in_field": e.years_in_field,
        "region": e.region_id,
        "primary_specialty": e.primary_specialty.code,
        "employer": {"uscc": e.employer.uscc, "name": e.employer.name},
    }


def expert_out(e: Expert) -> dict[str, Any]:
    history = selectors.history(e)
    return brief_out(e) | {
        "resident_id": e.resident_id,
        "phone": e.phone,
        "email": e.email,
        "title_name": e.title_name,
        "senior_equivalent": e.senior_equivalent,
        "region_name": e.region.name,
        "specialties": [row.specialty.code for row in selectors.specialty_rows(e)],
        "status_reason": e.status_reason,
        "suspended_until": e.suspended_until,
        "applied_at": e.applied_at,
        "approved_at": e.approved_at,
        "username": e.user.username if e.user else None,
        "version": e.version,
        "status_history": [
            {
                "from_status": c.from_status,
                "to_status": c.to_status,
                "reason": c.reason,
                "until": c.until,
                "changed_at": c.changed_at,
            }
            for c in history["status_history"]
        ],
        "unavailability": [period_out(p) for p in history["unavailability"]],
        "conflicts": [conflict_out(c) for c in history["conflicts"]],
        "ratings": [rating_out(r) for r in history["ratings"]],
    }


def period_out(p: Any) -> dict[str, Any]:
    return {"id": p.pk, "start": p.start, "end": p.end, "reason": p.reason}


def conflict_out(c: Any) -> dict[str, Any]:
    return {"id": c.pk, "entity": {"uscc": c.entity.uscc, "name": c.entity.name},
            "reason": c.reason, "declared_at": c.declared_at, "withdrawn_at": c.withdrawn_at}  # fmt: skip


def rating_out(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "session_ref": r.session_ref, "rater_kind": r.rater_kind,
            "score": r.score, "comment": r.comment, "misconduct": r.misconduct,
            "rated_at": r.rated_at}  # fmt: skip


def seat_out(m: Any) -> dict[str, Any]:
    session = m.session
    return {"session": session.public_id, "project": session.section.project.name,
            "section": session.section.label, "status": session.status, "is_chair": m.is_chair,
            "signed_at": session.signed_at}  # fmt: skip


def suspension_out(c: Any) -> dict[str, Any]:
    return {"changed_at": c.changed_at, "from_status": c.from_status, "until": c.until,
            "reason": c.reason, "automatic": c.actor == ratings.POLICY_ACTOR,
            "ratings": sorted(r.pk for r in c.causes.all())}  # fmt: skip


def history_out(e: Expert) -> dict[str, Any]:
    history = selectors.history(e)
    return {"public_id": e.public_id, "status": e.status, "suspended_until": e.suspended_until,
            "sessions": [seat_out(m) for m in history["seats"]],
            "ratings": [rating_out(r) for r in history["ratings"]],
            "suspensions": [suspension_out(c) for c in selectors.suspensions(e)]}  # fmt: skip


def rating_session_out(desk: ratings.RatingDesk, kinds: set[str]) -> dict[str, Any]:
    session = desk.session
    given = ratings.ratings_given(session, kinds)
    experts = [
        {"public_id": m.expert.public_id, "name": m.expert.name, "is_chair": m.is_chair,
         "ratings": [rating_out(given[(m.expert_id, k)]) for k in sorted(kinds)
                     if (m.expert_id, k) in given]}
        for m in ratings.committee_experts(session)
    ]  # fmt: skip
    return {"session": session.public_id, "project": session.section.project.name,
            "section": session.section.label, "status": session.status,
            "signed_at": session.signed_at, "rater_kinds": sorted(kinds),
            "experts": experts}  # fmt: skip


def _data(payload: ExpertIn) -> ExpertData:
    return ExpertData(**payload.dict(exclude={"username"}))


def _expert(request: HttpRequest, expert_id: str) -> Expert:
    return selectors.get_expert_for(request.auth, expert_id)  # type: ignore[attr-defined]


def _fresh(expert: Expert) -> dict[str, Any]:
    return expert_out(Expert.objects.select_related(
        "employer", "region", "primary_specialty", "user").get(pk=expert.pk))  # fmt: skip


# --- taxonomy -----------------------------------------------------------------------------------


@router.get("/specialties", response=list[SpecialtyOut], auth=PUBLIC)
def list_specialties(request: HttpRequest, active_only: bool = False) -> Any:
    """The specialty taxonomy (public: applicants choose from it)."""
    return [specialty_out(s) for s in selectors.specialties(active_only=active_only)]


@router.post("/specialties", response={201: SpecialtyOut, **ERRORS})
def create_specialty(request: HttpRequest, payload: SpecialtyIn) -> Any:
    row = taxonomy.create_specialty(actor=request.auth, **payload.dict())  # type: ignore[attr-defined]
    return Status(201, specialty_out(row))


@router.patch("/specialties/{specialty_code}", response={200: SpecialtyOut, **ERRORS})
def change_specialty(request: HttpRequest, specialty_code: str, payload: SpecialtyPatch) -> Any:
    row = taxonomy.update_specialty(
        actor=request.auth,  # type: ignore[attr-defined]
        specialty=taxonomy.get_specialty(specialty_code),
        **payload.dict(exclude_unset=True),
    )
    return specialty_out(row)


# --- the expert's own record --------------------------------------------------------------------


@router.post("/applications", response={201: ExpertOut, **ERRORS})
def apply(request: HttpRequest, payload: ExpertIn) -> Any:
    """An expert applies to the pool (or re-submits a pending or rejected application)."""
    expert = services.apply(actor=request.auth, data=_data(payload))  # type: ignore[attr-defined]
    return Status(201, _fresh(expert))


@router.get("/me", response={200: ExpertOut, **ERRORS})
def me(request: HttpRequest) -> Any:
    """The caller's own record: application or pool entry, with its whole history."""
    expert = selectors.my_expert(request.auth)  # type: ignore[attr-defined]
    if expert is None:
        raise NotFound("您尚未申请入库 (no expert record)", code="expert_not_found")
    return expert_out(expert)


@router.get("/me/history", response={200: ExpertHistoryOut, **ERRORS})
def my_history(request: HttpRequest) -> Any:
    """The caller's sessions, ratings (without who rated) and suspensions with their reasons."""
    expert = selectors.my_expert(request.auth)  # type: ignore[attr-defined]
    if expert is None:
        raise NotFound("您尚未申请入库 (no expert record)", code="expert_not_found")
    return history_out(expert)


# --- rating the experts of a signed session (the center; the section's tenderer) --------------


@router.get("/ratings/sessions", response={200: list[RatingSessionOut], **ERRORS})
def rating_sessions(request: HttpRequest) -> Any:
    """Signed sessions the caller rates (the center: all; a tenderer: its projects'), newest
    first, with the experts and the ratings the caller's sides gave."""
    out = []
    for session in ratings.sessions_to_rate(request.auth)[: ratings.MAX_SESSIONS]:  # type: ignore[attr-defined]
        kinds = ratings.rater_kinds(request.auth, session)  # type: ignore[attr-defined]
        out.append(rating_session_out(ratings.RatingDesk(session), kinds))
    return out


@router.get("/ratings/sessions/{session_ref}", response={200: RatingSessionOut, **ERRORS})
def rating_session(request: HttpRequest, session_ref: str) -> Any:
    desk, kinds = ratings.get_desk_for(request.auth, session_ref)  # type: ignore[attr-defined]
    return rating_session_out(desk, kinds)


# --- the pool (center staff) --------------------------------------------------------------------


@router.get("", response={200: PoolOut, **ERRORS})
def pool(
    request: HttpRequest,
    q: str = Query("", max_length=60),
    specialty: str = Query("", max_length=16),
    region: str = Query("", max_length=6),
    status: StatusIn | Literal[""] = "",
    offset: int = Query(0, ge=0, le=10_000_000),
    limit: int = Query(20, ge=1, le=100),
) -> Any:
    """The pool for center and supervision staff (``status=pending``: the approval queue)."""
    qs = selectors.pool(request.auth, q=q, specialty=specialty, region=region, status=status)  # type: ignore[attr-defined]
    items = [brief_out(e) for e in qs[offset : offset + limit]]
    return {"count": qs.count(), "offset": offset, "limit": limit, "items": items}


@router.post("", response={201: ExpertOut, **ERRORS})
def enter(request: HttpRequest, payload: ExpertEntryIn) -> Any:
    """Center staff enter an expert directly into the pool (R20 checked)."""
    expert = services.register_expert(
        actor=request.auth,
        data=_data(payload),
        username=payload.username,  # type: ignore[attr-defined]
    )
    return Status(201, _fresh(expert))


@router.post("/import", response={200: ExpertImportOut, **ERRORS})
def import_pool(request: HttpRequest) -> Any:
    """An .xlsx file as the raw body (the format of ``GET /export``; docs/domains/experts.md).
    All rows or none: any bad row refuses the file with ``import_rows_invalid`` and a report of
    every error (row, column, code, message) in ``detail.errors``."""
    body = read_body(
        request,
        accepted=IMPORT_TYPES,
        limit=int(getattr(settings, "GGZY_EXPERT_IMPORT_MAX_BYTES", 10 << 20)),
        what="专家导入文件 (.xlsx)",
    )
    result = excel.import_experts(actor=request.auth, data=body)  # type: ignore[attr-defined]
    return {"rows": result.rows, "batch": result.batch,
            "experts": [e.public_id for e in result.experts]}  # fmt: skip


@router.get("/export", response={401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def export_pool(request: HttpRequest, status: StatusIn = "active") -> Any:
    """The pool as an .xlsx in the import format (center admin)."""
    data = excel.export_pool(actor=request.auth, status=status)  # type: ignore[attr-defined]
    response = HttpResponse(data, content_type=excel.XLSX_TYPE)
    response["Content-Disposition"] = 'attachment; filename="experts.xlsx"'
    return response


# --- the draw (ggzy.experts.draw_api): before /{expert_id}, which would take "draws" for an id --

draw_api.register(router)


# --- one expert ---------------------------------------------------------------------------------


@router.get("/{expert_id}", response={200: ExpertOut, **ERRORS})
def detail(request: HttpRequest, expert_id: str) -> Any:
    return expert_out(_expert(request, expert_id))


@router.patch("/{expert_id}", response={200: ExpertOut, **ERRORS})
def change(request: HttpRequest, expert_id: str, payload: ExpertPatch) -> Any:
    expert = services.update_expert(
        actor=request.auth, expert=_expert(request, expert_id),  # type: ignore[attr-defined]
        changes=payload.dict(exclude_unset=True),
    )  # fmt: skip
    return _fresh(expert)


@router.post("/{expert_id}/approve", response={200: ExpertOut, **ERRORS})
def approve(request: HttpRequest, expert_id: str) -> Any:
    """Approve an application (R20 for works experts: ``expert_ineligible`` names what is unmet)."""
    return _fresh(
        services.approve_application(actor=request.auth, expert=_expert(request, expert_id))
    )  # type: ignore[attr-defined]


@router.post("/{expert_id}/reject", response={200: ExpertOut, **ERRORS})
def reject(request: HttpRequest, expert_id: str, payload: ExpertReasonIn) -> Any:
    expert = services.reject_application(
        actor=request.auth,
        expert=_expert(request, expert_id),
        reason=payload.reason,  # type: ignore[attr-defined]
    )
    return _fresh(expert)


@router.post("/{expert_id}/suspend", response={200: ExpertOut, **ERRORS})
def suspend(request: HttpRequest, expert_id: str, payload: SuspendIn) -> Any:
    expert = services.suspend_expert(
        actor=request.auth, expert=_expert(request, expert_id),  # type: ignore[attr-defined]
        reason=payload.reason, until=payload.until,
    )  # fmt: skip
    return _fresh(expert)


@router.post("/{expert_id}/reinstate", response={200: ExpertOut, **ERRORS})
def reinstate(request: HttpRequest, expert_id: str, payload: ExpertReasonIn) -> Any:
    expert = services.reinstate_expert(
        actor=request.auth,
        expert=_expert(request, expert_id),
        reason=payload.reason,  # type: ignore[attr-defined]
    )
    return _fresh(expert)


@router.post("/{expert_id}/retire", response={200: ExpertOut, **ERRORS})
def retire(request: HttpRequest, expert_id: str, payload: ExpertReasonIn) -> Any:
    expert = services.retire_expert(
        actor=request.auth,
        expert=_expert(request, expert_id),
        reason=payload.reason,  # type: ignore[attr-defined]
    )
    return _fresh(expert)


@router.post("/{expert_id}/account", response={200: ExpertOut, **ERRORS})
def link_account(request: HttpRequest, expert_id: str, payload: AccountLinkIn) -> Any:
    """Link an expert entered without an account to the expert's own account (center staff)."""
    expert = services.link_account(
        actor=request.auth, expert=_expert(request, expert_id),  # type: ignore[attr-defined]
        username=payload.username,
    )  # fmt: skip
    return _fresh(expert)


@router.post("/{expert_id}/unavailability", response={201: PeriodOut, **ERRORS})
def add_period(request: HttpRequest, expert_id: str, payload: PeriodIn) -> Any:
    """Days the expert cannot be drawn (the expert themself, or the center admin)."""
    row = services.add_unavailability(
        actor=request.auth,
        expert=_expert(request, expert_id),
        **payload.dict(),  # type: ignore[attr-defined]
    )
    return Status(201, period_out(row))


@router.delete("/{expert_id}/unavailability/{period_id}", response={200: OkOut, **ERRORS})
def remove_period(request: HttpRequest, expert_id: str, period_id: int) -> Any:
    expert = _expert(request, expert_id)
    period = selectors.get_period(expert, period_id)
    services.remove_unavailability(actor=request.auth, expert=expert, period_id=period.pk)  # type: ignore[attr-defined]
    return {"ok": True}


@router.post("/{expert_id}/conflicts", response={201: ConflictOut, **ERRORS})
def declare_conflict(request: HttpRequest, expert_id: str, payload: ConflictIn) -> Any:
    """Declare a conflict of interest with a registered entity (R21)."""
    expert = _expert(request, expert_id)
    entity = registry.get_entity(actor=request.auth, uscc=payload.entity)  # type: ignore[attr-defined]
    row = services.declare_conflict(actor=request.auth, expert=expert, entity=entity,  # type: ignore[attr-defined]
                                    reason=payload.reason)  # fmt: skip
    return Status(201, conflict_out(row))


@router.delete("/{expert_id}/conflicts/{conflict_id}", response={200: OkOut, **ERRORS})
def withdraw_conflict(request: HttpRequest, expert_id: str, conflict_id: int) -> Any:
    expert = _expert(request, expert_id)
    row = selectors.get_conflict(expert, conflict_id)
    services.withdraw_conflict(actor=request.auth, expert=expert, conflict_id=row.pk)  # type: ignore[attr-defined]
    return {"ok": True}


@router.post("/{expert_id}/ratings", response={201: RatingOut, **ERRORS})
def rate(request: HttpRequest, expert_id: str, payload: RatingIn) -> Any:
    """Rate an expert who sat on a signed session (``session_ref``), as the center
    (``experts.rate``) or the section's tenderer, once per side. May suspend the expert under
    the rating policy (docs/domains/experts.md, "Ratings and suspension")."""
    row = ratings.record_rating(
        actor=request.auth,  # type: ignore[attr-defined]
        expert_ref=expert_id,
        **payload.dict(),
    )
    return Status(201, rating_out(row))
