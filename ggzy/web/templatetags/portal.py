"""Template helpers for the portal pages."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def platform_name() -> str:
    return str(settings.GGZY_PLATFORM_NAME)
