"""The expert ratings' rows of the two API matrices (tests/api/test_permissions.py and
tests/api/test_errors.py), kept here so the shared files carry a line or two each.

A rating needs a signed session: :func:`signed` carries the matrix's evaluation
(``tests.evaluation.world.MatrixEval``) to its report and has every member sign it, once per
world. The rated expert is the committee's second member (not the cast's ``expert`` account,
not omni's record in the error world). A refusal changes nothing but its ledger record, so every
refused actor of a row rates the same expert of the same session."""

from __future__ import annotations

from typing import Any

from tests.evaluation import world as eval_world

EXPERTS = "/api/v1/experts"
RATE = f"{EXPERTS}/{{expert_id}}/ratings"
SESSION = f"{EXPERTS}/ratings/sessions/{{session_ref}}"
SIDE = {"center_operations": "center", "tenderer": "tenderer"}  # the cast's raters and their side


def signed(ev: Any) -> Any:
    """The evaluation's session with its report signed by every member (signed once)."""
    session = ev.at("report")
    if session.status != "signed":
        session = eval_world.sign_all(ev.world, session)
    return session


def _rated(ev: Any) -> Any:
    """The expert rated: the second seat of the signed session's committee."""
    return ev.world.members[1].expert


def _body(ev: Any, rater_kind: str) -> dict[str, Any]:
    return {"session_ref": signed(ev).public_id, "rater_kind": rater_kind, "score": 4,
            "comment": "评审认真"}  # fmt: skip


# --- the permission matrix -----------------------------------------------------------------------


def _rate(c: Any, actor: str) -> tuple[str, Any]:
    """Each rater as its own side; whoever is refused tries the center's."""
    ev = eval_world.for_cast(c)
    body = _body(ev, SIDE.get(actor, "center"))
    return f"{EXPERTS}/{_rated(ev).public_id}/ratings", body


def permission_rules(
    rule: Any,
    *,
    signed_in: frozenset[str],
    staff: frozenset[str],
    operations: frozenset[str],
    tenderer: frozenset[str],
    expert: frozenset[str],
) -> dict[str, Any]:
    """``rule`` is the matrix's ``WriteRule``. The organizing desk rates as the center, the
    section's tenderer as the tenderer. Who may see the session otherwise (center and
    supervision staff, the committee's members — ``expert`` sits on it) is ``not_a_rater``; to
    everyone else the session does not exist. Every signed-in refusal is recorded."""
    raters = operations | tenderer
    return {
        f"POST {RATE}": rule(
            raters,
            201,
            ("experts.expert_rated",),
            _rate,
            hidden=signed_in - staff - expert - tenderer,
            not_found="session_not_found",
            forbidden="not_a_rater",
            recorded=signed_in - raters,
            refusal_events=("experts.rating_refused",),
        ),
    }


# --- the error matrix -----------------------------------------------------------------------------


def _w_rate(w: Any) -> tuple[dict[str, str], Any]:
    """omni (every role) rates as the center."""
    ev = eval_world.for_world(w)
    return {"expert_id": _rated(ev).public_id}, _body(ev, "center")


def _w_signed(w: Any) -> tuple[dict[str, str], Any]:
    """The error world's session signed: omni's expert record chairs it, and omni (the center)
    has it to rate."""
    return {"session_ref": signed(eval_world.for_world(w)).public_id}, None


PREPARED: dict[str, Any] = {
    f"POST {RATE}": _w_rate,
    f"GET {EXPERTS}/me/history": lambda w: ({}, _w_signed(w)[1]),
    f"GET {EXPERTS}/ratings/sessions": lambda w: ({}, _w_signed(w)[1]),
    f"GET {SESSION}": _w_signed,
}
PATH_VALUES: dict[str, Any] = {
    "session_ref": lambda w: signed(eval_world.for_world(w)).public_id,
}
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "session_ref": [
        ("0" * 32, 404, "session_not_found"),
        ("no-such-thing", 404, "session_not_found"),
    ],
}
# An expert id naming nobody on the session's committee — no such expert at all — is
# ``not_on_committee`` like one who did not sit: a rater (the tenderer) does not learn who is in
# the pool. (operation, path parameter) -> (value, status, code)
BAD_PATH_VALUES_OF: dict[tuple[str, str], list[tuple[str, int, str]]] = {
    (f"POST {RATE}", "expert_id"): [
        ("0" * 32, 404, "not_on_committee"),
        ("no-such-thing", 404, "not_on_committee"),
    ],
}
