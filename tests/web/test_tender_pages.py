"""The tendering and bidding pages through the Django test client: who sees which page, what
the public sees before the opening (no bidder), and that a service's refusal shows on the form.
Time is frozen; the world is tests/bidding/world.py's (a tenderer, staff, three bidders)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.test import Client

from ggzy.bidding import bids
from ggzy.bidding import opening as openings
from ggzy.bidding.models import Bid
from ggzy.ledger.models import Event
from ggzy.tendering import services as tendering
from ggzy.tendering.models import Project
from tests.bidding import world as w
from tests.web.support import signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.make_world()


@pytest.fixture
def published(world):  # type: ignore[no-untyped-def]
    w.publish(world)
    return world


def _bid(world, bidder, tmp_path, price="9500000.00"):  # type: ignore[no-untyped-def]
    path = w.sealed(bidder, world.section, tmp_path / bidder.user.username, price=price)
    copy = path.with_name("upload.zip")
    copy.write_bytes(path.read_bytes())
    return bids.submit_bid(actor=bidder.user, section_id=world.section.public_id, upload=copy), path


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "南京市某小学操场改造工程",
        "tenderer": "",
        "agent": "",
        "category": "works",
        "procedure": "open_tender",
        "region": "320100",
        "subject_type": "works",
        "investment_project_code": "2026-320100-47-01-000124",
        "funding_source": "财政资金",
        "budget": "3000000.00",
        "description": "",
        "section_name": "施工",
        "estimated_price": "2800000.00",
        "max_price": "2700000.00",
        "deposit": "0",
        "qualification_requirements": "具有市政公用工程施工总承包三级及以上资质",
        "evaluation_method": "lowest_price",
        "criteria": "",
        "bid_validity_days": "90",
        "duration_days": "120",
        "more_sections": "",
    }
    data.update(overrides)
    return data


# --- public pages ------------------------------------------------------------------------------


def test_the_public_list_and_page_show_a_published_project_without_its_bidders(
    published, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    world = published
    _bid(world, world.bidders[0], tmp_path)
    project = world.project

    listing = Client().get("/projects/", {"q": "教学楼"})
    assert listing.status_code == 200
    assert project.name in text(listing)
    assert project.name not in text(Client().get("/projects/", {"q": "没有这个"}))

    page = Client().get(f"/projects/{project.public_id}/")
    body = text(page)
    assert page.status_code == 200
    assert project.trading_code in body
    assert "南京市某中学" in body  # the tenderer
    assert "投标中" in body
    assert "招标文件.txt" in body
    assert project.documents.get().sha256 in body
    for bidder in world.bidders:  # R42: no bidder names before the opening
        assert bidder.entity.name not in body
    assert "开标记录" not in body


def test_anyone_downloads_a_published_document_and_the_download_is_recorded(published) -> None:  # type: ignore[no-untyped-def]
    from ggzy.tendering.models import Download

    document = published.project.documents.get()
    response = Client().get(
        f"/projects/{published.project.public_id}/documents/{document.public_id}/"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith("第一章".encode())
    assert Download.objects.count() == 1


def test_a_draft_project_is_a_404_for_outsiders_and_visible_to_its_tenderer(world) -> None:  # type: ignore[no-untyped-def]
    project = tendering.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, terms=w.project_terms()
    )
    assert Client().get(f"/projects/{project.public_id}/").status_code == 404
    assert (
        signed_in(world.bidders[0].user).get(f"/projects/{project.public_id}/").status_code == 404
    )
    assert (
        signed_in(world.bidders[0].user)
        .get(f"/workspace/projects/{project.public_id}/")
        .status_code
        == 404
    )
    mine = signed_in(world.tenderer).get(f"/workspace/projects/{project.public_id}/")
    assert mine.status_code == 200
    assert "提交受理" in text(mine)


# --- tenderer workspace ------------------------------------------------------------------------


def test_workspace_pages_need_a_login(world) -> None:  # type: ignore[no-untyped-def]
    for url in ("/workspace/projects/", "/workspace/projects/new/", "/workspace/bids/",
                "/staff/intake/", "/staff/openings/"):  # fmt: skip
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url


def test_a_tenderer_registers_a_project_and_submits_it(world) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(world.tenderer)
    assert client.get("/workspace/projects/new/").status_code == 200
    response = client.post("/workspace/projects/new/", _form(tenderer=world.tenderer_entity.uscc))
    assert response.status_code == 302
    project = Project.objects.get(name="南京市某小学操场改造工程")
    assert response["Location"] == f"/workspace/projects/{project.public_id}/"
    assert project.sections.get().max_price == 2700000

    assert client.post(f"/workspace/projects/{project.public_id}/submit/").status_code == 302
    project.refresh_from_db()
    assert project.status == "submitted"
    assert project.name in text(client.get("/workspace/projects/"))


def test_the_services_refusal_is_shown_on_the_form_and_nothing_is_registered(world) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(world.tenderer)
    before = Event.objects.count()
    response = client.post(
        "/workspace/projects/new/",
        _form(tenderer=world.tenderer_entity.uscc, deposit="100000.00"),
    )
    assert response.status_code == 200
    assert "投标保证金不得超过" in text(response)
    assert not Project.objects.exists()
    assert Event.objects.count() == before


def test_bidders_may_not_register_projects(world) -> None:  # type: ignore[no-untyped-def]
    assert signed_in(world.bidders[0].user).get("/workspace/projects/new/").status_code == 403


def test_publish_form_shows_the_bid_period_rule(world) -> None:  # type: ignore[no-untyped-def]
    project = tendering.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, terms=w.project_terms()
    )
    tendering.submit_project(actor=world.tenderer, project=project)
    tendering.accept_project(actor=world.intake, project=project)
    client = signed_in(world.tenderer)
    upload = io.BytesIO("招标文件正文".encode())
    upload.name = "招标文件.txt"
    response = client.post(f"/workspace/projects/{project.public_id}/documents/",
                           {"kind": "tender", "file": upload})  # fmt: skip
    assert response.status_code == 302
    response = client.post(
        f"/workspace/projects/{project.public_id}/publish/",
        {"announcement": "公告", "documents_until": "2026-11-30T10:00",
         "bid_deadline": "2026-12-05T10:00"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "不得少于20日" in text(response)
    project.refresh_from_db()
    assert project.status == "accepted"

    response = client.post(
        f"/workspace/projects/{project.public_id}/publish/",
        {"announcement": "公告", "documents_until": "2026-11-30T10:00",
         "bid_deadline": "2026-12-14T10:00"},
    )  # fmt: skip
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.status == "published"
    section = project.sections.get()
    assert section.bid_deadline.isoformat() == "2026-12-14T02:00:00+00:00"  # China time, in UTC


def test_downloads_are_sealed_until_the_deadline(published, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(published.tenderer)
    url = f"/workspace/projects/{published.project.public_id}/"
    assert "R42" in text(client.get(url))
    frozen_clock.advance(days=22)
    assert "R42" not in text(client.get(url))


# --- center intake -----------------------------------------------------------------------------


def test_intake_accepts_and_returns_projects(world) -> None:  # type: ignore[no-untyped-def]
    first = tendering.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, terms=w.project_terms()
    )
    second = tendering.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity,
        terms=w.project_terms(name="第二个项目", investment_project_code="2026-320100-47-01-000125"),
    )  # fmt: skip
    for p in (first, second):
        tendering.submit_project(actor=world.tenderer, project=p)
    assert signed_in(world.tenderer).get("/staff/intake/").status_code == 403
    client = signed_in(world.intake)
    queue = text(client.get("/staff/intake/"))
    assert first.name in queue and "第二个项目" in queue
    assert f"/projects/{first.public_id}/fairness/" in queue

    assert client.post(f"/staff/intake/{first.public_id}/accept/").status_code == 302
    response = client.post(f"/staff/intake/{second.public_id}/return/",
                           {f"{second.public_id}-reason": ""})  # fmt: skip
    assert response.status_code == 400
    client.post(f"/staff/intake/{second.public_id}/return/",
                {f"{second.public_id}-reason": "资金来源证明缺失"})  # fmt: skip
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("accepted", "returned")
    assert first.trading_code
    assert "资金来源证明缺失" in text(signed_in(world.tenderer).get(
        f"/workspace/projects/{second.public_id}/"))  # fmt: skip


# --- bidder workspace and the opening ----------------------------------------------------------


def test_a_bidder_uploads_an_envelope_and_gets_a_receipt(published, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world, bidder = published, published.bidders[0]
    section = world.section
    client = signed_in(bidder.user)
    url = f"/projects/{world.project.public_id}/sections/{section.public_id}/bid/"
    assert client.get(url).status_code == 200
    assert signed_in(world.tenderer).get(url).status_code == 403
    path = w.sealed(bidder, section, tmp_path)
    with open(path, "rb") as fp:
        response = client.post(url, {"envelope": fp})
    assert response.status_code == 302
    bid = bids.my_bids(bidder.user)[0]
    assert response["Location"] == f"/workspace/bids/{bid.public_id}/receipt/"
    receipt = text(client.get(response["Location"]))
    assert bid.receipt_signature in receipt
    assert f"/api/v1/ledger/events/{bid.receipt_seq}/inclusion" in receipt
    assert bid.public_id in text(client.get("/workspace/bids/"))
    # someone else's bid does not exist for them
    other = signed_in(world.bidders[1].user)
    assert other.get(f"/workspace/bids/{bid.public_id}/receipt/").status_code == 404
    assert other.get(f"/workspace/bids/{bid.public_id}/opening/").status_code == 404

    # the same envelope again (a retry after a lost answer): the same bid, no second one
    with open(path.with_suffix(".keep"), "rb") as fp:
        retry = client.post(url, {"envelope": fp})
    assert retry.status_code == 302 and Bid.objects.count() == 1
    # another envelope while the bid is active: the service's refusal on the form
    other_path = w.sealed(world.bidders[0], world.section, tmp_path / "second")
    with open(other_path.with_suffix(".keep"), "rb") as fp:
        again = client.post(url, {"envelope": fp})
    assert again.status_code == 400
    assert "已有有效投标文件" in text(again)


def test_a_bidder_withdraws_before_the_deadline(published, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bid, _path = _bid(published, published.bidders[0], tmp_path)
    client = signed_in(published.bidders[0].user)
    assert client.post(f"/workspace/bids/{bid.public_id}/withdraw/").status_code == 302
    bid.refresh_from_db()
    assert bid.status == "withdrawn"


def test_staff_run_the_opening_and_the_public_page_shows_the_signed_record(
    published, tmp_path, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    world = published
    made = [_bid(world, b, tmp_path, price=f"{9000000 + n}.00") for n, b in
            enumerate(world.bidders)]  # fmt: skip
    section = world.section
    staff = signed_in(world.operations)
    control = f"/staff/openings/{section.public_id}/"
    assert signed_in(world.bidders[0].user).get(control).status_code == 403
    assert "投标截止前不得开标" in text(staff.get(control))
    assert staff.post(f"{control}start/").status_code == 302  # refused: a message, no opening
    assert not hasattr(section, "opening") or section.opening is None

    frozen_clock.advance(days=21, minutes=1)
    assert section.label in text(staff.get("/staff/openings/"))
    staff.post(f"{control}start/")
    assert "已解密 0 / 3" in text(staff.get(f"{control}status/"))

    for bidder, (bid, path) in zip(world.bidders, made, strict=True):
        client = signed_in(bidder.user)
        page = client.get(f"/workspace/bids/{bid.public_id}/opening/")
        assert "提交解密密钥" in text(page)
        wrong = client.post(f"/workspace/bids/{bid.public_id}/opening/", {"content_key": "zz"})
        assert "十六进制" in text(wrong)
        key = w.content_key(path).hex()
        assert client.post(f"/workspace/bids/{bid.public_id}/opening/",
                           {"content_key": key}).status_code == 302  # fmt: skip
    assert "已解密 3 / 3" in text(staff.get(f"{control}status/"))
    staff.post(f"{control}close/")

    opening = openings.get_opening(section)
    assert opening.status == "closed"
    public = text(Client().get(f"/projects/{world.project.public_id}/"))
    assert "开标记录签名已验证" in public
    for bidder in world.bidders:
        assert bidder.entity.name in public
    assert "9000000.00" in public
    status = text(signed_in(world.bidders[0].user).get(
        f"/workspace/bids/{made[0][0].public_id}/opening/status/"))  # fmt: skip
    assert "hx-trigger" not in status  # polling stopped
    assert "开标记录签名已验证" in status


def test_fewer_than_three_bids_fail_the_section_with_its_reason(
    published, tmp_path, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    _bid(published, published.bidders[0], tmp_path)
    frozen_clock.advance(timedelta(days=22))
    signed_in(published.operations).post(f"/staff/openings/{published.section.public_id}/start/")
    public = text(Client().get(f"/projects/{published.project.public_id}/"))
    assert "流标" in public
    assert "少于3个" in public


@pytest.mark.parametrize(
    "path",
    ["/projects/%00/", "/api/v1/tendering/projects/%00", "/api/v1/bidding/bids/%00/receipt",
     "/api/v1/fairness/projects/%00/review"],
)  # fmt: skip
def test_a_nul_in_the_path_is_404_not_500(db, path) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json()["code"] == "not_found"


def test_a_web_upload_past_the_cap_is_stopped_while_it_streams(
    published, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_WEB_UPLOAD_MAX_BYTES = 1000
    world = published
    client = signed_in(world.bidders[0].user)
    url = f"/projects/{world.project.public_id}/sections/{world.section.public_id}/bid/"
    big = io.BytesIO(b"x" * 5000)
    big.name = "bid.zip"
    response = client.post(url, {"envelope": big})
    assert response.status_code == 400 and Bid.objects.count() == 0


def test_the_tenderer_confirms_its_agent_on_the_workspace_page(world) -> None:  # type: ignore[no-untyped-def]
    from ggzy.accounts.roles import Role
    from tests.api.support import register
    from tests.conftest import make_user

    agent_user = make_user("page_agent", Role.AGENT)
    agency = register(
        agent_user, 830, name="江苏页面招标代理有限公司", is_bidder=False, is_agent=True
    )
    project = tendering.register_project(
        actor=agent_user, tenderer=world.tenderer_entity, agent=agency, terms=w.project_terms()
    )
    url = f"/workspace/projects/{project.public_id}/"
    assert "确认委托代理" not in text(signed_in(agent_user).get(url))
    page = text(signed_in(world.tenderer).get(url))
    assert "须经招标人确认委托" in page and "确认委托代理" in page
    confirm = f"/workspace/projects/{project.public_id}/agency/confirm/"
    assert signed_in(agent_user).post(confirm).status_code in (302, 403)
    project.refresh_from_db()
    assert project.agency_confirmed_at is None
    assert signed_in(world.tenderer).post(confirm).status_code == 302
    project.refresh_from_db()
    assert project.agency_confirmed_at is not None
