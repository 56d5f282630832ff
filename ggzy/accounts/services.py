"""Account writes: users and roles, password sign-in with lockout, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from ggzy.accounts.gate import require
from ggzy.accounts.models import ApiToken, User, UserRole
from ggzy.accounts.roles import Role
from ggzy.core import clock
from ggzy.core.errors import Conflict, Locked, NotAuthenticated, NotFound, ValidationFailed
from ggzy.core.identifiers import validate_resident_id
from ggzy.ledger.services import append_event, record_refusal

TOKEN_PREFIX = "ggzy_"


def _check_password(password: str, user: User | None = None) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "密码不符合要求", code="weak_password", detail=list(exc.messages)
        ) from exc


def create_user(
    *,
    actor: Any,
    username: str,
    password: str,
    roles: list[str] | tuple[str, ...] = (),
    display_name: str = "",
    resident_id: str = "",
    email: str = "",
    phone: str = "",
    check_password: bool = True,
) -> User:
    """Create a user with platform roles. ``actor`` is center admin, or ``system`` (sign-up, demo)."""
    if isinstance(actor, str):
        # Internal callers only (sign-up, demo, tests) name themselves ``system:…``.
        if not actor.startswith("system:"):
            raise ValueError(f"a string actor must be system:…, not {actor!r}")
    else:
        require(actor, "accounts.manage")
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ValidationFailed("未知角色", code="unknown_role", detail={"roles": unknown})
    if resident_id:
        resident_id = validate_resident_id(resident_id)
    if check_password:
        _check_password(password, User(username=username, display_name=display_name))
    try:
        with transaction.atomic():
            _refuse_taken(username, resident_id)
            user = User(
                username=username,
                display_name=display_name,
                resident_id=resident_id,
                email=email,
                phone=phone,
            )
            user.set_password(password)
            user.save()
            now = clock.now()
            UserRole.objects.bulk_create(
                [UserRole(user=user, role=r, granted_at=now) for r in roles]
            )
            append_event(
                actor=actor,
                event_type="accounts.user_created",
                subject=f"user:{user.pk}",
                payload={"username": username, "roles": sorted(roles)},
            )
    except IntegrityError:  # a concurrent sign-up took the name (or ID number) after our check
        _refuse_taken(username, resident_id)
        raise
    return user


def _refuse_taken(username: str, resident_id: str) -> None:
    if User.objects.filter(username=username).exists():
        raise Conflict("用户名已被使用", code="username_taken", detail={"username": username})
    if resident_id and User.objects.filter(resident_id=resident_id).exists():
        raise Conflict("该身份证号码已注册", code="resident_id_taken")


def grant_role(*, actor: Any, user: User, role: str) -> None:
    require(actor, "accounts.manage")
    if role not in Role.values:
        raise ValidationFailed("未知角色", code="unknown_role", detail={"role": role})
    with transaction.atomic():
        _, created = UserRole.objects.get_or_create(
            user=user, role=role, defaults={"granted_at": clock.now()}
        )
        if created:
            append_event(
                actor=actor,
                event_type="accounts.role_granted",
                subject=f"user:{user.pk}",
                payload={"role": role},
            )


def authenticate(*, username: str, password: str) -> User:
    """Password sign-in. Repeated failures lock the account; the lockout is in the ledger."""
    now = clock.now()
    user = User.objects.filter(username=username).first()
    if user is None or not user.is_active:
        User().set_password(password)  # spend the same time as a real check
        raise NotAuthenticated(
            "用户名或密码错误 (wrong username or password)", code="bad_credentials"
        )
    if user.locked_until and user.locked_until > now:
        raise Locked(
            "账户已锁定，请稍后再试 (account locked)",
            code="account_locked",
            detail={"locked_until": user.locked_until.isoformat()},
        )
    if user.check_password(password):
        if user.failed_logins or user.locked_until:
            User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        User.objects.filter(pk=user.pk).update(last_login=now)
        return user
    _register_failure(user, now)
    raise NotAuthenticated("用户名或密码错误 (wrong username or password)", code="bad_credentials")


def _register_failure(user: User, now: datetime) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        failures = User.objects.filter(pk=user.pk).values_list("failed_logins", flat=True).get()
        if failures >= settings.GGZY_LOGIN_MAX_FAILURES:
            until = now + timedelta(minutes=settings.GGZY_LOGIN_LOCKOUT_MINUTES)
            User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
            record_refusal(
                actor="anonymous",
                event_type="accounts.login_locked",
                subject=f"user:{user.pk}",
                reason="too many failed sign-ins",
                locked_until=until.isoformat(),
            )


def issue_token(*, actor: User, name: str, days: int | None = 365) -> tuple[ApiToken, str]:
    """Issue an API token; returns the row and the secret, which is never stored nor shown again."""
    require(actor, "token.issue")
    name = name.strip()
    if not name or len(name) > 60:
        raise ValidationFailed("令牌名称应为1–60个字符", code="bad_token_name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor,
            name=name,
            prefix=secret[:12],
            digest=hashlib.sha256(secret.encode()).hexdigest(),
            created_at=now,
            expires_at=now + timedelta(days=days) if days else None,
        )
        append_event(
            actor=actor,
            event_type="accounts.token_issued",
            subject=f"token:{token.pk}",
            payload={"name": name, "prefix": token.prefix},
        )
    return token, secret


def revoke_token(*, actor: User, token_id: int) -> None:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=actor).first()
        if token is None:
            raise NotFound("令牌不存在", code="token_not_found")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            token.save(update_fields=["revoked_at"])
            append_event(
                actor=actor, event_type="accounts.token_revoked", subject=f"token:{token.pk}"
            )


def user_for_token(secret: str) -> User | None:
    """The active user behind a bearer token, or ``None``."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest, revoked_at__isnull=True)
        .first()
    )
    now = clock.now()
    if token is None or (token.expires_at and token.expires_at <= now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
