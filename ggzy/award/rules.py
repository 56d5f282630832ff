"""Who may act on a section's result beyond their platform roles.

The tenderer's members — and its agent's, once the tenderer confirmed the appointment (委托,
``agency_confirmed_at``, as ``tendering`` and ``experts.ratings`` require) — manage the result
of their own project's sections (publish the candidates, answer objections, confirm the winner,
record the contract and its obligations) and see everything about it. The check is on an :class:`AwardScope` — the section
— because the result is managed before any row of it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MANAGER_PERMISSIONS = {"award.manage", "award.view"}


@dataclass(frozen=True)
class AwardScope:
    """The result of one section, as the access gate sees it."""

    section: Any


def tenderer_side(actor: Any, project: Any) -> bool:
    from ggzy.registry.models import Membership

    entities = [project.tenderer_id]
    if project.agent_id is not None and project.agency_confirmed_at is not None:
        entities.append(project.agent_id)
    return Membership.objects.filter(user_id=actor.pk, entity_id__in=entities).exists()


def scope_rule(actor: Any, permission: str, scope: AwardScope) -> bool:
    if permission not in MANAGER_PERMISSIONS:
        return False
    return tenderer_side(actor, scope.section.project)
