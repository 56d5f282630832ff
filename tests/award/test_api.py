"""The result through the HTTP API: publicity, objection, award, R61, contract, obligations and
warnings; every refusal in the one error shape, never a 500."""

from __future__ import annotations

from datetime import datetime

import pytest

from ggzy.accounts.services import issue_token
from ggzy.award import services
from ggzy.award.models import AwardNotice, Contract, Obligation, Publicity
from tests.api.support import api_client, assert_error
from tests.award import world as w
from tests.award.test_publicity import award_events, publish
from tests.award.world import cn, days
from tests.conftest import make_user

API = "/api/v1/award"


def _token(user) -> str:  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


@pytest.fixture
def http():  # type: ignore[no-untyped-def]
    return api_client()


def test_the_result_through_the_api(world, http) -> None:  # type: ignore[no-untyped-def]
    sid = world.section.public_id
    tenderer = _token(world.tenderer)
    loser = world.bidder(2)
    loser_token = _token(loser.user)
    staff = _token(make_user("center_ops_2", "center_operations"))

    # nothing public yet
    assert_error(http.call("GET", f"{API}/sections/{sid}/candidates"), 404, "publicity_not_found")
    # a bidder cannot publish
    body = {"ends_at": "2026-12-17T10:00:01+08:00"}
    assert_error(http.call("POST", f"{API}/sections/{sid}/candidates", body, token=loser_token),
                 403, "forbidden")  # fmt: skip
    created = http.call("POST", f"{API}/sections/{sid}/candidates", body, token=tenderer)
    assert created.status_code == 201, created.content
    publicity = created.json()
    assert [c["bidder"]["uscc"] for c in publicity["candidates"]] == [
        w.entity_of(world, n).uscc for n in (1, 3, 2)
    ]
    assert publicity["stage"] == "publicity" and publicity["candidates"][0]["total"] == "93.00"
    # public now, anonymously
    public = http.call("GET", f"{API}/sections/{sid}/candidates")
    assert public.status_code == 200 and public.json()["public_id"] == publicity["public_id"]

    # the losing bidder objects; the tenderer answers
    raised = http.call("POST", f"{API}/sections/{sid}/objections",
                       {"entity": loser.entity.uscc, "reason": "评分有误"}, token=loser_token)  # fmt: skip
    assert raised.status_code == 201, raised.content
    oid = raised.json()["public_id"]
    due = datetime.fromisoformat(raised.json()["reply_due"].replace("Z", "+00:00"))
    assert due == cn(2026, 12, 18, 0)  # R9: the end of Thursday 17
    mine = http.call("GET", f"{API}/sections/{sid}/objections", token=_token(world.bidder(1).user))
    assert mine.status_code == 200 and mine.json() == []  # another bidder sees none of it
    assert len(http.call("GET", f"{API}/sections/{sid}/objections", token=staff).json()) == 1
    assert_error(http.call("POST", f"{API}/objections/{oid}/reply", {"reply": "答"},
                           token=loser_token), 403)  # fmt: skip
    replied = http.call("POST", f"{API}/objections/{oid}/reply", {"reply": "经复核无误"},
                        token=tenderer)  # fmt: skip
    assert replied.status_code == 200 and replied.json()["status"] == "answered"

    # the award, after the publicity
    assert_error(http.call("POST", f"{API}/sections/{sid}/award", {}, token=tenderer), 409,
                 "publicity_running")  # fmt: skip
    world.at(cn(2026, 12, 18, 10))
    assert_error(http.call("POST", f"{API}/sections/{sid}/award", {"rank": 2}, token=tenderer),
                 422, "reason_required")  # fmt: skip
    issued = http.call("POST", f"{API}/sections/{sid}/award", {"rank": 1}, token=tenderer)
    assert issued.status_code == 201, issued.content
    award = issued.json()
    assert award["verified"] is True and award["winner"]["uscc"] == w.entity_of(world, 1).uscc
    assert (
        http.call("GET", f"{API}/sections/{sid}/award").json()["record_sha256"]
        == (award["record_sha256"])
    )

    # R61: the loser's own result only
    result = http.call("GET", f"{API}/sections/{sid}/my-result", token=loser_token)
    assert result.status_code == 200
    assert [(r["uscc"], r["rank"], r["won"]) for r in result.json()] == [
        (loser.entity.uscc, 3, False)
    ]
    assert_error(http.call("GET", f"{API}/sections/{sid}/my-result", token=tenderer), 404,
                 "result_not_found")  # fmt: skip

    # the contract: refused, then recorded; public once published
    body = {"amount": "9000001.00", "signed_on": "2026-12-18", "security_amount": "0",
            "security_form": "none"}  # fmt: skip
    assert_error(http.call("POST", f"{API}/sections/{sid}/contract", body, token=tenderer), 422,
                 "contract_amount_mismatch")  # fmt: skip
    body["amount"] = "9000000.00"
    body["security_amount"] = "900000.01"
    body["security_form"] = "bank_guarantee"
    assert_error(http.call("POST", f"{API}/sections/{sid}/contract", body, token=tenderer), 422,
                 "performance_security_too_high")  # fmt: skip
    assert not Contract.objects.exists()
    body["security_amount"] = "450000.00"
    recorded = http.call("POST", f"{API}/sections/{sid}/contract", body, token=tenderer)
    assert recorded.status_code == 201, recorded.content
    assert recorded.json()["deadline"] == "2027-01-17" and recorded.json()["late"] is False
    assert_error(http.call("GET", f"{API}/sections/{sid}/contract"), 404, "contract_not_found")
    published = http.call("POST", f"{API}/sections/{sid}/contract/publish", token=tenderer)
    assert published.status_code == 200 and published.json()["published_at"]
    assert http.call("GET", f"{API}/sections/{sid}/contract").status_code == 200
    filed = http.call("POST", f"{API}/sections/{sid}/contract/filing", {"reference": "BA-001"},
                      token=tenderer)  # fmt: skip
    assert filed.status_code == 200 and filed.json()["filing_reference"] == "BA-001"

    # obligations
    added = http.call("POST", f"{API}/sections/{sid}/obligations",
                      {"kind": "progress_payment", "name": "预付款", "amount": "900000.00",
                       "due_on": "2026-12-31"}, token=tenderer)  # fmt: skip
    assert added.status_code == 201, added.content
    listed = http.call("GET", f"{API}/sections/{sid}/obligations", token=tenderer).json()
    assert [(o["kind"], o["amount"]) for o in listed["obligations"]] == [
        ("performance_deposit", "450000.00"),
        ("progress_payment", "900000.00"),
    ]
    assert_error(http.call("GET", f"{API}/sections/{sid}/obligations", token=loser_token), 404)
    settled = http.call("POST", f"{API}/obligations/{added.json()['id']}/settle",
                        {"status": "paid", "on": "2026-12-18"}, token=tenderer)  # fmt: skip
    assert settled.status_code == 200 and settled.json()["status"] == "paid"

    # R28: the written report to the supervisor
    filed = http.call("POST", f"{API}/sections/{sid}/award/report", {"reference": "宁招报1号"},
                      token=tenderer)  # fmt: skip
    assert filed.status_code == 200 and filed.json()["report_reference"] == "宁招报1号"
    assert filed.json()["report_filed_at"] is not None and filed.json()["deemed"] is False

    # the summary and the warnings
    summary = http.call("GET", f"{API}/sections/{sid}").json()
    assert summary["stage"] == "contracted" and summary["contract"]["amount"] == "9000000.00"
    warned = http.call("GET", f"{API}/warnings", token=staff, query={"before": "30"})
    assert warned.status_code == 200
    assert [x["kind"] for x in warned.json()] == ["obligation_due"]  # the performance deposit
    assert award_events(world)[-2:] == ["award.obligation_settled", "award.report_filed"]


def test_bad_input_is_refused_in_the_one_error_shape(world, http) -> None:  # type: ignore[no-untyped-def]
    sid = world.section.public_id
    tenderer = _token(world.tenderer)
    url = f"{API}/sections/{sid}/candidates"
    assert_error(http.call("POST", url, {"ends_at": "not a time"}, token=tenderer), 422,
                 "validation_error")  # fmt: skip
    assert_error(http.call("POST", url, {"ends_at": "2026-12-17T10:00:01"}, token=tenderer), 422,
                 "bad_time")  # fmt: skip
    assert_error(http.call("POST", url, {"ends_at": "2026-12-17T10:00:01+08:00", "x": 1},
                           token=tenderer), 422, "validation_error")  # fmt: skip
    assert_error(http.call("POST", url, raw="{", token=tenderer), 400, "malformed_body")
    assert_error(http.call("POST", url, {"ends_at": "2026-12-17T10:00:00+08:00"},
                           token=tenderer), 422, "publicity_too_short")  # fmt: skip
    assert_error(http.call("POST", f"{API}/sections/nope/candidates",
                           {"ends_at": "2026-12-17T10:00:01+08:00"}, token=tenderer), 404,
                 "section_not_found")  # fmt: skip
    assert_error(http.call("POST", url, {"ends_at": "2026-12-17T10:00:01+08:00"}), 401)
    assert not Publicity.objects.exists()
    assert_error(http.call("POST", f"{API}/sections/{sid}/award", {"rank": 9}, token=tenderer),
                 422, "validation_error")  # fmt: skip
    assert_error(http.call("POST", f"{API}/sections/{sid}/award", {"rank": 1}, token=tenderer),
                 409, "candidates_not_published")  # fmt: skip
    assert_error(http.call("POST", f"{API}/objections/nope/reply", {"reply": "x"},
                           token=tenderer), 404, "objection_not_found")  # fmt: skip
    assert_error(http.call("POST", f"{API}/obligations/99999999999999999999/settle",
                           {"status": "paid", "on": "2026-12-18"}, token=tenderer), 404,
                 "obligation_not_found")  # fmt: skip
    assert_error(http.call("POST", f"{API}/obligations/5/settle",
                           {"status": "paid", "on": "2026-12-18"}, token=tenderer), 404,
                 "obligation_not_found")  # fmt: skip
    assert_error(http.call("POST", f"{API}/sections/{sid}/contract",
                           {"amount": "1", "signed_on": "2026-13-01"}, token=tenderer), 422)  # fmt: skip
    assert_error(http.call("GET", f"{API}/warnings", token=tenderer, query={"before": "-1"}), 422)
    assert not AwardNotice.objects.exists()


def test_a_scheduled_publicity_is_nobodys_business_before_it_starts(world, http) -> None:  # type: ignore[no-untyped-def]
    # the tenderer schedules the publicity to start tomorrow
    publish(world, starts_at=w.SIGNED + days(1), ends_at=w.SIGNED + days(4))
    response = http.call("GET", f"{API}/sections/{world.section.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["publicity"] is None
    # nothing of a not-yet-public publicity may show: the stage reads as before publishing
    assert body["stage"] == "awaiting", body["stage"]
    # the tenderer side still sees it, scheduled
    mine = http.call("GET", f"{API}/sections/{world.section.public_id}",
                     token=_token(world.tenderer)).json()  # fmt: skip
    assert mine["stage"] == "scheduled" and mine["publicity"]["stage"] == "scheduled"


def test_before_the_report_is_signed_the_stage_does_not_claim_it_is(
    db, region, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    world = w.unsigned_world(frozen_clock)
    assert world.session.signed_at is None
    response = api_client().call("GET", f"{API}/sections/{world.section.public_id}")
    assert response.json()["stage"] != "awaiting"  # "评标报告已签署，待公示候选人"
    assert response.json()["stage"] == "evaluating"


def test_a_publicity_at_the_end_of_time_is_refused_not_a_500(world) -> None:  # type: ignore[no-untyped-def]
    http = api_client(raise_request_exception=False)
    url = f"{API}/sections/{world.section.public_id}/candidates"
    tenderer = _token(world.tenderer)
    for body in (
        {"starts_at": "9999-12-31T23:59:59-12:00", "ends_at": "9999-12-31T23:59:59-12:00"},
        {"ends_at": "9999-12-31T23:59:59-12:00"},
        {"starts_at": "0001-01-01T00:00:00+14:00", "ends_at": "2026-12-17T10:00:01+08:00"},
    ):
        response = http.call("POST", url, body, token=tenderer)
        assert response.status_code in (409, 422), (response.status_code, response.content[:300])
        assert response.json()["code"] in ("bad_time", "validation_error"), response.json()
    assert not Publicity.objects.exists()
    assert award_events(world) == []


def test_dates_out_of_range_on_the_contract_and_obligations_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    http = api_client(raise_request_exception=False)
    sid, tenderer = world.section.public_id, _token(world.tenderer)
    publish(world)
    world.at(cn(2026, 12, 18, 10))
    services.issue_award(actor=world.tenderer, section=world.section)
    for signed_on in ("9999-12-31", "0001-01-01"):
        body = {"amount": "9000000.00", "signed_on": signed_on}
        assert_error(http.call("POST", f"{API}/sections/{sid}/contract", body, token=tenderer),
                     422, "bad_date")  # fmt: skip
    assert_error(http.call("POST", f"{API}/sections/{sid}/contract",
                           {"amount": "8999999.995", "signed_on": "2026-12-18"}, token=tenderer),
                 422, "bad_amount")  # fmt: skip
    assert not Contract.objects.exists()
    recorded = http.call("POST", f"{API}/sections/{sid}/contract",
                         {"amount": "9000000.00", "signed_on": "2026-12-18"}, token=tenderer)  # fmt: skip
    assert recorded.status_code == 201, recorded.content
    for due_on in ("9999-12-31", "0001-01-01"):
        body = {"kind": "progress_payment", "name": "x", "amount": "1.00", "due_on": due_on}
        assert_error(http.call("POST", f"{API}/sections/{sid}/obligations", body, token=tenderer),
                     422, "bad_date")  # fmt: skip
    added = http.call("POST", f"{API}/sections/{sid}/obligations",
                      {"kind": "progress_payment", "name": "预付款", "amount": "1.00",
                       "due_on": "2026-12-31"}, token=tenderer)  # fmt: skip
    assert added.status_code == 201
    settle = f"{API}/obligations/{added.json()['id']}/settle"
    assert_error(http.call("POST", settle, {"status": "paid", "on": "0001-01-01"}, token=tenderer),
                 422, "bad_date")  # fmt: skip
    assert_error(http.call("POST", settle, {"status": "paid", "on": "9999-12-31"}, token=tenderer),
                 422)  # fmt: skip
    assert_error(http.call("POST", settle, {"status": "paid", "on": "2026-12-17"}, token=tenderer),
                 422, "paid_before_contract")  # fmt: skip
    assert set(Obligation.objects.values_list("status", flat=True)) == {"due"}


def test_r61_a_procurement_result_does_not_show_every_bidders_score_publicly(
    db, region, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, category="procurement")
    services.publish_candidates(actor=world.tenderer, section=world.section,
                                ends_at=w.SIGNED + days(1))  # fmt: skip
    http = api_client()
    url = f"{API}/sections/{world.section.public_id}/candidates"
    # a losing bidder (or anyone) reads the public result
    loser = world.bidder(2)
    response = http.call("GET", url, token=_token(loser.user))
    assert response.status_code == 200
    others = [c for c in response.json()["candidates"] if c["bidder"]["uscc"] != loser.entity.uscc]
    # R61 (87号令69): a losing supplier is told its own score and rank, not the others'
    assert all(c["total"] is None for c in others), others
    # the public list: names, ranks and prices, no scores at all
    public = http.call("GET", url).json()["candidates"]
    assert [(c["rank"], c["bidder"]["uscc"]) for c in public] == [
        (1, w.entity_of(world, 1).uscc), (2, w.entity_of(world, 3).uscc),
        (3, w.entity_of(world, 2).uscc)]  # fmt: skip
    assert {(c["total"], c["evaluated_price"]) for c in public} == {(None, None)}
    assert public[0]["price"] == "9000000.00"
    summary = http.call("GET", f"{API}/sections/{world.section.public_id}").json()
    assert {c["total"] for c in summary["publicity"]["candidates"]} == {None}
    # the loser reads its own score through R61; the tenderer side sees every score
    own = http.call("GET", f"{API}/sections/{world.section.public_id}/my-result",
                    token=_token(loser.user)).json()  # fmt: skip
    assert [(r["uscc"], r["rank"]) for r in own] == [(loser.entity.uscc, 3)] and own[0]["total"]
    full = http.call("GET", url, token=_token(world.tenderer)).json()["candidates"]
    assert all(c["total"] is not None for c in full)


def test_works_candidates_keep_their_public_scores(world, http) -> None:  # type: ignore[no-untyped-def]
    publish(world)
    public = http.call("GET", f"{API}/sections/{world.section.public_id}/candidates").json()
    assert public["candidates"][0]["total"] == "93.00"
    assert public["late"] is False
