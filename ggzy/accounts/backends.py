"""Django authentication backend that goes through the lockout-aware service (admin login too)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from ggzy.accounts import services
from ggzy.core.errors import DomainError


class LockoutAwareBackend(ModelBackend):
    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None or password is None:
            return None
        try:
            return services.authenticate(username=username, password=password)
        except DomainError:
            return None
