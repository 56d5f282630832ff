"""Account reads."""

from __future__ import annotations

from django.db.models import QuerySet

from ggzy.accounts.models import ApiToken, User


def tokens_for(user: User) -> QuerySet[ApiToken]:
    """A user's own API tokens, newest first (nobody else's)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")
