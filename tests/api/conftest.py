"""A small world for the API tests: one user holding every role, one registered entity, and —
made on first use, so the many tests that do not need them stay quick — the trust objects: the
test CA, an entity certificate bound to omni, a signature, a signing request, an envelope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from ggzy.accounts.models import ApiToken, User
from ggzy.accounts.roles import Role
from ggzy.accounts.services import issue_token
from ggzy.ledger.services import sign_tree_head
from ggzy.registry.models import Entity, Qualification
from ggzy.trust.models import DocumentSignature, SigningRequest
from tests.api import tender_world, trust_world
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
    crl_url: str  # where the test CA's CRL is served
    envelope_dir: Path  # settings.GGZY_ENVELOPE_DIR
    clock: Any = None  # the frozen clock's handle
    prepared: dict[str, Any] = field(default_factory=dict)  # per-operation requests, made once

    @cached_property
    def trust(self) -> trust_world.Trust:
        """The test CA onboarded and ``entity``'s certificate bound to omni."""
        return trust_world.setup(holder=self.omni, entity=self.entity, crl_url=self.crl_url)

    @cached_property
    def tender(self) -> tender_world.TenderWorld:
        """A tenderer entity omni administers; omni also bids for ``entity``, sealing with the
        entity's certificate bound to it, accepts projects and runs openings."""
        return tender_world.TenderWorld(
            tenderer=self.omni,
            intake=self.omni,
            operations=self.omni,
            bidder=self.omni,
            bidder_entity=self.entity,
            certificate=self.trust.certificate,
            clock=self.clock,
        )

    @cached_property
    def signature(self) -> DocumentSignature:
        return trust_world.record_signature(self.trust)

    @cached_property
    def sign_request(self) -> SigningRequest:
        return trust_world.signing_request(self.trust)

    @cached_property
    def envelope(self) -> trust_world.Received:
        return trust_world.receive(self.trust)


@pytest.fixture(scope="session")
def crl_server() -> Iterator[str]:
    with trust_world.serve_crl() as url:
        yield url


@pytest.fixture
def trust_env(settings, tmp_path, monkeypatch, crl_server) -> str:  # type: ignore[no-untyped-def]
    """Envelopes kept under a temporary directory; the CRL server reached directly, not through
    a proxy the environment may name. Returns the CRL's URL."""
    settings.GGZY_ENVELOPE_DIR = tmp_path / "envelopes"
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return crl_server  # type: ignore[no-any-return]


@pytest.fixture
def http() -> ApiClient:
    return api_client()


@pytest.fixture
def world(region, frozen_clock, settings, trust_env) -> World:  # type: ignore[no-untyped-def]
    from ggzy.catalog.services import install_default_catalog

    install_default_catalog(actor="system:test")
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
        crl_url=trust_env,
        envelope_dir=settings.GGZY_ENVELOPE_DIR,
        clock=frozen_clock,
    )
