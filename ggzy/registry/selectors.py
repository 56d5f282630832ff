"""Registry reads, with the access check built in."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from ggzy.accounts.gate import allowed
from ggzy.core import clock
from ggzy.core.errors import NotFound
from ggzy.core.identifiers import IdentifierError, validate_uscc
from ggzy.registry.models import Entity, EntityStatus, EntityVersion, Qualification, Region


def entity_directory(*, q: str = "", region: str = "", role: str = "") -> QuerySet[Entity]:
    """The public directory: active entities, searchable by name or USCC, region and role."""
    qs = Entity.objects.select_related("region").filter(status=EntityStatus.ACTIVE)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(uscc__startswith=q.upper()))
    if region:
        qs = qs.filter(Q(region_id=region) | Q(region__parent_id=region))
    if role in ("bidder", "tenderer", "agent"):
        qs = qs.filter(**{f"is_{role}": True})
    return qs.order_by("name", "pk")


def get_entity(*, actor: Any, uscc: str) -> Entity:
    """One entity by USCC. Suspended entities are visible only to those who may see private data."""
    try:
        code = validate_uscc(uscc)
    except IdentifierError:
        raise NotFound("市场主体不存在", code="entity_not_found") from None
    entity = Entity.objects.select_related("region").filter(uscc=code).first()
    if entity is None or (
        entity.status != EntityStatus.ACTIVE and not can_view_private(actor, entity)
    ):
        raise NotFound("市场主体不存在", code="entity_not_found")
    return entity


def can_view_private(actor: Any, entity: Entity) -> bool:
    return allowed(actor, "entity.view_private", entity)


def can_edit(actor: Any, entity: Entity) -> bool:
    return allowed(actor, "entity.edit", entity)


def entities_for_user(actor: Any) -> QuerySet[Entity]:
    if not getattr(actor, "is_authenticated", False):
        return Entity.objects.none()
    return Entity.objects.filter(memberships__user=actor).order_by("name")


def public_view(entity: Entity) -> dict[str, Any]:
    """What the platform discloses about an entity to anyone."""
    today = clock.today()
    return {
        "uscc": entity.uscc,
        "name": entity.name,
        "entity_type": entity.entity_type,
        "entity_type_display": entity.get_entity_type_display(),
        "market_roles": entity.market_roles,
        "legal_representative": entity.legal_representative,
        "registered_capital": str(entity.registered_capital)
        if entity.registered_capital is not None
        else None,
        "address": entity.address,
        "region": entity.region_id,
        "region_name": entity.region.name,
        "licence_valid_from": entity.licence_valid_from,
        "licence_valid_until": entity.licence_valid_until,
        "licence_valid": entity.licence_valid_until is None or entity.licence_valid_until >= today,
        "status": entity.status,
        "version": entity.version,
        "registered_at": entity.registered_at,
        "qualifications": [qualification_view(q) for q in entity.qualifications.all()],
    }


def qualification_view(q: Qualification) -> dict[str, Any]:
    return {
        "id": q.pk,
        "qualification_type": q.qualification_type,
        "grade": q.grade,
        "issuer": q.issuer,
        "number": q.number,
        "valid_from": q.valid_from,
        "valid_until": q.valid_until,
        "valid": q.valid_until is None or q.valid_until >= clock.today(),
    }


def private_view(entity: Entity) -> dict[str, Any]:
    """Public view plus what only members, center staff and supervisors see."""
    data = public_view(entity)
    data.update(
        {
            "legal_representative_id": entity.legal_representative_id,
            "bank_name": entity.bank_name,
            "bank_account": entity.bank_account,
            "contacts": [
                {"id": c.pk, "name": c.name, "title": c.title, "phone": c.phone, "email": c.email}
                for c in entity.contacts.all()
            ],
            "members": [
                {"username": m.user.username, "display_name": m.user.display_name, "role": m.role}
                for m in entity.memberships.select_related("user")
            ],
        }
    )
    return data


def view_for(actor: Any, entity: Entity) -> dict[str, Any]:
    return private_view(entity) if can_view_private(actor, entity) else public_view(entity)


def entity_versions(*, actor: Any, entity: Entity) -> QuerySet[EntityVersion]:
    """Change history; public fields only appear in it (private values are masked at write)."""
    return EntityVersion.objects.filter(entity=entity).order_by("-version")


def procedure_snapshot(entity: Entity) -> dict[str, Any]:
    """一表申请: what every later procedure takes from the registry instead of asking again."""
    data = private_view(entity)
    data.pop("members", None)
    return data


def can_manage_members(actor: Any, entity: Entity) -> bool:
    return allowed(actor, "entity.manage_members", entity)


def regions() -> list[tuple[str, str, str | None]]:
    """Every administrative division as (code, name, parent code), in code order."""
    return list(Region.objects.order_by("code").values_list("code", "name", "parent_id"))
