"""Award fixtures: a section whose evaluation report is signed (works, no deposits)."""

from __future__ import annotations

import pytest

from tests.award import world as w


@pytest.fixture
def world(db, region, frozen_clock):  # type: ignore[no-untyped-def]
    return w.signed_world(frozen_clock)
