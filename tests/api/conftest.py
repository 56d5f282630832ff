"""A small world for the API tests: one user holding every role, one registered entity."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ggzy.accounts.models import ApiToken, User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.ledger.services import sign_tree_head
from ggzy.registry.models import Entity, Qualification
from tests.api.support import ApiClient, api_client, register
from tests.conftest import make_user


@dataclass
class World:
    omni: User  # holds every platform role and administers ``entity``
    omni_secret: str
    spare_token: ApiToken  # another token of omni's, for the revoke endpoint
    candidate: User  # a user who is not yet a member of ``entity``
    entity: Entity
    qualification: Qualification


@pytest.fixture
def http() -> ApiClient:
    return api_client()


@pytest.fixture
def world(region, frozen_clock) -> World:  # type: ignore[no-untyped-def]
    omni = make_user("omni", *Role.values)
    sign_tree_head()  # an early signed head, for consistency proofs from it
    _, secret = issue_token(actor=omni, name="omni")
    spare, _ = issue_token(actor=omni, name="spare")
    candidate = make_user("candidate", Role.BIDDER)
    entity = register(omni, 1)
    return World(
        omni=omni,
        omni_secret=secret,
        spare_token=spare,
        candidate=candidate,
        entity=entity,
        qualification=entity.qualifications.get(),
    )
