"""Shared helpers for the API, registry and accounts tests: a JSON client, the error-shape check,
a fingerprint of everything a refused request must leave alone, and a fast Argon2."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import models
from django.test import Client

from ggzy.accounts.models import ApiToken, User, UserRole
from ggzy.award.models import AwardNotice, Candidate, Contract, Obligation, Publicity
from ggzy.award.models import Objection as AwardObjection
from ggzy.bidding.models import BankNotification, Bid, Deposit, Opening, OpeningObjection
from ggzy.catalog.models import Category, Ruleset
from ggzy.complaints.models import Complaint, Evidence, Pause, Transfer
from ggzy.core.models import CalendarDay
from ggzy.evaluation.models import (
    CommitteeMember,
    EvaluationSession,
    ExtensionRequest,
    FindingVote,
    ReportSignature,
    Score,
    SessionBid,
    ViewingSpan,
)
from ggzy.evaluation.models import Finding as EvaluationFinding
from ggzy.exchange.models import ExternalSystem, IngestedRecord
from ggzy.experts.draw_models import Draw, DrawnExpert, DrawNotification, DrawQuota
from ggzy.experts.models import (
    DeclaredConflict,
    Expert,
    ExpertSpecialty,
    ExpertStatusChange,
    Rating,
    Specialty,
    SpecialtyVersion,
    Unavailability,
)
from ggzy.fairness.models import FairnessRule, Finding, Review
from ggzy.ledger.models import Event
from ggzy.registry import services as registry
from ggzy.registry.models import ContactPerson, Entity, EntityVersion, Membership, Qualification
from ggzy.supervision.models import (
    Alert,
    AlertNote,
    Dataset,
    ScanState,
    Setting,
    Tracking,
    WatchEntry,
)
from ggzy.tendering.models import (
    Clarification,
    Download,
    Invitation,
    Objection,
    Project,
    Section,
    TenderDocument,
)
from ggzy.trust.models import (
    CACertificate,
    CAStatusChange,
    CertificateAuthority,
    CertificateBinding,
    DocumentSignature,
    LoginChallenge,
    RevocationList,
    RevokedCertificate,
    SealedEnvelope,
    SigningRequest,
)
from ggzy.venues.models import (
    Booking,
    ExpertAssignment,
    RemoteSession,
    SessionVenue,
    Site,
    Venue,
    WitnessEvent,
)
from tests.conftest import uscc

ERROR_KEYS = {"code", "message", "detail"}


@cache
def _session_only_operations() -> frozenset[tuple[str, str]]:
    """(METHOD, path) of operations a bearer token may not call, read from the OpenAPI schema
    (built once: generating the schema takes ~0.1 s, and every bearer call asks)."""
    from ggzy.api import api

    out = set()
    for path, ops in api.get_openapi_schema()["paths"].items():
        for method, op in ops.items():
            if op.get("security") == [{"SessionAuth": []}]:
                out.add((method.upper(), path))
    return frozenset(out)


# Everything a refused request must leave exactly as it was.
GUARDED_MODELS: tuple[type[models.Model], ...] = (
    Event,
    Entity,
    EntityVersion,
    User,
    UserRole,
    ApiToken,
    Qualification,
    ContactPerson,
    Membership,
    CalendarDay,
    CertificateAuthority,
    CACertificate,
    CAStatusChange,
    RevocationList,
    RevokedCertificate,
    CertificateBinding,
    LoginChallenge,  # a refused login or binding must not use up its challenge
    DocumentSignature,
    SigningRequest,
    SealedEnvelope,
    Category,
    Category.procedures.through,
    Ruleset,
    Project,
    Section,
    TenderDocument,
    Download,
    Clarification,
    Objection,
    FairnessRule,
    Review,
    Finding,
    Deposit,
    BankNotification,
    Bid,
    Opening,
    OpeningObjection,
    Specialty,
    SpecialtyVersion,
    Expert,
    ExpertSpecialty,
    ExpertStatusChange,
    Unavailability,
    DeclaredConflict,
    Rating,
    Site,
    Venue,
    Booking,
    RemoteSession,
    SessionVenue,
    ExpertAssignment,
    WitnessEvent,
    EvaluationSession,
    CommitteeMember,
    SessionBid,
    EvaluationFinding,
    FindingVote,
    Score,
    ViewingSpan,
    ExtensionRequest,
    ReportSignature,
    Draw,
    DrawQuota,
    DrawnExpert,
    DrawNotification,
    Invitation,
    Publicity,
    Candidate,
    AwardObjection,
    AwardNotice,
    Contract,
    Obligation,
    ExternalSystem,
    IngestedRecord,
    Alert,
    AlertNote,
    Setting,
    Dataset,
    ScanState,
    Tracking,
    WatchEntry,
    Complaint,
    Pause,
    Transfer,
    Evidence,
)
# Bookkeeping that legitimately moves on a refused request (sign-in counters, token last use).
_VOLATILE_COLUMNS = {"last_login", "failed_logins", "locked_until", "last_used_at"}

Response = Any  # django.test's response: HttpResponse plus .json()


@cache
def _columns(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(
        f.attname for f in model._meta.concrete_fields if f.attname not in _VOLATILE_COLUMNS
    )


def db_state(upto_seq: int | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every guarded table, so 'nothing changed' also covers updates in place.
    ``upto_seq``: leave out ledger events after it (refusals a service records on purpose)."""
    state = {}
    for model in GUARDED_MODELS:
        qs = model.objects.order_by("pk")
        if model is Event and upto_seq is not None:
            qs = qs.filter(seq__lte=upto_seq)
        state[model._meta.label] = list(qs.values_list(*_columns(model)))
    return state


def catalog_body() -> dict[str, Any]:
    """The works category's current rules with one configurable rule changed."""
    from ggzy.catalog import selectors

    rules = selectors.current_ruleset(selectors.get_category("works")).rules
    return {"rules": {**rules, "bid_validity_days": 120}, "note": "延长投标有效期"}


def event_types_since(seq: int) -> list[str]:
    return list(
        Event.objects.filter(seq__gt=seq).order_by("seq").values_list("event_type", flat=True)
    )


def last_seq() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def assert_error(response: Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape: exactly ``code``, ``message``, ``detail``; returns the body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


@dataclass(frozen=True)
class Raw:
    """A request body that is not JSON, sent as it is (e.g. the sealed envelope upload)."""

    data: bytes
    content_type: str = "application/zip"


@dataclass
class ApiClient:
    """A Django test client speaking JSON, optionally with a bearer token. A :class:`Raw` body
    is sent as its bytes with its own content type."""

    client: Client

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: str | bytes | None = None,
        content_type: str = "application/json",
        query: dict[str, str] | None = None,
    ) -> Response:
        if isinstance(body, Raw):
            raw, content_type, body = body.data, body.content_type, None
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
        client = self.client
        if token is not None and (method.upper(), path) in _session_only_operations():
            # Tokens cannot reach these (e.g. issuing tokens): act as the token's owner, signed in.
            from ggzy.accounts.services import user_for_token

            owner = user_for_token(token)
            if owner is not None:
                client, headers = Client(), {}
                client.force_login(owner)
        data: str | bytes | None = raw if raw is not None else None
        if data is None and body is not None:
            data = json.dumps(body)
        handler = getattr(client, method.lower())
        if method.upper() in ("GET", "HEAD"):
            return handler(path, query or {}, **headers)
        if query:
            from urllib.parse import urlencode

            path = f"{path}?{urlencode(query)}"
        if data is None:
            return handler(path, **headers)
        return handler(path, data, content_type=content_type, **headers)


def api_client(**kwargs: Any) -> ApiClient:
    return ApiClient(Client(**kwargs))


def entity_payload(n: int, **overrides: Any) -> dict[str, Any]:
    """A complete, valid registration as the API takes it (region 320100 must exist)."""
    payload: dict[str, Any] = {
        "uscc": uscc(n),
        "name": f"南京第{n}建设有限公司",
        "entity_type": "enterprise",
        "legal_representative": "王建国",
        "address": "南京市玄武区中山路1号",
        "region": "320100",
        "is_bidder": True,
        "legal_representative_id": "11010519491231002X",
        "registered_capital": "5000000.00",
        "bank_name": "中国银行南京分行",
        "bank_account": "6217 0000 0000 0000",
        "contacts": [{"name": "李四", "phone": "025-88880000", "title": "经理"}],
        "qualifications": [
            {
                "qualification_type": "建筑工程施工总承包",
                "issuer": "江苏省住房和城乡建设厅",
                "number": f"D2320{n:05d}",
                "grade": "一级",
            }
        ],
    }
    payload.update(overrides)
    return payload


def entity_data(n: int, **overrides: Any) -> registry.EntityData:
    """The same registration as :func:`entity_payload`, for calling the service directly."""
    data = entity_payload(n, **overrides)
    if isinstance(data["registered_capital"], str):
        data["registered_capital"] = Decimal(data["registered_capital"])
    data["contacts"] = [registry.ContactData(**c) for c in data["contacts"]]
    data["qualifications"] = [registry.QualificationData(**q) for q in data["qualifications"]]
    return registry.EntityData(**data)


def register(actor: User, n: int, **overrides: Any) -> Entity:
    return registry.register_entity(actor=actor, data=entity_data(n, **overrides))
