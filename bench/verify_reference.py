# Verbatim copy of ggzy/ledger/verify.py as of commit 4a458a1 (+ ruff format), before the speed-up;
# kept as the oracle that bench/verify_equivalence.py compares the optimised verify_ledger() against.
# ruff: noqa
"""``ggzy ledger verify``: recompute the chain, the Merkle tree and every signed head.

It reads the tables with a plain cursor in sequence order and names the first sequence number
that does not fit — an altered row (its hash no longer matches), a deleted row (a gap), an
inserted row (a number out of place or a broken link), or a rewritten stretch (a signed tree head
or a stored Merkle node no longer matches).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from ggzy.ledger import merkle, signing
from ggzy.ledger.chain import GENESIS, EventFields, canonical_json, hasher, leaf_hash, node_hash
from ggzy.ledger.models import LedgerHead
from ggzy.ledger.services import tree_head_message

FETCH = 20_000


@dataclass
class Problem:
    seq: int
    kind: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass
class VerifyReport:
    size: int = 0
    alg: str = ""
    problems: list[Problem] = field(default_factory=list)
    heads_checked: int = 0
    nodes_checked: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        return min((p.seq for p in self.problems), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "size": self.size,
            "alg": self.alg,
            "first_bad_seq": self.first_bad_seq,
            "problems": [p.as_dict() for p in self.problems[:50]],
            "tree_heads_checked": self.heads_checked,
            "merkle_nodes_checked": self.nodes_checked,
            "seconds": round(self.seconds, 3),
            "events_per_second": round(self.size / self.seconds) if self.seconds else None,
        }


def _rows(sql: str) -> Any:
    with connection.cursor() as cur:
        cur.execute(sql)
        while batch := cur.fetchmany(FETCH):
            yield from batch


def verify_ledger(*, public_key_pem: str | None = None) -> VerifyReport:
    started = time.perf_counter()
    report = VerifyReport()
    head = LedgerHead.objects.filter(pk=1).first()
    alg = head.alg if head and head.alg else "sm3"
    report.alg = alg
    h = hasher(alg)
    leaves = _verify_chain(h, report, head)
    levels = _build_levels(h, leaves)
    _verify_nodes(report, levels)
    _verify_heads(h, report, levels, public_key_pem or signing.public_key_pem())
    report.problems.sort(key=lambda p: p.seq)
    report.seconds = time.perf_counter() - started
    return report


def _verify_chain(h: Any, report: VerifyReport, head: LedgerHead | None) -> list[bytes]:
    leaves: list[bytes] = []
    append = leaves.append
    prev = GENESIS
    expected = 1
    problems = report.problems
    for seq, time_us, actor, addr, etype, subject, payload, pdigest, prev_hex, hash_hex in _rows(
        "SELECT seq, time_us, actor, client_addr, event_type, subject, payload, payload_digest, "
        "prev_hash, hash FROM ledger_event ORDER BY seq"
    ):
        if seq != expected:
            kind = "deleted" if seq > expected else "inserted"
            problems.append(Problem(expected, kind, f"expected sequence {expected}, found {seq}"))
            expected = seq
        stored = bytes.fromhex(hash_hex)
        if prev_hex != prev.hex():
            problems.append(
                Problem(seq, "broken_link", "prev_hash does not match the previous event")
            )
        if h(payload.encode()).hex() != pdigest:
            problems.append(Problem(seq, "payload_altered", "payload does not match its digest"))
        fields = EventFields(seq, time_us, actor, addr, etype, subject, pdigest)
        if h(bytes.fromhex(prev_hex) + fields.canonical()) != stored:
            problems.append(Problem(seq, "altered", "event hash does not match its fields"))
        append(leaf_hash(h, stored))
        prev = stored
        expected += 1
    report.size = len(leaves)
    if head is not None:
        if head.size != len(leaves):
            problems.append(
                Problem(
                    min(head.size, len(leaves)) + 1,
                    "truncated" if head.size > len(leaves) else "inserted",
                    f"head says {head.size} events, table holds {len(leaves)}",
                )
            )
        elif leaves and head.last_hash != prev.hex():
            problems.append(
                Problem(len(leaves), "altered", "head hash does not match the last event")
            )
    return leaves


def _build_levels(h: Any, leaves: list[bytes]) -> list[list[bytes]]:
    """All full nodes, level by level (level 0 = leaves)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(h, below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def _verify_nodes(report: VerifyReport, levels: list[list[bytes]]) -> None:
    worst: tuple[int, int] | None = None  # (first leaf covered, level) of the lowest bad node
    for level, index, stored in _rows('SELECT level, "index", hash FROM ledger_merklenode'):
        report.nodes_checked += 1
        ok = (
            level < len(levels)
            and index < len(levels[level])
            and levels[level][index] == bytes(stored)
        )
        if not ok:
            first = index << level
            if worst is None or (level, first) < (worst[1], worst[0]):
                worst = (first, level)
    if worst is not None:
        first, level = worst
        report.problems.append(
            Problem(
                _pin(report, first + 1, first + (1 << level)),
                "rewritten",
                f"stored Merkle node covering events {first + 1}–{first + (1 << level)} differs",
            )
        )


def _verify_heads(h: Any, report: VerifyReport, levels: list[list[bytes]], public_pem: str) -> None:
    nodes = _LevelView(levels)
    size = len(levels[0])
    previous_ok = 0
    for hsize, root, alg, time_us, signature in _rows(
        "SELECT size, root, alg, time_us, signature FROM ledger_treehead ORDER BY size"
    ):
        report.heads_checked += 1
        message = canonical_json(tree_head_message(size=hsize, root=root, alg=alg, time_us=time_us))
        if not signing.verify(public_pem, message, signature):
            report.problems.append(
                Problem(hsize, "bad_signature", f"tree head {hsize} signature invalid")
            )
            continue
        if hsize > size:
            report.problems.append(
                Problem(
                    size + 1,
                    "truncated",
                    f"signed tree head covers {hsize} events, table has {size}",
                )
            )
            continue
        if merkle.range_hash(h, 0, hsize, nodes).hex() != root:
            # The signed head only says "somewhere in (previous_ok, hsize]"; other evidence (a
            # broken row, a stored node that no longer fits) pins it down when there is some.
            first = _pin(report, previous_ok + 1, hsize)
            report.problems.append(
                Problem(
                    first,
                    "rewritten",
                    f"signed tree head {hsize} does not match events {previous_ok + 1}–{hsize}",
                )
            )
        else:
            previous_ok = hsize


def _pin(report: VerifyReport, lo: int, hi: int) -> int:
    """The first sequence in ``[lo, hi]`` that a row-level check already named, else ``lo``.

    Stored nodes and signed heads only say "somewhere in this range"; a broken row is exact.
    """
    return min((p.seq for p in report.problems if lo <= p.seq <= hi), default=lo)


class _LevelView(dict[merkle.Node, bytes]):
    def __init__(self, levels: list[list[bytes]]) -> None:
        super().__init__()
        self.levels = levels

    def __getitem__(self, key: merkle.Node) -> bytes:
        level, index = key
        return self.levels[level][index]
