"""Tendering fixtures: the tender world (tenderer, center staff, bidders) and a published project."""

from __future__ import annotations

import pytest

from tests.bidding import world as w


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.make_world()


@pytest.fixture
def published(world):  # type: ignore[no-untyped-def]
    w.publish(world)
    return world
