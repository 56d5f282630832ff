"""From a signed opening record to a report signed by every expert, through the services, for
both scoring methods: the committee, the review, blind scoring, the report and its signatures."""

from __future__ import annotations

import hashlib
import json

import pytest

from ggzy.evaluation import selectors, services, services_report, services_review
from ggzy.evaluation.states import SessionStatus
from ggzy.ledger.models import Event
from tests.evaluation import world as w

TECH = {"c2": "25", "c3": "8"}  # 施工组织设计 (30), 企业信誉 (10)


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.make_world(frozen_clock)


def test_comprehensive_scoring_from_the_opening_record_to_a_signed_report(world):  # type: ignore[no-untyped-def]
    # given a section opened with three bids and a signed record
    w.open_section(world, ["9000000.00", "9500000.00", "9300000.00"])
    # when the center opens the session and seats the committee
    session = w.seated(world)
    assert session.status == SessionStatus.FORMING and session.members.count() == 5
    services_review.start_review(actor=world.staff, session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.QUALIFICATION
    assert session.findings.count() == 3 * 4 and not session.findings.filter(passed=False).exists()
    w.confirm_all(world, session)
    assert not session.findings.filter(outcome__isnull=True).exists()
    services_review.start_scoring(actor=world.staff, session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.SCORING
    labels = sorted(session.bids.values_list("label", flat=True))
    assert labels == ["A", "B", "C"]
    w.score_all(world, session, {label: TECH for label in labels})
    # then the report is built from every member's scores
    result = services_report.build_report(actor=world.staff, session=session)
    session.refresh_from_db()
    assert session.status == SessionStatus.REPORT
    assert hashlib.sha256(bytes(session.report)).hexdigest() == session.report_sha256
    by_price = {b.label: str(b.price) for b in session.bids.all()}
    cheapest = min(by_price, key=lambda k: by_price[k])
    assert result.candidates[0] == cheapest and len(result.candidates) == 3
    top = result.bid(cheapest)
    assert str(top.price_points) == "60.00" and str(top.total) == "93.00"
    # the report names no bidder (the labels are sealed until it is signed)
    text = bytes(session.report).decode()
    for b in world.bidding.bidders:
        assert b.entity.name not in text and b.entity.uscc not in text
    assert selectors.revealed_labels(session) is None
    # when every expert signs the report bytes
    session = w.sign_all(world, session)
    # then the session is signed and the mapping is revealed, matching its commitment
    assert session.status == SessionStatus.SIGNED and session.signatures.count() == 5
    revealed = selectors.revealed_labels(session)
    assert revealed is not None and {r["label"] for r in revealed} == {"A", "B", "C"}
    done = Event.objects.filter(event_type="evaluation.report_completed").get()
    payload = json.loads(done.payload)
    assert services.label_commitment(payload["label_seed"], payload["labels"]) == (
        session.label_commitment
    )
    # the tie-break seed in the report is the one committed to when the session was created
    created = json.loads(Event.objects.get(event_type="evaluation.session_created").payload)
    seed = json.loads(bytes(session.report))["draw_seed"]
    assert hashlib.sha256(seed.encode()).hexdigest() == created["draw_seed_sha256"]
    assert created["label_commitment"] == session.label_commitment
    types = list(Event.objects.filter(subject=f"evaluation:{session.public_id}")
                 .values_list("event_type", flat=True))  # fmt: skip
    assert types[:5] == ["evaluation.session_created", "evaluation.committee_formed",
                         "evaluation.review_started"] + ["evaluation.findings_voted"] * 2  # fmt: skip
    assert types[-2:] == ["evaluation.report_signed", "evaluation.report_completed"]


def test_lowest_evaluated_price_from_the_opening_record_to_a_signed_report(  # type: ignore[no-untyped-def]
    db, region, frozen_clock
):
    world = w.make_world(frozen_clock, method="lowest_price")
    w.open_section(world, ["9000000.00", "9500000.00", "8900000.00"])
    session = w.seated(world)
    services_review.start_review(actor=world.staff, session=session)
    w.confirm_all(world, session)
    services_review.start_scoring(actor=world.staff, session=session)
    # nothing to score under R35: the report follows at once
    result = services_report.build_report(actor=world.staff, session=session)
    prices = {b.label: b.price for b in session.bids.all()}
    assert [prices[c] for c in result.candidates] == sorted(prices.values())
    assert all(b.total is None for b in result.bids)
    session = w.sign_all(world, session)
    assert session.status == SessionStatus.SIGNED
