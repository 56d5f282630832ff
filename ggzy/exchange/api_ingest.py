"""External trading systems API (``/api/v1/exchange``): an accredited system sends its public
records with its API key (``X-Api-Key``) and an ``Idempotency-Key``; anyone lists the connected
systems; the center accredits, re-keys, disables and enables them.

Refusals, each in the one error shape: ``unknown_api_key`` (401, recorded in the ledger),
``idempotency_key_required`` (422), ``schema_invalid`` (422, the failing fields listed),
``idempotency_conflict`` (409: the key was used for other content), ``system_exists`` (409)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Body, Router, Schema, Status
from ninja.security import APIKeyHeader
from pydantic import Field

from ggzy.api import PUBLIC
from ggzy.core.schemas import ErrorOut, StrictSchema
from ggzy.exchange import ingest
from ggzy.exchange.models import ExternalSystem, IngestedRecord

router = Router(tags=["external systems"])
ERRORS: dict[int, Any] = {c: ErrorOut for c in (401, 403, 404, 409, 422)}


class SystemKeyAuth(APIKeyHeader):
    """An accredited system's API key; an unknown one is refused (and recorded) with
    ``unknown_api_key``."""

    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return ingest.system_for_key(key)

    def __call__(self, request: HttpRequest) -> Any:
        return self.authenticate(request, request.headers.get(self.param_name))


class IngestOut(Schema):
    key: str
    record_id: str
    kind: str
    sha256: str
    received_at: datetime
    ledger_seq: int | None
    replayed: bool


class SystemOut(Schema):
    code: str
    name: str
    operator: dict[str, str]
    homepage: str
    active: bool
    accredited_at: datetime
    records: int
    last_received_at: datetime | None


class SystemIn(StrictSchema):
    code: str = Field(..., max_length=64)
    name: str = Field(..., max_length=200)
    operator: str = Field(..., min_length=18, max_length=18)  # the operating entity's USCC
    homepage: str = Field("", max_length=300)


class SystemKeyOut(SystemOut):
    api_key: str  # shown this once


class ReasonIn(StrictSchema):
    reason: str = Field(..., max_length=500)


def system_out(s: ExternalSystem) -> dict[str, Any]:
    return {
        "code": s.code, "name": s.name,
        "operator": {"name": s.operator.name, "uscc": s.operator.uscc},
        "homepage": s.homepage, "active": s.active, "accredited_at": s.accredited_at,
        "records": s.records, "last_received_at": s.last_received_at,
    }  # fmt: skip


def ingest_out(row: IngestedRecord, replayed: bool) -> dict[str, Any]:
    return {
        "key": f"external:{row.system.code}:{row.record_id}", "record_id": row.record_id,
        "kind": row.kind, "sha256": row.content_sha256, "received_at": row.received_at,
        "ledger_seq": row.ledger_seq, "replayed": replayed,
    }  # fmt: skip


# The body is read as any JSON and validated by the service, so that every schema failure
# (a list, a wrong type, an unknown field) is ``schema_invalid``; the document shows the schema.
RECORD_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": ingest.ExternalRecordIn.model_json_schema()}}}}  # fmt: skip


@router.post("/ingest/records", response={200: IngestOut, 201: IngestOut, **ERRORS},
             auth=SystemKeyAuth(), openapi_extra=RECORD_BODY)  # fmt: skip
def ingest_record(request: HttpRequest, payload: Any = Body(None)) -> Any:  # noqa: B008
    """An accredited system sends one public record (``X-Api-Key``, ``Idempotency-Key``):
    201 when accepted, 200 with the same answer when the same request comes again."""
    row, new = ingest.ingest(system=request.auth, raw=payload,  # type: ignore[attr-defined]
                             idempotency_key=request.headers.get("Idempotency-Key"))  # fmt: skip
    return Status(201 if new else 200, ingest_out(row, not new))


@router.get("/systems", response={200: list[SystemOut], **ERRORS}, auth=PUBLIC)
def list_systems(request: HttpRequest) -> Any:
    """The connected external trading systems (public)."""
    return [system_out(s) for s in ingest.connected_systems()]


@router.post("/systems", response={201: SystemKeyOut, **ERRORS})
def accredit(request: HttpRequest, payload: SystemIn) -> Any:
    """Center admin connects a system; the answer carries its API key, shown this once."""
    system, key = ingest.accredit(actor=request.auth, code=payload.code, name=payload.name,
                                  operator=ingest.operator_of(payload.operator),
                                  homepage=payload.homepage)  # fmt: skip
    return Status(201, {**system_out(system), "api_key": key})


@router.post("/systems/{system_code}/rotate-key", response={200: SystemKeyOut, **ERRORS})
def rotate_key(request: HttpRequest, system_code: str) -> Any:
    system = ingest.get_system(system_code)
    key = ingest.rotate_key(actor=request.auth, system=system)
    return {**system_out(system), "api_key": key}  # nothing shown changes with the key


@router.post("/systems/{system_code}/disable", response={200: SystemOut, **ERRORS})
def disable(request: HttpRequest, system_code: str, payload: ReasonIn) -> Any:
    row = ingest.set_active(actor=request.auth, system=ingest.get_system(system_code), active=False,
                            reason=payload.reason)  # fmt: skip
    return system_out(row)


@router.post("/systems/{system_code}/enable", response={200: SystemOut, **ERRORS})
def enable(request: HttpRequest, system_code: str, payload: ReasonIn) -> Any:
    row = ingest.set_active(actor=request.auth, system=ingest.get_system(system_code), active=True,
                            reason=payload.reason)  # fmt: skip
    return system_out(row)
