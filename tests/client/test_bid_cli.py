"""``ggzy-client bid …`` against a live server: form, seal, submit, receipt, verify, key, opening."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from ggzy.accounts.services import issue_token
from ggzy.bidding import opening
from ggzy.bidding.models import Opening
from ggzy_client import cli
from tests.bidding import world as w
from tests.trust import pki


@pytest.fixture
def tender(live_server, region, settings, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    settings.GGZY_ENVELOPE_DIR = tmp_path / "store"
    world = w.make_world()
    w.publish(world)
    return world


def _keystore(bidder: w.Bidder, path: Path) -> Path:
    ca = pki.test_ca(bidder.issued.key.family)
    path.write_bytes(bidder.issued.key.to_pem() + bidder.issued.pem + b"".join(ca.pems()[::-1]))
    return path


def run(capsys, server, *argv):  # type: ignore[no-untyped-def]
    code = cli.main([*argv[:2], "--server", server, *argv[2:]])
    out, err = capsys.readouterr()
    return code, out, err


def test_bidding_from_the_command_line(tender, live_server, frozen_clock, capsys, tmp_path):  # type: ignore[no-untyped-def]
    section = tender.section
    bid_ids, keystores, envelopes, tokens = [], [], [], []
    for n, bidder in enumerate(tender.bidders):
        d = tmp_path / f"bidder{n}"
        d.mkdir()
        keystore = _keystore(bidder, d / "key.pem")
        assert cli.main(["bid", "form", "--price", f"{8800000 + n}", "--duration", "300",
                         "--out", str(d / "bid.json")]) == 0  # fmt: skip
        (d / "tech.txt").write_text("施工组织设计")
        env = d / "bid.zip"
        assert cli.main(["seal", str(d / "bid.json"), str(d / "tech.txt"), "--section",
                         str(section.code), "--key", str(keystore), "--out", str(env)]) == 0  # fmt: skip
        token = issue_token(actor=bidder.user, name="cli")[1]
        code, out, err = run(capsys, live_server.url, "bid", "submit", section.public_id, str(env),
                             "--token", token, "--receipt-out", str(d / "receipt.json"))  # fmt: skip
        assert code == 0, err
        bid_id = re.search(r"^bid: (\w+)", out, re.M).group(1)  # type: ignore[union-attr]
        code, out, err = run(
            capsys, live_server.url, "bid", "verify-receipt", str(d / "receipt.json")
        )
        assert code == 0 and "receipt valid" in out, err
        bid_ids.append(bid_id)
        keystores.append(keystore)
        envelopes.append(env)
        tokens.append(token)
    # a key before the opening is refused, with the platform's code
    code, out, err = run(capsys, live_server.url, "bid", "key", bid_ids[0], "--key", str(keystores[0]),
                         "--envelope", str(envelopes[0]), "--token", tokens[0])  # fmt: skip
    assert code == 2 and "opening_not_started" in err
    frozen_clock.set(section.bid_deadline + timedelta(seconds=5))
    session = opening.start_opening(actor=tender.operations, section=section)
    for bid_id, keystore, env, token in zip(bid_ids, keystores, envelopes, tokens, strict=True):
        code, out, err = run(capsys, live_server.url, "bid", "key", bid_id, "--key", str(keystore),
                             "--envelope", str(env), "--token", token)  # fmt: skip
        assert code == 0 and "opened" in out, err
    opening.close_opening(actor=tender.operations, opening=session)
    code, out, err = run(capsys, live_server.url, "bid", "opening", section.public_id, "--json")
    record = json.loads(out)
    assert record["status"] == "closed" and record["record_verified"]
    assert sorted(b["price"] for b in record["record"]["bids"]) == [
        "8800000.00", "8800001.00", "8800002.00"]  # fmt: skip
    assert Opening.objects.get(section=section).record_seq


def test_form_refuses_bad_prices(capsys, tmp_path):  # type: ignore[no-untyped-def]
    assert cli.main(["bid", "form", "--price", "abc", "--out", str(tmp_path / "f.json")]) == 2
    assert cli.main(["bid", "form", "--price", "-1", "--out", str(tmp_path / "f.json")]) == 2
    assert "bad_price" in capsys.readouterr().err
