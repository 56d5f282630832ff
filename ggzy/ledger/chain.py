"""The ledger's hash chain, pure: no Django, no database, so an outsider can reuse it.

An event is encoded canonically as JSON with sorted keys, no whitespace, UTF-8::

    {"actor":…,"addr":…,"payload_digest":…,"seq":…,"subject":…,"time_us":…,"type":…}

and chained: ``hash_n = H(hash_{n-1} ‖ canonical_n)`` with ``hash_0`` = 32 zero bytes. ``H`` is
SM3 (GB/T 32905) by default or SHA-256, fixed for a ledger at its first event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS = bytes(32)
ALGORITHMS = ("sm3", "sha256")

Hasher = Callable[[bytes], bytes]


def _sm3_hasher() -> Hasher:
    try:
        hashlib.new("sm3", b"")
    except ValueError:  # OpenSSL without SM3: fall back to the cryptography package
        from cryptography.hazmat.primitives import hashes

        def sm3_cryptography(data: bytes) -> bytes:
            h = hashes.Hash(hashes.SM3())
            h.update(data)
            return h.finalize()

        return sm3_cryptography

    def sm3_hashlib(data: bytes) -> bytes:
        return hashlib.new("sm3", data).digest()

    return sm3_hashlib


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hasher(alg: str) -> Hasher:
    """The digest function named ``alg`` ("sm3" or "sha256")."""
    if alg == "sm3":
        return _sm3_hasher()
    if alg == "sha256":
        return _sha256
    raise ValueError(f"unknown ledger hash algorithm {alg!r}; use one of {ALGORITHMS}")


def canonical_json(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8, non-string keys refused."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True, slots=True)
class EventFields:
    """The chained fields of one ledger event."""

    seq: int
    time_us: int
    actor: str
    addr: str
    type: str
    subject: str
    payload_digest: str

    def canonical(self) -> bytes:
        return canonical_json(
            {
                "actor": self.actor,
                "addr": self.addr,
                "payload_digest": self.payload_digest,
                "seq": self.seq,
                "subject": self.subject,
                "time_us": self.time_us,
                "type": self.type,
            }
        )


def chain_hash(h: Hasher, prev: bytes, event: EventFields) -> bytes:
    return h(prev + event.canonical())


def leaf_hash(h: Hasher, event_hash: bytes) -> bytes:
    """RFC 6962 leaf hash of an event: ``H(0x00 ‖ event_hash)``."""
    return h(b"\x00" + event_hash)


def node_hash(h: Hasher, left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node: ``H(0x01 ‖ left ‖ right)``."""
    return h(b"\x01" + left + right)
