"""Sign-in, sign-up, the current user, API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.contrib.auth import login, logout
from django.http import HttpRequest
from ninja import Router, Status
from pydantic import Field

from ggzy.accounts import services
from ggzy.accounts.models import User
from ggzy.accounts.selectors import tokens_for
from ggzy.api import PUBLIC, session_auth
from ggzy.core.schemas import EMAIL_PATTERN, ErrorOut, OkOut, StrictSchema

router = Router(tags=["auth"])


class LoginIn(StrictSchema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=256)


class MembershipOut(StrictSchema):
    uscc: str
    name: str
    role: str


class MeOut(StrictSchema):
    id: int
    username: str
    display_name: str
    roles: list[str]
    entities: list[MembershipOut]


def _me(user: User) -> dict[str, object]:
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(user.role_set),
        "entities": [
            {"uscc": m.entity.uscc, "name": m.entity.name, "role": m.role}
            for m in user.memberships.select_related("entity").order_by("entity__name")
        ],
    }


@router.post(
    "login", response={200: MeOut, 401: ErrorOut, 423: ErrorOut, 422: ErrorOut}, auth=PUBLIC
)
def api_login(request: HttpRequest, payload: LoginIn) -> object:
    """Password sign-in for the browser session. Five failures lock the account for 15 minutes."""
    user = services.authenticate(username=payload.username, password=payload.password)
    login(request, user, backend="ggzy.accounts.backends.LockoutAwareBackend")
    return _me(user)


@router.post("logout", response=OkOut, auth=PUBLIC)
def api_logout(request: HttpRequest) -> dict[str, bool]:
    logout(request)
    return {"ok": True}


class SignupIn(StrictSchema):
    username: str = Field(..., min_length=3, max_length=150, pattern=r"^[A-Za-z0-9_.@+-]+$")
    password: str = Field(..., min_length=8, max_length=256)
    display_name: str = Field(..., min_length=1, max_length=60)
    role: Literal["bidder", "tenderer", "agent"]
    email: str = Field("", max_length=254, pattern=EMAIL_PATTERN)
    phone: str = Field("", max_length=20)


@router.post("signup", response={201: MeOut, 409: ErrorOut, 422: ErrorOut}, auth=PUBLIC)
def api_signup(request: HttpRequest, payload: SignupIn) -> object:
    """A market participant signs up (bidder, tenderer or agent), then registers its entity."""
    user = services.create_user(
        actor="system:signup",
        username=payload.username,
        password=payload.password,
        roles=[payload.role],
        display_name=payload.display_name,
        email=payload.email,
        phone=payload.phone,
    )
    return Status(201, _me(user))


@router.get("me", response={200: MeOut, 401: ErrorOut})
def api_me(request: HttpRequest) -> object:
    return _me(request.auth)  # type: ignore[attr-defined]


class TokenIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=60)
    days: int | None = Field(365, ge=1, le=3650)


class TokenOut(StrictSchema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    secret: str


def _token(t: object) -> dict[str, object]:
    return {
        k: getattr(t, k)
        for k in ("id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    }


# Only a signed-in person issues tokens: a leaked token must not be able to mint longer-lived ones.
@router.post(
    "tokens",
    response={201: NewTokenOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    auth=session_auth,
)
def api_issue_token(request: HttpRequest, payload: TokenIn) -> object:
    """Issue an API token. The secret is in this answer only; store it now."""
    token, secret = services.issue_token(actor=request.auth, name=payload.name, days=payload.days)  # type: ignore[attr-defined]
    return Status(201, {**_token(token), "secret": secret})


@router.get("tokens", response={200: list[TokenOut], 401: ErrorOut})
def api_list_tokens(request: HttpRequest) -> object:
    return [_token(t) for t in tokens_for(request.auth)]  # type: ignore[attr-defined]


@router.delete("tokens/{int:token_id}", response={200: OkOut, 401: ErrorOut, 404: ErrorOut})
def api_revoke_token(request: HttpRequest, token_id: int) -> object:
    services.revoke_token(actor=request.auth, token_id=token_id)  # type: ignore[attr-defined]
    return {"ok": True}
