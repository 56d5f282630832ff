"""``ggzy-client bid …``: take part in a tender from the command line.

    ggzy-client bid form --price YUAN [--duration DAYS] [--out bid.json]
    ggzy-client bid submit SECTION_ID ENVELOPE [--replace BID_ID] [--receipt-out FILE]
    ggzy-client bid list
    ggzy-client bid withdraw BID_ID
    ggzy-client bid receipt BID_ID [--out FILE]
    ggzy-client bid verify-receipt FILE
    ggzy-client bid key BID_ID (--content-key HEX | --key KEYSTORE --envelope FILE)
    ggzy-client bid opening SECTION_ID [--json]

``form`` writes the opening form (开标一览表) to seal with the bid: the platform reads the price
and duration from ``bid.json`` when the bid is decrypted at the opening. ``key`` unwraps the
content key on this machine (the private key never leaves it) and hands it over during the
opening's decryption window. Every command takes ``--server`` and ``--token``/``--token-file``
(from ``ggzy-client login``).
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ggzy_client.cli import ClientError
from ggzy_client.commands import remote

API = "/api/v1/bidding"


def register(subparsers: Any) -> None:
    bid = subparsers.add_parser("bid", help="tender bids: form, submit, receipt, key, opening")
    sub = bid.add_subparsers(dest="bid_command", required=True)

    f = sub.add_parser("form", help="write the opening form bid.json (price, duration)")
    f.add_argument("--price", required=True, help="the bid price in yuan, e.g. 9500000.00")
    f.add_argument("--duration", type=int, help="duration in days (工期/服务期)")
    f.add_argument("--out", type=Path, default=Path("bid.json"))
    f.set_defaults(func=cmd_form)

    s = _remote(sub, "submit", "upload a sealed envelope for a section; prints the receipt")
    s.add_argument("section_id", help="the section's id on the platform")
    s.add_argument("envelope", type=Path)
    s.add_argument("--replace", metavar="BID_ID", help="replace this active bid of yours")
    s.add_argument("--receipt-out", type=Path, help="save the receipt (JSON) here")
    s.set_defaults(func=cmd_submit)

    _remote(sub, "list", "your bids").set_defaults(func=cmd_list)

    w = _remote(sub, "withdraw", "withdraw your bid before the deadline")
    w.add_argument("bid_id")
    w.set_defaults(func=cmd_withdraw)

    r = _remote(sub, "receipt", "fetch a bid's receipt with its ledger inclusion proof")
    r.add_argument("bid_id")
    r.add_argument("--out", type=Path)
    r.set_defaults(func=cmd_receipt)

    v = _remote(sub, "verify-receipt", "ask the platform to check a saved receipt")
    v.add_argument("file", type=Path)
    v.set_defaults(func=cmd_verify_receipt)

    k = _remote(sub, "key", "hand over the content key at the opening")
    k.add_argument("bid_id")
    k.add_argument("--content-key", help="the content key, hex (from `ggzy-client unwrap`)")
    remote._key_args(k, required=False)
    k.add_argument("--envelope", type=Path, help="with --key: your copy of the envelope")
    k.set_defaults(func=cmd_key)

    o = _remote(sub, "opening", "the opening session and its signed record")
    o.add_argument("section_id")
    o.add_argument("--json", action="store_true")
    o.set_defaults(func=cmd_opening)


def _remote(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=text)
    remote._server_arg(p)
    remote._token_args(p)
    return p


def _url(args: argparse.Namespace, path: str) -> str:
    return str(args.server).rstrip("/") + API + path


def cmd_form(args: argparse.Namespace) -> int:
    try:
        price = Decimal(args.price)
    except InvalidOperation:
        raise ClientError("bad_price", "--price must be an amount in yuan") from None
    if not price.is_finite() or price <= 0:
        raise ClientError("bad_price", "--price must be a positive amount")
    form: dict[str, Any] = {"price": f"{price.quantize(Decimal('0.01'))}"}
    if args.duration is not None:
        if args.duration <= 0:
            raise ClientError("bad_duration", "--duration must be a positive number of days")
        form["duration_days"] = args.duration
    args.out.write_text(json.dumps(form, ensure_ascii=False))
    print(f"opening form: {args.out} (seal it with your bid: ggzy-client seal {args.out} …)")
    return 0


def _print_bid(r: dict[str, Any]) -> None:
    receipt = r["receipt"]
    print(f"bid: {r['id']}  status: {r['status']}  received: {r['received_at']}")
    print(f"  section: {r.get('section')}  size: {r['size']}  sha256: {r['file_sha256']}")
    print(f"  receipt: ledger seq {receipt['ledger_seq']}, signed by key {receipt['key_id']}")


def cmd_submit(args: argparse.Namespace) -> int:
    token = remote._token(args)
    path: Path = args.envelope
    if not path.is_file():
        raise ClientError("no_file", f"{path}: no such file")
    url = (
        _url(args, f"/bids/{args.replace}/replace")
        if args.replace
        else _url(args, f"/sections/{args.section_id}/bids")
    )
    with path.open("rb") as fh:
        r = remote.call("POST", url, token=token, body=fh, length=path.stat().st_size,
                        content_type="application/zip")  # fmt: skip
    _print_bid(r)
    if args.receipt_out:
        args.receipt_out.write_text(json.dumps(r["receipt"], ensure_ascii=False, indent=1))
        print(f"  receipt saved: {args.receipt_out}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    for r in remote.call("GET", _url(args, "/bids"), token=remote._token(args)):
        _print_bid(r)
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    r = remote.call("POST", _url(args, f"/bids/{args.bid_id}/withdraw"), {},
                    token=remote._token(args))  # fmt: skip
    _print_bid(r)
    return 0


def cmd_receipt(args: argparse.Namespace) -> int:
    r = remote.call("GET", _url(args, f"/bids/{args.bid_id}/receipt"), token=remote._token(args))
    text = json.dumps(r, ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text)
        print(f"receipt saved: {args.out}")
    else:
        print(text)
    return 0


def cmd_verify_receipt(args: argparse.Namespace) -> int:
    try:
        saved = json.loads(args.file.read_text())
    except (OSError, ValueError):
        raise ClientError("bad_receipt", f"{args.file}: not a saved receipt") from None
    if not isinstance(saved, dict) or "body" not in saved or "signature" not in saved:
        raise ClientError("bad_receipt", f"{args.file}: not a saved receipt")
    r = remote.call("POST", _url(args, "/receipts/verify"),
                    {"body": saved["body"], "signature": saved["signature"]})  # fmt: skip
    print(f"receipt valid: bid {r['bid']} ({r['status']})")
    return 0


def cmd_key(args: argparse.Namespace) -> int:
    content_key = remote._content_key(args)
    r = remote.call("POST", _url(args, f"/bids/{args.bid_id}/key"),
                    {"content_key": content_key.hex()}, token=remote._token(args))  # fmt: skip
    print(f"decrypted: {r['id']}  status: {r['status']}  price: {r.get('price')}")
    return 0


def cmd_opening(args: argparse.Namespace) -> int:
    r = remote.call("GET", _url(args, f"/sections/{args.section_id}/opening"))
    if args.json:
        print(json.dumps(r, ensure_ascii=False, indent=1))
        return 0
    print(f"opening: {r['status']}  bids: {r['bid_count']}  keys handed over: "
          f"{r['keys_handed_over']}  window ends: {r['window_ends_at']}")  # fmt: skip
    record = r.get("record") or {}
    for row in record.get("bids", []):
        print(f"  {row['bidder']}  {row['price']}  {row['decryption_label']}  {row['deposit']}")
    if record:
        print(f"record signature verified by the platform: {r['record_verified']}")
    return 0
