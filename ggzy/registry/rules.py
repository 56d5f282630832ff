"""Who may act on an entity: its members (by membership role) or staff holding the permission."""

from __future__ import annotations

from typing import Any

MEMBER_PERMISSIONS = {
    "admin": {"entity.edit", "entity.view_private", "entity.manage_members", "entity.act"},
    "operator": {"entity.view_private", "entity.act"},
}


def entity_rule(actor: Any, permission: str, entity: Any) -> bool:
    from ggzy.registry.models import Membership

    role = (
        Membership.objects.filter(user_id=actor.pk, entity_id=entity.pk)
        .values_list("role", flat=True)
        .first()
    )
    return role is not None and permission in MEMBER_PERMISSIONS.get(role, set())
