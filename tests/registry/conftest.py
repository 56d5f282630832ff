"""Fixtures for the registry tests: a bidder and the entity it registered."""

from __future__ import annotations

import pytest

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.registry.models import Entity
from tests.api.support import register
from tests.conftest import make_user


@pytest.fixture
def bidder(db) -> User:  # type: ignore[no-untyped-def]
    """A bidder's clerk; registering the entity makes them its admin."""
    return make_user("acme_admin", Role.BIDDER)


@pytest.fixture
def entity(bidder: User, region) -> Entity:  # type: ignore[no-untyped-def]
    return register(bidder, 1)
