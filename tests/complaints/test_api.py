"""The complaints API, pages and CLI: a bidder files, the regulator works the case; refusals in
the one error shape with nothing changed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from ggzy.accounts.services import issue_token
from ggzy.complaints.models import Complaint
from ggzy.ledger.models import Event
from tests.api.support import Raw, api_client, assert_error

CMP = "/api/v1/complaints"


def token(user) -> str:  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


def body(world, **overrides):  # type: ignore[no-untyped-def]
    values = {"section": world.section.public_id, "entity": world.bidder.entity.uscc,
              "matter": "result", "text": "评标结果有误", "known_on": "2026-11-23"}  # fmt: skip
    values.update(overrides)
    return values


def test_file_and_handle_through_the_api(world) -> None:  # type: ignore[no-untyped-def]
    http, bidder, reg = api_client(), token(world.bidder.user), token(world.regulator)
    r = http.call("POST", f"{CMP}/cases", body(world), token=bidder)
    assert r.status_code == 201, r.content
    case = r.json()
    assert case["admissible"] is False and case["flags"][0]["rule"] == "R29"
    assert case["clock"] == {"deadline": "acceptance", "due": "2026-11-26", "days_left": 3,
                             "paused": False, "overdue": False, "warning": False}  # fmt: skip
    url = f"{CMP}/cases/{case['public_id']}"
    assert [c["public_id"] for c in http.call("GET", f"{CMP}/mine", token=bidder).json()] == [
        case["public_id"]
    ]
    r = http.call("POST", f"{url}/accept", token=reg)
    assert r.status_code == 200 and r.json()["decision_due"] == "2027-01-04"
    r = http.call("POST", f"{url}/evidence", Raw(b"minutes", "text/plain"), token=bidder,
                  query={"name": "会议纪要.txt"})  # fmt: skip
    assert r.status_code == 201 and r.json()["party"] == "complainant"
    r = http.call("POST", f"{url}/decide", {"outcome": "upheld", "text": "责令重新评标"}, token=reg)
    assert r.status_code == 200
    decided = r.json()
    assert decided["status"] == "decided" and decided["decision_record"]["outcome"] == "upheld"
    assert len(decided["decision_sha256"]) == 64 and decided["decision_signature"]
    open_cases = http.call("GET", f"{CMP}/cases?status=open", token=reg).json()
    assert open_cases == []


def test_refusals_in_the_error_shape_and_nothing_changes(world) -> None:  # type: ignore[no-untyped-def]
    http = api_client()
    bidder, other = token(world.bidder.user), token(world.bidding.bidders[1].user)
    reg, insp = token(world.regulator), token(world.inspector)
    before = (Complaint.objects.count(), Event.objects.count())
    assert_error(http.call("POST", f"{CMP}/cases", body(world), token=other), 403, "forbidden")
    assert_error(http.call("POST", f"{CMP}/cases", body(world), token=reg), 403, "forbidden")
    assert_error(http.call("POST", f"{CMP}/cases", body(world, matter="price"), token=bidder),
                 422, "bad_matter")  # fmt: skip
    assert_error(http.call("POST", f"{CMP}/cases", body(world, known_on="2026-12-30"),
                           token=bidder), 422, "known_on_in_future")  # fmt: skip
    assert_error(http.call("POST", f"{CMP}/cases", body(world, section="nope"), token=bidder),
                 404, "section_not_found")  # fmt: skip
    assert (Complaint.objects.count(), Event.objects.count()) == before
    case = http.call("POST", f"{CMP}/cases", body(world), token=bidder).json()
    url = f"{CMP}/cases/{case['public_id']}"
    before = Event.objects.count()
    assert_error(http.call("GET", url, token=other), 404, "complaint_not_found")
    assert_error(http.call("POST", f"{url}/accept", token=other), 404, "complaint_not_found")
    assert_error(http.call("POST", f"{url}/accept", token=insp), 403, "forbidden")
    assert_error(http.call("POST", f"{url}/accept", token=bidder), 403, "forbidden")
    assert_error(http.call("POST", f"{url}/resume", token=reg), 409, "bad_status")
    assert_error(http.call("POST", f"{url}/refuse", {"reason": ""}, token=reg), 422)
    assert_error(http.call("POST", f"{url}/pause", {"kind": "nap", "reason": "x"}, token=reg),
                 422, "bad_kind")  # fmt: skip
    assert_error(http.call("POST", f"{url}/evidence", Raw(b"x", "text/plain"), token=insp,
                           query={"name": "a.txt"}), 403, "forbidden")  # fmt: skip
    assert_error(http.call("GET", f"{CMP}/cases", token=bidder), 403, "forbidden")
    assert Event.objects.count() == before
    assert Complaint.objects.get(public_id=case["public_id"]).status == "filed"


def test_pages_file_list_and_work_a_case(world) -> None:  # type: ignore[no-untyped-def]
    bidder = Client()
    bidder.force_login(world.bidder.user)
    page = bidder.get(f"/complaints/new/?section={world.section.public_id}")
    assert page.status_code == 200 and world.section.public_id in page.content.decode()
    r = bidder.post("/complaints/new/", {"section": world.section.public_id,
                                         "entity": world.bidder.entity.uscc,
                                         "matter": "documents", "text": "条款排斥",
                                         "known_on": "2026-11-23"})  # fmt: skip
    c = Complaint.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/complaints/{c.public_id}/"
    assert "R29" in bidder.get(r["Location"]).content.decode()
    project = bidder.get(f"/projects/{world.bidding.project.public_id}/")
    assert f"/complaints/new/?section={world.section.public_id}" in project.content.decode()
    reg = Client()
    reg.force_login(world.regulator)
    listing = reg.get("/complaints/").content.decode()
    assert c.public_id[:8] in listing and "剩余3个工作日" in listing
    assert reg.post(f"/complaints/{c.public_id}/", {"action": "accept"}).status_code == 302
    c.refresh_from_db()
    assert c.status == "accepted"
    other = Client()
    other.force_login(world.bidding.bidders[1].user)
    assert other.get(f"/complaints/{c.public_id}/").status_code == 404
    assert bidder.post(f"/complaints/{c.public_id}/", {"action": "decide", "outcome": "upheld",
                                                       "text": "x"}).status_code == 403  # fmt: skip


def test_cli(world) -> None:  # type: ignore[no-untyped-def]
    from ggzy.complaints import services

    c = services.file_complaint(actor=world.bidder.user, section=world.section,
                                entity=world.bidder.entity, matter="opening", text="开标异常",
                                known_on=world.clock.moment.date())  # fmt: skip
    out = StringIO()
    call_command("complaints", "list", "--as", "reg", stdout=out)
    assert c.public_id in out.getvalue() and "INADMISSIBLE:R29" in out.getvalue()
    call_command("complaints", "accept", c.public_id, "--as", "reg", stdout=out)
    call_command("complaints", "pause", c.public_id, "--kind", "testing", "--reason", "送检",
                 "--as", "reg", stdout=out)  # fmt: skip
    call_command("complaints", "resume", c.public_id, "--as", "reg", stdout=out)
    call_command("complaints", "transfer", c.public_id, "--department", "市交通局",
                 "--reason", "管辖", "--as", "reg", stdout=out)  # fmt: skip
    call_command("complaints", "show", c.public_id, "--as", "reg", stdout=out)
    call_command("complaints", "warnings", "--as", "reg", stdout=out)  # none: no exit 1
    call_command("complaints", "decide", c.public_id, "--outcome", "dismissed", "--text", "不成立",
                 "--as", "reg", stdout=out)  # fmt: skip
    assert "decided" in out.getvalue()
    with pytest.raises(CommandError, match="forbidden"):
        call_command("complaints", "accept", c.public_id, "--as", "insp")
    with pytest.raises(CommandError):
        call_command("complaints", "list")
