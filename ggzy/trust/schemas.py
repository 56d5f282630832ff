"""API schemas for the trust store, certificates, signatures, signing requests and envelopes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from ggzy.core.schemas import StrictSchema

PEM_MAX = 64 * 1024
B64_DOC_MAX = 700 * 1024  # a JSON body is at most 1 MiB; larger documents are signed by digest


class CACertificateOut(StrictSchema):
    fingerprint: str
    subject: str
    issuer: str
    family: str
    is_root: bool
    not_before: datetime
    not_after: datetime


class AuthorityOut(StrictSchema):
    code: str
    name: str
    status: str
    subject_id_attribute: str
    crl_url: str
    onboarded_at: datetime
    status_changed_at: datetime
    crl_this_update: datetime | None
    crl_next_update: datetime | None
    crl_overdue: bool
    certificates: list[CACertificateOut]


class AuthorityIn(StrictSchema):
    code: str = Field(..., min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(..., min_length=2, max_length=120)
    certificates: list[str] = Field(..., min_length=1, max_length=10)
    subject_id_attribute: str = Field("", max_length=64)
    crl_url: str = Field("", max_length=500, pattern=r"^$|^https?://\S+$")


class CertificatesIn(StrictSchema):
    certificates: list[str] = Field(..., min_length=1, max_length=10)


class AuthorityStatusIn(StrictSchema):
    status: Literal["active", "suspended", "retired"]
    reason: str = Field("", max_length=300)


class CrlIn(StrictSchema):
    crl: str = Field(..., min_length=1, max_length=900 * 1024)


class CrlOut(StrictSchema):
    fingerprint: str
    this_update: datetime
    next_update: datetime | None
    entries: int
    source: str


class VerifyIn(StrictSchema):
    certificate: str = Field(..., min_length=1, max_length=PEM_MAX)
    purpose: Literal["sign", "login", "encrypt"] | None = None
    at: datetime | None = None


class CertificateOut(StrictSchema):
    fingerprint: str
    family: str
    serial: str
    subject: str
    issuer: str
    not_before: str
    not_after: str
    authority: str
    chain: list[str]
    subject_identifier: str
    kind: str


class VerifyOut(StrictSchema):
    valid: bool
    code: str | None
    message: str
    certificate: CertificateOut | None


class ChallengeIn(StrictSchema):
    purpose: Literal["login", "bind"]


class ChallengeOut(StrictSchema):
    nonce: str
    purpose: str
    expires_at: datetime
    statement: dict[str, Any]


class BindIn(StrictSchema):
    certificate: str = Field(..., min_length=1, max_length=PEM_MAX)
    nonce: str = Field(..., min_length=1, max_length=64)
    signature: str = Field(..., min_length=1, max_length=4096)
    entity: str | None = Field(None, max_length=24)


class BindingOut(StrictSchema):
    id: int
    fingerprint: str
    authority: str
    subject: str
    subject_identifier: str
    kind: str
    family: str
    entity: str | None
    not_before: datetime
    not_after: datetime
    bound_at: datetime
    unbound_at: datetime | None


class CertLoginIn(StrictSchema):
    certificate: str = Field(..., min_length=1, max_length=PEM_MAX)
    nonce: str = Field(..., min_length=1, max_length=64)
    signature: str = Field(..., min_length=1, max_length=4096)
    mode: Literal["session", "token"] = "session"


class SignatureIn(StrictSchema):
    document_name: str = Field(..., min_length=1, max_length=255)
    document: str | None = Field(None, max_length=B64_DOC_MAX)
    document_digest: str | None = Field(None, min_length=64, max_length=64)
    sigfile: dict[str, Any] | None = None
    cms: str | None = Field(None, max_length=64 * 1024)


class SignatureCheckOut(StrictSchema):
    valid: bool
    code: str | None
    message: str
    digest_alg: str | None = None
    document_digest: str | None = None
    signed_at: datetime | None = None
    certificate: CertificateOut | None = None
    bound_to: str | None = None


class ValidityOut(StrictSchema):
    valid: bool
    code: str | None
    message: str


class SignatureOut(StrictSchema):
    id: int
    document_name: str
    digest_alg: str
    document_digest: str
    format: str
    signer: str
    entity: str | None
    certificate: str
    authority: str
    claimed_signed_at: datetime | None
    recorded_at: datetime
    ledger_seq: int | None
    validity: dict[str, ValidityOut]


class SignRequestIn(StrictSchema):
    document_name: str = Field(..., min_length=1, max_length=255)
    digest_alg: Literal["sm3", "sha256"]
    document_digest: str = Field(..., min_length=64, max_length=64)
    ttl_seconds: int | None = Field(None, ge=30, le=3600)


class SignRequestOut(StrictSchema):
    id: str
    url: str
    document_name: str
    digest_alg: str
    document_digest: str
    expires_at: datetime
    status: str
    statement: dict[str, Any]
    signature_id: int | None


class SignRequestAnswerIn(StrictSchema):
    certificate: str = Field(..., min_length=1, max_length=PEM_MAX)
    signature: str = Field(..., min_length=1, max_length=4096)


class EnvelopeOut(StrictSchema):
    id: str
    envelope_id: str
    section: str
    entity: str
    size: int
    file_sha256: str
    manifest_digest: str
    received_at: datetime
    receipt_seq: int | None
    opened_at: datetime | None
    files: list[dict[str, Any]]


class OpenIn(StrictSchema):
    content_key: str = Field(..., pattern=r"^(?:[0-9a-fA-F]{2}){16,32}$")  # 16–32 bytes, hex


class OpenedOut(StrictSchema):
    name: str
    size: int
    plaintext_digest: str


class OpenOut(StrictSchema):
    id: str
    opened_at: datetime
    files: list[OpenedOut]
