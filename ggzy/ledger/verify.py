"""``ggzy ledger verify``: recompute the chain, the Merkle tree and every signed head.

It reads the tables in sequence order and names the first sequence number that does not fit — an
altered row (its hash no longer matches), a deleted row (a gap), an inserted row (a number out of
place or a broken link), or a rewritten stretch (a signed tree head or a stored Merkle node no
longer matches).

Two passes live here:

* the *reference pass* (``_verify_chain``, ``_build_levels``, ``_verify_nodes``,
  ``_verify_heads``): one cursor over the events in sequence order, every check in turn, every
  problem recorded. It alone writes the report of a ledger that does not verify.
* the *fast pass* (``_fast_verify``) runs first. It reads the events in chunks of ``2^CHUNK_LEVEL``
  sequence numbers — each chunk an aligned Merkle subtree, so a chunk's leaves and nodes up to
  level ``CHUNK_LEVEL`` need nothing from its neighbours — in parallel worker processes when the
  ledger is large (Linux, outside a transaction), and checks every row, every stored node and
  every signed head with conditions at least as strict as the reference pass's (canonical
  lowercase hex, integer columns, exactly ``2^CHUNK_LEVEL`` rows per chunk). It can only answer
  "clean": at the first thing that does not fit — or merely looks unusual — it gives up and the
  reference pass runs from the start. So a clean ledger verifies fast, and a tampered one gets
  exactly the reference report (which problems, which first bad sequence).
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import multiprocessing.util
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import connection, connections

from ggzy.ledger import merkle, signing
from ggzy.ledger.chain import GENESIS, EventFields, canonical_json, hasher, leaf_hash, node_hash
from ggzy.ledger.models import LedgerHead
from ggzy.ledger.services import tree_head_message

FETCH = 20_000
CHUNK_LEVEL = 16  # the fast pass reads 65,536 events per chunk
CHUNK = 1 << CHUNK_LEVEL
PARALLEL_MIN = 2 * CHUNK  # below this, forking workers costs more than it saves
WORKERS_ENV = "GGZY_VERIFY_WORKERS"  # worker processes for the fast pass (default: usable CPUs)

EVENT_COLUMNS = (
    "seq, time_us, actor, client_addr, event_type, subject, payload, payload_digest, "
    "prev_hash, hash"
)
# The previous hash followed by EventFields.canonical(): keys sorted, strings escaped by orjson
# exactly as canonical_json escapes them, the two integers in decimal.
_CANONICAL = (
    b'%b{"actor":%b,"addr":%b,"payload_digest":%b,"seq":%d,"subject":%b,"time_us":%d,"type":%b}'
)
_GENESIS_HEX = GENESIS.hex()


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
    head = LedgerHead.objects.filter(pk=1).first()
    alg = head.alg if head and head.alg else "sm3"
    h = hasher(alg)
    report = _fast_verify(alg, h, head, public_key_pem)
    if report is None:  # not clean (or not provably so): the reference pass names what is wrong
        report = VerifyReport(alg=alg)
        leaves = _verify_chain(h, report, head)
        levels = _build_levels(h, leaves)
        _verify_nodes(report, levels)
        _verify_heads(h, report, levels, public_key_pem or signing.public_key_pem())
        report.problems.sort(key=lambda p: p.seq)
    report.seconds = time.perf_counter() - started
    return report


# --- the reference pass -------------------------------------------------------------------------


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
    _check_heads(h, report, _LevelView(levels), len(levels[0]), public_pem)


def _check_heads(
    h: Any, report: VerifyReport, nodes: dict[merkle.Node, bytes], size: int, public_pem: str
) -> None:
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


# --- the fast pass ------------------------------------------------------------------------------


class _GiveUp(Exception):
    """The fast pass met something it does not vouch for; the reference pass decides."""


class _Buffered:
    """hashlib-like object over a one-shot digest function (SM3 without OpenSSL support)."""

    __slots__ = ("_h", "_parts")

    def __init__(self, h: Callable[[bytes], bytes]) -> None:
        self._h = h
        self._parts: list[bytes] = []

    def update(self, data: bytes) -> None:
        self._parts.append(data)

    def digest(self) -> bytes:
        return self._h(b"".join(self._parts))

    def hexdigest(self) -> str:
        return self.digest().hex()


def _hash_factory(alg: str) -> Callable[[], Any]:
    """A constructor of fresh hash objects computing the same digest as ``hasher(alg)``."""
    h = hasher(alg)  # refuses unknown algorithms, exactly as the reference pass does
    try:
        return hashlib.new(alg).copy
    except ValueError:
        return lambda: _Buffered(h)


def _split(blob: bytes) -> list[bytes]:
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def _pairs_up(new: Callable[[], Any], below: list[bytes]) -> list[bytes]:
    """The next Merkle level: ``H(0x01 ‖ left ‖ right)`` per pair, an odd last node dropped."""
    out: list[bytes] = []
    append = out.append
    it = iter(below)
    for left, right in zip(it, it, strict=False):
        c = new()
        c.update(b"\x01" + left + right)
        append(c.digest())
    return out


def _fetch(cur: Any, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    cur.execute(sql, params)
    while batch := cur.fetchmany(FETCH):
        yield from batch


# One chunk's answer: (rows, prev_hash of its first row, hash of its last row,
# nodes checked, [level 0 … CHUNK_LEVEL as concatenated 32-byte hashes]).
_Chunk = tuple[int, str | None, str | None, int, list[bytes]]


def _scan_chunk(alg: str, k: int, last_chunk: bool) -> _Chunk | None:
    """Check events ``(k·CHUNK, (k+1)·CHUNK]`` (the last chunk open-ended, the first open below)
    and the stored nodes over them; ``None`` if anything does not fit."""
    try:
        with connection.cursor() as cur:
            return _scan_chunk_on(cur, alg, k, last_chunk)
    except Exception:  # whatever it was, the reference pass will meet it too
        return None


def _scan_chunk_on(cur: Any, alg: str, k: int, last_chunk: bool) -> _Chunk:
    new = _hash_factory(alg)
    base = k * CHUNK
    where, params = [], []
    if k:
        where.append("seq > %s")
        params.append(base)
    if not last_chunk:
        where.append("seq <= %s")
        params.append(base + CHUNK)
    sql = f"SELECT {EVENT_COLUMNS} FROM ledger_event"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = _fetch(cur, sql + " ORDER BY seq", params)
    leaves, first_prev, last_hex = _check_rows(new, rows, base + 1, None if k else _GENESIS_HEX)
    if not last_chunk and len(leaves) != CHUNK:
        raise _GiveUp
    levels = [leaves]
    for _ in range(CHUNK_LEVEL):
        levels.append(_pairs_up(new, levels[-1]))
    checked = 0
    for level in range(1, CHUNK_LEVEL + 1):
        first = base >> level
        mine = levels[level]
        sql = 'SELECT "index", hash FROM ledger_merklenode WHERE level = %s'
        params = [level]
        if k:
            sql += ' AND "index" >= %s'
            params.append(first)
        if not last_chunk:
            sql += ' AND "index" < %s'
            params.append((base + CHUNK) >> level)
        for index, stored in _fetch(cur, sql, params):
            if type(index) is not int:
                raise _GiveUp
            off = index - first
            if not 0 <= off < len(mine) or mine[off] != bytes(stored):
                raise _GiveUp
            checked += 1
    return len(leaves), first_prev, last_hex, checked, [b"".join(x) for x in levels]


def _check_rows(
    new: Callable[[], Any], rows: Iterable[tuple[Any, ...]], expected: int, last_hex: str | None
) -> tuple[list[bytes], str | None, str | None]:
    """The reference pass's row checks, stricter: return the leaf hashes, the first row's
    prev_hash (checked by the caller when ``last_hex`` is None) and the last row's hash."""
    dumps = orjson.dumps
    canonical = _CANONICAL
    leaves: list[bytes] = []
    append = leaves.append
    first_prev = None
    last = GENESIS if last_hex is not None else b""
    for seq, time_us, actor, addr, etype, subject, payload, pdigest, prev_hex, hash_hex in rows:
        if last_hex is None:  # first row of a later chunk
            first_prev = last_hex = prev_hex
            last = bytes.fromhex(prev_hex)
        if (
            seq != expected
            or prev_hex != last_hex
            or type(seq) is not int
            or type(time_us) is not int
        ):
            raise _GiveUp
        c = new()
        c.update(payload.encode())
        if c.hexdigest() != pdigest:
            raise _GiveUp
        c = new()
        c.update(
            canonical
            % (
                last,
                dumps(actor),
                dumps(addr),
                dumps(pdigest),
                seq,
                dumps(subject),
                time_us,
                dumps(etype),
            )
        )
        last = c.digest()
        if last.hex() != hash_hex:
            raise _GiveUp
        c = new()
        c.update(b"\x00" + last)
        append(c.digest())
        last_hex = hash_hex
        expected += 1
    return leaves, first_prev, last_hex


class _ChunkedLevels(dict[merkle.Node, bytes]):
    """Full nodes by ``(level, index)``: chunk blobs up to CHUNK_LEVEL, lists above."""

    def __init__(self, chunks: list[list[bytes]], upper: list[list[bytes]]) -> None:
        super().__init__()
        self.chunks = chunks
        self.upper = upper

    def __getitem__(self, key: merkle.Node) -> bytes:
        level, index = key
        if level >= CHUNK_LEVEL:
            return self.upper[level - CHUNK_LEVEL][index]
        if index < 0:
            raise KeyError(key)
        shift = CHUNK_LEVEL - level
        k = min(index >> shift, len(self.chunks) - 1)
        off = (index - (k << shift)) * 32
        piece = self.chunks[k][level][off : off + 32]
        if len(piece) != 32:
            raise KeyError(key)
        return piece


_INHERITED: list[Any] = []  # the parent's database connections, kept open and unused in a worker


def _worker_init() -> None:
    gc.disable()
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            # Closing the parent's connection here would end the parent's session; keep the
            # object alive (workers leave through os._exit) and let Django open a new one.
            _INHERITED.append(conn.connection)
            conn.connection = None
    multiprocessing.util.Finalize(None, connections.close_all, exitpriority=10)


def _scan_job(job: tuple[str, int, bool]) -> _Chunk | None:
    return _scan_chunk(*job)


def _indexed_scan_job(item: tuple[int, tuple[str, int, bool]]) -> tuple[int, _Chunk | None]:
    return item[0], _scan_chunk(*item[1])


def _workers(size_hint: int, chunks: int) -> int:
    """How many worker processes the fast pass may fork (0: scan in this process)."""
    if size_hint < PARALLEL_MIN or chunks < 2 or not sys.platform.startswith("linux"):
        return 0
    if connection.vendor not in ("sqlite", "postgresql"):
        return 0
    if connection.in_atomic_block or not connection.get_autocommit():
        return 0  # workers could not see this transaction's rows
    if connection.vendor == "sqlite" and getattr(connection, "is_in_memory_db", bool)():
        return 0
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        wanted = int(os.environ.get(WORKERS_ENV, cpus))
    except ValueError:
        wanted = cpus
    n = min(wanted, chunks)
    return n if n >= 2 else 0


def _scan_all(alg: str, size_hint: int) -> list[_Chunk] | None:
    chunks = max(1, -(-size_hint // CHUNK))
    jobs = [(alg, k, k == chunks - 1) for k in range(chunks)]
    workers = _workers(size_hint, chunks)
    if not workers:
        results = []
        for job in jobs:
            if (r := _scan_job(job)) is None:
                return None
            results.append(r)
        return results
    found: list[_Chunk | None] = [None] * len(jobs)
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init)
    try:
        for k, result in pool.imap_unordered(_indexed_scan_job, enumerate(jobs)):
            if result is None:  # no need to scan the rest: the reference pass takes over
                pool.terminate()
                return None
            found[k] = result
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    return found  # type: ignore[return-value]


def _fast_verify(
    alg: str, h: Any, head: LedgerHead | None, public_key_pem: str | None
) -> VerifyReport | None:
    """The whole verification for a clean ledger; ``None`` when the reference pass must run."""
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        return _fast_verify_inner(alg, h, head, public_key_pem)
    except Exception:  # the reference pass reproduces (or explains) it
        return None
    finally:
        if gc_was_on:
            gc.enable()


def _fast_verify_inner(
    alg: str, h: Any, head: LedgerHead | None, public_key_pem: str | None
) -> VerifyReport | None:
    results = _scan_all(alg, head.size if head is not None else 0)
    if results is None:
        return None
    size = 0
    last_hex = _GENESIS_HEX
    nodes = 0
    for k, (count, first_prev, chunk_last, checked, _) in enumerate(results):
        if k and count and first_prev != last_hex:  # the link across a chunk boundary
            return None
        if count:
            last_hex = chunk_last  # type: ignore[assignment]
        size += count
        nodes += checked
    if head is not None and (head.size != size or (size and head.last_hash != last_hex)):
        return None
    # Levels above the chunks: level CHUNK_LEVEL is every chunk's top, in order.
    new = _hash_factory(alg)
    upper = [[x for r in results for x in _split(r[4][CHUNK_LEVEL])]]
    while len(upper[-1]) > 1:
        upper.append(_pairs_up(new, upper[-1]))
    with connection.cursor() as cur:
        for level, index, stored in _fetch(
            cur,
            'SELECT level, "index", hash FROM ledger_merklenode WHERE level > %s OR level < 1',
            [CHUNK_LEVEL],
        ):
            if type(level) is not int or type(index) is not int or level <= CHUNK_LEVEL:
                return None
            above = level - CHUNK_LEVEL
            if above >= len(upper) or not 0 <= index < len(upper[above]):
                return None
            if upper[above][index] != bytes(stored):
                return None
            nodes += 1
        cur.execute("SELECT COUNT(*) FROM ledger_merklenode")
        if cur.fetchone()[0] != nodes:  # a node no scan above looked at
            return None
    report = VerifyReport(size=size, alg=alg, nodes_checked=nodes)
    view = _ChunkedLevels([r[4] for r in results], upper)
    _check_heads(h, report, view, size, public_key_pem or signing.public_key_pem())
    return None if report.problems else report
