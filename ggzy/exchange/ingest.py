"""Third-party e-trading systems (不得排斥市场主体建设运营的电子交易系统): the center accredits a
system and issues it an API key; the system sends its projects' public records (announcements,
results, contracts …); each accepted record is recorded in the ledger and appears on the portal
beside the platform's own, its source named.

- **Keys.** Only the key's SHA-256 is stored; the key is shown once when issued (or re-issued).
  An unknown or revoked key is ``unknown_api_key`` (401); a refusal is recorded in the ledger.
- **Schema.** The record is validated strictly (:class:`ExternalRecordIn`, unknown fields
  refused): kind, ids, title, category, region, procedure, status, dates, text, URL.
- **Idempotency.** Every request carries ``Idempotency-Key``; the same key with the same content
  answers the first acceptance again (nothing new written), the same key with other content is
  ``idempotency_conflict`` (409). A new version of a record comes with a new key.
- Nothing half-written: the row, the system's counters and the ledger event commit together.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from pydantic import Field, ValidationError, field_validator

from ggzy.core import clock
from ggzy.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from ggzy.core.schemas import StrictSchema
from ggzy.exchange.models import ExternalSystem, IngestedRecord
from ggzy.exchange.national import require_manage
from ggzy.ledger.append import chain_pending, event_for_entry, ledger_mode
from ggzy.ledger.chain import canonical_json
from ggzy.ledger.services import append_event, record_refusal
from ggzy.registry.models import Entity

KEY_PREFIX = "ggzyx_"
KINDS = ("announcement", "clarification", "opening", "candidates", "award", "contract",
         "failure")  # fmt: skip
STATUSES = ("announced", "opened", "failed", "publicity", "awarded", "contracted")
# A system's code prefixes its projects' codes (``<system>.<their code>``, at most 64 characters
# on the portal) and names its records (``external:<system>:<record_id>``, at most 120).
SYSTEM_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PUBLIC_CODE_MAX = 64
HOMEPAGE = re.compile(r"^(https?://[^\s<>\"']+)?$")
FUTURE_SLACK = timedelta(hours=1)  # clocks differ a little; a record is not dated ahead
MAX_INT = 2**63  # what the ledger's canonical JSON (orjson) takes


class UnknownApiKey(DomainError):
    status = 401
    code = "unknown_api_key"


class ExternalRecordIn(StrictSchema):
    """One public record of an external system's project."""

    record_id: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: str = Field(..., max_length=20)
    project_code: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    section_code: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")
    title: str = Field(..., min_length=1, max_length=300)
    body: str = Field("", max_length=100_000)
    category: str = Field(..., max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")
    region: str = Field(..., pattern=r"^\d{6}$")
    procedure: str = Field("", max_length=32, pattern=r"^[a-z0-9_-]*$")
    status: str = Field("", max_length=20)
    published_at: datetime
    url: str = Field("", max_length=300, pattern=r"^(https?://\S+)?$")
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value and value not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        return value

    @field_validator("published_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("published_at needs a time zone")
        try:  # one spelling of the instant: the same content, the same digest
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("published_at is out of range") from None

    @field_validator("data")
    @classmethod
    def _small(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(canonical_json(value)) > 64_000:
            raise ValueError("data is larger than 64,000 bytes")
        return value


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def accredit(*, actor: Any, code: str, name: str, operator: Entity,
             homepage: str = "") -> tuple[ExternalSystem, str]:  # fmt: skip
    """Center admin connects a system; returns it and its API key (shown this once)."""
    require_manage(actor)
    code = code.strip().lower() if isinstance(code, str) else ""
    if not SYSTEM_CODE.match(code):
        raise ValidationFailed("系统代码应为1–32位小写字母、数字、- 或 _ (bad system code)",
                               code="bad_code", detail={"field": "code"})  # fmt: skip
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ValidationFailed("请填写系统名称 (name required)", code="required",
                               detail={"field": "name"})  # fmt: skip
    homepage = homepage.strip() if isinstance(homepage, str) else ""
    if len(homepage) > 300 or not HOMEPAGE.match(homepage):
        raise ValidationFailed("网址应以 http:// 或 https:// 开头 (bad homepage URL)",
                               code="bad_url", detail={"field": "homepage"})  # fmt: skip
    key = _new_key()
    now = clock.now()
    try:
        with transaction.atomic():
            system = ExternalSystem.objects.create(
                code=code, name=name.strip(), operator=operator, homepage=homepage,
                key_digest=_digest(key), key_hint=key[:12], accredited_at=now,
            )  # fmt: skip
            append_event(actor=actor, event_type="exchange.system_accredited",
                         subject=f"external:{system.code}",
                         payload={"code": system.code, "name": system.name,
                                  "operator": operator.uscc, "key_hint": system.key_hint})  # fmt: skip
    except IntegrityError:
        raise Conflict("该系统代码已存在 (the code is taken)", code="system_exists",
                       detail={"field": "code"}) from None  # fmt: skip
    return system, key


def rotate_key(*, actor: Any, system: ExternalSystem) -> str:
    """A new key for the system (shown this once); the old one stops working at once."""
    require_manage(actor)
    key = _new_key()
    with transaction.atomic():
        locked = ExternalSystem.objects.select_for_update().get(pk=system.pk)
        locked.key_digest, locked.key_hint = _digest(key), key[:12]
        locked.save(update_fields=["key_digest", "key_hint"])
        append_event(actor=actor, event_type="exchange.system_key_rotated",
                     subject=f"external:{locked.code}", payload={"key_hint": locked.key_hint})  # fmt: skip
    return key


def set_active(*, actor: Any, system: ExternalSystem, active: bool, reason: str) -> ExternalSystem:
    """Disable (its key is refused from now on) or enable a system again, with a reason."""
    require_manage(actor)
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("请填写原因 (reason required)", code="required",
                               detail={"field": "reason"})  # fmt: skip
    with transaction.atomic():
        locked = ExternalSystem.objects.select_for_update().get(pk=system.pk)
        locked.active = bool(active)
        locked.save(update_fields=["active"])
        append_event(actor=actor, event_type="exchange.system_"
                     + ("enabled" if active else "disabled"), subject=f"external:{locked.code}",
                     payload={"reason": reason.strip()[:500]})  # fmt: skip
    return locked


def system_for_key(key: str | None) -> ExternalSystem:
    """The active system the key belongs to, or ``unknown_api_key`` (the refusal recorded: a
    disabled system's key names the system in the record, an unknown one only its first
    characters)."""
    system = None
    if isinstance(key, str) and key.startswith(KEY_PREFIX) and len(key) < 200:
        system = ExternalSystem.objects.filter(key_digest=_digest(key)).first()
    if system is None or not system.active:
        hint = key[:12] if isinstance(key, str) and key.isascii() and key.isprintable() else ""
        subject = f"external:{system.code}" if system is not None else "external:unknown"
        reason = "system_disabled" if system is not None else "unknown_api_key"
        record_refusal(actor=subject, event_type="exchange.ingest_refused", subject=subject,
                       reason=reason, key_hint=hint)  # fmt: skip
        raise UnknownApiKey("API 密钥无效或已停用 (unknown or revoked API key)")
    return system


def _not_plain(value: Any, loc: list[Any], depth: int = 0) -> dict[str, Any] | None:
    """Where ``value`` holds something the ledger's canonical JSON cannot (or the databases
    will not) store: a lone surrogate, a non-finite number, an integer beyond 64 bits, too deep
    a nesting."""
    if depth > 32:
        return {"loc": loc, "msg": "nested more than 32 levels"}
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return {"loc": loc, "msg": "not valid Unicode text (a lone surrogate)"}
    elif isinstance(value, bool) or value is None:
        return None
    elif isinstance(value, int):
        if not -MAX_INT <= value < MAX_INT:
            return {"loc": loc, "msg": "integer beyond 64 bits"}
    elif isinstance(value, float):
        if not math.isfinite(value):
            return {"loc": loc, "msg": "not a finite number"}
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _not_plain(key, loc, depth + 1) or _not_plain(item, [*loc, key], depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for n, item in enumerate(value):
            if found := _not_plain(item, [*loc, n], depth + 1):
                return found
    return None


def _schema_invalid(errors: list[dict[str, Any]]) -> ValidationFailed:
    return ValidationFailed("数据不符合接入规范 (the record fails the schema)",
                            code="schema_invalid", detail={"errors": errors[:20]})  # fmt: skip


def parse(raw: Any, *, system_code: str = "") -> ExternalRecordIn:
    """The record, validated; ``system_code``: the sender's, whose length the project code shares."""
    if not isinstance(raw, dict):
        raise _schema_invalid([{"loc": [], "msg": "the body must be a JSON object"}])
    if found := _not_plain(raw, []):
        raise _schema_invalid([found])
    try:
        record = ExternalRecordIn.model_validate(raw)
    except ValidationError as exc:
        raise _schema_invalid(
            [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        ) from None
    room = PUBLIC_CODE_MAX - len(system_code) - 1 if system_code else PUBLIC_CODE_MAX
    if len(record.project_code) > room:
        raise _schema_invalid([{"loc": ["project_code"],
                                "msg": f"at most {room} characters for this system"}])  # fmt: skip
    return record


def ingest(*, system: ExternalSystem, idempotency_key: str | None,
           raw: Any) -> tuple[IngestedRecord, bool]:  # fmt: skip
    """Accept one record; returns it and whether it is new (``False``: the same request again)."""
    key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
    if not key or len(key) > 128 or not key.isascii() or not key.isprintable():
        raise ValidationFailed("缺少或无效的 Idempotency-Key 请求头 (Idempotency-Key required, "
                               "1–128 printable ASCII characters)", code="idempotency_key_required")  # fmt: skip
    record = parse(raw, system_code=system.code)
    content = record.model_dump(mode="json")
    digest = hashlib.sha256(canonical_json(content)).hexdigest()
    earlier = _earlier(system, key)
    if earlier is not None:
        return _same(earlier, digest)
    now = clock.now()
    if record.published_at > now + FUTURE_SLACK:  # else it would head the portal for ever
        raise _schema_invalid([{"loc": ["published_at"], "msg": "in the future"}])
    try:
        with transaction.atomic():
            row = IngestedRecord.objects.create(
                system=system, idempotency_key=key, record_id=record.record_id, kind=record.kind,
                content=content, content_sha256=digest, received_at=now,
            )  # fmt: skip
            entry = append_event(
                actor=f"external:{system.code}", event_type="exchange.external_record_accepted",
                subject=f"external:{system.code}",
                payload={"record": record.record_id, "kind": record.kind,
                         "project_code": record.project_code, "sha256": digest,
                         "idempotency_key": key},
            )  # fmt: skip
            if ledger_mode() != "deferred":  # deferred: a pending entry's id, not yet a seq
                row.ledger_seq = entry
                row.save(update_fields=["ledger_seq"])
            ExternalSystem.objects.filter(pk=system.pk).update(
                records=F("records") + 1, last_received_at=now
            )
    except IntegrityError:  # the same key raced in from a second request
        earlier = _earlier(system, key)
        if earlier is None:
            raise
        return _same(earlier, digest)
    if row.ledger_seq is None:
        _settle_seq(row, entry)
    return row, True


def _settle_seq(row: IngestedRecord, entry: int) -> None:
    """Deferred ledger: the event's sequence number once chained (right after the commit, or
    now); inside a caller's transaction it stays unknown (``None``) — the event is the record."""
    if transaction.get_connection().in_atomic_block:
        return
    event = event_for_entry(entry)
    if event is None:
        chain_pending(entry)
        event = event_for_entry(entry)
    if event is not None:
        IngestedRecord.objects.filter(pk=row.pk).update(ledger_seq=event.seq)
        row.ledger_seq = event.seq


def _earlier(system: ExternalSystem, key: str) -> IngestedRecord | None:
    return IngestedRecord.objects.filter(system=system, idempotency_key=key).first()


def _same(earlier: IngestedRecord, digest: str) -> tuple[IngestedRecord, bool]:
    if earlier.content_sha256 != digest:
        raise Conflict("该 Idempotency-Key 已用于不同的内容 (the key was used with other content)",
                       code="idempotency_conflict",
                       detail={"record_id": earlier.record_id,
                               "received_at": earlier.received_at.isoformat()})  # fmt: skip
    return earlier, False


def latest(system_code: str, record_id: str) -> IngestedRecord | None:
    """The latest accepted version of a system's record (what the portal shows)."""
    return (
        IngestedRecord.objects.select_related("system")
        .filter(system__code=system_code, record_id=record_id)
        .order_by("-pk")
        .first()
    )


def get_system(code: str) -> ExternalSystem:
    """The system of ``code`` with its operator (``system_not_found`` otherwise)."""
    row = ExternalSystem.objects.select_related("operator").filter(code=str(code)[:64]).first()
    if row is None:
        raise NotFound("外部交易系统不存在 (no such system)", code="system_not_found",
                       detail={"code": str(code)[:64]})  # fmt: skip
    return row


def operator_of(uscc: str) -> Entity:
    """The registered entity that operates a system (``entity_not_found`` otherwise)."""
    row = Entity.objects.filter(uscc=str(uscc).upper()[:18]).first()
    if row is None:
        raise NotFound("主体不存在 (no such entity)", code="entity_not_found",
                       detail={"field": "operator"})  # fmt: skip
    return row


def connected_systems() -> QuerySet[ExternalSystem]:
    """Every accredited system with its operator, by code (the public registry)."""
    return ExternalSystem.objects.select_related("operator").order_by("code")
