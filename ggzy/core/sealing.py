"""Keys kept in a file outside the repository and the database, for what must stay secret even
from a database dump: keyed tags (HMAC-SHA256) and sealed values (AES-256-GCM), each under a
per-purpose, per-scope subkey (HKDF-SHA256).

The bid register (``ggzy.bidding.register``: who bid, R42) and the expert draw
(``ggzy.experts.draw_seal``: who was drawn, R17) each hold one ``KeyFile``; the two keys differ so
that one leaking does not open the other. The file holds 32 random bytes in hex, mode 0600, and is
created on first use atomically (two processes never end up with different keys).
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


@lru_cache(maxsize=8)
def _master(path: str, mtime: float) -> bytes:
    return bytes.fromhex(Path(path).read_text().strip())


@lru_cache(maxsize=8192)
def _subkey(master: bytes, salt: bytes, purpose: str, scope: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=f"{purpose}\x00{scope}".encode()
    ).derive(master)


class KeyFile:
    """One key file, named by a setting (a path), with its HKDF salt (the format version)."""

    def __init__(self, setting: str, version: bytes, *, tag_prefix: str = "") -> None:
        self.setting = setting
        self.version = version
        self.tag_prefix = tag_prefix  # the subkey purpose of a tag is tag_prefix + purpose

    def path(self) -> Path:
        return Path(getattr(settings, self.setting))

    def ensure_key(self) -> Path:
        path = self.path()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(secrets.token_bytes(32).hex().encode())
            tmp.chmod(0o600)
            try:
                os.link(tmp, path)  # atomic create-if-absent
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        return path

    def _key(self, purpose: str, scope: str) -> bytes:
        path = self.ensure_key()
        return _subkey(_master(str(path), path.stat().st_mtime), self.version, purpose, scope)

    def tag(self, purpose: str, scope: str, *parts: object) -> str:
        """A keyed tag: equal inputs give equal tags; without the key it reveals nothing."""
        key = self._key(self.tag_prefix + purpose, scope)
        return hmac.new(
            key, "\x00".join(str(p) for p in parts).encode(), hashlib.sha256
        ).hexdigest()

    def seal_bytes(self, purpose: str, scope: str, data: bytes) -> str:
        nonce = secrets.token_bytes(12)
        box = AESGCM(self._key("seal:" + purpose, scope)).encrypt(
            nonce, data, f"{purpose}\x00{scope}".encode()
        )
        return base64.b64encode(nonce + box).decode()

    def unseal_bytes(self, purpose: str, scope: str, sealed: str) -> bytes:
        raw = base64.b64decode(sealed)
        return AESGCM(self._key("seal:" + purpose, scope)).decrypt(
            raw[:12], raw[12:], f"{purpose}\x00{scope}".encode()
        )

    def seal(self, purpose: str, scope: str, value: Any) -> str:
        """``value`` as canonical JSON, sealed; bound to ``purpose`` and ``scope``."""
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return self.seal_bytes(purpose, scope, data.encode())

    def unseal(self, purpose: str, scope: str, sealed: str) -> Any:
        return json.loads(self.unseal_bytes(purpose, scope, sealed))

    def sealed_actor(self, actor: object, scope: str) -> object:
        """The actor as the public ledger shows it where naming them would tell a secret: a keyed
        pseudonym, one per ``scope`` (the event's subject), so events cannot be linked to a user
        nor to each other. System actors stay as they are."""
        pk = getattr(actor, "pk", None)
        if getattr(actor, "is_authenticated", False) and pk is not None:
            return "sealed:" + self.tag("actor", scope, pk)[:24]
        return actor
