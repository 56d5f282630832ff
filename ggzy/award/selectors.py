"""Result reads, with the access check built in.

What is public: the candidates' publicity from its start (before that, not even its stage),
the award notice with its signature, and a contract once it is published. Under government
procurement the public list of candidates carries no scores (R61, 87号令69: a losing supplier
is told only its own score and rank). The tenderer's and its agent's members and the center and
supervision (``award.view``) see everything of a section's result, including the objections and
the obligations. A bidder sees its own objections and — R61 — its own score and rank, never
another bidder's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from ggzy.accounts.gate import allowed, holds_role_permission, is_authenticated
from ggzy.award import notice, tracker
from ggzy.award.models import AwardNotice, Candidate, Contract, Objection, Obligation, Publicity
from ggzy.award.rules import AwardScope
from ggzy.award.states import ObjectionStatus, Regime, Stage, stage
from ggzy.bidding.models import Deposit
from ggzy.bidding.states import DepositStatus
from ggzy.core import clock
from ggzy.core.errors import NotFound
from ggzy.core.money import yuan
from ggzy.evaluation.models import EvaluationSession
from ggzy.evaluation.selectors import report_data
from ggzy.evaluation.states import SessionStatus
from ggzy.registry.models import Membership
from ggzy.tendering import selectors as tendering
from ggzy.tendering.models import Section

CLI = "system:cli"
MAX_CANDIDATES = 3  # R24 (条例53)


def _money(value: Any) -> Decimal | None:
    return None if value in (None, "") else yuan(str(value))


def ranked_candidates(session: EvaluationSession) -> list[dict[str, Any]]:
    """The first (at most three, R24) candidates of the signed report, in its order, with the
    bid and bidder behind each label."""
    data = report_data(session) or {}
    rows = {b["bid_id"]: b for b in data.get("bids", [])}
    labels = [c for c in data.get("candidates", []) if rows.get(c, {}).get("valid")]
    bids = {b.label: b for b in session.bids.select_related("bid", "entity")}
    out = []
    for rank, label in enumerate(labels[:MAX_CANDIDATES], start=1):
        row, bid = rows[label], bids[label]
        price = _money(row.get("corrected_price")) or _money(row.get("price")) or bid.price
        out.append({
            "rank": rank, "label": label, "bid": bid.bid, "entity": bid.entity,
            "price": price, "evaluated_price": _money(row.get("evaluated_price")),
            "total": _money(row.get("total")),
        })  # fmt: skip
    return out


def report_candidates(section: Section) -> list[dict[str, Any]]:
    """What publishing would show: the signed report's candidates (empty before it is signed)."""
    session = EvaluationSession.objects.filter(section=section, status=SessionStatus.SIGNED).first()
    return ranked_candidates(session) if session is not None else []


def get_section(actor: Any, public_id: str) -> Section:
    """A section of a project the actor may see (``section_not_found`` otherwise)."""
    section = tendering.get_section(actor, public_id)
    return Section.objects.select_related("project__ruleset", "project__tenderer").get(
        pk=section.pk
    )


def can_manage(actor: Any, section: Section) -> bool:
    return allowed(actor, "award.manage", AwardScope(section))


def can_view_all(actor: Any, section: Section | None = None) -> bool:
    """The center, supervision, and the section's tenderer side."""
    if actor == CLI:
        return True
    if section is None:
        return holds_role_permission(actor, "award.view")
    return allowed(actor, "award.view", AwardScope(section))


def _member_entities(actor: Any) -> list[int]:
    if not is_authenticated(actor):
        return []
    return list(Membership.objects.filter(user_id=actor.pk).values_list("entity_id", flat=True))


def publicity_of(section: Section) -> Publicity | None:
    return Publicity.objects.select_related("session").filter(section=section).first()


def visible_publicity(actor: Any, section: Section) -> Publicity:
    """The publicity, public from its start; before that, for the tenderer side and staff."""
    publicity = publicity_of(section)
    if publicity is None or (
        clock.now() < publicity.starts_at and not can_view_all(actor, section)
    ):
        raise NotFound("尚未公示中标候选人 (no publicity)", code="publicity_not_found")
    return publicity


def candidates(publicity: Publicity) -> list[Candidate]:
    return list(publicity.candidates.select_related("entity", "bid").order_by("rank"))


def objections_for(actor: Any, publicity: Publicity) -> list[Objection]:
    qs = publicity.objections.select_related("entity")
    if can_view_all(actor, publicity.section):
        return list(qs)
    return list(qs.filter(entity_id__in=_member_entities(actor)))


def get_objection_for(actor: Any, public_id: str) -> Objection:
    row = (
        Objection.objects.select_related("publicity__section__project", "entity")
        .filter(public_id=str(public_id)[:32])
        .first()
    )
    if row is None or not (
        can_view_all(actor, row.publicity.section) or row.entity_id in _member_entities(actor)
    ):
        raise NotFound("异议不存在 (no such objection)", code="objection_not_found")
    return row


def award_of(section: Section) -> AwardNotice | None:
    return (
        AwardNotice.objects.select_related("entity", "winner", "publicity")
        .filter(section=section)
        .first()
    )


def public_award(section: Section) -> AwardNotice:
    award = award_of(section)
    if award is None:
        raise NotFound("尚未发出中标通知书 (no award notice)", code="award_not_found")
    return award


def award_verified(award: AwardNotice) -> bool:
    return notice.verify(award)


def contract_of(section: Section) -> Contract | None:
    return Contract.objects.select_related("award").filter(award__section=section).first()


def visible_contract(actor: Any, section: Section) -> Contract:
    """Public once published; before that, for the tenderer side and staff."""
    contract = contract_of(section)
    if contract is None or (contract.published_at is None and not can_view_all(actor, section)):
        raise NotFound("合同不存在或尚未公告 (no published contract)", code="contract_not_found")
    return contract


def get_obligation_for(actor: Any, obligation_id: int) -> Obligation:
    row = (
        Obligation.objects.select_related("contract__award__section__project")
        .filter(pk=obligation_id)
        .first()
    )
    if row is None or not can_view_all(actor, row.contract.award.section):
        raise NotFound("该款项不存在 (no such obligation)", code="obligation_not_found")
    return row


def obligations_for(actor: Any, section: Section) -> dict[str, Any]:
    """三金一款 of the section's contract: the bid deposits (as ``bidding`` holds them) and the
    contract's own obligations. The tenderer side and staff only."""
    if not can_view_all(actor, section):
        raise NotFound("合同不存在 (no such contract)", code="contract_not_found")
    contract = contract_of(section)
    deposits = list(Deposit.objects.filter(section=section).select_related("entity"))
    rows = list(contract.obligations.all()) if contract else []
    return {"contract": contract, "deposits": deposits, "obligations": rows}


def _report_signed(section: Section) -> bool:
    return EvaluationSession.objects.filter(section=section, status=SessionStatus.SIGNED).exists()


def stage_of(section: Section) -> Stage:
    """The section's stage as it is (the tenderer side and staff see this one)."""
    publicity = publicity_of(section)
    award = award_of(section)
    open_count = (
        publicity.objections.filter(status=ObjectionStatus.OPEN).count() if publicity else 0
    )
    return stage(
        report_signed=publicity is not None or _report_signed(section),
        published=publicity is not None,
        starts_at=publicity.starts_at if publicity else None,
        ends_at=publicity.ends_at if publicity else None,
        open_objections=open_count,
        awarded=award is not None,
        contracted=award is not None and contract_of(section) is not None,
        now=clock.now(),
    )


def visible_stage(actor: Any, section: Section) -> Stage:
    """The stage as ``actor`` may see it: a publicity not yet started is nobody's business but
    the tenderer side's and staff's, so to everyone else the section still awaits it."""
    current = stage_of(section)
    if current == Stage.SCHEDULED and not can_view_all(actor, section):
        return Stage.AWAITING
    return current


def scores_public(actor: Any, publicity: Publicity) -> bool:
    """Whether ``actor`` sees every candidate's total and evaluated price: always under works
    tendering (the publicity shows them); under government procurement only the tenderer side
    and staff — a bidder reads its own through :func:`my_results` (R61)."""
    if publicity.regime != Regime.PROCUREMENT.value:
        return True
    return can_view_all(actor, publicity.section)


def my_results(actor: Any, section: Section) -> list[dict[str, Any]]:
    """R61 (87号令69): each bidder's own score and rank — the entities the actor acts for that
    bid on the section — once the publicity has started. Nothing about any other bidder."""
    publicity = publicity_of(section)
    entities = _member_entities(actor)
    if publicity is None or clock.now() < publicity.starts_at or not entities:
        raise NotFound("暂无您的评审结果 (no result of yours)", code="result_not_found")
    session = publicity.session
    data = report_data(session) or {}
    rows = {b["bid_id"]: b for b in data.get("bids", [])}
    ranks = {c.entity_id: c.rank for c in publicity.candidates.all()}
    award = award_of(section)
    out = []
    for bid in session.bids.filter(entity_id__in=entities).select_related("entity"):
        row = rows.get(bid.label, {})
        out.append({
            "entity": bid.entity.name, "uscc": bid.entity.uscc, "label": bid.label,
            "valid": bool(row.get("valid", bid.valid)),
            "invalid_reason": row.get("invalid_reason") or bid.invalid_reason or None,
            "rank": row.get("rank"), "of": sum(1 for r in rows.values() if r.get("valid")),
            "total": row.get("total"), "price": row.get("price"),
            "evaluated_price": row.get("evaluated_price"),
            "price_points": row.get("price_points"),
            "candidate_rank": ranks.get(bid.entity_id),
            "won": award is not None and award.entity_id == bid.entity_id,
            "awarded": award is not None,
        })  # fmt: skip
    if not out:
        raise NotFound("暂无您的评审结果 (no result of yours)", code="result_not_found")
    return out


# --- the center's list and the warnings ---------------------------------------------------------


def _own_projects(actor: Any) -> Q:
    entities = _member_entities(actor)
    return Q(section__project__tenderer_id__in=entities) | Q(
        section__project__agent_id__in=entities,
        section__project__agency_confirmed_at__isnull=False,
    )


def _scoped_publicities(actor: Any) -> QuerySet[Publicity]:
    qs = Publicity.objects.select_related(
        "section__project__ruleset", "award__entity", "award__contract"
    ).prefetch_related(
        Prefetch("objections", queryset=Objection.objects.select_related("entity")),
        "award__contract__obligations",
    )
    if can_view_all(actor):
        return qs
    return qs.filter(_own_projects(actor))


def _awaiting(actor: Any) -> QuerySet[EvaluationSession]:
    qs = EvaluationSession.objects.filter(
        status=SessionStatus.SIGNED, publicity__isnull=True
    ).select_related("section__project__ruleset")
    if can_view_all(actor):
        return qs
    return qs.filter(_own_projects(actor))


def warnings(
    actor: Any, *, today: date | None = None, before: int | None = None, after: int | None = None
) -> list[tracker.Warning]:
    """Every warning for the center and supervision; the own projects' for a tenderer side."""
    default_before, default_after = tracker.window()
    publicities = list(_scoped_publicities(actor))
    deposits = Deposit.objects.filter(
        section_id__in=[p.section_id for p in publicities], status=DepositStatus.REFUND_DUE
    ).select_related("section__project__ruleset", "entity")
    return tracker.collect(
        awaiting=list(_awaiting(actor)),
        publicities=publicities,
        deposits=list(deposits),
        today=today or clock.today(),
        before=default_before if before is None else before,
        after=default_after if after is None else after,
    )


def overview(actor: Any) -> list[dict[str, Any]]:
    """The results the actor may follow: first the sections whose signed report awaits its
    publicity, then the published ones, newest first, with their stage and winner."""
    now = clock.now()
    rows: list[dict[str, Any]] = [
        {"publicity": None, "section": s.section, "award": None, "contract": None,
         "stage": Stage.AWAITING}
        for s in _awaiting(actor).order_by("-signed_at")[:200]
    ]  # fmt: skip
    for p in _scoped_publicities(actor).order_by("-published_at")[:200]:
        award = tracker.award_of(p)
        contract = tracker.contract_of(award)
        rows.append({
            "publicity": p, "section": p.section, "award": award, "contract": contract,
            "stage": stage(report_signed=True, published=True, starts_at=p.starts_at,
                           ends_at=p.ends_at,
                           open_objections=sum(o.status == ObjectionStatus.OPEN
                                               for o in p.objections.all()),
                           awarded=award is not None, contracted=contract is not None, now=now),
        })  # fmt: skip
    return rows


def public_overview() -> list[dict[str, Any]]:
    """Results whose publicity has started, newest first (what anyone may see)."""
    now = clock.now()
    rows = []
    qs = (
        Publicity.objects.filter(starts_at__lte=now)
        .select_related("section__project", "award__entity", "award__contract")
        .prefetch_related("objections")
        .order_by("-starts_at")[:200]
    )
    for p in qs:
        award = tracker.award_of(p)
        contract = tracker.contract_of(award)
        rows.append({
            "publicity": p, "section": p.section, "award": award,
            "contract": contract if contract and contract.published_at else None,
            "stage": stage(report_signed=True, published=True, starts_at=p.starts_at,
                           ends_at=p.ends_at,
                           open_objections=sum(o.status == ObjectionStatus.OPEN
                                               for o in p.objections.all()),
                           awarded=award is not None, contracted=contract is not None, now=now),
        })  # fmt: skip
    return rows
