"""The demo tender: one open tender run to a signed opening record through the services, with
bids sealed by the demo keystores (SM2, ECDSA and RSA); one more open for bids. Idempotent.
With the whole ``ggzy demo``, that tender is carried on to a published contract."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from ggzy.award import notice
from ggzy.award import selectors as award_selectors
from ggzy.award.models import Contract
from ggzy.award.states import Stage
from ggzy.bidding import opening
from ggzy.bidding.demo import DONE_NAME, OPEN_NAME, load_demo_tender
from ggzy.bidding.models import Bid, Deposit, Opening
from ggzy.catalog.services import install_default_catalog
from ggzy.core import clock
from ggzy.evaluation.models import EvaluationSession
from ggzy.experts.draw_models import Draw
from ggzy.experts.draw_verify import verify_draw
from ggzy.fairness.services import install_default_rules
from ggzy.ledger.models import Event
from ggzy.registry.demo import load_demo
from ggzy.tendering import selectors
from ggzy.tendering.models import Project
from ggzy.tendering.states import Phase
from ggzy.trust.demo import load_demo_pki

pytestmark = pytest.mark.django_db


def test_demo_tender_reaches_a_signed_opening_record(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_ENVELOPE_DIR = tmp_path / "envelopes"
    load_demo()
    install_default_catalog(actor="system:demo")
    install_default_rules(actor="system:demo")
    load_demo_pki(tmp_path)
    result = load_demo_tender(tmp_path)
    assert result.created
    done = Project.objects.get(name=DONE_NAME).sections.get()
    session = Opening.objects.get(section=done)
    assert session.status == "closed" and opening.verify_record(session)
    rows = session.record["bids"]
    assert len(rows) == 3, rows
    assert all(r["decryption"] == "opened" and r["price"] for r in rows), rows
    assert all(r["deposit_status"] == "paid" for r in rows)
    assert selectors.phase(done) == Phase.OPENED
    live = Project.objects.get(name=OPEN_NAME).sections.get()
    assert selectors.phase(live) == Phase.BIDDING
    assert Bid.objects.count() == 3
    again = load_demo_tender(tmp_path)
    assert not again.created and Bid.objects.count() == 3


def test_the_demo_carries_its_tender_through_to_a_published_contract(tmp_path: Path, settings):  # type: ignore[no-untyped-def]
    """``ggzy demo``: the opened section is drawn, evaluated, awarded and contracted (the rest of
    the chain is ggzy/evaluation/demo.py); a second run changes nothing."""
    settings.GGZY_ENVELOPE_DIR = tmp_path / "envelopes"
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("demo", stdout=out)
    done = Project.objects.get(name=DONE_NAME).sections.get()
    draw = Draw.objects.get(section=done)
    assert draw.status == "complete" and draw.revealed_at is not None
    assert verify_draw(draw)["ok"] is True
    session = EvaluationSession.objects.get(section=done)
    assert session.status == "signed" and session.signatures.count() == 5
    # the first demo bidder's qualification expired in June: its bid is rejected in the review
    (rejected,) = session.bids.exclude(invalid_reason="")
    assert rejected.entity.memberships.filter(user__username="bidder01").exists()
    members = sorted(session.members.values_list("user__username", flat=True))
    assert len(members) == 5 and all(u.startswith("pingwei") for u in members)
    assert sorted(draw.drawn.filter(status="confirmed").values_list("expert__user__username",
                                                                     flat=True)) == members  # fmt: skip
    contract = Contract.objects.select_related("award").get(award__section=done)
    assert contract.published_at is not None and not contract.late
    assert contract.amount == contract.award.amount and notice.verify(contract.award)
    # the cheapest valid bid (bidder02's) wins: bidder01's was rejected
    assert contract.amount == Decimal("17235000.00")
    assert contract.award.entity.memberships.filter(user__username="bidder02").exists()
    assert award_selectors.stage_of(done) == Stage.CONTRACTED
    assert contract.published_at < clock.now()
    kinds = sorted(contract.obligations.values_list("kind", "status"))
    assert kinds == [("performance_deposit", "paid"), ("progress_payment", "due"),
                     ("quality_deposit", "due")]  # fmt: skip
    assert {d.status for d in Deposit.objects.filter(section=done)} == {"refunded"}
    text = out.getvalue()
    assert "demo result created" in text and f"/award/sections/{done.public_id}/" in text
    assert f"/evaluation/{session.public_id}/" in text
    events = Event.objects.count()
    again = io.StringIO()
    call_command("demo", stdout=again)
    assert "demo result already present" in again.getvalue()
    assert Event.objects.count() == events and EvaluationSession.objects.count() == 1
