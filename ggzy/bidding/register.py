"""The bid-register key: keyed tags and sealed identities for the bid register and the document
download log (R42 — who bid, how many bid and who downloaded stay secret until the deadline).

The key is a file outside the repository and the database (``GGZY_BID_REGISTER_KEY``, default
``var/keys/bid-register.key``, mode 0600), so a database dump or backup taken before a deadline
tells neither who bid on a section nor how many did. Per-section subkeys come from HKDF.
"""

from __future__ import annotations

from typing import Any

from ggzy.core.sealing import KeyFile

KEY = KeyFile("GGZY_BID_REGISTER_KEY", b"ggzy-bid-register/1")
ensure_key = KEY.ensure_key
tag = KEY.tag
sealed_actor = KEY.sealed_actor  # bid submission and withdrawal, deposits, objections


def seal(purpose: str, scope: str, value: dict[str, Any]) -> str:
    return KEY.seal(purpose, scope, value)


def unseal(purpose: str, scope: str, sealed: str) -> dict[str, Any]:
    value: dict[str, Any] = KEY.unseal(purpose, scope, sealed)
    return value


def section_tag(section_public_id: str) -> str:
    return tag("section", "bids", section_public_id)


def bidder_tag(section_public_id: str, entity_id: int) -> str:
    return tag("bidder", section_public_id, entity_id)
