from __future__ import annotations

import pytest

from tests.api.support import register
from tests.experts.world import ExpertWorld, install_taxonomy


@pytest.fixture
def xw(users, region, frozen_clock) -> ExpertWorld:  # type: ignore[no-untyped-def]
    staff = users["center_admin"]
    install_taxonomy(staff)
    employer = register(users["bidder"], 1)
    return ExpertWorld(staff=staff, owner=users["expert"], employer=employer)
