"""The award rows of the two API matrices (tests/api/test_permissions.py and
tests/api/test_errors.py), kept here so the shared files carry only a line or two each:

    # test_permissions.py
    from tests.award import matrix as award_matrix
    WRITE_RULES |= award_matrix.permission_rules(
        WriteRule, signed_in=SIGNED_IN, staff=PROJECT_STAFF, tenderer=TENDERER,
        bidder_members=frozenset({ENTITY_ADMIN, ENTITY_OPERATOR}),
    )
    # test_errors.py
    from tests.award import matrix as award_matrix
    PATH_VALUES |= award_matrix.PATH_VALUES; BAD_PATH_VALUES |= award_matrix.BAD_PATH_VALUES
    PREPARED |= award_matrix.PREPARED

Both build on :mod:`tests.evaluation.world`'s ``MatrixEval`` (the cast's or the error world's
evaluation) and carry its section further — report signed, candidates published, objected,
answered, publicity ended, awarded, contract recorded, a payment scheduled — to the state a row
needs and no further. tests/award/test_matrix.py runs the rows against the shared harness.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ggzy.award import services, services_contract
from ggzy.award.models import AwardNotice, Objection, Obligation, Publicity
from tests.evaluation import world as eval_world

AWARD = "/api/v1/award"
SECTION = f"{AWARD}/sections/{{section_id}}"
STATES = ("signed", "published", "objected", "answered", "ended", "awarded", "contracted",
          "scheduled")  # fmt: skip


class MatrixAward:
    """The result of the evaluation world's section, carried forward one state at a time by
    its tenderer (``bidding.tenderer``) and its first bidder (the objector)."""

    def __init__(self, ev: Any) -> None:
        self.ev = ev
        self.state = "none"
        self.publicity: Publicity | None = None
        self.objection: Objection | None = None
        self.award: AwardNotice | None = None
        self.obligation: Obligation | None = None

    @property
    def section(self) -> Any:
        return self.ev.world.section

    @property
    def tenderer(self) -> Any:
        return self.ev.world.bidding.tenderer

    @property
    def objector(self) -> Any:
        return self.ev.world.bidding.bidders[0]

    @property
    def clock(self) -> Any:
        return self.ev.world.clock

    def at(self, state: str) -> MatrixAward:
        target = STATES.index(state)
        while self.state != state:
            current = STATES.index(self.state) if self.state in STATES else -1
            assert current < target, (self.state, state)
            self._step(STATES[current + 1])
        return self

    def _step(self, state: str) -> None:
        if state == "signed":
            eval_world.sign_all(self.ev.world, self.ev.at("report"))
        elif state == "published":
            self.publicity = services.publish_candidates(
                actor=self.tenderer, section=self.section,
                ends_at=self.clock.moment + timedelta(days=3),
            )  # fmt: skip
        elif state == "objected":
            assert self.publicity is not None
            self.objection = services.raise_objection(
                actor=self.objector.user, publicity=self.publicity, entity=self.objector.entity,
                reason="第一名业绩证明不实",
            )  # fmt: skip
        elif state == "answered":
            assert self.objection is not None
            services.answer_objection(actor=self.tenderer, objection=self.objection,
                                      reply="经复核，业绩证明真实有效")  # fmt: skip
        elif state == "ended":
            assert self.publicity is not None
            self.clock.set(self.publicity.ends_at)
        elif state == "awarded":
            self.award = services.issue_award(actor=self.tenderer, section=self.section)
        elif state == "contracted":
            services_contract.record_contract(**self.contract_args())
        elif state == "scheduled":
            contract = self.award.contract  # type: ignore[union-attr]
            self.obligation = services_contract.add_obligation(
                actor=self.tenderer, contract=contract, kind="progress_payment", name="预付款",
                amount="100000.00", due_on=self.clock.moment.date() + timedelta(days=30),
            )  # fmt: skip
        self.state = state

    def contract_args(self) -> dict[str, Any]:
        assert self.award is not None
        return {"actor": self.tenderer, "section": self.section, "amount": self.award.amount,
                "signed_on": self.today(), "security_amount": "0", "security_form": "none"}  # fmt: skip

    def contract_body(self) -> dict[str, Any]:
        assert self.award is not None
        return {"amount": str(self.award.amount), "signed_on": self.today().isoformat(),
                "security_amount": "0", "security_form": "none"}  # fmt: skip

    def today(self) -> Any:
        from ggzy.core import clock

        return clock.today()


def for_cast(cast: Any) -> MatrixAward:
    if "_award" not in cast.__dict__:
        cast.__dict__["_award"] = MatrixAward(eval_world.for_cast(cast))
    return cast.__dict__["_award"]  # type: ignore[no-any-return]


def for_world(world: Any) -> MatrixAward:
    if "_award" not in world.__dict__:
        world.__dict__["_award"] = MatrixAward(eval_world.for_world(world))
    return world.__dict__["_award"]  # type: ignore[no-any-return]


WITHDRAWAL = {"ground": "gave_up", "reason": "书面声明放弃中标"}


def _publicity_body(a: MatrixAward) -> dict[str, Any]:
    return {"ends_at": (a.clock.moment + timedelta(days=3)).isoformat()}


def _objection_body(a: MatrixAward) -> dict[str, Any]:
    return {"entity": a.objector.entity.uscc, "reason": "评分有误"}


def _body(body: Any, a: MatrixAward) -> Any:
    return body(a) if callable(body) else body


# --- the permission matrix -----------------------------------------------------------------------


def _cast_section(state: str, suffix: str, body: Any = None) -> Any:
    def build(c: Any, actor: str) -> tuple[str, Any]:
        a = for_cast(c).at(state)
        return f"{AWARD}/sections/{a.section.public_id}{suffix}", _body(body, a)

    return build


def _cast_reply(c: Any, actor: str) -> tuple[str, Any]:
    a = for_cast(c).at("objected")
    assert a.objection is not None
    return f"{AWARD}/objections/{a.objection.public_id}/reply", {"reply": "经复核无误"}


def _cast_settle(c: Any, actor: str) -> tuple[str, Any]:
    a = for_cast(c).at("scheduled")
    assert a.obligation is not None
    return f"{AWARD}/obligations/{a.obligation.pk}/settle", {"status": "paid",
                                                               "on": a.today().isoformat()}  # fmt: skip


def permission_rules(
    rule: Any, *, signed_in: frozenset[str], staff: frozenset[str], tenderer: frozenset[str],
    bidder_members: frozenset[str],
) -> dict[str, Any]:  # fmt: skip
    """``rule`` is the matrix's ``WriteRule``. The tenderer side manages the result; the
    section is public, so others are refused (403) where they may see what they act on, and
    get 404 where they may not (an objection, the contract before it is published, an
    obligation). ``bidder_members`` are the members of the entity that bid and objects."""
    strangers = signed_in - staff - tenderer
    contract = {"hidden": strangers, "not_found": "contract_not_found"}
    return {
        f"POST {SECTION}/candidates": rule(
            tenderer, 201, ("award.candidates_published",),
            _cast_section("signed", "/candidates", _publicity_body),
        ),
        f"POST {SECTION}/objections": rule(
            bidder_members, 201, ("award.objection_raised",),
            _cast_section("published", "/objections", _objection_body),
        ),
        f"POST {AWARD}/objections/{{award_objection_id}}/reply": rule(
            tenderer, 200, ("award.objection_answered",), _cast_reply,
            hidden=strangers - bidder_members, not_found="objection_not_found",
        ),
        f"POST {SECTION}/award": rule(
            tenderer, 201, ("award.notice_issued",), _cast_section("ended", "/award", {"rank": 1}),
        ),
        f"POST {SECTION}/candidates/{{rank}}/withdraw": rule(
            tenderer, 200, ("award.candidate_withdrawn",),
            _cast_section("ended", "/candidates/1/withdraw", WITHDRAWAL),
        ),
        f"POST {SECTION}/award/report": rule(
            tenderer, 200, ("award.report_filed",),
            _cast_section("awarded", "/award/report", {"reference": "BG-2026-001"}),
        ),
        f"POST {SECTION}/contract": rule(
            tenderer, 201, ("award.contract_recorded",),
            _cast_section("awarded", "/contract", lambda a: a.contract_body()),
        ),
        f"POST {SECTION}/contract/publish": rule(
            tenderer, 200, ("award.contract_published",),
            _cast_section("contracted", "/contract/publish"), **contract,
        ),
        f"POST {SECTION}/contract/filing": rule(
            tenderer, 200, ("award.contract_filed",),
            _cast_section("contracted", "/contract/filing", {"reference": "BA-2026-001"}),
            **contract,
        ),
        f"POST {SECTION}/obligations": rule(
            tenderer, 201, ("award.obligation_added",),
            _cast_section("contracted", "/obligations", lambda a: {
                "kind": "quality_deposit", "name": "质量保证金", "amount": "100000.00",
                "due_on": a.today().isoformat()}),
            **contract,
        ),
        f"POST {AWARD}/obligations/{{obligation_id}}/settle": rule(
            tenderer, 200, ("award.obligation_settled",), _cast_settle,
            hidden=strangers, not_found="obligation_not_found",
        ),
    }  # fmt: skip


# --- the error matrix ----------------------------------------------------------------------------


def _at(state: str, body: Any = None) -> Any:
    """The error world's section carried to ``state`` (omni is its tenderer and a bidder)."""

    def build(w: Any) -> tuple[dict[str, str], Any]:
        a = for_world(w).at(state)
        return {"section_id": a.section.public_id}, _body(body, a)

    return build


def _reply(w: Any) -> tuple[dict[str, str], Any]:
    a = for_world(w).at("objected")
    assert a.objection is not None
    return {"award_objection_id": a.objection.public_id}, {"reply": "经复核无误"}


def _settle(w: Any) -> tuple[dict[str, str], Any]:
    a = for_world(w).at("scheduled")
    assert a.obligation is not None
    return {"obligation_id": str(a.obligation.pk)}, {"status": "paid", "on": a.today().isoformat()}


PREPARED: dict[str, Any] = {
    f"GET {SECTION}": _at("signed"),
    f"POST {SECTION}/candidates": _at("signed", _publicity_body),
    f"GET {SECTION}/candidates": _at("published"),
    f"POST {SECTION}/objections": _at("published", _objection_body),
    f"GET {SECTION}/objections": _at("objected"),
    f"POST {AWARD}/objections/{{award_objection_id}}/reply": _reply,
    f"POST {SECTION}/award": _at("ended", {"rank": 1}),
    f"GET {SECTION}/award": _at("awarded"),
    f"POST {SECTION}/candidates/{{rank}}/withdraw": _at("ended", WITHDRAWAL),
    f"POST {SECTION}/award/report": _at("awarded", {"reference": "BG-2026-001"}),
    f"GET {SECTION}/my-result": _at("published"),
    f"POST {SECTION}/contract": _at("awarded", lambda a: a.contract_body()),
    f"GET {SECTION}/contract": _at("contracted"),
    f"POST {SECTION}/contract/publish": _at("contracted"),
    f"POST {SECTION}/contract/filing": _at("contracted", {"reference": "BA-2026-001"}),
    f"GET {SECTION}/obligations": _at("contracted"),
    f"POST {SECTION}/obligations": _at("contracted", lambda a: {
        "kind": "progress_payment", "name": "预付款", "amount": "100000.00",
        "due_on": a.today().isoformat()}),
    f"POST {AWARD}/obligations/{{obligation_id}}/settle": _settle,
    f"GET {AWARD}/warnings": lambda w: ({}, None),
}  # fmt: skip
PATH_VALUES: dict[str, Any] = {
    "award_objection_id": lambda w: for_world(w).at("objected").objection.public_id,
    "obligation_id": lambda w: str(for_world(w).at("scheduled").obligation.pk),
    "rank": lambda w: "1",
}
BAD_PATH_VALUES: dict[str, list[tuple[str, int, str]]] = {
    "award_objection_id": [("0" * 32, 404, "objection_not_found"),
                           ("no-such-thing", 404, "objection_not_found")],
    "obligation_id": [("abc", 422, "validation_error"), ("999999", 404, "obligation_not_found")],
    "rank": [("abc", 422, "validation_error"), ("9", 422, "candidate_not_found")],
}  # fmt: skip
