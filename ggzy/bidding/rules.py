"""Who may act on a deposit beyond their platform roles: the bidder's own members."""

from __future__ import annotations

from typing import Any


def deposit_rule(actor: Any, permission: str, deposit: Any) -> bool:
    if permission != "bidding.view_deposit":
        return False
    from ggzy.registry.models import Membership

    return Membership.objects.filter(user_id=actor.pk, entity_id=deposit.entity_id).exists()
