"""The external trading systems' rows of the API-wide matrices (tests/api/test_errors.py and
tests/api/test_permissions.py): a connected system of the world, made on first use.

The ingestion endpoint itself (``POST /api/v1/exchange/ingest/records``) is authenticated by a
system's API key, not by a user's bearer token, so the user-centred harnesses cannot drive it:
its own matrix of bad input (every case those harnesses walk, plus the key and the idempotency
cases) is tests/exchange/test_ingest.py, named in ``OWN_MATRIX``."""

from __future__ import annotations

from typing import Any

from ggzy.exchange import ingest
from ggzy.exchange.models import ExternalSystem

SYSTEMS = "/api/v1/exchange/systems"
MATRIX_SYSTEM = "matrix-sys"

# operations with a matrix of their own, and where it is
OWN_MATRIX = {"POST /api/v1/exchange/ingest/records": "tests/exchange/test_ingest.py"}


def system(actor: Any, operator: Any) -> ExternalSystem:
    """The world's connected system (accredited by ``actor`` for ``operator`` on first use)."""
    row = ExternalSystem.objects.filter(code=MATRIX_SYSTEM).first()
    if row is None:
        row, _ = ingest.accredit(actor=actor, code=MATRIX_SYSTEM, name="矩阵测试交易系统",
                                 operator=operator)  # fmt: skip
    return row


def _new_system_body(uscc: str) -> dict[str, Any]:
    return {"code": "matrix-new", "name": "新接入交易系统", "operator": uscc,
            "homepage": "https://etrade.example.cn"}  # fmt: skip


# --- tests/api/test_errors.py ------------------------------------------------------------------

PATH_VALUES: dict[str, Any] = {"system_code": lambda w: system(w.omni, w.entity).code}
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "system_code": [("no-such-system", 404, "system_not_found"),
                    ("x" * 200, 404, "system_not_found")],
}  # fmt: skip
PREPARED: dict[str, Any] = {
    f"POST {SYSTEMS}": lambda w: ({}, _new_system_body(w.entity.uscc)),
    **{
        f"POST {SYSTEMS}/{{system_code}}/{action}": (
            lambda w: ({"system_code": system(w.omni, w.entity).code}, {"reason": "接口维护"})
        )
        for action in ("disable", "enable")
    },
}


# --- tests/api/test_permissions.py --------------------------------------------------------------


def permission_rules(rule: Any, *, center_admin: frozenset[str]) -> dict[str, Any]:
    """``rule`` is the matrix's ``WriteRule``: only the center's administrator connects, re-keys,
    disables and enables systems; everyone else signed in is refused (403)."""

    def _system_call(suffix: str, body: Any = None) -> Any:
        def request(c: Any, actor: str) -> tuple[str, Any]:
            code = system(c.users["center_admin"], c.entity).code
            return f"{SYSTEMS}/{code}{suffix}", body

        return request

    return {
        f"POST {SYSTEMS}": rule(
            center_admin, 201, ("exchange.system_accredited",),
            lambda c, a: (SYSTEMS, _new_system_body(c.entity.uscc)),
        ),
        f"POST {SYSTEMS}/{{system_code}}/rotate-key": rule(
            center_admin, 200, ("exchange.system_key_rotated",), _system_call("/rotate-key"),
        ),
        f"POST {SYSTEMS}/{{system_code}}/disable": rule(
            center_admin, 200, ("exchange.system_disabled",),
            _system_call("/disable", {"reason": "接口维护"}),
        ),
        f"POST {SYSTEMS}/{{system_code}}/enable": rule(
            center_admin, 200, ("exchange.system_enabled",),
            _system_call("/enable", {"reason": "维护结束"}),
        ),
    }  # fmt: skip
