"""Market-entity registry API: directory, profile, register, change, qualifications, members."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from ggzy.api import PUBLIC
from ggzy.core.schemas import EMAIL_PATTERN, ErrorOut, OkOut, StrictSchema
from ggzy.registry import selectors, services
from ggzy.registry.models import EntityType

router = Router(tags=["registry"])

EntityTypeLiteral = Literal[
    "enterprise", "institution", "government", "social", "individual", "other"
]
assert set(EntityTypeLiteral.__args__) == set(EntityType.values)  # type: ignore[attr-defined]


class ContactIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=60)
    phone: str = Field(..., min_length=5, max_length=20, pattern=r"^[0-9+\-() ]+$")
    title: str = Field("", max_length=60)
    email: str = Field("", max_length=254, pattern=EMAIL_PATTERN)


class QualificationIn(StrictSchema):
    qualification_type: str = Field(..., min_length=1, max_length=100)
    issuer: str = Field(..., min_length=1, max_length=100)
    number: str = Field(..., min_length=1, max_length=60)
    grade: str = Field("", max_length=40)
    valid_from: date | None = None
    valid_until: date | None = None


class EntityIn(StrictSchema):
    uscc: str = Field(..., min_length=1, max_length=24)
    name: str = Field(..., min_length=2, max_length=200)
    entity_type: EntityTypeLiteral
    legal_representative: str = Field(..., min_length=1, max_length=60)
    address: str = Field(..., min_length=2, max_length=300)
    region: str = Field(..., min_length=6, max_length=6)
    is_bidder: bool = False
    is_tenderer: bool = False
    is_agent: bool = False
    legal_representative_id: str = Field("", max_length=24)
    registered_capital: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    bank_name: str = Field("", max_length=120)
    bank_account: str = Field("", max_length=40)
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None
    contacts: list[ContactIn] = Field(default_factory=list, max_length=20)
    qualifications: list[QualificationIn] = Field(default_factory=list, max_length=100)


class EntityPatch(StrictSchema):
    expected_version: int | None = Field(None, ge=1)
    name: str | None = Field(None, min_length=2, max_length=200)
    entity_type: EntityTypeLiteral | None = None
    legal_representative: str | None = Field(None, min_length=1, max_length=60)
    address: str | None = Field(None, min_length=2, max_length=300)
    region: str | None = Field(None, min_length=6, max_length=6)
    is_bidder: bool | None = None
    is_tenderer: bool | None = None
    is_agent: bool | None = None
    legal_representative_id: str | None = Field(None, max_length=24)
    registered_capital: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    bank_name: str | None = Field(None, max_length=120)
    bank_account: str | None = Field(None, max_length=40)
    licence_valid_from: date | None = None
    licence_valid_until: date | None = None


class QualificationOut(StrictSchema):
    id: int
    qualification_type: str
    grade: str
    issuer: str
    number: str
    valid_from: date | None
    valid_until: date | None
    valid: bool


class ContactOut(StrictSchema):
    id: int
    name: str
    title: str
    phone: str
    email: str


class MemberOut(StrictSchema):
    username: str
    display_name: str
    role: str


class EntityOut(StrictSchema):
    uscc: str
    name: str
    entity_type: str
    entity_type_display: str
    market_roles: list[str]
    legal_representative: str
    registered_capital: str | None
    address: str
    region: str
    region_name: str
    licence_valid_from: date | None
    licence_valid_until: date | None
    licence_valid: bool
    status: str
    version: int
    registered_at: datetime
    qualifications: list[QualificationOut]
    legal_representative_id: str | None = None
    bank_name: str | None = None
    bank_account: str | None = None
    contacts: list[ContactOut] | None = None
    members: list[MemberOut] | None = None


class EntityBriefOut(StrictSchema):
    uscc: str
    name: str
    entity_type: str
    market_roles: list[str]
    region: str
    region_name: str


class DirectoryOut(StrictSchema):
    count: int
    offset: int
    limit: int
    items: list[EntityBriefOut]


class VersionOut(StrictSchema):
    version: int
    changed_at: datetime
    changed_by: str
    changes: dict[str, Any]


@router.get("", response=DirectoryOut, auth=PUBLIC)
def directory(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    region: str = Query("", max_length=6),
    role: Literal["", "bidder", "tenderer", "agent"] = "",
    offset: int = Query(0, ge=0, le=1_000_000),
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, object]:
    """The public entity directory (一网尽览)."""
    qs = selectors.entity_directory(q=q, region=region, role=role)
    items = [
        {
            "uscc": e.uscc,
            "name": e.name,
            "entity_type": e.entity_type,
            "market_roles": e.market_roles,
            "region": e.region_id,
            "region_name": e.region.name,
        }
        for e in qs[offset : offset + limit]
    ]
    return {"count": qs.count(), "offset": offset, "limit": limit, "items": items}


@router.post(
    "", response={201: EntityOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut}
)
def register(request: HttpRequest, payload: EntityIn) -> object:
    """Register an entity once (一地注册). The caller becomes its administrator."""
    data = payload.dict()
    data["contacts"] = [services.ContactData(**c) for c in data["contacts"]]
    data["qualifications"] = [services.QualificationData(**q) for q in data["qualifications"]]
    entity = services.register_entity(actor=request.auth, data=services.EntityData(**data))  # type: ignore[attr-defined]
    return Status(201, selectors.private_view(entity))


# exclude_unset: the private keys are left out of the public view, not sent as null.
@router.get("{uscc}", response={200: EntityOut, 404: ErrorOut}, auth=PUBLIC, exclude_unset=True)
def profile(request: HttpRequest, uscc: str) -> object:
    """An entity's profile: public fields for everyone, more for its members, staff and supervisors."""
    entity = selectors.get_entity(actor=request.user, uscc=uscc)
    return selectors.view_for(request.user, entity)


@router.patch(
    "{uscc}",
    response={
        200: EntityOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
)
def change(request: HttpRequest, uscc: str, payload: EntityPatch) -> object:
    """Change registration fields; each change becomes a new version."""
    entity = selectors.get_entity(actor=request.auth, uscc=uscc)  # type: ignore[attr-defined]
    changes = payload.dict(exclude_unset=True)
    expected = changes.pop("expected_version", None)
    entity = services.update_entity(
        actor=request.auth, entity=entity, changes=changes, expected_version=expected
    )  # type: ignore[attr-defined]
    return selectors.private_view(entity)


@router.get("{uscc}/versions", response={200: list[VersionOut], 404: ErrorOut}, auth=PUBLIC)
def versions(request: HttpRequest, uscc: str) -> object:
    entity = selectors.get_entity(actor=request.user, uscc=uscc)
    return list(selectors.entity_versions(actor=request.user, entity=entity))


@router.post(
    "{uscc}/qualifications",
    response={
        201: QualificationOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
)
def add_qualification(request: HttpRequest, uscc: str, payload: QualificationIn) -> object:
    entity = selectors.get_entity(actor=request.auth, uscc=uscc)  # type: ignore[attr-defined]
    q = services.add_qualification(
        actor=request.auth, entity=entity, data=services.QualificationData(**payload.dict())
    )  # type: ignore[attr-defined]
    return Status(201, selectors.qualification_view(q))


@router.delete(
    "{uscc}/qualifications/{int:qualification_id}",
    response={200: OkOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def remove_qualification(request: HttpRequest, uscc: str, qualification_id: int) -> object:
    entity = selectors.get_entity(actor=request.auth, uscc=uscc)  # type: ignore[attr-defined]
    services.remove_qualification(
        actor=request.auth, entity=entity, qualification_id=qualification_id
    )  # type: ignore[attr-defined]
    return {"ok": True}


@router.post(
    "{uscc}/contacts",
    response={201: ContactOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
def add_contact(request: HttpRequest, uscc: str, payload: ContactIn) -> object:
    entity = selectors.get_entity(actor=request.auth, uscc=uscc)  # type: ignore[attr-defined]
    c = services.add_contact(
        actor=request.auth, entity=entity, data=services.ContactData(**payload.dict())
    )  # type: ignore[attr-defined]
    return Status(
        201, {"id": c.pk, "name": c.name, "title": c.title, "phone": c.phone, "email": c.email}
    )


class MemberIn(StrictSchema):
    username: str = Field(..., min_length=1, max_length=150)
    role: Literal["admin", "operator"]


@router.post(
    "{uscc}/members",
    response={
        201: MemberOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
)
def add_member(request: HttpRequest, uscc: str, payload: MemberIn) -> object:
    entity = selectors.get_entity(actor=request.auth, uscc=uscc)  # type: ignore[attr-defined]
    m = services.add_member(
        actor=request.auth, entity=entity, username=payload.username, role=payload.role
    )  # type: ignore[attr-defined]
    return Status(
        201, {"username": m.user.username, "display_name": m.user.display_name, "role": m.role}
    )


class StatusIn(StrictSchema):
    status: Literal["active", "suspended"]
    reason: str = Field(..., min_length=1, max_length=500)


@router.post(
    "{uscc}/status",
    response={200: EntityOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    exclude_unset=True,
)
def set_status(request: HttpRequest, uscc: str, payload: StatusIn) -> object:
    """Regulator or center admin suspends or reinstates an entity."""
    entity = selectors.get_entity(actor=request.auth, uscc=uscc)  # type: ignore[attr-defined]
    entity = services.set_entity_status(
        actor=request.auth, entity=entity, status=payload.status, reason=payload.reason
    )  # type: ignore[attr-defined]
    return selectors.view_for(request.auth, entity)  # type: ignore[attr-defined]
