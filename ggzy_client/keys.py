"""Keys, certificates and the three algorithm families, behind one interface.

=============  ======================  ===================  ==================================
family         signature               digest               key wrapping (envelope)
=============  ======================  ===================  ==================================
``sm2``        SM2-with-SM3            SM3                  SM2 encryption (GM/T 0009)
``ecdsa``      ECDSA P-256             SHA-256              ECIES: ECDH P-256 + HKDF + AES-GCM
``rsa``        RSA PKCS#1 v1.5 ≥ 2048  SHA-256              RSA-OAEP (SHA-256)
=============  ======================  ===================  ==================================

Certificates are parsed with ``cryptography``; an SM2 certificate parses there too, only its
public key goes through :mod:`ggzy_client.sm2`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12

from ggzy_client import sm2

SM2, ECDSA, RSA = "sm2", "ecdsa", "rsa"
FAMILIES = (SM2, ECDSA, RSA)
MIN_RSA_BITS = 2048
DIGEST_OF = {SM2: "sm3", ECDSA: "sha256", RSA: "sha256"}
_SIG_OIDS = {
    sm2.SIGNATURE_OID: SM2,
    "1.2.840.10045.4.3.2": ECDSA,  # ecdsa-with-SHA256
    "1.2.840.113549.1.1.11": RSA,  # sha256WithRSAEncryption
}
ECIES_INFO = b"ggzy-envelope-ecies-v1"


class KeyError_(ValueError):
    """A key or certificate this platform cannot use; ``code`` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def digest(name: str, data: bytes) -> bytes:
    """SM3 or SHA-256 of ``data``."""
    return new_hash(name).digest(data)


class _Hash:
    def __init__(self, name: str) -> None:
        if name == "sha256":
            self._h: Any = hashlib.sha256()
            self._lib = False
        elif name == "sm3":
            self._h = hashes.Hash(hashes.SM3())
            self._lib = True
        else:
            raise KeyError_("unsupported_digest", f"unsupported digest {name!r} (sm3, sha256)")
        self.name = name

    def update(self, data: bytes | memoryview) -> None:
        self._h.update(data)

    def finish(self) -> bytes:
        return bytes(self._h.finalize() if self._lib else self._h.digest())

    def digest(self, data: bytes) -> bytes:
        self.update(data)
        return self.finish()


def new_hash(name: str) -> _Hash:
    return _Hash(name)


# --- public keys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicKey:
    family: str
    key: Any  # cryptography key, or sm2.SM2PublicKey

    @property
    def bits(self) -> int:
        return 256 if self.family != RSA else int(self.key.key_size)

    def spki_der(self) -> bytes:
        if self.family == SM2:
            return self.key.spki_der()  # type: ignore[no-any-return]
        return bytes(
            self.key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def fingerprint(self) -> str:
        return hashlib.sha256(self.spki_der()).hexdigest()

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is this key's signature over ``data`` in its family's scheme."""
        if self.family == SM2:
            return bool(self.key.verify(signature, data))
        try:
            if self.family == ECDSA:
                self.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            else:
                self.key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    def wrap(self, content_key: bytes) -> bytes:
        """Encrypt a content key to this (encryption) key."""
        if self.family == SM2:
            return bytes(self.key.encrypt(content_key))
        if self.family == RSA:
            return bytes(self.key.encrypt(content_key, _oaep()))
        eph = ec.generate_private_key(ec.SECP256R1())
        eph_pub = eph.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        kek = _ecies_kek(eph.exchange(ec.ECDH(), self.key), eph_pub, self._point())
        nonce = os.urandom(12)
        return eph_pub + nonce + AESGCM(kek).encrypt(nonce, content_key, ECIES_INFO)

    def _point(self) -> bytes:
        return bytes(
            self.key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _ecies_kek(shared: bytes, eph_pub: bytes, recipient_pub: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=eph_pub + recipient_pub, info=ECIES_INFO
    ).derive(shared)


def public_key_from_spki(der: bytes) -> PublicKey:
    try:
        key = serialization.load_der_public_key(der)
    except Exception:  # cryptography refuses the SM2 curve: try SM2
        try:
            return PublicKey(SM2, sm2.SM2PublicKey.from_spki_der(der))
        except sm2.SM2Error as exc:
            raise KeyError_("unsupported_key", "unsupported public key") from exc
    return _checked(key)


def _checked(key: Any) -> PublicKey:
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise KeyError_(
                "weak_key", f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} required"
            )
        return PublicKey(RSA, key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey(ECDSA, key)
    raise KeyError_("unsupported_key", "only SM2, ECDSA P-256 and RSA ≥ 2048 keys are accepted")


# --- private keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivateKey:
    family: str
    key: Any

    def public_key(self) -> PublicKey:
        return PublicKey(self.family, self.key.public_key())

    def sign(self, data: bytes) -> bytes:
        if self.family == SM2:
            return bytes(self.key.sign(data))
        if self.family == ECDSA:
            return bytes(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
        return bytes(self.key.sign(data, padding.PKCS1v15(), hashes.SHA256()))

    def unwrap(self, wrapped: bytes) -> bytes:
        """Recover a content key wrapped to this key's public half (:meth:`PublicKey.wrap`)."""
        try:
            if self.family == SM2:
                return bytes(self.key.decrypt(wrapped))
            if self.family == RSA:
                return bytes(self.key.decrypt(wrapped, _oaep()))
            eph_pub, nonce, body = wrapped[:65], wrapped[65:77], wrapped[77:]
            peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), eph_pub)
            own = self.public_key()._point()
            kek = _ecies_kek(self.key.exchange(ec.ECDH(), peer), eph_pub, own)
            return AESGCM(kek).decrypt(nonce, body, ECIES_INFO)
        except Exception as exc:
            raise KeyError_("unwrap_failed", "the content key was not wrapped to this key") from exc

    def to_pem(self, password: bytes | None = None) -> bytes:
        if self.family == SM2:
            return bytes(self.key.to_pem(password))
        enc: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc
            )
        )


def generate_private_key(family: str) -> PrivateKey:
    if family == SM2:
        return PrivateKey(SM2, sm2.SM2PrivateKey.generate())
    if family == ECDSA:
        return PrivateKey(ECDSA, ec.generate_private_key(ec.SECP256R1()))
    if family == RSA:
        return PrivateKey(RSA, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    raise KeyError_("unsupported_key", f"unknown family {family!r}")


@dataclass(frozen=True)
class Keystore:
    """A private key with its certificate (and the chain up to the CA, when the file has it)."""

    key: PrivateKey
    certificate: x509.Certificate | None
    chain: tuple[x509.Certificate, ...] = ()


def load_keystore(
    path: str | Path, password: str | bytes | None = None, cert: str | Path | None = None
) -> Keystore:
    """Load a PEM (PKCS#8, SEC1 or PKCS#1; may also hold the certificate and chain) or a PKCS#12
    keystore. SM2 keys are read from PEM (``cryptography`` cannot read SM2 inside PKCS#12)."""
    data = Path(path).read_bytes()
    pw = password.encode() if isinstance(password, str) else password
    certs: list[x509.Certificate] = []
    if b"-----BEGIN" not in data:
        try:
            loaded = pkcs12.load_pkcs12(data, pw)
        except Exception as exc:
            raise KeyError_(
                "bad_keystore", "not a PKCS#12 keystore, or the password is wrong"
            ) from exc
        if loaded.key is None:
            raise KeyError_("bad_keystore", "the PKCS#12 keystore holds no private key")
        key = _private(loaded.key)
        if loaded.cert is not None:
            certs.append(loaded.cert.certificate)
        certs.extend(c.certificate for c in loaded.additional_certs)
    else:
        key = _private_from_pem(data, pw)
        if b"CERTIFICATE" in data:
            certs.extend(x509.load_pem_x509_certificates(data))
    if cert is not None:
        certs = [*load_certificates(Path(cert).read_bytes()), *certs]
    leaf = _matching(key, certs)
    chain = tuple(c for c in certs if c is not leaf)
    return Keystore(key, leaf, chain)


def _matching(key: PrivateKey, certs: list[x509.Certificate]) -> x509.Certificate | None:
    want = key.public_key().spki_der()
    for c in certs:
        try:
            if certificate_public_key(c).spki_der() == want:
                return c
        except KeyError_:
            continue
    return None


def _private_from_pem(data: bytes, pw: bytes | None) -> PrivateKey:
    block = _pem_block(data, "PRIVATE KEY")
    try:
        return _private(serialization.load_pem_private_key(block, pw))
    except KeyError_:
        raise
    except TypeError as exc:
        raise KeyError_("bad_keystore", "the key is encrypted: give its password") from exc
    except Exception:
        try:
            return PrivateKey(SM2, sm2.SM2PrivateKey.from_pem(block, pw))
        except sm2.SM2Error as exc:
            raise KeyError_("bad_keystore", "no usable private key in the file") from exc


def _pem_block(data: bytes, label: str) -> bytes:
    """The first PEM block whose label ends with ``label`` (e.g. ``EC PRIVATE KEY``)."""
    begin = b"-----BEGIN "
    start = 0
    while (i := data.find(begin, start)) >= 0:
        end_label = data.find(b"-----", i + len(begin))
        name = data[i + len(begin) : end_label]
        if name.endswith(label.encode()):
            j = data.find(b"-----END " + name + b"-----", end_label)
            if j >= 0:
                return data[i : j + len(b"-----END ") + len(name) + 5] + b"\n"
        start = end_label + 5
    raise KeyError_("bad_keystore", "no private key in the file")


def _private(key: Any) -> PrivateKey:
    if isinstance(key, rsa.RSAPrivateKey):
        _checked(key.public_key())
        return PrivateKey(RSA, key)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return PrivateKey(ECDSA, key)
    raise KeyError_("unsupported_key", "only SM2, ECDSA P-256 and RSA ≥ 2048 keys are accepted")


# --- certificates -------------------------------------------------------------------------------


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in PEM (one or more blocks) or DER ``data``."""
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return list(x509.load_pem_x509_certificates(data))
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise KeyError_("bad_certificate", "not an X.509 certificate (PEM or DER)") from exc


def certificate_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def certificate_public_key(cert: x509.Certificate) -> PublicKey:
    try:
        return _checked(cert.public_key())
    except KeyError_:
        raise
    except Exception:  # the SM2 curve: cryptography refuses it, read the SPKI ourselves
        return PublicKey(SM2, sm2.SM2PublicKey.from_spki_der(_spki_of(cert)))


def signature_family(cert_or_crl: Any) -> str:
    """The family of the signature *on* a certificate or CRL (by its signature algorithm)."""
    family = _SIG_OIDS.get(cert_or_crl.signature_algorithm_oid.dotted_string)
    if family is None:
        raise KeyError_(
            "unsupported_signature",
            "signature algorithm "
            f"{cert_or_crl.signature_algorithm_oid.dotted_string} is not SM2-with-SM3, "
            "ECDSA-with-SHA256 or sha256WithRSAEncryption",
        )
    return family


def signed_by(obj: Any, issuer_key: PublicKey) -> bool:
    """True when a certificate or CRL carries a valid signature by ``issuer_key``."""
    if signature_family(obj) != issuer_key.family:
        return False
    tbs = getattr(obj, "tbs_certificate_bytes", None) or obj.tbs_certlist_bytes
    return issuer_key.verify(obj.signature, tbs)


def _spki_of(cert: x509.Certificate) -> bytes:
    """The SubjectPublicKeyInfo DER inside a certificate, without decoding the key."""
    tbs = memoryview(cert.tbs_certificate_bytes)
    pos = _der_header(tbs, 0)[1]  # inside the TBSCertificate SEQUENCE
    if tbs[pos] == 0xA0:  # [0] version
        pos = sum(_der_header(tbs, pos)[1:])
    for _ in range(5):  # serial, signature, issuer, validity, subject
        pos = sum(_der_header(tbs, pos)[1:])
    _, body, length = _der_header(tbs, pos)
    return bytes(tbs[pos : body + length])


def _der_header(buf: memoryview, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, length of contents) of the DER element at ``pos``."""
    tag = buf[pos]
    first = buf[pos + 1]
    if first < 0x80:
        return tag, pos + 2, first
    n = first & 0x7F
    return tag, pos + 2 + n, int.from_bytes(buf[pos + 2 : pos + 2 + n], "big")
