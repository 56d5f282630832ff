"""Result API (``/api/v1/award``): the candidates' publicity, objections and their answers, the
award notice (signed by the platform), each bidder's own score and rank (R61), the contract, its
publication and filing, the obligations (三金一款) and the warnings. Thin: parse, call one
service or selector, render; every refusal is ``{"code", "message", "detail"}``.

The public reads (publicity, award notice, published contract, summary) take anonymous callers.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from ggzy.api import PUBLIC
from ggzy.award import selectors, services, services_contract
from ggzy.award.models import AwardNotice, Candidate, Contract, Objection, Obligation, Publicity
from ggzy.award.schemas import (
    AwardCandidateOut,
    AwardConfirmIn,
    AwardContractIn,
    AwardContractOut,
    AwardFilingIn,
    AwardMyResultOut,
    AwardNoticeOut,
    AwardNoticePrivateOut,
    AwardObjectionIn,
    AwardObjectionOut,
    AwardObligationIn,
    AwardObligationOut,
    AwardObligationsOut,
    AwardPublicityIn,
    AwardPublicityOut,
    AwardReplyIn,
    AwardSettleIn,
    AwardSummaryOut,
    AwardWarningOut,
    AwardWithdrawIn,
)
from ggzy.core.errors import NotFound
from ggzy.core.schemas import ErrorOut
from ggzy.registry.models import Entity
from ggzy.tendering.models import Section

router = Router(tags=["award"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 422)}


# --- rendering ----------------------------------------------------------------------------------


def _party(entity: Entity) -> dict[str, str]:
    return {"name": entity.name, "uscc": entity.uscc}


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def candidate_out(c: Candidate, *, scores: bool) -> dict[str, Any]:
    """A candidate; its total and evaluated price only when ``scores`` (R61 under government
    procurement: not to the public)."""
    return {"rank": c.rank, "label": c.label, "bidder": _party(c.entity), "price": str(c.price),
            "evaluated_price": _money(c.evaluated_price) if scores else None,
            "total": _money(c.total) if scores else None,
            "withdrawn": c.withdrawn_at is not None,
            "withdrawal_ground": c.withdrawal_ground or None}  # fmt: skip


def publicity_out(actor: Any, p: Publicity) -> dict[str, Any]:
    scores = selectors.scores_public(actor, p)
    return {
        "public_id": p.public_id, "section": p.section.public_id, "regime": p.regime,
        "stage": selectors.visible_stage(actor, p.section).value,
        "report_sha256": p.report_sha256, "report_signed_at": p.report_signed_at,
        "starts_at": p.starts_at, "ends_at": p.ends_at, "late": p.late,
        "published_at": p.published_at,
        "candidates": [candidate_out(c, scores=scores) for c in selectors.candidates(p)],
    }  # fmt: skip


def objection_out(o: Objection) -> dict[str, Any]:
    return {"public_id": o.public_id, "bidder": _party(o.entity), "reason": o.reason,
            "raised_at": o.raised_at, "reply_due": o.reply_due, "status": o.status,
            "reply": o.reply, "replied_at": o.replied_at, "late": o.late}  # fmt: skip


def award_out(a: AwardNotice) -> dict[str, Any]:
    return {
        "public_id": a.public_id, "section": a.section.public_id, "winner": _party(a.entity),
        "rank": a.winner.rank, "amount": str(a.amount), "reason": a.reason,
        "issued_at": a.issued_at, "record": a.record, "record_sha256": a.record_sha256,
        "signature": a.signature, "key_id": a.key_id, "record_seq": a.record_seq,
        "verified": selectors.award_verified(a), "validity_warning": a.validity_warning,
        "deemed": a.deemed,
    }  # fmt: skip


def award_private_out(a: AwardNotice) -> dict[str, Any]:
    return {**award_out(a), "report_filed_at": a.report_filed_at,
            "report_reference": a.report_reference}  # fmt: skip


def contract_out(c: Contract) -> dict[str, Any]:
    return {
        "public_id": c.public_id, "section": c.award.section.public_id,
        "winner": _party(c.award.entity), "amount": str(c.amount), "signed_on": c.signed_on,
        "deadline": c.deadline, "late": c.late, "security_amount": str(c.security_amount),
        "security_form": c.security_form, "publication_due": c.publication_due,
        "published_at": c.published_at, "filing_due": c.filing_due, "filed_at": c.filed_at,
        "filing_reference": c.filing_reference,
    }  # fmt: skip


def obligation_out(o: Obligation) -> dict[str, Any]:
    return {"id": o.pk, "kind": o.kind, "name": o.name, "amount": str(o.amount),
            "due_on": o.due_on, "refund_due_on": o.refund_due_on, "status": o.status,
            "paid_on": o.paid_on, "refunded_on": o.refunded_on, "reference": o.reference}  # fmt: skip


def deposit_out(d: Any) -> dict[str, Any]:
    """A bid deposit as an obligation of the tracker (its state is ``bidding``'s)."""
    status = {"refund_due": "due", "refunded": "refunded"}.get(d.status, "paid")
    return {"id": None, "kind": "bid_deposit", "name": f"投标保证金 {d.entity.name}",
            "amount": str(d.amount), "due_on": None, "refund_due_on": d.refund_due,
            "status": status, "paid_on": d.paid_at.date() if d.paid_at else None,
            "refunded_on": d.refunded_at.date() if d.refunded_at else None,
            "reference": d.refund_reference}  # fmt: skip


def _actor(request: HttpRequest) -> Any:
    return request.user


def _section(request: HttpRequest, section_id: str) -> Section:
    return selectors.get_section(_actor(request), section_id)


def _contract(request: HttpRequest, section: Section) -> Contract:
    contract = selectors.contract_of(section)
    if contract is None or not selectors.can_view_all(_actor(request), section):
        raise NotFound("合同不存在 (no such contract)", code="contract_not_found")
    return contract


# --- the publicity and objections ---------------------------------------------------------------


@router.get("/sections/{section_id}", response={200: AwardSummaryOut, 404: ErrorOut}, auth=PUBLIC)
def summary(request: HttpRequest, section_id: str) -> Any:
    """What of the section's result is public (or, for the tenderer side and staff, all)."""
    actor, section = _actor(request), _section(request, section_id)
    stage = selectors.visible_stage(actor, section).value
    out: dict[str, Any] = {"section": section.public_id, "stage": stage, "publicity": None,
                           "award": None, "contract": None}  # fmt: skip
    with contextlib.suppress(NotFound):  # each part only once the one before it exists
        out["publicity"] = publicity_out(actor, selectors.visible_publicity(actor, section))
        out["award"] = award_out(selectors.public_award(section))
        out["contract"] = contract_out(selectors.visible_contract(actor, section))
    return out


@router.post("/sections/{section_id}/candidates", response={201: AwardPublicityOut, **ERRORS})
def publish_candidates(request: HttpRequest, section_id: str, payload: AwardPublicityIn) -> Any:
    """The tenderer publishes the report's candidates (R24/R25)."""
    publicity = services.publish_candidates(
        actor=_actor(request), section=_section(request, section_id), ends_at=payload.ends_at,
        starts_at=payload.starts_at,
    )  # fmt: skip
    return Status(201, publicity_out(_actor(request), publicity))


@router.get("/sections/{section_id}/candidates", response={200: AwardPublicityOut, **ERRORS},
            auth=PUBLIC)  # fmt: skip
def get_candidates(request: HttpRequest, section_id: str) -> Any:
    section = _section(request, section_id)
    actor = _actor(request)
    return publicity_out(actor, selectors.visible_publicity(actor, section))


@router.post("/sections/{section_id}/objections", response={201: AwardObjectionOut, **ERRORS})
def raise_objection(request: HttpRequest, section_id: str, payload: AwardObjectionIn) -> Any:
    actor = _actor(request)
    publicity = selectors.visible_publicity(actor, _section(request, section_id))
    entity = Entity.objects.filter(uscc=payload.entity.upper()).first()
    if entity is None:
        raise NotFound("主体不存在 (no such entity)", code="entity_not_found",
                       detail={"field": "entity"})  # fmt: skip
    row = services.raise_objection(actor=actor, publicity=publicity, entity=entity,
                                   reason=payload.reason)  # fmt: skip
    return Status(201, objection_out(row))


@router.get("/sections/{section_id}/objections", response={200: list[AwardObjectionOut], **ERRORS})
def list_objections(request: HttpRequest, section_id: str) -> Any:
    """All objections for the tenderer side and staff; a bidder sees its own."""
    actor = _actor(request)
    publicity = selectors.visible_publicity(actor, _section(request, section_id))
    return [objection_out(o) for o in selectors.objections_for(actor, publicity)]


@router.post("/objections/{award_objection_id}/reply", response={200: AwardObjectionOut, **ERRORS})
def answer_objection(request: HttpRequest, award_objection_id: str, payload: AwardReplyIn) -> Any:
    actor = _actor(request)
    row = selectors.get_objection_for(actor, award_objection_id)
    return objection_out(services.answer_objection(actor=actor, objection=row,
                                                   reply=payload.reply))  # fmt: skip


# --- the award notice and each bidder's result ----------------------------------------------------


@router.post("/sections/{section_id}/award", response={201: AwardNoticeOut, **ERRORS})
def issue_award(request: HttpRequest, section_id: str, payload: AwardConfirmIn) -> Any:
    """The tenderer confirms the winner; the platform signs the award notice."""
    notice = services.issue_award(actor=_actor(request), section=_section(request, section_id),
                                  rank=payload.rank, reason=payload.reason)  # fmt: skip
    return Status(201, award_out(notice))


@router.post("/sections/{section_id}/candidates/{rank}/withdraw",
             response={200: AwardCandidateOut, **ERRORS})  # fmt: skip
def withdraw_candidate(
    request: HttpRequest, section_id: str, rank: int, payload: AwardWithdrawIn
) -> Any:
    """条例55: a candidate drops out before the award (the tenderer records the ground)."""
    candidate = services.withdraw_candidate(
        actor=_actor(request), section=_section(request, section_id), rank=rank,
        ground=payload.ground, reason=payload.reason,
    )  # fmt: skip
    return candidate_out(candidate, scores=False)


@router.post("/sections/{section_id}/award/report", response={200: AwardNoticePrivateOut, **ERRORS})
def file_award_report(request: HttpRequest, section_id: str, payload: AwardFilingIn) -> Any:
    """R28: the tenderer's written report to the supervisor, within 15 days of the award."""
    notice = services.file_award_report(actor=_actor(request),
                                        section=_section(request, section_id),
                                        reference=payload.reference)  # fmt: skip
    return award_private_out(notice)


@router.get("/sections/{section_id}/award", response={200: AwardNoticeOut, **ERRORS}, auth=PUBLIC)
def get_award(request: HttpRequest, section_id: str) -> Any:
    return award_out(selectors.public_award(_section(request, section_id)))


@router.get("/sections/{section_id}/my-result", response={200: list[AwardMyResultOut], **ERRORS})
def my_result(request: HttpRequest, section_id: str) -> Any:
    """R61: the caller's own entities' scores and ranks, nobody else's."""
    return selectors.my_results(_actor(request), _section(request, section_id))


# --- the contract and its obligations -----------------------------------------------------------


@router.post("/sections/{section_id}/contract", response={201: AwardContractOut, **ERRORS})
def record_contract(request: HttpRequest, section_id: str, payload: AwardContractIn) -> Any:
    contract = services_contract.record_contract(
        actor=_actor(request), section=_section(request, section_id), amount=payload.amount,
        signed_on=payload.signed_on, security_amount=payload.security_amount,
        security_form=payload.security_form,
    )  # fmt: skip
    return Status(201, contract_out(contract))


@router.get("/sections/{section_id}/contract", response={200: AwardContractOut, **ERRORS},
            auth=PUBLIC)  # fmt: skip
def get_contract(request: HttpRequest, section_id: str) -> Any:
    return contract_out(selectors.visible_contract(_actor(request), _section(request, section_id)))


@router.post("/sections/{section_id}/contract/publish", response={200: AwardContractOut, **ERRORS})
def publish_contract(request: HttpRequest, section_id: str) -> Any:
    section = _section(request, section_id)
    contract = _contract(request, section)
    return contract_out(
        services_contract.publish_contract(actor=_actor(request), contract=contract)
    )


@router.post("/sections/{section_id}/contract/filing", response={200: AwardContractOut, **ERRORS})
def file_contract(request: HttpRequest, section_id: str, payload: AwardFilingIn) -> Any:
    section = _section(request, section_id)
    contract = _contract(request, section)
    return contract_out(services_contract.file_contract(actor=_actor(request), contract=contract,
                                                        reference=payload.reference))  # fmt: skip


@router.get("/sections/{section_id}/obligations", response={200: AwardObligationsOut, **ERRORS})
def list_obligations(request: HttpRequest, section_id: str) -> Any:
    """三金一款: the bid deposits and the contract's obligations (tenderer side and staff)."""
    data = selectors.obligations_for(_actor(request), _section(request, section_id))
    rows = [deposit_out(d) for d in data["deposits"]]
    rows += [obligation_out(o) for o in data["obligations"]]
    contract = data["contract"]
    return {"contract": contract.public_id if contract else None, "obligations": rows}


@router.post("/sections/{section_id}/obligations", response={201: AwardObligationOut, **ERRORS})
def add_obligation(request: HttpRequest, section_id: str, payload: AwardObligationIn) -> Any:
    section = _section(request, section_id)
    row = services_contract.add_obligation(
        actor=_actor(request), contract=_contract(request, section), kind=payload.kind,
        name=payload.name, amount=payload.amount, due_on=payload.due_on,
        refund_due_on=payload.refund_due_on,
    )  # fmt: skip
    return Status(201, obligation_out(row))


@router.post("/obligations/{obligation_id}/settle", response={200: AwardObligationOut, **ERRORS})
def settle_obligation(request: HttpRequest, obligation_id: int, payload: AwardSettleIn) -> Any:
    actor = _actor(request)
    if not 0 < obligation_id < 2**62:
        raise NotFound("该款项不存在 (no such obligation)", code="obligation_not_found")
    row = selectors.get_obligation_for(actor, obligation_id)
    return obligation_out(services_contract.settle_obligation(
        actor=actor, obligation=row, status=payload.status, on=payload.on,
        reference=payload.reference,
    ))  # fmt: skip


@router.get("/warnings", response={200: list[AwardWarningOut], **ERRORS})
def list_warnings(
    request: HttpRequest,
    before: int | None = Query(None, ge=0, le=365),
    after: int | None = Query(None, ge=0, le=365),
) -> Any:
    """Due dates coming or passed: every section's for the center and supervision, the own
    projects' for a tenderer side."""
    return [w.as_dict() for w in selectors.warnings(_actor(request), before=before, after=after)]
