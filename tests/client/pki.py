"""Test PKI for the client tests (and anyone else's): CAs and issued certificates for the three
families. ECDSA and RSA are made with ``cryptography``; SM2 with the OpenSSL 3 command line
(``cryptography`` cannot sign with SM2).

    ca = make_ca("ecdsa", tmp_path)
    bidder = issue(ca, "ecdsa", "bidder01", tmp_path)
    keystore = keys.load_keystore(bidder.key_path)   # key.pem holds key + cert + CA cert
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from ggzy_client import keys

DISTID = "distid:1234567812345678"
# key usage per family that allows both signing and the envelope's key wrapping
DEFAULT_USAGE = {
    "sm2": ("digitalSignature", "keyEncipherment"),
    "ecdsa": ("digitalSignature", "keyAgreement"),
    "rsa": ("digitalSignature", "keyEncipherment"),
}
_USAGE_FLAGS = (
    "digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment",
    "keyAgreement", "keyCertSign", "cRLSign",
)  # fmt: skip


@dataclass(frozen=True)
class Holder:
    """A key and its certificate on disk. ``key_path``: PKCS#8 PEM key followed by the
    certificate and the chain; ``cert_path``: the certificate alone."""

    family: str
    name: str
    key_path: Path
    cert_path: Path
    chain: tuple[Path, ...] = ()

    @property
    def cert(self) -> x509.Certificate:
        return keys.load_certificates(self.cert_path.read_bytes())[0]

    def keystore(self) -> keys.Keystore:
        return keys.load_keystore(self.key_path)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _write_holder(
    family: str,
    name: str,
    directory: Path,
    key_pem: bytes,
    cert_pem: bytes,
    chain: tuple[Path, ...],
) -> Holder:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / f"{name}.crt"
    cert_path.write_bytes(cert_pem)
    key_path = directory / f"{name}.key.pem"
    key_path.write_bytes(key_pem + cert_pem + b"".join(p.read_bytes() for p in chain))
    return Holder(family, name, key_path, cert_path, chain)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _usage_ext(usage: tuple[str, ...]) -> x509.KeyUsage:
    flags = {
        "digital_signature": "digitalSignature" in usage,
        "content_commitment": "contentCommitment" in usage,
        "key_encipherment": "keyEncipherment" in usage,
        "data_encipherment": "dataEncipherment" in usage,
        "key_agreement": "keyAgreement" in usage,
        "key_cert_sign": "keyCertSign" in usage,
        "crl_sign": "cRLSign" in usage,
    }
    return x509.KeyUsage(**flags, encipher_only=False, decipher_only=False)


def _build(
    subject: str, issuer: str, pub: object, signer: object, usage: tuple[str, ...], ca: bool
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(pub)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage_ext(usage), critical=True)
    )
    return builder.sign(signer, hashes.SHA256())  # type: ignore[arg-type]


def make_ca(family: str, tmp_path: Path, name: str | None = None) -> Holder:
    """A self-signed CA of ``family`` under ``tmp_path/pki``."""
    name = name or f"ca-{family}"
    d = tmp_path / "pki"
    if family == keys.SM2:
        return _sm2_cert(name, d, ca=None, usage=("keyCertSign", "cRLSign"))
    key = keys.generate_private_key(family)
    cert = _build(name, name, key.key.public_key(), key.key, ("keyCertSign", "cRLSign"), True)
    return _write_holder(family, name, d, key.to_pem(), _pem(cert), ())


def issue(
    ca: Holder,
    family: str,
    subject_cn: str,
    tmp_path: Path,
    *,
    key_usage: tuple[str, ...] | None = None,
) -> Holder:
    """An end-entity certificate for a fresh ``family`` key, issued by ``ca`` (same family)."""
    if family != ca.family:
        raise ValueError("the test PKI issues within one family")
    usage = key_usage if key_usage is not None else DEFAULT_USAGE[family]
    d = tmp_path / "pki"
    if family == keys.SM2:
        return _sm2_cert(subject_cn, d, ca=ca, usage=usage)
    ca_key = keys.load_keystore(ca.key_path).key
    key = keys.generate_private_key(family)
    cert = _build(subject_cn, ca.name, key.key.public_key(), ca_key.key, usage, False)
    return _write_holder(family, subject_cn, d, key.to_pem(), _pem(cert), (ca.cert_path,))


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _sm2_cert(name: str, d: Path, *, ca: Holder | None, usage: tuple[str, ...]) -> Holder:
    d.mkdir(parents=True, exist_ok=True)
    key, cert = d / f"{name}.sm2.key", d / f"{name}.sm2.crt"
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", str(key))
    ku = "keyUsage=critical," + ",".join(usage)
    bc = f"basicConstraints=critical,CA:{'FALSE' if ca else 'TRUE'}"
    if ca is None:
        _openssl(
            "req", "-x509", "-new", "-key", str(key), "-sm3", "-sigopt", DISTID,
            "-subj", f"/CN={name}", "-days", "30", "-addext", ku, "-addext", bc, "-out", str(cert),
        )  # fmt: skip
        chain: tuple[Path, ...] = ()
    else:
        csr, ext = d / f"{name}.csr", d / f"{name}.ext"
        ext.write_text(f"{ku}\n{bc}\n")
        _openssl(
            "req", "-new", "-key", str(key), "-sm3", "-sigopt", DISTID, "-subj", f"/CN={name}",
            "-out", str(csr),
        )  # fmt: skip
        ca_key = _sm2_key_only(ca)
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(ca.cert_path), "-CAkey", str(ca_key),
            "-sm3", "-sigopt", DISTID, "-vfyopt", DISTID, "-days", "30", "-extfile", str(ext),
            "-set_serial", str(x509.random_serial_number()), "-out", str(cert),
        )  # fmt: skip
        chain = (ca.cert_path,)
    return _write_holder(keys.SM2, name, d, key.read_bytes(), cert.read_bytes(), chain)


def _sm2_key_only(holder: Holder) -> Path:
    """The key block of a holder's key.pem, for ``openssl -CAkey``."""
    data = holder.key_path.read_bytes()
    end = data.index(b"-----END PRIVATE KEY-----") + len(b"-----END PRIVATE KEY-----\n")
    path = holder.key_path.with_suffix(".only")
    path.write_bytes(data[:end])
    return path
