"""Ledger reads: roots, inclusion and consistency proofs, built from O(log n) stored nodes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection

from ggzy.core import clock
from ggzy.core.errors import NotFound, ValidationFailed
from ggzy.ledger import merkle
from ggzy.ledger.chain import hasher, leaf_hash
from ggzy.ledger.models import EPOCH, Event, TreeHead
from ggzy.ledger.services import current_size, ledger_alg, materialise, sign_tree_head


def fetch_nodes(needed: set[merkle.Node]) -> dict[merkle.Node, bytes]:
    """Load full nodes: level 0 from event hashes, higher levels from the node table."""
    h = hasher(ledger_alg())
    found: dict[merkle.Node, bytes] = {}
    leaves = [i for lvl, i in needed if lvl == 0]
    if leaves:
        for seq, x in Event.objects.filter(seq__in=[i + 1 for i in leaves]).values_list(
            "seq", "hash"
        ):
            found[(0, seq - 1)] = leaf_hash(h, bytes.fromhex(x))
    upper = [n for n in needed if n[0] > 0]
    if upper:
        # One plain query for the O(log n) nodes; an ORM OR-chain costs more than the lookups.
        where = " OR ".join(['(level = %s AND "index" = %s)'] * len(upper))
        with connection.cursor() as cur:
            cur.execute(
                f'SELECT level, "index", hash FROM ledger_merklenode WHERE {where}',
                [v for node in upper for v in node],
            )
            for lvl, i, x in cur.fetchall():
                found[(lvl, i)] = bytes(x)
    missing = needed - found.keys()
    if missing:
        raise NotFound(
            "账本节点缺失 (Merkle nodes missing)", detail={"missing": sorted(missing)[:5]}
        )
    return found


def tree_root(size: int) -> bytes:
    h = hasher(ledger_alg())
    if size == 0:
        return h(b"")
    materialise(size)
    return merkle.range_hash(h, 0, size, fetch_nodes(set(merkle.full_nodes(0, size))))


def tree_head_json(head: TreeHead) -> dict[str, Any]:
    return {
        "size": head.size,
        "root": head.root,
        "alg": head.alg,
        "time_us": head.time_us,
        "key_id": head.key_id,
        "signature": head.signature,
        "signature_alg": "ecdsa-p256-sha256",
    }


def latest_tree_head() -> TreeHead | None:
    """The newest signed head for pages and the public API.

    A read signs a fresh head only when the ledger has grown and the newest head is older than
    ``GGZY_LEDGER_HEAD_INTERVAL`` seconds, so reading pages does not turn into one signature (and
    one write) per event. Proofs of a newer event still get a head that covers it (``_head_for``).
    """
    latest: TreeHead | None = TreeHead.objects.order_by("-size").first()
    if latest is not None:
        age_s = (clock.now() - EPOCH).total_seconds() - latest.time_us / 1e6
        if age_s < settings.GGZY_LEDGER_HEAD_INTERVAL or latest.size >= current_size():
            return latest
    return sign_tree_head()


def event_json(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "time_us": event.time_us,
        "actor": event.actor,
        "addr": event.client_addr,
        "type": event.event_type,
        "subject": event.subject,
        "payload_digest": event.payload_digest,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def get_event(seq: int) -> Event:
    event: Event | None = Event.objects.filter(seq=seq).first()
    if event is None:
        raise NotFound(f"账本中没有序号为 {seq} 的事件", code="event_not_found")
    return event


def inclusion_proof(seq: int, tree_size: int | None = None) -> dict[str, Any]:
    """Everything an outsider needs to check that event ``seq`` is in the signed tree."""
    event = get_event(seq)
    head = _head_for(tree_size, at_least=seq)
    h = hasher(head.alg)
    ranges = merkle.inclusion_ranges(seq - 1, head.size)
    path = merkle.hashes_for(h, ranges, fetch_nodes(merkle.nodes_for(ranges)))
    return {
        "version": "ggzy-inclusion-1",
        "alg": head.alg,
        "leaf_index": seq - 1,
        "tree_size": head.size,
        "event": event_json(event),
        "leaf_hash": leaf_hash(h, bytes.fromhex(event.hash)).hex(),
        "audit_path": [x.hex() for x in path],
        "tree_head": tree_head_json(head),
    }


def consistency_proof(old: int, new: int) -> dict[str, Any]:
    if not 0 < old <= new:
        raise ValidationFailed("需要 0 < 旧树大小 ≤ 新树大小", code="bad_tree_sizes")
    new_head = _head_for(new, at_least=new)
    old_head: TreeHead | None = TreeHead.objects.filter(size=old).first()
    if old_head is None:
        raise NotFound(f"没有大小为 {old} 的签名树头", code="tree_head_not_found")
    h = hasher(new_head.alg)
    ranges = merkle.consistency_ranges(old, new)
    path = merkle.hashes_for(h, ranges, fetch_nodes(merkle.nodes_for(ranges)))
    return {
        "version": "ggzy-consistency-1",
        "alg": new_head.alg,
        "old_size": old,
        "new_size": new,
        "old_root": old_head.root,
        "new_root": new_head.root,
        "proof": [x.hex() for x in path],
        "old_tree_head": tree_head_json(old_head),
        "new_tree_head": tree_head_json(new_head),
    }


def _head_for(tree_size: int | None, *, at_least: int) -> TreeHead:
    """A signed head of exactly ``tree_size`` leaves, or the latest when none is asked."""
    if tree_size is None:
        latest = sign_tree_head(min_size=at_least)
        if latest is None or latest.size < at_least:
            raise NotFound("账本尚无覆盖该事件的签名树头")
        return latest
    if tree_size < at_least:
        raise ValidationFailed("树大小小于事件序号", code="bad_tree_sizes")
    head: TreeHead | None = TreeHead.objects.filter(size=tree_size).first()
    if head is None:
        current = sign_tree_head()
        if current is not None and current.size == tree_size:
            return current
        raise NotFound(f"没有大小为 {tree_size} 的签名树头", code="tree_head_not_found")
    return head
