"""Certificate validation against the trust store: chain to a recognized CA, CA status, validity
period, revocation, key usage, and the subject identifier that binds it to an entity or person.

Checks run at a moment ``at`` (default: now), so a signature made before a CA was suspended or a
certificate was revoked stays verifiable as of its own time. A rejection names its reason.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID
from django.db import connection
from django.db.models import Q

from ggzy.core import clock
from ggzy.core.errors import ValidationFailed
from ggzy.trust.models import CACertificate, CAStatusChange, CertificateAuthority
from ggzy.trust.models import RevokedCertificate as Revoked
from ggzy.trust.states import CAStatus
from ggzy.trust.subjects import subject_identifier
from ggzy_client import keys

MAX_DEPTH = 6
PURPOSE_USAGES = {
    "sign": ("digital_signature", "content_commitment"),
    "login": ("digital_signature",),
    "encrypt": ("key_encipherment", "data_encipherment", "key_agreement"),
}

REASONS = {
    "bad_certificate": "不是有效的 X.509 证书 (not an X.509 certificate)",
    "weak_key": "证书密钥强度不足 (weak key: RSA below 2048 bits)",
    "unsupported_key": "不支持的密钥算法 (only SM2, ECDSA P-256, RSA ≥ 2048)",
    "unsupported_signature": "不支持的签名算法 (unsupported signature algorithm)",
    "unknown_ca": "证书不是由平台认可的 CA 签发 (not issued by a recognized CA)",
    "ca_suspended": "签发该证书的 CA 已暂停 (the issuing CA is suspended)",
    "ca_retired": "签发该证书的 CA 已退出 (the issuing CA has left the platform)",
    "expired": "证书已过期 (certificate expired)",
    "not_yet_valid": "证书尚未生效 (certificate not yet valid)",
    "revoked": "证书已被吊销 (certificate revoked)",
    "wrong_key_usage": "证书的密钥用途不允许此操作 (key usage does not allow this)",
    "subject_mismatch": "证书主体与登记的主体不一致 (subject does not match)",
    "ca_certificate": "这是 CA 证书，不是用户证书 (a CA certificate, not an end-entity one)",
}


class CertificateRejected(ValidationFailed):
    """A certificate the platform does not accept; ``code`` is one of :data:`REASONS`."""

    def __init__(self, code: str, detail: Any = None) -> None:
        super().__init__(REASONS[code], code=code, detail=detail)


@dataclass(frozen=True)
class CertificateReport:
    """What a valid certificate is and where it chains to."""

    certificate: x509.Certificate
    fingerprint: str
    family: str
    serial: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    authority: CertificateAuthority
    chain: tuple[CACertificate, ...]  # issuer first, up to the root
    subject_identifier: str
    kind: str  # "entity" (USCC), "person" (ID number) or "" (neither found)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "family": self.family,
            "serial": self.serial,
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "authority": self.authority.code,
            "chain": [c.subject for c in self.chain],
            "subject_identifier": self.subject_identifier,
            "kind": self.kind,
        }


# --- parsing ------------------------------------------------------------------------------------


def parse_certificate(data: bytes | str) -> x509.Certificate:
    """One certificate from PEM, DER, or base64 of DER (what JSON bodies carry)."""
    raw = data.encode() if isinstance(data, str) else data
    if b"-----BEGIN" not in raw and raw[:1] != b"\x30":
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise CertificateRejected("bad_certificate") from None
    try:
        certs = keys.load_certificates(raw)
    except keys.KeyError_:
        raise CertificateRejected("bad_certificate") from None
    if len(certs) != 1:
        raise CertificateRejected("bad_certificate", detail={"certificates": len(certs)})
    return certs[0]


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(keys.certificate_der(cert)).hexdigest()


def name_hash(name: x509.Name) -> str:
    return hashlib.sha256(name.public_bytes()).hexdigest()


def public_key(cert: x509.Certificate) -> keys.PublicKey:
    try:
        return keys.certificate_public_key(cert)
    except keys.KeyError_ as exc:
        code = exc.code if exc.code in REASONS else "unsupported_key"
        raise CertificateRejected(code, detail={"reason": str(exc)}) from None


def signature_family(cert: Any) -> str:
    try:
        return keys.signature_family(cert)
    except keys.KeyError_ as exc:
        raise CertificateRejected("unsupported_signature", detail={"reason": str(exc)}) from None


# --- the chain ----------------------------------------------------------------------------------

_ca_keys: dict[str, tuple[x509.Certificate, keys.PublicKey]] = {}


def ca_material(row: CACertificate) -> tuple[x509.Certificate, keys.PublicKey]:
    """Parsed certificate and public key of a stored CA certificate (immutable: cached)."""
    cached = _ca_keys.get(row.fingerprint)
    if cached is None:
        cert = x509.load_der_x509_certificate(bytes(row.der))
        cached = (cert, keys.certificate_public_key(cert))
        _ca_keys[row.fingerprint] = cached
    return cached


def find_issuer(cert: Any) -> CACertificate | None:
    """The stored CA certificate that signed ``cert`` (a certificate or a CRL), or ``None``."""
    family = signature_family(cert)
    candidates = (
        CACertificate.objects.select_related("authority")
        .filter(subject_hash=name_hash(cert.issuer), family=family)
        .order_by("-not_after", "pk")  # a renewed CA certificate before the one it replaced
    )
    for row in candidates:
        if keys.signed_by(cert, ca_material(row)[1]):
            return row
    return None


_chains: dict[tuple[str, int], tuple[CACertificate, ...]] = {}


def chain_of(row: CACertificate) -> tuple[CACertificate, ...]:
    """``row`` and its issuers up to the self-signed root (all in the store; cached, since CA
    certificates are never changed or deleted)."""
    key = (row.fingerprint, row.pk)
    cached = _chains.get(key)
    if cached is None:
        cached = _chains[key] = _walk_up(row)
    return cached


def _walk_up(row: CACertificate) -> tuple[CACertificate, ...]:
    chain = [row]
    while not chain[-1].is_root and len(chain) < MAX_DEPTH:
        parent = find_issuer(ca_material(chain[-1])[0])
        if parent is None or parent in chain:
            break
        chain.append(parent)
    return tuple(chain)


def authority_status(authority: CertificateAuthority, at: datetime | None) -> str:
    """The CA's status at ``at`` (now when ``None``); ``authority`` must be freshly read."""
    if at is None or at >= authority.status_changed_at:
        return authority.status
    return status_from_history(authority, at)


def status_from_history(authority: CertificateAuthority, at: datetime) -> str:
    """The status the CA's change history gives for ``at``."""
    change = (
        CAStatusChange.objects.filter(authority=authority, at__lte=at)
        .order_by("-at", "-pk")
        .values_list("status", flat=True)
        .first()
    )
    return change or CAStatus.ACTIVE


# --- validation ---------------------------------------------------------------------------------


def validate(
    cert: x509.Certificate, *, purpose: str | None = None, at: datetime | None = None
) -> CertificateReport:
    """Validate an end-entity certificate at ``at`` (default now) for ``purpose``
    (``sign``, ``login``, ``encrypt`` or ``None`` for any); raise :class:`CertificateRejected`."""
    if at is not None and at.tzinfo is None:
        raise ValidationFailed(
            "时间须带时区 (give the time with its time zone, e.g. +08:00)", code="naive_datetime"
        )
    moment = at or clock.now()
    key = public_key(cert)  # weak or unsupported keys first: nothing else matters then
    _refuse_ca_certificate(cert)
    chain, authority = _issuer_and_chain(cert, moment, at)
    _check_period(cert, moment)
    for ca in chain:
        _check_period(ca_material(ca)[0], moment)
    if purpose is not None:
        check_key_usage(cert, purpose)
    identifier, kind = subject_identifier(cert, authority.subject_id_attribute)
    return CertificateReport(
        certificate=cert,
        fingerprint=fingerprint(cert),
        family=key.family,
        serial=format(cert.serial_number, "x"),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        authority=authority,
        chain=chain,
        subject_identifier=identifier,
        kind=kind,
    )


def _issuer_and_chain(
    cert: x509.Certificate, moment: datetime, at: datetime | None
) -> tuple[tuple[CACertificate, ...], CertificateAuthority]:
    """The chain from the issuing CA certificate up to the root, and the CA as stored now, with
    the CA's status and revocation checked.

    The fast path finds the issuer among cached candidates and checks the CA status, the
    revocation of every link and that the cached rows are still the stored ones in one query; a
    cache miss or a stale cache takes the plain path through the ORM."""
    issuer = _cached_issuer(cert)
    if issuer is not None:
        chain = chain_of(issuer)
        state = _store_state(cert, chain, moment)
        if state is not None:
            status, changed_since, revoked, attribute = state
            authority = copy.copy(issuer.authority)  # the cached row, with today's values
            authority.status, authority.subject_id_attribute = status, attribute
            if at is not None and changed_since:  # (the cached row's status_changed_at is old)
                status = status_from_history(authority, at)
            _refuse_status(issuer, status)
            if revoked:
                _check_revocation(cert, issuer, chain, moment)  # raises, naming the serial
            return chain, authority
        _candidates.clear()
        _chains.clear()
    issuer = find_issuer(cert)
    if issuer is None:
        raise CertificateRejected("unknown_ca", detail={"issuer": cert.issuer.rfc4514_string()})
    _refuse_status(issuer, authority_status(issuer.authority, at))
    chain = chain_of(issuer)
    _check_revocation(cert, issuer, chain, moment)
    return chain, issuer.authority


def _refuse_status(issuer: CACertificate, status: str) -> None:
    if status != CAStatus.ACTIVE:
        code = "ca_suspended" if status == CAStatus.SUSPENDED else "ca_retired"
        raise CertificateRejected(code, detail={"authority": issuer.authority.code})


_candidates: dict[tuple[str, str], list[CACertificate]] = {}


def _cached_issuer(cert: x509.Certificate) -> CACertificate | None:
    """The issuer among the CA certificates seen before with the issuer's name (no query)."""
    key = (name_hash(cert.issuer), signature_family(cert))
    rows = _candidates.get(key)
    if rows is None:
        rows = _candidates[key] = list(
            CACertificate.objects.select_related("authority")
            .filter(subject_hash=key[0], family=key[1])
            .order_by("-not_after", "pk")
        )
    for row in rows:
        if keys.signed_by(cert, ca_material(row)[1]):
            return row
    _candidates.pop(key, None)  # none fits: read the store again next time (a CA cert just added)
    return None


def _store_state(
    cert: x509.Certificate, chain: tuple[CACertificate, ...], moment: datetime
) -> tuple[str, bool, bool, str] | None:
    """(CA status, changed after ``moment``, any link revoked by ``moment``, subject attribute)
    in one query, or
    ``None`` when the cached rows are no longer the stored ones."""
    ca_table = CertificateAuthority._meta.db_table
    cert_table = CACertificate._meta.db_table
    revoked_table = Revoked._meta.db_table
    when = connection.ops.adapt_datetimefield_value(moment)
    links = _links(cert, chain)
    same_rows = " OR ".join(["(id = %s AND fingerprint = %s)"] * len(chain))
    revoked_links = " OR ".join(["(issuer_id = %s AND serial = %s)"] * len(links))
    sql = (
        f"SELECT a.status, CASE WHEN a.status_changed_at > %s THEN 1 ELSE 0 END, "
        f"a.subject_id_attribute, "
        f"(SELECT COUNT(*) FROM {cert_table} WHERE {same_rows}), "
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {revoked_table} "
        f"WHERE ({revoked_links}) AND revoked_at <= %s LIMIT 1) AS hit) "
        f"FROM {ca_table} a WHERE a.id = %s"
    )
    params: list[Any] = [when]
    for row in chain:
        params += [row.pk, row.fingerprint]
    for issuer_id, serial in links:
        params += [issuer_id, serial]
    params += [when, chain[0].authority_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None or int(found[3]) != len(chain):
        return None
    return str(found[0]), bool(found[1]), bool(found[4]), str(found[2])


def _links(cert: x509.Certificate, chain: tuple[CACertificate, ...]) -> list[tuple[int, str]]:
    """(issuer row, serial) for the certificate and for each CA certificate below the root."""
    links = [(chain[0].pk, format(cert.serial_number, "x"))]
    for child, parent in itertools.pairwise(chain):
        links.append((parent.pk, child.serial))
    return links


def _refuse_ca_certificate(cert: x509.Certificate) -> None:
    try:
        constraints = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
    except x509.ExtensionNotFound:
        return
    except ValueError:
        raise CertificateRejected("bad_certificate") from None
    if constraints.value.ca:  # type: ignore[attr-defined]
        raise CertificateRejected("ca_certificate")


def _check_period(cert: x509.Certificate, moment: datetime) -> None:
    if moment < cert.not_valid_before_utc:
        raise CertificateRejected(
            "not_yet_valid", detail={"not_before": cert.not_valid_before_utc.isoformat()}
        )
    if moment > cert.not_valid_after_utc:
        raise CertificateRejected(
            "expired", detail={"not_after": cert.not_valid_after_utc.isoformat()}
        )


def _check_revocation(
    cert: x509.Certificate,
    issuer: CACertificate,
    chain: tuple[CACertificate, ...],
    moment: datetime,
) -> None:
    """The certificate against its issuer's CRLs, each intermediate against its parent's."""
    condition = Q()
    for issuer_id, serial in _links(cert, chain):
        condition |= Q(issuer_id=issuer_id, serial=serial)
    hit = (
        Revoked.objects.filter(condition, revoked_at__lte=moment)
        .values_list("serial", "revoked_at")
        .first()
    )
    if hit is not None:
        raise CertificateRejected(
            "revoked", detail={"serial": hit[0], "revoked_at": hit[1].isoformat()}
        )


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        raise CertificateRejected("bad_certificate") from None


def check_key_usage(cert: x509.Certificate, purpose: str) -> None:
    """Refuse unless the keyUsage extension (when present) allows ``purpose``."""
    usage = _key_usage(cert)
    if usage is not None and not any(getattr(usage, n) for n in PURPOSE_USAGES[purpose]):
        raise CertificateRejected("wrong_key_usage", detail={"purpose": purpose})


def check_key_usage_ca(cert: x509.Certificate) -> None:
    """A CA certificate must be allowed to sign certificates (when keyUsage is present)."""
    usage = _key_usage(cert)
    if usage is not None and not usage.key_cert_sign:
        raise CertificateRejected("wrong_key_usage", detail={"purpose": "ca"})
