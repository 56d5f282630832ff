"""Ratings over HTTP: the center and the tenderer rate a signed session's experts
(``POST /api/v1/experts/{expert_id}/ratings``), find what to rate (``GET …/ratings/sessions``),
the expert reads their own history (``GET …/me/history``); every refusal is the one error shape
``{"code", "message", "detail"}`` and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ggzy.accounts.services import issue_token
from ggzy.core import clock
from tests.api.support import api_client, assert_error, db_state, event_types_since, last_seq
from tests.experts import test_ratings_world as rw

EXPERTS = "/api/v1/experts"


def _token(user):  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return rw.make_rating_world(frozen_clock)


def _body(world: rw.RatingWorld, kind: str = "center", score: Any = 4, **kw: Any) -> dict[str, Any]:
    return {"session_ref": world.sessions[0].public_id, "rater_kind": kind, "score": score, **kw}


def _post(world: rw.RatingWorld, token: str | None, body: dict[str, Any], expert: int = 0) -> Any:
    return api_client().call("POST", f"{EXPERTS}/{world.experts[expert].public_id}/ratings",
                             body, token=token)  # fmt: skip


def test_both_sides_rate_over_the_api_and_the_expert_reads_the_history(world):  # type: ignore[no-untyped-def]
    # when the center records misconduct and the tenderer a good rating
    r = _post(world, _token(world.ops), _body(world, "center", 2, comment="迟到一小时",
                                              misconduct=True))  # fmt: skip
    assert r.status_code == 201, r.content
    center = r.json()
    assert center == {"id": center["id"], "session_ref": world.sessions[0].public_id,
                      "rater_kind": "center", "score": 2, "comment": "迟到一小时",
                      "misconduct": True, "rated_at": center["rated_at"]}  # fmt: skip
    r = _post(world, _token(world.tenderer), _body(world, "tenderer", 5))
    assert r.status_code == 201, r.content
    # then the expert sees the session sat on, both ratings without who gave them, and the
    # automatic suspension with its reason and cause
    me = api_client().call("GET", f"{EXPERTS}/me/history", token=_token(world.expert_user(0)))
    assert me.status_code == 200, me.content
    out = me.json()
    session = world.sessions[0]
    until = (clock.today() + timedelta(days=364)).isoformat()
    assert (out["public_id"], out["status"], out["suspended_until"]) == (
        world.experts[0].public_id, "suspended", until)  # fmt: skip
    assert out["sessions"] == [{
        "session": session.public_id, "project": session.section.project.name,
        "section": session.section.label, "status": "signed", "is_chair": True,
        "signed_at": out["sessions"][0]["signed_at"]}]  # fmt: skip
    assert [(x["rater_kind"], x["score"], x["misconduct"]) for x in out["ratings"]] == [
        ("tenderer", 5, False), ("center", 2, True)]  # fmt: skip
    assert all(set(x) == {"id", "session_ref", "rater_kind", "score", "comment", "misconduct",
                          "rated_at"} for x in out["ratings"])  # fmt: skip
    assert [(s["from_status"], s["until"], s["automatic"], s["ratings"])
            for s in out["suspensions"]] == [("active", until, True, [center["id"]])]  # fmt: skip
    assert out["suspensions"][0]["reason"].startswith("自动暂停：评价记录违规行为")
    # staff see the same on the expert's record
    staff = api_client().call("GET", f"{EXPERTS}/{world.experts[0].public_id}",
                              token=_token(world.ev.pool_keeper)).json()  # fmt: skip
    assert staff["status"] == "suspended" and len(staff["ratings"]) == 2


def test_the_tenderer_finds_its_signed_session_and_its_experts(world):  # type: ignore[no-untyped-def]
    token = _token(world.tenderer)
    _post(world, token, _body(world, "tenderer", 3), expert=2)
    r = api_client().call("GET", f"{EXPERTS}/ratings/sessions", token=token)
    assert r.status_code == 200, r.content
    [listed] = r.json()
    assert (listed["session"], listed["rater_kinds"]) == (world.sessions[0].public_id,
                                                          ["tenderer"])  # fmt: skip
    assert [(e["public_id"], e["name"]) for e in listed["experts"]] == [
        (e.public_id, e.name) for e in world.experts]  # fmt: skip
    assert [[x["score"] for x in e["ratings"]] for e in listed["experts"]] == [
        [], [], [3], [], []]  # fmt: skip
    one = api_client().call("GET", f"{EXPERTS}/ratings/sessions/{listed['session']}", token=token)
    assert one.json() == listed
    # another project's tenderer sees none of it
    other = _token(world.other_tenderer)
    assert api_client().call("GET", f"{EXPERTS}/ratings/sessions", token=other).json() == []
    assert_error(api_client().call("GET", f"{EXPERTS}/ratings/sessions/{listed['session']}",
                                   token=other), 404, "session_not_found")  # fmt: skip


@pytest.mark.parametrize(
    ("who", "body", "status", "code", "recorded"),
    [
        ("anonymous", {}, 401, "not_authenticated", ()),
        ("bidder", {"rater_kind": "tenderer"}, 404, "session_not_found", ("experts.rating_refused",)),
        ("other_tenderer", {"rater_kind": "tenderer"}, 404, "session_not_found",
         ("experts.rating_refused",)),
        ("keeper", {}, 403, "not_a_rater", ("experts.rating_refused",)),
        ("ops", {"rater_kind": "tenderer"}, 403, "rater_kind_not_yours",
         ("experts.rating_refused",)),
        ("ops", {"session_ref": "0" * 16}, 404, "session_not_found", ()),
        ("ops", {"score": 0}, 422, None, ()),
        ("ops", {"score": 10**30}, 422, None, ()),
        ("ops", {"rater_kind": "bidder"}, 422, None, ()),
        ("ops", {"score": True}, 422, None, ()),  # not silently a 1
        ("ops", {"score": "4"}, 422, None, ()),
        ("ops", {"misconduct": "yes"}, 422, None, ()),  # would suspend the expert
        ("ops", {"comment": "长" * 1001}, 422, None, ()),
    ],
)  # fmt: skip
def test_refusals_have_the_error_shape_and_change_nothing(world, who, body, status, code, recorded):  # type: ignore[no-untyped-def]
    users = {"bidder": world.ev.bidding.bidders[0].user, "other_tenderer": world.other_tenderer,
             "keeper": world.ev.pool_keeper, "ops": world.ops}  # fmt: skip
    token = _token(users[who]) if who in users else None
    seq, before = last_seq(), db_state()
    out = assert_error(_post(world, token, _body(world, **body)), status, code)
    assert set(out) == {"code", "message", "detail"}
    assert db_state(upto_seq=seq) == before
    assert event_types_since(seq) == list(recorded)


def test_rating_twice_or_a_non_member_or_before_signing_is_a_conflict(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    world = rw.make_rating_world(frozen_clock, sign_last=False)
    ops = _token(world.ops)
    out = assert_error(_post(world, ops, _body(world)), 409, "session_not_signed")
    assert out["detail"] == {"status": "report"}
    from tests.evaluation import world as w

    w.sign_all(world.ev, world.sessions[0])
    assert _post(world, ops, _body(world)).status_code == 201
    seq, before = last_seq(), db_state()
    assert_error(_post(world, ops, _body(world, score=1)), 409, "rating_exists")
    assert (db_state(upto_seq=seq), event_types_since(seq)) == (before, [])
    outsider = w.make_experts(world.ev, 1)[-1].expert
    seq, before = last_seq(), db_state()
    r = api_client().call("POST", f"{EXPERTS}/{outsider.public_id}/ratings", _body(world),
                          token=ops)  # fmt: skip
    assert assert_error(r, 404, "not_on_committee")["detail"] == {"field": "expert"}
    assert (db_state(upto_seq=seq), event_types_since(seq)) == (before, [])


def test_my_history_without_an_expert_record_is_not_found(world):  # type: ignore[no-untyped-def]
    assert_error(api_client().call("GET", f"{EXPERTS}/me/history", token=_token(world.tenderer)),
                 404, "expert_not_found")  # fmt: skip
    assert_error(api_client().call("GET", f"{EXPERTS}/me/history"), 401)
