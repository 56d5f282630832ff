"""A test PKI: one issuing CA per family (root + intermediate), certificates for entities and
people, and the steps that put them into the platform (onboard, bind)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from cryptography.hazmat.primitives.serialization import Encoding

from ggzy.accounts.models import User
from ggzy.registry.models import Entity
from ggzy.trust import bindings, services
from ggzy.trust.issuing import Issued, IssuingCA, new_root
from ggzy.trust.models import CertificateAuthority, CertificateBinding
from ggzy.trust.validation import fingerprint
from ggzy_client import signatures
from ggzy_client.keys import Keystore

NOT_BEFORE = datetime(2026, 1, 1, tzinfo=UTC)
NOT_AFTER = datetime(2028, 1, 1, tzinfo=UTC)


@dataclass
class TestCA:
    family: str
    root: IssuingCA
    sub: IssuingCA
    issued: dict[str, Issued] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return f"test-{self.family}"

    def pems(self) -> list[bytes]:
        return [pem(self.root.certificate), pem(self.sub.certificate)]

    def issue(self, subject: dict[str, str], **kw: object) -> Issued:
        return self.sub.issue(subject, not_before=NOT_BEFORE, not_after=NOT_AFTER, **kw)  # type: ignore[arg-type]


def pem(cert: object) -> bytes:
    return cert.public_bytes(Encoding.PEM)  # type: ignore[attr-defined,no-any-return]


@cache
def test_ca(family: str) -> TestCA:
    """One CA per family for the whole run (key generation is the slow part)."""
    root = new_root(
        family,
        {
            "country_name": "CN",
            "organization_name": f"测试CA {family}",
            "common_name": f"{family} root",
        },
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    sub = root.intermediate(
        {
            "country_name": "CN",
            "organization_name": f"测试CA {family}",
            "common_name": f"{family} sub",
        },
        not_before=NOT_BEFORE,
        not_after=NOT_AFTER,
    )
    return TestCA(family, root, sub)


@cache
def entity_cert(family: str, uscc: str, name: str = "测试公司") -> Issued:
    return test_ca(family).issue({"common_name": name, "serial_number": uscc})


@cache
def person_cert(family: str, resident_id: str, name: str = "张三") -> Issued:
    return test_ca(family).issue({"common_name": name, "serial_number": resident_id})


def onboard(family: str, actor: object = "system:test") -> CertificateAuthority:
    ca = test_ca(family)
    return services.onboard_ca(
        actor=actor, code=ca.code, name=f"测试CA {family}", certificates=ca.pems()
    )


def keystore(issued: Issued) -> Keystore:
    return Keystore(issued.key, issued.certificate, ())


def sign_challenge(issued: Issued, purpose: str, account: str | None = None) -> tuple[str, bytes]:
    """Ask for a challenge and sign its statement with the certificate's key (``account``: the
    user a bind statement names)."""
    ch = bindings.issue_challenge(purpose=purpose)
    fields = bindings.statement_for(ch, fingerprint(issued.certificate), account)
    return ch.nonce, signatures.sign_statement(keystore(issued), fields)


def bind(user: User, issued: Issued, entity: Entity | None = None) -> CertificateBinding:
    nonce, sig = sign_challenge(issued, "bind", user.username)
    return bindings.bind_certificate(
        actor=user, certificate=issued.certificate, nonce=nonce, signature=sig, entity=entity
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
