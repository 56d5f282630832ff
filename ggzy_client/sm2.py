"""SM2 (GB/T 32918) behind one small interface, implemented with ``tongsuopy`` (Tongsuo).

``cryptography`` has SM3 and SM4 but not SM2. Chosen by measurement (docs/benchmarks.md): tongsuopy
verified ~3,700 SM2 signatures/s on one core here, the pure-Python ``gmssl`` about 100.
Signatures are SM2-with-SM3 with the default distinguishing identifier ``1234567812345678``
(GM/T 0009), the same as ``openssl … -sigopt distid:1234567812345678``; encryption is the
GM/T 0009 ASN.1 ciphertext that ``openssl pkeyutl -encrypt`` makes with an SM2 key.
"""

from __future__ import annotations

from typing import Any

from tongsuopy.backends.tongsuo.backend import backend as _backend
from tongsuopy.crypto import hashes as _hashes
from tongsuopy.crypto import serialization as _ser
from tongsuopy.crypto.asymciphers import ec as _ec
from tongsuopy.crypto.exceptions import InvalidSignature as _InvalidSignature

_ffi = _backend._ffi
_lib = _backend._lib
_ALG = _ec.ECDSA(_hashes.SM3())

CURVE_OID = "1.2.156.10197.1.301"
SIGNATURE_OID = "1.2.156.10197.1.501"  # SM2-with-SM3


class SM2Error(ValueError):
    """Bad SM2 key or ciphertext (a failed signature check returns ``False`` instead)."""


class SM2PublicKey:
    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def from_spki_der(cls, der: bytes) -> SM2PublicKey:
        try:
            key = _ser.load_der_public_key(der)
        except Exception as exc:
            raise SM2Error("not an SM2 public key") from exc
        if getattr(key.curve, "name", "") != "SM2":
            raise SM2Error("not an SM2 public key")
        return cls(key)

    def spki_der(self) -> bytes:
        return bytes(
            self._key.public_bytes(_ser.Encoding.DER, _ser.PublicFormat.SubjectPublicKeyInfo)
        )

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self._key.verify(signature, data, _ALG)
        except (_InvalidSignature, ValueError):
            return False
        except Exception:  # malformed DER inside the signature surfaces as an internal error
            _backend._consume_errors()
            return False
        return True

    def encrypt(self, plaintext: bytes) -> bytes:
        return _pkey_crypt(self._key._evp_pkey, plaintext, encrypt=True)


class SM2PrivateKey:
    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        return cls(_ec.generate_private_key(_ec.SM2()))

    @classmethod
    def from_pem(cls, data: bytes, password: bytes | None = None) -> SM2PrivateKey:
        try:
            key = _ser.load_pem_private_key(data, password)
        except Exception as exc:
            raise SM2Error("not an SM2 private key (or wrong password)") from exc
        if getattr(getattr(key, "curve", None), "name", "") != "SM2":
            raise SM2Error("not an SM2 private key")
        return cls(key)

    def to_pem(self, password: bytes | None = None) -> bytes:
        enc = _ser.BestAvailableEncryption(password) if password else _ser.NoEncryption()
        return bytes(self._key.private_bytes(_ser.Encoding.PEM, _ser.PrivateFormat.PKCS8, enc))

    def public_key(self) -> SM2PublicKey:
        return SM2PublicKey(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        return bytes(self._key.sign(data, _ALG))

    def decrypt(self, ciphertext: bytes) -> bytes:
        return _pkey_crypt(self._key._evp_pkey, ciphertext, encrypt=False)


def _pkey_crypt(evp_pkey: Any, data: bytes, *, encrypt: bool) -> bytes:
    init, run = (
        (_lib.EVP_PKEY_encrypt_init, _lib.EVP_PKEY_encrypt)
        if encrypt
        else (_lib.EVP_PKEY_decrypt_init, _lib.EVP_PKEY_decrypt)
    )
    ctx = _ffi.gc(_lib.EVP_PKEY_CTX_new(evp_pkey, _ffi.NULL), _lib.EVP_PKEY_CTX_free)
    size = _ffi.new("size_t *")
    if init(ctx) != 1 or run(ctx, _ffi.NULL, size, data, len(data)) != 1:
        _backend._consume_errors()
        raise SM2Error("SM2 operation failed")
    buf = _ffi.new("unsigned char[]", size[0])
    if run(ctx, buf, size, data, len(data)) != 1:
        _backend._consume_errors()
        raise SM2Error("SM2 decryption failed" if not encrypt else "SM2 encryption failed")
    return bytes(_ffi.buffer(buf)[: size[0]])
