"""The draw's API under ``/api/v1/experts``: ``draws`` (request: the organizing desk; list and
status: center and supervision staff, counts only while sealed), ``draws/{id}/reveal`` (at the
session start), ``draws/{id}/verify`` (auditor, regulator, inspector), and the expert's own
``invitations`` with ``confirm`` and ``decline``. Registered on the experts router before its
``/{expert_id}`` routes (which would otherwise take ``draws`` for an expert id)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from ggzy.accounts.gate import allowed, require
from ggzy.core.schemas import ErrorOut, StrictSchema
from ggzy.experts import draw_answers, draw_selectors, draw_services, draw_verify
from ggzy.experts.draw_services import QuotaTerms
from ggzy.tendering import selectors as tendering

ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 422)}
DrawStatusIn = Literal["requested", "committed", "drawn", "complete", "unfillable"]


class QuotaIn(StrictSchema):
    specialty: str = Field(..., min_length=1, max_length=16, description="专业代码（含下级专业）")
    count: int = Field(..., ge=1, le=49, description="正选人数")
    backups: int = Field(0, ge=0, le=49, description="备选人数")
    min_other_regions: int = Field(0, ge=0, le=49, description="正选中至少来自外地的人数")


class DrawIn(StrictSchema):
    section: str = Field(..., min_length=1, max_length=32, description="标段 public id")
    session_at: datetime = Field(..., description="评标开始时间（带时区）")
    quotas: list[QuotaIn] = Field(..., min_length=1, max_length=10)
    include_regions: list[str] = Field(default_factory=list, max_length=50)
    exclude_regions: list[str] = Field(default_factory=list, max_length=50)
    other_regions_only: bool = Field(False, description="仅从外地抽取（远程异地评标）")
    home_region: str = Field("", max_length=6, description="本地；默认项目所在地")
    avoid_days: int | None = Field(None, ge=0, le=1095, description="同一招标人回避期（日）")
    tops_up: str = Field("", max_length=32, description="补抽：原抽取 id")


class DeclineIn(StrictSchema):
    reason: str = Field(..., min_length=1, max_length=300)


class SectionRef(StrictSchema):
    id: str
    code: str
    name: str


class RegionTerms(StrictSchema):
    include: list[str]
    exclude: list[str]
    other_regions_only: bool
    home: str


class QuotaOut(StrictSchema):
    quota: str
    count: int
    backups: int
    min_other_regions: int
    seats: dict[str, int]
    confirmed: int
    exhausted: bool


class ExpertRef(StrictSchema):
    public_id: str
    name: str


class DrawnOut(StrictSchema):
    quota: str
    position: int
    role: str
    status: str
    seat: int | None
    pseudonym: str
    expert: ExpertRef | None = Field(None, description="揭示后（评标开始后）才有")


class DrawOut(StrictSchema):
    id: str
    status: str
    section: SectionRef
    project: str
    tops_up: str | None
    session_at: datetime
    evaluation_date: date
    regions: RegionTerms
    avoid_days: int
    requested_at: datetime
    commitment: str
    commit_seq: int | None
    tree_size: int | None
    tree_root: str
    inputs_sha256: str
    drawn_at: datetime | None
    revealed_at: datetime | None
    secret: str | None
    sealed: bool
    unfillable: dict[str, Any] | None
    quotas: list[QuotaOut]
    drawn: list[DrawnOut]


class DrawListOut(StrictSchema):
    count: int
    offset: int
    limit: int
    items: list[DrawOut]


class DrawCheckOut(StrictSchema):
    check: str
    ok: bool
    message: str


class DrawVerifyOut(StrictSchema):
    draw: str
    status: str
    ok: bool
    secret: str | None = Field(None, description="revealed | sealed")
    seed: str | None = None
    commit_seq: int | None
    tree_size: int | None
    tree_root: str
    checks: list[DrawCheckOut]
    quotas: list[dict[str, Any]]


class InvitationOut(StrictSchema):
    id: str
    draw: str
    section: str
    section_name: str
    project: str
    quota: str
    session_at: datetime
    status: str
    notified_at: datetime | None
    answer_due: datetime | None
    answered_at: datetime | None


def _draw(request: HttpRequest, draw_id: str) -> Any:
    return draw_selectors.get_draw_for(request.auth, draw_id)  # type: ignore[attr-defined]


def _reload(draw: Any) -> Any:
    from ggzy.experts.draw_models import Draw

    return Draw.objects.select_related("section__project", "home_region", "tops_up").get(pk=draw.pk)


def register(router: Router) -> None:
    """Add the draw's operations to the experts router (before its ``/{expert_id}`` routes)."""

    @router.post("/draws", response={201: DrawOut, **ERRORS}, tags=["expert draws"])
    def request_draw(request: HttpRequest, payload: DrawIn) -> Any:
        """Request a draw for a section whose opening is held; it is committed, drawn and the
        mains notified at once. Refusals include ``draw_unfillable`` (409) with ``detail.quotas``
        = ``[{quota, needed, eligible, binding, removed}]``; the attempt is then in the ledger."""
        actor = request.auth  # type: ignore[attr-defined]
        require(actor, "experts.draw")
        section = tendering.get_section(actor, payload.section)
        tops_up = draw_selectors.get_draw_for(actor, payload.tops_up) if payload.tops_up else None
        draw = draw_services.request_draw(
            actor=actor,
            section=section,
            session_at=payload.session_at,
            quotas=[
                QuotaTerms(q.specialty, q.count, q.backups, q.min_other_regions)
                for q in payload.quotas
            ],
            include_regions=payload.include_regions,
            exclude_regions=payload.exclude_regions,
            other_regions_only=payload.other_regions_only,
            home_region=payload.home_region,
            avoid_days=payload.avoid_days,
            tops_up=tops_up,
        )
        return Status(201, draw_selectors.draw_summary(_reload(draw)))

    @router.get("/draws", response={200: DrawListOut, **ERRORS}, tags=["expert draws"])
    def list_draws(
        request: HttpRequest,
        section: str = Query("", max_length=32),
        status: DrawStatusIn | Literal[""] = "",
        offset: int = Query(0, ge=0, le=10_000_000),
        limit: int = Query(20, ge=1, le=100),
    ) -> Any:
        """Draws (center and supervision staff), newest first; others see none."""
        actor = request.auth  # type: ignore[attr-defined]
        require(actor, "experts.draw_view")
        qs = draw_selectors.draws_for(actor, section=section, status=status)
        items = [draw_selectors.draw_summary(d) for d in qs[offset : offset + limit]]
        return {"count": qs.count(), "offset": offset, "limit": limit, "items": items}

    @router.get("/draws/{draw_id}", response={200: DrawOut, **ERRORS}, tags=["expert draws"])
    def get_draw(request: HttpRequest, draw_id: str) -> Any:
        """A draw's terms, commitment, tree head and counts; who was drawn only once revealed."""
        return draw_selectors.draw_summary(_draw(request, draw_id))

    @router.post(
        "/draws/{draw_id}/reveal", response={200: DrawOut, **ERRORS}, tags=["expert draws"]
    )
    def reveal(request: HttpRequest, draw_id: str) -> Any:
        """At the session start (not before, R17): publish the secret, unseal who was drawn."""
        draw = draw_answers.reveal_draw(actor=request.auth, draw=_draw(request, draw_id))  # type: ignore[attr-defined]
        return draw_selectors.draw_summary(_reload(draw))

    @router.get(
        "/draws/{draw_id}/verify", response={200: DrawVerifyOut, **ERRORS}, tags=["expert draws"]
    )
    def verify(request: HttpRequest, draw_id: str) -> Any:
        """Recompute the draw from the ledger and the sealed inputs (auditor, regulator,
        inspector); an auditor also sees who was examined and why skipped, once revealed."""
        actor = request.auth  # type: ignore[attr-defined]
        draw = _draw(request, draw_id)
        require(actor, "experts.draw_verify")
        return draw_verify.verify_draw(draw, identities=allowed(actor, "experts.draw_unseal"))

    @router.get(
        "/invitations", response={200: list[InvitationOut], **ERRORS}, tags=["expert draws"]
    )
    def my_invitations(request: HttpRequest) -> Any:
        """The caller's own invitations (an expert's workspace)."""
        actor = request.auth  # type: ignore[attr-defined]
        require(actor, "experts.answer")
        return [draw_selectors.invitation_out(r) for r in draw_selectors.my_invitations(actor)]

    @router.post(
        "/invitations/{invitation_id}/confirm",
        response={200: InvitationOut, **ERRORS},
        tags=["expert draws"],
    )
    def confirm(request: HttpRequest, invitation_id: str) -> Any:
        actor = request.auth  # type: ignore[attr-defined]
        require(actor, "experts.answer")
        row = draw_selectors.get_invitation_for(actor, invitation_id)
        row = draw_answers.answer_invitation(actor=actor, invitation=row, accept=True)
        return draw_selectors.invitation_out(
            draw_selectors.get_invitation_for(actor, row.public_id)
        )

    @router.post(
        "/invitations/{invitation_id}/decline",
        response={200: InvitationOut, **ERRORS},
        tags=["expert draws"],
    )
    def decline(request: HttpRequest, invitation_id: str, payload: DeclineIn) -> Any:
        """Decline with a reason; the next backup of the quota is called at once."""
        actor = request.auth  # type: ignore[attr-defined]
        require(actor, "experts.answer")
        row = draw_selectors.get_invitation_for(actor, invitation_id)
        row = draw_answers.answer_invitation(
            actor=actor, invitation=row, accept=False, reason=payload.reason
        )
        return draw_selectors.invitation_out(
            draw_selectors.get_invitation_for(actor, row.public_id)
        )
