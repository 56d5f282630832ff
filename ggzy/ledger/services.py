"""Ledger writes: append an event in the caller's transaction; materialise nodes; sign heads."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from ggzy.ledger import signing
from ggzy.ledger.append import (
    append_event,
    chain_pending,
    ledger_mode,
    time_us,
)
from ggzy.ledger.chain import canonical_json, hasher, leaf_hash, node_hash
from ggzy.ledger.models import Event, LedgerHead, MerkleNode, MerkleState, PendingEvent, TreeHead

# The write API every domain uses; the hot path itself lives in append.py.
__all__ = [
    "append_event",
    "chain_pending",
    "current_size",
    "ledger_mode",
    "materialise",
    "record_refusal",
    "sign_tree_head",
]

MATERIALISE_CHUNK = 1 << 16


def current_size() -> int:
    """Events committed so far (as seen by this transaction)."""
    return LedgerHead.objects.filter(pk=1).values_list("size", flat=True).first() or 0


def record_refusal(
    *, actor: Any, event_type: str, subject: str, reason: str, **details: Any
) -> None:
    """Record a refused attempt that matters for supervision, in its own transaction.

    Called by interfaces after the refused action rolled back, so the refusal is kept while the
    action changed nothing.
    """
    with transaction.atomic():
        append_event(
            actor=actor,
            event_type=event_type,
            subject=subject,
            payload={"refused": True, "reason": reason, **details},
        )


def ledger_alg() -> str:
    head = LedgerHead.objects.filter(pk=1).first()
    return head.alg if head and head.alg else settings.GGZY_LEDGER_HASH


def materialise(size: int | None = None) -> int:
    """Compute and store the full Merkle nodes for leaves up to ``size`` (default: all).

    Idempotent and safe beside concurrent appends; returns the materialised size.
    """
    if size is not None and MerkleState.objects.filter(pk=1, size__gte=size).exists():
        return size  # already there: no locking transaction
    with transaction.atomic():
        state = MerkleState.objects.select_for_update().filter(pk=1).first()
        if state is None:
            try:
                with transaction.atomic():
                    MerkleState.objects.create(pk=1)
            except IntegrityError:
                pass
            state = MerkleState.objects.select_for_update().get(pk=1)
        target = size if size is not None else current_size()
        h = hasher(ledger_alg())
        done = state.size
        while done < target:
            upto = min(target, (done // MATERIALISE_CHUNK + 1) * MATERIALISE_CHUNK)
            _materialise_range(h, done, upto)
            done = upto
        if done != state.size:
            state.size = done
            state.save(update_fields=["size"])
        return done


def _materialise_range(h: Any, m: int, n: int) -> None:
    """Add the full nodes completed when the tree grows from ``m`` to ``n`` leaves."""
    start = m & ~1
    rows = (
        Event.objects.filter(seq__gt=start, seq__lte=n)
        .order_by("seq")
        .values_list("hash", flat=True)
    )
    current = [leaf_hash(h, bytes.fromhex(x)) for x in rows]
    new_nodes: list[MerkleNode] = []
    # the left siblings already stored (one per level where the new nodes start at an odd
    # index), fetched in one query rather than one per level
    lefts = [(lvl, (m >> lvl) - 1) for lvl in range(1, n.bit_length() + 1)
             if (n >> lvl) > (m >> lvl) and (m >> lvl) & 1]  # fmt: skip
    stored: dict[tuple[int, int], bytes] = {}
    if lefts:
        query = Q()
        for lvl, index in lefts:
            query |= Q(level=lvl, index=index)
        stored = {
            (lvl, index): bytes(x)
            for lvl, index, x in MerkleNode.objects.filter(query).values_list(
                "level", "index", "hash"
            )
        }
    level = 1
    while True:
        lo, hi = m >> level, n >> level
        if hi <= lo:
            break
        made = [
            node_hash(h, current[2 * j - start], current[2 * j + 1 - start]) for j in range(lo, hi)
        ]
        new_nodes.extend(MerkleNode(level=level, index=lo + i, hash=x) for i, x in enumerate(made))
        if lo & 1:
            made.insert(0, stored[(level, lo - 1)])
        start = lo & ~1
        current = made
        level += 1
    MerkleNode.objects.bulk_create(new_nodes, batch_size=2000, ignore_conflicts=True)


PG_HEAD_LOCK = 0x6767_7A79_7374_6868  # "ggzysthh": the advisory lock of the tree-head signer


def sign_tree_head(*, min_size: int = 0) -> TreeHead | None:
    """A signed head: with ``min_size``, the latest one if it has at least that many leaves;
    without, one over the whole committed ledger. Signs a new head (over the whole ledger) only
    when the latest does not do.

    Signing is coalesced like the chainer (``append.chain_pending``): whoever holds the signer's
    lock materialises the nodes and signs a head over everything chained when it looked, in one
    transaction; callers that find the lock taken wait for that signer (a shared lock: all
    waiters wake together) and usually find its head covers them. Under a deadline surge the
    platform signs one head per wave of concurrent receipts, not one per bid.
    """
    if ledger_mode() == "deferred" and PendingEvent.objects.exists():
        chain_pending()
    while True:
        size = current_size()
        if size == 0:
            return None
        latest: TreeHead | None = TreeHead.objects.order_by("-size").first()
        if _covers(latest, size, min_size):
            return latest
        signed = _sign_locked(min_size)
        if signed is not None:
            return signed
        with connection.cursor() as cur:  # PostgreSQL only: another process is signing
            cur.execute(
                "SELECT pg_advisory_lock_shared(%s), pg_advisory_unlock_shared(%s)",
                [PG_HEAD_LOCK, PG_HEAD_LOCK],
            )


def _covers(head: TreeHead | None, size: int, min_size: int) -> bool:
    return head is not None and head.size >= (min_size or size)


def _sign_locked(min_size: int) -> TreeHead | None:
    """Under the signer's lock: the latest head if it now covers ``min_size`` and the ledger,
    else a new head over the current ledger. ``None`` when another process holds the lock."""
    from ggzy.ledger.proofs import tree_root

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [PG_HEAD_LOCK])
                if not cur.fetchone()[0]:
                    return None
        size = current_size()
        latest: TreeHead | None = TreeHead.objects.order_by("-size").first()
        if _covers(latest, size, min_size):
            return latest  # signed while this caller waited for the lock
        alg = ledger_alg()
        root = tree_root(size).hex()  # materialises the nodes it needs, in this transaction
        body = tree_head_message(size=size, root=root, alg=alg, time_us=time_us())
        try:
            with transaction.atomic():
                return TreeHead.objects.create(
                    size=size,
                    root=root,
                    alg=alg,
                    time_us=body["time_us"],
                    key_id=signing.key_id(),
                    signature=signing.sign(canonical_json(body)),
                )
        except IntegrityError:  # SQLite: signed concurrently by another process
            return TreeHead.objects.get(size=size)


def tree_head_message(*, size: int, root: str, alg: str, time_us: int) -> dict[str, Any]:
    """What a tree-head signature covers (canonical JSON of this dict)."""
    return {
        "alg": alg,
        "root": root,
        "size": size,
        "time_us": time_us,
        "version": "ggzy-sth-1",
    }
