"""The bidding API end to end: submit over HTTP, receipt verification, the opening and its
signed record; refusals answer 4xx in the error shape."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

from ggzy.accounts.services import issue_token
from tests.bidding import world as w


def _token(user):  # type: ignore[no-untyped-def]
    return issue_token(actor=user, name="t")[1]


def _post(client, path, token=None, data=b"", content_type="application/json"):  # type: ignore[no-untyped-def]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(path, data=data, content_type=content_type, **headers)


def test_bid_to_record_over_http(published, frozen_clock, tmp_path):  # type: ignore[no-untyped-def]
    client = Client()
    section = published.section
    tokens, keys, bid_ids = [], [], []
    for n, bidder in enumerate(published.bidders):
        token = _token(bidder.user)
        path = w.sealed(bidder, section, tmp_path / f"b{n}", price=f"{9100000 + n}.00")
        r = _post(client, f"/api/v1/bidding/sections/{section.public_id}/bids", token,
                  path.read_bytes(), "application/zip")  # fmt: skip
        assert r.status_code == 201, r.content
        body = r.json()
        assert body["receipt"]["inclusion"] is not None and body["receipt"]["ledger_seq"]
        tokens.append(token)
        keys.append(w.content_key(path))
        bid_ids.append(body["id"])
        check = _post(client, "/api/v1/bidding/receipts/verify",
                      data={"body": body["receipt"]["body"], "signature": body["receipt"]["signature"]})  # fmt: skip
        assert check.status_code == 200 and check.json()["valid"]
    # a second bid by the same bidder
    again = w.sealed(published.bidders[0], section, tmp_path / "again")
    r = _post(client, f"/api/v1/bidding/sections/{section.public_id}/bids", tokens[0],
              again.read_bytes(), "application/zip")  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "bid_exists"
    # nobody sees anything of the opening before the deadline; a key before it is refused
    ops = _token(published.operations)
    r = _post(client, f"/api/v1/bidding/sections/{section.public_id}/opening", ops)
    assert r.status_code == 409 and r.json()["code"] == "opening_before_deadline"
    r = _post(
        client, f"/api/v1/bidding/bids/{bid_ids[0]}/key", tokens[0], {"content_key": keys[0].hex()}
    )
    assert r.status_code == 409 and r.json()["code"] == "opening_not_started"
    frozen_clock.set(section.bid_deadline + timedelta(minutes=1))
    r = _post(client, f"/api/v1/bidding/sections/{section.public_id}/opening", ops)
    assert r.status_code == 201 and r.json()["bid_count"] == 3
    r = _post(
        client, f"/api/v1/bidding/bids/{bid_ids[0]}/key", tokens[1], {"content_key": keys[0].hex()}
    )
    assert r.status_code == 403 and r.json()["code"] == "not_bid_owner"
    for token, key, bid_id in zip(tokens, keys, bid_ids, strict=True):
        r = _post(client, f"/api/v1/bidding/bids/{bid_id}/key", token, {"content_key": key.hex()})
        assert r.status_code == 200 and r.json()["status"] == "opened", r.content
    r = _post(client, f"/api/v1/bidding/sections/{section.public_id}/opening/close", ops)
    assert r.status_code == 200
    record = client.get(f"/api/v1/bidding/sections/{section.public_id}/opening").json()
    assert record["status"] == "closed" and record["record_verified"]
    assert sorted(b["price"] for b in record["record"]["bids"]) == [
        "9100000.00", "9100001.00", "9100002.00"]  # fmt: skip


def test_hostile_uploads_answer_4xx(published):  # type: ignore[no-untyped-def]
    client = Client()
    token = _token(published.bidders[0].user)
    section = published.section.public_id
    url = f"/api/v1/bidding/sections/{section}/bids"
    assert _post(client, url, None, b"x", "application/zip").status_code == 401
    r = _post(client, url, token, b"not a zip", "application/zip")
    assert r.status_code == 422 and set(r.json()) == {"code", "message", "detail"}
    assert _post(client, url, token, b"{}", "application/json").status_code == 415
    r = _post(client, "/api/v1/bidding/sections/nope/bids", token, b"x", "application/zip")
    assert r.status_code == 404
    r = _post(
        client, "/api/v1/bidding/receipts/verify", data={"body": {"bid": "x"}, "signature": "AA=="}
    )
    assert r.status_code == 422 and r.json()["code"] == "receipt_invalid"
    r = _post(client, "/api/v1/bidding/bids/nope/key", token, {"content_key": "zz"})
    assert r.status_code == 422
