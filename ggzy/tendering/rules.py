"""Who may act on a project beyond their platform roles: members of its tenderer or its agent."""

from __future__ import annotations

from typing import Any

# what the tenderer's and the agent's members may do on their project
PROJECT_MEMBER_PERMISSIONS = {
    "tendering.edit",
    "tendering.view_private",
    "tendering.publish",
    "tendering.answer",
}


def project_rule(actor: Any, permission: str, project: Any) -> bool:
    if permission not in PROJECT_MEMBER_PERMISSIONS:
        return False
    from ggzy.registry.models import Membership

    entities = [project.tenderer_id] + ([project.agent_id] if project.agent_id else [])
    return Membership.objects.filter(user_id=actor.pk, entity_id__in=entities).exists()


def objection_rule(actor: Any, permission: str, objection: Any) -> bool:
    """The objecting entity's members see their own objection."""
    if permission != "tendering.view_private":
        return False
    from ggzy.registry.models import Membership

    return Membership.objects.filter(user_id=actor.pk, entity_id=objection.entity_id).exists()
