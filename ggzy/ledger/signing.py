"""The platform's tree-head signing key (ECDSA P-256 with SHA-256).

The private key lives in a file outside the repository and the database (``GGZY_LEDGER_KEY``,
default ``var/keys/ledger-signing.pem``, mode 0600), so a database dump cannot forge a tree head.
Anyone verifies with the public key served at ``/api/v1/ledger/key`` or ``openssl dgst``.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings


def _key_path() -> Path:
    return Path(settings.GGZY_LEDGER_KEY)


def ensure_key() -> Path:
    """Create the signing key if this installation has none yet."""
    path = _key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)
        _load.cache_clear()
    return path


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the ledger signing key must be an EC P-256 key")
    return key


def _private_key() -> ec.EllipticCurvePrivateKey:
    path = ensure_key()
    return _load(str(path), path.stat().st_mtime)


def public_key_pem() -> str:
    return (
        _private_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_id() -> str:
    der = (
        _private_key()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return hashlib.sha256(der).hexdigest()


def sign(message: bytes) -> str:
    return base64.b64encode(_private_key().sign(message, ec.ECDSA(hashes.SHA256()))).decode()


def verify(public_pem: str, message: bytes, signature_b64: str) -> bool:
    key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(base64.b64decode(signature_b64), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
