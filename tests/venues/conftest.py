from __future__ import annotations

import pytest

from tests.api.support import register
from tests.venues.world import VenueWorld


@pytest.fixture
def vw(users, region, frozen_clock) -> VenueWorld:  # type: ignore[no-untyped-def]
    world = VenueWorld(
        admin=users["center_admin"], booker=users["center_operations"],
        witness=users["center_operations"], intake=users["center_intake"],
        tenderer=users["tenderer"], employer=register(users["bidder"], 1),
    )  # fmt: skip
    world.venues  # noqa: B018 - sites, venues and the first section exist before any test counts
    world.main_section  # noqa: B018
    world.witnesses  # noqa: B018
    for n in range(4):
        world.expert(n)
    return world
