"""Trust-store writes: onboard a CA, add its certificates, suspend / reinstate / retire it,
import CRLs (file or the CA's CRL address). Each change is a ledger event."""

from __future__ import annotations

import hashlib
import re
import urllib.request
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtensionOID
from django.db import IntegrityError, transaction

from ggzy.accounts.gate import require
from ggzy.core import clock
from ggzy.core.errors import Conflict, ValidationFailed
from ggzy.ledger.context import actor_ref
from ggzy.ledger.services import append_event
from ggzy.trust import states, subjects, validation
from ggzy.trust.models import (
    CACertificate,
    CAStatusChange,
    CertificateAuthority,
    RevocationList,
    RevokedCertificate,
)
from ggzy.trust.validation import CertificateRejected
from ggzy_client import keys

CA_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
CRL_FETCH_TIMEOUT = 10
CRL_MAX_BYTES = 20 * 1024 * 1024


def _actor_may_manage(actor: Any) -> None:
    if not (isinstance(actor, str) and actor.startswith("system:")):
        require(actor, "trust.manage")


def onboard_ca(
    *,
    actor: Any,
    code: str,
    name: str,
    certificates: list[bytes],
    subject_id_attribute: str = "",
    crl_url: str = "",
) -> CertificateAuthority:
    """Recognize a CA with its root (and any intermediate) certificates, PEM or DER."""
    _actor_may_manage(actor)
    if not CA_CODE.fullmatch(code):
        raise ValidationFailed(
            "CA 代码只能包含小写字母、数字和连字符 (code: lowercase letters, digits, hyphens)",
            code="bad_ca_code",
            detail={"code": code},
        )
    parsed = _parse_ca_certificates(certificates)
    if subject_id_attribute and not subjects.known_attribute(subject_id_attribute):
        raise ValidationFailed(
            "未知的主题属性 (unknown subject attribute)",
            code="bad_subject_attribute",
            detail={"attribute": subject_id_attribute},
        )
    now = clock.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                authority = CertificateAuthority.objects.create(
                    code=code,
                    name=name,
                    subject_id_attribute=subject_id_attribute,
                    crl_url=crl_url,
                    onboarded_at=now,
                    status_changed_at=now,
                )
        except IntegrityError:
            raise Conflict("CA 代码已存在 (CA code taken)", code="ca_code_taken") from None
        CAStatusChange.objects.create(
            authority=authority, status=states.CAStatus.ACTIVE, at=now, by=actor_ref(actor)
        )
        added = _store(authority, parsed)
        append_event(
            actor=actor,
            event_type="trust.ca_onboarded",
            subject=f"ca:{code}",
            payload={"name": name, "certificates": [c.fingerprint for c in added]},
        )
    return authority


def add_ca_certificates(
    *, actor: Any, authority: CertificateAuthority, certificates: list[bytes]
) -> list[CACertificate]:
    """Add certificates to a recognized CA: a new intermediate, or a new root (e.g. moving to SM2)."""
    _actor_may_manage(actor)
    parsed = _parse_ca_certificates(certificates)
    with transaction.atomic():
        added = _store(authority, parsed)
        append_event(
            actor=actor,
            event_type="trust.ca_certificates_added",
            subject=f"ca:{authority.code}",
            payload={"certificates": [c.fingerprint for c in added]},
        )
    return added


def _parse_ca_certificates(blobs: list[bytes]) -> list[x509.Certificate]:
    if not blobs:
        raise ValidationFailed("请上传至少一张 CA 证书", code="no_certificates")
    certs: list[x509.Certificate] = []
    for blob in blobs:
        try:
            certs.extend(keys.load_certificates(blob))
        except keys.KeyError_:
            raise CertificateRejected("bad_certificate") from None
    for cert in certs:
        validation.public_key(cert)  # weak / unsupported keys refused
        validation.signature_family(cert)
        _require_ca(cert)
    return certs


def _require_ca(cert: x509.Certificate) -> None:
    try:
        constraints = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
        is_ca = bool(constraints.ca)  # type: ignore[attr-defined]
    except (x509.ExtensionNotFound, ValueError):
        is_ca = False
    if not is_ca:
        raise ValidationFailed(
            "不是 CA 证书（缺少 basicConstraints CA:TRUE）(not a CA certificate)",
            code="not_a_ca_certificate",
            detail={"subject": cert.subject.rfc4514_string()},
        )
    try:
        validation.check_key_usage_ca(cert)
    except CertificateRejected:
        raise ValidationFailed(
            "CA 证书的密钥用途不含证书签发 (keyCertSign missing)",
            code="not_a_ca_certificate",
            detail={"subject": cert.subject.rfc4514_string()},
        ) from None


def _store(authority: CertificateAuthority, certs: list[x509.Certificate]) -> list[CACertificate]:
    """Store roots first, then each intermediate once its issuer is stored (in any order given)."""
    now = clock.now()
    pending = list(certs)
    added: list[CACertificate] = []
    while pending:
        progress = False
        for cert in list(pending):
            is_root = _self_signed(cert)
            if not is_root and not _issued_within(authority, cert):
                continue
            added.append(_insert(authority, cert, is_root, now))
            pending.remove(cert)
            progress = True
        if not progress:
            raise ValidationFailed(
                "中间证书无法链接到已上传的根证书 (intermediate does not chain to a stored root)",
                code="chain_incomplete",
                detail={"subjects": [c.subject.rfc4514_string() for c in pending]},
            )
    return added


def _issued_within(authority: CertificateAuthority, cert: x509.Certificate) -> bool:
    """Whether ``cert`` was issued by a stored certificate of the same CA. Chains never cross
    CAs, so suspending a CA stops everything below it and nothing else."""
    issuer = validation.find_issuer(cert)
    if issuer is not None and issuer.authority_id != authority.pk:
        raise ValidationFailed(
            "中间证书由另一家 CA 的证书签发 (the intermediate is issued by another CA's certificate)",
            code="foreign_chain",
            detail={"subject": cert.subject.rfc4514_string(), "issuer_ca": issuer.authority.code},
        )
    return issuer is not None


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    if not keys.signed_by(cert, validation.public_key(cert)):
        raise ValidationFailed(
            "根证书自签名无效 (root self-signature does not verify)", code="bad_root_signature"
        )
    return True


def _insert(
    authority: CertificateAuthority, cert: x509.Certificate, is_root: bool, now: Any
) -> CACertificate:
    fp = validation.fingerprint(cert)
    try:
        with transaction.atomic():
            return CACertificate.objects.create(
                authority=authority,
                der=keys.certificate_der(cert),
                fingerprint=fp,
                subject=cert.subject.rfc4514_string()[:500],
                subject_hash=validation.name_hash(cert.subject),
                issuer=cert.issuer.rfc4514_string()[:500],
                serial=format(cert.serial_number, "x"),
                family=validation.public_key(cert).family,
                is_root=is_root,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                added_at=now,
            )
    except IntegrityError:
        raise Conflict(
            "该 CA 证书已在信任库中 (certificate already in the trust store)",
            code="ca_certificate_exists",
            detail={"fingerprint": fp},
        ) from None


def set_ca_status(
    *, actor: Any, authority: CertificateAuthority, status: str, reason: str = ""
) -> CertificateAuthority:
    """Suspend, reinstate or retire a CA. Its certificates stop (or resume) working from now;
    signatures made before stay verifiable as of their time."""
    _actor_may_manage(actor)
    with transaction.atomic():
        authority = CertificateAuthority.objects.select_for_update().get(pk=authority.pk)
        if not states.can_move_ca(authority.status, status):
            raise Conflict(
                "CA 状态不允许此变更 (status change not allowed)",
                code="bad_ca_transition",
                detail={"from": authority.status, "to": status},
            )
        now = clock.now()
        authority.status = status
        authority.status_changed_at = now
        authority.save(update_fields=["status", "status_changed_at"])
        CAStatusChange.objects.create(
            authority=authority, status=status, at=now, by=actor_ref(actor), reason=reason[:300]
        )
        append_event(
            actor=actor,
            event_type="trust.ca_status_changed",
            subject=f"ca:{authority.code}",
            payload={"status": status, "reason": reason},
        )
    return authority


# --- CRLs ---------------------------------------------------------------------------------------


def import_crl(
    *,
    actor: Any,
    data: bytes,
    source: str = "upload",
    authority: CertificateAuthority | None = None,
) -> RevocationList:
    """Import a CRL signed by a stored CA certificate; re-importing the same CRL is a no-op."""
    _actor_may_manage(actor)
    crl = _parse_crl(data)
    issuer = validation.find_issuer(crl)
    if issuer is None or (authority is not None and issuer.authority_id != authority.pk):
        raise ValidationFailed(
            "CRL 不是由该 CA 的证书签发 (CRL not signed by a recognized CA certificate)",
            code="crl_unknown_issuer",
            detail={"issuer": crl.issuer.rfc4514_string()},
        )
    fp = hashlib.sha256(data).hexdigest()
    existing = RevocationList.objects.filter(fingerprint=fp).first()
    if existing is not None:
        return existing
    latest = issuer.crls.order_by("-this_update").first()
    if latest is not None and crl.last_update_utc < latest.this_update:
        raise Conflict(
            "该 CRL 早于已导入的 CRL (older than the CRL already imported)",
            code="crl_outdated",
            detail={"this_update": crl.last_update_utc.isoformat()},
        )
    return _store_crl(actor, issuer, crl, fp, source)


def _parse_crl(data: bytes) -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN X509 CRL-----" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise ValidationFailed("不是有效的 CRL (not a CRL, PEM or DER)", code="bad_crl") from None


def _store_crl(
    actor: Any, issuer: CACertificate, crl: x509.CertificateRevocationList, fp: str, source: str
) -> RevocationList:
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (x509.ExtensionNotFound, ValueError):
        number = None
    entries = [
        RevokedCertificate(
            issuer=issuer,
            serial=format(r.serial_number, "x"),
            revoked_at=r.revocation_date_utc,
            reason=_reason(r),
        )
        for r in crl
    ]
    with transaction.atomic():
        row = RevocationList.objects.create(
            issuer=issuer,
            number=number,
            this_update=crl.last_update_utc,
            next_update=crl.next_update_utc,
            entries=len(entries),
            source=source[:500],
            fingerprint=fp,
            imported_at=clock.now(),
        )
        RevokedCertificate.objects.bulk_create(entries, batch_size=2000, ignore_conflicts=True)
        append_event(
            actor=actor,
            event_type="trust.crl_imported",
            subject=f"ca:{issuer.authority.code}",
            payload={"crl": fp, "entries": len(entries), "source": source[:200]},
        )
    return row


def _reason(entry: x509.RevokedCertificate) -> str:
    try:
        return str(entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value)
    except (x509.ExtensionNotFound, ValueError):
        return ""


def fetch_crl(*, actor: Any, authority: CertificateAuthority) -> RevocationList:
    """Download and import the CA's CRL from its configured address (when reachable)."""
    _actor_may_manage(actor)
    if not authority.crl_url:
        raise ValidationFailed("该 CA 未配置 CRL 地址 (no CRL address)", code="no_crl_url")
    if not authority.crl_url.startswith(("http://", "https://")):
        raise ValidationFailed("CRL 地址须为 http(s) (http/https only)", code="bad_crl_url")
    try:
        with urllib.request.urlopen(authority.crl_url, timeout=CRL_FETCH_TIMEOUT) as response:
            data = response.read(CRL_MAX_BYTES + 1)
    except OSError as exc:
        raise ValidationFailed(
            "无法获取 CRL (CRL address not reachable)",
            code="crl_unreachable",
            detail={"url": authority.crl_url, "error": str(exc)[:200]},
        ) from None
    if len(data) > CRL_MAX_BYTES:
        raise ValidationFailed("CRL 过大 (CRL too large)", code="crl_too_large")
    return import_crl(actor=actor, data=data, source=authority.crl_url, authority=authority)
