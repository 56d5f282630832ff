"""From a published section to a signed opening record, through the services: submission,
receipts, withdrawal and replacement, the deadline, R15, R39 and the record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from ggzy.bidding import bids, opening
from ggzy.bidding.models import Bid
from ggzy.bidding.states import BidStatus, OpeningStatus
from ggzy.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ggzy.ledger.models import Event
from tests.bidding import world as w


def _submit(world, n, tmp_path: Path, **kw):  # type: ignore[no-untyped-def]
    bidder = world.bidders[n]
    path = w.sealed(bidder, world.section, tmp_path / f"b{n}", **kw)
    return bids.submit_bid(actor=bidder.user, section_id=world.section.public_id, upload=path), path


def test_submission_reveals_neither_section_nor_bidder(published, tmp_path):  # type: ignore[no-untyped-def]
    bid, _ = _submit(published, 0, tmp_path)
    row = Bid.objects.values().get(pk=bid.pk)
    assert row["section_id"] is None and row["entity_id"] is None
    blob = repr(row)
    bidder = published.bidders[0]
    for secret in (bidder.entity.uscc, bidder.entity.name, published.section.public_id,
                   published.section.code):  # fmt: skip
        assert secret not in blob
    event = Event.objects.get(seq=bid.receipt_seq)
    assert event.subject == f"bid:{bid.public_id}"
    assert bidder.entity.uscc not in event.payload and published.section.code not in event.payload


def test_receipt_verifies_and_carries_an_inclusion_proof(published, tmp_path):  # type: ignore[no-untyped-def]
    bid, _ = _submit(published, 0, tmp_path)
    receipt = bids.receipt(bid)
    assert receipt["inclusion"]["leaf_index"] == bid.receipt_seq or receipt["inclusion"]
    assert bids.verify_receipt(body=receipt["body"], signature=receipt["signature"]) == bid
    forged = dict(receipt["body"], size=1)
    with pytest.raises(ValidationFailed) as exc:
        bids.verify_receipt(body=forged, signature=receipt["signature"])
    assert exc.value.code == "receipt_invalid"


def test_second_bid_refused_replace_and_withdraw(published, tmp_path):  # type: ignore[no-untyped-def]
    first, _ = _submit(published, 0, tmp_path)
    with pytest.raises(Conflict) as exc:
        _submit(published, 0, tmp_path)
    assert exc.value.code == "bid_exists"
    assert Event.objects.filter(event_type="bidding.bid_refused").exists()
    bidder = published.bidders[0]
    path = w.sealed(bidder, published.section, tmp_path / "again")
    second = bids.submit_bid(actor=bidder.user, section_id=published.section.public_id,
                             upload=path, replaces=first)  # fmt: skip
    first.refresh_from_db()
    assert first.status == BidStatus.REPLACED and second.replaces_id == first.pk
    old = bids.receipt(first)
    with pytest.raises(Conflict) as exc:
        bids.verify_receipt(body=old["body"], signature=old["signature"])
    assert exc.value.code == "receipt_superseded"
    bids.withdraw_bid(actor=bidder.user, bid=second)
    second.refresh_from_db()
    assert second.status == BidStatus.WITHDRAWN


def test_wrong_section_and_ineligible(published, tmp_path):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        _submit(published, 0, tmp_path, section_code="OTHER-001")
    assert exc.value.code == "envelope_wrong_section"
    with pytest.raises(NotFound):
        bids.submit_bid(actor=published.bidders[0].user, section_id="nope", upload=tmp_path / "x")


def test_late_bid_refused_whatever_its_start(published, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    path = w.sealed(published.bidders[0], published.section, tmp_path / "late")
    frozen_clock.set(published.section.bid_deadline)
    with pytest.raises(Conflict) as exc:
        bids.submit_bid(actor=published.bidders[0].user, section_id=published.section.public_id,
                        upload=path)  # fmt: skip
    assert exc.value.code == "bid_late"
    refusal = Event.objects.filter(event_type="bidding.bid_refused").last()
    assert refusal is not None and "bid_late" in refusal.payload


def test_fewer_than_three_bids_no_opening(published, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    _submit(published, 0, tmp_path)
    _submit(published, 1, tmp_path)
    with pytest.raises(Conflict) as exc:
        opening.start_opening(actor=published.operations, section=published.section)
    assert exc.value.code == "opening_before_deadline"
    frozen_clock.set(published.section.bid_deadline)
    result = opening.start_opening(actor=published.operations, section=published.section)
    assert result.status == OpeningStatus.FAILED
    published.section.refresh_from_db()
    assert published.section.failed_at is not None and "R15" in published.section.failure_reason
    assert opening.verify_record(result)


def test_opening_decrypts_classes_failures_and_signs_the_record(published, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    submitted = [_submit(published, n, tmp_path, price=f"{9000000 + n}.00") for n in range(3)]
    frozen_clock.set(published.section.bid_deadline + timedelta(seconds=1))
    with pytest.raises(PermissionDenied):
        opening.start_opening(actor=published.bidders[0].user, section=published.section)
    session = opening.start_opening(actor=published.operations, section=published.section)
    assert session.status == OpeningStatus.DECRYPTING and session.bid_count == 3
    (bid0, path0), (bid1, path1), (_bid2, _) = submitted
    bid0.refresh_from_db()
    # someone else's key hand-over is refused
    with pytest.raises(PermissionDenied) as exc:
        opening.submit_key(
            actor=published.bidders[1].user, bid=bid0, content_key=w.content_key(path0)
        )
    assert exc.value.code == "not_bid_owner"
    # a wrong key is refused, the window stays open
    with pytest.raises(ValidationFailed):
        opening.submit_key(actor=published.bidders[0].user, bid=bid0, content_key=bytes(32))
    done = opening.submit_key(actor=published.bidders[0].user, bid=bid0,
                              content_key=w.content_key(path0))  # fmt: skip
    assert done.status == BidStatus.OPENED and str(done.price) == "9000000.00"
    # the platform's copy of bid 1 is damaged: not the bidder's fault (R39 → withdrawn)
    bid1.refresh_from_db()
    bids.bid_path(bid1).write_bytes(b"damaged")
    failed = opening.submit_key(actor=published.bidders[1].user, bid=bid1,
                                content_key=w.content_key(path1))  # fmt: skip
    assert failed.status == BidStatus.PLATFORM_FAILED
    # bidder 2 never hands over its key: closing early is refused, at the window's end → revoked
    with pytest.raises(Conflict) as exc:
        opening.close_opening(actor=published.operations, opening=session)
    assert exc.value.code == "window_open"
    assert session.window_ends_at is not None
    frozen_clock.set(session.window_ends_at)
    closed = opening.close_opening(actor=published.operations, opening=session)
    assert closed.status == OpeningStatus.CLOSED and opening.verify_record(closed)
    statuses = {row["bidder"]: row["decryption"] for row in closed.record["bids"]}
    assert statuses[published.bidders[2].entity.name] == BidStatus.REVOKED
    assert statuses[published.bidders[1].entity.name] == BidStatus.PLATFORM_FAILED
    closed.record["bids"][0]["price"] = "1.00"
    assert not opening.verify_record(closed)


def test_register_key_lives_outside_the_database(published, tmp_path, settings):  # type: ignore[no-untyped-def]
    bid, _ = _submit(published, 0, tmp_path)
    identity = bids.identity(bid)
    assert identity["entity"] == published.bidders[0].entity.pk
    settings.GGZY_BID_REGISTER_KEY = tmp_path / "other.key"
    with pytest.raises(InvalidTag):
        bids.identity(bid)


def test_a_retried_upload_gets_the_stored_receipt(published, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    bidder = published.bidders[0]
    path = w.sealed(bidder, published.section, tmp_path / "retry")
    again = path.with_name("again.zip")
    again.write_bytes(path.read_bytes())
    first = bids.submit_bid(actor=bidder.user, section_id=published.section.public_id, upload=path)
    frozen_clock.set(published.section.bid_deadline)  # the answer was lost; the retry is late
    second = bids.submit_bid(
        actor=bidder.user, section_id=published.section.public_id, upload=again
    )
    assert second.pk == first.pk and getattr(second, "replayed", False)
    assert Bid.objects.count() == 1
    assert Event.objects.filter(event_type="bidding.bid_received").count() == 1


def test_the_deadline_judges_the_uploads_completion_not_its_verification(  # type: ignore[no-untyped-def]
    published, frozen_clock, settings, tmp_path
):
    settings.GGZY_OPENING_SETTLE_SECONDS = 60
    section = published.section
    deadline = section.bid_deadline
    early = deadline - timedelta(seconds=1)
    paths = [w.sealed(b, section, tmp_path / f"s{n}") for n, b in enumerate(published.bidders)]
    frozen_clock.set(deadline + timedelta(seconds=2))  # verification ends after the deadline
    # an upload completed at the deadline is late
    with pytest.raises(Conflict) as exc:
        bids.submit_bid(actor=published.bidders[2].user, section_id=section.public_id,
                        upload=paths[2], received_at=deadline)  # fmt: skip
    assert exc.value.code == "bid_late"
    # completed one second before it: in time, whatever the verification took
    handed = [
        bids.submit_bid(actor=b.user, section_id=section.public_id, upload=p, received_at=early)
        for b, p in zip(published.bidders, paths, strict=True)
    ]
    assert all(b.received_at == early for b in handed)
    # the opening waits for verifications in flight
    with pytest.raises(Conflict) as exc:
        opening.start_opening(actor=published.operations, section=section)
    assert exc.value.code == "opening_settling"
    frozen_clock.set(deadline + timedelta(seconds=60))
    assert opening.start_opening(actor=published.operations, section=section).bid_count == 3
    # once it has started, even an upload completed in time but still verifying is refused
    again = w.sealed(published.bidders[0], section, tmp_path / "again")
    with pytest.raises(Conflict) as exc:
        bids.submit_bid(actor=published.bidders[0].user, section_id=section.public_id,
                        upload=again, received_at=early, replaces=handed[0])  # fmt: skip
    assert exc.value.code == "bid_late" and exc.value.detail["opening_started"]
