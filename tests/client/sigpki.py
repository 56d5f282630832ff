"""Throwaway PKIs for the signature tests: a CA and end-entity certificates per family.

RSA and ECDSA certificates come from ``cryptography``'s CertificateBuilder; SM2 ones from the
``openssl`` command line (``cryptography`` cannot sign with SM2), so SM2 helpers need the binary
(:data:`HAVE_OPENSSL`). :func:`openssl_pki` makes a whole PKI with the command line, for the
interop tests.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from ggzy_client import keys

OPENSSL = shutil.which("openssl")
HAVE_OPENSSL = OPENSSL is not None
DISTID = "distid:1234567812345678"
SM2_SIGN = ["-sm3", "-sigopt", DISTID]


@dataclass(frozen=True)
class Issuer:
    key: keys.PrivateKey
    certificate: x509.Certificate


def openssl(*args: str | Path, cwd: Path | None = None, check: bool = True) -> bytes:
    """Run the openssl binary with explicit arguments; its stdout."""
    proc = subprocess.run(
        [OPENSSL or "openssl", *map(str, args)], cwd=cwd, capture_output=True, check=False
    )
    if check and proc.returncode:
        raise AssertionError(f"openssl {args} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _builder(subject: str, issuer: x509.Name, public_key: object) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
    )


def make_ca(family: str, cn: str = "Test CA") -> Issuer:
    key = keys.generate_private_key(family)
    if family == keys.SM2:
        return Issuer(key, _openssl_self_signed(key, cn))
    cert = (
        _builder(cn, _name(cn), key.key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key.key, hashes.SHA256())
    )
    return Issuer(key, cert)


def make_signer(
    family: str, ca: Issuer, cn: str = "某某建设工程有限公司", *, with_chain: bool = True
) -> keys.Keystore:
    """A keystore: fresh key, its certificate issued by ``ca`` (same family), chain [ca]."""
    key = keys.generate_private_key(family)
    if family == keys.SM2:
        cert = _openssl_issue(key, ca, cn)
    else:
        builder = _builder(cn, ca.certificate.subject, key.key.public_key())
        cert = builder.sign(ca.key.key, hashes.SHA256())
    return keys.Keystore(key, cert, (ca.certificate,) if with_chain else ())


def _openssl_self_signed(key: keys.PrivateKey, cn: str) -> x509.Certificate:
    with tempfile.TemporaryDirectory() as d:
        Path(d, "k.pem").write_bytes(key.to_pem())
        out = openssl(
            "req", "-x509", "-new", "-key", "k.pem", *SM2_SIGN, "-subj", f"/CN={cn}",
            "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", cwd=Path(d),
        )  # fmt: skip
    return keys.load_certificates(out)[0]


def _openssl_issue(key: keys.PrivateKey, ca: Issuer, cn: str) -> x509.Certificate:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)
        (p / "k.pem").write_bytes(key.to_pem())
        (p / "ca.key").write_bytes(ca.key.to_pem())
        (p / "ca.pem").write_bytes(cert_pem(ca.certificate))
        openssl("req", "-new", "-key", "k.pem", *SM2_SIGN, "-subj", f"/CN={cn}", "-utf8",
                "-out", "r.csr", cwd=p)  # fmt: skip
        out = openssl(
            "x509", "-req", "-in", "r.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", *SM2_SIGN, "-vfyopt", DISTID, "-days", "30", cwd=p,
        )  # fmt: skip
    return keys.load_certificates(out)[0]


def write_keystore(path: Path, keystore: keys.Keystore, password: bytes | None = None) -> Path:
    """A PEM keystore file: the key (encrypted when ``password``), certificate, chain."""
    assert keystore.certificate is not None
    certs = [keystore.certificate, *keystore.chain]
    path.write_bytes(keystore.key.to_pem(password) + b"".join(map(cert_pem, certs)))
    return path


# --- a PKI made entirely with the openssl command line ------------------------------------------


@dataclass(frozen=True)
class OpensslPki:
    dir: Path
    family: str
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path

    def keystore(self) -> keys.Keystore:
        return keys.load_keystore(self.key, None, self.cert)


_GENKEY = {
    keys.SM2: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2"],
    keys.ECDSA: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    keys.RSA: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
}


def openssl_pki(d: Path, family: str, *, prefix: str = "") -> OpensslPki:
    """CA + end-entity certificate (and keys) in ``d``, made with ``openssl`` only."""
    d.mkdir(parents=True, exist_ok=True)
    sign = SM2_SIGN if family == keys.SM2 else ["-sha256"]
    vfy = ["-vfyopt", DISTID] if family == keys.SM2 else []
    names = {n: f"{prefix}{n}" for n in ("ca.key", "ca.pem", "ee.key", "ee.csr", "ee.pem")}
    openssl("genpkey", *_GENKEY[family], "-out", names["ca.key"], cwd=d)
    openssl("req", "-x509", "-new", "-key", names["ca.key"], *sign, "-subj", "/CN=Interop CA",
            "-days", "30", "-out", names["ca.pem"], cwd=d)  # fmt: skip
    openssl("genpkey", *_GENKEY[family], "-out", names["ee.key"], cwd=d)
    openssl("req", "-new", "-key", names["ee.key"], *sign, "-subj", "/CN=Interop Signer",
            "-out", names["ee.csr"], cwd=d)  # fmt: skip
    openssl("x509", "-req", "-in", names["ee.csr"], "-CA", names["ca.pem"], "-CAkey",
            names["ca.key"], "-CAcreateserial", *sign, *vfy, "-days", "30",
            "-out", names["ee.pem"], cwd=d)  # fmt: skip
    return OpensslPki(
        d, family, d / names["ca.pem"], d / names["ca.key"], d / names["ee.pem"],
        d / names["ee.key"],
    )  # fmt: skip
