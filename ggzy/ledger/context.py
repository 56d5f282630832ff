"""Who is acting and from where, for the ledger. Interfaces set it; services never parse requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_client_addr: ContextVar[str] = ContextVar("ggzy_client_addr", default="")


def client_addr() -> str:
    return _client_addr.get()


@contextmanager
def acting_from(addr: str) -> Iterator[None]:
    token = _client_addr.set(addr[:64])
    try:
        yield
    finally:
        _client_addr.reset(token)


def actor_ref(actor: Any) -> str:
    """A stable, opaque reference for the ledger: ``user:17``, ``system:cli``, ``anonymous``."""
    if actor is None:
        return "anonymous"
    if isinstance(actor, str):
        return actor
    if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) is not None:
        return f"user:{actor.pk}"
    return "anonymous"


class ClientAddressMiddleware:
    """Puts the request's client address where the ledger reads it."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        with acting_from(request.META.get("REMOTE_ADDR", "") or ""):
            return self.get_response(request)
