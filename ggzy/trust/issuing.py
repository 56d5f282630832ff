"""A small issuing CA for the demo world and the tests: certificates and CRLs for all three
families, built with ``asn1crypto`` and signed through :mod:`ggzy_client.keys` (``cryptography``
cannot sign with SM2). Production certificates come from the recognized CAs, not from here."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import core
from asn1crypto import crl as acrl
from asn1crypto import keys as akeys
from asn1crypto import x509 as ax
from cryptography import x509

from ggzy_client import keys
from ggzy_client.keys import PrivateKey

SIG_ALGS = {
    keys.SM2: {"algorithm": "1.2.156.10197.1.501"},
    keys.ECDSA: {"algorithm": "sha256_ecdsa"},
    keys.RSA: {"algorithm": "sha256_rsa", "parameters": core.Null()},
}
SIGN_USAGE = ("digital_signature", "non_repudiation")
BOTH_USAGE = ("digital_signature", "non_repudiation", "key_encipherment", "data_encipherment")
EC_BOTH_USAGE = ("digital_signature", "non_repudiation", "key_agreement")


def default_usage(family: str) -> tuple[str, ...]:
    """Signing and encryption in one certificate (the demo's; real CAs often issue two)."""
    return EC_BOTH_USAGE if family == keys.ECDSA else BOTH_USAGE


@dataclass
class Issued:
    key: PrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return keys.certificate_der(self.certificate)

    @property
    def pem(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return self.certificate.public_bytes(Encoding.PEM)


@dataclass
class IssuingCA:
    family: str
    key: PrivateKey
    certificate: x509.Certificate
    revoked: list[tuple[int, datetime]] = field(default_factory=list)

    @property
    def name(self) -> ax.Name:
        return ax.Certificate.load(keys.certificate_der(self.certificate)).subject

    def issue(
        self,
        subject: dict[str, str],
        *,
        not_before: datetime,
        not_after: datetime,
        family: str | None = None,
        key: PrivateKey | None = None,
        usage: tuple[str, ...] | None = None,
        ca: bool = False,
    ) -> Issued:
        family = family or self.family
        key = key or keys.generate_private_key(family)
        if ca:
            usage = ("key_cert_sign", "crl_sign", "digital_signature")
        cert = _build(
            issuer=self.name,
            issuer_key=self.key,
            subject=ax.Name.build(subject),
            public_key=key.public_key(),
            not_before=not_before,
            not_after=not_after,
            usage=usage if usage is not None else default_usage(family),
            ca=ca,
        )
        return Issued(key, cert)

    def intermediate(
        self, subject: dict[str, str], *, not_before: datetime, not_after: datetime
    ) -> IssuingCA:
        issued = self.issue(subject, not_before=not_before, not_after=not_after, ca=True)
        return IssuingCA(self.family, issued.key, issued.certificate)

    def revoke(self, serial: int, at: datetime) -> None:
        self.revoked.append((serial, at))

    def crl(self, *, this_update: datetime, next_update: datetime, number: int = 1) -> bytes:
        """A DER CRL listing what :meth:`revoke` recorded."""
        entries = [
            {"user_certificate": s, "revocation_date": ax.Time({"utc_time": at})}
            for s, at in self.revoked
        ]
        tbs = acrl.TbsCertList(
            {
                "version": "v2",
                "signature": SIG_ALGS[self.family],
                "issuer": self.name,
                "this_update": ax.Time({"utc_time": this_update}),
                "next_update": ax.Time({"utc_time": next_update}),
                "revoked_certificates": entries,
                "crl_extensions": [
                    {"extn_id": "crl_number", "critical": False, "extn_value": number}
                ],
            }
        )
        signature = self.key.sign(tbs.dump())
        return bytes(
            acrl.CertificateList(
                {
                    "tbs_cert_list": tbs,
                    "signature_algorithm": SIG_ALGS[self.family],
                    "signature": signature,
                }
            ).dump()
        )


def new_root(
    family: str, subject: dict[str, str], *, not_before: datetime, not_after: datetime
) -> IssuingCA:
    key = keys.generate_private_key(family)
    name = ax.Name.build(subject)
    cert = _build(
        issuer=name,
        issuer_key=key,
        subject=name,
        public_key=key.public_key(),
        not_before=not_before,
        not_after=not_after,
        usage=("key_cert_sign", "crl_sign", "digital_signature"),
        ca=True,
    )
    return IssuingCA(family, key, cert)


def _build(
    *,
    issuer: ax.Name,
    issuer_key: PrivateKey,
    subject: ax.Name,
    public_key: keys.PublicKey,
    not_before: datetime,
    not_after: datetime,
    usage: tuple[str, ...],
    ca: bool,
) -> x509.Certificate:
    spki = public_key.spki_der()
    extensions: list[dict[str, Any]] = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_usage", "critical": True, "extn_value": set(usage)},
        {
            "extn_id": "key_identifier",
            "critical": False,
            "extn_value": hashlib.sha1(spki).digest(),
        },
    ]
    tbs = ax.TbsCertificate(
        {
            "version": "v3",
            "serial_number": secrets.randbits(63) | 1 << 62,
            "signature": SIG_ALGS[issuer_key.family],
            "issuer": issuer,
            "validity": {
                "not_before": ax.Time({"utc_time": not_before}),
                "not_after": ax.Time({"utc_time": not_after}),
            },
            "subject": subject,
            "subject_public_key_info": akeys.PublicKeyInfo.load(spki),
            "extensions": extensions,
        }
    )
    signed = ax.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": SIG_ALGS[issuer_key.family],
            "signature_value": issuer_key.sign(tbs.dump()),
        }
    )
    return x509.load_der_x509_certificate(signed.dump())
