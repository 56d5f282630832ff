"""The demo venues: sites in three cities with halls and rooms; the demo tender still open for
bids gets its opening hall at the deadline and a remote evaluation session over three cities."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggzy.bidding.demo import load_demo_tender
from ggzy.catalog.services import install_default_catalog
from ggzy.experts.demo import load_demo_experts
from ggzy.fairness.services import install_default_rules
from ggzy.registry.demo import load_demo
from ggzy.trust.demo import load_demo_pki
from ggzy.venues.demo import load_demo_venues
from ggzy.venues.models import Booking, ExpertAssignment, RemoteSession, Site, Venue

pytestmark = pytest.mark.django_db


def test_demo_venues_and_a_remote_session(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GGZY_ENVELOPE_DIR = tmp_path / "envelopes"
    load_demo()
    install_default_catalog(actor="system:demo")
    install_default_rules(actor="system:demo")
    load_demo_pki(tmp_path)
    load_demo_tender(tmp_path)
    load_demo_experts()
    result = load_demo_venues()
    assert result.created and (result.sites, result.venues) == (3, 9)
    assert sorted(Site.objects.values_list("region_id", flat=True)) == ["320100", "320500",
                                                                       "520100"]  # fmt: skip
    assert Venue.objects.filter(kind="opening_hall").count() == 4
    (session,) = RemoteSession.objects.all()
    roles = sorted((sv.role, sv.booking.venue.label) for sv in session.venues.all())
    assert roles == [("main", "NJ/E1"), ("secondary", "GY/E1"), ("secondary", "SZ/E1")]
    assert ExpertAssignment.objects.filter(session=session).count() >= 5
    assert Booking.objects.filter(purpose="opening").count() == 1
    again = load_demo_venues()
    assert not again.created and again.sessions == [session.public_id]
