"""Invited tender (邀请招标, 招标投标法第17条): the tenderer, or its confirmed agent, invites at
least three specific, active, registered bidders; only they may bid.

**Secrecy (R42).** The names and the number of potential bidders are not disclosed before the
deadline. An invitation's ledger event is therefore on its own subject (``invitation:<id>``,
not the project's, so the project's public timeline and ledger feed do not count them), under a
keyed pseudonym of the actor with no client address (as bids and objections are), and its
payload — shown to staff and supervisors only — carries a random salt, so its public digest
cannot be matched against guessed (project, USCC) pairs. The acting user is kept on the row and
in the payload.

An invitation is final: an invitation letter once sent binds the tenderer, so there is no
withdrawal (a project still in draft that named the wrong bidders is re-registered).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from ggzy.accounts.gate import allowed, require
from ggzy.bidding.register import seal, sealed_actor
from ggzy.core import clock
from ggzy.core.errors import Conflict, PermissionDenied, ValidationFailed
from ggzy.core.identifiers import IdentifierError, validate_uscc
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Entity
from ggzy.tendering.models import Invitation, Project
from ggzy.tendering.states import ProjectStatus

INVITED_TENDER = "invited_tender"
MIN_INVITEES = 3  # 招标投标法第17条: 三个以上; a ruleset may say more (``min_invitees``)
MAX_PER_CALL = 50


def minimum(project: Project) -> int:
    return max(MIN_INVITEES, int(project.ruleset.rules.get("min_invitees", MIN_INVITEES)))


def _acts_for(actor: Any, project: Project) -> None:
    """Members of the tenderer, or of an agent the tenderer has confirmed (委托)."""
    require(actor, "tendering.edit", project)
    if allowed(actor, "entity.act", project.tenderer):
        return
    if project.agent_id is not None and project.agency_confirmed_at is None:
        raise Conflict("招标人尚未确认委托代理 (the tenderer has not confirmed the agent)",
                       code="agency_unconfirmed")  # fmt: skip


def _refused(message: str, code: str, uscc: str, *, conflict: bool = False) -> Exception:
    kind = Conflict if conflict else ValidationFailed
    return kind(message, code=code, detail={"uscc": uscc})


def _invitees(project: Project, usccs: Sequence[str]) -> list[Entity]:
    """The entities named, each a distinct, active, registered bidder other than the project's
    tenderer and agent — or the first refusal."""
    codes: list[str] = []
    for value in usccs:
        try:
            code = validate_uscc(str(value))
        except IdentifierError:
            raise _refused("统一社会信用代码无效 (not a valid USCC)", "unknown_invitee",
                           str(value)[:18]) from None  # fmt: skip
        if code in codes:
            raise _refused("受邀投标人重复 (named twice)", "duplicate_invitee", code)
        codes.append(code)
    found = {e.uscc: e for e in Entity.objects.filter(uscc__in=codes)}
    entities = []
    for code in codes:
        entity = found.get(code)
        if entity is None:
            raise _refused("该主体未在平台注册 (no such registered entity)", "unknown_invitee",
                           code)  # fmt: skip
        if not entity.is_bidder:
            raise _refused("该主体未登记为投标人 (not a registered bidder)",
                           "invitee_not_a_bidder", code)  # fmt: skip
        if entity.status != "active":
            raise _refused("该主体已暂停 (entity suspended)", "invitee_suspended", code,
                           conflict=True)  # fmt: skip
        if entity.pk in {project.tenderer_id, project.agent_id}:
            raise _refused("招标人及其代理机构不得受邀投标 (the tenderer or its agent itself)",
                           "invitee_is_tenderer", code)  # fmt: skip
        entities.append(entity)
    return entities


def _still_open(project: Project) -> bool:
    """Before publication; after it, while a section still takes bids."""
    if project.status != ProjectStatus.PUBLISHED:
        return True
    now = clock.now()
    return any(
        s.bid_deadline is not None and now < s.bid_deadline and s.failed_at is None
        for s in project.sections.all()
    )


def invite_bidders(*, actor: Any, project: Project, usccs: Sequence[str]) -> list[Invitation]:
    """Invite the bidders named by USCC to an invited tender. After this call the project has
    at least three invitees (法17); more may be added later, until the bid deadline. One ledger
    event per invitation (``tendering.bidder_invited``), in the same transaction."""
    from ggzy.tendering.services import _locked

    _acts_for(actor, project)
    with transaction.atomic():
        project = _locked(project)
        if project.procedure_id != INVITED_TENDER:
            raise Conflict("仅邀请招标项目可发出投标邀请 (not an invited tender)",
                           code="not_invited_tender",
                           detail={"procedure": project.procedure_id})  # fmt: skip
        if not _still_open(project):
            raise Conflict("投标已截止，不能再邀请 (deadline passed)", code="deadline_passed")
        if not usccs or len(usccs) > MAX_PER_CALL:
            raise ValidationFailed(f"每次邀请1–{MAX_PER_CALL}家 (1–50 per call)",
                                   code="too_few_invitees" if not usccs else "too_many_invitees",
                                   detail={"minimum": minimum(project)})  # fmt: skip
        entities = _invitees(project, usccs)
        already = set(project.invitations.values_list("entity_id", flat=True))
        for entity in entities:
            if entity.pk in already:
                raise _refused("该主体已受邀 (already invited)", "duplicate_invitee", entity.uscc)
        total, least = len(already) + len(entities), minimum(project)
        if total < least:
            raise ValidationFailed(
                f"邀请招标应向{least}个以上投标人发出投标邀请书（招标投标法第17条）"
                "(at least three invitees)",
                code="too_few_invitees",
                detail={"minimum": least, "invited": len(already), "named": len(entities)},
            )
        now = clock.now()
        made = []
        for entity in entities:
            invitation = Invitation.objects.create(
                project=project, public_id=secrets.token_hex(16), entity=entity,
                invited_by=actor, invited_at=now,
            )  # fmt: skip
            subject = f"invitation:{invitation.public_id}"
            append_event(
                actor=sealed_actor(actor, subject),
                addr="",  # who invites whom is not public before the deadline (R42)
                event_type="tendering.bidder_invited",
                subject=subject,
                payload={"project": project.public_id, "entity": entity.uscc,
                         "by": actor.username, "salt": secrets.token_hex(16)},
            )  # fmt: skip
            made.append(invitation)
    return made


def require_enough_invitations(project: Project) -> None:
    """Publishing an invited tender needs its invitations first (法17); called by
    ``services.publish_project`` under the project's lock."""
    if project.procedure_id != INVITED_TENDER:
        return
    invited, least = project.invitations.count(), minimum(project)
    if invited < least:
        raise Conflict(
            f"邀请招标须先向{least}个以上投标人发出投标邀请书 (invite at least three bidders first)",
            code="too_few_invitations",
            detail={"minimum": least, "invited": invited},
        )


def is_invited(project: Project, entity: Entity) -> bool:
    return project.invitations.filter(entity=entity).exists()


def require_invited(actor: Any, project: Project, entity: Entity, *, subject: str) -> None:
    """An invited tender is closed to everyone the tenderer did not invite: bids, deposits and
    objections to the documents alike (招标投标法17). The refusal is recorded as the bid
    refusals are before the deadline: under a sealed actor, naming no entity — who tries to take
    part is as secret as who does (R42) — with the user and entity sealed for the opening."""
    if project.procedure_id != INVITED_TENDER or is_invited(project, entity):
        return
    record_refusal(
        actor=sealed_actor(actor, f"refusal:{secrets.token_hex(8)}"),
        event_type="tendering.not_invited_refused", subject=subject, reason="not_invited",
        sealed=seal("refusal", "invitations",
                    {"user": getattr(actor, "pk", None), "uscc": entity.uscc}),
    )  # fmt: skip
    raise PermissionDenied("邀请招标仅限受邀投标人 (invited tender: not invited)",
                           code="not_invited")  # fmt: skip
