"""Fixes from the review of the tendering and bidding change: each test is one finding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from ggzy.accounts.services import issue_token
from ggzy.bidding import bids, opening
from ggzy.bidding.states import BidStatus
from ggzy.core.errors import Conflict, PermissionDenied
from ggzy.tendering import selectors, services
from tests.bidding import world as w


def _submit(world, n, tmp_path):  # type: ignore[no-untyped-def]
    bidder = world.bidders[n]
    path = w.sealed(bidder, world.section, tmp_path / f"b{n}")
    return bids.submit_bid(actor=bidder.user, section_id=world.section.public_id, upload=path), path


def test_downloaders_stay_sealed_until_the_last_sections_deadline(world, frozen_clock):  # type: ignore[no-untyped-def]
    terms = w.project_terms(
        budget="30000000.00", sections=[w.section_terms(), w.section_terms(name="附属工程")]
    )
    project = w.publish(world, terms=terms)
    later = project.sections.get(number=2)
    later.bid_deadline += timedelta(days=10)
    later.save(update_fields=["bid_deadline"])
    document = project.documents.get()
    services.record_download(actor=world.bidders[0].user, document=document)
    frozen_clock.set(project.sections.get(number=1).bid_deadline + timedelta(minutes=1))
    with pytest.raises(PermissionDenied) as exc:
        selectors.downloads(world.operations, project)
    assert exc.value.code == "sealed_until_deadline"
    frozen_clock.set(later.bid_deadline)
    assert [r["user"] for r in selectors.downloads(world.operations, project)] == ["bidder1"]


@pytest.mark.parametrize(
    "deadline", ["9999-12-31T23:59:00-12:00", "0001-01-01T00:00:00+14:00", "x" * 100]
)
def test_absurd_times_are_422_not_500(world, deadline):  # type: ignore[no-untyped-def]
    project = services.register_project(
        actor=world.tenderer, tenderer=world.tenderer_entity, terms=w.project_terms()
    )
    services.submit_project(actor=world.tenderer, project=project)
    services.accept_project(actor=world.intake, project=project)
    token = issue_token(actor=world.tenderer, name="t")[1]
    r = Client().post(
        f"/api/v1/tendering/projects/{project.public_id}/publish",
        {"announcement": "公告", "bid_deadline": deadline, "documents_until": deadline},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 422, r.content
    assert r.json()["code"] in ("bad_time", "validation_error")


def test_opening_objections_are_answered_before_the_record_is_signed(
    published, frozen_clock, tmp_path
):  # type: ignore[no-untyped-def]
    handed = [_submit(published, n, tmp_path) for n in range(3)]
    frozen_clock.set(published.section.bid_deadline)
    session = opening.start_opening(actor=published.operations, section=published.section)
    bidder = published.bidders[0]
    objection = opening.raise_opening_objection(
        actor=bidder.user, opening=session, entity=bidder.entity, text="开标时间有误"
    )
    for (bid, path), b in zip(handed, published.bidders, strict=True):
        bid.refresh_from_db()
        opening.submit_key(actor=b.user, bid=bid, content_key=w.content_key(path))
    with pytest.raises(Conflict) as exc:
        opening.close_opening(actor=published.operations, opening=session)
    assert exc.value.code == "objections_unanswered"
    opening.answer_opening_objection(actor=published.operations, objection=objection, answer="无误")
    closed = opening.close_opening(actor=published.operations, opening=session)
    assert closed.record["objections"][0]["answer"] == "无误" and opening.verify_record(closed)
    with pytest.raises(Conflict) as exc:
        opening.raise_opening_objection(
            actor=bidder.user, opening=closed, entity=bidder.entity, text="又一条"
        )
    assert exc.value.code == "opening_closed"


def test_a_damaged_copy_without_a_key_is_the_platforms_fault(published, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    handed = [_submit(published, n, tmp_path) for n in range(3)]
    frozen_clock.set(published.section.bid_deadline)
    session = opening.start_opening(actor=published.operations, section=published.section)
    damaged, _ = handed[0]
    damaged.refresh_from_db()
    bids.bid_path(damaged).write_bytes(b"lost")
    assert session.window_ends_at is not None
    frozen_clock.set(session.window_ends_at)
    opening.close_opening(actor=published.operations, opening=session)
    damaged.refresh_from_db()
    assert damaged.status == BidStatus.PLATFORM_FAILED and damaged.failure == "storage_damaged"
    others = [b for b, _ in handed[1:]]
    for bid in others:
        bid.refresh_from_db()
        assert bid.status == BidStatus.REVOKED and bid.failure == "no_key"


def test_the_public_ledger_does_not_name_bidders_before_the_deadline(published, tmp_path):  # type: ignore[no-untyped-def]
    from ggzy.ledger.models import Event

    bid, _ = _submit(published, 0, tmp_path)
    bids.withdraw_bid(actor=published.bidders[0].user, bid=bid)
    with pytest.raises(Conflict):  # a refusal before the deadline
        _submit(published, 1, tmp_path)
        _submit(published, 1, tmp_path)
    user = f"user:{published.bidders[0].user.pk}"
    other = f"user:{published.bidders[1].user.pk}"
    rows = Event.objects.filter(event_type__startswith="bidding.")
    assert rows.count() >= 3
    for event in rows:
        assert event.actor not in (user, other) and event.client_addr == "", event.event_type
    # not even linkable to each other: one pseudonym per subject
    assert (
        len({e.actor for e in rows})
        == len({e.subject for e in rows if e.subject != "bidding:submission"}) + 1
    )


def test_the_generic_envelope_store_refuses_bids(published, tmp_path):  # type: ignore[no-untyped-def]
    from ggzy.trust.envelopes import receive_envelope

    bidder = published.bidders[0]
    path = w.sealed(bidder, published.section, tmp_path / "generic")
    with pytest.raises(Conflict) as exc:
        receive_envelope(actor=bidder.user, upload=path)
    assert exc.value.code == "use_bid_submission"


def test_refunds_of_early_withdrawals_name_no_section_nor_bidder(published, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    from ggzy.accounts.roles import Role
    from ggzy.bidding import deposits
    from tests.conftest import make_user

    bidder, section = published.bidders[0], published.section
    deposit = deposits.open_deposit(
        actor=bidder.user, section=section, entity=bidder.entity, method="transfer"
    )
    deposits.record_bank_notice(
        actor="system:bank", bank_reference="B-1", virtual_account=deposit.virtual_account or "",
        amount=str(section.deposit), payer_account="6222000011112222", payer_name=bidder.entity.name,
        credited_at=frozen_clock.moment,
    )  # fmt: skip
    bid, _ = _submit(published, 0, tmp_path)
    bids.withdraw_bid(actor=bidder.user, bid=bid)
    finance = make_user("finance_desk", Role.CENTER_FINANCE)
    with pytest.raises(PermissionDenied):  # the opening desk has no refund list
        deposits.refunds(published.operations)
    token = issue_token(actor=finance, name="t")[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    [row] = client.get("/api/v1/bidding/refunds").json()
    assert row["deposit"]["section"] is None and row["deposit"]["entity"] is None
    assert row["deposit"]["payer_account"] == "6222000011112222"
    client.force_login(finance)
    page = client.get("/staff/deposits/").content.decode()
    assert section.code not in page and "投标截止前保密" in page
    frozen_clock.set(section.bid_deadline)
    [row] = client.get("/api/v1/bidding/refunds").json()
    assert row["deposit"]["section"] == section.public_id
