"""The demo PKI: three demo CAs (SM2, ECDSA P-256, RSA 2048), a bound certificate for every demo
bidder and keystores on disk under ``var/demo-keys/`` so ``ggzy-client`` can log in, sign and seal.

Everything goes through the services (onboard, CRL import, proof-of-possession binding). The CA
private keys never enter the database; for the demo they are written under ``demo-keys/ca/``
(mode 0600). Idempotent: when CA ``demo-sm2`` exists nothing is done.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12
from django.db import transaction

from ggzy.accounts.models import User
from ggzy.core import clock
from ggzy.registry.models import Entity, MemberRole, Membership
from ggzy.trust import bindings, services
from ggzy.trust.issuing import Issued, IssuingCA, new_root
from ggzy.trust.models import CertificateAuthority
from ggzy.trust.validation import fingerprint
from ggzy_client import keys, signatures

SYSTEM = "system:demo"
FAMILIES = (keys.SM2, keys.ECDSA, keys.RSA)
CA_NAMES = {
    keys.SM2: "演示CA（SM2）",
    keys.ECDSA: "演示CA（ECDSA P-256）",
    keys.RSA: "演示CA（RSA）",
}
P12_PASSWORD = b"Demo-2026-ggzy"
CA_FROM = datetime(2026, 1, 1, tzinfo=UTC)
CA_UNTIL = datetime(2036, 12, 31, tzinfo=UTC)
CERT_FROM = datetime(2026, 1, 1, tzinfo=UTC)
CERT_UNTIL = datetime(2028, 12, 31, 23, 59, 59, tzinfo=UTC)
PERSON_USERS = ("zhuanjia", "zuzhi", "jianguan")  # expert, opening staff, regulator
PERSON_PREFIXES = ("tenderer", "agent")
REVOKED_FAMILY = keys.ECDSA


def ca_code(family: str) -> str:
    return f"demo-{family}"


@dataclass
class DemoCA:
    family: str
    root: IssuingCA
    sub: IssuingCA

    @property
    def code(self) -> str:
        return ca_code(self.family)

    def chain(self) -> list[x509.Certificate]:
        return [self.sub.certificate, self.root.certificate]

    def issue(self, subject: dict[str, str]) -> Issued:
        return self.sub.issue(subject, not_before=CERT_FROM, not_after=CERT_UNTIL)


@dataclass
class DemoPKIResult:
    created: bool
    root: Path
    keystores: dict[str, tuple[str, Path]] = field(default_factory=dict)  # user → family, path

    def samples(self) -> dict[str, tuple[str, Path]]:
        """The first keystore of each family (family → username, path)."""
        out: dict[str, tuple[str, Path]] = {}
        for username, (family, path) in sorted(self.keystores.items()):
            out.setdefault(family, (username, path))
        return out


# --- files --------------------------------------------------------------------------------------


def _dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _write(path: Path, data: bytes) -> Path:
    _dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)
    return path


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.PEM)


def write_keystore(directory: Path, issued: Issued, chain: list[x509.Certificate]) -> Path:
    """``key.pem`` (key + certificate + chain), ``cert.pem``, ``chain.pem`` and, for RSA/ECDSA,
    ``keystore.p12``. Returns the path of ``key.pem``."""
    chain_pem = b"".join(_pem(c) for c in chain)
    key_path = _write(directory / "key.pem", issued.key.to_pem() + issued.pem + chain_pem)
    _write(directory / "cert.pem", issued.pem)
    _write(directory / "chain.pem", chain_pem)
    if issued.key.family != keys.SM2:
        p12 = pkcs12.serialize_key_and_certificates(
            b"ggzy-demo",
            issued.key.key,
            issued.certificate,
            chain,
            BestAvailableEncryption(P12_PASSWORD),
        )
        _write(directory / "keystore.p12", p12)
    return key_path


# --- CAs ----------------------------------------------------------------------------------------


def _name(family: str, cn: str) -> dict[str, str]:
    return {
        "country_name": "CN",
        "organization_name": f"OpenGGZY 演示CA {family.upper()}",
        "common_name": cn,
    }


def make_ca(family: str) -> DemoCA:
    root = new_root(
        family, _name(family, f"demo {family} root"), not_before=CA_FROM, not_after=CA_UNTIL
    )
    sub = root.intermediate(
        _name(family, f"demo {family} issuing"), not_before=CA_FROM, not_after=CA_UNTIL
    )
    return DemoCA(family, root, sub)


def _onboard(ca: DemoCA, ca_dir: Path) -> CertificateAuthority:
    _write(ca_dir / f"{ca.code}-root.pem", _pem(ca.root.certificate))
    _write(ca_dir / f"{ca.code}-sub.pem", _pem(ca.sub.certificate))
    _write(ca_dir / f"{ca.code}-root-key.pem", ca.root.key.to_pem())
    _write(ca_dir / f"{ca.code}-sub-key.pem", ca.sub.key.to_pem())
    return services.onboard_ca(
        actor=SYSTEM,
        code=ca.code,
        name=CA_NAMES[ca.family],
        certificates=[_pem(ca.root.certificate), _pem(ca.sub.certificate)],
    )


def _publish_crl(ca: DemoCA, ca_dir: Path) -> None:
    now = clock.now()
    der = ca.sub.crl(this_update=now - timedelta(minutes=1), next_update=CERT_UNTIL)
    _write(ca_dir / f"{ca.code}.crl", der)
    services.import_crl(actor=SYSTEM, data=der, source="demo")


# --- holders ------------------------------------------------------------------------------------


def demo_bidders() -> list[tuple[User, Entity]]:
    """Each demo bidder entity's admin user (``bidder01``…), in username order."""
    rows = (
        Membership.objects.select_related("user", "entity")
        .filter(role=MemberRole.ADMIN, entity__is_bidder=True, user__username__startswith="bidder")
        .order_by("user__username", "entity__uscc")
    )
    seen: dict[str, tuple[User, Entity]] = {}
    for m in rows:
        seen.setdefault(m.user.username, (m.user, m.entity))
    return list(seen.values())


def demo_people() -> list[User]:
    """The people who sign as themselves: the expert, the opening staff, the regulator (and\ntenderer/agent users, once they have a resident ID)."""
    users = User.objects.exclude(resident_id="").order_by("username")
    return [
        u for u in users if u.username in PERSON_USERS or u.username.startswith(PERSON_PREFIXES)
    ]


def bind(user: User, issued: Issued, entity: Entity | None) -> None:
    """Bind through the real service, with a proof-of-possession signature."""
    challenge = bindings.issue_challenge(purpose="bind")
    fields = bindings.statement_for(challenge, fingerprint(issued.certificate), user.username)
    keystore = keys.Keystore(issued.key, issued.certificate, ())
    bindings.bind_certificate(
        actor=user,
        certificate=issued.certificate,
        nonce=challenge.nonce,
        signature=signatures.sign_statement(keystore, fields),
        entity=entity,
    )


def _entity_cert(ca: DemoCA, entity: Entity) -> Issued:
    return ca.issue(
        {"country_name": "CN", "common_name": entity.name, "serial_number": entity.uscc}
    )


def _person_cert(ca: DemoCA, user: User) -> Issued:
    name = user.display_name.split()[-1] if user.display_name else user.username
    return ca.issue({"country_name": "CN", "common_name": name, "serial_number": user.resident_id})


# --- the loader ---------------------------------------------------------------------------------


def load_demo_pki(var_dir: Path | str) -> DemoPKIResult:
    """Create, onboard and bind the demo PKI; write keystores under ``var_dir/demo-keys``."""
    root = _dir(Path(var_dir) / "demo-keys")
    if CertificateAuthority.objects.filter(code=ca_code(keys.SM2)).exists():
        return DemoPKIResult(False, root, existing_keystores(root))
    cas = {family: make_ca(family) for family in FAMILIES}
    result = DemoPKIResult(True, root)
    with transaction.atomic():
        for ca in cas.values():
            _onboard(ca, _dir(root / "ca"))
        _issue_bidders(cas, root, result)
        _issue_people(cas, root, result)
        _issue_revoked(cas[REVOKED_FAMILY], root)
        for ca in cas.values():
            _publish_crl(ca, root / "ca")
    return result


def _issue_bidders(cas: dict[str, DemoCA], root: Path, result: DemoPKIResult) -> None:
    for i, (user, entity) in enumerate(demo_bidders()):
        ca = cas[FAMILIES[i % len(FAMILIES)]]
        issued = _entity_cert(ca, entity)
        bind(user, issued, entity)
        path = write_keystore(root / user.username, issued, ca.chain())
        result.keystores[user.username] = (ca.family, path)


def _issue_people(cas: dict[str, DemoCA], root: Path, result: DemoPKIResult) -> None:
    for i, user in enumerate(demo_people()):
        ca = cas[FAMILIES[i % len(FAMILIES)]]
        issued = _person_cert(ca, user)
        bind(user, issued, None)
        path = write_keystore(root / user.username, issued, ca.chain())
        result.keystores[user.username] = (ca.family, path)


def _issue_revoked(ca: DemoCA, root: Path) -> None:
    """A certificate for the first bidder entity, revoked in the CA's CRL (never bound): log in
    with ``demo-keys/revoked/key.pem`` to see the ``revoked`` rejection."""
    bidders = demo_bidders()
    if not bidders:
        return
    issued = _entity_cert(ca, bidders[0][1])
    ca.sub.revoke(issued.certificate.serial_number, clock.now() - timedelta(minutes=2))
    write_keystore(root / "revoked", issued, ca.chain())


def load_ca(root: Path, family: str) -> DemoCA:
    """A demo CA as :func:`load_demo_pki` wrote it under ``root/ca`` (to issue further
    certificates once the PKI exists)."""
    ca_dir, code = root / "ca", ca_code(family)
    cas = []
    for level in ("root", "sub"):
        ks = keys.load_keystore(
            ca_dir / f"{code}-{level}-key.pem", cert=ca_dir / f"{code}-{level}.pem"
        )
        assert ks.certificate is not None
        cas.append(IssuingCA(family, ks.key, ks.certificate))
    return DemoCA(family, cas[0], cas[1])


def issue_person_keystores(root: Path | str, users: list[User]) -> dict[str, tuple[str, Path]]:
    """Person certificates for further demo users (the evaluation demo's experts) from the demo
    CAs on disk, bound to their accounts like :func:`demo_people`'s; keystores under
    ``root/<username>``. Returns username → family, path of key.pem."""
    root = Path(root)
    cas: dict[str, DemoCA] = {}
    out: dict[str, tuple[str, Path]] = {}
    for i, user in enumerate(users):
        family = FAMILIES[i % len(FAMILIES)]
        ca = cas.setdefault(family, load_ca(root, family))
        issued = _person_cert(ca, user)
        bind(user, issued, None)
        out[user.username] = (family, write_keystore(root / user.username, issued, ca.chain()))
    return out


def existing_keystores(root: Path) -> dict[str, tuple[str, Path]]:
    """The keystores a previous run wrote (username → family, path of key.pem)."""
    out: dict[str, tuple[str, Path]] = {}
    for path in sorted(root.glob("*/key.pem")):
        if path.parent.name in ("ca", "revoked"):
            continue
        try:
            family = keys.load_keystore(path).key.family
        except (OSError, ValueError):
            continue
        out[path.parent.name] = (family, path)
    return out
