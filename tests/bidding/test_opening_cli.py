"""``ggzy opening due | start | close | show`` from the shell."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ggzy.bidding import bids
from tests.bidding import world as w


def _run(*args: str) -> str:
    out = StringIO()
    call_command("opening", *args, stdout=out)
    return out.getvalue()


def test_opening_desk(published, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    section = published.section
    for n, bidder in enumerate(published.bidders[:2]):
        path = w.sealed(bidder, section, tmp_path / f"b{n}")
        bids.submit_bid(actor=bidder.user, section_id=section.public_id, upload=path)
    with pytest.raises(CommandError, match="opening_before_deadline"):
        _run("start", section.public_id, "--as", published.operations.username)
    assert section.public_id not in _run("due")
    frozen_clock.set(section.bid_deadline + timedelta(seconds=1))
    assert section.public_id in _run("due")
    with pytest.raises(CommandError, match="USERNAME"):
        _run("start", section.public_id)
    with pytest.raises(CommandError, match="forbidden"):
        _run("start", section.public_id, "--as", published.tenderer.username)
    assert "failed" in _run("start", str(section.code), "--as", published.operations.username)
    shown = json.loads(_run("show", section.public_id, "--json"))
    assert shown["verified"] and shown["record"]["result"] == "failed"
    with pytest.raises(CommandError, match="no such section"):
        _run("show", "nope")
