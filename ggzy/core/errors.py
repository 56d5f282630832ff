"""The platform's error types. Every interface maps them to ``{"code", "message", "detail"}``."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the user can understand. ``status`` is the HTTP status the API answers with."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    """Refused by the access gate. Selectors answer ``NotFound`` instead where existence is secret."""

    status = 403
    code = "forbidden"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Locked(DomainError):
    status = 423
    code = "locked"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"
