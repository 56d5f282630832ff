"""Expert-pool writes: applications and their approval (R20), staff entry, status changes
(suspend, reinstate, retire — and the rating policy's suspensions), profile changes, the
availability calendar and declared conflicts (ratings: ``ggzy.experts.ratings``). Each write
checks the actor's right through the access gate and the status against the transition table,
writes in one transaction and appends one ledger event on ``expert:<public_id>``. Ledger
payloads name no person: no name, ID number or phone."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from ggzy.accounts.gate import allowed, require
from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ggzy.experts import checks
from ggzy.experts.checks import ExpertData
from ggzy.experts.models import (
    DeclaredConflict,
    Expert,
    ExpertSpecialty,
    ExpertStatusChange,
    Specialty,
    Unavailability,
)
from ggzy.experts.states import APPLICANT_EDITABLE, ExpertStatus, can_move
from ggzy.ledger.context import actor_ref
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Entity

PROFILE_FIELDS = (
    "name",
    "phone",
    "email",
    "title_level",
    "title_name",
    "senior_equivalent",
    "years_in_field",
    "employer",
    "region",
)
MAX_UNAVAILABLE_DAYS = 366


def _event(actor: Any, expert: Expert, event_type: str, payload: dict[str, Any]) -> None:
    append_event(
        actor=actor, event_type=event_type, subject=f"expert:{expert.public_id}", payload=payload
    )


def _summary(expert: Expert, chosen: list[Specialty]) -> dict[str, Any]:
    """What the ledger says about an expert's record: nothing that names the person."""
    return {
        "status": expert.status,
        "specialties": [s.code for s in chosen],
        "region": expert.region_id,
        "title_level": expert.title_level,
        "years_in_field": expert.years_in_field,
    }


def _reason(reason: str) -> str:
    out = (reason or "").strip()
    if not out:
        raise ValidationFailed("请填写原因 (reason required)", code="reason_required",
                               detail={"field": "reason"})  # fmt: skip
    if len(out) > 500:
        raise ValidationFailed("原因过长 (too long)", code="too_long", detail={"field": "reason"})
    return out


def _locked(expert: Expert) -> Expert:
    return Expert.objects.select_for_update().get(pk=expert.pk)


def _own_record(actor: Any, subject: str) -> PermissionDenied:
    """Staff acting on their own record: refused, and the attempt recorded for supervision."""
    record_refusal(actor=actor, event_type="experts.own_record_refused", subject=subject,
                   reason="own_record")  # fmt: skip
    return PermissionDenied("不能办理本人的专家记录 (not on your own record)", code="own_record")


def _manage(actor: Any, expert: Expert) -> None:
    """Center staff keep the pool, but never decide on their own record."""
    require(actor, "experts.manage")
    if expert.user_id is not None and expert.user_id == getattr(actor, "pk", None):
        raise _own_record(actor, f"expert:{expert.public_id}")


def _write_specialties(expert: Expert, chosen: list[Specialty]) -> None:
    expert.specialty_rows.all().delete()
    ExpertSpecialty.objects.bulk_create(
        [
            ExpertSpecialty(
                expert=expert,
                specialty=s,
                is_primary=n == 0,
                region_id=expert.region_id,
                status=expert.status,
                suspended_until=expert.suspended_until,
            )
            for n, s in enumerate(chosen)
        ]
    )


def _sync_draw_rows(expert: Expert) -> None:
    """The draw table's copies of the expert's region, status and suspension end."""
    expert.specialty_rows.update(
        region_id=expert.region_id, status=expert.status, suspended_until=expert.suspended_until
    )


def _history(expert: Expert, actor: Any, before: str, reason: str = "",
             until: date | None = None) -> None:  # fmt: skip
    ExpertStatusChange.objects.create(
        expert=expert,
        from_status=before,
        to_status=expert.status,
        reason=reason,
        until=until,
        actor=actor_ref(actor),
        changed_at=clock.now(),
    )


def _fill(expert: Expert, values: dict[str, Any]) -> None:
    for key in PROFILE_FIELDS:
        setattr(expert, key, values[key])
    expert.primary_specialty = values["specialties"][0]


def _taken(resident_id: str, *, exclude: int | None = None) -> None:
    qs = Expert.objects.filter(resident_id=resident_id)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise Conflict("该身份证号码的专家已在库中 (already in the pool)",
                       code="already_in_pool", detail={"field": "resident_id"})  # fmt: skip


# --- applications ------------------------------------------------------------------------------


def apply(*, actor: User, data: ExpertData) -> Expert:
    """An expert applies to join the pool (or changes, re-submits a pending or rejected
    application). The application waits for the center's approval."""
    require(actor, "experts.apply")
    values = checks.clean(data)
    if actor.resident_id and actor.resident_id != values["resident_id"]:
        raise ValidationFailed("身份证号码与账户实名信息不一致 (does not match the account)",
                               code="resident_id_mismatch", detail={"field": "resident_id"})  # fmt: skip
    now = clock.now()
    try:
        with transaction.atomic():
            expert = Expert.objects.select_for_update().filter(user=actor).first()
            if expert is not None and expert.status not in APPLICANT_EDITABLE:
                raise Conflict("您已在专家库中 (already in the pool)", code="already_in_pool")
            _taken(values["resident_id"], exclude=expert.pk if expert else None)
            before = expert.status if expert else ""
            if expert is None:
                expert = Expert(public_id=secrets.token_hex(16), user=actor)
            _fill(expert, values)
            expert.resident_id = values["resident_id"]
            expert.status, expert.status_reason = ExpertStatus.PENDING, ""
            expert.applied_at = expert.updated_at = now
            expert.version = (expert.version or 0) + (1 if before else 0)
            expert.save()
            _write_specialties(expert, values["specialties"])
            if before != ExpertStatus.PENDING:
                _history(expert, actor, before)
            _event(actor, expert, "experts.application_submitted",
                   _summary(expert, values["specialties"]))  # fmt: skip
    except IntegrityError as exc:
        raise Conflict("该身份证号码的专家已在库中 (already in the pool)",
                       code="already_in_pool", detail={"field": "resident_id"}) from exc  # fmt: skip
    return expert


def expert_account(username: str, *, actor: Any = None) -> User | None:
    """The expert account named (not linked to an expert yet, not the ``actor``'s own), or none
    for no name."""
    if not username:
        return None
    if "\x00" in username:
        raise ValidationFailed("含有空字符 (NUL character)", code="nul_character",
                               detail={"field": "username"})  # fmt: skip
    user = User.objects.filter(username=username, is_active=True, roles__role=Role.EXPERT).first()
    if user is not None and actor is not None and user.pk == getattr(actor, "pk", None):
        raise PermissionDenied("不能将本人录入专家库 (not your own record)", code="own_record",
                               detail={"field": "username"})  # fmt: skip
    if user is None:
        raise NotFound("用户不存在或不是评标专家账户 (no such expert account)",
                       code="user_not_found", detail={"field": "username"})  # fmt: skip
    if Expert.objects.filter(user=user).exists():
        raise Conflict("该账户已关联专家 (account already linked)", code="user_taken",
                       detail={"field": "username"})  # fmt: skip
    return user


def register_expert(
    *, actor: User, data: ExpertData, username: str = "", source: str = "staff",
    batch: str = "",
) -> Expert:  # fmt: skip
    """Center staff enter an expert directly into the pool (R20 checked), optionally linking
    the expert's account. The import calls it once per row, inside its own transaction."""
    require(actor, "experts.manage")
    if username and username == getattr(actor, "username", None):
        raise _own_record(actor, f"user:{actor.pk}")
    values = checks.clean(data)
    checks.eligible(values)
    user = expert_account(username, actor=actor)
    now = clock.now()
    try:
        with transaction.atomic():
            _taken(values["resident_id"])
            expert = Expert(
                public_id=secrets.token_hex(16),
                user=user,
                resident_id=values["resident_id"],
                status=ExpertStatus.ACTIVE,
                applied_at=now,
                approved_at=now,
                approved_by=actor_ref(actor),
                updated_at=now,
            )
            _fill(expert, values)
            expert.save()
            _write_specialties(expert, values["specialties"])
            _history(expert, actor, "", reason=source)
            payload = _summary(expert, values["specialties"]) | {"source": source}
            if batch:
                payload["batch"] = batch
            _event(actor, expert, "experts.expert_registered", payload)
    except IntegrityError as exc:
        raise Conflict("该身份证号码的专家已在库中 (already in the pool)",
                       code="already_in_pool", detail={"field": "resident_id"}) from exc  # fmt: skip
    return expert


def _values_of(expert: Expert) -> dict[str, Any]:
    chosen = [row.specialty for row in expert.specialty_rows.select_related("specialty")
              .order_by("-is_primary", "specialty__code")]  # fmt: skip
    return {
        "years_in_field": expert.years_in_field,
        "title_level": expert.title_level,
        "senior_equivalent": expert.senior_equivalent,
        "specialties": chosen,
    }


def approve_application(*, actor: User, expert: Expert) -> Expert:
    """Approve an application into the pool. A works expert must meet R20; a refusal is
    recorded for supervision after the approval's transaction changed nothing."""
    _manage(actor, expert)
    try:
        with transaction.atomic():
            locked = _locked(expert)
            _check_move(locked, ExpertStatus.ACTIVE, ExpertStatus.PENDING)
            values = _values_of(locked)
            checks.eligible(values)
            locked.status, locked.status_reason = ExpertStatus.ACTIVE, ""
            locked.approved_at = locked.updated_at = clock.now()
            locked.approved_by = actor_ref(actor)
            locked.version += 1
            locked.save()
            _sync_draw_rows(locked)
            _history(locked, actor, ExpertStatus.PENDING)
            _event(actor, locked, "experts.application_approved",
                   _summary(locked, values["specialties"]))  # fmt: skip
    except ValidationFailed as exc:
        if exc.code == "expert_ineligible":
            record_refusal(actor=actor, event_type="experts.approval_refused",
                           subject=f"expert:{expert.public_id}", reason=exc.code,
                           unmet=exc.detail["unmet"])  # fmt: skip
        raise
    return locked


def reject_application(*, actor: User, expert: Expert, reason: str) -> Expert:
    _manage(actor, expert)
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(expert)
        _check_move(locked, ExpertStatus.REJECTED, ExpertStatus.PENDING)
        return _set_status(locked, actor, ExpertStatus.REJECTED, reason,
                           "experts.application_rejected")  # fmt: skip


# --- status ------------------------------------------------------------------------------------


def _check_move(expert: Expert, target: str, source: str | None = None) -> None:
    if (source is not None and expert.status != source) or not can_move(expert.status, target):
        raise Conflict(
            f"专家当前状态（{expert.get_status_display()}）不允许此操作 (not allowed now)",
            code="bad_expert_state",
            detail={"status": expert.status, "target": target},
        )


def _set_status(expert: Expert, actor: Any, target: str, reason: str, event_type: str,
                until: date | None = None, extra: dict[str, Any] | None = None) -> Expert:  # fmt: skip
    before = expert.status
    expert.status, expert.status_reason, expert.suspended_until = target, reason, until
    expert.updated_at = clock.now()
    expert.version += 1
    expert.save()
    _sync_draw_rows(expert)
    _history(expert, actor, before, reason=reason, until=until)
    payload: dict[str, Any] = {"from": before, "to": target, "reason": reason}
    if until is not None:
        payload["until"] = until
    _event(actor, expert, event_type, payload | (extra or {}))
    return expert


def suspend_expert(
    *, actor: User, expert: Expert, reason: str, until: date | None = None
) -> Expert:
    """Suspend an expert from draws, until a date (inclusive) or until reinstated."""
    _manage(actor, expert)
    reason = _reason(reason)
    if until is not None and until < clock.today():
        raise ValidationFailed("暂停截止日期早于今天 (end date in the past)",
                               code="until_in_past", detail={"field": "until"})  # fmt: skip
    with transaction.atomic():
        locked = _locked(expert)
        _check_move(locked, ExpertStatus.SUSPENDED)
        return _set_status(locked, actor, ExpertStatus.SUSPENDED, reason, "experts.expert_suspended",
                           until=until)  # fmt: skip


def reinstate_expert(*, actor: User, expert: Expert, reason: str) -> Expert:
    _manage(actor, expert)
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(expert)
        _check_move(locked, ExpertStatus.ACTIVE, ExpertStatus.SUSPENDED)
        return _set_status(locked, actor, ExpertStatus.ACTIVE, reason, "experts.expert_reinstated")


def retire_expert(*, actor: User, expert: Expert, reason: str) -> Expert:
    """Take an expert out of the pool for good (退出: age, request, dismissal)."""
    _manage(actor, expert)
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(expert)
        _check_move(locked, ExpertStatus.RETIRED)
        return _set_status(locked, actor, ExpertStatus.RETIRED, reason, "experts.expert_retired")


# --- profile changes ---------------------------------------------------------------------------


def update_expert(*, actor: User, expert: Expert, changes: dict[str, Any]) -> Expert:
    """Center staff change an expert's profile (title, years, employer, region, specialties…).
    An expert in the pool must still meet R20 after the change."""
    _manage(actor, expert)
    unknown = sorted(
        set(changes) - set(PROFILE_FIELDS) - {"primary_specialty", "other_specialties"}
    )
    if unknown:
        raise ValidationFailed(f"字段 {unknown[0]} 不可修改", code="field_not_editable",
                               detail={"field": unknown[0]})  # fmt: skip
    with transaction.atomic():
        locked = _locked(expert)
        if locked.status == ExpertStatus.RETIRED:
            raise Conflict("专家已退出 (retired)", code="bad_expert_state",
                           detail={"status": locked.status})  # fmt: skip
        current = _values_of(locked)
        merged = ExpertData(
            **{k: getattr(locked, k) for k in PROFILE_FIELDS if k not in ("employer", "region")},
            resident_id=locked.resident_id,
            employer=locked.employer.uscc,
            region=locked.region_id,
            primary_specialty=current["specialties"][0].code,
            other_specialties=[s.code for s in current["specialties"][1:]],
        )
        for key, value in changes.items():
            setattr(merged, key, value)
        values = checks.clean(merged, kept=frozenset(s.code for s in current["specialties"]))
        if locked.status != ExpertStatus.PENDING:
            checks.eligible(values)
        changed = sorted(k for k in PROFILE_FIELDS if getattr(locked, k) != values[k]) + (
            ["specialties"] if values["specialties"] != current["specialties"] else []
        )
        if not changed:
            return locked
        _fill(locked, values)
        locked.version += 1
        locked.updated_at = clock.now()
        locked.save()
        _write_specialties(locked, values["specialties"])
        _event(actor, locked, "experts.expert_changed",
               {"version": locked.version, "fields": changed} | _summary(locked, values["specialties"]))  # fmt: skip
    return locked


def link_account(*, actor: User, expert: Expert, username: str) -> Expert:
    """Center staff link an expert entered without an account (an import, a paper application)
    to the expert's own platform account, so that the expert can confirm invitations, sit on a
    committee and sign reports (seating refuses ``expert_without_account``). A link is made
    once; the account must hold the expert role, be linked to no other expert and not be the
    actor's own."""
    _manage(actor, expert)
    if not isinstance(username, str) or not username.strip():
        raise ValidationFailed("请填写专家账户用户名 (username required)", code="required",
                               detail={"field": "username"})  # fmt: skip
    if username.strip() == getattr(actor, "username", None):
        raise _own_record(actor, f"user:{actor.pk}")
    with transaction.atomic():
        locked = _locked(expert)
        if locked.user_id is not None:
            raise Conflict("该专家已关联账户 (the expert already has an account)",
                           code="expert_has_account")  # fmt: skip
        user = expert_account(username.strip()[:150], actor=actor)
        assert user is not None  # a non-empty name finds an account or raises
        locked.user = user
        locked.updated_at = clock.now()
        locked.save(update_fields=["user", "updated_at"])
        _event(actor, locked, "experts.account_linked", {"user": user.pk})
    return locked


# --- the expert's own calendar and declarations ------------------------------------------------


def _self_or_staff(actor: Any, expert: Expert) -> None:
    if not allowed(actor, "experts.manage"):
        require(actor, "experts.self", expert)


def add_unavailability(*, actor: User, expert: Expert, start: date, end: date,
                       reason: str = "") -> Unavailability:  # fmt: skip
    """Days (start to end, inclusive) the expert cannot be drawn."""
    _self_or_staff(actor, expert)
    if end < start:
        raise ValidationFailed("结束日期早于开始日期 (end before start)", code="bad_period",
                               detail={"field": "end"})  # fmt: skip
    if (end - start).days >= MAX_UNAVAILABLE_DAYS:
        raise ValidationFailed("一次最多登记一年 (at most one year at a time)",
                               code="period_too_long", detail={"field": "end"})  # fmt: skip
    if end < clock.today():
        raise ValidationFailed("不能登记过去的日期 (period in the past)", code="period_in_past",
                               detail={"field": "end"})  # fmt: skip
    reason = checks.text("reason", reason, required=False)
    with transaction.atomic():
        row = Unavailability.objects.create(
            expert=expert, start=start, end=end, reason=reason, recorded_at=clock.now()
        )
        _event(actor, expert, "experts.unavailability_added",
               {"period": row.pk, "start": start, "end": end})  # fmt: skip
    return row


def remove_unavailability(*, actor: User, expert: Expert, period_id: int) -> None:
    _self_or_staff(actor, expert)
    with transaction.atomic():
        row = Unavailability.objects.filter(pk=period_id, expert=expert).first()
        if row is None:
            raise NotFound("不可参评日期不存在 (no such period)", code="period_not_found")
        row.delete()
        _event(actor, expert, "experts.unavailability_removed", {"period": period_id})


def declare_conflict(
    *, actor: User, expert: Expert, entity: Entity, reason: str
) -> DeclaredConflict:
    """The expert (or staff for them) declares a conflict of interest with an entity (R21)."""
    _self_or_staff(actor, expert)
    reason = checks.text("reason", reason)
    try:
        with transaction.atomic():
            row = DeclaredConflict.objects.create(
                expert=expert, entity=entity, reason=reason, declared_at=clock.now()
            )
            _event(actor, expert, "experts.conflict_declared",
                   {"conflict": row.pk, "entity": entity.uscc})  # fmt: skip
    except IntegrityError as exc:
        raise Conflict("已申报与该主体回避 (already declared)", code="conflict_exists",
                       detail={"field": "entity"}) from exc  # fmt: skip
    return row


def withdraw_conflict(*, actor: User, expert: Expert, conflict_id: int) -> DeclaredConflict:
    _self_or_staff(actor, expert)
    with transaction.atomic():
        row = (
            DeclaredConflict.objects.select_for_update()
            .filter(pk=conflict_id, expert=expert, withdrawn_at__isnull=True)
            .first()
        )
        if row is None:
            raise NotFound("回避申报不存在 (no such declaration)", code="conflict_not_found")
        row.withdrawn_at = clock.now()
        row.save(update_fields=["withdrawn_at"])
        _event(actor, expert, "experts.conflict_withdrawn", {"conflict": row.pk})
    return row


# --- ratings ----------------------------------------------------------------------------------

# Ratings after a signed evaluation session, and the suspensions they cause, are written by
# ggzy.experts.ratings (record_rating); the suspension itself goes through this module's status
# path below.


def apply_policy_suspension(
    *, actor: str, expert: Expert, reason: str, until: date, cause: dict[str, Any]
) -> ExpertStatusChange:
    """A suspension the rating policy decided (ggzy.experts.rating_rules), on an expert the
    caller locked, inside the caller's transaction: an active expert moves to suspended through
    the transition table; a suspension already recorded (running or lapsed) gets the later end
    ``until`` — one that already ends later, or is indefinite, is left as it is. The ledger event carries ``cause`` (the policy's thresholds and the ratings that
    caused it); ``actor`` is the system's."""
    if expert.status == ExpertStatus.SUSPENDED:
        if expert.suspended_until is None or expert.suspended_until >= until:
            # already as long or longer (or indefinite): never shortened, never ended here
            return expert.status_history.order_by("-pk")[0]
        extra = cause | {"previous_until": expert.suspended_until}
        _set_status(expert, actor, ExpertStatus.SUSPENDED, reason, "experts.suspension_extended",
                    until=until, extra=extra)  # fmt: skip
    else:
        _check_move(expert, ExpertStatus.SUSPENDED)
        _set_status(expert, actor, ExpertStatus.SUSPENDED, reason, "experts.expert_suspended",
                    until=until, extra=cause)  # fmt: skip
    return expert.status_history.order_by("-pk")[0]
