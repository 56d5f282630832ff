"""Check ledger proofs without the database: what an outsider (a bidder, an auditor, another
platform) runs on the JSON that ``ggzy ledger proof`` or ``/api/v1/ledger/…/proof`` gives them.

Only this module, ``chain.py`` and ``merkle.py`` are needed (plus ``cryptography`` to check the
tree-head signature). ``python -m ggzy.ledger.offline proof.json --key ledger.pem``.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from ggzy.ledger import merkle
from ggzy.ledger.chain import EventFields, canonical_json, hasher, leaf_hash


class ProofInvalid(Exception):
    pass


def _sth_message(head: dict[str, Any]) -> bytes:
    return canonical_json(
        {
            "alg": head["alg"],
            "root": head["root"],
            "size": head["size"],
            "time_us": head["time_us"],
            "version": "ggzy-sth-1",
        }
    )


def check_tree_head_signature(head: dict[str, Any], public_key_pem: str) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = serialization.load_pem_public_key(public_key_pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ProofInvalid("the platform key is not an EC key")
    try:
        key.verify(
            base64.b64decode(head["signature"]), _sth_message(head), ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError) as exc:
        raise ProofInvalid("tree head signature does not verify") from exc


def check_inclusion(proof: dict[str, Any], public_key_pem: str | None = None) -> None:
    """Raise :class:`ProofInvalid` unless the event is in the (signed) tree head."""
    h = hasher(proof["alg"])
    e = proof["event"]
    fields = EventFields(
        e["seq"], e["time_us"], e["actor"], e["addr"], e["type"], e["subject"], e["payload_digest"]
    )
    event_hash = h(bytes.fromhex(e["prev_hash"]) + fields.canonical())
    if event_hash.hex() != e["hash"]:
        raise ProofInvalid("event hash does not match the event's fields")
    leaf = leaf_hash(h, event_hash)
    if proof["leaf_index"] != e["seq"] - 1:
        raise ProofInvalid("leaf index does not match the event sequence")
    head = proof["tree_head"]
    if head["size"] != proof["tree_size"]:
        raise ProofInvalid("tree size does not match the tree head")
    try:
        root = merkle.root_from_inclusion(
            h,
            proof["leaf_index"],
            proof["tree_size"],
            leaf,
            [bytes.fromhex(x) for x in proof["audit_path"]],
        )
    except ValueError as exc:
        raise ProofInvalid(str(exc)) from exc
    if root.hex() != head["root"]:
        raise ProofInvalid("audit path does not lead to the tree head's root")
    if public_key_pem is not None:
        check_tree_head_signature(head, public_key_pem)


def check_consistency(proof: dict[str, Any], public_key_pem: str | None = None) -> None:
    h = hasher(proof["alg"])
    ok = merkle.verify_consistency(
        h,
        proof["old_size"],
        proof["new_size"],
        bytes.fromhex(proof["old_root"]),
        bytes.fromhex(proof["new_root"]),
        [bytes.fromhex(x) for x in proof["proof"]],
    )
    if not ok:
        raise ProofInvalid("the new tree does not extend the old one")
    # The Merkle check only relates the two roots in the proof; the signed heads are what tie
    # those roots to what the platform committed to. Both must be present and must match.
    for key, size, root in (
        ("old_tree_head", proof["old_size"], proof["old_root"]),
        ("new_tree_head", proof["new_size"], proof["new_root"]),
    ):
        head = proof.get(key)
        if not head:
            raise ProofInvalid(f"{key} is missing: compare the root with a tree head you kept")
        if head["size"] != size or head["root"] != root:
            raise ProofInvalid(f"{key} does not match the proof's size and root")
        if public_key_pem is not None:
            check_tree_head_signature(head, public_key_pem)


def check(proof: dict[str, Any], public_key_pem: str | None = None) -> str:
    version = proof.get("version")
    if version == "ggzy-inclusion-1":
        check_inclusion(proof, public_key_pem)
        return (
            f"event {proof['event']['seq']} is included in the tree of {proof['tree_size']} events"
        )
    if version == "ggzy-consistency-1":
        check_consistency(proof, public_key_pem)
        return f"the tree of {proof['new_size']} events extends the tree of {proof['old_size']}"
    raise ProofInvalid(f"unknown proof version {version!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an OpenGGZY ledger proof offline.")
    parser.add_argument("proof", help="proof JSON file, or - for standard input")
    parser.add_argument("--key", help="platform public key (PEM) to check the tree-head signature")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.proof == "-" else Path(args.proof).read_text(encoding="utf-8")
    key = Path(args.key).read_text(encoding="utf-8") if args.key else None
    try:
        print("OK:", check(json.loads(text), key))
        if key is None:
            print("WARNING: tree-head signature NOT checked (pass --key)", file=sys.stderr)
    except (ProofInvalid, KeyError, ValueError, TypeError) as exc:
        print("INVALID:", exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
