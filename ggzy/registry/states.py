"""Entity status: the transition table and its pure guard (no queries)."""

from __future__ import annotations

from ggzy.registry.models import EntityStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    EntityStatus.ACTIVE: frozenset({EntityStatus.SUSPENDED}),
    EntityStatus.SUSPENDED: frozenset({EntityStatus.ACTIVE}),
}


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())
