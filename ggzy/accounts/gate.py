"""The access gate: the one place that decides whether an actor may do something.

Services call :func:`require` before writing; selectors call :func:`allowed` to filter. A
permission is held through a platform role (``roles.PERMISSIONS``) or, for a specific object,
through an object rule that the owning domain registers (e.g. entity membership).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ggzy.accounts.roles import PERMISSIONS, PUBLIC
from ggzy.core.errors import NotAuthenticated, PermissionDenied

ObjectRule = Callable[[Any, str, Any], bool]
_object_rules: dict[type, ObjectRule] = {}


def register_object_rule(model: type, rule: ObjectRule) -> None:
    """Let a domain say who may act on one of its objects (``rule(actor, permission, obj)``)."""
    _object_rules[model] = rule


def is_authenticated(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False)) and bool(
        getattr(actor, "is_active", False)
    )


def holds_role_permission(actor: Any, permission: str) -> bool:
    if permission in PUBLIC:
        return True
    if not is_authenticated(actor):
        return False
    roles = PERMISSIONS.get(permission)
    if roles is None:
        raise KeyError(f"unknown permission {permission!r}")
    return bool(actor.role_set & roles)


def allowed(actor: Any, permission: str, obj: Any = None) -> bool:
    if holds_role_permission(actor, permission):
        return True
    if obj is not None and is_authenticated(actor):
        rule = _object_rules.get(type(obj))
        return bool(rule and rule(actor, permission, obj))
    return False


def require(actor: Any, permission: str, obj: Any = None) -> None:
    """Raise unless ``actor`` holds ``permission`` (on ``obj`` when given)."""
    if allowed(actor, permission, obj):
        return
    if not is_authenticated(actor):
        raise NotAuthenticated("请先登录 (sign in first)", detail={"permission": permission})
    raise PermissionDenied("无权执行此操作 (not permitted)", detail={"permission": permission})
