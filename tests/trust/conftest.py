"""Trust fixtures: the three test CAs onboarded, a bidder entity and its bound certificate."""

from __future__ import annotations

import pytest

from ggzy.accounts.roles import Role
from tests.api.support import register
from tests.conftest import make_user
from tests.trust import pki


@pytest.fixture
def cas(db):  # type: ignore[no-untyped-def]
    return {family: pki.onboard(family) for family in ("sm2", "ecdsa", "rsa")}


@pytest.fixture
def bidder(db):  # type: ignore[no-untyped-def]
    return make_user("acme_admin", Role.BIDDER)


@pytest.fixture
def entity(bidder, region):  # type: ignore[no-untyped-def]
    return register(bidder, 1)


@pytest.fixture(params=["sm2", "ecdsa", "rsa"])
def family(request):  # type: ignore[no-untyped-def]
    return request.param


@pytest.fixture
def entity_cert(family, entity):  # type: ignore[no-untyped-def]
    return pki.entity_cert(family, entity.uscc)


@pytest.fixture
def bound(cas, bidder, entity, entity_cert):  # type: ignore[no-untyped-def]
    return pki.bind(bidder, entity_cert, entity)
