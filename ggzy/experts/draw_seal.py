"""The draw key: who was drawn stays sealed until the evaluation session starts (R17).

The key is a file outside the repository and the database (``GGZY_DRAW_KEY``, default
``var/keys/expert-draw.key``, mode 0600), like the bid-register key (``ggzy.bidding.register``):
a database dump taken before the session tells neither who was drawn nor who was skipped. Sealed
values are AES-256-GCM under per-purpose, per-draw subkeys (HKDF-SHA256); keyed tags (HMAC) let
the platform find an expert's own invitations and earlier service without unsealing anything.
"""

from __future__ import annotations

from ggzy.core.sealing import KeyFile

KEY = KeyFile("GGZY_DRAW_KEY", b"ggzy-expert-draw/1", tag_prefix="tag:")
ensure_key = KEY.ensure_key
tag = KEY.tag
seal, unseal = KEY.seal, KEY.unseal
seal_bytes, unseal_bytes = KEY.seal_bytes, KEY.unseal_bytes


# --- what the draw's rows use -----------------------------------------------------------------


def invitee_tag(expert_id: int) -> str:
    """The same for every draw of one expert: their own invitations and earlier service are
    found by it (like the bid register's owner tag); it names no one without the key."""
    return tag("invitee", "", expert_id)


def pseudonym(draw_public_id: str, expert_id: int) -> str:
    """What the public ledger calls a drawn expert: one per draw, not linkable across draws."""
    return "X" + tag("pseudonym", draw_public_id, expert_id)[:11].upper()


# An expert answering an invitation appears in the public ledger as a keyed pseudonym per
# draw, so the events do not tell who was drawn. Other actors stay as they are.
sealed_actor = KEY.sealed_actor
