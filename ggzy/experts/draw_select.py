"""The draw's selection rule: a pure, deterministic function of the seed, the candidates of each
quota and the avoidance facts. The live draw (``draw_services``, candidates read from the pool by
``draw_pool``) and the verification (``draw_verify``, candidates read from the sealed record) run
this same code, so a replay that agrees with the record is the same computation.

The seed
    ``seed = SHA-256(secret ‖ root ‖ draw_id)``: the 32-byte secret the platform committed to,
    the 32-byte root of the first signed tree head that includes the commitment event, and the
    draw's public id (ASCII).

The random stream of a stratum
    block ``j`` (0, 1, …) is ``SHA-256(seed ‖ "ggzy-draw-stream/1" 00 quota 00 stratum 00 method
    00 ‖ j as 8 bytes big-endian)``, read as four 64-bit big-endian integers in order.
    ``below(k)`` takes the next integer ``x`` and returns ``x mod k`` if ``x < 2^64 − (2^64 mod
    k)``, otherwise the next one (no modulo bias).

A quota's candidates (its *stratum*): experts with the specialty or a sub-specialty, drawable on
the evaluation day (active, or a suspension that has lapsed), in the allowed regions. Two ways to
go through them in a uniformly random order, both exact:

``list``  (small strata): the candidate ids sorted ascending, ``L[0..N)``; the order is the
          Fisher–Yates shuffle run lazily — step ``i`` takes ``j = i + below(N − i)``, swaps
          positions ``i`` and ``j`` and examines ``L[perm[i]]``.
``ids``   (strata of more than ``LIST_MAX`` rows): rejection sampling over the expert id space — probe ``i`` is ``v_i =
          1 + below(M)`` with ``M`` the largest expert id at the draw; a repeated id is skipped;
          ``v_i`` is examined if it is a candidate. Uniform over the candidates without listing
          them: a draw from a pool of a million reads a few hundred index entries. If
          ``PROBE_LIMIT`` probes (recorded) do not fill the stratum it is done again by the ``list``
          way.

Each examined candidate is skipped for the avoidance reasons its facts give (``reasons``) or when
an earlier quota of the draw took it; otherwise it is taken, until the stratum has what it needs.
A quota with a minimum from other regions draws that minimum first from the other-region
candidates (stratum ``other``), then the rest of its mains and its backups from all its
candidates (stratum ``rest``); else one stratum ``all``. Mains come first in the order taken, then
backups.
"""

from __future__ import annotations

import base64
import hashlib
import math
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from typing import Any, Protocol

from ggzy.experts.draw_states import Reason

STREAM = b"ggzy-draw-stream/1"
RECORD_VERSION = "ggzy-draw-inputs/1"
PROBE_LIMIT = 32_768  # probes of the id space before a stratum is done the list way
LIST_MAX = 5_000  # a stratum of at most this many candidate rows is drawn the list way


class RecordMismatch(Exception):
    """The record does not replay: what the verification reports."""


def draw_seed(secret: bytes, root_hex: str, draw_id: str) -> bytes:
    return hashlib.sha256(secret + bytes.fromhex(root_hex) + draw_id.encode("ascii")).digest()


def first_batch(need: int, density: float = 0.0) -> int:
    """How many ids an id-space stratum probes first: enough for ``need`` at the estimated
    share of the id space that are candidates (the live pool prefetches exactly these). Only
    the speed depends on it, never the outcome."""
    if density <= 0:
        return max(256, 24 * need)
    return max(32, min(8192, math.ceil(1.4 * need / density) + 8))


class Stream:
    """The stratum's random integers (see the module docstring)."""

    def __init__(self, seed: bytes, quota: str, stratum: str, method: str) -> None:
        self.prefix = seed + b"\x00".join(
            [STREAM, quota.encode(), stratum.encode(), method.encode(), b""]
        )
        self.block = 0
        self.buffer: list[int] = []

    def next64(self) -> int:
        if not self.buffer:
            digest = hashlib.sha256(self.prefix + self.block.to_bytes(8, "big")).digest()
            self.block += 1
            self.buffer = [int.from_bytes(digest[k : k + 8], "big") for k in (24, 16, 8, 0)]
        return self.buffer.pop()

    def below(self, k: int) -> int:
        if k <= 0:
            raise ValueError("below(k) needs k ≥ 1")
        limit = (1 << 64) - (1 << 64) % k
        while True:
            x = self.next64()
            if x < limit:
                return x % k


def shuffled_positions(stream: Stream, n: int) -> Iterator[int]:
    """Positions ``0..n-1`` in the order of a lazily run Fisher–Yates shuffle."""
    moved: dict[int, int] = {}
    for i in range(n):
        j = i + stream.below(n - i)
        at_i = moved.pop(i, i)
        if j == i:
            yield at_i
        else:
            at_j = moved.get(j, j)
            moved[j] = at_i
            yield at_j


def id_probes(stream: Stream, max_id: int, limit: int) -> Iterator[tuple[int, int]]:
    """``(probe index, expert id)`` for probe indexes below ``limit``: uniform ids in
    ``1..max_id``, repeats skipped."""
    seen: set[int] = set()
    for index in range(limit):
        v = 1 + stream.below(max_id)
        if v in seen:
            continue
        seen.add(v)
        yield index, v


# --- the id list of a list-way stratum, compact -------------------------------------------------


def encode_ids(ids: list[int]) -> str:
    """Ascending ids as ``w:`` + base64(zlib(deltas as little-endian unsigned ``w``-byte
    integers)), ``w`` 4 or 8."""
    deltas = [b - a for a, b in zip([0, *ids], ids, strict=False)]
    wide = bool(deltas) and max(deltas) >= 1 << 32
    packed = array("Q" if wide else "I", deltas)
    if sys.byteorder != "little":  # pragma: no cover
        packed.byteswap()
    return ("8:" if wide else "4:") + base64.b64encode(zlib.compress(packed.tobytes(), 1)).decode()


def decode_ids(text: str) -> list[int]:
    width, _, body = text.partition(":")
    packed = array("Q" if width == "8" else "I")
    if packed.itemsize != int(width):  # pragma: no cover - exotic platforms
        raise RecordMismatch("unsupported integer width")
    packed.frombytes(zlib.decompress(base64.b64decode(body)))
    if sys.byteorder != "little":  # pragma: no cover
        packed.byteswap()
    return list(accumulate(packed))


def ids_digest(ids: Iterable[int]) -> str:
    """SHA-256 of the ascending ids in decimal, comma-separated (what ``list.digest`` is)."""
    return hashlib.sha256(",".join(str(v) for v in ids).encode()).hexdigest()


# --- avoidance ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parties:
    """The section's parties (entity ids) and the entities related to one of them through the
    registry (same legal representative ID, R48's relation)."""

    bidders: frozenset[int]
    tenderer: int
    agent: int | None
    related: dict[int, list[int]] = field(default_factory=dict)  # entity -> the parties

    @property
    def parties(self) -> frozenset[int]:
        return self.bidders | {self.tenderer} | ({self.agent} if self.agent else set())

    @property
    def avoided(self) -> frozenset[int]:
        return self.parties | frozenset(self.related)

    def as_record(self) -> dict[str, Any]:
        return {
            "bidders": sorted(self.bidders),
            "tenderer": self.tenderer,
            "agent": self.agent,
            "related": {str(k): sorted(v) for k, v in sorted(self.related.items())},
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Parties:
        return cls(
            bidders=frozenset(data["bidders"]),
            tenderer=data["tenderer"],
            agent=data["agent"],
            related={int(k): list(v) for k, v in data["related"].items()},
        )


def reasons(facts: dict[str, Any], parties: Parties, already: bool) -> list[str]:
    """Why a candidate must be skipped (empty: it may be drawn). ``facts``: ``employer`` (entity
    id), ``declared`` (entities of open declared conflicts), ``represents`` (entities whose legal
    representative the expert is), ``unavailable`` (that day), ``served`` (earlier draws for the
    same tenderer within the window where the expert confirmed), ``previous`` (drawn for this
    section by an earlier draw); ``already``: taken by an earlier quota of this draw."""
    out = []
    if facts.get("unavailable"):
        out.append(Reason.UNAVAILABLE)
    if set(facts.get("declared") or ()) & parties.avoided:
        out.append(Reason.DECLARED_CONFLICT)
    employer = facts.get("employer")
    if employer in parties.bidders:
        out.append(Reason.EMPLOYER_BIDDER)
    if employer == parties.tenderer:
        out.append(Reason.EMPLOYER_TENDERER)
    if parties.agent is not None and employer == parties.agent:
        out.append(Reason.EMPLOYER_AGENT)
    if employer in parties.related:
        out.append(Reason.EMPLOYER_RELATED)
    if set(facts.get("represents") or ()) & parties.parties:
        out.append(Reason.LEGAL_REPRESENTATIVE)
    if facts.get("served"):
        out.append(Reason.SERVED_TENDERER)
    if facts.get("previous") or already:
        out.append(Reason.ALREADY_DRAWN)
    return [str(r) for r in out]


# --- one stratum --------------------------------------------------------------------------------


class Source(Protocol):
    """Where a stratum's candidates come from: the pool (live) or the record (replay)."""

    def method(self) -> str: ...  # "list" or "ids": which way the stratum starts (data only)

    def list_ids(self) -> list[int]: ...

    def max_id(self) -> int: ...

    def hits(self, ids: list[int]) -> set[int]: ...  # which of these ids are candidates

    def facts(self, ids: list[int]) -> dict[int, dict[str, Any]]: ...


@dataclass
class StratumSpec:
    quota: str
    name: str  # all | other | rest
    need: int
    specialties: list[int]
    include: list[str] | None  # allowed regions (None: every region)
    exclude: list[str]

    def as_record(self) -> dict[str, Any]:
        return {
            "quota": self.quota,
            "stratum": self.name,
            "need": self.need,
            "specialties": self.specialties,
            "include": self.include,
            "exclude": self.exclude,
        }


@dataclass
class StratumResult:
    spec: StratumSpec
    taken: list[int] = field(default_factory=list)
    regions: dict[int, str] = field(default_factory=dict)
    ids_part: dict[str, Any] | None = None
    list_part: dict[str, Any] | None = None

    @property
    def filled(self) -> bool:
        return len(self.taken) >= self.spec.need

    def candidates(self) -> list[dict[str, Any]]:
        part = self.list_part if self.list_part is not None else self.ids_part
        return list(part["candidates"]) if part else []

    def as_record(self) -> dict[str, Any]:
        out = self.spec.as_record()
        if self.ids_part is not None:
            out["ids"] = self.ids_part
        if self.list_part is not None:
            out["list"] = self.list_part
        return out


def _examine(
    candidate: dict[str, Any],
    facts: dict[str, Any] | None,
    parties: Parties,
    taken: set[int],
    result: StratumResult,
) -> None:
    expert = candidate["id"]
    if facts is None:
        raise RecordMismatch(f"no facts for candidate {expert}")
    why = reasons(facts, parties, expert in taken)
    candidate["facts"] = facts
    candidate["reasons"] = why
    if not why:
        taken.add(expert)
        result.taken.append(expert)
        result.regions[expert] = facts.get("region", "")


def _by_ids(
    seed: bytes,
    spec: StratumSpec,
    source: Source,
    parties: Parties,
    taken: set[int],
    result: StratumResult,
    batch: int,
) -> None:
    max_id = source.max_id()
    limit = source.probe_limit() if hasattr(source, "probe_limit") else PROBE_LIMIT
    part: dict[str, Any] = {"m": max_id, "limit": limit, "probes": 0, "candidates": []}
    result.ids_part = part
    if max_id < 1:
        return
    probes = id_probes(Stream(seed, spec.quota, spec.name, "ids"), max_id, limit)
    first = getattr(source, "first_batch", None)  # the live pool's estimate; speed only
    size = batch if batch > 0 else (first() if first else first_batch(spec.need))
    probed = 0
    while not result.filled:
        chunk = [probe for _, probe in zip(range(size), probes, strict=False)]
        if not chunk:
            part["probes"] = limit  # every probe allowed was made
            break
        found = source.hits([v for _, v in chunk])
        hit = [(i, v) for i, v in chunk if v in found]
        facts = source.facts([v for _, v in hit]) if hit else {}
        for i, v in hit:
            candidate: dict[str, Any] = {"i": i, "id": v}
            part["candidates"].append(candidate)
            _examine(candidate, facts.get(v), parties, taken, result)
            if result.filled:
                part["probes"] = i + 1
                break
        probed += len(chunk)
        if batch <= 0:  # the next batch from the rate seen so far (speed only, never outcome)
            rate = (len(result.taken) + 1) / (probed + 2)
            size = max(64, min(8192, math.ceil(1.5 * (spec.need - len(result.taken)) / rate)))


def _by_list(
    seed: bytes,
    spec: StratumSpec,
    source: Source,
    parties: Parties,
    taken: set[int],
    result: StratumResult,
    batch: int,
) -> None:
    ids = source.list_ids()
    part: dict[str, Any] = {
        "n": len(ids),
        "digest": ids_digest(ids),
        "encoded": encode_ids(ids),
        "candidates": [],
    }
    result.list_part = part
    order = shuffled_positions(Stream(seed, spec.quota, spec.name, "list"), len(ids))
    step = 0
    while not result.filled:
        size = (spec.need - len(result.taken)) + 4 if batch <= 0 else batch
        chunk = [p for _, p in zip(range(size), order, strict=False)]
        if not chunk:
            break  # every candidate examined: the stratum cannot be filled
        facts = source.facts([ids[p] for p in chunk])
        for p in chunk:
            candidate: dict[str, Any] = {"i": step, "pos": p, "id": ids[p]}
            step += 1
            part["candidates"].append(candidate)
            _examine(candidate, facts.get(ids[p]), parties, taken, result)
            if result.filled:
                break


def run_stratum(
    seed: bytes,
    spec: StratumSpec,
    source: Source,
    parties: Parties,
    taken: set[int],
    *,
    batch: int = 0,
) -> StratumResult:
    """Draw one stratum; ``taken`` (the draw's picks so far) grows by what it takes. ``batch``
    only changes how many candidates are read at once, never the outcome (tested)."""
    result = StratumResult(spec)
    if spec.need <= 0:
        return result
    if source.method() == "ids":
        before = set(taken)
        _by_ids(seed, spec, source, parties, taken, result, batch)
        if result.filled:
            return result
        taken.clear()
        taken.update(before)  # the id-space attempt's picks are discarded: start again by list
        result.taken, result.regions = [], {}
    _by_list(seed, spec, source, parties, taken, result, batch)
    return result


# --- a whole draw -------------------------------------------------------------------------------


@dataclass
class QuotaSpec:
    code: str
    specialties: list[int]
    count: int
    backups: int
    min_other: int

    @property
    def needed(self) -> int:
        return self.count + self.backups


@dataclass
class QuotaOutcome:
    spec: QuotaSpec
    strata: list[StratumResult]
    home: frozenset[str]

    @property
    def filled(self) -> bool:
        return all(s.filled for s in self.strata)

    def picks(self) -> list[tuple[int, str, bool]]:
        """``(expert id, role, from another region)`` in position order: mains, then backups."""
        if len(self.strata) == 2:
            other, rest = self.strata
            mains_rest = self.spec.count - self.spec.min_other
            mains = other.taken + rest.taken[:mains_rest]
            backups = rest.taken[mains_rest:]
        else:
            (only,) = self.strata
            mains, backups = only.taken[: self.spec.count], only.taken[self.spec.count :]
        regions: dict[int, str] = {}
        for s in self.strata:
            regions.update(s.regions)
        return [(e, "main", regions.get(e, "") not in self.home) for e in mains] + [
            (e, "backup", regions.get(e, "") not in self.home) for e in backups
        ]


@dataclass
class RegionRule:
    include: list[str] | None  # expanded region codes; None: every region
    exclude: list[str]
    home: list[str]  # the home region and every region under it
    other_only: bool


def strata_of(quota: QuotaSpec, rule: RegionRule) -> list[StratumSpec]:
    exclude = sorted(set(rule.exclude) | (set(rule.home) if rule.other_only else set()))
    if quota.min_other > 0 and not rule.other_only:
        away = sorted(set(exclude) | set(rule.home))
        return [
            StratumSpec(
                quota.code, "other", quota.min_other, quota.specialties, rule.include, away
            ),
            StratumSpec(
                quota.code,
                "rest",
                quota.needed - quota.min_other,
                quota.specialties,
                rule.include,
                exclude,
            ),
        ]
    return [StratumSpec(quota.code, "all", quota.needed, quota.specialties, rule.include, exclude)]


def run_draw(
    seed: bytes,
    quotas: list[QuotaSpec],
    rule: RegionRule,
    parties: Parties,
    sources: Any,
    *,
    batch: int = 0,
) -> list[QuotaOutcome]:
    """Every quota in order; ``sources(spec)`` gives the Source of a stratum."""
    taken: set[int] = set()
    out = []
    for quota in quotas:
        strata = []
        for spec in strata_of(quota, rule):
            strata.append(run_stratum(seed, spec, sources(spec), parties, taken, batch=batch))
        out.append(QuotaOutcome(quota, strata, frozenset(rule.home)))
    return out


# --- replay from the record ---------------------------------------------------------------------


class RecordSource:
    """A stratum's candidates as the sealed record has them (the verification's source)."""

    def __init__(self, stratum: dict[str, Any]) -> None:
        self.record = stratum
        self._facts: dict[int, dict[str, Any]] = {}
        self._hits: set[int] = set()
        for key in ("ids", "list"):
            for c in (stratum.get(key) or {}).get("candidates", []):
                self._facts.setdefault(int(c["id"]), c["facts"])
        for c in (stratum.get("ids") or {}).get("candidates", []):
            self._hits.add(int(c["id"]))

    def method(self) -> str:
        return "ids" if "ids" in self.record else "list"

    def list_ids(self) -> list[int]:
        part = self.record.get("list")
        if part is None:
            raise RecordMismatch("the record has no candidate list for this stratum")
        ids = decode_ids(part["encoded"])
        if len(ids) != part["n"] or ids_digest(ids) != part["digest"]:
            raise RecordMismatch("the recorded candidate list does not match its count or digest")
        if any(b <= a for a, b in pairwise(ids)):
            raise RecordMismatch("the recorded candidate list is not ascending")
        return ids

    def max_id(self) -> int:
        return int(self.record["ids"]["m"])

    def probe_limit(self) -> int:
        return int(self.record["ids"]["limit"])

    def hits(self, ids: list[int]) -> set[int]:
        return {v for v in ids if v in self._hits}

    def facts(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        # only the candidates examined have facts; examining one without is a mismatch
        return {v: self._facts[v] for v in ids if v in self._facts}


def stratum_key(spec: StratumSpec | dict[str, Any]) -> tuple[str, str]:
    if isinstance(spec, StratumSpec):
        return spec.quota, spec.name
    return spec["quota"], spec["stratum"]
