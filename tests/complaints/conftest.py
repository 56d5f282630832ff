"""Complaint fixtures: a published works section (bidder1 may complain for its entity), a
published government-procurement section, and a regulator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from ggzy.accounts.roles import Role
from ggzy.tendering.models import Section
from tests.bidding import world as bw
from tests.conftest import make_user


@dataclass
class ComplaintWorld:
    bidding: bw.World
    regulator: Any
    inspector: Any
    clock: Any

    @property
    def section(self) -> Section:
        return self.bidding.section

    @property
    def bidder(self) -> bw.Bidder:
        return self.bidding.bidders[0]


@pytest.fixture
def world(db, region, frozen_clock, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.GGZY_COMPLAINTS_DIR = tmp_path / "complaints"
    bidding = bw.make_world(n_bidders=2)
    bw.publish(bidding)
    return ComplaintWorld(bidding, make_user("reg", Role.REGULATOR),
                          make_user("insp", Role.INSPECTOR), frozen_clock)  # fmt: skip


def procurement_section(world: ComplaintWorld) -> Section:
    terms = bw.project_terms(category="procurement", subject_type="goods",
                             investment_project_code="", name="南京市某中学教学设备采购",
                             sections=[bw.section_terms(estimated_price="9990000.00",
                                                       deposit="190000.00")])  # fmt: skip
    project = bw.publish(world.bidding, terms=terms)
    return project.sections.get(number=1)
