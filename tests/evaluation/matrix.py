"""The evaluation rows of the two API matrices (tests/api/test_permissions.py and
tests/api/test_errors.py), kept here so the shared files carry only a line or two each.

Both build on :mod:`tests.evaluation.world`'s ``MatrixEval``: one session per test, carried
forward to the state a row needs and no further (refusals change nothing, so every refused
actor of a row gets the same state)."""

from __future__ import annotations

from typing import Any

from tests.evaluation import world as eval_world

EVALUATION = "/api/v1/evaluation"
SESSION = f"{EVALUATION}/sessions/{{evaluation_id}}"
SCORES = {"scores": [{"bid": "A", "criterion": "c2", "points": "20", "justification": "可行"}]}


def _committee_body(ev: Any) -> dict[str, Any]:
    experts = [m.expert.public_id for m in ev.committee()]
    return {"experts": experts, "chair": experts[0]}


def _body(body: Any, ev: Any) -> Any:
    return body(ev) if callable(body) else body


# --- the permission matrix -----------------------------------------------------------------------


def _cast_call(state: str, suffix: str, body: Any = None) -> Any:
    def build(c: Any, actor: str) -> tuple[str, Any]:
        ev = eval_world.for_cast(c)
        session = ev.at(state)
        return f"{EVALUATION}/sessions/{session.public_id}{suffix}", _body(body, ev)

    return build


def _cast_create(c: Any, actor: str) -> tuple[str, Any]:
    ev = eval_world.for_cast(c)
    ev.at("opened")
    return f"{EVALUATION}/sessions", {"section": ev.world.section.public_id}


def _cast_low_price(c: Any, actor: str) -> tuple[str, Any]:
    session = eval_world.for_cast(c).at("scoring")
    low = session.bids.get(low_price="pending")
    url = f"{EVALUATION}/sessions/{session.public_id}/bids/{low.label}/low-price"
    return url, {"accepted": True, "note": "成本构成合理"}


def permission_rules(
    rule: Any, *, signed_in: frozenset[str], staff: frozenset[str], operations: frozenset[str],
    expert: frozenset[str],
) -> dict[str, Any]:  # fmt: skip
    """``rule`` is the matrix's ``WriteRule``. The center's endpoints hide the session from
    whoever may not see it (the center, supervision and — once seated — the members see it);
    the members' endpoints answer ``not_on_committee`` to everyone else ("expert" is the
    cast's committee member and chair); a score from outside is recorded."""
    strangers = signed_in - staff - expert
    hidden = {"hidden": strangers, "not_found": "session_not_found"}
    member = {"forbidden": "not_on_committee"}
    return {
        f"POST {EVALUATION}/sessions": rule(
            operations, 201, ("evaluation.session_created",), _cast_create
        ),
        f"POST {SESSION}/committee": rule(
            operations, 200, ("evaluation.committee_formed",),
            _cast_call("forming", "/committee", _committee_body),
            hidden=signed_in - staff, not_found="session_not_found",  # nobody is seated yet
        ),
        f"POST {SESSION}/review": rule(
            operations, 200, ("evaluation.review_started",), _cast_call("formed", "/review"),
            **hidden,
        ),
        f"POST {SESSION}/scoring": rule(
            operations, 200, ("evaluation.scoring_started",), _cast_call("reviewed", "/scoring"),
            **hidden,
        ),
        f"POST {SESSION}/report": rule(
            operations, 200, ("evaluation.report_built",), _cast_call("scored", "/report"),
            **hidden,
        ),
        f"POST {SESSION}/votes": rule(
            expert, 200, ("evaluation.findings_voted",),
            _cast_call("qualification", "/votes", lambda ev: ev.votes_body()), **member,
        ),
        f"POST {SESSION}/scores": rule(
            expert, 200, ("evaluation.scores_submitted",),
            _cast_call("scoring", "/scores", SCORES), **member,
            recorded=signed_in - expert, refusal_events=("evaluation.score_refused",),
        ),
        f"POST {SESSION}/viewing": rule(
            expert, 200, ("evaluation.viewing_started",),
            _cast_call("scoring", "/viewing", {"bid": "A", "action": "start"}), **member,
        ),
        f"POST {SESSION}/extension-requests": rule(
            expert, 201, ("evaluation.extension_requested",),
            _cast_call("scoring", "/extension-requests", {"reason": "技术标内容多"}), **member,
        ),
        f"POST {SESSION}/bids/{{label}}/low-price": rule(
            expert, 200, ("evaluation.low_price_decided",), _cast_low_price, **member,
        ),
        f"POST {SESSION}/signatures": rule(
            expert, 201, ("trust.document_signed", "evaluation.report_signed"),
            _cast_call("report", "/signatures", lambda ev: ev.signature_body()), **member,
        ),
    }  # fmt: skip


# --- the error matrix ----------------------------------------------------------------------------


def _at(state: str, body: Any = None) -> Any:
    """The error world's session carried to ``state`` (omni runs it and chairs the committee)."""

    def build(w: Any) -> tuple[dict[str, str], Any]:
        ev = eval_world.for_world(w)
        session = ev.at(state)
        return {"evaluation_id": session.public_id}, _body(body, ev)

    return build


def _low_price(w: Any) -> tuple[dict[str, str], Any]:
    session = eval_world.for_world(w).at("scoring")
    low = session.bids.get(low_price="pending")
    ids = {"evaluation_id": session.public_id, "label": low.label}
    return ids, {"accepted": True, "note": "成本构成合理"}


def _create(w: Any) -> tuple[dict[str, str], Any]:
    ev = eval_world.for_world(w)
    ev.at("opened")
    return {}, {"section": ev.world.section.public_id}


PREPARED: dict[str, Any] = {
    f"POST {EVALUATION}/sessions": _create,
    f"GET {SESSION}": _at("forming"),
    f"POST {SESSION}/committee": _at("forming", _committee_body),
    f"POST {SESSION}/review": _at("formed"),
    f"GET {SESSION}/findings": _at("qualification"),
    f"POST {SESSION}/votes": _at("qualification", lambda ev: ev.votes_body()),
    f"POST {SESSION}/scoring": _at("reviewed"),
    f"GET {SESSION}/sheet": _at("scoring"),
    f"POST {SESSION}/scores": _at("scoring", SCORES),
    f"POST {SESSION}/viewing": _at("scoring", {"bid": "A", "action": "start"}),
    f"GET {SESSION}/viewing": _at("scoring"),
    f"POST {SESSION}/extension-requests": _at("scoring", {"reason": "技术标内容多"}),
    f"POST {SESSION}/bids/{{label}}/low-price": _low_price,
    f"POST {SESSION}/report": _at("scored"),
    f"GET {SESSION}/report": _at("report"),
    f"GET {SESSION}/report/bytes": _at("report"),
    f"POST {SESSION}/signatures": _at("report", lambda ev: ev.signature_body()),
}
PATH_VALUES: dict[str, Any] = {
    "evaluation_id": lambda w: eval_world.for_world(w).current().public_id,
    "label": lambda w: "A",
}
NOT_FOUND = [("0" * 32, 404, "session_not_found"), ("no-such-thing", 404, "session_not_found")]
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "evaluation_id": NOT_FOUND,
    "label": [("ZZ", 404, "bid_not_found"), ("no-such-thing", 404, "bid_not_found")],
}
