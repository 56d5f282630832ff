"""The demo tender: one open tender run to a signed opening record through the services, with
bids sealed by the demo keystores (SM2, ECDSA and RSA); one more open for bids. Idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggzy.bidding import opening
from ggzy.bidding.demo import DONE_NAME, OPEN_NAME, load_demo_tender
from ggzy.bidding.models import Bid, Opening
from ggzy.catalog.services import install_default_catalog
from ggzy.fairness.services import install_default_rules
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
