"""The bid-register key: keyed tags and sealed identities for the bid register and the document
download log (R42 — who bid, how many bid and who downloaded stay secret until the deadline).

The key is a file outside the repository and the database (``GGZY_BID_REGISTER_KEY``, default
``var/keys/bid-register.key``, mode 0600), so a database dump or backup taken before a deadline
tells neither who bid on a section nor how many did. Per-section subkeys come from HKDF.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = b"ggzy-bid-register/1"


def _path() -> Path:
    return Path(settings.GGZY_BID_REGISTER_KEY)


def ensure_key() -> Path:
    path = _path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(secrets.token_bytes(32).hex().encode())
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic create-if-absent: two processes never differ
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path


@lru_cache(maxsize=4)
def _master(path: str, mtime: float) -> bytes:
    return bytes.fromhex(Path(path).read_text().strip())


def _master_key() -> bytes:
    path = ensure_key()
    return _master(str(path), path.stat().st_mtime)


@lru_cache(maxsize=4096)
def _subkey(master: bytes, purpose: str, scope: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_VERSION,
        info=f"{purpose}\x00{scope}".encode(),
    ).derive(master)


def tag(purpose: str, scope: str, *parts: object) -> str:
    """A keyed tag: equal inputs give equal tags; without the key it reveals nothing."""
    key = _subkey(_master_key(), purpose, scope)
    message = "\x00".join(str(p) for p in parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def seal(purpose: str, scope: str, value: dict[str, Any]) -> str:
    key = _subkey(_master_key(), "seal:" + purpose, scope)
    nonce = secrets.token_bytes(12)
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    box = AESGCM(key).encrypt(nonce, data, f"{purpose}\x00{scope}".encode())
    return base64.b64encode(nonce + box).decode()


def unseal(purpose: str, scope: str, sealed: str) -> dict[str, Any]:
    raw = base64.b64decode(sealed)
    key = _subkey(_master_key(), "seal:" + purpose, scope)
    data = AESGCM(key).decrypt(raw[:12], raw[12:], f"{purpose}\x00{scope}".encode())
    value: dict[str, Any] = json.loads(data)
    return value


def section_tag(section_public_id: str) -> str:
    return tag("section", "bids", section_public_id)


def bidder_tag(section_public_id: str, entity_id: int) -> str:
    return tag("bidder", section_public_id, entity_id)


def sealed_actor(actor: object, scope: str) -> object:
    """The actor as the public ledger shows it for steps that would tell who is bidding before
    the deadline (bid submission and withdrawal, deposits, objections): a keyed pseudonym, one
    per ``scope`` (the event's subject), so events cannot be linked to a user nor to each other.
    The real user is kept where the platform can resolve it (the bid's sealed identity, the
    deposit row). System actors stay as they are."""
    pk = getattr(actor, "pk", None)
    if getattr(actor, "is_authenticated", False) and pk is not None:
        return "sealed:" + tag("actor", scope, pk)[:24]
    return actor
