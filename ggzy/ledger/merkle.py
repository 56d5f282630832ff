"""RFC 6962 Merkle tree proofs over stored full subtrees, pure (no database).

A *full node* ``(level, index)`` is the root of the aligned subtree holding leaves
``[index·2^level, (index+1)·2^level)``. Every range that RFC 6962's recursion visits splits into
O(log n) full nodes, so an inclusion or consistency proof needs O(log n) stored nodes, whatever
the size of the tree. Callers fetch those nodes in one batch (``needed_*``) and pass them in.
"""

from __future__ import annotations

from collections.abc import Mapping

from ggzy.ledger.chain import Hasher, node_hash

Node = tuple[int, int]  # (level, index)


def _largest_power_of_two_below(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def full_nodes(lo: int, hi: int) -> list[Node]:
    """Decompose the range ``[lo, hi)`` into aligned full subtrees, left to right."""
    out: list[Node] = []
    while lo < hi:
        size = 1 << ((hi - lo).bit_length() - 1)
        while lo % size:
            size >>= 1
        out.append((size.bit_length() - 1, lo // size))
        lo += size
    return out


def range_hash(h: Hasher, lo: int, hi: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH of leaves ``[lo, hi)`` (``lo`` aligned as in RFC 6962's recursion)."""
    parts = [nodes[n] for n in full_nodes(lo, hi)]
    acc = parts[-1]
    for part in reversed(parts[:-1]):
        acc = node_hash(h, part, acc)
    return acc


def _path_ranges(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """RFC 6962 PATH(m, D[lo:hi]) as the list of sibling ranges, leaf-side first."""
    if hi - lo <= 1:
        return []
    k = _largest_power_of_two_below(hi - lo)
    if m - lo < k:
        return [*_path_ranges(m, lo, lo + k), (lo + k, hi)]
    return [*_path_ranges(m, lo + k, hi), (lo, lo + k)]


def _subproof_ranges(m: int, lo: int, hi: int, complete: bool) -> list[tuple[int, int]]:
    """RFC 6962 SUBPROOF(m, D[lo:hi], b) as a list of ranges."""
    n = hi - lo
    if m == n:
        return [] if complete else [(lo, hi)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof_ranges(m, lo, lo + k, complete), (lo + k, hi)]
    return [*_subproof_ranges(m - k, lo + k, hi, False), (lo, lo + k)]


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    return _path_ranges(index, 0, size)


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    if not 0 < old <= new:
        raise ValueError("consistency needs 0 < old ≤ new")
    return _subproof_ranges(old, 0, new, True)


def nodes_for(ranges: list[tuple[int, int]]) -> set[Node]:
    return {n for lo, hi in ranges for n in full_nodes(lo, hi)}


def hashes_for(
    h: Hasher, ranges: list[tuple[int, int]], nodes: Mapping[Node, bytes]
) -> list[bytes]:
    return [range_hash(h, lo, hi, nodes) for lo, hi in ranges]


# --- verification (what an outsider runs; mirrors RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------


def root_from_inclusion(h: Hasher, index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(h, p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(h, r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("proof too short")
    return r


def verify_consistency(
    h: Hasher, old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    if old == new:
        return not proof and old_root == new_root
    if not 0 < old < new:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root starts the proof implicitly
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(h, c, fr)
            sr = node_hash(h, c, sr)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(h, sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def root_of_leaves(h: Hasher, leaves: list[bytes]) -> bytes:
    """MTH over an in-memory list of leaf hashes (used by verify and tests)."""
    if not leaves:
        return h(b"")
    level = leaves
    # Bottom-up pairing equals RFC 6962's split-at-largest-power-of-two recursion: an odd last
    # node is carried up unchanged.
    while len(level) > 1:
        nxt = [node_hash(h, level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) & 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]
