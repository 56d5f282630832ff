"""The result pages: the tenderer confirms through its page, a losing bidder reads its own result
(R61) and objects, the public reads the publicity, the notice and the contract, the center
sees the list with its warnings."""

from __future__ import annotations

from django.test import Client

from ggzy.award import services
from ggzy.award.models import AwardNotice, Contract, Objection, Obligation, Publicity
from ggzy.award.states import Stage
from tests.award import world as w
from tests.award.test_publicity import publish
from tests.award.world import cn, days
from tests.conftest import make_user


def _client(user=None) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_result_through_the_pages(world) -> None:  # type: ignore[no-untyped-def]
    sid = world.section.public_id
    tenderer = _client(world.tenderer)
    base = f"/award/sections/{sid}"
    first, loser = w.entity_of(world, 1), world.bidder(2)

    # the tenderer finds the section awaiting its publicity in its list
    listing = tenderer.get("/award/").content.decode()
    assert f"{base}/manage/" in listing and "评标报告已签署，待公示候选人" in listing
    # the confirmation page previews the report's candidates; a too-short publicity is refused
    page = tenderer.get(f"{base}/manage/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "发布中标候选人公示" in text and first.name in text
    refused = tenderer.post(f"{base}/manage/candidates/", {"ends_at": "2026-12-16T10:00"})
    assert refused.status_code == 400 and "公示期不得少于3日" in refused.content.decode()
    assert not Publicity.objects.exists()
    done = tenderer.post(f"{base}/manage/candidates/", {"ends_at": "2026-12-17T10:01"})
    assert done.status_code == 302, done.content[:500]

    # the public page shows the candidates, anonymously
    public = _client().get(f"{base}/").content.decode()
    assert "中标候选人公示" in public and first.name in public and loser.entity.name in public

    # the bidder's own result (R61): its rank and points, no other bidder's
    bidder = _client(loser.user)
    mine = bidder.get(f"{base}/mine/")
    assert mine.status_code == 200
    text = mine.content.decode()
    assert loser.entity.name in text and "3 / 3" in text and first.name not in text
    assert _client(make_user("nobody", "bidder")).get(f"{base}/mine/").status_code == 404
    objected = bidder.post(f"{base}/mine/objections/", {"entity": loser.entity.uscc,
                                                        "reason": "评分有误"})  # fmt: skip
    assert objected.status_code == 302
    objection = Objection.objects.get()

    # the center's list shows the open objection as a warning once it is late
    world.at(cn(2026, 12, 18, 9))
    staff = _client(make_user("center_ops_2", "center_operations"))
    listing = staff.get("/award/").content.decode()
    assert "异议待答复" in listing and world.section.label in listing

    # the award is refused while the objection is open, then given
    refused = tenderer.post(f"{base}/manage/award/", {"rank": "1"})
    assert refused.status_code == 400 and "异议答复前暂停" in refused.content.decode()
    assert tenderer.post(f"{base}/manage/objections/{objection.public_id}/reply/",
                         {"reply": "经复核无误"}).status_code == 302  # fmt: skip
    assert tenderer.post(f"{base}/manage/award/", {"rank": "1"}).status_code == 302
    assert AwardNotice.objects.get().entity == first
    public = _client().get(f"{base}/").content.decode()
    assert "中标通知书" in public and "签名有效" in public

    # the contract, recorded late: kept and flagged
    world.at(cn(2027, 1, 19, 9))
    r = tenderer.post(f"{base}/manage/contract/", {"amount": "9000000.00",
                                                   "signed_on": "2027-01-18",
                                                   "security_amount": "0",
                                                   "security_form": "none"})  # fmt: skip
    assert r.status_code == 302
    assert Contract.objects.get().late is True
    page = tenderer.get(f"{base}/manage/").content.decode()
    assert "逾期签订" in page
    assert tenderer.post(f"{base}/manage/contract/publish/").status_code == 302
    assert "合同公告" in _client().get(f"{base}/").content.decode()
    # filing, a progress payment and its payment, through the same page
    assert tenderer.post(f"{base}/manage/contract/filing/",
                         {"reference": "BA-2027-001"}).status_code == 302  # fmt: skip
    assert Contract.objects.get().filing_reference == "BA-2027-001"
    refused = tenderer.post(f"{base}/manage/obligations/", {
        "kind": "progress_payment", "name": "超额", "amount": "9000000.01",
        "due_on": "2027-03-31"})  # fmt: skip
    assert refused.status_code == 400 and "工程款合计不得超过合同金额" in refused.content.decode()
    assert tenderer.post(f"{base}/manage/obligations/", {
        "kind": "progress_payment", "name": "第一期进度款", "amount": "4500000.00",
        "due_on": "2027-03-31"}).status_code == 302  # fmt: skip
    payment = Obligation.objects.get()
    bidder.post(f"{base}/manage/obligations/{payment.pk}/settle/",
                {"status": "paid", "on": "2027-01-19"})  # fmt: skip
    assert Obligation.objects.get().status == "due"  # a bidder settles nothing
    r = tenderer.post(f"{base}/manage/obligations/{payment.pk}/settle/",
                      {"status": "paid", "on": "2027-01-19", "reference": "ZF-1"})  # fmt: skip
    assert r.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.reference) == ("paid", "ZF-1")
    assert "第一期进度款" in tenderer.get(f"{base}/manage/").content.decode()
    # a bidder may not open the confirmation page
    assert bidder.get(f"{base}/manage/").status_code == 404


def test_the_list_and_a_result_page_render_for_every_role(world, users) -> None:  # type: ignore[no-untyped-def]
    sid = world.section.public_id
    for user in [None, *users.values()]:
        client = _client(user)
        listing = client.get("/award/")
        assert listing.status_code == 200, (user, listing.content[:300])
        page = client.get(f"/award/sections/{sid}/")
        assert page.status_code == 200 and "尚未公示中标候选人" in page.content.decode()
        assert client.get("/award/sections/no-such-section/").status_code == 404
    # the center sees the R25 warning of the signed report before anything is published
    staff = _client(users["center_operations"]).get("/award/").content.decode()
    assert "应在3日内公示中标候选人" in staff
    # a bidder's own result page does not exist before the publicity
    assert _client(world.bidder(1).user).get(f"/award/sections/{sid}/mine/").status_code == 404


def test_a_scheduled_publicity_is_not_on_the_public_page_before_it_starts(world) -> None:  # type: ignore[no-untyped-def]
    publish(world, starts_at=w.SIGNED + days(1), ends_at=w.SIGNED + days(4))
    page = _client().get(f"/award/sections/{world.section.public_id}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert str(Stage.SCHEDULED.label) not in text and str(Stage.AWAITING.label) in text
    assert w.entity_of(world, 1).name not in text
    # the tenderer's own view of the page says what it is
    mine = _client(world.tenderer).get(f"/award/sections/{world.section.public_id}/")
    assert str(Stage.SCHEDULED.label) in mine.content.decode()


def test_the_public_page_does_not_claim_a_signed_report_before_it_is_signed(
    db, region, frozen_clock
) -> None:  # type: ignore[no-untyped-def]
    world = w.unsigned_world(frozen_clock)
    page = _client().get(f"/award/sections/{world.section.public_id}/").content.decode()
    assert "评标报告已签署" not in page
    assert str(Stage.EVALUATING.label) in page


def test_a_procurement_result_page_shows_no_scores_to_the_public(db, region, frozen_clock) -> None:  # type: ignore[no-untyped-def]
    world = w.signed_world(frozen_clock, category="procurement")
    services.publish_candidates(actor=world.tenderer, section=world.section,
                                ends_at=w.SIGNED + days(1))  # fmt: skip
    url = f"/award/sections/{world.section.public_id}/"
    public = _client(world.bidder(2).user).get(url).content.decode()
    assert w.entity_of(world, 1).name in public and "综合得分" not in public
    assert "综合得分" in _client(world.tenderer).get(url).content.decode()
