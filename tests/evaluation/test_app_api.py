"""The evaluation lifecycle through the HTTP API: the center opens and runs the session, the
members review, score, ask for time and sign; refusals in the one error shape."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ggzy.accounts.models import UserRole
from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.core import clock
from ggzy.evaluation import api, selectors, services_report
from tests.api.support import api_client, assert_error
from tests.evaluation import world as w

API = "/api/v1/evaluation"
TECH = {"c2": "25", "c3": "8"}
PRICES = ["9000000.00", "9500000.00", "9300000.00"]


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.make_world(frozen_clock)


def _token(user) -> str:  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


def test_the_lifecycle_through_the_api(world):  # type: ignore[no-untyped-def]
    http = api_client()
    w.open_section(world, ["9000000.00", "9500000.00", "9300000.00"])
    staff = _token(world.staff)
    members = [(m, _token(m.user)) for m in world.members]
    bidder = _token(world.bidding.bidders[0].user)

    created = http.call("POST", f"{API}/sessions", {"section": world.section.public_id},
                        token=staff)  # fmt: skip
    assert created.status_code == 201, created.content
    sid = created.json()["public_id"]
    url = f"{API}/sessions/{sid}"
    # a bidder does not see the session at all
    assert_error(http.call("GET", url, token=bidder), 404, "session_not_found")
    body = {"experts": [m.expert.public_id for m in world.members],
            "chair": world.members[0].expert.public_id}  # fmt: skip
    formed = http.call("POST", f"{url}/committee", body, token=staff)
    assert formed.status_code == 200, formed.content
    assert [m["ref"] for m in formed.json()["members"]] == [
        m.expert.public_id for m in world.members
    ]
    assert http.call("POST", f"{url}/review", token=staff).status_code == 200
    found = http.call("GET", f"{url}/findings", token=members[0][1]).json()
    assert len(found) == 12 and all(f["passed"] for f in found)
    for _, token in members:
        votes = {"votes": [{"finding": f["id"], "agrees": True} for f in found]}
        assert http.call("POST", f"{url}/votes", votes, token=token).status_code == 200
    assert http.call("POST", f"{url}/scoring", token=staff).status_code == 200
    # a member's view of the session hides the bidders
    seen = http.call("GET", url, token=members[0][1]).json()
    assert all(b["bidder"] is None and b["price"] is None for b in seen["bids"])
    sheet = http.call("GET", f"{url}/sheet", token=members[0][1]).json()
    labels = [b["label"] for b in sheet["bids"]]
    # the heartbeat: open, viewing, close
    for action in ("start", "viewing", "stop"):
        r = http.call("POST", f"{url}/viewing", {"bid": "A", "action": action},
                      token=members[0][1])  # fmt: skip
        assert r.status_code == 200, r.content
    # out of range: its own code; from a non-member: not_on_committee
    bad = {"scores": [{"bid": "A", "criterion": "c2", "points": "31"}]}
    assert_error(http.call("POST", f"{url}/scores", bad, token=members[0][1]), 422,
                 "score_out_of_range")  # fmt: skip
    ok = {"scores": [{"bid": "A", "criterion": "c2", "points": "20"}]}
    assert_error(http.call("POST", f"{url}/scores", ok, token=bidder), 403, "not_on_committee")
    assert_error(http.call("POST", f"{url}/scores", {"scores": [{"bid": "A", "criterion": "c2",
                 "points": 20}]}, token=members[0][1]), 422, "validation_error")  # fmt: skip
    for _, token in members:
        scores = {"scores": [{"bid": label, "criterion": c, "points": p, "justification": "合理"}
                             for label in labels for c, p in TECH.items()]}  # fmt: skip
        r = http.call("POST", f"{url}/scores", scores, token=token)
        assert r.json() == {"accepted": 6}
    progress = http.call("GET", url, token=staff).json()
    assert all(m["complete"] and m["scored"] == 6 for m in progress["members"])
    assert "points" not in str(progress)
    built = http.call("POST", f"{url}/report", token=staff)
    assert built.status_code == 200, built.content
    data = http.call("GET", f"{url}/report/bytes", token=members[0][1]).content
    assert_error(http.call("POST", f"{url}/signatures", {"sigfile": members[0][0].sign(data + b"x")},
                           token=members[0][1]), 422, "signature_mismatch")  # fmt: skip
    for member, token in members:
        r = http.call("POST", f"{url}/signatures", {"sigfile": member.sign(data)}, token=token)
        assert r.status_code == 201, r.content
    report = http.call("GET", f"{url}/report", token=staff).json()
    assert report["status"] == "signed" and all(s["signed"] for s in report["signatures"])
    assert {r["label"] for r in report["revealed"]} == set(labels)
    assert_error(http.call("POST", f"{url}/scores", ok, token=members[0][1]), 409, "report_signed")


def test_the_cli_shows_a_session_and_writes_the_report_bytes(world, tmp_path):  # type: ignore[no-untyped-def]
    import hashlib
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from ggzy.evaluation import services_report, services_review

    w.open_section(world, ["9000000.00", "9500000.00", "9300000.00"])
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    w.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    w.score_all(world, session, {label: TECH for label in ("A", "B", "C")})
    out = io.StringIO()
    call_command("evaluation", "show", session.public_id, stdout=out)
    shown = out.getvalue()
    assert '"status": "scoring"' in shown and '"scored": 6' in shown and "25.00" not in shown
    with pytest.raises(CommandError, match="report_not_found"):
        call_command("evaluation", "report", session.public_id, stdout=io.StringIO())
    services_report.build_report(actor=world.staff, session=session)
    session.refresh_from_db()
    target = tmp_path / "report.json"
    call_command("evaluation", "report", session.public_id, "--bytes", str(target),
                 stdout=io.StringIO())  # fmt: skip
    assert hashlib.sha256(target.read_bytes()).hexdigest() == session.report_sha256
    md = io.StringIO()
    call_command("evaluation", "report", session.public_id, "--markdown", stdout=md)
    assert "中标候选人" in md.getvalue()
    with pytest.raises(CommandError, match="session_not_found"):
        call_command("evaluation", "show", "nope", stdout=io.StringIO())


def test_a_row_of_the_session_list_costs_no_query(world):  # type: ignore[no-untyped-def]
    # given a seated session, and the list's page loaded as the list endpoint loads it
    w.open_section(world, PRICES)
    w.seated(world)
    page = selectors.with_details(list(selectors.sessions_for(world.staff)))
    staff, counts = selectors.staff_view(world.staff, page), services_report.score_counts(page)
    # when a row is rendered
    with CaptureQueriesContext(connection) as ctx:
        row = api.session_out(world.staff, page[0], staff=page[0].pk in staff, counts=counts)
    # then it needs nothing more from the database, and shows the staff view
    assert ctx.captured_queries == []
    assert len(row["members"]) == 5 and all(b["bidder"] for b in row["bids"])
    assert http_list(world) == [page[0].public_id]


def http_list(world) -> list[str]:  # type: ignore[no-untyped-def]
    r = api_client().call("GET", "/api/v1/evaluation/sessions", token=_token(world.staff))
    assert r.status_code == 200, r.content
    return [s["public_id"] for s in r.json()]


def test_a_member_holding_a_center_role_still_scores_blind(world):  # type: ignore[no-untyped-def]
    # given a seated member who is later also granted a center role
    member = world.members[1].user
    w.open_section(world, PRICES)
    session = w.seated(world)
    UserRole.objects.create(user=member, role=Role.CENTER_INTAKE, granted_at=clock.now())
    http, token = api_client(), _token(member)
    url = f"/api/v1/evaluation/sessions/{session.public_id}"
    # when it reads the session, alone or in the list
    alone = http.call("GET", url, token=token).json()
    listed = http.call("GET", "/api/v1/evaluation/sessions", token=token).json()
    # then it sees labels only, no bidder and no price
    for seen in (alone, *listed):
        assert all(b["bidder"] is None and b["price"] is None for b in seen["bids"]), seen
