"""Registry writes: register, change (versioned), qualifications, contacts, members, status."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from ggzy.accounts.gate import require
from ggzy.accounts.models import User
from ggzy.accounts.roles import MARKET_ROLES
from ggzy.core import clock
from ggzy.core.errors import Conflict, NotFound, ValidationFailed
from ggzy.core.identifiers import validate_region_code, validate_resident_id, validate_uscc
from ggzy.core.money import yuan
from ggzy.ledger.context import actor_ref
from ggzy.ledger.services import append_event
from ggzy.registry import states
from ggzy.registry.models import (
    ContactPerson,
    Entity,
    EntityStatus,
    EntityType,
    EntityVersion,
    MemberRole,
    Membership,
    Qualification,
    Region,
)

EDITABLE_FIELDS = (
    "name",
    "entity_type",
    "is_bidder",
    "is_tenderer",
    "is_agent",
    "legal_representative",
    "legal_representative_id",
    "registered_capital",
    "address",
    "region",
    "bank_name",
    "bank_account",
    "licence_valid_from",
    "licence_valid_until",
)


@dataclass
class ContactData:
    name: str
    phone: str
    title: str = ""
    email: str = ""


@dataclass
class QualificationData:
    qualification_type: str
    issuer: str
    number: str
    grade: str = ""
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass
class EntityData:
    uscc: str
    name: str
    entity_type: str
    legal_representative: str
    address: str
    region: str
    is_bidder: bool = False
    is_tenderer: bool = False
    is_agent: bool = False
    legal_representative_id: str = ""
    registered_capital: Decimal | None = None
    bank_name: str = ""
    bank_account: str = ""
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None
    contacts: list[ContactData] = field(default_factory=list)
    qualifications: list[QualificationData] = field(default_factory=list)


NULLABLE_FIELDS = {"registered_capital", "licence_valid_from", "licence_valid_until"}


def _clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise the editable fields present in ``values``; raise on the first error."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in EDITABLE_FIELDS:
            raise ValidationFailed(
                f"字段 {key} 不可修改", code="field_not_editable", detail={"field": key}
            )
        if value is None and key not in NULLABLE_FIELDS:
            raise ValidationFailed(
                f"{key} 不能为空值 (null)", code="null_not_allowed", detail={"field": key}
            )
        if isinstance(value, str):
            value = value.strip()
        if key in ("name", "legal_representative", "address") and not value:
            raise ValidationFailed(f"{key} 不能为空", code="required", detail={"field": key})
        if key == "entity_type" and value not in EntityType.values:
            raise ValidationFailed("未知的主体类型", code="bad_entity_type", detail={"field": key})
        if key == "legal_representative_id" and value:
            value = validate_resident_id(value)
        if key == "registered_capital" and value is not None:
            value = yuan(value)
            if value < 0:
                raise ValidationFailed(
                    "注册资本不能为负数", code="bad_capital", detail={"field": key}
                )
        if key == "region":
            code = validate_region_code(value.code if isinstance(value, Region) else str(value))
            region = Region.objects.filter(code=code).first()
            if region is None:
                raise ValidationFailed(
                    f"未登记的行政区划 {code}", code="unknown_region", detail={"field": key}
                )
            value = region
        if (
            key == "bank_account"
            and value
            and not re.fullmatch(r"[0-9]+", value.replace(" ", "").replace("-", ""))
        ):
            raise ValidationFailed(
                "银行账号只能包含数字", code="bad_bank_account", detail={"field": key}
            )
        out[key] = value
    start, end = out.get("licence_valid_from"), out.get("licence_valid_until")
    if start and end and end < start:
        raise ValidationFailed(
            "营业期限结束日期早于开始日期",
            code="bad_validity",
            detail={"field": "licence_valid_until"},
        )
    return out


def _clean_qualification(q: QualificationData) -> QualificationData:
    for key in ("qualification_type", "issuer", "number"):
        if not str(getattr(q, key)).strip():
            raise ValidationFailed(f"资质 {key} 不能为空", code="required", detail={"field": key})
    if q.valid_from and q.valid_until and q.valid_until < q.valid_from:
        raise ValidationFailed("资质有效期结束日期早于开始日期", code="bad_validity")
    return q


def _snapshot_value(value: Any) -> Any:
    if isinstance(value, Region):
        return value.code
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def register_entity(*, actor: User, data: EntityData) -> Entity:
    """Register an organisation once. The registering user becomes its administrator."""
    require(actor, "entity.register")
    uscc = validate_uscc(data.uscc)
    values = _clean_fields({k: getattr(data, k) for k in EDITABLE_FIELDS})
    if not (values["is_bidder"] or values["is_tenderer"] or values["is_agent"]):
        raise ValidationFailed("请至少选择一种市场角色", code="no_market_role")
    qualifications = [_clean_qualification(q) for q in data.qualifications]
    keys = [(q.qualification_type.strip(), q.number.strip()) for q in qualifications]
    if len(set(keys)) != len(keys):
        raise ValidationFailed("同一资质证书填写了两次", code="duplicate_qualification")
    now = clock.now()
    try:
        with transaction.atomic():
            if Entity.objects.filter(uscc=uscc).exists():
                raise Conflict("该统一社会信用代码已注册", code="uscc_taken", detail={"uscc": uscc})
            entity = Entity.objects.create(uscc=uscc, registered_at=now, updated_at=now, **values)
            ContactPerson.objects.bulk_create(
                [
                    ContactPerson(
                        entity=entity,
                        name=c.name.strip(),
                        phone=c.phone.strip(),
                        title=c.title,
                        email=c.email,
                    )
                    for c in data.contacts
                ]
            )
            Qualification.objects.bulk_create(
                [Qualification(entity=entity, **vars(q)) for q in qualifications]
            )
            Membership.objects.create(user=actor, entity=entity, role=MemberRole.ADMIN, since=now)
            EntityVersion.objects.create(
                entity=entity,
                version=1,
                changed_at=now,
                changed_by=actor_ref(actor),
                changes={
                    k: [None, _snapshot_value(v)] for k, v in values.items() if k not in _PRIVATE
                },
            )
            append_event(
                actor=actor,
                event_type="registry.entity_registered",
                subject=f"entity:{uscc}",
                payload={
                    "name": entity.name,
                    "region": entity.region_id,
                    "roles": entity.market_roles,
                },
            )
    except IntegrityError as exc:  # a concurrent registration of the same USCC won the race
        raise Conflict(
            "该统一社会信用代码已注册", code="uscc_taken", detail={"uscc": uscc}
        ) from exc
    return entity


# Kept out of the public change history: private_view() shows them to members and staff only.
_PRIVATE = {"legal_representative_id", "bank_name", "bank_account"}


def update_entity(
    *, actor: User, entity: Entity, changes: dict[str, Any], expected_version: int | None = None
) -> Entity:
    """Change registration fields. Each change is a new version recording who, when and what."""
    require(actor, "entity.edit", entity)
    values = _clean_fields(changes)
    with transaction.atomic():
        locked = Entity.objects.select_for_update().get(pk=entity.pk)
        if expected_version is not None and locked.version != expected_version:
            raise Conflict(
                "登记信息已被他人修改，请刷新后重试",
                code="stale_version",
                detail={"current_version": locked.version},
            )
        diff = {}
        for key, new in values.items():
            old = getattr(locked, key)
            if _snapshot_value(old) != _snapshot_value(new):
                diff[key] = [_snapshot_value(old), _snapshot_value(new)]
                setattr(locked, key, new)
        if not (locked.is_bidder or locked.is_tenderer or locked.is_agent):
            raise ValidationFailed("请至少保留一种市场角色", code="no_market_role")
        start, end = locked.licence_valid_from, locked.licence_valid_until
        if start and end and end < start:  # one side may be the stored value, not in this change
            raise ValidationFailed(
                "营业期限结束日期早于开始日期",
                code="bad_validity",
                detail={"field": "licence_valid_until"},
            )
        if not diff:
            return locked
        locked.version += 1
        locked.updated_at = clock.now()
        locked.save()
        EntityVersion.objects.create(
            entity=locked,
            version=locked.version,
            changed_at=locked.updated_at,
            changed_by=actor_ref(actor),
            changes={k: v if k not in _PRIVATE else ["***", "***"] for k, v in diff.items()},
        )
        append_event(
            actor=actor,
            event_type="registry.entity_changed",
            subject=f"entity:{locked.uscc}",
            payload={"version": locked.version, "fields": sorted(diff)},
        )
    return locked


def add_qualification(*, actor: User, entity: Entity, data: QualificationData) -> Qualification:
    require(actor, "entity.edit", entity)
    q = _clean_qualification(data)
    try:
        with transaction.atomic():
            row = Qualification.objects.create(entity=entity, **vars(q))
            _bump(
                actor, entity, {"qualification_added": [None, f"{q.qualification_type} {q.number}"]}
            )
    except IntegrityError as exc:
        raise Conflict("该资质证书已登记", code="qualification_exists") from exc
    return row


def remove_qualification(*, actor: User, entity: Entity, qualification_id: int) -> None:
    require(actor, "entity.edit", entity)
    with transaction.atomic():
        row = Qualification.objects.filter(pk=qualification_id, entity=entity).first()
        if row is None:
            raise NotFound("资质不存在", code="qualification_not_found")
        label = f"{row.qualification_type} {row.number}"
        row.delete()
        _bump(actor, entity, {"qualification_removed": [label, None]})


def add_contact(*, actor: User, entity: Entity, data: ContactData) -> ContactPerson:
    require(actor, "entity.edit", entity)
    if not data.name.strip() or not data.phone.strip():
        raise ValidationFailed("联系人姓名和电话不能为空", code="required")
    with transaction.atomic():
        row = ContactPerson.objects.create(
            entity=entity,
            name=data.name.strip(),
            phone=data.phone.strip(),
            title=data.title,
            email=data.email,
        )
        _bump(actor, entity, {"contact_added": [None, "***"]})  # contacts are private
    return row


def add_member(*, actor: User, entity: Entity, username: str, role: str) -> Membership:
    """An entity admin (or center admin) lets another user act for the entity."""
    require(actor, "entity.manage_members", entity)
    if role not in MemberRole.values:
        raise ValidationFailed("未知的成员身份", code="bad_member_role")
    # Only market participants can be members; staff and experts look like unknown names, so the
    # form cannot be used to find out who they are.
    user = (
        User.objects.filter(username=username, is_active=True, roles__role__in=MARKET_ROLES)
        .distinct()
        .first()
    )
    if user is None:
        raise NotFound("用户不存在", code="user_not_found")
    try:
        with transaction.atomic():
            row = Membership.objects.create(user=user, entity=entity, role=role, since=clock.now())
            append_event(
                actor=actor,
                event_type="registry.member_added",
                subject=f"entity:{entity.uscc}",
                payload={"user": f"user:{user.pk}", "role": role},
            )
    except IntegrityError as exc:
        raise Conflict("该用户已是成员", code="already_member") from exc
    return row


def set_entity_status(*, actor: User, entity: Entity, status: str, reason: str) -> Entity:
    require(actor, "entity.suspend")
    if status not in EntityStatus.values:
        raise ValidationFailed("未知状态", code="bad_status")
    if not reason.strip():
        raise ValidationFailed("请填写原因", code="reason_required")
    with transaction.atomic():
        locked = Entity.objects.select_for_update().get(pk=entity.pk)
        if locked.status == status:
            return locked
        if not states.can_move(locked.status, status):
            raise Conflict(
                "当前状态下不能执行该变更",
                code="bad_transition",
                detail={"from": locked.status, "to": status},
            )
        _bump(
            actor,
            locked,
            {"status": [locked.status, status]},
            apply={"status": status},
            reason=reason,
        )
    locked.refresh_from_db()
    return locked


def _bump(
    actor: User,
    entity: Entity,
    diff: dict[str, Any],
    apply: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    locked = Entity.objects.select_for_update().get(pk=entity.pk)
    for key, value in (apply or {}).items():
        setattr(locked, key, value)
    locked.version += 1
    locked.updated_at = clock.now()
    locked.save()
    EntityVersion.objects.create(
        entity=locked,
        version=locked.version,
        changed_at=locked.updated_at,
        changed_by=actor_ref(actor),
        changes=diff,
    )
    payload: dict[str, Any] = {"version": locked.version, "fields": sorted(diff)}
    if reason:
        payload["reason"] = reason
    append_event(
        actor=actor,
        event_type="registry.entity_changed",
        subject=f"entity:{locked.uscc}",
        payload=payload,
    )
    entity.version = locked.version
