"""Who may act on trust objects beyond their platform roles."""

from __future__ import annotations

from typing import Any


def binding_rule(actor: Any, permission: str, binding: Any) -> bool:
    """The holder sees and unbinds their own binding (no platform role may: a binding is the
    holder's own)."""
    return permission == "trust.manage_binding" and binding.holder_id == actor.pk


def envelope_rule(actor: Any, permission: str, envelope: Any) -> bool:
    """The submitting entity's members see their envelope and may hand over its key."""
    if permission not in {"trust.view_envelopes", "trust.open_envelope"}:
        return False
    from ggzy.registry.models import Membership

    return Membership.objects.filter(user_id=actor.pk, entity_id=envelope.entity_id).exists()


def signature_rule(actor: Any, permission: str, signature: Any) -> bool:
    """The signer and the members of the signing entity see the signature."""
    if permission != "trust.view_signatures":
        return False
    if signature.signer_id == actor.pk:
        return True
    from ggzy.registry.models import Membership

    return (
        signature.entity_id is not None
        and Membership.objects.filter(user_id=actor.pk, entity_id=signature.entity_id).exists()
    )
