"""Template helpers for the portal pages."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def platform_name() -> str:
    return str(settings.GGZY_PLATFORM_NAME)


@register.filter
def can(user: object, permission: str) -> bool:
    """``{% if user|can:"bidding.open" %}``: whether the user holds the permission through a
    platform role (the access gate decides; object rules need the object, so not here)."""
    from ggzy.accounts.gate import holds_role_permission

    return holds_role_permission(user, permission)
