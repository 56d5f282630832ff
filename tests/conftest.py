"""Shared fixtures: frozen clock, users for every role, an isolated ledger key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management.commands import flush

from ggzy.accounts.models import User
from ggzy.accounts.roles import Role
from ggzy.core import clock
from ggzy.core.identifiers import make_uscc
from ggzy.ledger import triggers

# Test-database teardown empties every table; the ledger's triggers would (rightly) refuse.
_original_flush = flush.Command.handle


def _flush_unlocked(self, *args, **options):  # type: ignore[no-untyped-def]
    from django.db import connections

    with triggers.unlocked(connections[options.get("database", "default")]):
        return _original_flush(self, *args, **options)


flush.Command.handle = _flush_unlocked

PASSWORD = "Correct-Horse-9!"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    settings.GGZY_LEDGER_KEY = tmp_path_factory.getbasetemp() / "ledger-signing.pem"
    # Tests run inside a transaction that never commits, so nothing would be chained after commit:
    # the suite runs the inline mode; tests/ledger/test_deferred.py covers the deferred one.
    settings.GGZY_LEDGER_MODE = "inline"
    settings.GGZY_BID_REGISTER_KEY = tmp_path_factory.getbasetemp() / "bid-register.key"
    settings.GGZY_DRAW_KEY = tmp_path_factory.getbasetemp() / "expert-draw.key"
    settings.GGZY_DOCUMENT_DIR = tmp_path_factory.getbasetemp() / "documents"
    settings.GGZY_SUPERVISION_DIR = tmp_path_factory.getbasetemp() / "supervision"
    settings.GGZY_COMPLAINTS_DIR = tmp_path_factory.getbasetemp() / "complaints"
    # the opening may start at the deadline itself (tests/bidding covers the settle period)
    settings.GGZY_OPENING_SETTLE_SECONDS = 0
    # each test's database starts again from feed position 0: no rendered page of another test
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch):  # type: ignore[no-untyped-def]
    """Still Argon2, the configured hasher, with test-sized parameters so fixtures are quick."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    monkeypatch.setattr(Argon2PasswordHasher, "time_cost", 1)
    monkeypatch.setattr(Argon2PasswordHasher, "memory_cost", 64)
    monkeypatch.setattr(Argon2PasswordHasher, "parallelism", 1)


@pytest.fixture
def frozen_clock():  # type: ignore[no-untyped-def]
    with clock.frozen(T0) as handle:
        yield handle


def make_user(username: str, *roles: str) -> User:
    from ggzy.accounts.services import create_user

    return create_user(
        actor="system:test",
        username=username,
        password=PASSWORD,
        roles=list(roles),
        display_name=username,
        check_password=False,
    )


@pytest.fixture
def users(db):  # type: ignore[no-untyped-def]
    """One user per platform role, keyed by the role's value, plus ``anonymous`` = None."""
    return {role.value: make_user(f"u_{role.value}", role.value) for role in Role}


@pytest.fixture
def region(db):  # type: ignore[no-untyped-def]
    from ggzy.registry.models import Region

    province = Region.objects.create(code="320000", name="江苏省")
    return Region.objects.create(code="320100", name="南京市", parent=province)


def uscc(n: int) -> str:
    """A valid USCC numbered ``n`` (distinct for distinct n)."""
    return make_uscc(f"9132010{n:010d}")
