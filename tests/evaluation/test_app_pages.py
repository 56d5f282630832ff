"""The evaluation pages: the center's console (counts, never points, before the report), the
review, the blind scoring sheet with its heartbeat, and the report signed through the page."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from ggzy.evaluation.models import EvaluationSession, Score
from ggzy.evaluation.states import SessionStatus
from tests.evaluation import world as w

TECH = {"c2": "25", "c3": "8"}


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.make_world(frozen_clock)


def _client(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_lifecycle_through_the_pages(world):  # type: ignore[no-untyped-def]
    w.open_section(world, ["9000000.00", "9500000.00", "9300000.00"])
    staff = _client(world.staff)
    # the center creates the session from the list page
    listing = staff.get("/evaluation/")
    assert listing.status_code == 200 and world.section.public_id in listing.content.decode()
    r = staff.post("/evaluation/new/", {"section": world.section.public_id})
    assert r.status_code == 302, r.content[:300]
    session = EvaluationSession.objects.get()
    base = f"/evaluation/{session.public_id}"
    experts = "\n".join(m.expert.public_id for m in world.members)
    r = staff.post(f"{base}/committee/", {"experts": experts, "chair": "nobody"})
    assert r.status_code == 400 and "主任委员须为委员会成员" in r.content.decode()
    r = staff.post(f"{base}/committee/", {"experts": "\n".join(experts.split()[:4]),
                                          "chair": world.members[0].expert.public_id})  # fmt: skip
    assert r.status_code == 400 and "R17" in r.content.decode()
    r = staff.post(f"{base}/committee/", {"experts": experts,
                                          "chair": world.members[0].expert.public_id})  # fmt: skip
    assert r.status_code == 302
    assert staff.post(f"{base}/review/start/").status_code == 302
    # the members review: overruling needs a reason; then confirm the rest
    members = [_client(m.user) for m in world.members]
    page = members[0].get(f"{base}/review/")
    assert page.status_code == 200
    finding = session.findings.order_by("pk").first()
    r = members[0].post(f"{base}/review/{finding.pk}/", {f"f{finding.pk}-agrees": "no",
                                                          f"f{finding.pk}-reason": ""})  # fmt: skip
    assert r.status_code == 400 and "请填写理由" in r.content.decode()
    for client in members:
        assert client.post(f"{base}/review/confirm/").status_code == 302
    assert staff.post(f"{base}/scoring/start/").status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.SCORING
    # the sheet: labels only, never a bidder's name; the heartbeat is wired to the API
    sheet = members[0].get(f"{base}/sheet/?bid=B").content.decode()
    for b in world.bidding.bidders:
        assert b.entity.name not in sheet and b.entity.uscc not in sheet
    assert "投标文件 B" in sheet and 'data-bid="B"' in sheet and "/viewing" in sheet
    # out of range: shown beside the field, nothing stored
    r = members[0].post(f"{base}/sheet/A/", {"points_c2": "31", "points_c3": "8"})
    assert r.status_code == 400 and not Score.objects.exists()
    for client in members:
        for label in ("A", "B", "C"):
            r = client.post(f"{base}/sheet/{label}/", {"points_c2": TECH["c2"],
                                                      "points_c3": TECH["c3"],
                                                      "note_c2": "方案可行"})  # fmt: skip
            assert r.status_code == 302, r.content[:300]
    # the console shows counts, not points
    console = staff.get(f"{base}/").content.decode()
    assert re.search(r"<td>6</td><td>6</td>", console) and "25.00" not in console
    assert staff.post(f"{base}/report/build/").status_code == 302
    session.refresh_from_db()
    data = bytes(session.report)
    page = members[0].get(f"{base}/report/").content.decode()
    assert session.report_sha256 in page and "签署评标报告" in page
    r = members[0].post(f"{base}/report/sign/",
                        {"sigfile": json.dumps(world.members[0].sign(data + b"!"))})  # fmt: skip
    assert r.status_code == 400 and "不一致" in r.content.decode()
    for client, m in zip(members, world.members, strict=True):
        r = client.post(f"{base}/report/sign/", {"sigfile": json.dumps(m.sign(data))})
        assert r.status_code == 302
    page = staff.get(f"{base}/report/").content.decode()
    assert "评标报告已签署" in page and world.bidding.bidders[0].entity.name in page


def test_strangers_do_not_see_a_session(world):  # type: ignore[no-untyped-def]
    w.open_section(world, ["9000000.00", "9500000.00", "9300000.00"])
    session = w.seated(world)
    bidder = _client(world.bidding.bidders[0].user)
    for suffix in ("/", "/review/", "/sheet/", "/report/"):
        assert bidder.get(f"/evaluation/{session.public_id}{suffix}").status_code == 404
    assert _client(world.staff).get(f"/evaluation/{session.public_id}/sheet/").status_code == 403
